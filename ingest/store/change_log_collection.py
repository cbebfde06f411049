"""The change log's writer and reader over Chroma: one entry per write in `<name>-changes`,
the head token in the chunks collection's metadata, and the trim that bounds the log."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any

from config.errors import StoreError
from ingest.model.records import StoreVersion
from ingest.store.change_log import (
    ChangeBatch,
    ChangeLogGapError,
    Cursor,
    EntryHead,
    Timing,
    advance,
)
from ingest.store.chunks import PAGE
from ingest.store.guard import guarded
from ingest.store.leases import this_process

log = logging.getLogger(__name__)

HEAD_KEY = "changes"  # the token of the last finished write, in the collection's metadata


class ChangeLogCollection:
    """The log of the chunks collection `name`. Built once per store and `attach`ed to each
    connection: the heads this process committed and its write count outlive a reopen.
    `now` is the store's clock (epoch seconds), which stamps every entry."""

    def __init__(self, name: str, location: str, now: Callable[[], float], timing: Timing,
                 keep_entries: int) -> None:
        self._name = name
        self._location = location
        self._now = now
        self.timing = timing
        self._keep_entries = keep_entries
        self._own_heads: set[str] = set()  # tokens this process committed: nothing to reload
        self._writes = 0
        self._client: Any = None
        self.changes: Any = None

    def attach(self, client: Any, changes: Any) -> None:
        """Use this connection's client and `<name>-changes` collection from now on."""
        self._client = client
        self.changes = changes

    def _guard(self, action: str) -> AbstractContextManager[None]:
        return guarded(self._location, action)

    # -- readers ----------------------------------------------------------------------------

    def version(self) -> StoreVersion:
        """The store's identity and the token of the last finished write, read afresh (a
        store from before concurrent writers: its integer position, as text)."""
        with self._guard("read the store's version"):
            collection = self._client.get_collection(self._name, embedding_function=None)
            return StoreVersion(str(collection.id),
                                str((collection.metadata or {}).get(HEAD_KEY, 0)))

    def changed_elsewhere(self, version: StoreVersion) -> bool:
        """Whether `version` was committed by another process (our own writes are visible)."""
        return version.head != "0" and version.head not in self._own_heads

    def changes_since(self, cursor: Cursor) -> ChangeBatch:
        """The chunk ids to re-read to follow the log from `cursor`, and the cursor after.
        Raises ChangeLogGapError if entries the reader needs were trimmed."""
        heads: list[EntryHead] = []
        offset = 0
        while True:
            with self._guard("read the change log"):
                page = self.changes.get(where={"ts": {"$gte": cursor.low}},
                                        include=["metadatas"], limit=PAGE, offset=offset)
            if not page["ids"]:
                break
            heads.extend(EntryHead(i, float(m["ts"]), bool(m.get("done")))
                         for i, m in zip(page["ids"], page["metadatas"] or [], strict=True)
                         if m and "ts" in m)
            offset += len(page["ids"])
        apply, after = advance(cursor, heads, self._now(), self.timing)
        ids: set[str] = set()
        for start in range(0, len(apply), 500):
            with self._guard("read the change log"):
                page = self.changes.get(ids=apply[start:start + 500], include=["documents"])
            for document in page["documents"] or []:
                ids.update(json.loads(document or "[]"))
        # Read after the listing: a trim that removed entries from it marked them first.
        with self._guard("read the change log"):
            trims = self.changes.get(where={"trimmed_before": {"$gt": cursor.low}},
                                     include=["metadatas"])
        if trims["ids"]:
            raise ChangeLogGapError("the change log was trimmed past this reader's position")
        return ChangeBatch(ids, after)

    # -- writers ----------------------------------------------------------------------------

    @contextmanager
    def change(self, op: str, ids: Sequence[str]) -> Iterator[None]:
        """Record a write of `ids` before making it, and mark it done after."""
        entry, ts = self._record(op, ids, done=False)
        entries = [entry]
        if self._now() - ts > self.timing.window / 2:
            # Landed late: readers may have listed past its time. One stamped now is in reach.
            entries.append(self._record(op, ids, done=False)[0])
        # Readers look now, and keep looking until it is done: if this process dies here,
        # they still apply whatever of the write lands.
        self._set_head()
        yield
        if self._now() - ts > self.timing.abandon_after / 2:
            # A write this slow may have been taken for a dead one: say so afresh.
            entries.append(self._record(op, ids, done=True)[0])
        self._finish(entries)
        self._writes += 1
        self.trim_quietly(force=False)

    def commit_abandoned(self) -> None:
        """Mark done the entries of writers that died mid-write long enough ago: readers
        apply them anyway, but a new token tells idle readers to look now."""
        with self._guard("read the change log"):
            found = self.changes.get(
                where={"$and": [{"done": False},
                                {"ts": {"$lt": self._now() - self.timing.abandon_after}}]},
                include=[])
        if found["ids"]:
            log.info("committing %d change-log entries left by an interrupted run",
                     len(found["ids"]))
            with self._guard("commit a change"):
                self.changes.update(ids=found["ids"],
                                    metadatas=[{"done": True}] * len(found["ids"]))
            self._set_head()

    def _set_head(self) -> None:
        """Tell readers a write finished: a fresh token in the collection's metadata."""
        token = f"t{uuid.uuid4().hex}"
        with self._guard("commit a change"):
            collection = self._client.get_collection(self._name, embedding_function=None)
            metadata = dict(collection.metadata or {})
            metadata.pop("hnsw:space", None)  # set at creation; modify may not repeat it
            metadata[HEAD_KEY] = token
            metadata["updated_at"] = datetime.now(UTC).isoformat()
            collection.modify(metadata=metadata)
            self._own_heads.add(token)

    def _record(self, op: str, ids: Sequence[str], done: bool) -> tuple[str, float]:
        entry = uuid.uuid4().hex
        ts = self._now()
        with self._guard("record a change"):
            self.changes.add(
                ids=[entry], embeddings=[[1.0]], documents=[json.dumps(list(ids))],
                metadatas=[{"ts": ts, "done": done, "op": op, "count": len(ids),
                            "writer": this_process()}],
            )
        return entry, ts

    def _finish(self, entries: list[str]) -> None:
        with self._guard("commit a change"):
            self.changes.update(ids=entries, metadatas=[{"done": True}] * len(entries))
        self._set_head()

    # -- trimming ---------------------------------------------------------------------------

    def trim_quietly(self, force: bool) -> None:
        """Trimming is housekeeping: a store that went away meanwhile is the writes' to report."""
        try:
            self._trim_if_due(force)
        except StoreError as exc:
            log.warning("could not trim the change log: %s", exc)

    def _trim_if_due(self, force: bool = False) -> None:
        if not force and self._writes % 100:
            return
        with self._guard("count the change log"):
            if self.changes.count() <= self._keep_entries + (0 if force else 50):
                return
        self.trim()

    def trim(self) -> int:
        """Delete all but the newest `keep_entries` entries (keeping those of the last
        window + abandon_after, which current readers may still list); returns how many went."""
        heads: list[float] = []
        offset = 0
        while True:
            with self._guard("read the change log"):
                page = self.changes.get(where={"ts": {"$gte": 0.0}}, include=["metadatas"],
                                        limit=PAGE, offset=offset)
            if not page["ids"]:
                break
            heads.extend(float(m["ts"]) for m in page["metadatas"] or [] if m and "ts" in m)
            offset += len(page["ids"])
        with self._guard("read the change log"):
            legacy = self.changes.get(where={"seq": {"$gte": 0}}, include=[])["ids"]
        if len(heads) <= self._keep_entries and not legacy:
            return 0
        heads.sort(reverse=True)
        settled = self._now() - 2 * (self.timing.window + self.timing.abandon_after)
        cutoff = settled
        if len(heads) > self._keep_entries:
            cutoff = min(cutoff, heads[self._keep_entries - 1])
        doomed = sum(ts < cutoff for ts in heads)
        if not doomed and not legacy:
            return 0
        with self._guard("trim the change log"):
            # Mark first: a reader that lists while we delete sees the mark afterwards.
            self.changes.add(ids=[f"trim-{uuid.uuid4().hex}"], embeddings=[[1.0]],
                             metadatas=[{"trimmed_before": cutoff}])
            if doomed:
                self.changes.delete(where={"ts": {"$lt": cutoff}})
            if legacy:  # a store's log from before concurrent writers
                self.changes.delete(ids=legacy)
            self.changes.delete(where={"trimmed_before": {"$lt": cutoff}})
        log.info("trimmed %d change-log entries", doomed + len(legacy))
        return doomed + len(legacy)
