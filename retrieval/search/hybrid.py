"""Hybrid search: dense (Chroma) + BM25 (the keyword index), fused with reciprocal rank fusion,
capped per article."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from ingest.embed.embedder import Embedder
from ingest.model.records import SearchFilter, StoredChunk, StoreVersion
from ingest.text.ids import article_of
from retrieval.records import Passage, Reprint
from retrieval.search.fusion import cap_per_group, reciprocal_rank_fusion
from retrieval.search.keyword_index import index_text

log = logging.getLogger(__name__)


class Reranker(Protocol):
    """Scores (query, passage text) pairs; higher is more relevant (e.g. a cross-encoder)."""

    def score(self, query: str, texts: Sequence[str]) -> list[float]: ...


class ChunkReader(Protocol):
    """The store operations search needs (ChromaStore implements them)."""

    def version(self) -> StoreVersion: ...
    def changed_elsewhere(self, version: StoreVersion) -> bool: ...
    def reopen(self) -> None: ...
    def query(self, vector: np.ndarray, k: int, where: SearchFilter | None = None
              ) -> list[tuple[StoredChunk, float]]: ...
    def get(self, ids: Sequence[str]) -> list[StoredChunk]: ...
    def chunks_of(self, article_ids: Sequence[str]) -> list[StoredChunk]: ...


class KeywordRanking(Protocol):
    """The keyword index as of one store version: BM25, and the copies of wire stories."""

    def search(self, query: str, k: int, where: SearchFilter | None = None
               ) -> list[tuple[str, float]]: ...
    def reprints(self, groups: Sequence[str]) -> dict[str, list[Reprint]]: ...


class KeywordSource(Protocol):
    """The keyword index, as of a store version (retrieval.search.keyword_index.KeywordIndex)."""

    def current(self, version: StoreVersion | None = None) -> KeywordRanking: ...


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
    def __init__(self, store: ChunkReader, embedder: Embedder, keywords: KeywordSource,
                 config: HybridConfig, reranker: Reranker | None = None) -> None:
        self._store = store
        self._reranker = reranker
        self._embedder = embedder
        self._keywords = keywords
        self._config = config
        self._seen: StoreVersion | None = None
        self._lock = threading.Lock()

    def _keywords_now(self) -> KeywordRanking:
        """The keyword index as of the store now; the store client reconnected first when
        another process changed the store."""
        version = self._store.version()
        with self._lock:
            if (self._seen is not None and version != self._seen
                    and self._store.changed_elsewhere(version)):
                # An embedded client only sees vectors another process added after
                # reconnecting. (Not after our own writes: reconnecting then could pull the
                # store from under a writer thread of this process.)
                self._store.reopen()
            self._seen = version
        return self._keywords.current(version)

    # -- search -------------------------------------------------------------------------------

    def search(self, query: str, k: int, where: SearchFilter | None = None) -> list[Passage]:
        config = self._config
        where = where or SearchFilter()
        vector = self._embedder.embed([query])[0]
        dense = self._store.query(vector, config.dense_candidates, where)
        keywords = self._keywords_now()
        sparse = keywords.search(query, config.bm25_candidates, where)
        rankings = [[c.id for c, _ in dense], [cid for cid, _ in sparse]]
        weights = [config.dense_weight, config.bm25_weight]
        known: dict[str, StoredChunk] = {c.id: c for c, _ in dense}
        fused = reciprocal_rank_fusion(rankings, k=config.rrf_k, weights=weights)
        if self._reranker is None:
            capped = cap_per_group(fused, article_of, config.per_article_cap)
        else:
            pool = fused[: config.rerank_candidates]
            self._fetch(known, [cid for cid, _ in pool])
            pool = [(cid, s) for cid, s in pool if cid in known]
            scores = self._reranker.score(query, [index_text(known[cid]) for cid, _ in pool])
            reranked = sorted(zip((cid for cid, _ in pool), scores, strict=True),
                              key=lambda pair: -pair[1])
            capped = cap_per_group(reranked, article_of, config.per_article_cap)
        return _with_reprints(self._one_copy_each(capped, known, k), keywords)

    def _one_copy_each(self, ranked: list[tuple[str, float]], known: dict[str, StoredChunk],
                       k: int) -> list[Passage]:
        """The first k passages with one wire story copy each: the best-ranked copy stands
        for its group (the others are listed as reprints)."""
        passages: list[Passage] = []
        shown: dict[str, str] = {}  # wire story group → the article that stands for it
        start = 0
        while len(passages) < k and start < len(ranked):
            # Usually no story is shown twice: the first k are all that is read.
            window = ranked[start: start + k - len(passages)]
            start += len(window)
            self._fetch(known, [cid for cid, _ in window])
            for cid, score in window:
                chunk = known.get(cid)
                if chunk is None or shown.setdefault(
                        chunk.meta.group, chunk.meta.article_id) != chunk.meta.article_id:
                    continue
                passages.append(Passage.of(cid, chunk.text, chunk.meta, score))
                if len(passages) == k:
                    break
        return passages

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


def _with_reprints(passages: list[Passage], keywords: KeywordRanking) -> list[Passage]:
    """Each passage with the other copies of its wire story in the store (read from the
    keyword index, which holds every article's group: no scan of the store)."""
    if not passages:
        return passages
    members = keywords.reprints([p.group for p in passages])
    return [replace(p, reprints=tuple(r for r in members[p.group] if r.article_id != p.article_id))
            if len(members.get(p.group, [])) > 1 else p
            for p in passages]
