"""Earlier versions kept by ingest, and "what changed" answers, on fakes (hashing embedder,
in-memory store): the same paths run with the real model and Chroma in
tests/integration/test_versions.py."""

from __future__ import annotations

import asyncio
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from bot.app.asking import Desk
from bot.app.metrics import Metrics
from bot.factory import hybrid_config
from bot.http.app import build_app
from bot.http.service import Service
from bot.mcp.tools import build_mcp
from config.settings import ChunkingSettings, IngestSettings, RetrievalSettings, ServeSettings
from ingest.run.pipeline import Ingestor
from ingest.sources.parse import parse_text_article
from ingest.text.ids import text_hash
from retrieval.answer.answerers import ExtractiveAnswerer
from retrieval.engine import AnswerEngine
from retrieval.news.story_changes import last_change
from retrieval.search.hybrid import HybridSearcher
from retrieval.search.keyword_index import KeywordIndex
from retrieval.search.retriever import NewsdeskRetriever
from tests.fakes import HashingEmbedder, Killed, MemoryStore
from tests.helpers import FIXTURES, NoNetwork, extractive_config

VERSIONS = FIXTURES / "versions"

# A loopback address, as the server checks Host (cross-site guard).
LOCAL = "http://127.0.0.1:8080"



def ingestor(store: MemoryStore, **settings: Any) -> Ingestor:
    # Small chunks: every article is several overlapping chunks, rebuilt into one text.
    return Ingestor(store, HashingEmbedder(), NoNetwork(),
                    chunking=ChunkingSettings(max_tokens=40, overlap_tokens=8),
                    settings=IngestSettings(**settings))


