"""What `newsdesk stats` shows of a store, counted from its chunks' metadata (pure)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from ingest.model.records import ChunkMeta


def store_stats(metas: Iterable[ChunkMeta]) -> dict[str, Any]:
    """Articles, dated articles, wire copies and chunks; articles per source, most first;
    the first and last publication day (ISO dates, None for a store with no dated article).
    Each article is counted by the first of its chunks met."""
    articles: set[str] = set()
    sources: Counter[str] = Counter()
    dates: list[int] = []
    copies = 0
    chunks = 0
    for meta in metas:
        chunks += 1
        if meta.article_id in articles:
            continue
        articles.add(meta.article_id)
        sources[meta.source or "(none)"] += 1
        if meta.published_epoch is not None:
            dates.append(meta.published_epoch)
        copies += meta.copy_of is not None
    return {
        "articles": len(articles),
        "dated_articles": len(dates),
        "wire_copies": copies,
        "chunks": chunks,
        "sources": dict(sorted(sources.items(), key=lambda kv: (-kv[1], kv[0]))),
        "published_from": _iso(min(dates)) if dates else None,
        "published_to": _iso(max(dates)) if dates else None,
    }


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).date().isoformat()
