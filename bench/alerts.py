"""What saved questions add to an ingest: 100 saved questions checked after a 200-article
batch, against the batch's embedding time (target: at most 10 %).

Each repeat makes a fresh store of the Wikinews corpus's other articles (untimed), saves the
questions, then ingests the 200-article batch with the check as its after-step, timing the
check on its own; then it times the bare model's encoding of the batch's chunk texts (the
embedding time), and, for comparison, asking every saved question in full (what the check
would cost without its retrieval gate). Questions: the 67 of bench/wikinews-questions.jsonl,
then "What happened: <title>?" for articles of the batch until there are 100.

    python bench/alerts.py [--corpus ../shared/bench/wikinews] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, SHARED, median, save, timed
from bot.factory import Components
from bot.watches import WatchChecker
from config import load_settings
from ingest.fetch import Fetched
from ingest.pipeline import Ingestor
from ingest.records import IngestSummary

BATCH = 200
QUESTIONS = 100


class NoFetch:
    """The batch is files: nothing is fetched."""

    def get(self, url: str, conditional: bool = False) -> Fetched:
        raise AssertionError(f"unexpected fetch of {url}")

    def commit(self, url: str) -> None:
        raise AssertionError(f"unexpected commit of {url}")


def questions(batch: list[Path]) -> list[str]:
    lines = (ROOT / "bench" / "wikinews-questions.jsonl").read_text().splitlines()
    asked = [json.loads(line)["question"] for line in lines if line.strip()]
    for path in batch:
        if len(asked) >= QUESTIONS:
            break
        title = next((line.strip() for line in path.read_text().splitlines() if line.strip()),
                     "")
        if title:
            asked.append(f"What happened: {title}?")
    return asked[:QUESTIONS]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=SHARED / "wikinews")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    files = sorted(p for p in args.corpus.glob("*.txt"))
    batch_files, base_files = files[-BATCH:], files[:-BATCH]
    asked = questions(batch_files)
    settings = load_settings()
    embedder = Components(settings).embedder
    embedder.embed(["warm up the model"])

    runs: list[dict[str, Any]] = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as work:
            base, batch = Path(work) / "base", Path(work) / "batch"
            base.mkdir()
            batch.mkdir()
            for path in base_files:
                shutil.copy(path, base / path.name)
            for path in batch_files:
                shutil.copy(path, batch / path.name)
            components = Components(load_settings(data_dir=str(Path(work) / "data")),
                                    embedder=embedder)
            ingestor = components.build_ingestor()
            ingestor.ingest([str(base)])
            for question in asked:
                components.watches.add(question)
            checker = components.watch_checker
            check_times: list[float] = []

            def check(summary: IngestSummary, times: list[float] = check_times,
                      checker: WatchChecker = checker) -> None:
                started = time.perf_counter()
                checker(summary)
                times.append(time.perf_counter() - started)

            # The ingestor of build_ingestor, with the same check timed on its own.
            ingestor = Ingestor(components.store, embedder, NoFetch(),
                                chunking=components.settings.chunking,
                                settings=components.settings.ingest,
                                derived=[components.keyword_index], after=[check])
            summary, ingest_s = timed(partial(ingestor.ingest, [str(batch)]))
            texts = [f"{c.meta.header}\n{c.text}" if c.meta.header else c.text
                     for c in components.store.iter_chunks()
                     if c.meta.article_id in summary.changed]
            _, embed_s = timed(partial(embedder.embed, texts))
            engine = components.build_engine()
            _, ask_all_s = timed(lambda engine=engine: [engine.ask(q) for q in asked])
            runs.append({"articles": summary.added, "chunks": summary.chunks,
                         "asked": checker.asked,
                         "ingest_s": ingest_s, "embed_s": embed_s, "check_s": check_times[0],
                         "ask_all_s": ask_all_s, "alerts": len(summary.alerts)})
            components.close()
            print(json.dumps(runs[-1]), file=sys.stderr)

    check_s = median([r["check_s"] for r in runs])
    embed_s = median([r["embed_s"] for r in runs])
    save("alerts", {
        "corpus": str(args.corpus), "batch_articles": runs[0]["articles"],
        "batch_chunks": runs[0]["chunks"], "saved_questions": len(asked),
        "repeats": args.repeats,
        "median_batch_ingest_s": round(median([r["ingest_s"] for r in runs]), 2),
        "median_batch_embedding_s": round(embed_s, 2),
        "median_check_s": round(check_s, 3),
        "check_share_of_embedding": round(check_s / embed_s, 3),
        "median_ask_every_question_s": round(median([r["ask_all_s"] for r in runs]), 2),
        "asked_after_the_gate": runs[0]["asked"], "alerts": runs[0]["alerts"],
        "target": "check <= 10% of the batch's embedding time",
        "runs": runs,
    })


if __name__ == "__main__":
    main()
