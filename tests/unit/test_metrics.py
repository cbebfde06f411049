"""Prometheus metrics: questions by route and outcome, ingest runs (no server needed)."""

import pytest

from bot.metrics import MeteredAsker, Metrics
from ingest.records import Failure, IngestSummary
from retrieval.records import Answer


def sample(text: str, name: str, labels: str) -> float:
    prefix = f"{name}{{{labels}}} "
    return float(next(line for line in text.splitlines() if line.startswith(prefix))
                 .removeprefix(prefix))


class Engine:
    def ask(self, question: str, history: object = (), **kwargs: object) -> Answer:
        if question == "boom":
            raise RuntimeError("boom")
        return Answer(question=question, answer="x", abstained=question == "?",
                      citations=(), passages=())


def test_questions_and_ingest_runs_are_counted() -> None:
    metrics = Metrics()
    asker = MeteredAsker(Engine(), metrics, "slack")
    asker.ask("a")
    asker.ask("?")
    with pytest.raises(RuntimeError):  # counted as an error, and still raised
        asker.ask("boom")
    metrics.ingest_run(IngestSummary(added=3, removed=1))
    metrics.ingest_run(IngestSummary(updated=2, failed=[Failure("x", "gone")]))
    text = metrics.exposition().decode()
    for outcome in ("answered", "abstained", "error"):
        assert sample(text, "newsdesk_questions_total",
                      f'outcome="{outcome}",route="slack"') == 1.0
    assert sample(text, "newsdesk_answer_seconds_count", 'route="slack"') == 3.0
    assert sample(text, "newsdesk_ingest_runs_total", 'outcome="ok"') == 1.0
    assert sample(text, "newsdesk_ingest_runs_total", 'outcome="failed"') == 1.0
    assert sample(text, "newsdesk_ingested_articles_total", 'change="added"') == 3.0
    assert sample(text, "newsdesk_ingested_articles_total", 'change="updated"') == 2.0
    assert sample(text, "newsdesk_ingested_articles_total", 'change="removed"') == 1.0
