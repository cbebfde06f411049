"""ChromaDB adapter: chunk records in, article bookkeeping and similarity search out; every
write logged in Chroma itself, so that any number of writers and readers share nothing else.
A facade over the collaborators beside it in ingest/store/, one job or collection each."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from config.errors import ConfigError
from config.secrets import redact_url_credentials
from ingest.model.records import (
    Chunk,
    ChunkMeta,
    SearchFilter,
    StoredArticle,
    StoredChunk,
    StoreVersion,
    stored_articles,
)
from ingest.model.versions import ArticleVersion
from ingest.store.change_log import ChangeBatch, Cursor, Timing
from ingest.store.change_log_collection import HEAD_KEY, ChangeLogCollection
from ingest.store.chunks import ChunkCollection
from ingest.store.clock import StoreClock
from ingest.store.guard import guarded
from ingest.store.kept_versions import KeptVersions
from ingest.store.leads import LEADS_FILLED, LeadsCollection
from ingest.store.leases import WriteLeases, embedded_writer_lock
from ingest.store.stats import store_stats

CHROMA_MAX_BATCH = 5461  # what a server that does not report its batch size takes


class ChromaStore:
    """One Chroma collection. `connect` builds the client; it is called again by `reopen`.

    `writer_lock` is a path for the embedded store: Chroma's embedded mode does not support
    two writing processes, so ingest takes an exclusive lock there. With a server, any number
    of processes write at once, each holding a lease; `timing` bounds the clocks and delays
    the change log allows for.
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
        self.timing = timing or Timing()
        self._lease_seconds = lease_seconds
        self._clock = StoreClock(lambda: self._client.heartbeat())  # noqa: PLW0108 (late-bound: reopen)
        self._log = ChangeLogCollection(collection, self.location, self._now, self.timing,
                                        change_log_entries)
        self._open()
        stored_model = (self._collection.metadata or {}).get("embedding_model")
        if stored_model and stored_model != model_name:
            raise ConfigError(
                f"collection {collection!r} was built with embedding model {stored_model!r}, "
                f"not {model_name!r}; {_mismatch_hint(stored_model, model_name)}")

    def _open(self) -> None:
        with guarded(self.location, f"open collection {self.name!r}"):
            self._client = self._connect()
            self._collection = self._client.get_or_create_collection(
                self.name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedding_model": self.model_name, HEAD_KEY: 0})
            changes = self._client.get_or_create_collection(
                f"{self.name}-changes", embedding_function=None,
                metadata={"newsdesk": f"change log of {self.name}"})
            versions = self._client.get_or_create_collection(
                f"{self.name}-versions", embedding_function=None,
                metadata={"newsdesk": f"earlier versions of the articles of {self.name}"})
            leads = self._client.get_or_create_collection(
                f"{self.name}-leads", embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"newsdesk": f"first chunks of the articles of {self.name}",
                          LEADS_FILLED: 0})
            try:
                self.max_batch = int(self._client.get_max_batch_size())
            except Exception:  # older servers do not report it
                self.max_batch = CHROMA_MAX_BATCH
            self._chunks = ChunkCollection(self._collection, self.location)
            self._log.attach(self._client, changes)
            self._leases = WriteLeases(changes, self._now, self.location, self._lease_seconds)
            self._versions = KeptVersions(versions, self.location, self._now)
            self._leads = LeadsCollection(leads, self.name, self.location, self.max_batch)
            self._leads.mark_filled_if_new(self._chunks.count)
            self._clock.measure()

    def now(self) -> float:
        """The store's clock, in epoch seconds (ingest.store.clock)."""
        return self._clock.now()

    def _now(self) -> float:  # late-bound: a test may stand another clock in for `now`
        return self.now()

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
    def writing(self, exclusive: bool = False) -> Iterator[None]:
        """Write access. Embedded store: one process at a time (a file lock; fails at once,
        naming the holder). Server: any number of writers at once, each holding a shared
        lease; `exclusive` (regroup) needs no other lease held, and fails at once, naming the
        holder, if one is (as does a shared lease while an exclusive one is held)."""
        access = (self._leases.hold(exclusive) if self._writer_lock is None
                  else embedded_writer_lock(self._writer_lock, self.location))
        with access:
            self._log.commit_abandoned()
            yield
            self._log.trim_quietly(force=True)

    # -- the change log (ingest.store.change_log_collection) --------------------------------
    def version(self) -> StoreVersion:
        """The store's identity and the token of its last finished write, read afresh."""
        return self._log.version()

    def changed_elsewhere(self, version: StoreVersion) -> bool:
        """Whether `version` was committed by another process (our own writes are visible)."""
        return self._log.changed_elsewhere(version)

    def start_cursor(self) -> Cursor:
        """Where a reader about to read every chunk starts following the log."""
        return self.changes_since(Cursor.start(self.now(), self.timing)).cursor

    def changes_since(self, cursor: Cursor) -> ChangeBatch:
        """The chunk ids to re-read to follow the log from `cursor`, and the cursor after.
        Raises ChangeLogGapError if entries the reader needs were trimmed."""
        return self._log.changes_since(cursor)

    def trim(self) -> int:
        """Trim the change log to its newest `change_log_entries`; returns how many went."""
        return self._log.trim()

    # -- chunks: reads (ingest.store.chunks) ------------------------------------------------
    def count(self) -> int:
        return self._chunks.count()

    def iter_chunks(self, include_text: bool = True) -> Iterator[StoredChunk]:
        return self._chunks.iterate(include_text)

    def articles(self) -> dict[str, StoredArticle]:
        return stored_articles(c.meta for c in self.iter_chunks(include_text=False))

    def query(self, vector: np.ndarray, k: int, where: SearchFilter | None = None
              ) -> list[tuple[StoredChunk, float]]:
        return self._chunks.query(vector, k, where)

    def get(self, ids: Sequence[str]) -> list[StoredChunk]:
        return self._chunks.get(ids)

    def chunks_of(self, article_ids: Sequence[str]) -> list[StoredChunk]:
        """All chunks of the given articles, in article order then chunk order."""
        return self._chunks.of_articles(article_ids)

    def leads(self, where: SearchFilter | None = None) -> list[tuple[StoredChunk, np.ndarray]]:
        """Every article's first chunk (of the articles `where` accepts), with its vector."""
        return self._chunks.first_chunks(where)

    def marked_copies_of(self, groups: Sequence[str]) -> list[ChunkMeta]:
        """The first chunk's metadata of every article marked as a copy of these wire story
        groups. A metadata filter that Chroma answers by scanning every chunk: for ingest's
        prune, never for a search (search reads groups from the keyword index)."""
        return self._chunks.marked_copies_of(groups)

    def stats(self) -> dict[str, Any]:
        return {**store_stats(c.meta for c in self.iter_chunks(include_text=False)),
                "store": self.location, "collection": self.name, "model": self.model_name}

    # -- chunks: writes (logged; leads written before their chunks, deleted after) ----------
    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray,
               metas: Sequence[ChunkMeta]) -> None:
        for start in range(0, len(chunks), self.max_batch):
            end = start + self.max_batch
            firsts = [n for n, meta in enumerate(metas[start:end], start) if meta.chunk_index == 0]
            if firsts:
                self._leads.put([chunks[n].id for n in firsts], vectors[firsts],
                                [metas[n].article_id for n in firsts])
            with self._log.change("upsert", [c.id for c in chunks[start:end]]):
                self._chunks.upsert(chunks[start:end], vectors[start:end], metas[start:end])

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
            self._versions.delete_of(batch)

    def _delete_where(self, where: dict[str, Any]) -> None:
        ids = self._chunks.ids_where(where)  # by id: the change log names exactly what went
        if ids:
            with self._log.change("delete", ids):
                self._chunks.delete(ids)
            self._leads.delete(ids)

    def set_copy_of(self, groups: dict[str, str | None]) -> None:
        """Re-write the chunks of these articles as copies of the given wire story (None: a
        story of their own); texts and vectors stay as they are."""
        article_ids = list(groups)
        for start in range(0, len(article_ids), 200):
            stored = self._chunks.with_vectors(article_ids[start:start + 200])
            if not stored:
                continue
            chunks = [Chunk(c.id, c.meta.article_id, c.meta.chunk_index, c.text, c.meta.header,
                            c.meta.start, c.meta.end) for c, _ in stored]
            metas = [replace(c.meta, copy_of=groups[c.meta.article_id]) for c, _ in stored]
            self.upsert(chunks, np.asarray([v for _, v in stored], dtype=np.float32), metas)

    # -- earlier versions (ingest.store.kept_versions) --------------------------------------
    def save_versions(self, versions: Sequence[ArticleVersion], keep: int) -> None:
        """Keep these replaced versions, numbered and stamped; at most `keep` per article."""
        self._versions.save(versions, keep)

    def versions(self, article_ids: Sequence[str], include_text: bool = True
                 ) -> dict[str, list[ArticleVersion]]:
        """Kept earlier versions per article id, oldest first; articles without any left out."""
        return self._versions.of(article_ids, include_text)

    # -- leads: the wire-copy lookup (ingest.store.leads) -----------------------------------
    def nearest_leads(self, vectors: np.ndarray, n: int
                      ) -> list[list[tuple[StoredChunk, float]]]:
        """For each vector, the `n` nearest first chunks (one per article), texts included,
        each with its cosine similarity to the vector (from the same query). A store made
        before the leads collection gets it filled first (once)."""
        if len(vectors) == 0:
            return []
        if not self._leads.checked:
            if not self._leads.is_filled():  # idempotent: two writers doing it is harmless
                self.sync_leads(self.leads())
            self._leads.checked = True
        nearest = self._leads.nearest(vectors, n)
        found = {chunk.id: chunk for chunk in self.get(
            list(dict.fromkeys(i for row in nearest for i, _ in row)))}
        # A lead whose chunk is gone (a writer killed between the two deletes) is skipped.
        return [[(found[i], similarity) for i, similarity in row if i in found]
                for row in nearest]

    def sync_leads(self, leads: Sequence[tuple[StoredChunk, np.ndarray]]) -> None:
        """Make the leads collection hold exactly these first chunks (all of the store's, as
        `leads()` read them): the one-time fill of an older store, and regroup's full read,
        which repairs leads a crash or a writer of an earlier version left missing or stale."""
        keep = {chunk.id for chunk, _ in leads}
        held = self._leads.held()
        self._leads.mend(sorted(held - keep),
                         [(chunk, vector) for chunk, vector in leads if chunk.id not in held])
        self._leads.mark_filled()
        self._leads.checked = True

    def check_leads(self, repair: bool = True) -> tuple[list[str], list[str]]:
        """The first chunks missing from the wire-copy lookup's collection, and the leads there
        whose chunk is gone (a writer of an earlier version, a crash); both made right with
        `repair` (under the writers' shared lease). Reads every first chunk's id."""
        firsts = self._chunks.first_chunk_ids()
        held = self._leads.held()
        missing, stale = sorted(firsts - held), sorted(held - firsts)
        if repair and (missing or stale):
            found = self._chunks.vectors_of(missing)
            with self.writing():
                self._leads.mend(stale, found)
        return missing, stale


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
