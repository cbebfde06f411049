"""When each configured source is due for re-ingest (pure: the clock is passed in)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400}


def parse_interval(value: str | float | int | None) -> float | None:
    """Seconds from 900, "90s", "15m", "1h", "1d"; None or "" for no schedule."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(value)
        if not match:
            raise ValueError(f"not a duration: {value!r} (use e.g. 90s, 15m, 1h)")
        seconds = float(match.group(1)) * _UNIT_SECONDS[(match.group(2) or "s").lower()]
    if seconds <= 0:
        raise ValueError("a refresh interval must be positive")
    return seconds


@dataclass(frozen=True)
class ScheduledSource:
    location: str
    every: float | None  # None: ingest once, at start


class RefreshSchedule:
    def __init__(self, sources: Sequence[ScheduledSource], now: float) -> None:
        self._sources = {s.location: s for s in sources}
        self._next = {s.location: now for s in sources}  # everything is due at start

    def due(self, now: float) -> list[str]:
        """Sources due at `now`, in config order; each is rescheduled from `now`."""
        ready = [loc for loc, at in self._next.items() if at <= now]
        for location in ready:
            every = self._sources[location].every
            self._next[location] = now + every if every else math.inf
        return ready

    def seconds_until_next(self, now: float) -> float | None:
        """None when nothing will ever be due again."""
        upcoming = min(self._next.values(), default=math.inf)
        return None if upcoming == math.inf else max(0.0, upcoming - now)
