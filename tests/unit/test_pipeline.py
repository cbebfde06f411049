"""The ingest pipeline's rules on fakes (hashing embedder, in-memory store): milliseconds each.
The same paths run end to end with the real model and Chroma in tests/integration."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from bot.factory import hybrid_config
from config.settings import ChunkingSettings, IngestSettings, RetrievalSettings
from ingest.run.pipeline import Ingestor, Interrupted
from retrieval.answer.answerers import ExtractiveAnswerer
from retrieval.answer.llm import LLMAnswerer
from retrieval.engine import AnswerEngine
from retrieval.search.hybrid import HybridSearcher
from retrieval.search.keyword_index import KeywordIndex
from retrieval.search.retriever import NewsdeskRetriever
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
    # The text of news/0.txt in another outlet (folder): stored, as a copy of that story.
    write_article(other, "copy.txt", "Copy", story("ferry", 4))
    write_article(corpus / "more", "again.txt", "Again", story("ferry", 4))  # same outlet
    first = ingestor(store).ingest([str(corpus), str(other)])
    assert first.duplicates == [{"id": "more/again.txt", "duplicate_of": "0.txt"}]
    assert first.wire_copies == [{"id": "copy.txt", "copy_of": "0.txt"}]
    (corpus / "1.txt").unlink()
    pruned = ingestor(store).ingest([str(corpus)], prune=True)
    assert pruned.removed == 1 and "elsewhere.txt" in store.articles()
    # The stored text is kept while a duplicate of it is still read (it stands for it).
    (corpus / "0.txt").unlink()
    spared = ingestor(store).ingest([str(corpus)], prune=True)
    assert "0.txt" in store.articles() and spared.removed == 0
    write_article(corpus, "0.txt", "Story 0", story("ferry", 4))
    for i in range(2, 8):
        (corpus / f"{i}.txt").unlink()
    refused = ingestor(store).ingest([str(corpus)], prune=True)
    assert refused.removed == 0 and "prune refused" in refused.failed[0].reason
    assert len(store.articles()) == 9
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

        def catch_up(self, compact: bool = True) -> object:
            self.calls += 1
            raise OSError(5, "Input/output error")

    store, broken = MemoryStore(), Broken()
    run = Ingestor(store, HashingEmbedder(), NoNetwork(),
                   chunking=ChunkingSettings(max_tokens=40, overlap_tokens=8),
                   settings=IngestSettings(), derived=[broken])
    summary = run.ingest([str(corpus)])
    assert summary.added == len(TOPICS) and not summary.failed
    assert broken.calls >= 1
    assert "could not update Broken; it catches up when next read" in caplog.text


def test_a_keyword_index_on_a_full_disk_is_reported_once_with_what_it_misses(
        corpus: Path) -> None:
    class Full:
        def catch_up(self, compact: bool = True) -> object:
            raise ValueError("Failed to open file for write: 'IoError { Os { code: 28, kind: "
                             "StorageFull, message: \"No space left on device\" } }'")

    run = Ingestor(MemoryStore(), HashingEmbedder(), NoNetwork(),
                   chunking=ChunkingSettings(max_tokens=40, overlap_tokens=8),
                   settings=IngestSettings(write_batch_chunks=1), derived=[Full()])
    summary = run.ingest([str(corpus)])
    assert summary.added == len(TOPICS)
    [failure] = summary.failed
    assert failure.source == "(keyword index)"
    assert failure.reason.startswith(f"disk full: {len(TOPICS)} articles stored but not yet "
                                     "searchable by keywords")


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
    assert conflict.source.startswith(str(path))
    assert str(path) in conflict.reason and "https://h.example/a?x=1" in conflict.reason
    assert set(store.articles()) == {"https://h.example/a?x=1"}
# -- one URL in several files: daily exports, snapshots -------------------------------------


def export(folder: Path, name: str, *records: dict[str, str], mtime: int | None = None
           ) -> Path:
    """A daily JSON export of articles; `mtime` (epoch seconds) stands for when it was written."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps({"articles": list(records)}), encoding="utf-8")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


WALL = "https://estuary.example/news/wall"
WALL_JUNE = {"title": "Wall delayed", "url": WALL, "published_at": "2026-11-27T08:00:00Z",
             "body": "Work on the harbour wall will not start until June, the council said."}
WALL_SEPT = {**WALL_JUNE, "updated_at": "2026-11-28T09:00:00Z",
             "body": "Work on the harbour wall will not start until September, the council "
                     "said, correcting the date it gave earlier."}
PRIZE = {"title": "Prize", "url": "https://estuary.example/news/prize",
         "published_at": "2026-11-27T10:00:00Z", "body": "Pupils won the science prize."}
STRIKE = {"title": "Strike off", "url": "https://estuary.example/news/strike",
          "published_at": "2026-11-28T07:30:00Z", "body": "The ferry strike was called off."}


def wall_text(store: MemoryStore) -> str:
    return " ".join(text for text, _, meta in store.chunks.values() if meta.article_id == WALL)


@pytest.mark.parametrize("names", [("2026-11-27.json", "2026-11-28.json"),
                                   ("b-older.json", "a-newer.json")])  # read newest first
