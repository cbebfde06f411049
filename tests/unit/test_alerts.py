"""Saved questions on invented records and fakes: the alert rules (retrieval/news/alerts.py), their
SQLite state, and the after-ingest check over the real pipeline on the in-memory store."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app.watches import MemoEmbedder, WatchChecker, WatchStore
from bot.cli.watch_commands import alert_lines
from bot.factory import hybrid_config
from config.settings import ChunkingSettings, IngestSettings, RetrievalSettings
from ingest.embed.embedder import Embedder
from ingest.model.records import IngestSummary
from ingest.run.pipeline import Ingestor
from retrieval.answer.answerers import ExtractiveAnswerer
from retrieval.engine import AnswerEngine
from retrieval.news.alerts import Watch, decide, same_answer, worth_asking
from retrieval.records import Answer, Citation, Passage, Reprint
from retrieval.search.hybrid import HybridSearcher
from retrieval.search.keyword_index import KeywordIndex
from retrieval.search.retriever import NewsdeskRetriever
from tests.fakes import HashingEmbedder, MemoryStore
from tests.helpers import NoNetwork, extractive_config

DAY = datetime(2026, 12, 1, 9, tzinfo=UTC)


def passage(article: str, group: str = "", reprints: tuple[str, ...] = ()) -> Passage:
    return Passage(chunk_id=f"{article}#0", article_id=article, title=article.upper(),
                   text=f"text of {article}", score=1.0, published=DAY,
                   group=group or article,
                   reprints=tuple(Reprint(r, source=f"src-{r}") for r in reprints))


def answer(text: str, *cited: Passage, abstained: bool = False) -> Answer:
    return Answer(question="q?", answer=text, abstained=abstained,
                  citations=tuple(Citation(n, p) for n, p in enumerate(cited, start=1)),
                  passages=cited)


WATCH = Watch(7, "How many jobs go at Feldmark?")


def test_an_answer_citing_an_added_article_is_a_new_alert() -> None:
    alert = decide(WATCH, answer("1,200 jobs [1]", passage("afp")), {"afp": "added"}, {})
    assert alert is not None
    assert (alert.kind, alert.articles, alert.stories) == ("new", ("afp",), ("afp",))
    assert alert.as_dict()["watch"] == 7 and alert.as_dict()["kind"] == "new"


@pytest.mark.parametrize("reply", [
    answer("1,200 jobs [1]", passage("afp"), abstained=True),  # the answerer abstained
    answer("1,200 jobs [1]", passage("older")),  # cites nothing this ingest changed
    answer("The articles don't say."),  # cites nothing at all
])
def test_no_alert_without_a_cited_changed_article(reply: Answer) -> None:
    assert decide(WATCH, reply, {"afp": "added", "other": "updated"}, {}) is None


def test_a_wire_copy_of_an_alerted_story_fires_nothing() -> None:
    # The copy itself cited (the best-ranked copy stands for its story)...
    copy = passage("reuters", group="afp", reprints=("afp",))
    assert decide(WATCH, answer("1,200 jobs [1]", copy), {"reuters": "added"},
                  {"afp": "1,200 jobs [1]"}) is None
    # ...or the original cited with the new copy among its reprints.
    original = passage("afp", reprints=("reuters",))
    assert decide(WATCH, answer("Some 1,200 jobs [1]", original), {"reuters": "added"},
                  {"afp": "1,200 jobs [1]"}) is None


def test_a_story_first_reached_through_its_new_copy_is_new() -> None:
    original = passage("afp", reprints=("reuters",))
    alert = decide(WATCH, answer("1,200 jobs [1]", original), {"reuters": "added"}, {})
    assert alert is not None and alert.kind == "new" and alert.articles == ("reuters",)
    assert alert.stories == ("afp",)


def test_an_update_that_changes_the_answer_is_an_updated_alert() -> None:
    cited = passage("library")
    alerted = {"library": "2 million euros [1]"}
    moved = decide(Watch(1, "q", last_answer="2 million euros [1]"),
                   answer("3.5 million euros [1]", cited), {"library": "updated"}, alerted)
    assert moved is not None and moved.kind == "updated"
    # The same answer again (its citation numbering aside) is no news.
    assert decide(Watch(1, "q", last_answer="2 million euros [1]"),
                  answer("2  million euros [2]", passage("x"), cited),
                  {"library": "updated"}, alerted) is None


def test_an_answer_equal_to_the_last_one_sent_fires_nothing() -> None:
    watch = Watch(1, "q", last_answer="Talks resumed on Monday. [3]")
    assert decide(watch, answer("Talks resumed  on Monday. [1]", passage("new")),
                  {"new": "added"}, {}) is None
    assert same_answer("A [1] b.", "a b.") and not same_answer("A", None)


def test_worth_asking_looks_at_stories_and_their_copies() -> None:
    ranked = [passage("a"), passage("b", reprints=("c",))]
    assert worth_asking(ranked, {"c": "added"}) and worth_asking(ranked, {"a": "updated"})
    assert not worth_asking(ranked, {"z": "added"}) and not worth_asking([], {"a": "added"})


def test_alert_lines_name_the_kind_the_question_and_each_source() -> None:
    cited = passage("afp", reprints=("reuters",))
    alert = decide(WATCH, answer("1,200 jobs [1]", cited), {"afp": "added"}, {})
    assert alert is not None
    lines = alert_lines(json.loads(json.dumps(alert.as_dict(), default=str)))
    assert lines[0] == "alert (new) for saved question 7: 'How many jobs go at Feldmark?'"
    assert lines[1] == "  1,200 jobs [1]"
    assert lines[2].startswith("    [1] AFP ") and lines[2].endswith("also ran in: src-reuters")


# -- state ------------------------------------------------------------------------------------


def test_saved_questions_persist_per_channel(tmp_path: Path) -> None:
    store = WatchStore(tmp_path / "w.sqlite3")
    first = store.add("  Has the ferry strike\nended? ", channel="C1", sources=("BBC",))
    second = store.add("Who won?")
    assert first.question == "Has the ferry strike ended?" and second.id == first.id + 1
    with pytest.raises(ValueError, match="empty"):
        store.add("   ")
    alert = decide(store.list()[0], answer("Yes [1]", passage("a")), {"a": "added"}, {})
    assert alert is not None
    store.record(alert)
    store.close()
    again = WatchStore(tmp_path / "w.sqlite3")
    assert [w.id for w in again.list("C1")] == [first.id]
    assert again.list()[0].sources == ("BBC",) and again.list()[0].last_answer == "Yes [1]"
    assert again.alerted(first.id) == {"a": "Yes [1]"}
    assert not again.remove(first.id, channel="C2")  # another channel's: left alone
    assert again.remove(first.id, channel="C1") and not again.remove(first.id)
    assert again.alerted(first.id) == {} and [w.id for w in again.list()] == [second.id]


# -- the check after ingest, on the real pipeline and engine over fakes ---------------------


def write(folder: Path, name: str, title: str, body: str, published: str = "2026-12-01") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps({
        "title": title, "body": body, "source": "Gazette", "published_at": published,
        "url": f"https://gazette.example/{name.removesuffix('.json')}"}))


APPEAL = ("The appeal to rebuild the Lindqvist Library has raised {amount} euros, its "
          "organisers said. The trust needs five million euros to restore the reading room.")


class Desk:
    """A store, an ingestor whose after-step checks saved questions, and a count of the
    engines the check built."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.store, embedder = MemoryStore(), HashingEmbedder()
        keywords = KeywordIndex(root / "keywords", self.store)
        self.engines = 0

        def engine(questions: Embedder) -> AnswerEngine:
            self.engines += 1
            searcher = HybridSearcher(self.store, questions, keywords,
                                      hybrid_config(RetrievalSettings()))
            return AnswerEngine(NewsdeskRetriever(searcher=searcher, k=6),
                                ExtractiveAnswerer(keywords.current,
                                                   extractive_config(min_evidence=0.05)), k=6)

        self.watches = WatchStore(root / "watches.sqlite3")
        self.sent: list[Any] = []
        self.questions = HashingEmbedder()  # what the check embeds questions with
        checker = WatchChecker(self.watches, engine, lambda: self.questions,
                               notify=[self.sent.append])
        self.ingestor = Ingestor(self.store, embedder, NoNetwork(),
                                 chunking=ChunkingSettings(max_tokens=60, overlap_tokens=8),
                                 settings=IngestSettings(), derived=[keywords], after=[checker])

    def ingest(self) -> IngestSummary:
        return self.ingestor.ingest([str(self.root / "news")])


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    news = tmp_path / "news"
    write(news, "appeal.json", "Library appeal passes target", APPEAL.format(amount="2 million"))
    write(news, "cup.json", "Port Selby win the island cup",
          "Port Selby beat Carrow Athletic 2-1 in the island cup final on Tuesday night.")
    return Desk(tmp_path)


