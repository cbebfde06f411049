"""The store's change log in real Chroma (embedded and server): entries, several writers at
once, out-of-order and killed writers, trimming, leases, stores from before, and keyword
indexes catching up from it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.factory import Components
from config import load_settings
from config.errors import StoreBusyError
from ingest.model.records import Chunk, ChunkMeta
from ingest.store.change_log import ChangeLogGapError
from ingest.store.chroma import ChromaStore
from ingest.store.chunks import chroma_metadata
from ingest.text.ids import chunk_id
from retrieval.search.keyword_index import KeywordIndex
from tests.peers import ChromaServer


def chunk_of(n: int, text: str = "") -> tuple[Chunk, ChunkMeta]:
    article = f"story-{n}"
    text = text or f"Report number{n} on the harbour."
    chunk = Chunk(id=chunk_id(article, 0), article_id=article, index=0, text=text,
                  header=article, start=0, end=len(text))
    meta = ChunkMeta(article_id=article, chunk_index=0, chunk_count=1, title=article,
                     content_hash="h", text_hash=f"t{n}")
    return chunk, meta


def write(store: ChromaStore, n: int, text: str = "") -> str:
    chunk, meta = chunk_of(n, text)
    store.upsert([chunk], np.ones((1, 4), dtype=np.float32), [meta])
    return chunk.id


def land(store: ChromaStore, n: int, text: str = "") -> str:
    """A chunk write reaching Chroma with no log entry of its own (what an in-flight request
    of a killed writer does after its entry was recorded)."""
    chunk, meta = chunk_of(n, text)
    store._collection.upsert(ids=[chunk.id], embeddings=[[1.0] * 4], documents=[chunk.text],
                             metadatas=[chroma_metadata(meta)])
    return chunk.id


def new_store(**overrides: object) -> ChromaStore:
    return Components(load_settings(**overrides)).store


def test_every_write_names_its_chunks_and_moves_the_head(store_mode: str) -> None:
    store = new_store()
    cursor = store.start_cursor()
    start = store.version()
    first, second = write(store, 1), write(store, 2)
    store.delete_articles(["story-1"])
    after = store.version()
    assert after.store == start.store and after.head != start.head
    batch = store.changes_since(cursor)
    assert batch.ids == {first, second}
    assert batch.cursor.waiting == 0
    assert store.changes_since(batch.cursor).ids == set()  # applied once
    store.delete_articles(["no-such-article"])  # deletes nothing: no entry
    assert store.version() == after


def test_writers_that_interleave_lose_no_entry(store_mode: str, tmp_path: Path) -> None:
    """The race that lost entries with integer positions: A records its entry, B records and
    commits its own, a reader catches up, and only then A's chunks land."""
    a, b, reader_store = new_store(), new_store(), new_store()
    reader = KeywordIndex(tmp_path / "kw", reader_store)
    reader.current()
    with a._log.change("upsert", ["story-1#0"]):
        write(b, 2)
        assert reader.current().ids() == ["story-2#0"]
        land(a, 1)
    assert reader.current().ids() == ["story-1#0", "story-2#0"]
    assert reader.last_sync is not None and reader.last_sync.kind == "incremental"


