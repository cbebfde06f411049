"""Speed benchmark on a Newsdesk store of the BBC corpus (warm process, then cold CLI).

Reports p50/p95 of `search` and extractive `ask` over the bbc-qa questions, with a baseline
measured in the same run (a bare Chroma dense query with a precomputed query vector: the floor
for any search); the wall time of `newsdesk ask` from a cold process (median of 3); and the
resident memory of the warm process. Targets: search p50 <= 50 ms, ask p50 <= 150 ms and
p95 <= 300 ms, cold ask <= 5 s, RSS <= 1.5 GB.

    python bench/speed.py --data-dir DIR   # DIR holds `newsdesk ingest ../shared/bench/bbc`
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil

from bench.common import SHARED, median, ms, save, timed_each
from bench.quality import load_questions
from bot.factory import Components
from config import load_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--questions", type=Path, default=SHARED / "bbc-qa" / "dev.jsonl")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    components = Components(load_settings(data_dir=str(args.data_dir)))
    engine = components.build_engine()
    questions = [q.question for q in load_questions(args.questions)]
    engine.ask(questions[0])  # load the model and the BM25 index outside the timings
    vectors = [components.query_embedder.embed([q])[0] for q in questions]

    # Baselines: the bare dense query with a precomputed vector, for the 6 passages a search
    # returns and for the `dense_candidates` (40) that hybrid search itself asks Chroma for.
    candidates = components.settings.retrieval.dense_candidates
    bare, bare_candidates, search, ask = [], [], [], []
    for _ in range(args.rounds):
        bare += timed_each(vectors, lambda v: components.store.query(v, 6))
        bare_candidates += timed_each(vectors, lambda v: components.store.query(v, candidates))
        search += timed_each(questions, engine.search)
        ask += timed_each(questions, engine.ask)
    rss_mb = psutil.Process().memory_info().rss / 2**20

    env = {**os.environ, "NEWSDESK_DATA_DIR": str(args.data_dir)}

    def cold_run(command: list[str]) -> float:
        started = time.perf_counter()
        subprocess.run(command, env=env, check=True, capture_output=True)
        return time.perf_counter() - started

    # Interleaved, so that the machine's noise falls on both alike.
    cold, imports, helps = [], [], []
    for question in questions[:5]:
        cold.append(cold_run([sys.executable, "-m", "bot.cli", "ask", question]))
        imports.append(cold_run([sys.executable, "-c", "import chromadb, numpy"]))
        helps.append(cold_run([sys.executable, "-m", "bot.cli", "--help"]))

    save("speed", {
        "questions": len(questions),
        "rounds": args.rounds,
        "bare_dense_query_ms": ms(bare),
        "search_ms": ms(search),
        "search_over_bare_dense_p50": round(median(search) / median(bare), 2),
        f"bare_dense_query_{candidates}_ms": ms(bare_candidates),
        f"search_over_bare_dense_{candidates}_p50": round(median(search) / median(bare_candidates),
                                                          2),
        "ask_extractive_ms": ms(ask),
        "cold_cli_ask_s": round(median(cold), 2),
        "import_chromadb_numpy_s": round(median(imports), 2),
        "cold_ask_over_import_p50": round(median(cold) / median(imports), 2),
        "cli_help_s": round(median(helps), 2),
        "serving_rss_mb": round(rss_mb, 1),
        "torch_threads": components.settings.embedding.threads,
    })


if __name__ == "__main__":
    main()
