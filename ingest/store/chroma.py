"""ChromaDB adapter: chunk records in, article bookkeeping and similarity search out.

Embeddings are always passed in (Chroma's default embedding function would download a model).

Every write is recorded in a change log kept in Chroma itself, so that derived indexes (the
keyword index of each bot, on any machine) follow the store by reading only what changed. Any
number of processes, on any machines, may write at once (server mode); they share nothing but
the Chroma server.

What this relies on from Chroma (1.5, checked in its source and by tests/integration/
test_change_log.py): a write (add, update, delete, collection modify) that has returned is
seen by every later read on that server (the single-node server applies its log to the SQLite
segment before answering a write); float metadata keeps double precision and `$gte`/`$lt`
filters on it; `update` merges metadata keys; `heartbeat` answers the server's clock.
What it does not offer, so what this does not rely on: no conditional write (an `add` of an
id that exists is silently ignored, so positions cannot be claimed), no transactions across
records or collections, and `modify` of collection metadata replaces it whole (last writer
wins).

- The log is a second collection, `<name>-changes`: one record per write, keyed by a fresh
  uuid (so no writer ever overwrites another's entry), holding the chunk ids as its document
  and `ts` (when it was recorded, on the store's clock: each process measures its offset from
  the server's heartbeat), `done`, `op`, `writer`.
- A write records its entry (`done` false) before changing the chunks, and marks it `done`
  after; each time it then sets the collection's `changes` metadata to a fresh token, so that
  a reader knows with one small read whether the log moved since it last looked.
- Readers follow the log with ingest.store.change_log: they list the entries of a bounded window
  again at each catch-up (entries can land out of order) and re-read the chunks of those not
  yet applied. Applying an entry re-reads its chunks from the store (present: index them,
  absent: delete them), so applying twice, or from a crash, converges.
- A killed writer leaves an entry that never gets `done`: readers apply it again until it is
  `[store] change_log_abandon_after` seconds old, by which time whatever it wrote has landed.
  A writer whose own write took more than half that long records a fresh `done` entry after
  it, so a slow write is never mistaken for a dead one.
- Trimming keeps the newest `change_log_entries` entries (never the last few minutes'): it
  first records a `trimmed_before` mark, then deletes; a reader whose window reaches below a
  mark lost entries and rebuilds.
- Most writes need no exclusion: they name the chunks they touch and readers re-read them.
  Regrouping wire copies rewrites many articles from one read of the whole store, so it takes
  an exclusive lease (a record in the log collection with an expiry, renewed while it runs);
  ordinary writers hold a shared one. Each side records its lease first and then looks for
  the other's, so two of them can never both go ahead; the one that finds a conflicting lease
  withdraws and fails, naming its holder.
- A store written before this (an integer position in `changes`, entries keyed by position)
  keeps working: its version reads as that position, the first write replaces it with a
  token, and its old entries are trimmed with the rest. Keyword indexes made before it are
  rebuilt once (their format changed).
- Earlier versions of an article (kept when a re-ingest changes its text; ingest/model/versions.py)
  live in a third collection, `<name>-versions`: one record per version, keyed
  `<article id>@v<n>`, its text as the document and a one-number dummy vector. That
  collection is never queried by similarity, counted in stats, listed in the change log or
  read by the keyword index, so an old version can never be found by a search; it is read
  by article id only (`versions`), and an article's versions go when the article does.
- Every article's first chunk vector is also kept in a fourth collection, `<name>-leads`
  (keyed by the chunk's id; no text, no metadata beyond the article id), so that the
  wire-copy lookup of ingest (`nearest_leads`) is one unfiltered HNSW query over the
  articles rather than a query filtered on `chunk_index = 0` over every chunk, which Chroma
  answers in time linear in the store (36 s per 200 articles at 1M chunks, bench/scale.py).
  Leads are written before their chunks and deleted after them, so a crash in between leaves
  at most a lead whose chunk is gone (skipped when read: the chunk is fetched by id), never a
  chunk without its lead. A store made before this gets its leads filled in once, by the
  first writer that looks for wire copies (marked `filled` in the collection's metadata).
  Like the versions, leads are never searched, counted, logged or indexed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock, Timeout

from config.errors import (
    ConfigError,
    DiskFullError,
    NewsdeskError,
    StoreBusyError,
    StoreError,
    is_disk_full,
)
from config.secrets import redact_url_credentials
from ingest.model.records import Chunk, ChunkMeta, SearchFilter, StoreVersion
from ingest.model.versions import ArticleVersion, is_new_version, over_bound
from ingest.store.change_log import Cursor, EntryHead, Timing, advance

log = logging.getLogger(__name__)
# Set in the leads collection's metadata once it holds every stored article's first chunk.
LEADS_FILLED = "filled"

CHROMA_MAX_BATCH = 5461
PAGE = 5000
CLOCK_CHECK = 600.0  # seconds between measurements of this machine's clock against the store's
HEAD_KEY = "changes"  # the token of the last finished write, in the collection's metadata


class ChangeLogGapError(StoreError):
    """The change log lacks entries a reader needs (it must re-read the whole store)."""


@dataclass(frozen=True)
class ChangeBatch:
    """What a reader must re-read to follow the log (chunk ids), and its cursor after."""

    ids: set[str]
    cursor: Cursor


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
    source: str = ""  # the outlet: two outlets' identical texts are copies, not duplicates

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
        entry.source = meta.source or entry.source
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
    two writing processes, so ingest takes an exclusive lock there. With a server, any number
    of processes write at once (see the module docstring); `timing` bounds the clocks and
    delays the change log allows for.
    """

    def __init__(self, connect: Callable[[], Any], collection: str, model_name: str,
                 location: str, writer_lock: Path | None = None,
                 *, change_log_entries: int, timing: Timing | None = None,
                 lease_seconds: float = 300.0) -> None:
        self._connect = connect
        # Shown in stats and errors: a server URL's credentials (user:pass@, ?token=) never are.
        self.location = redact_url_credentials(location)
        self.model_name = model_name
        self.name = collection
        self._writer_lock = writer_lock
        self._keep_entries = change_log_entries
        self.timing = timing or Timing()
        self._lease_seconds = lease_seconds
        self._own_heads: set[str] = set()  # tokens this process committed: nothing to reload
        self._writes = 0
        self._clock_offset = 0.0
        self._clock_read = time.monotonic()
        self._open()
        stored_model = (self._collection.metadata or {}).get("embedding_model")
        if stored_model and stored_model != model_name:
            raise ConfigError(
                f"collection {collection!r} was built with embedding model {stored_model!r}, "
                f"not {model_name!r}; {_mismatch_hint(stored_model, model_name)}")

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
            self._versions = self._client.get_or_create_collection(
                f"{self.name}-versions", embedding_function=None,
                metadata={"newsdesk": f"earlier versions of the articles of {self.name}"},
            )
            self._leads = self._client.get_or_create_collection(
                f"{self.name}-leads", embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"newsdesk": f"first chunks of the articles of {self.name}",
                          LEADS_FILLED: 0},
            )
            self._leads_checked = False
            if not (self._leads.metadata or {}).get(LEADS_FILLED) and self._collection.count() == 0:
                self._mark_leads_filled()  # a new store: its writers keep its leads from the start
            try:
                self.max_batch = int(self._client.get_max_batch_size())
            except Exception:  # older servers do not report it
                self.max_batch = CHROMA_MAX_BATCH
            self._clock_offset = self._measure_clock()

    def _measure_clock(self) -> float:
        """Seconds to add to this machine's clock to read the server's (the last measurement
        if it cannot tell): every process stamps log entries on one clock, whatever its
        machine's says."""
        self._clock_read = time.monotonic()
        try:
            before = time.time()
            server = int(self._client.heartbeat()) / 1e9
            after = time.time()
        except Exception:
            return self._clock_offset
        offset = server - (before + after) / 2
        if abs(offset) > 1.0:
            log.info("this machine's clock is %.1f s off the store's; using the store's", offset)
        return offset

    def now(self) -> float:
        """The store's clock, in epoch seconds (the offset is measured again every 10 minutes:
        this machine's clock may be stepped meanwhile)."""
        if time.monotonic() - self._clock_read > CLOCK_CHECK:
            self._clock_offset = self._measure_clock()
        return time.time() + self._clock_offset

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
    def writing(self, exclusive: bool = False) -> Iterator[None]:
        """Write access. Embedded store: one process at a time (a file lock; fails at once,
        naming the holder). Server: any number of writers at once, each holding a shared
        lease; `exclusive` (regroup) needs no other lease held, and fails at once, naming the
        holder, if one is (as does a shared lease while an exclusive one is held)."""
        if self._writer_lock is None:
            with self._lease(exclusive):
                self._commit_abandoned()
                yield
                self._trim_quietly(force=True)
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
            self._commit_abandoned()
            yield
            self._trim_quietly(force=True)
        finally:
            lock.release()

    # -- leases -----------------------------------------------------------------------------

    @contextmanager
    def _lease(self, exclusive: bool) -> Iterator[None]:
        kind = "exclusive" if exclusive else "shared"
        lease_id = f"lease-{uuid.uuid4().hex}"
        holder = _holder()

        def record() -> None:
            with self._guard("record a write lease"):
                self._changes.upsert(ids=[lease_id], embeddings=[[1.0]], documents=[holder],
                                     metadatas=[{"lease": kind, "holder": holder,
                                                 "expires": self.now() + self._lease_seconds}])

        record()
        try:
            with self._guard("read the write leases"):
                found = self._changes.get(where={"expires": {"$gt": self.now()}},
                                          include=["metadatas"])
            others = [m for i, m in zip(found["ids"], found["metadatas"] or [], strict=True)
                      if i != lease_id and m and (exclusive or m.get("lease") == "exclusive")]
            if others:
                other = others[0]
                until = datetime.fromtimestamp(float(other["expires"]), tz=UTC)
                what = ("regrouping" if other.get("lease") == "exclusive" else "writing")
                raise StoreBusyError(
                    f"{other.get('holder', 'another process')} is {what} in {self.location} "
                    f"(its lease runs to {until.isoformat(timespec='seconds')} unless renewed); "
                    + ("regroup needs the store to itself: run it when no ingest is running"
                       if exclusive else "wait for the regroup to finish"))
        except BaseException:
            self._drop_lease(lease_id)
            raise
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(self._lease_seconds / 5):
                try:
                    record()
                except StoreError as exc:
                    log.warning("could not renew the write lease: %s", exc)

        renewer = threading.Thread(target=renew, name="newsdesk-lease", daemon=True)
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join()
            self._drop_lease(lease_id)

    def _drop_lease(self, lease_id: str) -> None:
        with contextlib.suppress(StoreError), self._guard("drop a write lease"):
            self._changes.delete(ids=[lease_id])

    # -- the change log ---------------------------------------------------------------------

    def version(self) -> StoreVersion:
        """The store's identity and the token of the last finished write, read afresh (a
        store from before concurrent writers: its integer position, as text)."""
        with self._guard("read the store's version"):
            collection = self._client.get_collection(self.name, embedding_function=None)
            return StoreVersion(str(collection.id),
                                str((collection.metadata or {}).get(HEAD_KEY, 0)))

    def changed_elsewhere(self, version: StoreVersion) -> bool:
        """Whether `version` was committed by another process (our own writes are visible)."""
        return version.head != "0" and version.head not in self._own_heads

    def start_cursor(self) -> Cursor:
        """Where a reader that is about to read every chunk starts following the log: past
        every entry whose chunks are written, before every entry that may still change."""
        return self.changes_since(Cursor.start(self.now(), self.timing)).cursor

    def changes_since(self, cursor: Cursor) -> ChangeBatch:
        """The chunk ids to re-read to follow the log from `cursor`, and the cursor after.
        Raises ChangeLogGapError if entries the reader needs were trimmed."""
        heads: list[EntryHead] = []
        offset = 0
        while True:
            with self._guard("read the change log"):
                page = self._changes.get(where={"ts": {"$gte": cursor.low}},
                                         include=["metadatas"], limit=PAGE, offset=offset)
            if not page["ids"]:
                break
            heads.extend(EntryHead(i, float(m["ts"]), bool(m.get("done")))
                         for i, m in zip(page["ids"], page["metadatas"] or [], strict=True)
                         if m and "ts" in m)
            offset += len(page["ids"])
        apply, after = advance(cursor, heads, self.now(), self.timing)
        ids: set[str] = set()
        for start in range(0, len(apply), 500):
            with self._guard("read the change log"):
                page = self._changes.get(ids=apply[start:start + 500], include=["documents"])
            for document in page["documents"] or []:
                ids.update(json.loads(document or "[]"))
        # Read after the listing: a trim that removed entries from it marked them first.
        with self._guard("read the change log"):
            trims = self._changes.get(where={"trimmed_before": {"$gt": cursor.low}},
                                      include=["metadatas"])
        if trims["ids"]:
            raise ChangeLogGapError("the change log was trimmed past this reader's position")
        return ChangeBatch(ids, after)

    def _set_head(self) -> None:
        """Tell readers a write finished: a fresh token in the collection's metadata."""
        token = f"t{uuid.uuid4().hex}"
        with self._guard("commit a change"):
            collection = self._client.get_collection(self.name, embedding_function=None)
            metadata = dict(collection.metadata or {})
            metadata.pop("hnsw:space", None)  # set at creation; modify may not repeat it
            metadata[HEAD_KEY] = token
            metadata["updated_at"] = datetime.now(UTC).isoformat()
            collection.modify(metadata=metadata)
            self._own_heads.add(token)

    def _commit_abandoned(self) -> None:
        """Mark done the entries of writers that died mid-write long enough ago: readers
        apply them anyway, but a new token tells idle readers to look now."""
        with self._guard("read the change log"):
            found = self._changes.get(
                where={"$and": [{"done": False},
                                {"ts": {"$lt": self.now() - self.timing.abandon_after}}]},
                include=[])
        if found["ids"]:
            log.info("committing %d change-log entries left by an interrupted run",
                     len(found["ids"]))
            with self._guard("commit a change"):
                self._changes.update(ids=found["ids"],
                                     metadatas=[{"done": True}] * len(found["ids"]))
            self._set_head()

    def _record(self, op: str, ids: Sequence[str], done: bool) -> tuple[str, float]:
        entry = uuid.uuid4().hex
        ts = self.now()
        with self._guard("record a change"):
            self._changes.add(
                ids=[entry], embeddings=[[1.0]], documents=[json.dumps(list(ids))],
                metadatas=[{"ts": ts, "done": done, "op": op, "count": len(ids),
                            "writer": _holder()}],
            )
        return entry, ts

    @contextmanager
    def _change(self, op: str, ids: Sequence[str]) -> Iterator[None]:
        """Record a write of `ids` before making it, and mark it done after."""
        entry, ts = self._record(op, ids, done=False)
        entries = [entry]
        if self.now() - ts > self.timing.window / 2:
            # Landed late: readers may have listed past its time. One stamped now is in reach.
            entries.append(self._record(op, ids, done=False)[0])
        # Readers look now, and keep looking until it is done: if this process dies here,
        # they still apply whatever of the write lands.
        self._set_head()
        yield
        if self.now() - ts > self.timing.abandon_after / 2:
            # A write this slow may have been taken for a dead one: say so afresh.
            entries.append(self._record(op, ids, done=True)[0])
        self._finish(entries)
        self._writes += 1
        self._trim_quietly(force=False)

    def _finish(self, entries: list[str]) -> None:
        with self._guard("commit a change"):
            self._changes.update(ids=entries, metadatas=[{"done": True}] * len(entries))
        self._set_head()

    def _trim_quietly(self, force: bool) -> None:
        """Trimming is housekeeping: a store that went away meanwhile is the writes' to report."""
        try:
            self._trim_if_due(force)
        except StoreError as exc:
            log.warning("could not trim the change log: %s", exc)

    def _trim_if_due(self, force: bool = False) -> None:
        if not force and self._writes % 100:
            return
        with self._guard("count the change log"):
            if self._changes.count() <= self._keep_entries + (0 if force else 50):
                return
        self.trim()

    def trim(self) -> int:
        """Delete all but the newest `change_log_entries` entries (keeping those of the last
        window + abandon_after, which current readers may still list); returns how many went."""
        heads: list[float] = []
        offset = 0
        while True:
            with self._guard("read the change log"):
                page = self._changes.get(where={"ts": {"$gte": 0.0}}, include=["metadatas"],
                                         limit=PAGE, offset=offset)
            if not page["ids"]:
                break
            heads.extend(float(m["ts"]) for m in page["metadatas"] or [] if m and "ts" in m)
            offset += len(page["ids"])
        with self._guard("read the change log"):
            legacy = self._changes.get(where={"seq": {"$gte": 0}}, include=[])["ids"]
        if len(heads) <= self._keep_entries and not legacy:
            return 0
        heads.sort(reverse=True)
        settled = self.now() - 2 * (self.timing.window + self.timing.abandon_after)
        cutoff = settled
        if len(heads) > self._keep_entries:
            cutoff = min(cutoff, heads[self._keep_entries - 1])
        doomed = sum(ts < cutoff for ts in heads)
        if not doomed and not legacy:
            return 0
        with self._guard("trim the change log"):
            # Mark first: a reader that lists while we delete sees the mark afterwards.
            self._changes.add(ids=[f"trim-{uuid.uuid4().hex}"], embeddings=[[1.0]],
                              metadatas=[{"trimmed_before": cutoff}])
            if doomed:
                self._changes.delete(where={"ts": {"$lt": cutoff}})
            if legacy:  # a store's log from before concurrent writers
                self._changes.delete(ids=legacy)
            self._changes.delete(where={"trimmed_before": {"$lt": cutoff}})
        log.info("trimmed %d change-log entries", doomed + len(legacy))
        return doomed + len(legacy)

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
            firsts = [n for n, meta in enumerate(metas[start:end], start) if meta.chunk_index == 0]
            if firsts:  # before the chunks: see the module docstring
                with self._guard("write first chunks"):
                    self._leads.upsert(ids=[chunks[n].id for n in firsts],
                                       embeddings=vectors[firsts],
                                       metadatas=[{"article_id": metas[n].article_id}
                                                  for n in firsts])
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
        """Remove these articles' chunks, then their kept earlier versions."""
        ids = list(article_ids)
        for start in range(0, len(ids), 500):
            batch = ids[start:start + 500]
            self._delete_where({"article_id": {"$in": batch}})
            with self._guard("delete earlier versions"):
                self._versions.delete(where={"article_id": {"$in": batch}})

    # -- earlier versions (never searched: see the module docstring) -------------------------

    def save_versions(self, versions: Sequence[ArticleVersion], keep: int) -> None:
        """Keep these replaced versions (at most one per article), each numbered after its
        article's newest kept version and stamped `seen` now (store clock); one that is
        already the newest kept version is not kept twice. Then at most `keep` versions
        per article remain: the oldest go."""
        if not versions or keep <= 0:
            return
        kept = self.versions([v.article_id for v in versions], include_text=False)
        seen = datetime.fromtimestamp(self.now(), tz=UTC)
        ids: list[str] = []
        documents: list[str] = []
        metadatas: list[dict[str, Any]] = []
        for version in versions:
            earlier = kept.get(version.article_id, [])
            if not is_new_version(version, earlier):
                continue
            number = max((v.number for v in earlier), default=0) + 1
            new = replace(version, number=number, seen=seen)
            kept.setdefault(version.article_id, []).append(new)
            ids.append(_version_id(new))
            documents.append(new.text)
            metadatas.append(_version_meta(new))
        if ids:
            with self._guard("keep earlier versions"):
                self._versions.add(ids=ids, embeddings=[[1.0]] * len(ids),
                                   documents=documents, metadatas=metadatas)
        doomed = [_version_id(v) for article in kept.values() for v in over_bound(article, keep)]
        if doomed:
            with self._guard("drop old versions"):
                self._versions.delete(ids=doomed)

    def versions(self, article_ids: Sequence[str], include_text: bool = True
                 ) -> dict[str, list[ArticleVersion]]:
        """The kept earlier versions of these articles, oldest first (texts empty without
        `include_text`); an article without any is left out."""
        found: dict[str, list[ArticleVersion]] = {}
        ids = list(dict.fromkeys(article_ids))
        include = ["metadatas", "documents"] if include_text else ["metadatas"]
        for start in range(0, len(ids), 500):
            with self._guard("read earlier versions"):
                page = self._versions.get(where={"article_id": {"$in": ids[start:start + 500]}},
                                          include=include)
            documents = page.get("documents") or [""] * len(page["ids"])
            for document, meta in zip(documents, page["metadatas"] or [], strict=True):
                version = _version_of(meta or {}, document or "")
                found.setdefault(version.article_id, []).append(version)
        return {article_id: sorted(kept, key=lambda v: v.number)
                for article_id, kept in found.items()}

    def _delete_where(self, where: dict[str, Any]) -> None:
        # By id, so that the change log names exactly the chunks that went.
        with self._guard("find chunks to delete"):
            ids = self._collection.get(where=where, include=[])["ids"]
        if ids:
            with self._change("delete", ids), self._guard("delete chunks"):
                self._collection.delete(ids=ids)
            with self._guard("delete first chunks"):  # after the chunks: see the docstring
                self._leads.delete(ids=ids)

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

    def nearest_leads(self, vectors: np.ndarray, n: int
                      ) -> list[list[tuple[StoredChunk, float]]]:
        """For each vector, the `n` nearest first chunks (one per article), texts included,
        each with its cosine similarity to the vector (from the same query). A store made
        before the leads collection gets it filled first (once)."""
        if len(vectors) == 0:
            return []
        self._fill_leads()
        with self._guard("search"):
            if self._leads.count() == 0:
                return [[] for _ in range(len(vectors))]
            result = self._leads.query(query_embeddings=list(vectors), n_results=n,
                                       include=["distances"])
        found = {chunk.id: chunk for chunk in self.get(
            list(dict.fromkeys(i for ids in result["ids"] for i in ids)))}
        # A lead whose chunk is gone (a writer killed between the two deletes) is skipped.
        return [[(found[i], 1.0 - distance)
                 for i, distance in zip(ids, distances, strict=True) if i in found]
                for ids, distances in zip(result["ids"], result["distances"], strict=True)]

    def sync_leads(self, leads: Sequence[tuple[StoredChunk, np.ndarray]]) -> None:
        """Make the leads collection hold exactly these first chunks (all of the store's, as
        `leads()` read them): the one-time fill of an older store, and regroup's full read,
        which repairs leads a crash or a writer of an earlier version left missing or stale."""
        keep = {chunk.id for chunk, _ in leads}
        with self._guard("read first chunks"):
            held = set(self._leads.get(include=[])["ids"])
        self._mend_leads(sorted(held - keep),
                         [(chunk, vector) for chunk, vector in leads if chunk.id not in held])
        self._mark_leads_filled()
        self._leads_checked = True

    def check_leads(self, repair: bool = True) -> tuple[list[str], list[str]]:
        """The first chunks missing from the wire-copy lookup's collection, and the leads there
        whose chunk is gone (a writer of an earlier version, a crash); both made right with
        `repair` (under the writers' shared lease). Reads every first chunk's id."""
        firsts: set[str] = set()
        offset = 0
        while True:
            with self._guard("read first chunks"):
                page = self._collection.get(where={"chunk_index": 0}, include=[],
                                            limit=PAGE, offset=offset)
            if not page["ids"]:
                break
            firsts.update(page["ids"])
            offset += len(page["ids"])
        with self._guard("read first chunks"):
            held = set(self._leads.get(include=[])["ids"])
        missing, stale = sorted(firsts - held), sorted(held - firsts)
        if repair and (missing or stale):
            found: list[tuple[StoredChunk, np.ndarray]] = []
            for start in range(0, len(missing), PAGE):
                with self._guard("read first chunks"):
                    page = self._collection.get(ids=missing[start:start + PAGE],
                                                include=["metadatas", "embeddings"])
                found += [(StoredChunk.from_chroma(i, "", m), np.asarray(e, dtype=np.float32))
                          for i, m, e in zip(page["ids"], page["metadatas"], page["embeddings"],
                                             strict=True)]
            with self.writing():
                self._mend_leads(stale, found)
        return missing, stale

    def _mend_leads(self, stale: Sequence[str],
                    missing: Sequence[tuple[StoredChunk, np.ndarray]]) -> None:
        for start in range(0, len(stale), self.max_batch):
            with self._guard("delete first chunks"):
                self._leads.delete(ids=list(stale[start:start + self.max_batch]))
        for start in range(0, len(missing), self.max_batch):
            batch = missing[start:start + self.max_batch]
            with self._guard("write first chunks"):
                self._leads.upsert(
                    ids=[chunk.id for chunk, _ in batch],
                    embeddings=np.asarray([vector for _, vector in batch]),
                    metadatas=[{"article_id": chunk.meta.article_id} for chunk, _ in batch])
        if stale or missing:
            log.info("wire-copy lookup: %d first chunks added, %d stale ones removed",
                     len(missing), len(stale))

    def _fill_leads(self) -> None:
        """Copy every first chunk's vector into the leads collection, once per store (a store
        made before it existed); idempotent, so two writers doing it at once is harmless."""
        if self._leads_checked:
            return
        with self._guard("read first chunks"):
            filled = (self._leads.metadata or {}).get(LEADS_FILLED)
        if not filled:
            self.sync_leads(self.leads())
        self._leads_checked = True

    def _mark_leads_filled(self) -> None:
        with self._guard("write first chunks"):
            self._leads.modify(metadata={
                "newsdesk": f"first chunks of the articles of {self.name}", LEADS_FILLED: 1})

    def leads(self, where: SearchFilter | None = None) -> list[tuple[StoredChunk, np.ndarray]]:
        """Every article's first chunk (of the articles `where` accepts), with its vector."""
        leads: list[tuple[StoredChunk, np.ndarray]] = []
        offset = 0
        scope = chroma_where(where)
        query = {"chunk_index": 0} if scope is None else {"$and": [{"chunk_index": 0}, scope]}
        while True:
            with self._guard("read chunks"):
                page = self._collection.get(where=query, limit=PAGE, offset=offset,
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

    def marked_copies_of(self, groups: Sequence[str]) -> list[ChunkMeta]:
        """The first chunk's metadata of every article marked as a copy of these wire story
        groups. A metadata filter that Chroma answers by scanning every chunk: for ingest's
        prune, never for a search (search reads groups from the keyword index)."""
        if not groups:
            return []
        with self._guard("read chunks"):
            page = self._collection.get(
                where={"$and": [{"copy_of": {"$in": list(groups)}}, {"chunk_index": 0}]},
                include=["metadatas"])
        return [ChunkMeta.from_chroma(i, m)
                for i, m in zip(page["ids"], page["metadatas"], strict=True)]

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


def _mismatch_hint(stored: str, wanted: str) -> str:
    """What to do when a collection's embedding identity (ingest.embed.embedder.embedding_identity:
    "model" or "model (precision)") is not the configured one."""
    def split(identity: str) -> tuple[str, str]:
        model, _, precision = identity.partition(" (")
        return model, precision.rstrip(")") or "float32"

    (stored_model, stored_precision), (wanted_model, _) = split(stored), split(wanted)
    if stored_model == wanted_model:
        return (f'its vectors are {stored_precision}: set [embedding] precision = '
                f'"{stored_precision}", or use another store.collection')
    return ("use another store.collection, or the model (and [embedding] precision) it was "
            "built with")


def _read_holder(lock_path: Path) -> str:
    try:
        return lock_path.with_suffix(".holder").read_text().strip() or "unknown process"
    except OSError:
        return "unknown process"


def _holder() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}"


