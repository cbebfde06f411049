"""How retrieval cost grows with the collection, in Chroma server mode.

Inserts synthetic chunks with precomputed random unit vectors (no embedding cost) into a real
`chroma run` server, growing the collection through the given sizes, and at each size reports
`search` p50/p95 (query embedding + dense query + BM25 + fusion, as `newsdesk search` does), the
bare dense query alone (baseline, same run), the time to (re)build the BM25 index, and the
resident memory of the serving process and of the Chroma server. Target: p50 <= 100 ms at 1M.

    python bench/scale.py [--sizes 10000,100000,1000000] [--queries 100]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import psutil

from bench.common import median, percentile, save
from bench.peers import ChromaServer
from bot.factory import Components
from config import load_settings
from ingest.ids import chunk_id
from ingest.records import Chunk, ChunkMeta

WORDS = ("harbour council budget ferry election striker transfer profit shares court ruling "
         "minister album chart robot network phone airline bank strike vote tax oil").split()


def synthetic(start: int, count: int, rng: np.random.Generator
              ) -> tuple[list[Chunk], np.ndarray, list[ChunkMeta]]:
    vectors = rng.standard_normal((count, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    chunks, metas = [], []
    picks = rng.integers(0, len(WORDS), size=(count, 40))
    for offset in range(count):
        n = start + offset
        text = " ".join(WORDS[i] for i in picks[offset]) + f" item{n}"
        article = f"synthetic/{n // 4:07d}"
        chunks.append(Chunk(id=chunk_id(article, n % 4), article_id=article, index=n % 4,
                            text=text, header=f"Story {n // 4}", start=0, end=len(text)))
        metas.append(ChunkMeta(article_id=article, chunk_index=n % 4, chunk_count=4,
                               title=f"Story {n // 4}", source="synthetic",
                               published=datetime.fromtimestamp(1_100_000_000 + n, tz=UTC),
                               content_hash="x", text_hash="x"))
    return chunks, vectors, metas


def ms(values: list[float]) -> dict[str, float]:
    return {"p50": round(median(values) * 1000, 1), "p95": round(percentile(values, 95) * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = np.random.default_rng(7)
    questions = [" ".join(rng.choice(WORDS, 5)) for _ in range(args.queries)]

    with tempfile.TemporaryDirectory() as tmp:
        server = ChromaServer(Path(tmp) / "server")
        server.start()
        settings = load_settings(data_dir=str(Path(tmp) / "client"),
                                 **{"store.url": server.url, "store.collection": "scale"})
        components = Components(settings)
        store, searcher = components.store, components.searcher
        engine = components.build_engine()
        vectors_q = [components.embedder.embed([q])[0] for q in questions]
        results = []
        inserted = 0
        for size in sizes:
            started = time.perf_counter()
            while inserted < size:
                step = min(5000, size - inserted)
                chunks, vectors, metas = synthetic(inserted, step, rng)
                store.upsert(chunks, vectors, metas)
                inserted += step
            insert_s = time.perf_counter() - started
            store.bump_stamp()
            started = time.perf_counter()
            searcher.bm25()
            bm25_build_s = time.perf_counter() - started
            bare, search = [], []
            for question, vector in zip(questions, vectors_q, strict=True):
                t0 = time.perf_counter()
                store.query(vector, 40)
                bare.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                engine.search(question)
                search.append(time.perf_counter() - t0)
            assert server.process is not None
            row = {
                "chunks": store.count(),
                "insert_s": round(insert_s, 1),
                "bm25_build_s": round(bm25_build_s, 1),
                "bare_dense_query_ms": ms(bare),
                "search_ms": ms(search),
                "serving_process_rss_mb": round(psutil.Process().memory_info().rss / 2**20),
                "chroma_server_rss_mb": round(
                    psutil.Process(server.process.pid).memory_info().rss / 2**20),
            }
            print(row, flush=True)
            results.append(row)
        server.stop()
    save("scale", {"queries": args.queries, "sizes": results})


if __name__ == "__main__":
    main()
