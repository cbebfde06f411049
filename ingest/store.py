"""ChromaDB adapter: chunk records in, article bookkeeping and similarity search out.

Embeddings are always passed in (Chroma's default embedding function would download a model).
A `stamp` in the collection's metadata changes whenever the collection changes, so readers can
tell that derived indexes (BM25) are stale.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock, Timeout

from ingest.errors import ConfigError, NewsdeskError, StoreBusyError, StoreError
from ingest.records import Chunk, ChunkMeta, SearchFilter

log = logging.getLogger(__name__)

CHROMA_MAX_BATCH = 5461
PAGE = 5000


@dataclass
class StoredArticle:
    """What the store holds for one article id, aggregated over its chunks."""

    article_id: str
    origin: str = ""
    path: str = ""
    text_hash: str = ""
    chunks_by_hash: Counter[str] = field(default_factory=Counter)
    expected_by_hash: dict[str, int] = field(default_factory=dict)

    def is_complete(self, content_hash: str) -> bool:
        """All chunks of exactly this version are present and nothing else is."""
        return (
            set(self.chunks_by_hash) == {content_hash}
            and self.chunks_by_hash[content_hash] == self.expected_by_hash.get(content_hash)
        )


def stored_articles(metas: Iterable[ChunkMeta]) -> dict[str, StoredArticle]:
    """What a store holds per article, from the metadata of all its chunks."""
    stored: dict[str, StoredArticle] = {}
    for meta in metas:
        entry = stored.setdefault(meta.article_id, StoredArticle(meta.article_id))
        entry.chunks_by_hash[meta.content_hash] += 1
        entry.expected_by_hash[meta.content_hash] = meta.chunk_count
        entry.origin = meta.origin or entry.origin
        entry.path = meta.path or entry.path
        entry.text_hash = meta.text_hash or entry.text_hash
    return stored


@dataclass(frozen=True)
class StoredChunk:
    id: str
    text: str
    meta: ChunkMeta

    @classmethod
    def from_chroma(cls, chunk_id: str, text: str | None,
                    meta: dict[str, Any] | None) -> StoredChunk:
        return cls(chunk_id, text or "", ChunkMeta.from_chroma(chunk_id, meta))


def chroma_where(where: SearchFilter | None) -> dict[str, Any] | None:
    """A SearchFilter in Chroma's `where` language (the same rule as SearchFilter.accepts)."""
    if where is None:
        return None
    clauses: list[dict[str, Any]] = []
    if where.sources:
        clauses.append({"source": {"$in": list(where.sources)}})
    if where.since is not None:
        clauses.append({"published": {"$gte": int(where.since.timestamp())}})
    if where.until is not None:
        clauses.append({"published": {"$lte": int(where.until.timestamp())}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class ChromaStore:
    """One Chroma collection. `connect` builds the client; it is called again by `reopen`.

    `writer_lock` is a path for the embedded store: Chroma's embedded mode does not support
    two writing processes, so ingest takes an exclusive lock there (a server needs none).
    """

    def __init__(self, connect: Callable[[], Any], collection: str, model_name: str,
                 location: str, writer_lock: Path | None = None) -> None:
        self._connect = connect
        self.location = location
        self.model_name = model_name
        self.name = collection
        self._writer_lock = writer_lock
        self._own_stamps: set[str] = set()  # versions this process wrote: nothing to reload
        self._open()
        stored_model = (self._collection.metadata or {}).get("embedding_model")
        if stored_model and stored_model != model_name:
            raise ConfigError(
                f"collection {collection!r} was built with embedding model {stored_model!r}, "
                f"not {model_name!r}; use another store.collection or the same model"
            )

    def _open(self) -> None:
        with self._guard(f"open collection {self.name!r}"):
            self._client = self._connect()
            self._collection = self._client.get_or_create_collection(
                self.name,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedding_model": self.model_name, "stamp": uuid.uuid4().hex},
            )
            try:
                self.max_batch = int(self._client.get_max_batch_size())
            except Exception:  # older servers do not report it
                self.max_batch = CHROMA_MAX_BATCH

    def reopen(self) -> None:
        """Reconnect; an embedded reader must, to see vectors another process added (its
        client keeps the vector index it loaded). Closing our client releases its share of
        Chroma's per-path system, which stops once no client in this process uses it."""
        close = getattr(self._client, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):  # a dead server's client may fail to close
                close()
        self._open()

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Chroma and its HTTP client raise many types; callers get one StoreError."""
        try:
            yield
        except NewsdeskError:
            raise
        except Exception as exc:
            raise StoreError(f"cannot {action}: the store at {self.location} failed "
                             f"({type(exc).__name__}: {exc})") from exc

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Exclusive write access: fails at once, naming the holder, if another process has it."""
        if self._writer_lock is None:
            yield
            return
        self._writer_lock.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self._writer_lock))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            holder = _read_holder(self._writer_lock)
            raise StoreBusyError(
                f"another process ({holder}) is writing to {self.location}; wait for it to "
                "finish, or run a Chroma server (store.url) so that several processes can write"
            ) from None
        try:
            _write_holder(self._writer_lock)
            yield
        finally:
            lock.release()

    # -- bookkeeping ------------------------------------------------------------------------

    def stamp(self) -> str:
        with self._guard("read the store's version"):
            collection = self._client.get_collection(self.name, embedding_function=None)
            return str((collection.metadata or {}).get("stamp", ""))

    def bump_stamp(self) -> None:
        with self._guard("mark the store as changed"):
            metadata = dict(self._collection.metadata or {})
            metadata.pop("hnsw:space", None)
            metadata["stamp"] = uuid.uuid4().hex
            metadata["updated_at"] = datetime.now(UTC).isoformat()
            self._own_stamps.add(metadata["stamp"])
            self._collection.modify(metadata=metadata)

    def changed_elsewhere(self, stamp: str) -> bool:
        """Whether `stamp` was set by another process (our own writes are already visible)."""
        return stamp not in self._own_stamps

    def count(self) -> int:
        with self._guard("count chunks"):
            return int(self._collection.count())

    def iter_chunks(self, include_text: bool = True) -> Iterator[StoredChunk]:
        include = ["metadatas", "documents"] if include_text else ["metadatas"]
        offset = 0
        while True:
            with self._guard("read chunks"):
                page = self._collection.get(include=include, limit=PAGE, offset=offset)
            ids = page["ids"]
            if not ids:
                return
            documents = page.get("documents") or [""] * len(ids)
            for chunk_id, text, meta in zip(ids, documents, page["metadatas"], strict=True):
                yield StoredChunk.from_chroma(chunk_id, text, meta)
            offset += len(ids)

    def articles(self) -> dict[str, StoredArticle]:
        return stored_articles(c.meta for c in self.iter_chunks(include_text=False))

    # -- writes -----------------------------------------------------------------------------

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray,
               metas: Sequence[ChunkMeta]) -> None:
        for start in range(0, len(chunks), self.max_batch):
            end = start + self.max_batch
            with self._guard("write chunks"):
                self._collection.upsert(
                    ids=[c.id for c in chunks[start:end]],
                    embeddings=vectors[start:end],
                    documents=[c.text for c in chunks[start:end]],
                    metadatas=[m.to_chroma() for m in metas[start:end]],
                )

    def delete_stale(self, article_id: str, keep_hash: str) -> None:
        """Remove chunks of `article_id` that belong to any other version than `keep_hash`."""
        with self._guard("delete old chunks"):
            self._collection.delete(where={"$and": [{"article_id": article_id},
                                                    {"content_hash": {"$ne": keep_hash}}]})

    def delete_articles(self, article_ids: Sequence[str]) -> None:
        ids = list(article_ids)
        for start in range(0, len(ids), 500):
            with self._guard("delete articles"):
                self._collection.delete(where={"article_id": {"$in": ids[start:start + 500]}})

    # -- reads ------------------------------------------------------------------------------

    def query(self, vector: np.ndarray, k: int, where: SearchFilter | None = None
              ) -> list[tuple[StoredChunk, float]]:
        with self._guard("search"):
            result = self._collection.query(
                query_embeddings=[vector], n_results=k, where=chroma_where(where),
                include=["metadatas", "documents", "distances"],
            )
        return [
            (StoredChunk.from_chroma(chunk_id, text, meta), 1.0 - distance)
            for chunk_id, text, meta, distance in zip(
                result["ids"][0], result["documents"][0], result["metadatas"][0],
                result["distances"][0], strict=True)
        ]

    def get(self, ids: Sequence[str]) -> list[StoredChunk]:
        if not ids:
            return []
        with self._guard("read chunks"):
            page = self._collection.get(ids=list(ids), include=["metadatas", "documents"])
        found = {
            i: StoredChunk.from_chroma(i, d, m)
            for i, d, m in zip(page["ids"], page["documents"], page["metadatas"], strict=True)
        }
        return [found[i] for i in ids if i in found]

    def chunks_of(self, article_ids: Sequence[str]) -> list[StoredChunk]:
        """All chunks of the given articles, in article order then chunk order."""
        if not article_ids:
            return []
        with self._guard("read chunks"):
            page = self._collection.get(where={"article_id": {"$in": list(article_ids)}},
                                        include=["metadatas", "documents"])
        chunks = [StoredChunk.from_chroma(i, d, m)
                  for i, d, m in zip(page["ids"], page["documents"], page["metadatas"],
                                     strict=True)]
        order = {article_id: n for n, article_id in enumerate(article_ids)}
        return sorted(chunks, key=lambda c: (order.get(c.meta.article_id, 0),
                                             c.meta.chunk_index))

    def stats(self) -> dict[str, Any]:
        articles: set[str] = set()
        sources: Counter[str] = Counter()
        dates: list[int] = []
        chunks = 0
        for chunk in self.iter_chunks(include_text=False):
            chunks += 1
            meta = chunk.meta
            if meta.article_id in articles:
                continue
            articles.add(meta.article_id)
            sources[meta.source or "(none)"] += 1
            if meta.published_epoch is not None:
                dates.append(meta.published_epoch)
        return {
            "articles": len(articles),
            "chunks": chunks,
            "sources": dict(sorted(sources.items(), key=lambda kv: (-kv[1], kv[0]))),
            "published_from": _iso(min(dates)) if dates else None,
            "published_to": _iso(max(dates)) if dates else None,
            "store": self.location,
            "collection": self.name,
            "model": self.model_name,
        }


def _read_holder(lock_path: Path) -> str:
    try:
        return lock_path.with_suffix(".holder").read_text().strip() or "unknown process"
    except OSError:
        return "unknown process"


def _write_holder(lock_path: Path) -> None:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    lock_path.with_suffix(".holder").write_text(
        f"pid {os.getpid()} on {socket.gethostname()}, started {started}")


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).date().isoformat()
