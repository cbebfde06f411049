"""Faster per-core encoding, each variant measured for speed and for retrieval (issue 20 §2).

Variants of the configured model (all-MiniLM-L6-v2):
  torch          the bare `SentenceTransformer.encode`: the baseline, and today's vectors
  onnx-float32   the float32 ONNX export, length-sorted batches (same vectors as torch)
  onnx-int8      `[embedding] precision = "int8"`: graph-optimised, per-channel int8 weights
  torch-128      the torch model cut at 128 tokens instead of 256 (a shorter max length)

Speed: chunks/s over a fixed sample of the store's chunks (header + text, as ingest embeds
them), every variant once per round, rounds interleaved, medians; ratio to torch in the same
run. Retrieval: every chunk of the store re-embedded by the variant into a copy of the store,
questions embedded by the same variant, then hits@5 and MRR@10 of the full engine (hybrid
search, the configured answerer) on the question sets, scored by retrieval.answer.evaluation as
`newsdesk eval` does. A variant whose vectors equal torch's (cosine >= 0.9999 on the sample)
is not re-evaluated: its retrieval is torch's by construction.

`--batch-sizes 2,4,8,64` also times torch and int8 at each batch size (speed only: the
vectors are the same up to float rounding), every size once per round, rounds interleaved.

    python bench/encoders.py --data-dir DIR_WITH_BBC_STORE [--sample 512] [--rounds 3]
                             [--batch-sizes 2,4,8,64] [--skip-retrieval]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import SHARED, median, save
from bench.quality import load_questions
from bot.factory import Components
from config import load_settings
from config.settings import EmbeddingSettings
from ingest.embed.embedder import load_sentence_transformer
from ingest.embed.onnx_embedder import OnnxEmbedder, onnx_query_embedder
from retrieval.answer.evaluation import score_question, summarise

KS = [1, 5, 10]
Encode = Callable[[Sequence[str]], np.ndarray]


class VariantEmbedder:
    """The Embedder protocol over one variant's encode (questions and chunks alike)."""

    def __init__(self, encode: Encode, counter: OnnxEmbedder) -> None:
        self.name = counter.name
        self._encode = encode
        self._counter = counter
        self.max_tokens = counter.max_tokens
        self.dimension = counter.dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(list(texts))

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self._counter.count_tokens(texts)


def variants(cache: Path, threads: int, batch_size: int) -> dict[str, Encode]:
    model = load_sentence_transformer("all-MiniLM-L6-v2", "cpu", threads)

    def torch_encode(max_length: int) -> Encode:
        def encode(texts: Sequence[str]) -> np.ndarray:
            model.max_seq_length = max_length
            try:
                return np.asarray(model.encode(
                    list(texts), batch_size=batch_size, normalize_embeddings=True,
                    convert_to_numpy=True, show_progress_bar=False), dtype=np.float32)
            finally:
                model.max_seq_length = 256
        return encode

    found: dict[str, Encode] = {"torch": torch_encode(256)}
    for precision in ("float32", "int8"):
        onnx = onnx_query_embedder(
            EmbeddingSettings(precision=precision, threads=threads, batch_size=batch_size),
            cache)
        if onnx is None:
            raise SystemExit(f"could not export the {precision} ONNX model")
        found[f"onnx-{precision}"] = onnx.embed
    found["torch-128"] = torch_encode(128)
    return found


def batch_sweep(cache: Path, threads: int, sample: list[str], rounds: int,
                sizes: list[int]) -> dict[str, Any]:
    """chunks/s of torch and int8 at each batch size, and each over torch at the largest."""
    encoders: dict[tuple[str, int], Encode] = {}
    for size in sizes:
        found = variants(cache, threads, size)
        encoders[("torch", size)] = found["torch"]
        encoders[("onnx-int8", size)] = found["onnx-int8"]
    for encode in encoders.values():
        encode(sample[:16])
    times: dict[tuple[str, int], list[float]] = {key: [] for key in encoders}
    for _ in range(rounds):
        for key, encode in encoders.items():
            started = time.perf_counter()
            encode(sample)
            times[key].append(time.perf_counter() - started)
    base = median(times[("torch", max(sizes))])
    return {f"{name}@{size}": {"chunks_per_s": round(len(sample) / median(spent), 2),
                               "vs_torch_at_largest": round(base / median(spent), 3)}
            for (name, size), spent in times.items()}


