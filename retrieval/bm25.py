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

from ingest.records import SearchFilter

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
        """The saved index, or None when it is missing, of another format or inconsistent
        (the caller rebuilds it): a damaged derived index must never be served."""
        meta_file = directory / "newsdesk.json"
        if not meta_file.exists():
            return None  # not built yet
        try:
            meta = json.loads(meta_file.read_text())
            if meta.get("format") != FORMAT_VERSION:
                return None
            retriever = (bm25s.BM25.load(str(directory), show_progress=False, verbosity=0)
                         if meta["ids"] else bm25s.BM25())
            problem = _inconsistency(retriever, meta)
            if problem is None:
                return cls(retriever, meta["ids"], meta["sources"], meta["published"],
                           meta["stamp"])
        except Exception as exc:  # numpy, json and bm25s raise many types on damaged files
            problem = f"{type(exc).__name__}: {exc}"
        log.warning("the BM25 index at %s is damaged (%s); rebuilding it", directory, problem)
        return None


def _inconsistency(retriever: bm25s.BM25, meta: dict[str, Any]) -> str | None:
    """What is wrong with a loaded index, or None if its parts agree with each other."""
    ids, sources, published = meta["ids"], meta["sources"], meta["published"]
    if not (isinstance(ids, list) and isinstance(sources, list) and isinstance(published, list)):
        return "its id lists are not lists"
    if not len(ids) == len(sources) == len(published):
        return f"{len(ids)} ids but {len(sources)} sources and {len(published)} dates"
    if len(set(ids)) != len(ids):
        return "repeated chunk ids"
    if not isinstance(meta.get("stamp"), str):
        return "no store stamp"
    if not ids:
        return None
    scores: dict[str, Any] = getattr(retriever, "scores", None) or {}
    vocab: dict[str, int] = getattr(retriever, "vocab_dict", None) or {}
    try:
        num_docs = int(scores["num_docs"])
        indptr, indices, data = (np.asarray(scores[k]) for k in ("indptr", "indices", "data"))
    except (KeyError, TypeError, ValueError):
        return "its score matrix is incomplete"
    if num_docs != len(ids):
        return f"{len(ids)} ids for a matrix of {num_docs} chunks"
    # bm25s keeps one column per term, plus an empty one for the "" token where it has one.
    if not len(vocab) <= len(indptr) <= len(vocab) + 1 or (
            vocab and max(vocab.values()) >= len(indptr)):
        return "vocabulary and matrix disagree"
    if len(indices) != len(data) or (len(indptr) and int(indptr[-1]) != len(indices)):
        return "matrix parts disagree in length"
    if len(indices) and (int(indices.max()) >= num_docs or int(indices.min()) < 0):
        return "matrix refers to chunks that are not there"
    return None
