"""A full disk mid-ingest and mid-export (fakes that raise ENOSPC at the adapters' seams):
said in one line, exactly what was stored reported, no partial file left, no retry loop."""

from __future__ import annotations

import errno
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from config.errors import DiskFullError, is_disk_full
from config.settings import EmbeddingSettings
from ingest.embed import onnx_embedder as onnx_embedding
from ingest.embed.onnx_embedder import OnnxExport, onnx_query_embedder
from ingest.model.records import Chunk, ChunkMeta
from tests.fakes import MemoryStore
from tests.helpers import write_article
from tests.unit.test_pipeline import TOPICS, ingestor, story


def enospc() -> OSError:
    return OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize(("exc", "full"), [
    (enospc(), True),
    (RuntimeError("Error in compaction: os error 28"), True),
    (Exception("database or disk is full"), True),
    (OSError(errno.EACCES, "Permission denied"), False),
    (ValueError("bad metadata"), False),
])
def test_a_full_disk_is_recognised_however_a_library_words_it(exc: BaseException,
                                                              full: bool) -> None:
    assert is_disk_full(exc) is full
    try:
        raise RuntimeError("wrapped") from exc
    except RuntimeError as wrapped:
        assert is_disk_full(wrapped) is full


class FillsUp(MemoryStore):
    """Writes `room` chunks, then fails as the Chroma adapter does on ENOSPC (part of a batch
    written, as when one upsert is several Chroma calls)."""

    def __init__(self, room: int) -> None:
        super().__init__()
        self.room = room

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray,
               metas: Sequence[ChunkMeta]) -> None:
        fits = max(0, min(len(chunks), self.room))
        if fits:
            super().upsert(chunks[:fits], vectors[:fits], metas[:fits])
            self.room -= fits
        if fits < len(chunks):
            raise DiskFullError("disk full: cannot write chunks in the store at /data "
                                "(OSError: [Errno 28] No space left on device)") from enospc()


def test_a_full_disk_mid_batch_reports_exactly_what_was_stored(tmp_path: Path) -> None:
    corpus = tmp_path / "news"
    for i, topic in enumerate(TOPICS):
        write_article(corpus, f"{i}.txt", f"Story {i}", story(topic, 3))
    store = FillsUp(room=7)
    summary = ingestor(store, write_batch_chunks=1000).ingest([str(corpus)])
    complete = {article_id for article_id, entry in store.articles().items()
                if len(entry.chunks_by_hash) == 1
                and entry.is_complete(next(iter(entry.chunks_by_hash)))}
    assert 0 < len(complete) < len(TOPICS)
    assert summary.added == len(complete)
    [stopped] = [f for f in summary.failed if f.source == "(ingest)"]
    assert stopped.reason.startswith("stopped: disk full")
    not_stored = {f.source for f in summary.failed if f.source != "(ingest)"}
    assert not_stored == {f"{i}.txt" for i in range(len(TOPICS))} - complete
    assert all("disk full" in f.reason for f in summary.failed)
    # With room again, a re-run completes the rest.
    store.room = 10_000
    again = ingestor(store).ingest([str(corpus)])
    assert again.failed == [] and again.unchanged == len(complete)
    assert again.added + again.updated == len(TOPICS) - len(complete)


def test_an_export_that_fills_the_disk_leaves_no_partial_file(tmp_path: Path) -> None:
    export = OnnxExport(tmp_path / "onnx", "some-model")

    def half_written(tmp: Path) -> dict[str, Any]:
        (tmp / "model.onnx").write_bytes(b"\0" * 4096)  # what was written before it filled
        raise enospc()

    with pytest.raises(OSError):
        export.write_whole(half_written)
    assert export.ready() is None
    assert list((tmp_path / "onnx").iterdir()) == []  # neither the export nor its temp folder

    def whole(tmp: Path) -> dict[str, Any]:
        (tmp / "model.onnx").write_bytes(b"onnx")
        return {"max_tokens": 8, "dimension": 4}

    written = export.write_whole(whole)
    assert export.ready() == written


def test_a_failed_export_is_tried_once_a_run_and_says_disk_full(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    tries = tmp_path / "tries"
    child = ("import sys; open(sys.argv[1], 'a').write('x'); "
             "sys.exit('OSError: [Errno 28] No space left on device')")
    monkeypatch.setattr(onnx_embedding, "export_command",
                        lambda cache, settings: [sys.executable, "-c", child, str(tries)])
    monkeypatch.setattr(onnx_embedding, "_FAILED", set())
    settings = EmbeddingSettings(model="some-model")
    assert onnx_query_embedder(settings, tmp_path / "onnx") is None
    assert onnx_query_embedder(settings, tmp_path / "onnx") is None
    assert tries.read_text() == "x"  # the second ask in this run did not export again
    [warning] = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warning.startswith("disk full: cannot export some-model to ONNX")