def test_a_later_export_updates_the_story_an_earlier_one_holds(
        tmp_path: Path, names: tuple[str, str]) -> None:
    store, embedder = MemoryStore(), HashingEmbedder()
    exports = tmp_path / "exports"
    export(exports, names[0], WALL_JUNE, PRIZE)
    first = ingestor(store, embedder).ingest([str(exports)])
    assert (first.added, first.failed) == (2, [])
    export(exports, names[1], WALL_SEPT, STRIKE)
    second = ingestor(store, embedder).ingest([str(exports)])
    assert second.failed == []
    assert (second.added, second.updated, second.unchanged) == (1, 1, 1)
    assert second.superseded == [{"id": WALL, "source": str(exports / names[0]),
                                  "newer": str(exports / names[1])}]
    assert "September" in wall_text(store) and "June" not in wall_text(store)
    # Every later run is quiet: nothing re-embedded, the older copy still named.
    embedder.embedded = 0
    again = ingestor(store, embedder).ingest([str(exports)], prune=True)
    assert (again.added, again.updated, again.unchanged, again.removed) == (0, 0, 3, 0)
    assert again.failed == [] and embedder.embedded == 0
    assert [s["source"] for s in again.superseded] == [str(exports / names[0])]
    assert "September" in wall_text(store)


def test_without_dates_the_later_written_file_is_the_newer_version(tmp_path: Path) -> None:
    store = MemoryStore()
    undated_june = {k: v for k, v in WALL_JUNE.items() if k != "published_at"}
    undated_sept = {k: v for k, v in WALL_SEPT.items() if k not in ("published_at",
                                                                      "updated_at")}
    exports = tmp_path / "exports"
    export(exports, "z-monday.json", undated_june, mtime=1_700_000_000)
    export(exports, "a-tuesday.json", undated_sept, mtime=1_700_086_400)
    summary = ingestor(store).ingest([str(exports)])
    assert summary.failed == [] and summary.added == 1
    assert "September" in wall_text(store)
    # Written the other way round, the other copy is the correction.
    os.utime(exports / "z-monday.json", (1_700_200_000, 1_700_200_000))
    flipped = ingestor(store).ingest([str(exports)])
    assert flipped.updated == 1 and "June" in wall_text(store)


def test_two_versions_of_one_story_with_nothing_to_order_them_are_a_reported_conflict(
        tmp_path: Path) -> None:
    store = MemoryStore()
    path = export(tmp_path / "exports", "dump.json", WALL_JUNE,
                  {**WALL_JUNE, "body": "Work on the harbour wall starts in May."}, PRIZE)
    summary = ingestor(store).ingest([str(path.parent)])
    assert summary.added == 2
    [failure] = summary.failed
    assert failure.source == str(path)
    assert WALL in failure.reason and f"read from {path} in this run" in failure.reason
    assert "URL" not in failure.reason  # they have one
    assert "June" in wall_text(store)  # the first one read stays
    # The same text twice is the same article: no conflict.
    twice = export(tmp_path / "twice", "dump.json", WALL_JUNE, WALL_JUNE)
    assert ingestor(MemoryStore()).ingest([str(twice)]).failed == []


def test_an_older_export_read_again_alone_does_not_undo_a_correction(tmp_path: Path) -> None:
    store = MemoryStore()
    day1 = export(tmp_path / "d1", "day1.json", WALL_JUNE)
    day2 = export(tmp_path / "d2", "day2.json", WALL_SEPT)
    ingestor(store).ingest([str(day1)])
    assert ingestor(store).ingest([str(day2)]).updated == 1
    stale = ingestor(store).ingest([str(day1)])
    assert (stale.updated, stale.failed) == (0, [])
    assert stale.superseded == [{"id": WALL, "source": str(day1), "newer": str(day2)}]
    assert "September" in wall_text(store)


# -- large files: progress inside a file, Ctrl-C ----------------------------------------------


def test_progress_counts_articles_inside_one_large_file(tmp_path: Path) -> None:
    big = tmp_path / "wire.jsonl"
    big.write_text("\n".join(json.dumps({"title": f"Story {i}", "body": story(f"topic{i}", 2)})
                             for i in range(30)) + "\n{broken\n", encoding="utf-8")
    sources: list[int] = []
    read: list[int] = []
    summary = ingestor(MemoryStore()).ingest([str(big)], on_total=sources.append,
                                             on_article=read.append)
    assert sources == [1] and summary.added == 30
    assert read == list(range(1, 32))  # every record, the broken line too


class StopsAfter(HashingEmbedder):
    """Ctrl-C during the n-th embedding call."""

    def __init__(self, calls: int) -> None:
        super().__init__()
        self.calls = calls

    def embed(self, texts: Any) -> Any:
        self.calls -= 1
        if self.calls < 0:
            raise KeyboardInterrupt
        return super().embed(texts)


def test_ctrl_c_still_reports_what_was_stored(corpus: Path) -> None:
    store = MemoryStore()
    with pytest.raises(Interrupted) as stopped:
        ingestor(store, StopsAfter(2), write_batch_chunks=5).ingest([str(corpus)])
    summary = stopped.value.summary
    assert 0 < summary.added == len(store.articles()) < len(TOPICS)
    assert any(f.source == "(ingest)" and f.reason.startswith("interrupted (Ctrl-C)")
               for f in summary.failed)
    assert all("interrupted" in f.reason for f in summary.failed)
    resumed = ingestor(store).ingest([str(corpus)])
    assert resumed.failed == [] and resumed.unchanged == summary.added
