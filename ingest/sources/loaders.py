"""Load one source (a file or a URL) into Articles or per-item Failures, by its type; each
format's reader is in its own module beside this one. Nothing here touches the store or the
model."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from config.errors import SourceError
from config.settings import IngestSettings
from ingest.model.records import Failure
from ingest.sources.articles import LoadResult, NotModified, make_article
from ingest.sources.decode import charset_of, decode_bytes
from ingest.sources.discover import (
    HTML_SUFFIXES,
    JSON_SUFFIXES,
    JSONL_SUFFIXES,
    SUPPORTED_SUFFIXES,
    TEXT_SUFFIXES,
    SourceItem,
    path_article_id,
)
from ingest.sources.feeds import feed_articles, looks_like_feed
from ingest.sources.fetch import Fetcher
from ingest.sources.html_pages import html_articles
from ingest.sources.json_articles import json_articles, jsonl_articles
from ingest.sources.parse import parse_text_article
from ingest.text.ids import canonical_url

log = logging.getLogger(__name__)


def load(item: SourceItem, fetcher: Fetcher, limits: IngestSettings) -> Iterator[LoadResult]:
    """Yield the articles of one source, and a Failure for each part that cannot be read."""
    try:
        if item.is_url:
            yield from _load_url(item, fetcher, limits)
        else:
            yield from _load_file(item, fetcher, limits)
    except SourceError as exc:
        yield Failure(exc.source, exc.reason)
    except (RecursionError, ValueError, LookupError, TypeError, AttributeError) as exc:
        # Whatever one source does to a parser, it is that source's failure: the run goes on.
        log.warning("%s: unexpected %s while reading", item.location, type(exc).__name__,
                    exc_info=True)
        yield Failure(item.location, f"could not be read ({type(exc).__name__}: "
                                     f"{_first_line(exc)})")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:200]


# -- files, then URLs -----------------------------------------------------------------------


def _load_file(item: SourceItem, fetcher: Fetcher, limits: IngestSettings) -> Iterator[LoadResult]:
    path = Path(item.location)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise SourceError(str(path), f"unsupported file type {suffix or '(none)'}")
    try:
        size = path.stat().st_size
        if size > limits.max_file_bytes:
            raise SourceError(
                str(path), f"file too large ({size:,} bytes; the limit is "
                f"{limits.max_file_bytes:,}: raise [ingest] max_file_bytes in your settings "
                "file, or set NEWSDESK_INGEST__MAX_FILE_BYTES)"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(str(path), f"cannot read: {exc.strerror or exc}") from None
    if not data.strip():
        raise SourceError(str(path), "empty file")
    text = decode_bytes(data, str(path))
    fallback_id = path_article_id(item)
    defaults = _file_defaults(item)
    if suffix in TEXT_SUFFIXES:
        parsed = parse_text_article(text)
        if parsed.url:
            defaults["source"] = None  # the article's own site names it better than a folder
        yield make_article(
            read_from=str(path), fallback_id=fallback_id, origin=item.origin,
            title=parsed.title, text=parsed.body, url=parsed.url, author=parsed.author,
            published=parsed.published, updated=parsed.updated, **defaults,
        )
    elif suffix in HTML_SUFFIXES:
        yield from html_articles(text, str(path), fallback_id, item.origin, None, defaults)
    elif suffix in JSON_SUFFIXES:
        yield from json_articles(text, str(path), fallback_id, item.origin, defaults)
    elif suffix in JSONL_SUFFIXES:
        yield from jsonl_articles(text, str(path), fallback_id, item.origin, defaults)
    else:
        yield from feed_articles(data, str(path), item.origin, fetcher, limits)


def _file_defaults(item: SourceItem) -> dict[str, Any]:
    """Source = the ingested folder's name; category = the first sub-folder, if any."""
    relative = Path(path_article_id(item))
    source = Path(item.origin).name if item.root and Path(item.origin).is_dir() else None
    category = relative.parts[0] if len(relative.parts) > 1 else None
    return {"source": source, "category": category}


def _load_url(item: SourceItem, fetcher: Fetcher, limits: IngestSettings) -> Iterator[LoadResult]:
    fetched = fetcher.get(item.location, conditional=True)
    if fetched.not_modified:
        yield NotModified(item.location)
        return
    if not fetched.content.strip():
        raise SourceError(item.location, "empty response")
    if looks_like_feed(fetched):
        yield from feed_articles(fetched.content, item.location, item.origin, fetcher, limits)
        return
    text = decode_bytes(fetched.content, item.location, charset_of(fetched.content_type))
    yield from html_articles(text, item.location, canonical_url(fetched.url), item.origin,
                              fetched.url, {})
