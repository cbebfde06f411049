"""Ingest benchmark on the BBC corpus (2,225 articles).

Reports, from one process and one run: articles/s and chunks/s for a first ingest; the ratio of
bare `SentenceTransformer.encode` time over the same chunk texts to the ingest time (the torch
ceiling on this machine, so 1.0 = no overhead; above 1 with `[embedding] precision = "int8"`,
NEWSDESK_EMBEDDING__PRECISION=int8); the unchanged re-ingest as a fraction of the first;
peak RSS. Targets: ratio >= 0.85 (float32; >= 1.2 with int8), re-ingest <= 1 %, peak RSS <= 2 GB.

    python bench/ingest.py [--corpus DIR] [--repeats 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bbc_corpus, median, peak_rss_mb, save, timed
from bot.factory import Components
from config import load_settings
from ingest.embed.embedder import SentenceTransformerEmbedder, load_sentence_transformer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=bbc_corpus())
    parser.add_argument("--repeats", type=int, default=1,
                        help="first-ingest repeats (each into a new store); medians reported")
    args = parser.parse_args()

    settings = load_settings()
    embedder = Components(settings).embedder
    embedder.embed(["warm up the model"])  # load outside the timings

    first_times, reingest_times, encode_times = [], [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as data_dir:
            components = Components(load_settings(data_dir=data_dir), embedder=embedder)
            ingestor = components.build_ingestor()
            sources = [str(args.corpus)]
            summary, first = timed(partial(ingestor.ingest, sources))
            rss_after_ingest = peak_rss_mb()
            again, second = timed(partial(ingestor.ingest, sources))
            assert again.unchanged == summary.added and again.chunks == 0
            texts = [f"{c.meta.header}\n{c.text}" for c in components.store.iter_chunks()]
            # The bare torch model: the baseline (with precision int8 ingest does not load it).
            model = (embedder._model if isinstance(embedder, SentenceTransformerEmbedder)
                     else load_sentence_transformer(settings.embedding.model, "cpu",
                                                    settings.embedding.threads))
            _, bare = timed(partial(
                model.encode, texts, batch_size=settings.embedding.batch_size,
                normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False))
        first_times.append(first)
        reingest_times.append(second)
        encode_times.append(bare)

    first_s, bare_s = median(first_times), median(encode_times)
    save("ingest" if settings.embedding.precision == "float32" else "ingest-int8", {
        "corpus": str(args.corpus),
        "articles": summary.added,
        "duplicates": len(summary.duplicates),
        "failed": len(summary.failed),
        "chunks": summary.chunks,
        "first_ingest_s": round(first_s, 2),
        "articles_per_s": round(summary.added / first_s, 2),
        "chunks_per_s": round(summary.chunks / first_s, 2),
        "bare_encode_s": round(bare_s, 2),
        "ratio_to_bare_encode": round(bare_s / first_s, 3),
        "unchanged_reingest_s": round(median(reingest_times), 2),
        "unchanged_reingest_fraction": round(median(reingest_times) / first_s, 4),
        "peak_rss_mb_after_ingest": round(rss_after_ingest, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "threads": settings.embedding.threads,
        "precision": settings.embedding.precision,
        "batch_size": settings.embedding.batch_size,
    })


if __name__ == "__main__":
    main()
