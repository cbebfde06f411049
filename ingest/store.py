"""ChromaDB adapter: chunk records in, article bookkeeping and similarity search out.

Embeddings are always passed in (Chroma's default embedding function would download a model).

Every write is recorded in a change log kept in Chroma itself, so that derived indexes (the
keyword index of each bot, on any machine) follow the store by reading only what changed:

- the log is a second collection, `<name>-changes`, one record per write: its position `seq`
  and, as the document, the JSON list of the chunk ids it upserted or deleted;
- the chunk collection's metadata holds `changes`, the last committed position. A write first
  records its entry (position head+1), then changes the chunks, then commits the position:
  a reader that has caught up to position N has seen every chunk write up to N finished;
- an entry past the committed position is what a killed writer left: the next writer
  commits it before its own (`writing`), so its chunks are re-read whatever they became.

Applying an entry means re-reading its chunk ids from the store (present: index them,
absent: delete them), which is idempotent: catching up twice, or from a crash, converges.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock, Timeout

from ingest.errors import (
    ConfigError,
    DiskFullError,
    NewsdeskError,
    StoreBusyError,
    StoreError,
    is_disk_full,
)
from ingest.ids import chunk_id
from ingest.records import Chunk, ChunkMeta, SearchFilter, StoreVersion

log = logging.getLogger(__name__)

CHROMA_MAX_BATCH = 5461
PAGE = 5000
HEAD_KEY = "changes"  # the last committed change-log position, in the collection's metadata


class ChangeLogGapError(StoreError):
    """The change log lacks entries a reader needs (it must re-read the whole store)."""


@dataclass
class StoredArticle:
    """What the store holds for one article id, aggregated over its chunks."""

    article_id: str
    origin: str = ""
    path: str = ""
    text_hash: str = ""
    chunks_by_hash: Counter[str] = field(default_factory=Counter)
    expected_by_hash: dict[str, int] = field(default_factory=dict)
    published: datetime | None = None
    updated: datetime | None = None

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
        entry.published = meta.published or entry.published
        entry.updated = meta.updated or entry.updated
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
        named = list(where.sources)
        clauses.append({"$or": [{"source": {"$in": named}}, {"origin": {"$in": named}}]})
    since, until = where.epoch_bounds()
    if since is not None:
        clauses.append({"published": {"$gte": since}})
    if until is not None:
        clauses.append({"published": {"$lte": until}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class ChromaStore:
    """One Chroma collection. `connect` builds the client; it is called again by `reopen`.

    `writer_lock` is a path for the embedded store: Chroma's embedded mode does not support
    two writing processes, so ingest takes an exclusive lock there (a server needs none).
    """

    def __init__(self, connect: Callable[[], Any], collection: str, model_name: str,
                 location: str, writer_lock: Path | None = None,
                 *, change_log_entries: int) -> None:
        self._connect = connect
        self.location = location
        self.model_name = model_name
        self.name = collection
        self._writer_lock = writer_lock
        self._keep_entries = change_log_entries
        self._own_versions: set[int] = set()  # positions this process wrote: nothing to reload
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
                metadata={"embedding_model": self.model_name, HEAD_KEY: 0},
            )
            self._changes = self._client.get_or_create_collection(
                f"{self.name}-changes", embedding_function=None,
                metadata={"newsdesk": f"change log of {self.name}"},
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
            if is_disk_full(exc):
                raise DiskFullError(f"disk full: cannot {action} in the store at "
                                    f"{self.location} ({type(exc).__name__}: {exc})") from exc
            raise StoreError(f"cannot {action}: the store at {self.location} failed "
                             f"({type(exc).__name__}: {exc})") from exc

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Exclusive write access: fails at once, naming the holder, if another process has it.
        (One writer at a time with a server too: the change log's positions assume it.)"""
        if self._writer_lock is None:
            self._commit_orphans()
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
            self._commit_orphans()
            yield
        finally:
            lock.release()

    # -- the change log ---------------------------------------------------------------------

    def version(self) -> StoreVersion:
        """The store's identity and committed change-log position, read afresh."""
        with self._guard("read the store's version"):
            collection = self._client.get_collection(self.name, embedding_function=None)
            return StoreVersion(str(collection.id),
                                int((collection.metadata or {}).get(HEAD_KEY, 0)))

    def changed_elsewhere(self, version: StoreVersion) -> bool:
        """Whether `version` was committed by another process (our own writes are visible)."""
        return version.seq != 0 and version.seq not in self._own_versions

    def changed_ids(self, after: int, upto: int) -> set[str]:
        """The chunk ids written (upserted or deleted) by log entries after..upto."""
        ids: set[str] = set()
        entries = 0
        where = {"$and": [{"seq": {"$gt": after}}, {"seq": {"$lte": upto}}]}
        offset = 0
        while True:
            with self._guard("read the change log"):
                page = self._changes.get(where=where, include=["documents"], limit=PAGE,
                                         offset=offset)
            if not page["ids"]:
                break
            for document in page["documents"] or []:
                ids.update(json.loads(document or "[]"))
            entries += len(page["ids"])
            offset += len(page["ids"])
        if entries != upto - after:
            raise ChangeLogGapError(f"the change log holds {entries} of the {upto - after} entries "
                               f"after position {after}")
        return ids

    def _head(self) -> int:
        return self.version().seq

    def _set_head(self, seq: int) -> None:
        with self._guard("commit a change"):
            collection = self._client.get_collection(self.name, embedding_function=None)
            metadata = dict(collection.metadata or {})
            metadata.pop("hnsw:space", None)  # set at creation; modify may not repeat it
            metadata[HEAD_KEY] = seq
            metadata["updated_at"] = datetime.now(UTC).isoformat()
            collection.modify(metadata=metadata)
            self._own_versions.add(seq)

    def _commit_orphans(self) -> None:
        """Commit log entries a killed writer recorded but never committed: their chunks
        may have been written, so readers must re-read them."""
        head = self._head()
        with self._guard("read the change log"):
            orphans = self._changes.get(where={"seq": {"$gt": head}}, include=["metadatas"])
        positions = [int(m["seq"]) for m in orphans["metadatas"] or [] if m]
        if positions:
            log.info("committing %d change-log entries left by an interrupted run",
                     len(positions))
            self._set_head(max(positions))

    @contextmanager
    def _change(self, op: str, ids: Sequence[str]) -> Iterator[None]:
        """Record a write of `ids` before making it, and commit it after."""
        seq = self._head() + 1
        with self._guard("record a change"):
            self._changes.upsert(  # upsert: an uncommitted entry at this position is replaced
                ids=[f"{seq:012d}"], embeddings=[[1.0]], documents=[json.dumps(list(ids))],
                metadatas=[{"seq": seq, "op": op, "count": len(ids)}],
            )
        yield
        self._set_head(seq)
        if seq % 100 == 0 and seq > self._keep_entries:
            # Bounded: a reader further behind than this finds a gap and rebuilds.
            with self._guard("trim the change log"):
                self._changes.delete(where={"seq": {"$lte": seq - self._keep_entries}})

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
            for stored_id, text, meta in zip(ids, documents, page["metadatas"], strict=True):
                yield StoredChunk.from_chroma(stored_id, text, meta)
            offset += len(ids)

    def articles(self) -> dict[str, StoredArticle]:
        return stored_articles(c.meta for c in self.iter_chunks(include_text=False))

    # -- writes -----------------------------------------------------------------------------

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray,
               metas: Sequence[ChunkMeta]) -> None:
        for start in range(0, len(chunks), self.max_batch):
            end = start + self.max_batch
            ids = [c.id for c in chunks[start:end]]
            with self._change("upsert", ids), self._guard("write chunks"):
                self._collection.upsert(
                    ids=ids,
                    embeddings=vectors[start:end],
                    documents=[c.text for c in chunks[start:end]],
                    metadatas=[m.to_chroma() for m in metas[start:end]],
                )

    def delete_stale(self, article_id: str, keep_hash: str) -> None:
        """Remove chunks of `article_id` that belong to any other version than `keep_hash`."""
        self._delete_where({"$and": [{"article_id": article_id},
                                     {"content_hash": {"$ne": keep_hash}}]})

    def delete_articles(self, article_ids: Sequence[str]) -> None:
        ids = list(article_ids)
        for start in range(0, len(ids), 500):
            self._delete_where({"article_id": {"$in": ids[start:start + 500]}})

    def _delete_where(self, where: dict[str, Any]) -> None:
        # By id, so that the change log names exactly the chunks that went.
        with self._guard("find chunks to delete"):
            ids = self._collection.get(where=where, include=[])["ids"]
        if ids:
            with self._change("delete", ids), self._guard("delete chunks"):
                self._collection.delete(ids=ids)

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

    def nearest_leads(self, vectors: np.ndarray, n: int) -> list[list[StoredChunk]]:
        """For each vector, the `n` nearest first chunks (one per article), texts included."""
        if len(vectors) == 0:
            return []
        with self._guard("search"):
            if self._collection.count() == 0:
                return [[] for _ in range(len(vectors))]
            result = self._collection.query(query_embeddings=list(vectors), n_results=n,
                                            where={"chunk_index": 0},
                                            include=["metadatas", "documents"])
        return [[StoredChunk.from_chroma(i, d, m) for i, d, m in zip(ids, docs, metas,
                                                                     strict=True)]
                for ids, docs, metas in zip(result["ids"], result["documents"],
                                            result["metadatas"], strict=True)]

    def leads(self) -> list[tuple[StoredChunk, np.ndarray]]:
        """Every article's first chunk, with its vector."""
        leads: list[tuple[StoredChunk, np.ndarray]] = []
        offset = 0
        while True:
            with self._guard("read chunks"):
                page = self._collection.get(where={"chunk_index": 0}, limit=PAGE, offset=offset,
                                            include=["metadatas", "documents", "embeddings"])
            if not page["ids"]:
                return leads
            leads.extend(
                (StoredChunk.from_chroma(i, d, m), np.asarray(e, dtype=np.float32))
                for i, d, m, e in zip(page["ids"], page["documents"], page["metadatas"],
                                      page["embeddings"], strict=True))
            offset += len(page["ids"])

    def set_copy_of(self, groups: dict[str, str | None]) -> None:
        """Re-write the chunks of these articles as copies of the given wire story (None: a
        story of their own); texts and vectors stay as they are."""
        article_ids = list(groups)
        for start in range(0, len(article_ids), 200):
            batch = article_ids[start:start + 200]
            with self._guard("read chunks"):
                page = self._collection.get(where={"article_id": {"$in": batch}},
                                            include=["metadatas", "documents", "embeddings"])
            stored = [StoredChunk.from_chroma(i, d, m)
                      for i, d, m in zip(page["ids"], page["documents"], page["metadatas"],
                                         strict=True)]
            if not stored:
                continue
            chunks = [Chunk(c.id, c.meta.article_id, c.meta.chunk_index, c.text, c.meta.header,
                            c.meta.start, c.meta.end) for c in stored]
            metas = [replace(c.meta, copy_of=groups[c.meta.article_id]) for c in stored]
            self.upsert(chunks, np.asarray(page["embeddings"], dtype=np.float32), metas)

    def copies_of(self, groups: Sequence[str]) -> list[ChunkMeta]:
        """The first chunk's metadata of every article in these wire story groups (the group's
        first copy and the articles marked as copies of it)."""
        if not groups:
            return []
        # Two cheap reads rather than one filter on chunk_index and article_id, which scans
        # every chunk (8 ms against 1 ms on the BBC store): the few marked copies, then the
        # first copies by id.
        with self._guard("read chunks"):
            page = self._collection.get(where={"copy_of": {"$in": list(groups)}},
                                        include=["metadatas"])
        copies = [ChunkMeta.from_chroma(i, m)
                  for i, m in zip(page["ids"], page["metadatas"], strict=True)]
        copies = [meta for meta in copies if meta.chunk_index == 0]
        if not copies:
            return []
        firsts = self.get([chunk_id(group, 0) for group in dict.fromkeys(
            meta.group for meta in copies)])
        return [*(chunk.meta for chunk in firsts), *copies]

    def stats(self) -> dict[str, Any]:
        articles: set[str] = set()
        sources: Counter[str] = Counter()
        dates: list[int] = []
        copies = 0
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
            copies += meta.copy_of is not None
        return {
            "articles": len(articles),
            "dated_articles": len(dates),
            "wire_copies": copies,
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
