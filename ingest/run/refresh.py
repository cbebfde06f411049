"""Re-ingest sources on their schedules until stopped (`ingest --watch`, `slack --refresh`)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from config.errors import NewsdeskError
from ingest.model.records import IngestSummary
from ingest.run.schedule import RefreshSchedule, ScheduledSource

log = logging.getLogger(__name__)

# Scheduled runs that fail one after another before readiness says so (/readyz).
FAILURES_BEFORE_UNREADY = 3


@dataclass
class RefreshHealth:
    """How the scheduled ingest is going, for readiness: runs that failed in a row (any
    error, or a run that could not write to the store) and the last one's reason."""

    failures_in_a_row: int = 0
    last_error: str = ""

    def failed(self, reason: str) -> None:
        self.failures_in_a_row += 1
        self.last_error = reason

    def succeeded(self) -> None:
        self.failures_in_a_row, self.last_error = 0, ""

    def problem(self, threshold: int = FAILURES_BEFORE_UNREADY) -> str | None:
        """A one-line reason once `threshold` runs in a row have failed, else None."""
        if self.failures_in_a_row < threshold:
            return None
        return (f"scheduled ingest failed {self.failures_in_a_row} times in a row: "
                f"{self.last_error}")


def run_schedule(
    sources: Sequence[ScheduledSource],
    ingest: Callable[[list[str]], IngestSummary],
    stop: threading.Event,
    on_summary: Callable[[list[str], IngestSummary], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    wait: Callable[[float], object] | None = None,
    health: RefreshHealth | None = None,
) -> None:
    """Ingest what is due, sleep until the next source is due; return when `stop` is set or
    nothing is scheduled any more. A failed run (store busy or down, or any error at all:
    one bad run must not end the loop) is logged, counted in `health`, and retried at the
    source's next turn."""
    wait = wait or stop.wait  # returns early when stopped
    health = health if health is not None else RefreshHealth()
    schedule = RefreshSchedule(sources, clock())
    while not stop.is_set():
        due = schedule.due(clock())
        if due:
            try:
                summary = ingest(due)
            except NewsdeskError as exc:
                log.error("scheduled ingest of %s failed: %s", ", ".join(due), exc)
                health.failed(str(exc))
            except Exception as exc:
                log.exception("scheduled ingest of %s failed unexpectedly", ", ".join(due))
                health.failed(f"{type(exc).__name__}: {exc}")
            else:
                stopped = [f.reason for f in summary.failed if f.source == "(ingest)"]
                if stopped:
                    health.failed(stopped[0])
                else:
                    health.succeeded()
                if on_summary:
                    try:
                        on_summary(due, summary)
                    except Exception:
                        log.exception("reporting the scheduled ingest of %s failed",
                                      ", ".join(due))
        pause = schedule.seconds_until_next(clock())
        if pause is None or stop.is_set():
            return
        wait(pause)
