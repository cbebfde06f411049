"""BM25 over the store's chunks (wraps bm25s), persisted beside the store and tied to its stamp.

The index is derived data: it is rebuilt from the store whenever the store's stamp differs from
the one the index was built from, so it can never silently lag behind ingest, update or prune.
"""

from __future__ import annotations

import json
import logging
import math
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from retrieval.records import SearchFilter

log = logging.getLogger(__name__)

_STEMMER = Stemmer.Stemmer("english")
FORMAT_VERSION = 1
# The same analysis bm25s.tokenize applies (its default token pattern, English stop-words,
# the Snowball stemmer), as a plain function for per-sentence use.
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_STOPWORDS = frozenset(STOPWORDS_EN)


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return str(_STEMMER.stemWord(word))


def analyze(text: str) -> list[str]:
    """Lower-cased, stop-worded, stemmed terms, as the index sees them."""
    return [_stem(w) for w in _TOKEN.findall(text.lower()) if w not in _STOPWORDS]


@dataclass(frozen=True)
class IndexedChunk:
    chunk_id: str
    text: str
    source: str | None
    published: int | None


class BM25Index:
    def __init__(self, retriever: bm25s.BM25, ids: list[str], sources: list[str | None],
                 published: list[int | None], stamp: str) -> None:
        self._retriever = retriever
        self.ids = ids
        self._sources = sources
        self._published = published
        self.stamp = stamp
        self._idf = self._document_frequencies()

    @classmethod
    def build(cls, chunks: Iterable[IndexedChunk], stamp: str) -> BM25Index:
        items = list(chunks)
        retriever = bm25s.BM25()
        if items:
            corpus = bm25s.tokenize([c.text for c in items], stopwords="en", stemmer=_STEMMER,
                                    show_progress=False)
            retriever.index(corpus, show_progress=False)
        return cls(retriever, [c.chunk_id for c in items], [c.source for c in items],
                   [c.published for c in items], stamp)

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, query: str, k: int, where: SearchFilter | None = None
               ) -> list[tuple[str, float]]:
        if not self.ids:
            return []
        terms = [t for t in analyze(query) if t in self._idf]
        if not terms:
            return []
        mask = None
        if where is not None and not where.empty:
            mask = np.array([where.accepts(s, p) for s, p in
                             zip(self._sources, self._published, strict=True)], dtype=np.float32)
            if not mask.any():
                return []
        k = min(k, len(self.ids))
        docs, scores = self._retriever.retrieve(
            [terms], k=k, show_progress=False, n_threads=1, weight_mask=mask
        )
        return [(self.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True)
                if s > 0]

    def terms(self, text: str) -> list[str]:
        return analyze(text)

    def idf(self, term: str) -> float:
        """Inverse document frequency of a stemmed term (unknown terms count as rare)."""
        return self._idf.get(term, self._max_idf)

    def _document_frequencies(self) -> dict[str, float]:
        vocab: dict[str, int] = getattr(self._retriever, "vocab_dict", None) or {}
        scores: dict[str, Any] = getattr(self._retriever, "scores", None) or {}
        n = max(1, len(self.ids))
        self._max_idf = math.log(1 + n)
        if not vocab or "indptr" not in scores:
            return {}
        indptr = np.asarray(scores["indptr"])
        frequencies = np.diff(indptr)
        return {
            term: math.log(1 + (n - float(frequencies[i]) + 0.5) / (float(frequencies[i]) + 0.5))
            for term, i in vocab.items() if i < len(frequencies)
        }

    # -- persistence --------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        tmp = directory.with_name(directory.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self.ids:
            self._retriever.save(str(tmp), show_progress=False)
        (tmp / "newsdesk.json").write_text(json.dumps({
            "format": FORMAT_VERSION, "stamp": self.stamp, "ids": self.ids,
            "sources": self._sources, "published": self._published,
        }))
        # Swap in whole so a reader never sees half an index.
        old = directory.with_name(directory.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if directory.exists():
            directory.rename(old)
        tmp.rename(directory)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path) -> BM25Index | None:
        meta_file = directory / "newsdesk.json"
        try:
            meta = json.loads(meta_file.read_text())
            if meta.get("format") != FORMAT_VERSION:
                return None
            retriever = (bm25s.BM25.load(str(directory), show_progress=False, verbosity=0)
                         if meta["ids"] else bm25s.BM25())
        except (OSError, ValueError, KeyError) as exc:
            log.info("BM25 index at %s not usable (%s); it will be rebuilt", directory, exc)
            return None
        return cls(retriever, meta["ids"], meta["sources"], meta["published"], meta["stamp"])