def test_the_check_alerts_once_then_on_the_update_that_changes_the_answer(desk: Desk) -> None:
    watch = desk.watches.add("How much has the Lindqvist Library appeal raised?")
    first = desk.ingest()
    assert first.changed == {"https://gazette.example/appeal": "added",
                             "https://gazette.example/cup": "added"}
    assert [(a["watch"], a["kind"], a["articles"]) for a in first.alerts] == [
        (watch.id, "new", ["https://gazette.example/appeal"])]
    assert "2 million euros" in first.alerts[0]["answer"]
    assert first.as_dict()["alerts"] == first.alerts and len(desk.sent) == 1
    again = desk.ingest()
    assert again.unchanged == 2 and again.changed == {} and again.alerts == []
    write(desk.root / "news", "appeal.json", "Library appeal passes target",
          APPEAL.format(amount="3.5 million"))
    update = desk.ingest()
    assert update.changed == {"https://gazette.example/appeal": "updated"}
    assert [(a["kind"], a["articles"]) for a in update.alerts] == [
        ("updated", ["https://gazette.example/appeal"])]
    assert "3.5 million euros" in update.alerts[0]["answer"]
    assert desk.watches.list()[0].last_answer == update.alerts[0]["answer"]


def test_the_memo_embeds_each_text_once_and_forgets_when_cleared() -> None:
    inner = HashingEmbedder()
    memo = MemoEmbedder(inner)
    memo.prime(["a question", "another", "a question"])
    assert inner.embedded == 2
    vectors = memo.embed(["another", "a sentence", "a question"])
    assert inner.embedded == 3 and vectors.shape == (3, inner.dimension)
    assert (vectors == inner.embed(["another", "a sentence", "a question"])).all()
    memo.clear()
    memo.embed(["another"])
    assert inner.embedded == 7 and memo.name == inner.name


