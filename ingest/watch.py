"""Re-ingest sources on their schedules until stopped (`ingest --watch`, `slack --refresh`)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from config.errors import NewsdeskError
from ingest.records import IngestSummary
from ingest.schedule import RefreshSchedule, ScheduledSource

log = logging.getLogger(__name__)


def run_schedule(
    sources: Sequence[ScheduledSource],
    ingest: Callable[[list[str]], IngestSummary],
    stop: threading.Event,
    on_summary: Callable[[list[str], IngestSummary], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    wait: Callable[[float], object] | None = None,
) -> None:
    """Ingest what is due, sleep until the next source is due; return when `stop` is set or
    nothing is scheduled any more. A failed run (store busy or down) is logged and retried at
    the source's next turn."""
    wait = wait or stop.wait  # returns early when stopped
    schedule = RefreshSchedule(sources, clock())
    while not stop.is_set():
        due = schedule.due(clock())
        if due:
            try:
                summary = ingest(due)
            except NewsdeskError as exc:
                log.error("scheduled ingest of %s failed: %s", ", ".join(due), exc)
            else:
                if on_summary:
                    on_summary(due, summary)
        pause = schedule.seconds_until_next(clock())
        if pause is None or stop.is_set():
            return
        wait(pause)
