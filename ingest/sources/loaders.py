"""Turn sources (files, directories, URLs, feeds) into Articles or per-item Failures.

Each format is wrapped by one small function; nothing here touches the store or the model.
"""

from __future__ import annotations

import codecs
import json
import logging
import os
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, Protocol
from urllib.parse import urljoin, urlsplit

import feedparser
import lxml.html
import trafilatura
from pydantic import ValidationError
from trafilatura.metadata import extract_metadata
from trafilatura.utils import load_html

from config.errors import SourceError
from config.settings import IngestSettings
from ingest.model.records import READ_TYPES, Article, ArticleIn, Failure
from ingest.sources.fetch import Fetched
from ingest.sources.parse import (
    TitleEvidence,
    choose_headline,
    drop_boilerplate,
    is_prompt,
    parse_date,
    parse_text_article,
    plain_title,
    reconcile_date,
)
from ingest.text.ids import canonical_url, normalise_text, sha256, strip_controls, text_hash

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
JSON_SUFFIXES = {".json"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
FEED_SUFFIXES = {".rss", ".atom", ".xml"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES | JSONL_SUFFIXES | FEED_SUFFIXES
# Files that describe a folder rather than being articles; skipped when walking directories
# (a file named explicitly is still ingested).
_NOT_ARTICLES = ("readme", "license", "licence", "changelog", "contributing")

@dataclass(frozen=True)
class NotModified:
    """A URL source that answered 304: its articles are as stored last time."""

    source: str


@dataclass(frozen=True)
class Partial:
    """An article was stored with less than its source offered, and why (a feed entry kept
    as its teaser because the linked page could not be loaded)."""

    source: str
    reason: str


LoadResult = Article | Failure | NotModified | Partial


class Fetcher(Protocol):
    def get(self, url: str, conditional: bool = False,
            linked_from: str | None = None) -> Fetched:
        """GET `url`. `linked_from` names the feed that linked to it: such a page is refused
        (SourceError) on an internal address unless it is on the feed's own host."""

    def commit(self, url: str) -> None:
        """The articles from `url` are stored: remember its validators for conditional GET."""


@dataclass(frozen=True)
class SourceItem:
    """One thing to load: a file (found under `root`) or a URL. `origin` is what the user named."""

    location: str
    origin: str
    root: Path | None = None

    @property
    def is_url(self) -> bool:
        return is_url(self.location)


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def source_origin(source: str) -> str:
    """What a named source is recorded as: the URL itself, or the absolute path."""
    return source if is_url(source) else str(Path(source).expanduser().resolve())


class Discovered(NamedTuple):
    items: list[SourceItem]
    failures: list[Failure]
    # Files in a folder whose type Newsdesk does not read (a PDF, a spreadsheet): not failures,
    # but said, so that nobody believes they were read.
    skipped: list[Failure]


def discover(sources: Sequence[str]) -> Discovered:
    """Expand directories recursively (supported suffixes, no hidden files), keep files and URLs."""
    items: list[SourceItem] = []
    failures: list[Failure] = []
    skipped: list[Failure] = []
    for source in sources:
        origin = source_origin(source)
        if is_url(source):
            items.append(SourceItem(location=source, origin=origin))
            continue
        path = Path(source).expanduser()
        if path.is_dir():
            root = path.resolve()
            for dirpath, dirnames, filenames in os.walk(root):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for name in sorted(filenames):
                    file = Path(dirpath, name)
                    if not _is_candidate(file):
                        if _is_unread_type(file):
                            kind = file.suffix or "files without a suffix"
                            skipped.append(Failure(str(file), f"not read: Newsdesk reads "
                                                              f"{READ_TYPES}, not {kind}"))
                        continue
                    if file.is_symlink() and not file.resolve().is_relative_to(root):
                        # A link out of the folder could bring in any file the user can read.
                        failures.append(Failure(str(file), "not followed: a symbolic link to "
                                                           "outside the folder ingested"))
                        continue
                    items.append(SourceItem(location=str(file), origin=origin, root=root))
        elif path.is_file():
            items.append(SourceItem(location=origin, origin=origin, root=path.resolve().parent))
        else:
            failures.append(Failure(source, "no such file or directory"))
    return Discovered(items, failures, skipped)


def _is_unread_type(file: Path) -> bool:
    return (not file.name.startswith(".") and file.suffix.lower() not in SUPPORTED_SUFFIXES
            and file.stem.lower() not in _NOT_ARTICLES)


def _is_candidate(file: Path) -> bool:
    return (
        not file.name.startswith(".")
        and file.suffix.lower() in SUPPORTED_SUFFIXES
        and file.stem.lower() not in _NOT_ARTICLES
    )


def path_article_id(item: SourceItem) -> str:
    path = Path(item.location)
    return path.relative_to(item.root).as_posix() if item.root else path.as_posix()


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


# -- files -----------------------------------------------------------------------------------


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
            source_name=str(path), fallback_id=fallback_id, origin=item.origin,
            title=parsed.title, text=parsed.body, url=parsed.url, author=parsed.author,
            published=parsed.published, updated=parsed.updated, **defaults,
        )
    elif suffix in HTML_SUFFIXES:
        yield from _html_articles(text, str(path), fallback_id, item.origin, None, defaults)
    elif suffix in JSON_SUFFIXES:
        yield from _json_articles(text, str(path), fallback_id, item.origin, defaults)
    elif suffix in JSONL_SUFFIXES:
        yield from _jsonl_articles(text, str(path), fallback_id, item.origin, defaults)
    else:
        yield from _feed_articles(data, str(path), item.origin, fetcher, limits)


def _file_defaults(item: SourceItem) -> dict[str, Any]:
    """Source = the ingested folder's name; category = the first sub-folder, if any."""
    relative = Path(path_article_id(item))
    source = Path(item.origin).name if item.root and Path(item.origin).is_dir() else None
    category = relative.parts[0] if len(relative.parts) > 1 else None
    return {"source": source, "category": category}


def decode_bytes(data: bytes, source: str, declared: str | None = None) -> str:
    """Text of a file or response: by its BOM (UTF-8, UTF-16); as UTF-8 when most of its
    non-ASCII bytes are valid UTF-8, a stray byte of another encoding then read alone as
    Windows-1252 (never the whole text as the minority encoding); else by the charset it
    declares (`declared`, from the HTTP header, or in `<meta charset>` / `<?xml encoding>`);
    else as Windows-1252/Latin-1. Binary data is a SourceError."""
    head = data[:8192]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise SourceError(source, "invalid UTF-16 text") from None
    if b"\x00" in head or _control_ratio(head) > 0.1:
        raise SourceError(source, "binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start >= len(data) - 3:
            # A multi-byte character cut off at the end: the file was truncated.
            log.warning("%s: truncated UTF-8 at byte %d; keeping the text before it", source,
                        exc.start)
            return data[: exc.start].decode("utf-8-sig")
    text = data.decode("utf-8-sig", errors="replace")
    invalid = text.count("\ufffd")
    charset = declared or _declared_charset(head)
    says_utf8 = charset is not None and charset.lower().replace("_", "-") in ("utf-8", "utf8")
    valid = sum(1 for c in text if ord(c) > 0x7F) - invalid
    # A valid multi-byte UTF-8 character is rare by chance in another encoding: one in four
    # stray bytes ("café" with two Windows-1252 smart quotes) already says UTF-8.
    if says_utf8 or valid * 4 >= invalid:
        log.warning("%s: UTF-8 with %d bytes that are not; those read as Windows-1252", source,
                    invalid)
        return data.decode("utf-8-sig", errors=_BYTEWISE_CP1252)
    if charset:
        try:
            return data.decode(charset, errors="replace")
        except LookupError:
            log.info("%s: unknown charset %r", source, charset)
    log.info("%s: not UTF-8, reading as Windows-1252/Latin-1", source)
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


_BYTEWISE_CP1252 = "newsdesk-bytewise-cp1252"


def _bytewise_cp1252(exc: UnicodeError) -> tuple[str, int]:
    """A byte that is not UTF-8, read alone as Windows-1252 (Latin-1 where that has none)."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    byte = exc.object[exc.start:exc.start + 1]
    try:
        return byte.decode("cp1252"), exc.start + 1
    except UnicodeDecodeError:
        return byte.decode("latin-1"), exc.start + 1


codecs.register_error(_BYTEWISE_CP1252, _bytewise_cp1252)
_CHARSET = re.compile(rb"""(?:<meta[^>]+charset\s*=\s*["']?|<\?xml[^>]+encoding\s*=\s*["'])"""
                      rb"""([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def _declared_charset(head: bytes) -> str | None:
    """The charset a page or XML file declares in its first bytes."""
    match = _CHARSET.search(head[:4096])
    return match.group(1).decode("ascii") if match else None


def charset_of(content_type: str) -> str | None:
    """The charset of an HTTP Content-Type value (`text/html; charset=ISO-8859-1`)."""
    match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", content_type, re.IGNORECASE)
    return match.group(1) if match else None


# Control bytes that text does not contain (tab, line feed, form feed, carriage return do).
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13))


def _control_ratio(sample: bytes) -> float:
    if not sample:
        return 0.0
    return (len(sample) - len(sample.translate(None, _CONTROL_BYTES))) / len(sample)


# -- article construction ------------------------------------------------------------------------


def make_article(
    *,
    source_name: str,
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
        log.info("%s: dropped %d paywall/newsletter/advertiser paragraphs", source_name, dropped)
    if not body:
        raise SourceError(source_name, "no article text found")
    try:
        canonical = canonical_url(url) if url and is_url(url) else None
    except ValueError as exc:  # "https://[::1", a port past 65535
        raise SourceError(source_name, f"invalid URL ({exc})") from None
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
        read_from=source_name,
        content_hash=sha256(
            title, body, canonical or "", source or "", author or "", published_iso,
            category or "", *revised,
        ),
        text_hash=text_hash(body),
    )


# Page parts that are prompts, not the article: paywall and sign-up boxes, newsletter forms,
# advertisements (by class or id; a wrapper of the subscriber's text is not named like these).
_PROMPT_NAMES = ("paywall-prompt", "paywall-message", "paywall-cta", "paywall-banner",
                 "subscribe-prompt", "subscribe-box", "subscription-prompt", "regwall",
                 "newsletter", "signup", "sign-up", "piano-", "tp-modal", "advert", "ad-slot",
                 "sponsored", "affiliate-disclosure", "advertiser-disclosure")
_PROMPT_XPATH = [
    f"//*[contains(translate(@class, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', "
    f"'abcdefghijklmnopqrstuvwxyz'), '{name}') or contains(translate(@id, "
    f"'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), '{name}')]"
    for name in _PROMPT_NAMES]


_TABLE_ROW = re.compile(r"^\s*\|(.*)\|\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?(?:\s*:?-{2,}:?\s*\|)+\s*$")


def _tables_as_lines(lines: list[str]) -> list[str]:
    """Table rows (trafilatura writes `| a | b |`) as lines a reader can quote, every row
    kept: under a heading row (one trafilatura follows with a `|---|` rule) each cell named
    by its column, "Mary Byrne — Votes: 4,512."; in a table without one, the cells in turn,
    "Mary Byrne (Green) — 4,512.". Other lines as they are."""
    out: list[str] = []
    heading: list[str] | None = None
    in_table = False
    for index, line in enumerate(lines):
        row = _TABLE_ROW.match(line)
        if row is None:
            heading, in_table = None, False
            out.append(line)
            continue
        if _TABLE_RULE.match(line):
            continue
        cells = [" ".join(c.split()) for c in row.group(1).split("|")]
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if not in_table and _TABLE_RULE.match(following):
            heading, in_table = cells, True
            continue
        in_table = True
        if heading is not None:
            named = [f"{h}: {c}" if h else c
                     for h, c in zip(heading[1:], cells[1:], strict=False) if c]
        else:
            named = [c for c in cells[1:] if c]
        first = cells[0] or (named.pop(0) if named else "")
        if first or named:
            out.append((f"{first} — {'; '.join(named)}" if named else first).rstrip(".")
                       + ".")
    return out


def _own_url(declared: str | None, fetched: str | None) -> str | None:
    """The page's own URL: what it declares (`rel=canonical`, `og:url`), unless that is a
    site's home page (a template that gives every page the same canonical), then where it was
    fetched from (a file has none: its path names it)."""
    if declared and is_url(declared) and urlsplit(declared).path.strip("/") == "" \
            and not urlsplit(declared).query:
        return fetched
    return declared or fetched


def _html_article(
    html: str, source_name: str, fallback_id: str, origin: str, url: str | None,
    defaults: dict[str, Any],
) -> Article:
    tree = load_html(html)
    if tree is not None:
        for box in _prompt_boxes(tree):
            box.drop_tree()
    doc: Any = trafilatura.bare_extraction(
        tree if tree is not None else html, url=url, with_metadata=True,
        include_comments=False, include_tables=True, prune_xpath=_PROMPT_XPATH,
    )
    if doc is None or not getattr(doc, "text", None):  # the page was all prompt: say so below
        doc = trafilatura.bare_extraction(
            html, url=url, with_metadata=True, include_comments=False, include_tables=True)
    root = _document(html)
    ld_body = _json_ld_body(root) if root is not None else ""
    if (doc is None or not getattr(doc, "text", None)) and ld_body and tree is not None:
        doc = extract_metadata(tree, default_url=url)  # the text is the JSON-LD's alone
        doc.text = ""
    if doc is None or not (getattr(doc, "text", None) or ld_body):
        raise SourceError(source_name, "no article text found in the HTML")
    title = choose_headline(_title_evidence(root, doc)) if root is not None else doc.title or ""
    published, updated = _page_dates(root) if root is not None else (None, None)
    paragraphs = _tables_as_lines([line for line in doc.text.split("\n") if line.strip()])
    if paragraphs and title and paragraphs[0].strip() == title.strip():
        paragraphs = paragraphs[1:]  # trafilatura repeats the headline as the first line
    ld_paragraphs = ld_body.split("\n\n") if ld_body else []
    if len(ld_body) > _LD_BODY_RATIO * sum(len(p) for p in paragraphs) or (
            len(ld_paragraphs) > len(paragraphs)
            and _plain_text(ld_body) == _plain_text(" ".join(paragraphs))):
        # The page's text is in its JSON-LD (drawn by script): the extracted "body" is a
        # caption or a teaser, or that text with its paragraphs run together.
        paragraphs = ld_paragraphs
    lead = _standfirst(root, title, paragraphs[0]) if root is not None and paragraphs else ""
    if lead and _plain_text(lead) not in _plain_text(" ".join(paragraphs)):
        paragraphs.insert(0, lead)
    return make_article(
        source_name=source_name, fallback_id=fallback_id, origin=origin,
        title=title, text="\n\n".join(paragraphs), url=_own_url(doc.url, url),
        author=doc.author,
        # trafilatura's date is the day only; the page's own metadata has the time.
        published=published or parse_date(doc.date), updated=updated,
        source=doc.sitename or defaults.get("source"),
        category=(doc.categories[0] if doc.categories else defaults.get("category")),
    )


_LD_BODY_RATIO = 2  # the JSON-LD's articleBody is used when the extracted text is under half


def _plain_text(text: str) -> str:
    """Letters and digits only, case-folded: how a standfirst is looked for in the body."""
    return "".join(c for c in text.casefold() if c.isalnum())


_BOX_MAX_WORDS = 80  # a prompt box (heading, a line or two, a form) is shorter than this
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def _prompt_boxes(root: Any) -> list[Any]:
    """Boxes headed by a prompt ("Sign up for the CorkBeo newsletter", "KXAN Daily Forecast
    Newsletter", "Advertiser disclosure"): the heading's largest container that is still
    short; the heading alone when its container is the article."""
    boxes: list[Any] = []
    for heading in root.iter(*_HEADINGS):
        if not is_prompt(heading.text_content()) or any(
                heading in box.iter() for box in boxes):
            continue
        box = heading
        for ancestor in heading.iterancestors():
            if ancestor.tag in ("body", "html", "main", "article") or \
                    len(ancestor.text_content().split()) > _BOX_MAX_WORDS:
                break
            box = ancestor
        boxes.append(box)
    return [box for box in boxes if box.getparent() is not None]


# What marks a standfirst (the summary under a headline): its class, id or itemprop; and
# what marks an element that is something else (an author's box, a caption, comments).
_STANDFIRST_MARK = re.compile(
    r"standfirst|(?:^|[\s_-])dek(?:$|[\s_-])|excerpt|sub-?head(?:line|ing)?|(?:^|[\s_-])deck"
    r"(?:$|[\s_-])|strapline|summary|(?:^|[\s_-])lede(?:$|[\s_-])|article-?(?:intro|"
    r"description|lead)|sub-?title|description", re.IGNORECASE)
_NOT_STANDFIRST_MARK = re.compile(r"author|bio|caption|comment|credit|image|photo|media|visual|"
                                  r"video|gallery|teaser|related|card|promo", re.IGNORECASE)
_NOT_STANDFIRST = ("nav", "footer", "aside", "a", "li", "figure", "figcaption", "h1", "form",
                   "button", "label", "time", "script", "style", "noscript")
_STANDFIRST_WORDS = (8, 80)
_STANDFIRST_TAGS = ("p", "h2", "h3", "div", "span")


def _standfirst(root: Any, title: str, first_paragraph: str) -> str:
    """The standfirst shown between the headline and the article's first paragraph, which
    extractors often leave out: an element there that is marked as one (class, id or
    itemprop: standfirst, dek, excerpt, subheadline, summary, description...) or that
    repeats the page's description. Empty when there is none, or when the page's headline
    (an `<h1>` with the title's words) or its first paragraph cannot be found."""
    description = ""
    for meta in root.iter("meta"):
        key = (meta.get("property") or meta.get("name") or "").lower()
        if key in ("og:description", "description", "twitter:description") and \
                meta.get("content"):
            description = meta.get("content", "")
            break
    wanted = _plain_text(plain_title(description))
    opening = _plain_text(first_paragraph)[:60]
    headline = next((h for h in root.iter("h1")
                     if title and _plain_text(h.text_content()) == _plain_text(title)), None)
    if headline is None or not opening:
        return ""
    after = False
    for element in root.iter(*_STANDFIRST_TAGS, "h1"):
        if element is headline:
            after = True
            continue
        if not after or element.tag == "h1":
            continue
        text = " ".join(element.text_content().split())
        if len(text.split()) > _STANDFIRST_WORDS[1]:
            # A heading left open (`<h2>…</h3>`) holds what follows it: its own text only.
            text = " ".join((element.text or "").split())
        if element.tag == "p" and _plain_text(text).startswith(opening):
            return ""  # the body has begun
        if not _STANDFIRST_WORDS[0] <= len(text.split()) <= _STANDFIRST_WORDS[1]:
            continue
        chain = [element, *element.iterancestors()]
        if any(a.tag in _NOT_STANDFIRST for a in chain) or _off_article(element) or \
                is_prompt(text) or any(_NOT_STANDFIRST_MARK.search(_marks(a)) for a in chain):
            continue
        if wanted and _plain_text(text) == wanted:
            return text
        if _STANDFIRST_MARK.search(_marks(element)) and \
                not any(_STANDFIRST_MARK.search(_marks(c))
                        for c in element.iterdescendants(*_STANDFIRST_TAGS)):
            return text
    return ""


def _marks(element: Any) -> str:
    return " ".join(element.get(k) or "" for k in ("class", "id", "itemprop"))


def _json_ld_body(root: Any) -> str:
    """The article's text as its JSON-LD gives it (`articleBody`), paragraphs separated by
    blank lines; empty when it gives none."""
    for script in root.iter("script"):
        if (script.get("type") or "").lower() != "application/ld+json" or not script.text:
            continue
        for item in _article_first(_json_ld_items(script.text)):
            body = item.get("articleBody")
            if _ld_types(item) & _ARTICLE_TYPES and isinstance(body, str) and body.strip():
                return html_fragment_text(body.replace("\r\n", "\n").replace("\n", "\n\n"))
    return ""


def _html_articles(
    html: str, source_name: str, fallback_id: str, origin: str, url: str | None,
    defaults: dict[str, Any],
) -> Iterator[Article]:
    """The page's article; a live blog's entries each as an article of their own (`_live_
    entries`), dated by their own time, so that windows, timelines and briefs see each
    development on its day (the page's dates are its first and its last entry's)."""
    article = _html_article(html, source_name, fallback_id, origin, url, defaults)
    root = _document(html)
    entries = _live_entries(root) if root is not None else []
    # The entries must be what the page's text is: dated teasers in a sidebar never are.
    words = sum(len(e.text.split()) for e in entries)
    if len(entries) < 2 or words < _ENTRIES_SHARE * len(article.text.split()):
        yield article
        return
    for entry in entries:
        yield make_article(
            source_name=f"{source_name} entry {entry.when.isoformat()}",
            fallback_id=f"{article.id}#{entry.when.isoformat()}",
            identity=f"{article.id}#{entry.when.isoformat()}", origin=origin,
            title=f"{article.title}: {entry.heading}" if entry.heading else article.title,
            text=entry.text, url=article.url, author=article.author, source=article.source,
            published=entry.when, category=article.category)


@dataclass(frozen=True)
class LiveEntry:
    """One entry of a live blog: its own time, text and (from JSON-LD) heading."""

    when: datetime
    text: str
    heading: str = ""


def _live_entries(root: Any) -> list[LiveEntry]:
    """A live blog's entries (JSON-LD `LiveBlogPosting`, or two or more sibling blocks in the
    article that each open with a `<time datetime>`), newest first as pages list them; empty
    for any other page."""
    headings: dict[datetime, str] = {}
    live = False
    for script in root.iter("script"):
        if (script.get("type") or "").lower() != "application/ld+json" or not script.text:
            continue
        for item in _json_ld_items(script.text):
            if "liveblogposting" in _ld_types(item):
                live = True
                for update in item.get("liveBlogUpdate") or []:
                    when = parse_date(update.get("datePublished"), lenient=True) \
                        if isinstance(update, dict) else None
                    if when is not None and isinstance(update.get("headline"), str):
                        headings[when] = " ".join(update["headline"].split())
    entries: list[LiveEntry] = []
    containers: set[str] = set()
    for time_element in root.iter("time"):
        block = time_element.getparent()
        when = parse_date(time_element.get("datetime"), lenient=True)
        if block is None or when is None or block.tag in ("article", "main", "body"):
            continue
        label = (time_element.text_content() or "").strip()
        text = "\n\n".join(" ".join(p.text_content().split()) for p in block.iter("p")
                           if p.text_content().strip())
        if not text:
            text = " ".join(block.text_content().replace(label, "", 1).split())
        if len(text.split()) >= _MIN_ENTRY_WORDS:
            entries.append(LiveEntry(when, text, headings.get(when, "")))
            parent = block.getparent()
            containers.add(parent.getroottree().getpath(parent) if parent is not None else "")
    # Without the page saying it is a live blog, its entries must be siblings of one list.
    if len(entries) < 2 or not (live or len(containers) == 1):
        return []
    return entries


_MIN_ENTRY_WORDS = 8  # a dated block shorter than this is a byline or a caption
_ENTRIES_SHARE = 0.6  # of the article's words that its dated entries must hold


# -- JSON ----------------------------------------------------------------------------------------


def _json_articles(
    text: str, path: str, fallback_id: str, origin: str, defaults: dict[str, Any]
) -> Iterator[LoadResult]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceError(path, f"invalid JSON: {exc.msg} (line {exc.lineno}, column "
                                f"{exc.colno})") from None
    except RecursionError:
        raise SourceError(path, "invalid JSON: nested too deeply") from None
    if isinstance(data, dict):
        for key in ("articles", "items", "data", "results"):
            if isinstance(data.get(key), list):
                data = data[key]
                break
    records = data if isinstance(data, list) else [data]
    for position, record in enumerate(records, start=1):
        label = f"{path}[{position}]" if len(records) > 1 else path
        item_id = f"{fallback_id}#{position}" if len(records) > 1 else fallback_id
        yield _json_record(record, label, item_id, origin, defaults)


def _jsonl_articles(
    text: str, path: str, fallback_id: str, origin: str, defaults: dict[str, Any]
) -> Iterator[LoadResult]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        label = f"{path}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Failure(label, f"invalid JSON line: {exc.msg} (column {exc.colno})")
            continue
        except RecursionError:
            yield Failure(label, "invalid JSON line: nested too deeply")
            continue
        yield _json_record(record, label, f"{fallback_id}:{number}", origin, defaults)


def _json_record(
    record: Any, label: str, fallback_id: str, origin: str, defaults: dict[str, Any]
) -> LoadResult:
    if not isinstance(record, dict):
        return Failure(label, f"expected a JSON object, got {type(record).__name__}")
    try:
        fields = ArticleIn.model_validate(record)
    except ValidationError as exc:
        problem = exc.errors()[0]
        return Failure(label, f"invalid article field {problem['loc'][0]}: {problem['msg']}")
    except RecursionError:
        return Failure(label, "invalid article: nested too deeply")
    try:
        return make_article(
            source_name=label,
            fallback_id=str(fields.id) if fields.id is not None else fallback_id,
            origin=origin, title=fields.title, text=fields.text, url=fields.url,
            author=fields.author, source=fields.source or defaults.get("source"),
            published=parse_date(fields.published, lenient=True),
            updated=parse_date(fields.updated, lenient=True),
            category=fields.category or defaults.get("category"),
        )
    except SourceError as exc:
        return Failure(exc.source, exc.reason)


# -- URLs and feeds ------------------------------------------------------------------------------


def _looks_like_feed(fetched: Fetched) -> bool:
    if any(t in fetched.content_type for t in ("rss", "atom", "xml")):
        return "html" not in fetched.content_type
    head = fetched.content[:512].lstrip().lower()
    return head.startswith((b"<?xml", b"<rss", b"<feed", b"<rdf"))


def _load_url(item: SourceItem, fetcher: Fetcher, limits: IngestSettings) -> Iterator[LoadResult]:
    fetched = fetcher.get(item.location, conditional=True)
    if fetched.not_modified:
        yield NotModified(item.location)
        return
    if not fetched.content.strip():
        raise SourceError(item.location, "empty response")
    if _looks_like_feed(fetched):
        yield from _feed_articles(fetched.content, item.location, item.origin, fetcher, limits)
        return
    text = decode_bytes(fetched.content, item.location, charset_of(fetched.content_type))
    yield from _html_articles(text, item.location, canonical_url(fetched.url), item.origin,
                              fetched.url, {})


def _feed_articles(
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
    wanted = {label: entry["link"] for label, entry, text in entries
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
    for label, entry, text in entries:
        shared = links[entry.get("link")] > 1 and bool(entry.get("id"))
        title = entry.get("title", "")
        nameless = f"{location}#{sha256(title, text if titles[title] > 1 else '')[:16]}"
        try:
            article, page_failure = _feed_entry(entry, label, text, feed_title, nameless,
                                                origin, pages.get(label), by_guid=shared)
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
    """The pages linked from a feed's entries (entry label → page, or why it failed): at most
    `link_fetches` at a time, all within `source_deadline` seconds; each only where
    `linked_from` the feed is allowed (see ingest.sources.fetch.refusal)."""
    if not links:
        return {}
    pages: dict[str, Fetched | SourceError] = {}
    pool = ThreadPoolExecutor(max_workers=limits.link_fetches,
                              thread_name_prefix="newsdesk-link")
    try:
        futures = {pool.submit(fetcher.get, link, linked_from=feed): label
                   for label, link in links.items()}
        done, late = wait(futures, timeout=limits.source_deadline)
        for future in done:
            label = futures[future]
            try:
                pages[label] = future.result()
            except SourceError as exc:
                pages[label] = exc
        for future in late:
            future.cancel()
            pages[futures[future]] = SourceError(
                links[futures[future]], f"not fetched within the source's deadline "
                f"({limits.source_deadline:g} s; [ingest] source_deadline)")
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return pages


def _feed_entry(
    entry: Any, label: str, text: str, feed_title: str | None, nameless: str, origin: str,
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
            article = _html_article(
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
        log.info("%s: using the feed summary; linked page failed: %s", label, page.reason)
        page_failure = page
    title = entry.get("title", "")
    fallback_id = entry.get("id") or nameless
    return make_article(
        source_name=label, fallback_id=fallback_id, identity=fallback_id if by_guid else None,
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
        source_name=article.id, fallback_id=article.id, origin=article.origin,
        title=entry.get("title") or article.title, text=article.text, url=article.url,
        author=entry.get("author") or article.author, source=feed_title or article.source,
        published=published or article.published, updated=updated or article.updated,
        category=category or article.category,
    )


_META_PUBLISHED = ("article:published_time", "og:published_time", "datePublished",
                   "pubdate", "publishdate", "date")
_META_UPDATED = ("article:modified_time", "og:updated_time", "dateModified", "lastmod")


def html_dates(html: str) -> tuple[datetime | None, datetime | None]:
    """Publication and revision times from a page's metadata: `<meta>` tags (Open Graph,
    `itemprop`) and JSON-LD `datePublished` / `dateModified`."""
    root = _document(html)
    return _page_dates(root) if root is not None else (None, None)


def _document(html: str) -> Any:
    try:
        return lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return None


# schema.org types that are the article itself, and types that are never it.
_ARTICLE_TYPES = frozenset(t.lower() for t in (
    "NewsArticle", "Article", "ReportageNewsArticle", "AnalysisNewsArticle",
    "OpinionNewsArticle", "ReviewNewsArticle", "BackgroundNewsArticle", "BlogPosting",
    "LiveBlogPosting", "Report", "TechArticle", "SocialMediaPosting"))
_NOT_THE_ARTICLE = frozenset(t.lower() for t in (
    "VideoObject", "ImageObject", "AudioObject", "MediaObject", "Clip", "BreadcrumbList",
    "ListItem", "ItemList", "Person", "Organization", "NewsMediaOrganization", "WebSite",
    "SearchAction", "Comment", "Event", "Product", "Offer"))


def _ld_types(item: dict[str, Any]) -> set[str]:
    kind = item.get("@type")
    names = kind if isinstance(kind, list) else [kind]
    return {name.lower() for name in names if isinstance(name, str)}


def _article_first(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """JSON-LD items, the article's own first; embedded media, breadcrumbs and the like left
    out: they never give the article's date or headline."""
    return sorted((i for i in items if not _ld_types(i) & _NOT_THE_ARTICLE),
                  key=lambda i: not _ld_types(i) & _ARTICLE_TYPES)


def _page_dates(root: Any) -> tuple[datetime | None, datetime | None]:
    found: dict[str, str] = {}
    items: list[dict[str, Any]] = []
    for meta in root.iter("meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop") or ""
        if meta.get("content"):
            found.setdefault(key, meta.get("content", ""))
    for script in root.iter("script"):
        if (script.get("type") or "").lower() == "application/ld+json" and script.text:
            items.extend(_json_ld_items(script.text))
    for item in _article_first(items):
        for key in ("datePublished", "dateModified"):
            if isinstance(item.get(key), str):
                found.setdefault(key, item[key])

    def first(keys: tuple[str, ...]) -> datetime | None:
        return next((d for k in keys if (d := parse_date(found.get(k), lenient=True))
                     is not None), None)

    return first(_META_PUBLISHED), first(_META_UPDATED)


# A heading that is the site's logo, not a headline: in the page's masthead, or marked so.
_LOGO_MARK = re.compile(r"site-?title|site-?name|logo|brand|masthead", re.IGNORECASE)
_ARTICLE_XPATH = ("//article | //main | //*[@itemprop='articleBody'] | "
                  "//*[contains(concat(' ', normalize-space(@class), ' '), ' post ')]")


def _title_evidence(root: Any, doc: Any) -> TitleEvidence:
    """What the page says its headline and its own name are (see parse.choose_headline)."""
    meta: dict[str, str] = {}
    for element in root.iter("meta"):
        key = (element.get("property") or element.get("name") or "").lower()
        if element.get("content") and key:
            meta.setdefault(key, element.get("content", ""))
    headline, sites = "", [meta.get("og:site_name", ""), meta.get("application-name", "")]
    for script in root.iter("script"):
        if (script.get("type") or "").lower() == "application/ld+json" and script.text:
            for item in _article_first(_json_ld_items(script.text)):
                if not headline and isinstance(item.get("headline"), str):
                    headline = item["headline"]
                for key in ("publisher", "isPartOf"):
                    if isinstance(item.get(key), dict) and isinstance(item[key].get("name"), str):
                        sites.append(item[key]["name"])
    logos: list[str] = []
    h1s: list[str] = []
    for h1 in root.iter("h1"):
        text = _heading_text(h1)
        if _is_logo(h1):
            logos.append(text)
        elif not _off_article(h1):
            h1s.append(text)
    articles = root.xpath(_ARTICLE_XPATH)
    in_article = [_heading_text(h) for a in articles for h in a.iter("h1")
                  if not _off_article(h)]
    h1 = next((t for t in in_article if t and t not in logos and t in h1s), "") or next(
        (t for t in h1s if t), "")
    others = tuple(dict.fromkeys(t for t in (*in_article, *h1s)
                                 if t and t != h1 and t not in logos))
    headings = tuple(" ".join(h.text_content().split())
                     for a in articles for h in a.iter("h2", "h3"))
    return TitleEvidence(
        title_tag=root.findtext(".//title") or "", og_title=meta.get("og:title", ""),
        json_ld_headline=headline, h1=h1, other_h1s=others, headings=headings,
        site_names=tuple(n for n in (*sites, *logos, doc.sitename or "") if n),
        extracted=doc.title or "")


def _heading_text(heading: Any) -> str:
    """A heading's words, a line break in it read as a space ("Open Progress<br>Why...")."""
    # Text nodes (a comment's text is none) and line breaks, in document order.
    parts = [" " if not isinstance(node, str) else node
             for node in heading.xpath(".//text() | .//br")]
    return " ".join("".join(parts).split())


def _off_article(heading: Any) -> bool:
    """Whether a heading is the page's furniture, not a headline: in a menu, a footer or a
    form, or in a box marked as a prompt (newsletter, sign-up, paywall), or a prompt itself."""
    if is_prompt(heading.text_content()):
        return True
    for element in [heading, *heading.iterancestors()]:
        if element.tag in ("main", "article", "body"):
            break
        if element.tag in ("nav", "footer", "form"):
            return True
        marks = f"{element.get('class') or ''} {element.get('id') or ''}".lower()
        if any(name in marks for name in _PROMPT_NAMES):
            return True
    return False


def _is_logo(h1: Any) -> bool:
    """Whether an `<h1>` is the site's logo: marked as one, or in a page header outside the
    article that links home, shows an image or holds the menu."""
    ancestors = [h1, *h1.iterancestors()]
    if any(a.tag == "article" for a in ancestors):
        return False
    for element in ancestors[:4]:  # the heading and its near containers, not the <body>
        marks = f"{element.get('class') or ''} {element.get('id') or ''}"
        if _LOGO_MARK.search(marks):
            return True
    header = next((a for a in ancestors if a.tag == "header"), None)
    if header is None:
        return False
    # A page header's <h1> is the logo when it links home, is an image or sits by the menu.
    targets = [urlsplit(a.get("href", "")) for a in h1.iter("a") if a.get("href")]
    home = any(t.path in ("", "/") and not t.query and not t.fragment for t in targets)
    return home or any(True for _ in h1.iter("img")) or any(True for _ in header.iter("nav"))


def _json_ld_items(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return []
    items = data if isinstance(data, list) else [data]
    if isinstance(data, dict) and isinstance(data.get("@graph"), list):
        items = data["@graph"]
    return [item for item in items if isinstance(item, dict)]


_BLOCK_TAGS = ("p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr")


def html_fragment_text(html: str) -> str:
    """Text of an HTML fragment (feed content), one paragraph per block element."""
    if not html or not html.strip():
        return ""
    if "<" not in html:
        return normalise_text(html)
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (ValueError, lxml.etree.ParserError):
        return normalise_text(html)
    for element in root.iter(*_BLOCK_TAGS):
        element.tail = "\n\n" + (element.tail or "")
    return normalise_text(root.text_content())
