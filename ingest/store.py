"""ChromaDB adapter: chunk records in, article bookkeeping and similarity search out.

Embeddings are always passed in (Chroma's default embedding function would download a model).
A `stamp` in the collection's metadata changes whenever the collection changes, so readers can
tell that derived indexes (BM25) are stale.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock, Timeout

from ingest.errors import ConfigError, NewsdeskError, StoreBusyError, StoreError
from ingest.records import Article, Chunk

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


@dataclass(frozen=True)
class StoredChunk:
    id: str
    text: str
    metadata: dict[str, Any]


def chunk_metadata(article: Article, chunk: Chunk, stored_hash: str, count: int) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "article_id": article.id,
        "chunk_index": chunk.index,
        "chunk_count": count,
        "start": chunk.start,
        "end": chunk.end,
        "content_hash": stored_hash,
        "text_hash": article.text_hash,
        "title": article.title,
        "header": chunk.header,
        "origin": article.origin,
        "path": article.path,
        "url": article.url,
        "source": article.source,
        "author": article.author,
        "category": article.category,
    }
    if article.published is not None:
        meta["published"] = int(article.published.timestamp())
        meta["published_iso"] = article.published.astimezone(UTC).isoformat()
    # Chroma rejects None values; absent keys simply do not match a filter.
    return {k: v for k, v in meta.items() if v is not None and v != ""}


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
        """Reconnect; an embedded reader must, to see vectors another process added."""
        if self._writer_lock is not None:
            from chromadb.api.shared_system_client import SharedSystemClient

            SharedSystemClient.clear_system_cache()
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
                yield StoredChunk(chunk_id, text or "", dict(meta or {}))
            offset += len(ids)

    def articles(self) -> dict[str, StoredArticle]:
        stored: dict[str, StoredArticle] = {}
        for chunk in self.iter_chunks(include_text=False):
            meta = chunk.metadata
            article_id = str(meta.get("article_id", chunk.id.rsplit("#", 1)[0]))
            entry = stored.setdefault(article_id, StoredArticle(article_id))
            content_hash = str(meta.get("content_hash", ""))
            entry.chunks_by_hash[content_hash] += 1
            entry.expected_by_hash[content_hash] = int(meta.get("chunk_count", -1))
            entry.origin = str(meta.get("origin", entry.origin))
            entry.path = str(meta.get("path", entry.path))
            entry.text_hash = str(meta.get("text_hash", entry.text_hash))
        return stored

    # -- writes -----------------------------------------------------------------------------

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray,
               metadatas: Sequence[dict[str, Any]]) -> None:
        for start in range(0, len(chunks), self.max_batch):
            end = start + self.max_batch
            with self._guard("write chunks"):
                self._collection.upsert(
                    ids=[c.id for c in chunks[start:end]],
                    embeddings=vectors[start:end],
                    documents=[c.text for c in chunks[start:end]],
                    metadatas=list(metadatas[start:end]),
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

    def query(self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
              ) -> list[tuple[StoredChunk, float]]:
        with self._guard("search"):
            result = self._collection.query(
                query_embeddings=[vector], n_results=k, where=where or None,
                include=["metadatas", "documents", "distances"],
            )
        hits: list[tuple[StoredChunk, float]] = []
        for chunk_id, text, meta, distance in zip(
            result["ids"][0], result["documents"][0], result["metadatas"][0],
            result["distances"][0], strict=True,
        ):
            hits.append((StoredChunk(chunk_id, text or "", dict(meta or {})), 1.0 - distance))
        return hits

    def get(self, ids: Sequence[str]) -> list[StoredChunk]:
        if not ids:
            return []
        with self._guard("read chunks"):
            page = self._collection.get(ids=list(ids), include=["metadatas", "documents"])
        found = {
            i: StoredChunk(i, d or "", dict(m or {}))
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
        chunks = [StoredChunk(i, d or "", dict(m or {}))
                  for i, d, m in zip(page["ids"], page["documents"], page["metadatas"],
                                     strict=True)]
        order = {article_id: n for n, article_id in enumerate(article_ids)}
        return sorted(chunks, key=lambda c: (order.get(str(c.metadata.get("article_id")), 0),
                                             int(c.metadata.get("chunk_index", 0))))

    def stats(self) -> dict[str, Any]:
        articles: set[str] = set()
        sources: Counter[str] = Counter()
        dates: list[int] = []
        chunks = 0
        for chunk in self.iter_chunks(include_text=False):
            chunks += 1
            meta = chunk.metadata
            article_id = str(meta.get("article_id"))
            if article_id in articles:
                continue
            articles.add(article_id)
            sources[str(meta.get("source", "(none)"))] += 1
            if "published" in meta:
                dates.append(int(meta["published"]))
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
