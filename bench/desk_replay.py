"""Replay a dated corpus day by day with saved questions, printing each day's alerts; then
print the brief of a chosen period. For the closing note of issue 22 on Wikinews:

    python bench/desk_replay.py --corpus ../shared/bench/wikinews --start 2019-06-01 \\
        --end 2019-12-31 --question "What is the latest on the Hong Kong protests?" \\
        --brief 2019-10-01

Articles published before `--start` are ingested first, in one run; then each day's
articles are added to the folder and ingested, as a newsroom would receive them. Runs in a
temporary data directory (nothing is written beside the corpus).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections import defaultdict
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import SHARED
from bot.app.briefing import daily_brief
from bot.app.user_values import read_period
from bot.factory import Components
from config import load_settings
from ingest.model.records import Article
from ingest.sources.discover import discover
from ingest.sources.loaders import load


def days_of(corpus: Path) -> dict[date | None, list[Path]]:
    """The corpus's files by the publication day of their article (as the loader reads it)."""
    settings = load_settings()
    items, _, _ = discover([str(corpus)])
    by_day: dict[date | None, list[Path]] = defaultdict(list)
    for item in items:
        for result in load(item, None, settings.ingest):  # type: ignore[arg-type]
            if isinstance(result, Article):
                by_day[result.published.date() if result.published else None].append(
                    Path(item.location))
                break
    return by_day


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=SHARED / "wikinews")
    parser.add_argument("--start", type=date.fromisoformat, required=True)
    parser.add_argument("--end", type=date.fromisoformat, required=True)
    parser.add_argument("--question", action="append", default=[])
    parser.add_argument("--brief", action="append", default=[],
                        help="a day (YYYY-MM-DD) or FROM..TO to print the brief of at the end")
    args = parser.parse_args()

    by_day = days_of(args.corpus)
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work) / "corpus"
        folder.mkdir()
        components = Components(load_settings(data_dir=str(Path(work) / "data")))
        ingestor = components.build_ingestor()
        for day, paths in by_day.items():
            if day is None or day < args.start:
                for path in paths:
                    shutil.copy(path, folder / path.name)
        first = ingestor.ingest([str(folder)])
        print(f"before {args.start}: {first.added} articles", flush=True)
        for question in args.question:
            saved = components.watches.add(question)
            print(f"saved question {saved.id}: {saved.question!r}", flush=True)
        for day in sorted(d for d in by_day if d is not None and args.start <= d <= args.end):
            for path in by_day[day]:
                shutil.copy(path, folder / path.name)
            summary = ingestor.ingest([str(folder)])
            line = f"{day}: +{summary.added} articles"
            if not summary.alerts:
                print(f"{line}, no alert", flush=True)
                continue
            print(line, flush=True)
            for alert in summary.alerts:
                cited = ", ".join(f"[{c['n']}] {c['title']} ({(c['published'] or '')[:10]})"
                                  for c in alert["citations"])
                print(f"  ALERT ({alert['kind']}) #{alert['watch']}: {alert['answer']}\n"
                      f"    {cited}", flush=True)
        for period in args.brief:
            since, _, until = period.partition("..")
            brief = daily_brief(components.store, read_period(since, until or None))
            print(f"\n=== brief {period} ===\n{brief.text}\n\nSources")
            for citation in brief.citations:
                p = citation.passage
                print(f"  [{citation.n}] {p.title} ({p.source}, "
                      f"{p.published.date() if p.published else '-'})")
        components.close()


if __name__ == "__main__":
    main()
