"""Sharded ingest throughput: 1..N `newsdesk ingest --shard i/N` workers, each with its own
data directory, writing to one real `chroma run` server.

Reports per worker count: wall time, aggregate chunks/s, each worker's own chunks/s, and a
check that the store holds every article exactly once. On one machine the workers share its
cores, so this measures contention, not scale-out; the multi-machine case is modelled from
two measured numbers: one worker's rate (its cores busy embedding) and how many chunks/s the
Chroma server absorbs when vectors come ready-made (`server_chunks_per_s`) — N machines give
about N x the single-worker rate while N x rate stays well below the server's rate.

    python bench/ingest_workers.py [--corpus DIR] [--articles 240] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bbc_corpus, save
from tests.peers import ChromaServer


def subset(corpus: Path, articles: int, into: Path) -> Path:
    """The first `articles` files of the corpus, spread over its folders, copied to `into`."""
    folders = sorted(p for p in corpus.iterdir() if p.is_dir()) or [corpus]
    per = -(-articles // len(folders))
    for folder in folders:
        for file in sorted(folder.glob("*.txt"))[:per]:
            target = into / folder.name / file.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(file, target)
    return into


def run_workers(corpus: Path, server: ChromaServer, workers: int, work: Path) -> dict:
    collection = f"bench-workers-{workers}"
    processes = []
    started = time.perf_counter()
    for index in range(1, workers + 1):
        env = {**os.environ, "NEWSDESK_STORE__URL": server.url,
               "NEWSDESK_STORE__COLLECTION": collection,
               "NEWSDESK_DATA_DIR": str(work / f"w{workers}-{index}"),
               # Not the query-time ONNX export a first ingest makes at its end: not ingest.
               "NEWSDESK_EMBEDDING__ONNX_QUERIES": "false"}
        command = [sys.executable, "-m", "bot.cli", "ingest", "--json", str(corpus)]
        if workers > 1:
            command += ["--shard", f"{index}/{workers}"]
        processes.append((time.perf_counter(), subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    per_worker = []
    for began, process in processes:
        out, err = process.communicate()
        ended = time.perf_counter()
        if process.returncode != 0:
            raise SystemExit(f"worker failed ({process.returncode}): {err[-2000:]}")
        summary = json.loads(out)
        per_worker.append({"chunks": summary["chunks"], "added": summary["added"],
                           "other_shards": summary["other_shards"],
                           "seconds": round(ended - began, 2),
                           "chunks_per_s": round(summary["chunks"] / (ended - began), 2)})
    wall = time.perf_counter() - started
    import chromadb

    client = chromadb.HttpClient(host="127.0.0.1", port=server.port)
    stored = client.get_collection(collection).count()
    chunks = sum(w["chunks"] for w in per_worker)
    return {"workers": workers, "wall_s": round(wall, 2),
            "chunks_per_s": round(chunks / wall, 2), "chunks": chunks,
            "articles": sum(w["added"] for w in per_worker),
            "stored_chunks": stored, "each_article_once": stored == chunks,
            "per_worker": per_worker}


def server_rate(server: ChromaServer, chunks: int = 2000) -> float:
    """Chunks/s the Chroma server takes with ready vectors (384-d), in batches of 100."""
    import chromadb

    client = chromadb.HttpClient(host="127.0.0.1", port=server.port)
    collection = client.get_or_create_collection("bench-server-rate", embedding_function=None,
                                                 configuration={"hnsw": {"space": "cosine"}})
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(chunks, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    started = time.perf_counter()
    for start in range(0, chunks, 100):
        ids = [f"c{i}" for i in range(start, min(start + 100, chunks))]
        collection.upsert(ids=ids, embeddings=vectors[start:start + len(ids)],
                          documents=[f"chunk text {i} " * 40 for i in range(len(ids))],
                          metadatas=[{"article_id": f"a{i // 3}"} for i in range(len(ids))])
    return chunks / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=bbc_corpus())
    parser.add_argument("--articles", type=int, default=240)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        corpus = subset(args.corpus, args.articles, work / "corpus")
        server = ChromaServer(work / "chroma")
        server.start()
        try:
            runs = [run_workers(corpus, server, n, work) for n in args.workers]
            absorbed = server_rate(server)
        finally:
            server.stop()
    single = next((r for r in runs if r["workers"] == 1), runs[0])
    result = {
        "corpus": str(args.corpus), "articles": args.articles, "cpus": os.cpu_count(),
        "runs": runs, "server_chunks_per_s": round(absorbed, 1),
        "model": {
            "single_worker_chunks_per_s": single["chunks_per_s"],
            "machines_before_the_server_is_the_limit": int(absorbed // max(
                single["chunks_per_s"], 1e-6)),
            "note": "N machines ~ N x the single-worker rate while that stays below the "
                    "server's rate; workers on one machine share its cores",
        },
    }
    save("ingest_workers", result)


if __name__ == "__main__":
    main()
