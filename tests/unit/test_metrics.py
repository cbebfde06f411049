"""Prometheus metrics: questions by route and outcome, ingest runs (no server needed)."""

import pytest

from bot.app.asking import Desk, Request
from bot.app.metrics import Metrics
from ingest.model.records import Failure, IngestSummary
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

    def windowed(self, question: str, where: object, as_of: object) -> tuple[str, object]:
        return question, where

    def search(self, question: str, **kwargs: object) -> list[object]:
        return [] if question == "nothing" else [object()]


def test_questions_and_ingest_runs_are_counted() -> None:
    metrics = Metrics()
    desk = Desk(Engine(), recorder=metrics)  # type: ignore[arg-type]
    desk.ask(Request("a"), "slack")
    desk.ask(Request("?"), "slack")
    with pytest.raises(RuntimeError):  # counted as an error, and still raised
        desk.ask(Request("boom"), "slack")
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


def test_searches_stats_and_refused_requests_are_counted_by_route() -> None:
    metrics = Metrics()
    desk = Desk(Engine(), stats=lambda: {"articles": 1}, recorder=metrics)  # type: ignore[arg-type]
    desk.search(Request("ferry"), "mcp")
    desk.search(Request("nothing"), "api")
    desk.stats("api")
    desk.rejected("mcp", "ask")
    text = metrics.exposition().decode()
    for labels in ('operation="search",outcome="found",route="mcp"',
                   'operation="search",outcome="empty",route="api"',
                   'operation="stats",outcome="ok",route="api"',
                   'operation="ask",outcome="rejected",route="mcp"'):
        assert sample(text, "newsdesk_requests_total", labels) == 1.0


def test_http_responses_are_counted_by_route_and_status() -> None:
    metrics = Metrics()
    for route, status in (("/api/ask", 200), ("/api/ask", 401), ("/api/ask", 401),
                          ("unknown", 404), ("/slack/events", 429), ("/api/stats", 503)):
        metrics.responded(route, status)
    text = metrics.exposition().decode()
    assert sample(text, "newsdesk_http_responses_total", 'route="/api/ask",status="401"') == 2.0
    for labels in ('route="/api/ask",status="200"', 'route="unknown",status="404"',
                   'route="/slack/events",status="429"', 'route="/api/stats",status="503"'):
        assert sample(text, "newsdesk_http_responses_total", labels) == 1.0
