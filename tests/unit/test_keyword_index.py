"""The keyword index (real Tantivy, in a temp directory) following an in-memory store's change
log: incremental catch-up, crash and damage recovery, filters, and raw user text."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.settings import ChunkingSettings, IngestSettings
from ingest.model.records import Chunk, ChunkMeta, SearchFilter
from ingest.run.pipeline import Ingestor
from ingest.text.ids import chunk_id
from ingest.text.terms import analyze
from retrieval.records import Reprint
from retrieval.search.keyword_index import KeywordIndex, KeywordSnapshot, SyncReport
from tests.fakes import HashingEmbedder, MemoryStore
from tests.helpers import NoNetwork, write_article

DAY = datetime(2024, 3, 1, tzinfo=UTC)


def put(store: MemoryStore, article: str, text: str, *, source: str = "desk",
        day: int | None = 0, version: str = "v1") -> None:
    """One single-chunk article, written as ingest writes it."""
    published = DAY + timedelta(days=day) if day is not None else None
    chunk = Chunk(id=chunk_id(article, 0), article_id=article, index=0, text=text,
                  header=article, start=0, end=len(text))
    meta = ChunkMeta(article_id=article, chunk_index=0, chunk_count=1, title=article.title(),
                     source=source, published=published, content_hash=version,
                     text_hash=version)
    store.upsert([chunk], np.zeros((1, 4), dtype=np.float32), [meta])


@pytest.fixture
def store() -> MemoryStore:
    store = MemoryStore()
    put(store, "ferry", "The ferry strike ended after a 7 percent pay rise.", source="wire")
    put(store, "bridge", "The bridge toll for cars rises to 3 euros.", day=5)
    put(store, "museum", "The museum reopened; the ferry museum wing stays shut.", day=10)
    put(store, "undated", "A ferry timetable with no date.", day=None)
    return store


def test_catches_up_incrementally_reading_only_what_changed(store: MemoryStore,
                                                            tmp_path: Path) -> None:
    index = KeywordIndex(tmp_path / "kw", store)
    assert index.current().ids() == ["bridge#0", "ferry#0", "museum#0", "undated#0"]
    assert index.last_sync is not None and index.last_sync.kind == "rebuild"

    put(store, "ferry", "The ferry strike goes on; talks collapsed.", version="v2")
    store.delete_articles(["museum"])
    index.catch_up(compact=False)  # as ingest does between batches
    assert index.last_sync.kind == "incremental" and index.last_sync.chunks == 2
    snapshot = index.current()
    assert snapshot.ids() == ["bridge#0", "ferry#0", "undated#0"]
    assert [cid for cid, _ in snapshot.search("talks collapsed", 5)] == ["ferry#0"]
    assert snapshot.search("percent pay", 5) == []  # the old version's words are gone
    index.catch_up()  # the end of the ingest: the two deleted documents are purged
    assert index.last_sync.kind == "compact" and index.last_sync.chunks == 3

    # Another process (a second index object on the same files) finds it current on disk.
    other = KeywordIndex(tmp_path / "kw", store)
    assert other.current().ids() == snapshot.ids()
    assert other.last_sync is not None and other.last_sync.kind == "current"


def test_an_index_that_lags_the_store_is_never_served(store: MemoryStore,
                                                      tmp_path: Path) -> None:
    reader = KeywordIndex(tmp_path / "kw", store)
    assert reader.current().search("zeppelin", 5) == []
    writer = KeywordIndex(tmp_path / "kw", store)  # another process, same files
    put(store, "airship", "A zeppelin hangar opened.")
    writer.catch_up()
    put(store, "airship2", "A second zeppelin arrived.")  # committed, not yet indexed
    found = [cid for cid, _ in reader.current().search("zeppelin", 5)]
    assert sorted(found) == ["airship#0", "airship2#0"]


def test_a_catch_up_killed_after_the_commit_converges(store: MemoryStore,
                                                      tmp_path: Path) -> None:
    index = KeywordIndex(tmp_path / "kw", store)
    index.current()
    state_file = tmp_path / "kw" / "sync.json"
    behind = state_file.read_text()
    put(store, "airship", "A zeppelin hangar opened.")
    store.delete_articles(["bridge"])
    index.catch_up()
    state_file.write_text(behind)  # killed between the index commit and the state file
    again = KeywordIndex(tmp_path / "kw", store)
    again.catch_up(compact=False)  # (compacting, it would rebuild anyway)
    assert again.last_sync is not None and again.last_sync.kind == "incremental"
    assert again.current().ids() == ["airship#0", "ferry#0", "museum#0", "undated#0"]
    assert again.current().ids() == KeywordIndex(tmp_path / "fresh", store).current().ids()


@pytest.mark.parametrize("damage", ["state", "meta", "segments"])
def test_a_damaged_index_is_rebuilt(store: MemoryStore, tmp_path: Path, damage: str) -> None:
    KeywordIndex(tmp_path / "kw", store).current()
    directory = tmp_path / "kw"
    if damage == "state":
        (directory / "sync.json").write_text("{not json")
    elif damage == "meta":
        (directory / "meta.json").write_text('{"segments": 7}')
    else:
        for segment in directory.glob("*.term"):
            segment.write_bytes(b"garbage" * 10)
    index = KeywordIndex(directory, store)
    assert [cid for cid, _ in index.current().search("bridge toll", 3)] == ["bridge#0"]
    assert index.last_sync is not None and index.last_sync.kind == "rebuild"
    assert json.loads((directory / "sync.json").read_text())["head"] == store.version().head


def test_a_gap_in_the_change_log_means_a_rebuild(store: MemoryStore, tmp_path: Path) -> None:
    index = KeywordIndex(tmp_path / "kw", store)
    index.current()
    put(store, "airship", "A zeppelin hangar opened.")
    store.changes.clear()  # a log that no longer holds the entries (e.g. trimmed)
    put(store, "airship2", "A second zeppelin arrived.")
    assert len(index.current().search("zeppelin", 5)) == 2
    assert index.last_sync is not None and index.last_sync.kind == "rebuild"


def test_an_index_of_another_store_is_rebuilt(store: MemoryStore, tmp_path: Path) -> None:
    KeywordIndex(tmp_path / "kw", store).current()
    other = MemoryStore()
    put(other, "tram", "Tram lines reopen.")
    index = KeywordIndex(tmp_path / "kw", other)
    assert index.current().ids() == ["tram#0"]


@pytest.mark.parametrize("text", [
    "AT&T profits (record", '"unbalanced quote', "title:ferry AND", "*", "-", "ferry^2~",
    "(((", "the of and", "", "ferry\x00strike", "é" * 300, "NOT OR AND",
])
def test_raw_user_text_never_raises(store: MemoryStore, tmp_path: Path, text: str) -> None:
    snapshot = KeywordIndex(tmp_path / "kw", store).current()
    results = snapshot.search(text, 5, SearchFilter(sources=("wire",)))
    assert all(cid == "ferry#0" for cid, _ in results)


@given(
    sources=st.lists(st.sampled_from(["wire", "desk", "other"]), max_size=2, unique=True),
    since=st.one_of(st.none(), st.integers(-1, 11)),
    until=st.one_of(st.none(), st.integers(-1, 11)),
)
@settings(max_examples=40, deadline=None)
def test_filters_select_exactly_what_the_dense_search_filter_accepts(
        tmp_path_factory: pytest.TempPathFactory, sources: list[str], since: int | None,
        until: int | None) -> None:
    store = MemoryStore()
    for day, source in [(0, "wire"), (5, "desk"), (10, "desk"), (None, "wire"), (3, "other")]:
        put(store, f"ferry-{day}-{source}", f"Ferry report of day {day}.", source=source,
            day=day)
    where = SearchFilter(
        sources=tuple(sources),
        since=DAY + timedelta(days=since) if since is not None else None,
        until=DAY + timedelta(days=until) if until is not None else None,
    )
    index = KeywordIndex(tmp_path_factory.mktemp("kw"), store)
    found = {cid for cid, _ in index.current().search("ferry", 10, where)}
    expected = {c.id for c in store.iter_chunks() if where.accepts(c.meta.source,
                                                                   c.meta.calendar_epoch)}
    assert found == expected


def test_bm25_ranks_the_rarer_term_higher_and_idf_agrees(store: MemoryStore,
                                                         tmp_path: Path) -> None:
    snapshot = KeywordIndex(tmp_path / "kw", store).current()
    ranked = [cid for cid, _ in snapshot.search("ferry toll", 4)]
    assert ranked[0] == "bridge#0"  # "toll" is in one chunk, "ferry" in three
    assert set(ranked) == {"bridge#0", "ferry#0", "museum#0", "undated#0"}
    [toll], [ferry] = analyze("toll"), analyze("ferry")
    assert snapshot.idf(toll) > snapshot.idf(ferry) > 0
    assert snapshot.idf("neverseenword") >= snapshot.idf(toll)


def test_ingest_updates_the_index_in_the_same_step(tmp_path: Path) -> None:
    store = MemoryStore()
    index = KeywordIndex(tmp_path / "kw", store)
    kinds: list[str] = []
    catch_up = index.catch_up

    def recorded(compact: bool = True) -> SyncReport:
        report = catch_up(compact)
        kinds.append(f"{report.kind}{'' if compact else ' (batch)'}")
        return report

    index.catch_up = recorded  # type: ignore[method-assign]
    ingestor = Ingestor(store, HashingEmbedder(), NoNetwork(),
                        chunking=ChunkingSettings(max_tokens=40, overlap_tokens=8),
                        settings=IngestSettings(), derived=[index])
    corpus = tmp_path / "corpus"
    write_article(corpus, "a.txt", "Ferry strike", "The ferry strike ended on Monday.")
    write_article(corpus, "c.txt", "Cup final", "United won the cup final on Sunday.")
    write_article(corpus, "d.txt", "Dock fire", "A fire broke out at the dock.")
    ingestor.ingest([str(corpus)])
    assert kinds == ["rebuild (batch)", "current"]
    write_article(corpus, "b.txt", "Tram lines", "Tram lines reopen on Tuesday.")
    kinds.clear()
    ingestor.ingest([str(corpus)])
    assert kinds == ["incremental (batch)", "current"]  # nothing deleted: nothing to compact
    assert index.last_sync is not None and index.last_sync.version == store.version()
    write_article(corpus, "c.txt", "Cup final", "United won the cup final on Saturday.")
    (corpus / "a.txt").unlink()
    kinds.clear()
    ingestor.ingest([str(corpus)], prune=True)
    # The edit and the prune left deleted documents: compacted once, at the end.
    assert kinds == ["incremental (batch)", "compact"]
    assert index.last_sync.version == store.version()  # current before anyone asks
    assert index.current().ids() == ["b.txt#0", "c.txt#0", "d.txt#0"]


def damaged_snapshot(store: MemoryStore, directory: Path, error: Exception
                     ) -> tuple[KeywordIndex, KeywordSnapshot]:
    """A snapshot whose searcher fails as a segment corrupted under a live reader does."""
    index = KeywordIndex(directory, store)
    snapshot = index.current()

    class Damaged:
        def search(self, *args: object, **kwargs: object) -> object:
            raise error

    snapshot._searcher = Damaged()  # type: ignore[assignment]
    return index, snapshot


def test_damage_found_while_searching_is_repaired_and_the_search_answered(
        store: MemoryStore, tmp_path: Path) -> None:
    index, snapshot = damaged_snapshot(
        store, tmp_path / "kw", ValueError("Failed to open field 'body''s term dictionary"))
    assert [cid for cid, _ in snapshot.search("bridge toll", 3)] == ["bridge#0"]
    assert index.last_sync is not None and index.last_sync.kind == "rebuild"


def test_a_reader_that_waited_for_another_catch_up_does_not_rebuild(store: MemoryStore,
                                                                    tmp_path: Path) -> None:
    reader = KeywordIndex(tmp_path / "kw", store)
    reader.current()
    put(store, "airship", "A zeppelin hangar opened.")
    seen = store.version()  # what the reader read before it waited for the lock
    put(store, "airship2", "A second zeppelin arrived.")
    KeywordIndex(tmp_path / "kw", store).catch_up()  # another process got there first
    snapshot = reader.current(seen)
    assert reader.last_sync is not None and reader.last_sync.kind == "current"
    assert sorted(cid for cid, _ in snapshot.search("zeppelin", 5)) == ["airship#0",
                                                                         "airship2#0"]


def test_latest_serves_the_last_catch_up_without_asking_the_store(store: MemoryStore,
                                                                   tmp_path: Path) -> None:
    index = KeywordIndex(tmp_path / "kw", store)
    asked = index.current()
    store.version = None  # type: ignore[assignment,method-assign]  # would fail if called
    assert index.latest() is asked


def test_check_finds_and_repairs_what_differs_from_the_store(store: MemoryStore,
                                                             tmp_path: Path) -> None:
    import tantivy

    index = KeywordIndex(tmp_path / "kw", store)
    index.current()
    assert not index.check().damaged
    # Damage behind the index's back: a document lost, one indexed from other text, and one
    # the store no longer has (what a skipped log entry or a half-copied replica leaves).
    raw = tantivy.Index.open(str(tmp_path / "kw"))
    writer = raw.writer(heap_size=15_000_000, num_threads=1)
    writer.delete_documents_by_term("chunk_id", "bridge#0")
    writer.delete_documents_by_term("chunk_id", "museum#0")
    writer.add_document(tantivy.Document(chunk_id="museum#0", digest="0" * 16,
                                         body="old museum text"))
    writer.add_document(tantivy.Document(chunk_id="gone#0", digest="1" * 16, body="gone"))
    writer.commit()
    writer.wait_merging_threads()

    found = KeywordIndex(tmp_path / "kw", store).check(repair=False)
    assert (found.missing, found.stale, found.extra) == (["bridge#0"], ["museum#0"], ["gone#0"])
    assert not found.repaired
    repaired = KeywordIndex(tmp_path / "kw", store).check()
    assert repaired.damaged and repaired.repaired
    again = KeywordIndex(tmp_path / "kw", store)
    assert not again.check().damaged
    assert again.current().ids() == sorted(c.id for c in store.iter_chunks())


def test_check_rebuilds_an_index_whose_sync_state_is_unreadable(store: MemoryStore,
                                                                tmp_path: Path) -> None:
    KeywordIndex(tmp_path / "kw", store).current()
    (tmp_path / "kw" / "sync.json").write_text('{"format": 3, "store": 1}')
    found = KeywordIndex(tmp_path / "kw", store).check()
    assert found.unreadable and found.repaired
    assert not KeywordIndex(tmp_path / "kw", store).check().damaged


def test_check_of_a_new_replica_builds_it_and_finds_nothing_wrong(store: MemoryStore,
                                                                  tmp_path: Path) -> None:
    found = KeywordIndex(tmp_path / "kw", store).check()
    assert not found.damaged and found.chunks == 4
def statistics(snapshot: KeywordSnapshot, query: str) -> tuple[object, ...]:
    """What answers are made of: BM25 hits with their scores, and the answerer's idf."""
    return (snapshot.search(query, 10), [round(snapshot.idf(t), 9) for t in analyze(query)],
            len(snapshot))


