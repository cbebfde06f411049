"""RSS/Atom feeds to Articles: an entry's own text, or its linked page's where the entry is a
teaser; how entries without guid or link are named."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser

from config.errors import SourceError
from config.settings import IngestSettings
from ingest.model.records import Article, Failure
from ingest.sources.articles import LoadResult, Partial, make_article
from ingest.sources.decode import charset_of, decode_bytes
from ingest.sources.discover import is_url
from ingest.sources.fetch import Fetched, Fetcher
from ingest.sources.html_pages import html_article, html_fragment_text
from ingest.sources.parse import reconcile_date
from ingest.text.ids import canonical_url, sha256

log = logging.getLogger(__name__)


def looks_like_feed(fetched: Fetched) -> bool:
    if any(t in fetched.content_type for t in ("rss", "atom", "xml")):
        return "html" not in fetched.content_type
    head = fetched.content[:512].lstrip().lower()
    return head.startswith((b"<?xml", b"<rss", b"<feed", b"<rdf"))


def feed_articles(
    data: bytes, location: str, origin: str, fetcher: Fetcher, limits: IngestSettings
) -> Iterator[LoadResult]:
    feed = feedparser.parse(data)
    if not feed.entries:
        reason = f"not a valid feed ({feed.bozo_exception})" if feed.bozo else "feed has no entries"
        raise SourceError(location, reason)
    feed_title = feed.feed.get("title") or None
    # Relative entry links resolve against the feed's own URL (or, for a file, its site link).
    base = location if is_url(location) else feed.feed.get("link") or ""
    entries: list[tuple[str, Any, str]] = []
    for position, entry in enumerate(feed.entries, start=1):
        if entry.get("feedburner_origlink"):  # the article itself, not the tracking redirect
            entry["link"] = entry["feedburner_origlink"]
        if entry.get("link") and base:
            entry["link"] = urljoin(base, entry["link"])
        content = entry.get("content") or []
        html = content[0].get("value", "") if content else entry.get("summary", "")
        entries.append((f"{location} entry {position}", entry, html_fragment_text(html)))
    wanted = {read_from: entry["link"] for read_from, entry, text in entries
              if len(text) < limits.min_entry_chars and entry.get("link")
              and limits.fetch_entry_links}
    pages = _linked_pages(wanted, location, fetcher, limits)
    # Items that share one link but carry their own guid (radio bulletins, a live page's
    # updates) are different items, named by their guid: never versions of each other.
    links = Counter(entry.get("link") for _, entry, _ in entries if entry.get("link"))
    # Entries with neither guid nor link are named by their title (a corrected text is the
    # same item, updated), and by title and text where the feed repeats a title.
    titles = Counter(entry.get("title", "") for _, entry, _ in entries
                     if not entry.get("id") and not entry.get("link"))
    for read_from, entry, text in entries:
        shared = links[entry.get("link")] > 1 and bool(entry.get("id"))
        title = entry.get("title", "")
        nameless = f"{location}#{sha256(title, text if titles[title] > 1 else '')[:16]}"
        try:
            article, page_failure = _feed_entry(entry, read_from, text, feed_title, nameless,
                                                origin, pages.get(read_from), by_guid=shared)
        except SourceError as exc:
            malformed = f" (malformed feed: {feed.bozo_exception})" if feed.bozo else ""
            yield Failure(exc.source, exc.reason + malformed)
            continue
        if page_failure is not None:
            yield Partial(page_failure.source, "only the feed's teaser was stored; the linked "
                                               f"page failed: {page_failure.reason}")
        yield article


def _linked_pages(links: dict[str, str], feed: str, fetcher: Fetcher,
                  limits: IngestSettings) -> dict[str, Fetched | SourceError]:
    """The pages linked from a feed's entries (an entry's read_from → its page, or why it
    failed): at most `link_fetches` at a time, all within `source_deadline` seconds; each only
    where `linked_from` the feed is allowed (see ingest.sources.fetch.refusal)."""
    if not links:
        return {}
    pages: dict[str, Fetched | SourceError] = {}
    pool = ThreadPoolExecutor(max_workers=limits.link_fetches,
                              thread_name_prefix="newsdesk-link")
    try:
        futures = {pool.submit(fetcher.get, link, linked_from=feed): read_from
                   for read_from, link in links.items()}
        done, late = wait(futures, timeout=limits.source_deadline)
        for future in done:
            read_from = futures[future]
            try:
                pages[read_from] = future.result()
            except SourceError as exc:
                pages[read_from] = exc
        for future in late:
            future.cancel()
            pages[futures[future]] = SourceError(
                links[futures[future]], f"not fetched within the source's deadline "
                f"({limits.source_deadline:g} s; [ingest] source_deadline)")
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return pages


def _feed_entry(
    entry: Any, read_from: str, text: str, feed_title: str | None, nameless: str, origin: str,
    page: Fetched | SourceError | None, by_guid: bool = False,
) -> tuple[Article, SourceError | None]:
    """The entry's article (from its linked `page` where that was fetched and has more
    text), and the failure of its linked page if only the teaser is kept. An entry with
    neither guid nor link is named `nameless` (its feed and a digest of its title), never by
    its position (a new item at the top would rename every other)."""
    link = entry.get("link")
    published = _entry_date(entry, "published")
    updated = _entry_date(entry, "updated")
    if published is None:
        published, updated = updated, None  # a feed that gives only `updated` dates by it
    tags = entry.get("tags") or []
    category = tags[0].get("term") if tags else None
    page_failure: SourceError | None = None
    if isinstance(page, Fetched):
        # Where the request ended names the article, not a tracking redirect on the way.
        final = page.url or link
        try:
            article = html_article(
                decode_bytes(page.content, final, charset_of(page.content_type)), final,
                canonical_url(final), origin, final,
                {"source": feed_title, "category": category},
            )
            if len(article.text) > len(text) and not by_guid:
                return (_with_feed_fields(article, entry, published, updated, feed_title,
                                          category), None)
        except SourceError as exc:
            page = exc
    if isinstance(page, SourceError):
        if not text:
            raise page
        log.info("%s: using the feed summary; linked page failed: %s", read_from, page.reason)
        page_failure = page
    title = entry.get("title", "")
    fallback_id = entry.get("id") or nameless
    return make_article(
        read_from=read_from, fallback_id=fallback_id, identity=fallback_id if by_guid else None,
        origin=origin, title=title, text=text, url=link,
        author=entry.get("author"), source=feed_title, published=published, updated=updated,
        category=category,
    ), page_failure


def _entry_date(entry: Any, key: str) -> datetime | None:
    """An entry's `published` or `updated` date: feedparser's reading where the raw string
    agrees with it, else the raw string's own (feedparser misreads or drops dates outside
    RFC 822, e.g. `2026/11/23 15:07:41` as 1 November)."""
    library = None
    if entry.get(f"{key}_parsed"):
        year, month, day, hour, minute, second = entry[f"{key}_parsed"][:6]
        library = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    raw = entry.get(key)
    return reconcile_date(raw if isinstance(raw, str) else None, library)


def _with_feed_fields(
    article: Article, entry: Any, published: datetime | None, updated: datetime | None,
    feed_title: str | None, category: str | None,
) -> Article:
    """Prefer the feed's own metadata over what was scraped from the linked page."""
    return make_article(
        read_from=article.id, fallback_id=article.id, origin=article.origin,
        title=entry.get("title") or article.title, text=article.text, url=article.url,
        author=entry.get("author") or article.author, source=feed_title or article.source,
        published=published or article.published, updated=updated or article.updated,
        category=category or article.category,
    )
