"""The store's clock: every process stamps change-log entries and leases on the Chroma
server's clock, whatever its own machine's says."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

CLOCK_CHECK = 600.0  # seconds between measurements of this machine's clock against the store's


class StoreClock:
    """`heartbeat` answers the server's clock in epoch nanoseconds (Chroma's heartbeat)."""

    def __init__(self, heartbeat: Callable[[], int]) -> None:
        self._heartbeat = heartbeat
        self.offset = 0.0
        self._read = time.monotonic()

    def measure(self) -> float:
        """Measure again the seconds to add to this machine's clock to read the server's, and
        return them (the last measurement if the server cannot tell)."""
        self._read = time.monotonic()
        try:
            before = time.time()
            server = int(self._heartbeat()) / 1e9
            after = time.time()
        except Exception:
            return self.offset
        offset = server - (before + after) / 2
        if abs(offset) > 1.0:
            log.info("this machine's clock is %.1f s off the store's; using the store's", offset)
        self.offset = offset
        return offset

    def now(self) -> float:
        """The store's clock, in epoch seconds (the offset is measured again every 10 minutes:
        this machine's clock may be stepped meanwhile)."""
        if time.monotonic() - self._read > CLOCK_CHECK:
            self.measure()
        return time.time() + self.offset
