"""One SQLite file of the data directory (saved questions, feedback), opened so that a damaged
file names itself and stops only what needs it."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from config.errors import StoreError

log = logging.getLogger(__name__)


class SqliteFile:
    """Opens `path` with `schema`. A file that is not a database (or is damaged) is logged
    once and then a StoreError naming it at each use, so that ingest and answering go on
    without what it holds."""

    def __init__(self, path: Path, schema: str, holds: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._connection: sqlite3.Connection | None = None
        self._broken: StoreError | None = None
        try:
            connection = sqlite3.connect(path, check_same_thread=False)
            connection.execute("PRAGMA foreign_keys = ON")
            connection.executescript(schema)
        except sqlite3.DatabaseError as exc:
            self._broken = StoreError(
                f"{path}: {holds} cannot be read ({exc}); move the file aside to start "
                "afresh")
            log.error("%s", self._broken)
        else:
            self._connection = connection

    @property
    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            assert self._broken is not None
            raise self._broken
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
