"""Who may write: on a server, leases recorded in the change-log collection (shared for
ordinary writers, exclusive for regroup, renewed by a thread while held); on the embedded
store, one writing process at a time by a file lock."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from config.errors import StoreBusyError, StoreError
from ingest.store.guard import guarded

log = logging.getLogger(__name__)


def this_process() -> str:
    """How a lease, a lock's holder file and a log entry name the process that wrote them."""
    return f"pid {os.getpid()} on {socket.gethostname()}"


class WriteLeases:
    """Leases as records of the change-log collection (`changes`): each side records its
    lease first and then looks for the other's, so a shared and an exclusive lease never
    both go ahead; the one that finds a conflicting lease withdraws and fails. `now` is the
    store's clock (epoch seconds), on which leases expire."""

    def __init__(self, changes: Any, now: Callable[[], float], location: str,
                 lease_seconds: float) -> None:
        self._changes = changes
        self._now = now
        self._location = location
        self._lease_seconds = lease_seconds

    @contextmanager
    def hold(self, exclusive: bool) -> Iterator[None]:
        """Hold a lease while the block runs. Raises StoreBusyError, naming the holder, if a
        conflicting lease is held (any other one for `exclusive`, an exclusive one else)."""
        kind = "exclusive" if exclusive else "shared"
        lease_id = f"lease-{uuid.uuid4().hex}"
        holder = this_process()

        def record() -> None:
            with guarded(self._location, "record a write lease"):
                self._changes.upsert(ids=[lease_id], embeddings=[[1.0]], documents=[holder],
                                     metadatas=[{"lease": kind, "holder": holder,
                                                 "expires": self._now()
                                                 + self._lease_seconds}])

        record()
        try:
            with guarded(self._location, "read the write leases"):
                found = self._changes.get(where={"expires": {"$gt": self._now()}},
                                          include=["metadatas"])
            others = [m for i, m in zip(found["ids"], found["metadatas"] or [], strict=True)
                      if i != lease_id and m and (exclusive or m.get("lease") == "exclusive")]
            if others:
                other = others[0]
                until = datetime.fromtimestamp(float(other["expires"]), tz=UTC)
                what = ("regrouping" if other.get("lease") == "exclusive" else "writing")
                raise StoreBusyError(
                    f"{other.get('holder', 'another process')} is {what} in {self._location} "
                    f"(its lease runs to {until.isoformat(timespec='seconds')} unless renewed); "
                    + ("regroup needs the store to itself: run it when no ingest is running"
                       if exclusive else "wait for the regroup to finish"))
        except BaseException:
            self._drop(lease_id)
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
            self._drop(lease_id)

    def _drop(self, lease_id: str) -> None:
        with contextlib.suppress(StoreError), guarded(self._location, "drop a write lease"):
            self._changes.delete(ids=[lease_id])


@contextmanager
def embedded_writer_lock(lock_path: Path, location: str) -> Iterator[None]:
    """Hold the embedded store's writer lock while the block runs (Chroma's embedded mode
    does not support two writing processes). Raises StoreBusyError at once, naming the
    holder, if another process holds it."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(lock_path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = _read_holder(lock_path)
        raise StoreBusyError(
            f"another process ({holder}) is writing to {location}; wait for it to "
            "finish, or run a Chroma server (store.url) so that several processes can write"
        ) from None
    try:
        _write_holder(lock_path)
        yield
    finally:
        lock.release()


def _read_holder(lock_path: Path) -> str:
    try:
        return lock_path.with_suffix(".holder").read_text().strip() or "unknown process"
    except OSError:
        return "unknown process"


def _write_holder(lock_path: Path) -> None:
    started = datetime.now(UTC).isoformat(timespec="seconds")
    lock_path.with_suffix(".holder").write_text(f"{this_process()}, started {started}")