def test_the_check_builds_no_engine_without_saved_questions_or_changes(desk: Desk) -> None:
    assert desk.ingest().alerts == [] and desk.engines == 0  # no saved question
    desk.watches.add("How much has the Lindqvist Library appeal raised?")
    assert desk.ingest().alerts == [] and desk.engines == 0  # nothing changed
    write(desk.root / "news", "ferry.json", "Ferry strike ends",
          "The ferry strike ended on Friday after the union accepted a 4% pay offer.")
    assert desk.ingest().alerts == [] and desk.engines == 1  # unrelated: searched, not news


def test_a_failing_after_step_leaves_the_ingest_whole(
        desk: Desk, caplog: pytest.LogCaptureFixture) -> None:
    def broken(summary: IngestSummary) -> None:
        raise RuntimeError("boom")

    run = Ingestor(desk.store, HashingEmbedder(), NoNetwork(),
                   chunking=ChunkingSettings(max_tokens=60, overlap_tokens=8),
                   settings=IngestSettings(), after=[broken])
    summary = run.ingest([str(desk.root / "news")])
    assert summary.added == 2 and not summary.failed
    assert "after ingest: broken failed" in caplog.text


def test_changed_lists_only_what_was_written(tmp_path: Path) -> None:
    news = tmp_path / "news"
    for name in ("a.json", "b.json"):  # the same text under two URLs
        write(news, name, "A story", "First words of a story about the harbour wall.")
    summary = Desk(tmp_path).ingest()
    assert summary.changed == {"https://gazette.example/a": "added"}
    assert summary.duplicates == [{"id": "https://gazette.example/b",
                                   "duplicate_of": "https://gazette.example/a"}]


# -- the CLI (no model, no store: saved questions live in SQLite) ------------------------------


def test_watch_commands_add_list_and_remove(data_dir: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bot.cli.commands import cli

    config = tmp_path / "desks.toml"
    config.write_text('[[slack.desks]]\nchannel = "C0SPORT"\nsources = ["Island Sport"]\n')

    def run(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(cli, ["--config", str(config), *args])
        assert result.exit_code == code, result.output
        return result.output

    assert run("watch", "list") == "No saved questions.\n"
    assert run("watch", "add", "Who won the cup?", "--channel", "C0SPORT") == (
        "saved question 1: 'Who won the cup?'\n")
    added = json.loads(run("watch", "add", "Is the strike over?", "--source", "BBC", "--json"))
    assert (added["id"], added["sources"], added["channel"]) == (2, ["BBC"], None)
    # A channel's desk gives its sources when none are named.
    listed = json.loads(run("watch", "list", "--json"))
    assert [(w["id"], w["sources"]) for w in listed] == [(1, ["Island Sport"]), (2, ["BBC"])]
    assert run("watch", "list", "--channel", "C0SPORT") == (
        "   1  Who won the cup?  (channel C0SPORT; sources Island Sport)\n")
    assert run("watch", "remove", "1") == "removed saved question 1\n"
    assert "no saved question 1" in run("watch", "remove", "1", code=1)
    assert "question: is empty" in run("watch", "add", " ", code=2)
    assert (data_dir / "watches.sqlite3").exists()
