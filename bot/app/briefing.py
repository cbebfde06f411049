"""The daily brief's adapter: the period's leads from the store, the brief composed by
retrieval/news/brief.py (the period is read from what a user typed by bot.app.user_values)."""

from __future__ import annotations

import logging
from typing import Protocol

import numpy as np

from ingest.model.records import SearchFilter, StoredChunk
from retrieval.news.brief import Brief, BriefItem, compose_brief
from retrieval.question.time_window import TimeWindow

log = logging.getLogger(__name__)

class LeadReader(Protocol):
    """The store read the brief needs (ChromaStore implements it)."""

    def leads(self, where: SearchFilter | None = None
              ) -> list[tuple[StoredChunk, np.ndarray]]: ...


def daily_brief(store: LeadReader, where: SearchFilter) -> Brief:
    """The brief of the articles `where` accepts (its window and sources)."""
    items = []
    for chunk, vector in store.leads(where):
        norm = float(np.linalg.norm(vector))
        items.append(BriefItem(chunk.id, chunk.text, chunk.meta,
                               vector / norm if norm else None))
    log.info("brief: %d articles", len(items))
    return compose_brief(items, TimeWindow(where.since, where.until))
