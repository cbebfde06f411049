"""Parsing hostile text stays linear: median time of text n and 2n, and their ratio.

Articles a hostile feed or folder can hold (unclosed markup, long runs of punctuation or
spaces) once took square time (a 1 MB file: hours). A ratio near 2 is linear; near 4, square.

    python -m bench.hostile_parsing [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from ingest.sources.parse import parse_text_article
from ingest.text.sentences import split_sentences

CASES: dict[str, Callable[[int], str]] = {
    "unclosed comments": lambda n: "Headline\n\n" + "<!--" * n,
    "unclosed scripts": lambda n: "Headline\n\n" + "<script>" * n,
    "unopened links": lambda n: "Headline\n\n" + "[" * (2 * n) + "](",
    "link targets never closed": lambda n: "Headline\n\n" + "[a](" * n,
    "spaces inside a byline": lambda n: "Headline\nBy Anna" + " " * n + "Lee\n\nText.",
    "spaces inside a date line": lambda n: ("Headline\nUpdated: 3" + " " * (4 * n)
                                           + "May 2025\n\nx."),
}


def median_seconds(work: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--size", type=int, default=20_000)
    args = parser.parse_args()
    n = args.size
    rows = [(name, lambda m, make=make: parse_text_article(make(m)))
            for name, make in CASES.items()]
    rows.append(("run of full stops", lambda m: split_sentences("It began" + "." * (2 * m)
                                                                + "and went on.")))
    for name, run in rows:
        small = median_seconds(lambda run=run: run(n), args.repeat)
        large = median_seconds(lambda run=run: run(2 * n), args.repeat)
        print(f"{name:28} n {small * 1000:8.1f} ms   2n {large * 1000:8.1f} ms   "
              f"ratio {large / small if small else float('nan'):.2f}")


if __name__ == "__main__":
    main()
