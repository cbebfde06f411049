"""The ranker: which sentences answer a question, as a fine-tuned sentence embedder sees it.

A bi-encoder (all-MiniLM-L6-v2 fine-tuned on our own question set, `bench/train_ranker.py`;
card in `retrieval/answer/ranker_model/README.md`) embeds the question and each candidate sentence
(with its headline) apart; the score is their cosine. Embedding apart is what makes it cheap
enough to score every sentence an answer engine reads (≈ 3 ms a sentence on 2 CPU cores),
where the reader (`retrieval/answer/reader.py`, a cross-encoder) reads only the best few for the
answer span.

Loaded with onnxruntime + tokenizers (int8 ONNX shipped in the package): no torch at answer
time, no download.
"""

from __future__ import annotations

import collections
import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import numpy as np

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RankerInput:
    """One candidate: its sentence and its article's headline ("" when the sentence is the
    headline itself)."""

    sentence: str
    headline: str = ""


class RankerProtocol(Protocol):
    def similarities(self, question: str, candidates: Sequence[RankerInput],
                     context: str | None = None) -> list[float]: ...


def question_text(question: str, context: str | None = None) -> str:
    """What the ranker embeds for a question: a follow-up carries the question it follows, in
    brackets (the form it was trained on)."""
    return f"{question} ({context})" if context else question


def candidate_text(candidate: RankerInput) -> str:
    """What the ranker embeds for a sentence: "headline. sentence" (headline alone when it is
    the candidate). The headline names what a sentence's "it" and "the company" are."""
    if candidate.headline and candidate.headline != candidate.sentence:
        return f"{candidate.headline}. {candidate.sentence}"
    return candidate.sentence


def model_directory() -> Path:
    return Path(__file__).resolve().parent / "ranker_model"


class Ranker:
    """RankerProtocol on the shipped int8 ONNX model (or one in `directory`).

    `similarities` → cosine in [-1, 1] per candidate, in order. Texts are cut at the model's
    token limit (`ranker.json` "max_tokens"). FileNotFoundError when the model is missing."""

    def __init__(self, directory: Path | None = None, threads: int = 2,
                 batch_size: int = 16, cached: int = 20_000) -> None:
        self.directory = directory or model_directory()
        self._threads = threads
        self._batch_size = batch_size
        self._lock = threading.Lock()  # one session run at a time: its threads are the budget
        # candidate text -> its vector: a story being asked about is embedded once, not per
        # question (20,000 vectors ≈ 31 MB)
        self._cached = cached
        self._vectors: collections.OrderedDict[str, np.ndarray] = collections.OrderedDict()

    @cached_property
    def config(self) -> dict[str, Any]:
        config: dict[str, Any] = json.loads((self.directory / "ranker.json").read_text())
        return config

    @cached_property
    def _session(self) -> Any:
        from ingest.embed.onnx_embedder import cpu_session

        return cpu_session(self.directory / "model.onnx", self._threads)

    @cached_property
    def _tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.directory / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=int(self.config.get("max_tokens", 128)))
        return tokenizer

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """[len(texts), dimension] unit vectors."""
        from ingest.embed.onnx_embedder import embed_batches

        dimension = int(self.config.get("dimension", 384))
        if not texts:
            return np.zeros((0, dimension), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(list(texts))
        with self._lock:
            return embed_batches(self._session, encodings, self._batch_size, dimension)

    def similarities(self, question: str, candidates: Sequence[RankerInput],
                     context: str | None = None) -> list[float]:
        if not candidates:
            return []
        texts = [candidate_text(c) for c in candidates]
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
        new = list(dict.fromkeys(t for t in texts if t not in known))
        vectors = self.embed([question_text(question, context), *new])
        known.update(zip(new, vectors[1:], strict=True))
        with self._lock:
            for text in texts:
                self._vectors[text] = known[text]
                self._vectors.move_to_end(text)
            while len(self._vectors) > self._cached:
                self._vectors.popitem(last=False)
        matrix = np.stack([known[t] for t in texts])
        return [float(v) for v in matrix @ vectors[0]]