def test_an_entry_that_lands_after_the_reader_read_past_its_time_is_applied(
        store_mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    slow, fast = new_store(), new_store()
    reader = KeywordIndex(tmp_path / "kw", new_store())
    reader.current()
    write(fast, 1)
    reader.current()
    # Stamped 30 s ago (a slow clock, or a request that took that long to land) but visible
    # only now, after the reader has read entries stamped later.
    monkeypatch.setattr(slow, "now", lambda: fast.now() - 30.0)
    write(slow, 2)
    assert reader.current().ids() == ["story-1#0", "story-2#0"]


def test_a_killed_writers_entry_is_applied_and_the_next_writer_commits_it(
        store_mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = new_store()
    index = KeywordIndex(tmp_path / "kw", new_store())
    write(store, 1)
    index.current()

    class Killed(BaseException):
        pass

    with pytest.raises(Killed), store._log.change("upsert", ["story-2#0"]):
        raise Killed  # killed after recording its entry, before its chunk reached Chroma
    assert index.current().ids() == ["story-1#0"]
    land(store, 2)  # its request, already sent, lands after all
    assert index.current().ids() == ["story-1#0", "story-2#0"]  # unfinished entries: re-read
    state = json.loads((tmp_path / "kw" / "sync.json").read_text())
    assert state["cursor"]["waiting"] == 1

    later = new_store()
    abandon = later.timing.abandon_after
    monkeypatch.setattr(later, "now", lambda: store.now() + abandon + 1)
    with later.writing():
        pass  # the next writer marks it done once it is old enough
    assert index.current().ids() == ["story-1#0", "story-2#0"]
    state = json.loads((tmp_path / "kw" / "sync.json").read_text())
    assert state["cursor"]["waiting"] == 0


def test_the_log_is_trimmed_and_an_index_too_far_behind_rebuilds(store_mode: str,
                                                                  tmp_path: Path) -> None:
    # No window: the log may be trimmed right up to the newest entries it keeps (30: a write
    # records up to three entries, when it looks slow, as every write does with no window).
    settings = {"store.change_log_entries": 30, "store.change_log_window": 0.0,
                "store.change_log_abandon_after": 0.001}
    store = new_store(**settings)
    behind = KeywordIndex(tmp_path / "behind", new_store(**settings))
    behind.current()
    ids = [write(store, n) for n in range(100)]
    near = KeywordIndex(tmp_path / "near", new_store(**settings))
    near.current()
    ids += [write(store, n) for n in range(100, 105)]

    assert store.trim() > 0
    with pytest.raises(ChangeLogGapError):
        store.changes_since(json_cursor(tmp_path / "behind"))
    assert behind.current().ids() == sorted(ids)
    assert behind.last_sync is not None and behind.last_sync.kind == "rebuild"
    assert near.current().ids() == sorted(ids)
    assert near.last_sync is not None
    assert (near.last_sync.kind, near.last_sync.chunks) == ("incremental", 5)


def json_cursor(directory: Path):  # type: ignore[no-untyped-def]
    from ingest.store.change_log import Cursor

    return Cursor.from_json(json.loads((directory / "sync.json").read_text())["cursor"])


def test_a_store_with_the_old_integer_log_keeps_working(store_mode: str,
                                                        tmp_path: Path) -> None:
    store = new_store()
    write(store, 1)
    # What a store written before concurrent writers looks like: an integer head, entries
    # keyed and filtered by position, and a keyword index that recorded that position.
    collection = store._collection
    collection.modify(metadata={"embedding_model": store.model_name, "changes": 7})
    store._log.changes.delete(where={"ts": {"$gte": 0.0}})
    store._log.changes.add(ids=[f"{n:012d}" for n in range(1, 8)], embeddings=[[1.0]] * 7,
                       documents=['["story-1#0"]'] * 7,
                       metadatas=[{"seq": n, "op": "upsert", "count": 1} for n in range(1, 8)])
    old_index = tmp_path / "kw"
    old_index.mkdir()
    (old_index / "sync.json").write_text(json.dumps(
        {"format": 2, "store": store.version().store, "seq": 7}))

    reopened = new_store()
    assert reopened.version().head == "7"
    index = KeywordIndex(old_index, reopened)
    assert index.current().ids() == ["story-1#0"]
    assert index.last_sync is not None and index.last_sync.kind == "rebuild"  # once
    write(reopened, 2)
    assert reopened.version().head != "7"
    assert index.current().ids() == ["story-1#0", "story-2#0"]
    assert index.last_sync.kind == "incremental"
    reopened.trim()
    assert reopened._log.changes.get(where={"seq": {"$gte": 0}})["ids"] == []


def test_regroup_needs_the_store_to_itself(chroma_server: ChromaServer, data_dir: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSDESK_CHROMA_URL", chroma_server.url)
    monkeypatch.setenv("NEWSDESK_STORE__COLLECTION", "lease-test")
    ingest, other, regroup = new_store(), new_store(), new_store()
    with ingest.writing(), other.writing(), \
            pytest.raises(StoreBusyError, match=r"pid \d+ on .* is writing"), \
            regroup.writing(exclusive=True):  # writers share; regroup waits for them
        pass
    with regroup.writing(exclusive=True):
        with pytest.raises(StoreBusyError, match="is regrouping"), ingest.writing():
            pass
        with pytest.raises(StoreBusyError, match="is regrouping"), \
                other.writing(exclusive=True):
            pass
    with ingest.writing():  # every lease was given back
        write(ingest, 1)
    leases = ingest._log.changes.get(where={"expires": {"$gt": 0.0}})["ids"]
    assert leases == []


def test_doctor_finds_and_repairs_a_damaged_replica(store_mode: str, data_dir: Path) -> None:
    import tantivy
    from click.testing import CliRunner

    from bot.cli.commands import cli

    store = new_store()
    for n in range(4):
        write(store, n)
    runner = CliRunner()
    healthy = runner.invoke(cli, ["doctor"])
    assert healthy.exit_code == 0, healthy.output
    assert "matches the store (4 chunks)" in healthy.stdout

    replica = data_dir / "keywords" / store.name
    raw = tantivy.Index.open(str(replica))
    writer = raw.writer(heap_size=15_000_000, num_threads=1)
    writer.delete_documents_by_term("chunk_id", "story-2#0")
    writer.commit()
    writer.wait_merging_threads()
    checked = runner.invoke(cli, ["doctor", "--check-only", "--json"])
    assert checked.exit_code == 1
    assert json.loads(checked.stdout)["missing"] == ["story-2#0"]
    repaired = runner.invoke(cli, ["doctor"])
    assert repaired.exit_code == 1
    assert "missing  1 chunks: story-2#0" in repaired.stdout and "repaired" in repaired.stdout
    assert runner.invoke(cli, ["doctor"]).exit_code == 0

    # A sync state that claims more than the index holds: the position is ahead, so catching
    # up alone would never bring back what it skipped.
    write(store, 9)
    state = json.loads((replica / "sync.json").read_text())
    state["head"] = store.version().head
    (replica / "sync.json").write_text(json.dumps(state))
    found = json.loads(runner.invoke(cli, ["doctor", "--json"]).stdout)
    assert found["missing"] == ["story-9#0"] and found["repaired"]
    (replica / "sync.json").write_text("{garbage")
    broken = runner.invoke(cli, ["doctor", "--json"])
    assert broken.exit_code == 1 and json.loads(broken.stdout)["unreadable"]
    final = runner.invoke(cli, ["doctor", "--json"])
    assert final.exit_code == 0 and json.loads(final.stdout)["chunks"] == 5

    # The wire-copy lookup's first chunks: one left out (a writer of an earlier version), one
    # whose chunk is gone (a crash between the two deletes). Found, named, repaired.
    leads = store._client.get_collection(f"{store.name}-leads")
    leads.delete(ids=["story-1#0"])
    leads.add(ids=["gone#0"], embeddings=[[1.0, 0.0, 0.0, 0.0]],
              metadatas=[{"article_id": "gone"}])
    looked = runner.invoke(cli, ["doctor", "--check-only", "--json"])
    assert looked.exit_code == 1
    report = json.loads(looked.stdout)
    assert (report["leads_missing"], report["leads_stale"], report["repaired"]) == (
        ["story-1#0"], ["gone#0"], False)
    fixed = runner.invoke(cli, ["doctor"])
    assert fixed.exit_code == 1
    assert "wire-copy lookup: 1 first chunks missing from it: story-1#0" in fixed.stdout
    assert "wire-copy lookup: 1 first chunks stale in it: gone#0" in fixed.stdout
    assert "repaired" in fixed.stdout
    assert sorted(leads.get(include=[])["ids"]) == [f"story-{n}#0" for n in (0, 1, 2, 3, 9)]
    assert runner.invoke(cli, ["doctor"]).exit_code == 0


def test_entries_are_stamped_on_the_servers_clock(store_mode: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine whose clock is an hour behind still stamps entries that a reader with a
    right clock finds in its window."""
    import time

    reader = KeywordIndex(tmp_path / "kw", new_store())
    reader.current()
    behind = new_store()
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() - 3600)
    behind._clock.measure()
    assert behind.now() > real_time() - 60  # measured against the server's heartbeat
    write(behind, 1)
    monkeypatch.setattr(time, "time", real_time)
    stamps = [m["ts"] for m in behind._log.changes.get(where={"ts": {"$gte": 0.0}},
                                                   include=["metadatas"])["metadatas"]]
    assert stamps and min(stamps) > real_time() - 60
    assert reader.current().ids() == ["story-1#0"]
