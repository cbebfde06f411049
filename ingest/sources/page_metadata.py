"""What a web page says about its article besides the text: dates, headline evidence,
JSON-LD items, and which of its parts are furniture (logos, menus, prompts)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import lxml.html

from ingest.sources.parse import TitleEvidence, is_prompt, parse_date

# advertisements (by class or id; a wrapper of the subscriber's text is not named like these).
PROMPT_NAMES = ("paywall-prompt", "paywall-message", "paywall-cta", "paywall-banner",
                 "subscribe-prompt", "subscribe-box", "subscription-prompt", "regwall",
                 "newsletter", "signup", "sign-up", "piano-", "tp-modal", "advert", "ad-slot",
                 "sponsored", "affiliate-disclosure", "advertiser-disclosure")


_META_PUBLISHED = ("article:published_time", "og:published_time", "datePublished",
                   "pubdate", "publishdate", "date")
_META_UPDATED = ("article:modified_time", "og:updated_time", "dateModified", "lastmod")


def page_root(html: str) -> Any:
    try:
        return lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return None


# schema.org types that are the article itself, and types that are never it.
ARTICLE_TYPES = frozenset(t.lower() for t in (
    "NewsArticle", "Article", "ReportageNewsArticle", "AnalysisNewsArticle",
    "OpinionNewsArticle", "ReviewNewsArticle", "BackgroundNewsArticle", "BlogPosting",
    "LiveBlogPosting", "Report", "TechArticle", "SocialMediaPosting"))
_NOT_THE_ARTICLE = frozenset(t.lower() for t in (
    "VideoObject", "ImageObject", "AudioObject", "MediaObject", "Clip", "BreadcrumbList",
    "ListItem", "ItemList", "Person", "Organization", "NewsMediaOrganization", "WebSite",
    "SearchAction", "Comment", "Event", "Product", "Offer"))


def ld_types(item: dict[str, Any]) -> set[str]:
    kind = item.get("@type")
    names = kind if isinstance(kind, list) else [kind]
    return {name.lower() for name in names if isinstance(name, str)}


def article_first(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """JSON-LD items, the article's own first; embedded media, breadcrumbs and the like left
    out: they never give the article's date or headline."""
    return sorted((i for i in items if not ld_types(i) & _NOT_THE_ARTICLE),
                  key=lambda i: not ld_types(i) & ARTICLE_TYPES)


def page_dates(root: Any) -> tuple[datetime | None, datetime | None]:
    found: dict[str, str] = {}
    items: list[dict[str, Any]] = []
    for meta in root.iter("meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop") or ""
        if meta.get("content"):
            found.setdefault(key, meta.get("content", ""))
    for script in root.iter("script"):
        if (script.get("type") or "").lower() == "application/ld+json" and script.text:
            items.extend(json_ld_items(script.text))
    for item in article_first(items):
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


def title_evidence(root: Any, doc: Any) -> TitleEvidence:
    """What the page says its headline and its own name are (see parse.choose_headline)."""
    meta: dict[str, str] = {}
    for element in root.iter("meta"):
        key = (element.get("property") or element.get("name") or "").lower()
        if element.get("content") and key:
            meta.setdefault(key, element.get("content", ""))
    headline, sites = "", [meta.get("og:site_name", ""), meta.get("application-name", "")]
    for script in root.iter("script"):
        if (script.get("type") or "").lower() == "application/ld+json" and script.text:
            for item in article_first(json_ld_items(script.text)):
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
        elif not off_article(h1):
            h1s.append(text)
    articles = root.xpath(_ARTICLE_XPATH)
    in_article = [_heading_text(h) for a in articles for h in a.iter("h1")
                  if not off_article(h)]
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


def off_article(heading: Any) -> bool:
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
        if any(name in marks for name in PROMPT_NAMES):
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


def json_ld_items(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        return []
    items = data if isinstance(data, list) else [data]
    if isinstance(data, dict) and isinstance(data.get("@graph"), list):
        items = data["@graph"]
    return [item for item in items if isinstance(item, dict)]
