"""Hybrid search: dense (Chroma) + BM25, fused with reciprocal rank fusion, capped per article."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ingest.embedding import Embedder
from ingest.ids import article_of
from ingest.records import SearchFilter
from ingest.store import StoredChunk
from retrieval.bm25 import BM25Index, IndexedChunk
from retrieval.fusion import cap_per_group, reciprocal_rank_fusion
from retrieval.records import Passage

log = logging.getLogger(__name__)


class Reranker(Protocol):
    """Scores (query, passage text) pairs; higher is more relevant (e.g. a cross-encoder)."""

    def score(self, query: str, texts: Sequence[str]) -> list[float]: ...


class ChunkReader(Protocol):
    """The store operations search needs (ChromaStore implements them)."""

    def stamp(self) -> str: ...
    def changed_elsewhere(self, stamp: str) -> bool: ...
    def reopen(self) -> None: ...
    def count(self) -> int: ...
    def iter_chunks(self, include_text: bool = True) -> Iterator[StoredChunk]: ...
    def query(self, vector: np.ndarray, k: int, where: SearchFilter | None = None
              ) -> list[tuple[StoredChunk, float]]: ...
    def get(self, ids: Sequence[str]) -> list[StoredChunk]: ...
    def chunks_of(self, article_ids: Sequence[str]) -> list[StoredChunk]: ...


class Searcher(Protocol):
    """What the answer chain needs from retrieval: ranked passages, and the rest of the top
    articles for the answerer to read."""

    def search(self, query: str, k: int, where: SearchFilter | None = None) -> list[Passage]: ...

    def context(self, passages: list[Passage], articles: int) -> list[Passage]: ...


@dataclass(frozen=True)
class HybridConfig:
    """How the rankings are fused; built from the [retrieval] settings, which hold the
    defaults (config/default.toml)."""

    dense_candidates: int
    bm25_candidates: int
    rrf_k: int
    per_article_cap: int
    dense_weight: float
    bm25_weight: float
    rerank_candidates: int


class HybridSearcher:
    def __init__(self, store: ChunkReader, embedder: Embedder, index_dir: Path,
                 config: HybridConfig, reranker: Reranker | None = None) -> None:
        self._store = store
        self._reranker = reranker
        self._embedder = embedder
        self._index_dir = index_dir
        self._config = config
        self._bm25: BM25Index | None = None
        self._lock = threading.Lock()

    # -- BM25 kept in step with the store ------------------------------------------------------

    def bm25(self) -> BM25Index:
        """The BM25 index for the store as it is now; rebuilt when the store's stamp moved."""
        stamp = self._store.stamp()
        with self._lock:
            if self._bm25 is not None and self._bm25.stamp == stamp:
                return self._bm25
            loaded = BM25Index.load(self._index_dir)
            if loaded is not None and loaded.stamp == stamp and len(loaded) == self._store.count():
                self._bm25 = loaded
                return loaded
            if self._bm25 is not None and self._store.changed_elsewhere(stamp):
                # Another process changed the store: an embedded client only sees the new
                # vectors after reconnecting. (Not after our own writes: reconnecting then
                # could pull the store from under a writer thread of this process.)
                self._store.reopen()
            log.info("building the BM25 index (store changed or index missing)")
            index = BM25Index.build(
                (IndexedChunk(c.id, _index_text(c), c.meta.source, c.meta.published_epoch)
                 for c in self._store.iter_chunks()),
                stamp,
            )
            try:
                index.save(self._index_dir)
            except OSError as exc:  # a read-only data dir still gets a correct in-memory index
                log.warning("cannot save the BM25 index to %s: %s", self._index_dir, exc)
            self._bm25 = index
            return index

    # -- search -------------------------------------------------------------------------------

    def search(self, query: str, k: int, where: SearchFilter | None = None) -> list[Passage]:
        config = self._config
        where = where or SearchFilter()
        vector = self._embedder.embed([query])[0]
        dense = self._store.query(vector, config.dense_candidates, where)
        sparse = self.bm25().search(query, config.bm25_candidates, where)
        rankings = [[c.id for c, _ in dense], [cid for cid, _ in sparse]]
        weights = [config.dense_weight, config.bm25_weight]
        known: dict[str, StoredChunk] = {c.id: c for c, _ in dense}
        fused = reciprocal_rank_fusion(rankings, k=config.rrf_k, weights=weights)
        if self._reranker is None:
            capped = cap_per_group(fused, article_of, config.per_article_cap)[:k]
        else:
            pool = fused[: config.rerank_candidates]
            self._fetch(known, [cid for cid, _ in pool])
            pool = [(cid, s) for cid, s in pool if cid in known]
            scores = self._reranker.score(query, [_index_text(known[cid]) for cid, _ in pool])
            reranked = sorted(zip((cid for cid, _ in pool), scores, strict=True),
                              key=lambda pair: -pair[1])
            capped = cap_per_group(reranked, article_of, config.per_article_cap)[:k]
        self._fetch(known, [cid for cid, _ in capped])
        return [
            Passage.of(cid, known[cid].text, known[cid].meta, score)
            for cid, score in capped if cid in known
        ]

    def _fetch(self, known: dict[str, StoredChunk], ids: Sequence[str]) -> None:
        missing = [cid for cid in ids if cid not in known]
        known.update({c.id: c for c in self._store.get(missing)})

    def context(self, passages: list[Passage], articles: int) -> list[Passage]:
        """The other chunks of the top `articles` articles, for the answerer to read: the best
        chunk of an article is not always the one that holds the answer."""
        top = list(dict.fromkeys(p.article_id for p in passages))[:articles]
        have = {p.chunk_id for p in passages}
        score = {p.article_id: p.score for p in passages}
        return [
            Passage.of(c.id, c.text, c.meta, score[c.meta.article_id])
            for c in self._store.chunks_of(top) if c.id not in have
        ]


def _index_text(chunk: StoredChunk) -> str:
    return f"{chunk.meta.title}\n{chunk.text}"
