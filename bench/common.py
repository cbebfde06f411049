"""Helpers shared by the benchmarks: timing, memory, the corpus location, result files."""

from __future__ import annotations

import json
import os
import resource
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from bot.factory import Components
    from bot.http.server import HttpServer
    from bot.http.service import Service

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "bench"
RESULTS = ROOT / "bench" / "results"
T = TypeVar("T")


def bbc_corpus() -> Path:
    return Path(os.environ.get("NEWSDESK_BENCH_CORPUS", SHARED / "bbc"))


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values)


def ms(values: list[float]) -> dict[str, float]:
    """p50 and p95 in milliseconds."""
    return {"p50": round(median(values) * 1000, 1), "p95": round(percentile(values, 95) * 1000, 1)}


def timed_each(questions: Sequence[Any], run: Callable[[Any], object]) -> list[float]:
    """Seconds `run` takes on each of `questions`."""
    times = []
    for question in questions:
        started = time.perf_counter()
        run(question)
        times.append(time.perf_counter() - started)
    return times


def save(name: str, data: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2))
    print(json.dumps(data, indent=2))


def serve_in_thread(components: Components, service: Service) -> HttpServer:
    """The `newsdesk serve` server for `service` on a free loopback port, in a thread."""
    from bot.http.app import build_app
    from bot.http.server import HttpServer

    server = HttpServer(build_app(service), "127.0.0.1", 0,
                        components.settings.serve.header_timeout)
    server.start()
    return server
