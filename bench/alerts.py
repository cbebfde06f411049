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

each with the check's gate (a question is asked when one of its 3 best passages is of a
changed story) and with a gate of all 6 passages the answerer reads; and, for comparison,
asks every `about_batch` question in full (no gate, no memo). Questions are embedded with
the ONNX export, as `newsdesk ingest` and the servers embed them.

    python bench/alerts.py [--corpus ../shared/bench/wikinews] [--repeats 3]
        [--base-store DATA_DIR]   # e.g. a store of the BBC corpus: the batch is 8 % of it
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
from bot.app.watches import GATE_PASSAGES, WatchChecker, WatchStore
from bot.factory import Components
from config import load_settings
from ingest.embed.embedder import Embedder
from ingest.embed.onnx_embedder import onnx_query_embedder

BATCH = 200
QUESTIONS = 100
GATES = (GATE_PASSAGES, 6)  # the check's gate, and all six passages the answerer reads


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
    parser.add_argument("--base-store", type=Path,
                        help="a data directory to copy as the base store (e.g. one of the BBC "
                             "corpus) instead of the corpus's other articles; the `elsewhere` "
                             "questions are then bbc-qa's")
    args = parser.parse_args()

    files = sorted(args.corpus.glob("*.txt"))
    batch_files, base_files = files[-BATCH:], files[:-BATCH]
    lines = (ROOT / "bench" / "wikinews-questions.jsonl").read_text().splitlines()
    dated = [json.loads(line)["question"] for line in lines if line.strip()]
    elsewhere = title_questions(base_files, QUESTIONS)
    if args.base_store is not None:  # questions about the base store's articles (bbc-qa)
        qa = (SHARED / "bbc-qa" / "dev2.jsonl").read_text().splitlines()
        elsewhere = [json.loads(line)["question"] for line in qa if line.strip()][:QUESTIONS]
    workloads = {
        "elsewhere": elsewhere,
        "about_batch": (dated + title_questions(batch_files, QUESTIONS))[:QUESTIONS],
    }
    settings = load_settings()
    embedder = TimedEmbedder(Components(settings).embedder)
    embedder.embed(["warm up the model"])

    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as work:
        base, batch = Path(work) / "base", Path(work) / "batch"
        for folder, paths in ((base, base_files), (batch, batch_files)):
            folder.mkdir()
            for path in paths:
                shutil.copy(path, folder / path.name)
        # Questions are embedded as the CLI and the servers embed them: the ONNX export.
        queries: Embedder = onnx_query_embedder(settings.embedding,
                                                Path(work) / "onnx") or embedder
        queries.embed(["warm up"])
        base_data = Path(work) / "base-data"
        if args.base_store is not None:
            shutil.copytree(args.base_store, base_data,
                            ignore=shutil.ignore_patterns("locks", "onnx"))
        else:
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
                for gate in GATES:
                    watches = WatchStore(data / f"{name}-{gate}.sqlite3")
                    for question in questions:
                        watches.add(question)
                    checker = WatchChecker(watches, components.build_engine,
                                           lambda: queries, gate=gate)
                    alerts, check_s = timed(
                        lambda c=checker, s=summary: c.check(s.changed))
                    run[f"{name}/gate {gate}"] = {"check_s": check_s, "asked": checker.asked,
                                                  "alerts": len(alerts)}
                    watches.close()
            engine = components.build_engine(queries)
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
    result["query_embedder"] = type(queries).__name__
    for name in workloads:
        for gate in GATES:
            key = f"{name}/gate {gate}"
            check_s = median([r[key]["check_s"] for r in runs])
            result[key] = {"median_check_s": round(check_s, 2),
                           "share_of_embedding": round(check_s / embed_s, 3),
                           "asked_after_gate": runs[0][key]["asked"],
                           "alerts": runs[0][key]["alerts"]}
    result["median_ask_every_about_batch_question_s"] = round(
        median([r["ask_every_about_batch_s"] for r in runs]), 2)
    result["runs"] = runs
    result["base"] = str(args.base_store) if args.base_store else "the corpus's other articles"
    save("alerts" if args.base_store is None else "alerts-large-base", result)


if __name__ == "__main__":
    main()
