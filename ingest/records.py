"""Typed records. Pydantic where outside data enters (JSON articles), frozen dataclasses inside."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator


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
    category: str | None = None
    # What the user asked to ingest (a root path or URL); prune and failure handling use it.
    origin: str = ""
    # The file it was read from (absolute), for a file source: a folder prunes what lies
    # under it. Bookkeeping only, not part of the content hash.
    path: str = ""
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
    failed: list[Failure] = field(default_factory=list)
    not_modified: list[str] = field(default_factory=list)  # URLs that answered 304
    # Stored, but with less than the source had (a feed teaser whose linked page failed).
    partial: list[Failure] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "duplicates": list(self.duplicates),
            "failed": [{"source": f.source, "reason": f.reason} for f in self.failed],
            "chunks": self.chunks,
            "not_modified": list(self.not_modified),
            "partial": [{"source": f.source, "reason": f.reason} for f in self.partial],
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
            "published_at", "published", "date", "pubDate", "publishedAt", "time"
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
