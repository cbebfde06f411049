import threading

import pytest

from config.durations import parse_interval
from config.errors import StoreBusyError
from ingest.model.records import IngestSummary
from ingest.run.refresh import run_schedule
from ingest.run.schedule import RefreshSchedule, ScheduledSource


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("15m", 900), ("1h", 3600),
                                               ("1.5h", 5400), ("2d", 172800), (300, 300),
                                               ("45", 45), (None, None), ("", None)])
def test_parse_interval(text: str | int | None, seconds: float | None) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("bad", ["soon", "-5m", "0", "1 week"])
def test_parse_interval_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_interval(bad)


def test_schedule_runs_everything_first_then_each_on_its_interval() -> None:
    schedule = RefreshSchedule([ScheduledSource("feed", 60), ScheduledSource("dir", None),
                                ScheduledSource("page", 150)], now=0)
    assert schedule.due(0) == ["feed", "dir", "page"]
    assert schedule.seconds_until_next(0) == 60
    assert schedule.due(59) == []
    assert schedule.due(60) == ["feed"]
    assert schedule.due(150) == ["feed", "page"]  # feed was due again at 120
    assert schedule.seconds_until_next(150) == 60  # feed next at 210, page at 300
    once = RefreshSchedule([ScheduledSource("dir", None)], now=0)
    once.due(0)
    assert once.seconds_until_next(1) is None


def test_run_schedule_survives_a_failed_run_and_stops() -> None:
    now = [0.0]
    calls: list[list[str]] = []
    stop = threading.Event()

    def ingest(due: list[str]) -> IngestSummary:
        calls.append(due)
        if len(calls) == 1:
            raise StoreBusyError("busy")
        if len(calls) == 3:
            stop.set()
        return IngestSummary(added=1)

    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    run_schedule([ScheduledSource("feed", 60)], ingest, stop, clock=lambda: now[0], wait=wait)
    assert calls == [["feed"], ["feed"], ["feed"]]  # the busy store did not end the loop
    assert waits == [60, 60]


def test_run_schedule_returns_when_nothing_is_scheduled() -> None:
    seen: list[list[str]] = []
    run_schedule([ScheduledSource("dir", None)], lambda due: seen.append(due) or IngestSummary(),
                 threading.Event())
    assert seen == [["dir"]]
