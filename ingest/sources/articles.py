"""An Article from the fields a format gives (normalised, named, hashed), and what loading a
source yields besides articles."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from config.errors import SourceError
from ingest.model.records import Article, Failure
from ingest.sources.discover import is_url
from ingest.sources.parse import drop_boilerplate, plain_title
from ingest.text.ids import canonical_url, normalise_text, sha256, strip_controls, text_hash

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NotModified:
    """A URL source that answered 304: its articles are as stored last time."""

    location: str


@dataclass(frozen=True)
class Partial:
    """An article was stored with less than its source offered, and why (a feed entry kept
    as its teaser because the linked page could not be loaded)."""

    location: str
    reason: str


LoadResult = Article | Failure | NotModified | Partial


def make_article(
    *,
    read_from: str,
    fallback_id: str,
    origin: str,
    title: str,
    text: str,
    url: str | None = None,
    author: str | None = None,
    source: str | None = None,
    published: datetime | None = None,
    updated: datetime | None = None,
    category: str | None = None,
    identity: str | None = None,
) -> Article:
    """Normalise fields, pick the stable id (`identity` when given, else the canonical URL,
    else `fallback_id`) and compute hashes; no text is a SourceError."""
    body, dropped = drop_boilerplate(normalise_text(text))
    if dropped:
        log.info("%s: dropped %d paywall/newsletter/advertiser paragraphs", read_from, dropped)
    if not body:
        raise SourceError(read_from, "no article text found")
    try:
        canonical = canonical_url(url) if url and is_url(url) else None
    except ValueError as exc:  # "https://[::1", a port past 65535
        raise SourceError(read_from, f"invalid URL ({exc})") from None
    title = " ".join(strip_controls(plain_title(title)).split()) or body.split("\n", 1)[0][:100]
    if canonical and not source:
        source = (urlsplit(canonical).hostname or "").removeprefix("www.") or None
    author = " ".join(strip_controls(plain_title(author)).split()) if author else None
    source = strip_controls(source).strip() or None if source else None
    published_iso = published.astimezone(UTC).isoformat() if published else ""
    if updated is not None and published is not None and updated <= published:
        updated = None  # "updated" at or before publication says nothing
    # Only a present `updated` joins the hash: articles stored before it was read keep
    # their version (no re-embedding on upgrade).
    revised = (updated.astimezone(UTC).isoformat(),) if updated else ()
    # The publisher's offset joins the hash only when it is not UTC: those articles are stored
    # again once, with their own calendar day; the others keep their version.
    offset = published.utcoffset() if published is not None else None
    if offset:
        revised = (*revised, f"utc_offset={int(offset.total_seconds())}")
    return Article(
        id=identity or canonical or fallback_id,
        title=title,
        text=body,
        url=canonical,
        source=source,
        author=author or None,
        published=published,
        updated=updated,
        category=category,
        origin=origin,
        read_from=read_from,
        content_hash=sha256(
            title, body, canonical or "", source or "", author or "", published_iso,
            category or "", *revised,
        ),
        text_hash=text_hash(body),
    )
