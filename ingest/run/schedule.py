"""When each configured source is due for re-ingest (pure: the clock is passed in)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


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
