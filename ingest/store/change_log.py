"""How a reader follows a change log that several writers append to at once (pure: no I/O);
why nothing is skipped: docs/architecture.md, "Following the change log"."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from config.errors import StoreError


class ChangeLogGapError(StoreError):
    """The change log lacks entries a reader needs (it must re-read the whole store)."""


@dataclass(frozen=True)
class Timing:
    """Seconds: `window` = max clock difference between processes + the time one log entry
    takes to land; `abandon_after` = after how long an entry that never got `done` is taken as
    its writer's last word (longer than any single chunk write)."""

    window: float = 300.0
    abandon_after: float = 900.0


@dataclass(frozen=True)
class EntryHead:
    """A log entry without its chunk ids."""

    id: str
    ts: float
    done: bool


@dataclass(frozen=True)
class Cursor:
    """How far a reader has followed the log: entries at or after `low` are listed again,
    `high` is the newest entry time seen, `applied` the final entries at or after `low`
    already applied, `waiting` how many listed entries were not final yet."""

    low: float
    high: float
    applied: frozenset[str] = field(default_factory=frozenset)
    waiting: int = 0

    @classmethod
    def start(cls, now: float, timing: Timing) -> Cursor:
        """For a reader that reads every chunk from the store now: only entries that may
        still change what it reads need listing (the unfinished and the not yet visible)."""
        return cls(low=now - max(timing.window, timing.abandon_after), high=now)

    def to_json(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "applied": sorted(self.applied),
                "waiting": self.waiting}

    @classmethod
    def from_json(cls, data: Any) -> Cursor:
        """Raises ValueError (or KeyError/TypeError) on anything but what to_json wrote."""
        applied = data["applied"]
        if not isinstance(applied, list) or not all(isinstance(a, str) for a in applied):
            raise ValueError("cursor: applied must be a list of entry ids")
        return cls(float(data["low"]), float(data["high"]), frozenset(applied),
                   int(data.get("waiting", 0)))


@dataclass(frozen=True)
class ChangeBatch:
    """What a reader must re-read to follow the log (chunk ids), and its cursor after."""

    ids: set[str]
    cursor: Cursor


def advance(cursor: Cursor, listed: Iterable[EntryHead], now: float, timing: Timing
            ) -> tuple[list[str], Cursor]:
    """Given the entries listed at or after `cursor.low` and the reader's clock `now` (store
    clock, seconds): the ids of the entries to apply now, and the cursor after applying them."""
    entries = [e for e in listed if e.ts >= cursor.low]
    to_apply = [e.id for e in entries if e.id not in cursor.applied]
    final = {e.id for e in entries
             if e.id in cursor.applied or e.done or now - e.ts >= timing.abandon_after}
    waiting = [e.ts for e in entries if e.id not in final]
    high = max([cursor.high, *(e.ts for e in entries)])
    low = min([high - timing.window, *waiting])
    low = max(low, cursor.low)  # never re-list what is settled (low only moves on)
    applied = frozenset(e.id for e in entries if e.id in final and e.ts >= low)
    return to_apply, Cursor(low, high, applied, len(waiting))
