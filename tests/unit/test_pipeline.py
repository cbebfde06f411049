"""The ingest pipeline's rules on fakes (hashing embedder, in-memory store): milliseconds each.
The same paths run end to end with the real model and Chroma in tests/integration."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.factory import hybrid_config
from config.settings import ChunkingSettings, IngestSettings, RetrievalSettings
from ingest.pipeline import Ingestor
from retrieval.answerers import ExtractiveAnswerer
from retrieval.engine import AnswerEngine
from retrieval.keyword_index import KeywordIndex
from retrieval.llm import LLMAnswerer
from retrieval.retriever import NewsdeskRetriever
from retrieval.search import HybridSearcher
from tests.fakes import HashingEmbedder, Killed, MemoryStore, fake_chat_model
from tests.helpers import NoNetwork, extractive_config, write_article


def ingestor(store: MemoryStore, embedder: HashingEmbedder | None = None,
             **settings: Any) -> Ingestor:
    return Ingestor(store, embedder or HashingEmbedder(), NoNetwork(),
                    chunking=ChunkingSettings(max_tokens=40, overlap_tokens=8),
                    settings=IngestSettings(**settings))


def story(topic: str, sentences: int) -> str:
    # Each topic in most phrases: the stories are distinct, not copies of one wire story.
    return " ".join(f"Report {i} on the {topic}: the {topic} committee met and agreed "
                    f"{topic} item {i}." for i in range(sentences))


TOPICS = ["ferry", "tram", "budget", "harbour", "library", "stadium", "museum", "election"]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "news"
    for i, topic in enumerate(TOPICS):
        write_article(root, f"{i}.txt", f"Story {i}", story(topic, 4 + i))
    return root


def test_a_killed_run_is_completed_by_running_again(corpus: Path) -> None:
    killed, clean = MemoryStore(), MemoryStore()
    killed.fail_after_upserts = 2
    with pytest.raises(Killed):
        ingestor(killed, write_batch_chunks=3).ingest([str(corpus)])
    assert 0 < len(killed.articles()) < 8
    killed.fail_after_upserts = None
    resumed = ingestor(killed, write_batch_chunks=3).ingest([str(corpus)])
    ingestor(clean).ingest([str(corpus)])
    assert resumed.failed == [] and resumed.added + resumed.updated + resumed.unchanged == 8
    assert killed.snapshot() == clean.snapshot()


def test_unchanged_costs_nothing_and_an_update_leaves_no_stale_chunk(corpus: Path) -> None:
    store, embedder = MemoryStore(), HashingEmbedder()
    ingestor(store, embedder).ingest([str(corpus)])
    before = store.snapshot()
    embedder.embedded = 0
    again = ingestor(store, embedder).ingest([str(corpus)])
    assert (again.unchanged, again.added, embedder.embedded) == (8, 0, 0)
    assert store.snapshot() == before
    write_article(corpus, "7.txt", "Story 7", story("shorter topic", 2))
    updated = ingestor(store, embedder).ingest([str(corpus)])
    assert (updated.updated, updated.unchanged) == (1, 7)
    chunks = [m for _, _, m in store.chunks.values() if m.article_id == "7.txt"]
    assert len({m.content_hash for m in chunks}) == 1
    assert sorted(m.chunk_index for m in chunks) == list(range(chunks[0].chunk_count))


def test_prune_is_scoped_guarded_and_spares_duplicates(tmp_path: Path, corpus: Path) -> None:
    store = MemoryStore()
    other = tmp_path / "other"
    write_article(other, "elsewhere.txt", "Elsewhere", story("another desk", 3))
    write_article(other, "copy.txt", "Copy", story("ferry", 4))  # the text of news/0.txt
    first = ingestor(store).ingest([str(corpus), str(other)])
    assert first.duplicates == [{"id": "copy.txt", "duplicate_of": "0.txt"}]
    (corpus / "1.txt").unlink()
    pruned = ingestor(store).ingest([str(corpus)], prune=True)
    assert pruned.removed == 1 and "elsewhere.txt" in store.articles()
    # The only copy of a duplicate's text is kept when the duplicate's source is pruned.
    ingestor(store).ingest([str(other)], prune=True)
    assert "0.txt" in store.articles()
    for i in range(2, 8):
        (corpus / f"{i}.txt").unlink()
    refused = ingestor(store).ingest([str(corpus)], prune=True)
    assert refused.removed == 0 and "prune refused" in refused.failed[0].reason
    assert len(store.articles()) == 8
    forced = ingestor(store).ingest([str(corpus)], prune=True, force=True)
    assert forced.removed == 6
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = ingestor(store).ingest([str(empty)], prune=True)
    assert nothing.removed == 0 and nothing.failed[0].reason.startswith("no articles found")


def test_the_reranker_reorders_the_fused_candidates(tmp_path: Path, corpus: Path) -> None:
    store, embedder = MemoryStore(), HashingEmbedder()
    ingestor(store, embedder).ingest([str(corpus)])

    class PrefersTheMuseum:
        def score(self, query: str, texts: Any) -> list[float]:
            return [1.0 if "museum" in text else 0.0 for text in texts]

    config = hybrid_config(RetrievalSettings())
    keywords = KeywordIndex(tmp_path / "keywords", store)
    plain = HybridSearcher(store, embedder, keywords, config)
    reranked = HybridSearcher(store, embedder, keywords, config, reranker=PrefersTheMuseum())
    assert plain.search("harbour committee", 3)[0].article_id == "3.txt"
    top = reranked.search("harbour committee", 3)
    assert top[0].article_id == "6.txt" and top[1].article_id == "3.txt"


def test_llm_answers_through_a_fake_chat_model(tmp_path: Path, corpus: Path) -> None:
    store, embedder = MemoryStore(), HashingEmbedder()
    ingestor(store, embedder).ingest([str(corpus)])
    keywords = KeywordIndex(tmp_path / "keywords", store)
    searcher = HybridSearcher(store, embedder, keywords, hybrid_config(RetrievalSettings()))
    extractive = ExtractiveAnswerer(keywords.current, extractive_config(min_evidence=0.05))

    def engine(*replies: str) -> AnswerEngine:
        return AnswerEngine(NewsdeskRetriever(searcher=searcher, k=6),
                            LLMAnswerer(fake_chat_model(*replies), extractive), k=6)

    cited = engine("The committee agreed item 3 [1] and the king wept [99].").ask(
        "What did the committee agree on the harbour?")
    assert cited.answer == "The committee agreed item 3 [1] and the king wept."
    assert cited.citations[0].passage.article_id == "3.txt"
    uncited = engine("Something happened.").ask("What did the committee agree on the harbour?")
    assert uncited.note is not None and "cited no passage" in uncited.note
    assert uncited.citations and not uncited.abstained


def test_a_derived_index_that_fails_does_not_fail_the_ingest(
        tmp_path: Path, corpus: Path, caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        calls = 0

        def catch_up(self) -> object:
            self.calls += 1
            raise OSError("disk full")

    store, broken = MemoryStore(), Broken()
    run = Ingestor(store, HashingEmbedder(), NoNetwork(),
                   chunking=ChunkingSettings(max_tokens=40, overlap_tokens=8),
                   settings=IngestSettings(), derived=[broken])
    summary = run.ingest([str(corpus)])
    assert summary.added == len(TOPICS) and not summary.failed
    assert broken.calls >= 1
    assert "could not update Broken; it catches up when next read" in caplog.text


def test_two_different_texts_under_one_id_in_one_run_are_reported_with_both_places(
        tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl"
    rows = [{"title": "Coastguard station to close", "url": "https://h.example/a?x=1#top",
             "body": story("coastguard", 3)},
            {"title": "Coastguard station to close", "url": "https://h.example/a?x=1",
             "body": story("coastguard", 3)},  # the same text again: nothing to report
            {"title": "School roof repaired", "url": "https://h.example/a?x=1&utm_source=rss",
             "body": story("school roof", 3)}]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    store = MemoryStore()
    summary = ingestor(store).ingest([str(path)])
    assert summary.added == 1
    [conflict] = summary.failed
    assert conflict.source == f"{path}:3"
    assert f"{path}:1" in conflict.reason and "https://h.example/a?x=1" in conflict.reason
    assert set(store.articles()) == {"https://h.example/a?x=1"}
