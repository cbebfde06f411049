"""Typed records. Pydantic where outside data enters (JSON articles), frozen dataclasses inside."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

# What ingest reads (ingest.sources.discover's suffixes), as said to a person whose file it skipped.
READ_TYPES = "text, Markdown, HTML, JSON, JSONL and RSS/Atom files"

@dataclass(frozen=True)
class Article:
    """One news article, normalised. `id` is stable across runs (canonical URL or path)."""

    id: str
    title: str
    text: str
    url: str | None = None
    source: str | None = None
    author: str | None = None
    published: datetime | None = None
    # When the source says the article was last revised (RSS/Atom `updated`, JSON
    # `updated_at`, HTML `article:modified_time` / JSON-LD `dateModified`).
    updated: datetime | None = None
    category: str | None = None
    # What the user asked to ingest (a root path or URL); prune and failure handling use it.
    origin: str = ""
    # The file it was read from (absolute), for a file source: a folder prunes what lies
    # under it. Bookkeeping only, not part of the content hash.
    path: str = ""
    # Where exactly it was read (`file.jsonl:3`, `feed.rss entry 2`, a page URL), for reports.
    read_from: str = ""
    content_hash: str = ""
    text_hash: str = ""


@dataclass(frozen=True)
class Chunk:
    """A piece of an article as embedded: `header` + `text`; text = article.text[start:end]."""

    id: str
    article_id: str
    index: int
    text: str
    header: str
    start: int
    end: int

    @property
    def embed_text(self) -> str:
        return f"{self.header}\n{self.text}" if self.header else self.text


@dataclass(frozen=True)
class ChunkMeta:
    """Everything stored beside a chunk's text and vector: the one definition of a stored
    chunk's metadata (ingest.store.chunks converts it to and from Chroma's flat metadata)."""

    article_id: str
    chunk_index: int
    chunk_count: int
    # The article version (content + embedding model + chunking) the chunk belongs to; an
    # article is stored when all `chunk_count` chunks of exactly one version are there.
    content_hash: str
    text_hash: str
    title: str
    header: str = ""
    origin: str = ""
    path: str = ""
    url: str | None = None
    source: str | None = None
    author: str | None = None
    category: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    # The article this one is a near-copy of (a wire story republished with small edits):
    # the id its group is known by, set at ingest. None for an article standing alone.
    copy_of: str | None = None
    start: int = 0
    end: int = 0

    @classmethod
    def of(cls, article: Article, chunk: Chunk, content_hash: str, count: int) -> ChunkMeta:
        return cls(
            article_id=article.id, chunk_index=chunk.index, chunk_count=count,
            content_hash=content_hash, text_hash=article.text_hash, title=article.title,
            header=chunk.header, origin=article.origin, path=article.path, url=article.url,
            source=article.source, author=article.author, category=article.category,
            published=article.published, updated=article.updated, start=chunk.start,
            end=chunk.end,
        )

    @property
    def published_epoch(self) -> int | None:
        """The moment of publication, epoch seconds."""
        return _epoch(self.published)

    @property
    def calendar_epoch(self) -> int | None:
        """The publisher's wall-clock time of publication read as UTC: what date filters
        compare (its UTC day is the article's own calendar day)."""
        return calendar_epoch(self.published)

    @property
    def group(self) -> str:
        """The id of the wire story this article is a copy of, else its own id."""
        return self.copy_of or self.article_id


def _epoch(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value is not None else None


def calendar_epoch(value: datetime | None) -> int | None:
    """A time's own wall clock (in its own zone; naive is UTC) as if it were UTC, epoch
    seconds: 2026-11-20T09:00+11:00 gives the epoch of 2026-11-20T09:00Z. Comparing these
    compares calendar days and times as each article's publisher wrote them."""
    return int(value.replace(tzinfo=UTC).timestamp()) if value is not None else None


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as the store holds it: its id, its text (empty when not read) and metadata."""

    id: str
    text: str
    meta: ChunkMeta


@dataclass
class StoredArticle:
    """What the store holds for one article id, aggregated over its chunks."""

    article_id: str
    origin: str = ""
    path: str = ""
    text_hash: str = ""
    chunks_by_hash: Counter[str] = field(default_factory=Counter)
    expected_by_hash: dict[str, int] = field(default_factory=dict)
    published: datetime | None = None
    updated: datetime | None = None
    source: str = ""  # the outlet: two outlets' identical texts are copies, not duplicates

    def is_complete(self, content_hash: str) -> bool:
        """All chunks of exactly this version are present and nothing else is."""
        return (
            set(self.chunks_by_hash) == {content_hash}
            and self.chunks_by_hash[content_hash] == self.expected_by_hash.get(content_hash)
        )


def stored_articles(metas: Iterable[ChunkMeta]) -> dict[str, StoredArticle]:
    """What a store holds per article, from the metadata of all its chunks."""
    stored: dict[str, StoredArticle] = {}
    for meta in metas:
        entry = stored.setdefault(meta.article_id, StoredArticle(meta.article_id))
        entry.chunks_by_hash[meta.content_hash] += 1
        entry.expected_by_hash[meta.content_hash] = meta.chunk_count
        entry.origin = meta.origin or entry.origin
        entry.path = meta.path or entry.path
        entry.text_hash = meta.text_hash or entry.text_hash
        entry.published = meta.published or entry.published
        entry.updated = meta.updated or entry.updated
        entry.source = meta.source or entry.source
    return stored


@dataclass(frozen=True)
class SearchFilter:
    """Restrictions on which articles may be retrieved; the store adapter turns it into its
    own query language, in-memory indexes use `accepts`. A `sources` entry matches an
    article's source name or its origin (the folder, feed or page URL it was ingested as)."""

    sources: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None

    @property
    def empty(self) -> bool:
        return not self.sources and self.since is None and self.until is None

    def epoch_bounds(self) -> tuple[int | None, int | None]:
        """The date window in whole epoch seconds, both ends inclusive, as every index
        compares it with a chunk's `calendar_epoch` (an undated chunk is outside any window):
        wall-clock times read as UTC, so that "20 November" holds what each publisher dated
        20 November, whatever its zone."""
        return calendar_epoch(self.since), calendar_epoch(self.until)

    def accepts(self, source: str | None, published: int | None,
                origin: str | None = None) -> bool:
        """Whether a chunk of `source` (ingested from `origin`) published at `published` (its
        `calendar_epoch`) may be retrieved: the rule the store adapter's query applies, for indexes
        that filter in Python."""
        if self.sources and source not in self.sources and origin not in self.sources:
            return False
        since, until = self.epoch_bounds()
        if since is not None and (published is None or published < since):
            return False
        return not (until is not None and (published is None or published > until))


@dataclass(frozen=True)
class StoreVersion:
    """Which store (its collection's id: a collection made again under the same name is
    another store) and the token of its last finished write (changes with every write)."""

    store: str
    head: str

    def __str__(self) -> str:
        return f"{self.store}@{self.head}"


@dataclass(frozen=True)
class Failure:
    """A source that could not be ingested, with a reason a user can act on."""

    source: str
    reason: str


@dataclass
class IngestSummary:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks: int = 0
    duplicates: list[dict[str, str]] = field(default_factory=list)
    # Near-copies of a stored wire story (stored, and grouped with it).
    wire_copies: list[dict[str, str]] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    # Files in the folders read whose type Newsdesk does not read
    # (ingest.sources.discover.Discovered).
    skipped: list[Failure] = field(default_factory=list)
    not_modified: list[str] = field(default_factory=list)  # URLs that answered 304
    # Stored, but with less than the source had (a feed teaser whose linked page failed).
    partial: list[Failure] = field(default_factory=list)
    # Older versions of an article read beside a newer one (a daily export repeating a story
    # that a later export corrected): {"id", "source", "newer": where the kept version is}.
    superseded: list[dict[str, str]] = field(default_factory=list)
    # Articles read but left to the other workers of a sharded ingest (--shard i/N).
    other_shards: int = 0
    # Article ids this run wrote: id → "added" | "updated" (what saved questions are checked
    # against), and the alerts those checks sent (bot.app.watches: Alert.as_dict()).
    changed: dict[str, str] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    # Changes an earlier, interrupted run wrote whose saved questions were never checked
    # (ingest/store/change_journal.py): checked after this run, with `changed`.
    unchecked: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "duplicates": list(self.duplicates),
            "wire_copies": list(self.wire_copies),
            "failed": [{"source": f.source, "reason": f.reason} for f in self.failed],
            "skipped": [{"source": f.source, "reason": f.reason} for f in self.skipped],
            "chunks": self.chunks,
            "not_modified": list(self.not_modified),
            "partial": [{"source": f.source, "reason": f.reason} for f in self.partial],
            "superseded": list(self.superseded),
            "other_shards": self.other_shards,
            "changed": dict(self.changed),
            "alerts": list(self.alerts),
        }


class ArticleIn(BaseModel):
    """An article as it arrives in JSON/JSONL; field names follow common export formats."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    title: str = Field("", validation_alias=AliasChoices("title", "headline", "name"))
    text: str = Field(
        "",
        validation_alias=AliasChoices("body", "text", "content", "article", "description"),
    )
    url: str | None = Field(None, validation_alias=AliasChoices("url", "link", "canonical_url"))
    author: str | None = Field(None, validation_alias=AliasChoices("author", "byline", "authors"))
    source: str | None = Field(
        None, validation_alias=AliasChoices("source", "publisher", "site_name")
    )
    published: str | int | float | None = Field(
        None,
        validation_alias=AliasChoices(
            "published_at", "published", "date", "pubDate", "publishedAt", "time",
            "datePublished",
        ),
    )
    updated: str | int | float | None = Field(
        None,
        validation_alias=AliasChoices(
            "updated_at", "updated", "modified", "modified_at", "updatedAt", "dateModified",
        ),
    )
    category: str | None = Field(None, validation_alias=AliasChoices("category", "section"))
    id: str | int | None = None

    @field_validator("author", "source", "category", mode="before")
    @classmethod
    def _flatten(cls, value: Any) -> Any:
        """Accept ["A", "B"] authors and {"name": "..."} sources as exports often have them."""
        if isinstance(value, dict):
            value = value.get("name") or value.get("title")
        if isinstance(value, list):
            names = [cls._flatten(item) for item in value]
            value = ", ".join(str(n) for n in names if n)
        return value or None

    @field_validator("title", "text", mode="before")
    @classmethod
    def _none_to_empty(cls, value: Any) -> Any:
        return "" if value is None else value