def test_statistics_depend_on_what_is_stored_not_on_edit_history(store: MemoryStore,
                                                                 tmp_path: Path) -> None:
    edited = KeywordIndex(tmp_path / "edited", store)
    edited.current()
    put(store, "bridge", "The bridge toll for cars rises to 4 euros from May.", day=5,
        version="v2")
    put(store, "tollway", "A toll road for lorries opens.", day=6)
    store.delete_articles(["museum"])
    query = "bridge toll for cars ferry museum"
    # Between ingest batches the deleted documents are still in Tantivy's segments: the
    # answerer's idf already counts live documents only.
    deferred = KeywordIndex(tmp_path / "edited", store)
    deferred.catch_up(compact=False)
    fresh = KeywordIndex(tmp_path / "fresh", store).current()
    assert statistics(deferred.current(), query)[1:] == statistics(fresh, query)[1:]
    # A reader (or the end of the ingest) compacts: BM25 scores are exactly a fresh index's.
    served = edited.current()
    assert edited.last_sync is not None and edited.last_sync.kind == "compact"
    assert statistics(served, query) == statistics(fresh, query)
    [toll] = analyze("toll")
    assert served._searcher.doc_freq("body", toll) == 2  # the replaced chunk is gone


def test_an_index_that_lists_no_segments_is_rebuilt_not_served_empty(
        store: MemoryStore, tmp_path: Path) -> None:
    directory = tmp_path / "kw"
    KeywordIndex(directory, store).current()
    meta = json.loads((directory / "meta.json").read_text())
    assert meta["segments"]
    (directory / "meta.json").write_text(json.dumps({**meta, "segments": []}))
    # It parses, and sync.json says it is current, but it holds nothing.
    index = KeywordIndex(directory, store)
    assert index.current().ids() == ["bridge#0", "ferry#0", "museum#0", "undated#0"]
    assert index.last_sync is not None and index.last_sync.kind == "rebuild"
    # Also found when it goes missing under a process that already serves it.
    (directory / "meta.json").write_text(json.dumps({**meta, "segments": []}))
    put(store, "airship", "A zeppelin hangar opened.")
    assert len(index.current().ids()) == 5


