"""HTML pages to Articles: the extracted text less prompts, tables as lines, the standfirst,
the JSON-LD body where the page draws its text by script, a live blog's entries."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import lxml.html
import trafilatura
from trafilatura.metadata import extract_metadata
from trafilatura.utils import load_html

from config.errors import SourceError
from ingest.model.records import Article
from ingest.sources.articles import make_article
from ingest.sources.discover import is_url
from ingest.sources.page_metadata import (
    ARTICLE_TYPES,
    PROMPT_NAMES,
    article_first,
    json_ld_items,
    ld_types,
    off_article,
    page_dates,
    page_root,
    title_evidence,
)
from ingest.sources.parse import choose_headline, is_prompt, parse_date, plain_title
from ingest.text.ids import normalise_text

_PROMPT_XPATH = [
    f"//*[contains(translate(@class, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', "
    f"'abcdefghijklmnopqrstuvwxyz'), '{name}') or contains(translate(@id, "
    f"'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), '{name}')]"
    for name in PROMPT_NAMES]


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


def html_article(
    html: str, read_from: str, fallback_id: str, origin: str, url: str | None,
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
    root = page_root(html)
    ld_body = _json_ld_body(root) if root is not None else ""
    if (doc is None or not getattr(doc, "text", None)) and ld_body and tree is not None:
        doc = extract_metadata(tree, default_url=url)  # the text is the JSON-LD's alone
        doc.text = ""
    if doc is None or not (getattr(doc, "text", None) or ld_body):
        raise SourceError(read_from, "no article text found in the HTML")
    title = choose_headline(title_evidence(root, doc)) if root is not None else doc.title or ""
    published, updated = page_dates(root) if root is not None else (None, None)
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
        read_from=read_from, fallback_id=fallback_id, origin=origin,
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
        if any(a.tag in _NOT_STANDFIRST for a in chain) or off_article(element) or \
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
        for item in article_first(json_ld_items(script.text)):
            body = item.get("articleBody")
            if ld_types(item) & ARTICLE_TYPES and isinstance(body, str) and body.strip():
                return html_fragment_text(body.replace("\r\n", "\n").replace("\n", "\n\n"))
    return ""


def html_articles(
    html: str, read_from: str, fallback_id: str, origin: str, url: str | None,
    defaults: dict[str, Any],
) -> Iterator[Article]:
    """The page's article; a live blog's entries each as an article of their own (`_live_
    entries`), dated by their own time, so that windows, timelines and briefs see each
    development on its day (the page's dates are its first and its last entry's)."""
    article = html_article(html, read_from, fallback_id, origin, url, defaults)
    root = page_root(html)
    entries = _live_entries(root) if root is not None else []
    # The entries must be what the page's text is: dated teasers in a sidebar never are.
    words = sum(len(e.text.split()) for e in entries)
    if len(entries) < 2 or words < _ENTRIES_SHARE * len(article.text.split()):
        yield article
        return
    for entry in entries:
        yield make_article(
            read_from=f"{read_from} entry {entry.when.isoformat()}",
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
        for item in json_ld_items(script.text):
            if "liveblogposting" in ld_types(item):
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
