"""Articles a run has changed whose after-ingest steps (saved-question checks) have not run yet.

Written before the store is, cleared once the steps have run: an ingest interrupted between
the two (Ctrl-C, a kill, the disk) leaves its changes here, and the next run hands them to the
steps too, although it finds those articles unchanged. Without it their alerts were lost.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from filelock import FileLock

log = logging.getLogger(__name__)


class ChangeJournal:
    """A JSON file of article id → "added" | "updated", shared by the processes writing one
    data directory (a file lock around each read-modify-write; replaced atomically)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = FileLock(str(path) + ".lock")

    def pending(self) -> dict[str, str]:
        """The changes whose steps have not run; an unreadable file counts as none (logged)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("%s: unreadable, its pending alerts are lost (%s)", self.path, exc)
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(k): str(v) for k, v in data.items()}

    def add(self, changed: Mapping[str, str]) -> None:
        if not changed:
            return
        with self._lock:
            self._write({**self.pending(), **changed})

    def done(self, article_ids: Iterable[str]) -> None:
        """The steps have run for these articles (others, added meanwhile, stay)."""
        with self._lock:
            left = self.pending()
            for article_id in article_ids:
                left.pop(article_id, None)
            self._write(left)

    def _write(self, changes: Mapping[str, str]) -> None:
        if not changes:
            self.path.unlink(missing_ok=True)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(dict(changes), ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, self.path)