def test_reprints_come_from_the_index_and_follow_regroups_through_the_log(
        store: MemoryStore, tmp_path: Path) -> None:
    put(store, "ferry-ap", "The ferry strike ended after a 7 percent pay rise, AP reports.",
        source="AP")
    put(store, "ferry-afp", "The ferry strike ended after a pay rise of 7 percent.",
        source="AFP")
    index = KeywordIndex(tmp_path / "kw", store)
    assert index.current().reprints(["ferry", "bridge", "nowhere"]) == {
        "ferry": [Reprint("ferry", "wire")], "bridge": [Reprint("bridge", "desk")]}

    # Ingest (or a regroup) marks two copies of the ferry story: the replica follows the log.
    store.set_copy_of({"ferry-ap": "ferry", "ferry-afp": "ferry"})
    snapshot = index.current()
    assert [r.article_id for r in snapshot.reprints(["ferry"])["ferry"]] == [
        "ferry", "ferry-afp", "ferry-ap"]  # the group's own article first
    assert [r.source for r in snapshot.reprints(["ferry"])["ferry"]] == ["wire", "AFP", "AP"]
    store.delete_articles(["ferry-afp"])
    assert [r.article_id for r in index.current().reprints(["ferry"])["ferry"]] == [
        "ferry", "ferry-ap"]

    # A group changed behind the index's back (a skipped entry) is what `check` finds stale.
    text, vector, meta = store.chunks["ferry-ap#0"]
    store.chunks["ferry-ap#0"] = (text, vector, replace(meta, copy_of=None))
    assert KeywordIndex(tmp_path / "kw", store).check(repair=False).stale == ["ferry-ap#0"]
    KeywordIndex(tmp_path / "kw", store).check()
    assert KeywordIndex(tmp_path / "kw", store).current().reprints(["ferry", "ferry-ap"]) == {
        "ferry": [Reprint("ferry", "wire")], "ferry-ap": [Reprint("ferry-ap", "AP")]}


def test_damage_found_while_listing_reprints_is_repaired_and_the_list_given(
        store: MemoryStore, tmp_path: Path) -> None:
    index, snapshot = damaged_snapshot(
        store, tmp_path / "kw", OSError("Failed to open file for read: 'a.store'"))
    assert snapshot.reprints(["bridge"]) == {"bridge": [Reprint("bridge", "desk")]}
    assert index.last_sync is not None and index.last_sync.kind == "rebuild"


def test_a_story_reprinted_more_than_a_hundred_times_lists_every_copy(
        store: MemoryStore, tmp_path: Path) -> None:
    copies = [f"ferry-{n:03d}" for n in range(150)]
    for article in copies:
        put(store, article, "The ferry strike ended after a 7 percent pay rise.", source="x")
    store.set_copy_of(dict.fromkeys(copies, "ferry"))
    listed = KeywordIndex(tmp_path / "kw", store).current().reprints(["ferry"])
    assert [r.article_id for r in listed["ferry"]] == ["ferry", *copies]
