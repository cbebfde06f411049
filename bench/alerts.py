"""What saved questions add to an ingest: 100 saved questions checked after a 200-article
batch, against the batch's embedding time (target: at most 10 %).

The Wikinews corpus's other articles are ingested once into a base store; each repeat
copies it, ingests the 200-article batch (timing the model's embedding calls inside that
ingest: the batch's embedding time), then runs the after-ingest check on what the batch
changed for two sets of 100 saved questions, each in a fresh saved-question database:

- `elsewhere`: questions about other stories ("What happened: <title>?" for base articles)
  — the usual case, where a batch answers few saved questions;
- `about_batch`: the worst case, every question about the batch — the 67 questions of
  bench/wikinews-questions.jsonl (nearly all on the batch's years) and "What happened:
  <title>?" for batch articles up to 100;

and, for comparison, asks every `about_batch` question in full (the check without its
retrieval gate and its memo).

    python bench/alerts.py [--corpus ../shared/bench/wikinews] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, SHARED, median, save, timed
from bot.factory import Components
from bot.watches import WatchChecker, WatchStore
from config import load_settings
from ingest.embedding import Embedder

BATCH = 200
QUESTIONS = 100


class TimedEmbedder:
    """The model, with the seconds spent in `embed` added up (while `timing`)."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self.name = inner.name
        self.seconds = 0.0
        self.timing = False

    @property
    def max_tokens(self) -> int:
        return self._inner.max_tokens

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self._inner.count_tokens(texts)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        started = time.perf_counter()
        vectors = self._inner.embed(texts)
        if self.timing:
            self.seconds += time.perf_counter() - started
        return vectors


def title_questions(paths: Sequence[Path], limit: int) -> list[str]:
    asked = []
    for path in paths[:limit]:
        title = next((line.strip() for line in path.read_text().splitlines() if line.strip()),
                     "")
        if title:
            asked.append(f"What happened: {title}?")
    return asked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=SHARED / "wikinews")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    files = sorted(args.corpus.glob("*.txt"))
    batch_files, base_files = files[-BATCH:], files[:-BATCH]
    lines = (ROOT / "bench" / "wikinews-questions.jsonl").read_text().splitlines()
    dated = [json.loads(line)["question"] for line in lines if line.strip()]
    workloads = {
        "elsewhere": title_questions(base_files, QUESTIONS),
        "about_batch": (dated + title_questions(batch_files, QUESTIONS))[:QUESTIONS],
    }
    embedder = TimedEmbedder(Components(load_settings()).embedder)
    embedder.embed(["warm up the model"])

    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as work:
        base, batch = Path(work) / "base", Path(work) / "batch"
        for folder, paths in ((base, base_files), (batch, batch_files)):
            folder.mkdir()
            for path in paths:
                shutil.copy(path, folder / path.name)
        base_data = Path(work) / "base-data"
        Components(load_settings(data_dir=str(base_data)), embedder=embedder
                   ).build_ingestor().ingest([str(base)])
        for repeat in range(args.repeats):
            data = Path(work) / f"run-{repeat}"
            shutil.copytree(base_data, data)
            components = Components(load_settings(data_dir=str(data)), embedder=embedder)
            ingestor = components.build_ingestor()  # no saved questions yet: no check
            embedder.seconds, embedder.timing = 0.0, True
            summary, ingest_s = timed(lambda i=ingestor: i.ingest([str(batch)]))
            embedder.timing = False
            run: dict[str, Any] = {"articles": summary.added, "chunks": summary.chunks,
                                   "ingest_s": ingest_s, "embed_s": embedder.seconds}
            for name, questions in workloads.items():
                watches = WatchStore(data / f"{name}.sqlite3")
                for question in questions:
                    watches.add(question)
                checker = WatchChecker(watches, components.build_engine, lambda: embedder)
                alerts, check_s = timed(
                    lambda c=checker, s=summary: c.check(s.changed))
                run[name] = {"check_s": check_s, "asked": checker.asked,
                             "alerts": len(alerts)}
                watches.close()
            engine = components.build_engine()
            _, run["ask_every_about_batch_s"] = timed(
                lambda e=engine: [e.ask(q) for q in workloads["about_batch"]])
            runs.append(run)
            components.close()
            print(json.dumps(run), file=sys.stderr, flush=True)

    embed_s = median([r["embed_s"] for r in runs])
    result: dict[str, Any] = {
        "corpus": str(args.corpus), "batch_articles": runs[0]["articles"],
        "batch_chunks": runs[0]["chunks"], "saved_questions": QUESTIONS,
        "repeats": args.repeats,
        "median_batch_ingest_s": round(median([r["ingest_s"] for r in runs]), 2),
        "median_batch_embedding_s": round(embed_s, 2),
        "target": "check <= 10% of the batch's embedding time",
    }
    for name in workloads:
        check_s = median([r[name]["check_s"] for r in runs])
        result[name] = {"median_check_s": round(check_s, 2),
                        "share_of_embedding": round(check_s / embed_s, 3),
                        "asked_after_gate": runs[0][name]["asked"],
                        "alerts": runs[0][name]["alerts"]}
    result["median_ask_every_about_batch_question_s"] = round(
        median([r["ask_every_about_batch_s"] for r in runs]), 2)
    result["runs"] = runs
    save("alerts", result)


if __name__ == "__main__":
    main()
