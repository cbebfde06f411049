"""How serving grows with the collection, in Chroma server mode, the bot on its own.

A writer (this process) inserts synthetic chunks with precomputed random unit vectors (no
embedding cost) into a real `chroma run` server, growing the collection through the given
sizes. A bot runs in a separate process with its own data directory, as on another machine:
its keyword index is a local replica that follows the store's change log. At each size:

- the bot's catch-up after the bulk insert (incremental: it reads only the new chunks);
- `search` p50/p95 in the bot (query embedding + dense query + keyword + fusion, as
  `newsdesk search`), and the bare dense query with a precomputed vector (baseline, same run);
- the first answer after one new article is written: catch-up + answer, in the bot;
- the bot's and the Chroma server's resident memory, and a restarted bot's: it opens its
  replica from disk and answers, as a bot does after a deploy;
- the wire-copy lookup an ingest makes for a batch of 200 new articles (nearest stored
  first chunks of each).

Chunk texts are 40 words. `--vocabulary zipf` (the default) draws them from 30,000 word types
with Zipf frequencies (exponent 1, the shape of word counts in news text), leaving out the
200 most frequent types as a stop-word list does, and each question is 5 words drawn the
same way: a query term then occurs in about 2 % of chunks or fewer, as content words do.
`--vocabulary tiny` is the worst case kept from the first runs: 23 words, each in ~83 % of
chunks, so that every keyword query scores nearly every chunk.

    python bench/scale.py [--sizes 10000,100000,1000000] [--queries 100] [--vocabulary zipf]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import psutil

from bench.common import ms, save, timed, timed_each
from bot.factory import Components
from config import load_settings
from ingest.model.records import Chunk, ChunkMeta
from ingest.run.wire_copies import COPY_CANDIDATES
from ingest.text.ids import chunk_id
from tests.peers import ChromaServer

TINY = ("harbour council budget ferry election striker transfer profit shares court ruling "
        "minister album chart robot network phone airline bank strike vote tax oil").split()
ZIPF_TYPES, ZIPF_STOP = 30_000, 200


class Vocabulary:
    """The words synthetic chunks are made of (see the module docstring)."""

    def __init__(self, kind: str) -> None:
        if kind == "tiny":
            self.words = TINY
            self.weights = np.full(len(TINY), 1 / len(TINY))
        else:
            # Pronounceable letters-only types ("tokens" the analyzer keeps whole).
            letters = "bcdfghjklmnprstvz"
            self.words = ["".join(letters[(n // 17**i) % 17] + "aeiou"[(n // 5**i) % 5]
                                  for i in range(4)) for n in range(ZIPF_TYPES)]
            ranks = np.arange(1, ZIPF_TYPES + 1, dtype=np.float64)
            weights = 1 / ranks
            weights[:ZIPF_STOP] = 0
            self.weights = weights / weights.sum()

    def draw(self, rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
        return rng.choice(len(self.words), size=shape, p=self.weights)


VOCABULARY = Vocabulary("zipf")


def synthetic(start: int, count: int, rng: np.random.Generator, words: str = ""
              ) -> tuple[list[Chunk], np.ndarray, list[ChunkMeta]]:
    vectors = rng.standard_normal((count, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    chunks, metas = [], []
    picks = VOCABULARY.draw(rng, (count, 40))
    for offset in range(count):
        n = start + offset
        text = " ".join(VOCABULARY.words[i] for i in picks[offset]) + f" item{n} {words}"
        article = f"synthetic/{n // 4:07d}"
        chunks.append(Chunk(id=chunk_id(article, n % 4), article_id=article, index=n % 4,
                            text=text, header=f"Story {n // 4}", start=0, end=len(text)))
        metas.append(ChunkMeta(article_id=article, chunk_index=n % 4, chunk_count=4,
                               title=f"Story {n // 4}", source="synthetic",
                               published=datetime.fromtimestamp(1_100_000_000 + n, tz=UTC),
                               content_hash="x", text_hash="x"))
    return chunks, vectors, metas


def keyword_search(ranking: Any, question: str) -> object:
    return ranking.search(question, 40)


def bot(data_dir: str, url: str) -> None:
    """The bot process: answers JSON commands on stdin, one JSON result per line."""
    settings = load_settings(data_dir=data_dir, **{"store.url": url,
                                                   "store.collection": "scale"})
    components = Components(settings)
    engine = components.build_engine()
    index = components.keyword_index
    for line in sys.stdin:
        command = json.loads(line)
        t0 = time.perf_counter()
        result: dict[str, Any] = {}
        if command["cmd"] == "sync":
            index.current()
        elif command["cmd"] == "ask":
            answer = engine.ask(command["question"])
            result["cited"] = [c.passage.chunk_id for c in answer.citations]
        elif command["cmd"] == "search":
            questions = command["questions"]
            vectors = [components.query_embedder.embed([q])[0] for q in questions]
            engine.search(questions[0])
            bare = timed_each(vectors, lambda v: components.store.query(v, 40))
            keywords = index.current()
            bare_keyword = timed_each(questions, partial(keyword_search, keywords))
            search = timed_each(questions, engine.search)
            result.update(bare_dense_query_ms=ms(bare), bare_keyword_query_ms=ms(bare_keyword),
                          search_ms=ms(search))
        result["seconds"] = round(time.perf_counter() - t0, 3)
        if index.last_sync is not None:
            result["sync"] = {"kind": index.last_sync.kind, "chunks": index.last_sync.chunks}
        result["rss_mb"] = round(psutil.Process().memory_info().rss / 2**20)
        print(json.dumps(result), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--vocabulary", choices=["zipf", "tiny"], default="zipf")
    parser.add_argument("--bot", nargs=2, metavar=("DATA_DIR", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bot:
        bot(*args.bot)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = np.random.default_rng(7)
    global VOCABULARY
    VOCABULARY = Vocabulary(args.vocabulary)
    # Five words, drawn as the chunks' words are.
    questions = [" ".join(VOCABULARY.words[i] for i in row)
                 for row in VOCABULARY.draw(rng, (args.queries, 5))]

    with tempfile.TemporaryDirectory() as tmp:
        server = ChromaServer(Path(tmp) / "server")
        server.start()
        settings = load_settings(data_dir=str(Path(tmp) / "writer"),
                                 **{"store.url": server.url, "store.collection": "scale"})
        store = Components(settings).store
        def start_bot() -> subprocess.Popen[str]:
            return subprocess.Popen(
                [sys.executable, __file__, "--bot", str(Path(tmp) / "bot"), server.url],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

        def ask_bot(bot: subprocess.Popen[str], **command: Any) -> dict[str, Any]:
            assert bot.stdin is not None and bot.stdout is not None
            bot.stdin.write(json.dumps(command) + "\n")
            bot.stdin.flush()
            return dict(json.loads(bot.stdout.readline()))

        def stop_bot(bot: subprocess.Popen[str]) -> None:
            assert bot.stdin is not None
            bot.stdin.close()
            bot.wait(timeout=60)

        peer = start_bot()

        ask_bot(peer, cmd="sync")
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
            # The wire-copy lookup an ingest makes per batch of 200 new articles: their
            # first chunks' nearest stored first chunks (ingest/run/writing.py).
            batch = rng.normal(size=(200, 384)).astype(np.float32)
            batch /= np.linalg.norm(batch, axis=1, keepdims=True)
            _, lookup_s = timed(partial(store.nearest_leads, batch, COPY_CANDIDATES))
            caught_up = ask_bot(peer, cmd="sync")
            searched = ask_bot(peer, cmd="search", questions=questions)
            news = synthetic(inserted, 1, rng, words=f"zeppelin{size} hangar opened")
            store.upsert(*news)
            inserted += 1
            first = ask_bot(peer, cmd="ask", question=f"What did the zeppelin{size} hangar do?")
            stop_bot(peer)
            peer = start_bot()  # restarted: opens its replica, answers
            restarted = ask_bot(peer, cmd="ask", question=f"What did the zeppelin{size} hangar do?")
            assert server.process is not None
            row = {
                "chunks": store.count(),
                "insert_chunks_per_s": round(size / insert_s) if insert_s else None,
                "wire_copy_lookup_per_200_articles_s": round(lookup_s, 3),
                "catch_up_after_bulk_insert": {"s": caught_up["seconds"],
                                               **caught_up.get("sync", {})},
                "bare_dense_query_ms": searched["bare_dense_query_ms"],
                "bare_keyword_query_ms": searched["bare_keyword_query_ms"],
                "search_ms": searched["search_ms"],
                "search_over_bare_p50": round(searched["search_ms"]["p50"]
                                              / searched["bare_dense_query_ms"]["p50"], 2),
                "first_answer_after_one_article": {
                    "s": first["seconds"], **first.get("sync", {}),
                    "cites_it": news[0][0].id in first["cited"]},
                "bot_rss_mb": searched["rss_mb"],
                "restarted_bot": {"first_answer_s": restarted["seconds"],
                                  **restarted.get("sync", {}), "rss_mb": restarted["rss_mb"]},
                "chroma_server_rss_mb": round(
                    psutil.Process(server.process.pid).memory_info().rss / 2**20),
            }
            print(row, flush=True)
            results.append(row)
        stop_bot(peer)
        server.stop()
    save(f"scale-{args.vocabulary}", {"queries": args.queries, "vocabulary": args.vocabulary,
                                      "sizes": results})


if __name__ == "__main__":
    main()
