"""The daily brief's adapter: the period from what a user typed, the period's leads from the
store, the brief composed by retrieval/news/brief.py."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

import numpy as np

from config.durations import parse_interval
from ingest.model.records import SearchFilter, StoredChunk
from ingest.sources.parse import parse_filter
from retrieval.news.brief import Brief, BriefItem, compose_brief
from retrieval.question.time_window import TimeWindow

log = logging.getLogger(__name__)

DEFAULT_PERIOD = "24h"


class LeadReader(Protocol):
    """The store read the brief needs (ChromaStore implements it)."""

    def leads(self, where: SearchFilter | None = None
              ) -> list[tuple[StoredChunk, np.ndarray]]: ...


def brief_filter(since: str | None, until: str | None, sources: Sequence[str] = (),
                 as_of: datetime | None = None) -> SearchFilter:
    """The period of a brief: `since` a duration back from `as_of` (default now: "24h",
    "3d") or a date (YYYY-MM-DD: from that day's start), `until` a date (that whole day) or,
    when absent, `as_of` (default now) — so `--since 2026-12-01` reads as `git log --since`
    does. ValueError for anything else."""
    since = since or DEFAULT_PERIOD
    try:
        seconds = parse_interval(since)
    except ValueError:
        seconds = None
    if seconds is not None:
        now = as_of or datetime.now(UTC)
        # Dates are compared as each publisher's wall clock read as UTC (SearchFilter).
        start = now - timedelta(seconds=seconds)
        end = parse_filter((), None, until).until if until else now
        return SearchFilter(sources=tuple(sources), since=start, until=end)
    where = parse_filter(tuple(sources), since, until)
    if where.since is not None and where.until is not None and where.until < where.since:
        raise ValueError(f"{until!r} is before since {since!r}")
    if until is None:
        return SearchFilter(sources=where.sources, since=where.since,
                            until=as_of or datetime.now(UTC))
    return where


def daily_brief(store: LeadReader, where: SearchFilter) -> Brief:
    """The brief of the articles `where` accepts (its window and sources)."""
    items = []
    for chunk, vector in store.leads(where):
        norm = float(np.linalg.norm(vector))
        items.append(BriefItem(chunk.id, chunk.text, chunk.meta,
                               vector / norm if norm else None))
    log.info("brief: %d articles", len(items))
    return compose_brief(items, TimeWindow(where.since, where.until))
