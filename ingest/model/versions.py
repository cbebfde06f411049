"""Earlier versions of an article (pure): what a re-ingest that changes an article keeps.

When an article is read again with another text (or headline), the version the store held
is kept as a record of its own, apart from the chunks: never searched, counted in stats or
indexed by keywords (ingest/store/kept_versions.py keeps them in `<collection>-versions`).
retrieval/news/changes.py says what changed between two versions.

The stored version's text is rebuilt from its chunks: each chunk's text is
`article.text[start:end]`, and chunks overlap or are separated by whitespace only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ingest.model.records import Article, ChunkMeta


@dataclass(frozen=True)
class ArticleVersion:
    """One version of an article: its headline, text and dates.

    `number` counts an article's kept versions from 1, oldest first (it keeps counting when
    old ones are dropped); 0 is the current version, which lives in the chunks. `seen` is
    when Newsdesk last held this version as current (it was replaced then; store clock,
    UTC); None for the current version."""

    article_id: str
    title: str
    text: str
    text_hash: str
    published: datetime | None = None
    updated: datetime | None = None
    seen: datetime | None = None
    number: int = 0
    url: str | None = None
    source: str | None = None

    def same_content(self, other: ArticleVersion) -> bool:
        """The same headline and text (case and whitespace aside, as `text_hash` reads it)."""
        return self.text_hash == other.text_hash and self.title == other.title


def rebuild_text(pieces: Iterable[tuple[int, int, str]]) -> str:
    """An article's text from its chunks, given as (start, end, text) with offsets into the
    text: overlaps are read once, a gap (whitespace between sentences) becomes a space, or
    a paragraph break when it was longer than one character. Chunks stored without offsets
    (all 0) are joined by paragraph breaks (their overlap, if any, is then read twice)."""
    ordered = sorted(pieces, key=lambda piece: (piece[0], piece[1]))
    if not ordered:
        return ""
    if all(end <= start for start, end, _ in ordered):
        return "\n\n".join(text for _, _, text in ordered)
    parts: list[str] = []
    position = ordered[0][0]
    for start, end, text in ordered:
        if end <= position:
            continue
        if start > position:
            parts.append("\n\n" if start - position > 1 else " ")
            position = start
        parts.append(text[position - start:])
        position = end
    return "".join(parts)


def stored_version(chunks: Sequence[tuple[ChunkMeta, str]]) -> ArticleVersion | None:
    """The version of one article that its stored chunks (metadata and text) hold
    completely, or None when no version is complete (a write that was cut short: the
    version it replaced was kept before it began)."""
    by_hash: dict[str, list[tuple[ChunkMeta, str]]] = defaultdict(list)
    for meta, text in chunks:
        by_hash[meta.content_hash].append((meta, text))
    for group in by_hash.values():
        first = group[0][0]
        indexes = {meta.chunk_index for meta, _ in group}
        if indexes != set(range(first.chunk_count)):
            continue
        unique = {meta.chunk_index: (meta.start, meta.end, text) for meta, text in group}
        return ArticleVersion(
            article_id=first.article_id, title=first.title,
            text=rebuild_text(unique.values()), text_hash=first.text_hash,
            published=first.published, updated=first.updated, url=first.url,
            source=first.source)
    return None


def replaced_version(stored: ArticleVersion | None, new: Article) -> ArticleVersion | None:
    """The stored version to keep when `new` replaces it: None when nothing is stored or
    when `new` has the same headline and text (only its metadata, or how it is embedded,
    changed)."""
    if stored is None or (stored.text_hash == new.text_hash and stored.title == new.title):
        return None
    return stored


def is_new_version(version: ArticleVersion, kept: Sequence[ArticleVersion]) -> bool:
    """Whether `version` is not already the newest of the `kept` versions (oldest first):
    an ingest cut short after keeping a version keeps it once when run again."""
    return not kept or not kept[-1].same_content(version)


def over_bound(kept: Sequence[ArticleVersion], keep: int) -> list[ArticleVersion]:
    """The oldest of an article's kept versions (oldest first) beyond the newest `keep`."""
    ordered = sorted(kept, key=lambda version: version.number)
    return ordered[: max(0, len(ordered) - keep)]