def _write_holder(lock_path: Path) -> None:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    lock_path.with_suffix(".holder").write_text(f"{_holder()}, started {started}")


def _version_id(version: ArticleVersion) -> str:
    return f"{version.article_id}@v{version.number}"


def _version_meta(version: ArticleVersion) -> dict[str, Any]:
    """Flat metadata of a kept version; dates as ISO text (with their UTC offsets: they are
    shown, never range-filtered), absent fields left out."""
    values = {"article_id": version.article_id, "version": version.number,
              "title": version.title, "text_hash": version.text_hash,
              "published": version.published.isoformat() if version.published else None,
              "updated": version.updated.isoformat() if version.updated else None,
              "seen": version.seen.isoformat() if version.seen else None,
              "url": version.url, "source": version.source}
    return {key: value for key, value in values.items() if value not in (None, "")}


def _version_of(meta: dict[str, Any], text: str) -> ArticleVersion:
    def when(key: str) -> datetime | None:
        value = meta.get(key)
        return datetime.fromisoformat(value) if isinstance(value, str) else None

    return ArticleVersion(
        article_id=str(meta.get("article_id", "")), title=str(meta.get("title", "")),
        text=text, text_hash=str(meta.get("text_hash", "")), published=when("published"),
        updated=when("updated"), seen=when("seen"), number=int(meta.get("version", 0)),
        url=meta.get("url"), source=meta.get("source"))


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).date().isoformat()