class Newsroom:
    """A folder of the fixture articles, each fixture version copied in turn over its file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir()
        shutil.copy(VERSIONS / "library.txt", root / "library.txt")
        self.put("storm-kell", 1)
        self.put("bakery", 1)

    def put(self, name: str, version: int) -> None:
        shutil.copy(VERSIONS / f"{name}-v{version}.txt", self.root / f"{name}.txt")

    def ingest(self, store: MemoryStore, **settings: Any) -> Any:
        return ingestor(store, **settings).ingest([str(self.root)])


def body(name: str, version: int) -> str:
    return parse_text_article((VERSIONS / f"{name}-v{version}.txt").read_text()).body


@pytest.fixture
def newsroom(tmp_path: Path) -> Newsroom:
    return Newsroom(tmp_path / "news")


def test_a_changed_article_keeps_its_earlier_text_and_dates(newsroom: Newsroom) -> None:
    store = MemoryStore()
    newsroom.ingest(store)
    assert store.kept == {}
    newsroom.put("storm-kell", 2)
    summary = newsroom.ingest(store)
    assert (summary.updated, summary.unchanged) == (1, 2)
    (kept,) = store.kept["storm-kell.txt"]
    # The text rebuilt from its overlapping chunks is the first version's, whole.
    assert text_hash(kept.text) == text_hash(body("storm-kell", 1))
    assert "Two fishermen are still missing." in kept.text
    assert (kept.number, kept.title, kept.updated) == (1, "Storm Orla kills three in Kell", None)
    assert kept.published is not None and kept.published.day == 21 and kept.seen is not None
    assert set(store.kept) == {"storm-kell.txt"}


def test_unchanged_text_adds_no_version(newsroom: Newsroom) -> None:
    store = MemoryStore()
    newsroom.ingest(store)
    newsroom.put("storm-kell", 2)
    newsroom.ingest(store)
    newsroom.ingest(store)
    assert len(store.kept["storm-kell.txt"]) == 1


def test_a_new_date_alone_is_no_new_version(newsroom: Newsroom) -> None:
    store = MemoryStore()
    newsroom.ingest(store)
    path = newsroom.root / "library.txt"
    path.write_text(path.read_text().replace("17 November 2026",
                                             "17 November 2026\nUpdated: 18 November 2026"))
    assert newsroom.ingest(store).updated == 1
    assert store.kept == {}


def test_versions_are_bounded_oldest_first(newsroom: Newsroom) -> None:
    store = MemoryStore()
    newsroom.ingest(store, keep_versions=2)
    for version in (2, 3, 1):  # and back to the first text: a version of its own again
        newsroom.put("storm-kell", version)
        newsroom.ingest(store, keep_versions=2)
    kept = store.kept["storm-kell.txt"]
    assert [v.number for v in kept] == [2, 3]
    assert [text_hash(v.text) for v in kept] == [text_hash(body("storm-kell", 2)),
                                                  text_hash(body("storm-kell", 3))]


def test_keep_versions_0_keeps_none(newsroom: Newsroom) -> None:
    store = MemoryStore()
    newsroom.ingest(store, keep_versions=0)
    newsroom.put("storm-kell", 2)
    newsroom.ingest(store, keep_versions=0)
    assert store.kept == {}


def test_a_run_killed_after_keeping_a_version_keeps_it_once(newsroom: Newsroom) -> None:
    store = MemoryStore()
    newsroom.ingest(store)
    newsroom.put("storm-kell", 2)
    store.fail_after_upserts = 0  # dies writing the new chunks, after keeping the old text
    with pytest.raises(Killed):
        newsroom.ingest(store)
    store.fail_after_upserts = None
    assert newsroom.ingest(store).updated == 1
    assert len(store.kept["storm-kell.txt"]) == 1


def test_pruning_an_article_drops_its_versions(newsroom: Newsroom) -> None:
    store = MemoryStore()
    newsroom.ingest(store)
    newsroom.put("bakery", 2)
    newsroom.ingest(store)
    assert "https://quaynews.example/bakery-closes" in store.kept
    (newsroom.root / "bakery.txt").unlink()
    assert ingestor(store).ingest([str(newsroom.root)], prune=True).removed == 1
    assert store.kept == {}


def engine_over(store: MemoryStore, tmp_path: Path) -> AnswerEngine:
    keywords = KeywordIndex(tmp_path / "keywords", store)
    searcher = HybridSearcher(store, HashingEmbedder(), keywords,
                              hybrid_config(RetrievalSettings()))
    answerer = ExtractiveAnswerer(keywords.latest, extractive_config(min_evidence=0.05))
    return AnswerEngine(NewsdeskRetriever(searcher=searcher, k=6), answerer, k=6,
                        analyzer=keywords.latest, versions=store)


def test_what_changed_questions_are_answered_from_the_versions(newsroom: Newsroom,
                                                              tmp_path: Path) -> None:
    store = MemoryStore()
    newsroom.ingest(store)
    newsroom.put("storm-kell", 2)
    newsroom.ingest(store)
    engine = engine_over(store, tmp_path)
    answer = engine.ask("What changed in the Storm Orla story?")
    assert not answer.abstained
    assert "Death toll raised from 3 to 5 (updated 22 Nov, was 21 Nov)" in answer.answer
    cited = {c.passage.chunk_id for c in answer.citations}
    assert "storm-kell.txt@v1" in cited and any(c.startswith("storm-kell.txt#") for c in cited)
    # In a conversation, "that story" is the one asked about before.
    followup = engine.ask("What changed in that story?",
                          [("How many people did Storm Orla kill?", "Five people.")])
    assert "Death toll raised from 3 to 5" in followup.answer
    # Asked about an article that never changed: "What changed in …?" is then a question
    # about the news, answered as any other.
    other = engine.ask("What changed in the Kell library opening hours?")
    assert "earlier version" not in other.answer and "What changed" not in other.answer


def test_changes_of_an_article_named_by_its_url(newsroom: Newsroom, tmp_path: Path) -> None:
    store = MemoryStore()
    newsroom.ingest(store)
    newsroom.put("bakery", 2)
    newsroom.ingest(store)
    report = engine_over(store, tmp_path).changes(
        "https://quaynews.example/bakery-closes?utm_source=newsletter")
    assert report.found and report.article_id == "https://quaynews.example/bakery-closes"
    lines = report.answer.answer.splitlines()
    assert lines[1].startswith("Correction (updated 19 Nov): An earlier version of this "
                               "article said the bakery opened in 1921. It opened in 1912.")
    assert any("“1921” to “1912”" in line for line in lines)
    step = report.as_dict()["changes"]["steps"][0]
    assert (step["from"]["version"], step["to"]["version"]) == (1, 0)


def test_a_topic_no_article_covers_is_an_abstention(newsroom: Newsroom, tmp_path: Path) -> None:
    store = MemoryStore()
    newsroom.ingest(store)
    report = engine_over(store, tmp_path).changes("cup final penalties")
    assert report.answer.abstained and report.article_id is None and not report.found
    assert report.answer.answer.startswith("No article about “cup final penalties” was found.")


def test_the_last_change_of_an_update_for_other_callers(newsroom: Newsroom) -> None:
    store = MemoryStore()
    newsroom.ingest(store)
    assert last_change(store, "storm-kell.txt") is None
    for version in (2, 3):
        newsroom.put("storm-kell", version)
        newsroom.ingest(store)
    step = last_change(store, "storm-kell.txt")
    assert step is not None and (step.older.number, step.newer.number) == (2, 0)
    assert "Death toll raised from 5 to 6" in step.summary.lines()
    assert "Repairs raised from 2 million euros to 4 million euros" in step.summary.lines()


@pytest.fixture
def updated_desk(newsroom: Newsroom, tmp_path: Path) -> Desk:
    store = MemoryStore()
    newsroom.ingest(store)
    newsroom.put("storm-kell", 2)
    newsroom.ingest(store)
    return Desk(engine_over(store, tmp_path), stats=store.count, recorder=Metrics())


def test_the_api_serves_changes_through_the_desk(updated_desk: Desk) -> None:
    metrics = Metrics()
    updated_desk.recorder = metrics
    service = Service(desk=updated_desk, readiness=lambda: None, metrics=metrics,
                      limits=ServeSettings(), answers=ThreadPoolExecutor(max_workers=1))
    with TestClient(build_app(service), base_url=LOCAL) as http:
        report = http.get("/api/changes", params={"q": "Storm Orla"}).json()
        empty = http.get("/api/changes", params={"q": " "})
        counted = http.get("/metrics").text
    assert report["article_id"] == "storm-kell.txt" and not report["abstained"]
    assert "Death toll raised from 3 to 5 (updated 22 Nov, was 21 Nov)" in report["answer"]
    values = {(v["old"], v["new"]) for v in report["changes"]["steps"][0]["values"]}
    assert ("3", "5") in values
    assert empty.status_code == 400 and empty.json() == {
        "error": "invalid request: q: is empty: ask a question"}
    assert 'newsdesk_questions_total{outcome="answered",route="api"} 1.0' in counted


def test_the_story_changes_mcp_tool(updated_desk: Desk) -> None:
    from mcp import Client

    server = build_mcp(updated_desk, ThreadPoolExecutor(max_workers=1))

    async def call() -> dict[str, Any]:
        async with Client(server) as client:
            result = await client.call_tool("story_changes", {"story": "storm-kell.txt"})
        assert result.structured_content is not None
        return result.structured_content

    data = asyncio.run(call())
    assert data["found"] and data["article_id"] == "storm-kell.txt"
    assert "Death toll raised from 3 to 5" in data["changes"]
    assert {c["article_id"] for c in data["citations"]} == {"storm-kell.txt"}
    assert data["steps"][0]["from"]["title"] == "Storm Orla kills three in Kell"
