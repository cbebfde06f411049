"""The leads collection, `<name>-leads`: every article's first chunk vector (keyed by the
chunk's id), so that ingest's wire-copy lookup is one unfiltered HNSW query over the articles
rather than a query filtered on `chunk_index = 0` over every chunk (linear in the store)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ingest.model.records import StoredChunk
from ingest.store.guard import guarded

log = logging.getLogger(__name__)

# Set in the leads collection's metadata once it holds every stored article's first chunk.
LEADS_FILLED = "filled"


class LeadsCollection:
    """Never searched by a question, counted, logged or indexed: ChromaStore writes a lead
    before its chunk and deletes it after, so a crash leaves at most a lead without a chunk."""

    def __init__(self, leads: Any, name: str, location: str, max_batch: int) -> None:
        self._leads = leads
        self._name = name
        self._location = location
        self._max_batch = max_batch
        self.checked = False  # known filled on this connection: no need to read the mark again

    def put(self, ids: Sequence[str], vectors: np.ndarray, article_ids: Sequence[str]) -> None:
        with guarded(self._location, "write first chunks"):
            self._leads.upsert(ids=list(ids), embeddings=vectors,
                               metadatas=[{"article_id": a} for a in article_ids])

    def delete(self, ids: Sequence[str]) -> None:
        with guarded(self._location, "delete first chunks"):
            self._leads.delete(ids=list(ids))

    def held(self) -> set[str]:
        """The chunk ids of every lead held."""
        with guarded(self._location, "read first chunks"):
            return set(self._leads.get(include=[])["ids"])

    def nearest(self, vectors: np.ndarray, n: int) -> list[list[tuple[str, float]]]:
        """For each vector, the chunk ids of the `n` nearest leads, each with its cosine
        similarity to the vector."""
        with guarded(self._location, "search"):
            if self._leads.count() == 0:
                return [[] for _ in range(len(vectors))]
            result = self._leads.query(query_embeddings=list(vectors), n_results=n,
                                       include=["distances"])
        return [[(i, 1.0 - distance) for i, distance in zip(ids, distances, strict=True)]
                for ids, distances in zip(result["ids"], result["distances"], strict=True)]

    def is_filled(self) -> bool:
        """Whether the collection is marked as holding every article's first chunk."""
        with guarded(self._location, "read first chunks"):
            return bool((self._leads.metadata or {}).get(LEADS_FILLED))

    def mark_filled_if_new(self, chunk_count: Callable[[], int]) -> None:
        """Mark a new store's leads filled: its writers keep them from the start."""
        if not self.is_filled() and chunk_count() == 0:
            self.mark_filled()

    def mark_filled(self) -> None:
        with guarded(self._location, "write first chunks"):
            self._leads.modify(metadata={
                "newsdesk": f"first chunks of the articles of {self._name}", LEADS_FILLED: 1})

    def mend(self, stale: Sequence[str],
             missing: Sequence[tuple[StoredChunk, np.ndarray]]) -> None:
        """Delete the `stale` leads and add the `missing` first chunks, a batch at a time."""
        for start in range(0, len(stale), self._max_batch):
            self.delete(stale[start:start + self._max_batch])
        for start in range(0, len(missing), self._max_batch):
            batch = missing[start:start + self._max_batch]
            self.put([chunk.id for chunk, _ in batch],
                     np.asarray([vector for _, vector in batch]),
                     [chunk.meta.article_id for chunk, _ in batch])
        if stale or missing:
            log.info("wire-copy lookup: %d first chunks added, %d stale ones removed",
                     len(missing), len(stale))