def evaluate(data_dir: Path, embedder: Any, questions: list[Any]) -> dict[str, Any]:
    components = Components(load_settings(data_dir=str(data_dir)), embedder=embedder)
    engine = components.build_engine()
    engine.ask("warm up")
    scores = [score_question(item, engine.ask(item.question, item.history, k=max(KS)),
                             KS, max(KS)) for item in questions]
    overall = summarise(scores, KS, max(KS))["overall"]
    components.close()
    return {key: overall[key] for key in
            ("doc_hits@5", "mrr@10", "answer_accuracy", "lead_precision")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True,
                        help="a Newsdesk store of the BBC corpus built with torch vectors")
    parser.add_argument("--questions", type=Path, nargs="+",
                        default=[SHARED / "bbc-qa" / "dev.jsonl", SHARED / "bbc-qa" / "dev2.jsonl"])
    parser.add_argument("--sample", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-retrieval", action="store_true")
    parser.add_argument("--batch-sizes", default="",
                        help="comma-separated batch sizes to time torch and int8 at")
    args = parser.parse_args()

    settings = load_settings(data_dir=str(args.data_dir))
    threads, batch_size = settings.embedding.threads, settings.embedding.batch_size
    with tempfile.TemporaryDirectory() as scratch:
        encoders = variants(Path(scratch) / "onnx", threads, batch_size)
        counter = onnx_query_embedder(EmbeddingSettings(threads=threads), Path(scratch) / "onnx")
        assert counter is not None
        source = Components(settings, embedder=VariantEmbedder(encoders["torch"], counter))
        chunks = list(source.store.iter_chunks())
        source.close()
        ids = [chunk.id for chunk in chunks]
        texts = [f"{chunk.meta.header}\n{chunk.text}" for chunk in chunks]
        rng = np.random.default_rng(7)
        sample = [texts[i] for i in rng.choice(len(texts), size=min(args.sample, len(texts)),
                                                 replace=False)]

        times: dict[str, list[float]] = {name: [] for name in encoders}
        vectors: dict[str, np.ndarray] = {}
        for encode in encoders.values():
            encode(sample[:16])  # loaded and warm outside the timings
        for _ in range(args.rounds):
            for name, encode in encoders.items():
                started = time.perf_counter()
                vectors[name] = encode(sample)
                times[name].append(time.perf_counter() - started)
        base = median(times["torch"])
        report: dict[str, Any] = {"chunks_in_store": len(chunks), "sample": len(sample),
                                  "rounds": args.rounds, "threads": threads,
                                  "batch_size": batch_size, "variants": {}}
        if args.batch_sizes:
            report["batch_sizes"] = batch_sweep(
                Path(scratch) / "onnx", threads, sample, args.rounds,
                [int(size) for size in args.batch_sizes.split(",")])
        for name in encoders:
            cosine = np.sum(vectors[name] * vectors["torch"], axis=1)
            report["variants"][name] = {
                "chunks_per_s": round(len(sample) / median(times[name]), 2),
                "speed_vs_torch": round(base / median(times[name]), 3),
                "cosine_to_torch_mean": round(float(cosine.mean()), 4),
                "cosine_to_torch_min": round(float(cosine.min()), 4),
            }
        if not args.skip_retrieval:
            questions = [q for path in args.questions for q in load_questions(path)]
            report["questions"] = len(questions)
            for name, encode in encoders.items():
                entry = report["variants"][name]
                if name != "torch" and entry["cosine_to_torch_min"] >= 0.9999:
                    entry["retrieval"] = "same vectors as torch"
                    continue
                copy = Path(scratch) / f"store-{name}"
                shutil.copytree(args.data_dir, copy, ignore=shutil.ignore_patterns("onnx"))
                embedder = VariantEmbedder(encode, counter)
                if name != "torch":
                    started = time.perf_counter()
                    reembed(copy, embedder, ids, texts)
                    entry["reembed_all_s"] = round(time.perf_counter() - started, 1)
                entry["retrieval"] = evaluate(copy, embedder, questions)
                shutil.rmtree(copy)
    save("encoders", report)


def reembed(data_dir: Path, embedder: VariantEmbedder, ids: list[str], texts: list[str]) -> None:
    """Every chunk's vector replaced by the variant's (the copy's ids, texts and BM25 index
    stay as they are: only the dense side changes)."""
    components = Components(load_settings(data_dir=str(data_dir)), embedder=embedder)
    collection = components.store._collection  # bench only: rewrite vectors in place
    for start in range(0, len(ids), 512):
        batch = slice(start, start + 512)
        collection.update(ids=ids[batch], embeddings=embedder.embed(texts[batch]))
    components.close()


if __name__ == "__main__":
    main()
