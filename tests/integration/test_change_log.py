"""The store's change log in real Chroma (embedded and server): positions, trimming, and
keyword indexes catching up from it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.factory import Components
from config import load_settings
from ingest.ids import chunk_id
from ingest.records import Chunk, ChunkMeta
from ingest.store import ChangeLogGapError, ChromaStore
from retrieval.keyword_index import KeywordIndex


def write(store: ChromaStore, n: int) -> str:
    article = f"story-{n}"
    text = f"Report number{n} on the harbour."
    chunk = Chunk(id=chunk_id(article, 0), article_id=article, index=0, text=text,
                  header=article, start=0, end=len(text))
    meta = ChunkMeta(article_id=article, chunk_index=0, chunk_count=1, title=article,
                     content_hash="h", text_hash=f"t{n}")
    store.upsert([chunk], np.ones((1, 4), dtype=np.float32), [meta])
    return chunk.id


def test_every_write_moves_the_position_and_names_its_chunks(store_mode: str) -> None:
    store = Components(load_settings()).store
    start = store.version()
    first, second = write(store, 1), write(store, 2)
    store.delete_articles(["story-1"])
    after = store.version()
    assert (after.store, after.seq) == (start.store, start.seq + 3)
    assert store.changed_ids(start.seq, start.seq + 2) == {first, second}
    assert store.changed_ids(start.seq + 2, after.seq) == {first}
    store.delete_articles(["no-such-article"])  # deletes nothing: no entry
    assert store.version() == after


def test_the_log_is_trimmed_and_an_index_too_far_behind_rebuilds(store_mode: str,
                                                                  tmp_path: Path) -> None:
    store = Components(load_settings(**{"store.change_log_entries": 10})).store
    behind = KeywordIndex(tmp_path / "behind", store)
    behind.current()
    ids = [write(store, n) for n in range(100)]
    near = KeywordIndex(tmp_path / "near", store)
    near.current()
    ids += [write(store, n) for n in range(100, 105)]

    head = store.version().seq
    assert head == 105
    with pytest.raises(ChangeLogGapError):
        store.changed_ids(0, head)  # trimmed at position 100, down to the last 10
    assert store.changed_ids(95, head) == set(ids[95:])

    assert behind.current().ids() == sorted(ids)
    assert behind.last_sync is not None and behind.last_sync.kind == "rebuild"
    assert near.current().ids() == sorted(ids)
    assert near.last_sync is not None
    assert (near.last_sync.kind, near.last_sync.chunks) == ("incremental", 5)


def test_a_writer_killed_between_its_write_and_its_commit_is_committed_by_the_next(
        store_mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Components(load_settings()).store
    index = KeywordIndex(tmp_path / "kw", store)
    write(store, 1)
    index.current()

    class Killed(BaseException):
        pass

    def killed(self: ChromaStore, seq: int) -> None:
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(ChromaStore, "_set_head", killed)
        with pytest.raises(Killed):
            write(store, 2)  # the chunk is in Chroma; its log entry is not committed
    assert index.current().ids() == ["story-1#0"]  # readers see only committed positions

    restarted = Components(load_settings()).store
    with restarted.writing():
        pass  # the next writer commits what the killed one left
    assert index.current().ids() == ["story-1#0", "story-2#0"]
