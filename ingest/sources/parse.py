"""Pure parsing of article text: the plain-text/Markdown layout, dates and Markdown clean-up."""

from __future__ import annotations

import html
import re
import warnings
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from dateutil import parser as date_parser

from ingest.text.ids import normalise_text
from ingest.text.vocabulary import BYLINE_BY_WORDS, BYLINE_ROLE_WORDS, NAME_PARTICLES

# Each value runs from a non-space to the last non-space (`.+?\s*$` took square time on a line
# with a long run of spaces inside it).
_BYLINE = re.compile(rf"^\s*(?:{'|'.join(BYLINE_BY_WORDS)})(?:\s*[:\-])?\s+"
                     r"(?P<who>\S(?:.*\S)?)\s*$", re.IGNORECASE)
# Between the names of a byline: "Ann Lee and Bo Chan, Reuters", "Ann Lee | Staff Writer".
_BYLINE_SEPARATORS = re.compile(r"\s*(?:,|&|\||/|\s[-–—]\s|\band\b|\bfor\b|\bin\b)\s*",
                                re.IGNORECASE)
_INITIAL = re.compile(r"(?:^|\s|\.)[A-Z]\.$")
_ENTITY = re.compile(r"&(?:[a-zA-Z]{2,8}|#\d{1,7}|#[xX][0-9a-fA-F]{1,6});")
_URL_LINE = re.compile(
    r"^\s*(?:original\s+url|source\s+url|original|url|source|link)\s*:\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_URL = re.compile(r"<?(?P<url>https?://[^\s<>]+)>?")
# Neither a label nor a target runs past the next bracket that opens (a target may hold one
# pair, as Wikipedia's do): an unclosed "[" or "(" is then given up at once, not rescanned
# to the end of the text from each of many (square time on a hostile file).
_MD_TARGET = r"\((?:[^()]|\([^()]*\))*\)"
_MD_IMAGE = re.compile(r"!\[[^\[\]]*\]" + _MD_TARGET)
_MD_LINK = re.compile(r"\[(?P<label>[^\[\]]*)\]" + _MD_TARGET)
_MD_EMPHASIS = re.compile(r"(\*\*|__|(?<!\w)[*_](?=\S))|((?<=\S)[*_](?!\w))")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE)
# HTML written inside Markdown (CommonMark allows it): comments, scripts and styles go whole;
# block tags end a paragraph; other tags go and their text stays. A tag must open with a
# letter after "<", so "fewer than 5 <10" and "<3" stay as written.
_HTML_DROPPED_OPEN = re.compile(r"<!--|<(script|style)\b[^<>]*>", re.IGNORECASE)
_HTML_DROPPED_CLOSE = {"": re.compile("-->"), "script": re.compile(r"</script\s*>", re.I),
                       "style": re.compile(r"</style\s*>", re.I)}
_HTML_BLOCK = re.compile(r"</?(?:p|div|br|hr|li|ul|ol|h[1-6]|blockquote|table|tr|section|"
                         r"article|figure|figcaption|aside|header|footer)\b[^<>]*>",
                         re.IGNORECASE)
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>")
_TERMINAL = tuple(".!?\"'”’:;…)")
_CREDIT_MAX_WORDS = 14


@dataclass(frozen=True)
class ParsedText:
    title: str
    body: str
    author: str | None = None
    published: datetime | None = None
    url: str | None = None
    updated: datetime | None = None


_UPDATED_LINE = re.compile(r"^\s*(?:last\s+)?(?:updated|modified|revised)\s*(?:on|at)?\s*:?\s*"
                           r"(?P<when>\S(?:.*\S)?)\s*$", re.IGNORECASE)
# `Published: 20 November 2026`, `Posted on …`, `First published on Fri 20 Nov 2026`,
# `Dateline: …` (and German, French, Spanish/Portuguese, Italian, Dutch labels).
_PUBLISHED_LINE = re.compile(
    r"^\s*(?:(?:first\s+)?published|posted|dateline|date|publication\s+date|"
    r"veröffentlicht|publié|publicado|pubblicato|gepubliceerd)\s*(?:on|at|le|am|el|em|il|op)?"
    r"\s*[:\-–]?\s*(?P<when>\S(?:.*\S)?)\s*$", re.IGNORECASE)


def _drop_html_blocks(text: str) -> str:
    """`text` without its comments, scripts and styles (an unclosed one stays as written), in
    one pass: a lazy `<!--.*?-->` would rescan the rest of the text for every unclosed one."""
    kept: list[str] = []
    pos = search_from = 0
    unclosed: set[str] = set()  # kinds with no closing tag after some opening: none later
    while (opened := _HTML_DROPPED_OPEN.search(text, search_from)) is not None:
        kind = (opened.group(1) or "").lower()
        closed = (None if kind in unclosed
                  else _HTML_DROPPED_CLOSE[kind].search(text, opened.end()))
        if closed is None:
            unclosed.add(kind)
            search_from = opened.start() + 1
            continue
        kept.append(text[pos:opened.start()])
        pos = search_from = closed.end()
    kept.append(text[pos:])
    return "".join(kept)


def strip_markdown(text: str) -> str:
    """Markdown's markup (links, images, headings, emphasis, inline HTML and entities) taken
    out, its text kept."""
    # Each pattern only where its marker occurs: most articles are plain text.
    if "<" in text:
        text = _HTML_TAG.sub("", _HTML_BLOCK.sub("\n\n", _drop_html_blocks(text)))
    if "&" in text:
        text = _ENTITY.sub(lambda m: html.unescape(m.group()), text)
    if "](" in text:
        text = _MD_LINK.sub(lambda m: m.group("label"), _MD_IMAGE.sub("", text))
    if "#" in text:
        text = _MD_HEADING.sub("", text)
    if "*" in text or "_" in text:
        text = _MD_EMPHASIS.sub("", text)
    return text


# The zone names RFC 822 allows besides numeric offsets (dateutil knows only UTC/GMT), and
# the common European and Australian ones; ambiguous names (IST, BST...) are left out.
_ZONES = {name: hours * 3600 for name, hours in (
    ("UT", 0), ("UTC", 0), ("GMT", 0), ("Z", 0), ("EST", -5), ("EDT", -4), ("CST", -6),
    ("CDT", -5), ("MST", -7), ("MDT", -6), ("PST", -8), ("PDT", -7), ("CET", 1),
    ("CEST", 2), ("MEZ", 1), ("MESZ", 2), ("EET", 2), ("EEST", 3), ("AEST", 10),
    ("AEDT", 11), ("JST", 9))}
# A leading weekday in any language or abbreviation ("Mo, ", "Montag, "): the date follows.
_ZONE_NAME_AT_END = re.compile(r"\d\s*\(?[A-Z]{2,5}\)?\s*$")
_LEADING_WEEKDAY = re.compile(r"^\s*[^\W\d_]{2,12}\.?,\s*")


def parse_date(value: Any, *, lenient: bool = False) -> datetime | None:
    """A timezone-aware datetime from an ISO/RFC 822/free-form string or epoch seconds.

    Naive values are taken as UTC; a numeric offset or zone name is kept as the datetime's
    zone (the publisher's local time). Parts missing from a string are taken from 1 January
    of this year at midnight. With `lenient` (a raw date from a feed or an export), strings
    dateutil cannot read are tried without a leading weekday and then with dateparser
    (other languages, other layouts), which must find a day, a month and a year. Returns None
    for anything that is not a date.
    """
    if value is None or value == "":
        return None
    parsed: datetime | None
    try:
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, int | float) and not isinstance(value, bool):
            seconds = value / 1000 if value > 10**11 else value  # milliseconds in some exports
            parsed = datetime.fromtimestamp(seconds, tz=UTC)
        elif isinstance(value, str):
            parsed = _parse_string(value.strip(), lenient)
        else:
            return None
    except (ValueError, OverflowError, OSError, date_parser.ParserError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def _parse_string(text: str, lenient: bool) -> datetime | None:
    try:
        return _dateutil(text)
    except (ValueError, OverflowError, date_parser.ParserError):
        if not lenient:
            raise
    without_weekday = _LEADING_WEEKDAY.sub("", text)
    if without_weekday != text:
        try:
            return _dateutil(without_weekday)
        except (ValueError, OverflowError, date_parser.ParserError):
            pass
    import dateparser  # 0.2 s to load: only for dates dateutil cannot read

    return dateparser.parse(text, settings={"REQUIRE_PARTS": ["day", "month", "year"],
                                            "RETURN_AS_TIMEZONE_AWARE": False})


def _dateutil(text: str) -> datetime:
    """dateutil's reading; a zone name it does not know leaves the time naive (no warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", date_parser.UnknownTimezoneWarning)
        return date_parser.parse(text, default=datetime(datetime.now(UTC).year, 1, 1),
                                 tzinfos=_ZONES)


def reconcile_date(raw: str | None, library: datetime | None) -> datetime | None:
    """The date to store for a raw date string that a library (feedparser) has parsed too.

    The library's value is kept only where it agrees with our own reading of `raw`: at the same
    moment ours is returned (it keeps the publisher's offset); where the raw string ends in a
    zone name we cannot read and the library's moment is the raw wall-clock time in some real
    zone, the library's moment in that zone. When the library has nothing, or names another
    moment than the raw string, the raw string's own reading wins; None only when neither can
    be read.
    """
    own = parse_date(raw, lenient=True) if raw else None
    if own is None or library is None:
        return own or library
    if abs((own - library).total_seconds()) <= 60:
        return own
    assert raw is not None
    offset = (own.replace(tzinfo=UTC) - library).total_seconds()
    if (own.utcoffset() == timedelta(0) and _ZONE_NAME_AT_END.search(raw)
            and abs(offset) <= 14 * 3600 and offset % 900 == 0):
        return library.astimezone(timezone(timedelta(seconds=offset)))
    return own


def plain_title(text: str) -> str:
    """A title or name as plain text: entities left by a second round of escaping
    (`Council &amp;amp; unions` after one decoding) are decoded, up to three levels."""
    for _ in range(3):
        if not _ENTITY.search(text):
            break
        text = html.unescape(text)
    return text


def _looks_like_date_line(line: str) -> datetime | None:
    if len(line) > 40 or not re.search(r"\d", line):
        return None
    parsed = parse_date(line)
    if parsed is None and re.search(r"\b\d{4}\b", line):
        # "20. November 2026", "20 de noviembre de 2026": other languages' date lines.
        parsed = parse_date(line, lenient=True)
    if parsed is not None and not re.search(r"\b\d{4}\b", line) and \
            parsed > datetime.now(UTC) + timedelta(days=1):
        # "Saturday 20 November": the parser takes this year; an article is not from the
        # future, so it is the last such day.
        parsed = parsed.replace(year=parsed.year - 1)
    return parsed


def is_byline_names(who: str) -> bool:
    """Whether the words after "By" are a byline: names and an organisation ("Jane Roe and
    Ali Khan, Reuters", "JANE ROE | Staff Writer"), not a sentence ("midnight, the river had
    dropped two metres.", "the end of the day, ..."). Each name is capitalised words with
    lower-case particles (de, van, bin...) between them; at most 8 words in all."""
    words = who.split()
    if not words or len(words) > 8:
        return False
    who = " ".join(words)  # the separators below take square time on long runs of spaces
    if who.rstrip().endswith(("!", "?", ";", ":")) or (
            who.rstrip().endswith(".") and not _INITIAL.search(who.rstrip())):
        return False  # a sentence; "Jane Q. Public" or "A. N. Other." may end on an initial
    for part in _BYLINE_SEPARATORS.split(who):
        names = part.split()
        if names and not any(_is_name_word(w) or w.lower() in BYLINE_ROLE_WORDS for w in names):
            return False
        if any(not _is_name_word(w) and w.lower() not in NAME_PARTICLES | BYLINE_ROLE_WORDS
               for w in names):
            return False
    return True


def _is_name_word(word: str) -> bool:
    """Capitalised (O'Brien, McAdam, Jean-Luc, ABBY, Ærø) or an initial (J., J.R.)."""
    word = word.strip("\"'“”‘’()[]")
    return bool(word) and word[0].isupper() and not any(c.isdigit() for c in word)


def _is_credit(line: str) -> bool:
    return (
        len(line.split()) <= _CREDIT_MAX_WORDS
        and not line.endswith(_TERMINAL)
        and not _URL_LINE.match(line)
    )


def parse_text_article(raw: str) -> ParsedText:
    """Parse a plain-text or Markdown article.

    Understands the layout news exports use (title; `By ...` byline; date line; image credit;
    body; `Original url: <...>`) and the bare "headline, blank line, body" layout. Metadata
    lines are removed from the body.
    """
    lines = raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    front = _front_matter(lines)
    if front is not None:
        return front
    nonblank = [i for i, line in enumerate(lines) if line.strip()]
    if not nonblank:
        return ParsedText(title="", body="")
    title = strip_markdown(lines[nonblank[0]]).strip()

    url, end = _trailing_url(lines)
    author: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    body_start = nonblank[0] + 1
    saw_front_matter = False
    for index in nonblank[1:]:
        if index >= end:
            break
        line = lines[index].strip()
        byline = _BYLINE.match(strip_markdown(line))
        if author is None and byline and is_byline_names(byline.group("who")):
            author = " ".join(byline.group("who").split())
        elif updated is None and (revised := _updated_line(line)) is not None:
            updated = revised
        elif published is None and (date := _published_line(line)) is not None:
            published = date
        elif saw_front_matter and _is_credit(line):
            # An image credit sits between the date/byline and the body; one line at most.
            body_start = index + 1
            break
        else:
            break
        saw_front_matter = True
        body_start = index + 1

    body = normalise_text(strip_markdown("\n".join(lines[body_start:end])))
    return ParsedText(title=title, body=body, author=author, published=published, url=url,
                      updated=updated)


_FRONT_KEY = re.compile(r"^(?P<key>[A-Za-z_][\w-]*)\s*:\s*(?P<value>.*?)\s*$")
_FRONT_FIELDS = {"title": "title", "headline": "title", "date": "published",
                 "published": "published", "pubdate": "published", "publishdate": "published",
                 "updated": "updated", "lastmod": "updated", "modified": "updated",
                 "author": "author", "byline": "author", "url": "url", "link": "url",
                 "canonical": "url", "canonical_url": "url"}


def _front_matter(lines: list[str]) -> ParsedText | None:
    """A Markdown export's YAML front matter (Hugo, Jekyll: `---`, `key: value` lines, `---`),
    read for title, dates, author and URL; the article is what follows. None when the text
    does not open with one."""
    start = next((i for i, line in enumerate(lines) if line.strip()), None)
    if start is None or lines[start].strip() != "---":
        return None
    end = next((i for i in range(start + 1, min(len(lines), start + 60))
                if lines[i].strip() in ("---", "...")), None)
    if end is None:
        return None
    fields: dict[str, str] = {}
    for line in lines[start + 1:end]:
        match = _FRONT_KEY.match(line)
        field = _FRONT_FIELDS.get(match.group("key").lower()) if match else None
        if match is not None and field is not None and field not in fields:
            fields[field] = match.group("value").strip().strip("'\"")
    if "title" not in fields:
        return None
    body = normalise_text(strip_markdown("\n".join(lines[end + 1:])))
    found = _URL.search(fields.get("url", ""))
    return ParsedText(title=strip_markdown(fields["title"]).strip(), body=body,
                      author=fields.get("author") or None,
                      published=parse_date(fields.get("published"), lenient=True),
                      url=found.group("url") if found else None,
                      updated=parse_date(fields.get("updated"), lenient=True))


def _published_line(line: str) -> datetime | None:
    """A date line, bare (`20 November 2026`) or labelled (`Published: 20 November 2026`)."""
    match = _PUBLISHED_LINE.match(line)
    if match is not None and (date := _looks_like_date_line(match.group("when"))) is not None:
        return date
    return _looks_like_date_line(line)


def _updated_line(line: str) -> datetime | None:
    """`Updated: 24 November 2026 09:30`: when the article was last revised."""
    match = _UPDATED_LINE.match(line)
    return _looks_like_date_line(match.group("when")) if match else None


def _trailing_url(lines: list[str]) -> tuple[str | None, int]:
    """Find an `Original url:` footer in the last lines; return the URL and where the body ends."""
    tail_start = max(0, len(lines) - 8)
    for index in range(len(lines) - 1, tail_start - 1, -1):
        match = _URL_LINE.match(lines[index])
        if not match:
            continue
        found = _URL.search(match.group("rest"))
        if not found:
            following = [ln for ln in lines[index + 1:] if ln.strip()]
            found = _URL.search(following[0]) if following else None
        if found:
            return found.group("url").rstrip(").,;"), index
    return None, len(lines)


# -- headlines ---------------------------------------------------------------------------------

# Between a headline and a site name in <title>/og:title: "Headline | Site", "Site » Headline".
_TITLE_SEPARATOR = re.compile(r"\s+(?:\||-|–|—|::|»|·|•)\s+")
# Separators that a headline itself hardly ever contains (a hyphen or a dash often does).
_SITE_SEPARATORS = ("|", "::", "»", "·", "•")


@dataclass(frozen=True)
class TitleEvidence:
    """What a page says its headline is, each as found (empty when absent).

    `h1`: the first `<h1>` that is not the site's logo (one inside the article first);
    `other_h1s`: the page's other `<h1>`s (not logos, menus or prompts), which win when the
    metadata repeats one of them and not `h1`;
    `headings`: other headings of the article (`<h2>`/`<h3>`), which count only when the
    metadata confirms them; `site_names`: what the page calls itself (og:site_name, JSON-LD
    publisher, the masthead's logo heading); `extracted`: the extractor's choice.
    """

    title_tag: str = ""
    og_title: str = ""
    json_ld_headline: str = ""
    h1: str = ""
    other_h1s: tuple[str, ...] = ()
    headings: tuple[str, ...] = ()
    site_names: tuple[str, ...] = ()
    extracted: str = ""


def choose_headline(evidence: TitleEvidence) -> str:
    """The page's headline from its own evidence, in this order:

    1. an `<h1>` that is not the site's name (what readers see above the story), less a
       kicker the metadata leaves out, and unless the metadata agree on an unrelated
       headline (see `_h1_or_metadata`);
    2. a headline that two sources agree on: a heading of the article equal to the `<title>`,
       og:title or JSON-LD headline, whole or without a site-name part (so a headline with
       " - " in it is kept whole when the page repeats it);
    3. the JSON-LD `headline`, then og:title, then `<title>`, each without a part that is the
       site's name (a part after " | ", "::", "»" that is short is taken for one even when
       the page does not name its site; a part after " - " only when it is a known site name);
    4. the extractor's title, unless it is the site's name.
    """
    sites = {_plain(name) for name in evidence.site_names if _plain(name)}
    h1 = _clean(evidence.h1)
    metadata = [_clean(t) for t in (evidence.json_ld_headline, evidence.og_title,
                                    evidence.title_tag) if _clean(t)]
    confirmed = {_plain(_without_site_name(text, sites) or text) for text in metadata}
    if _plain(h1) not in confirmed:
        # An <h1> that the metadata repeats is the headline, wherever it is (a page may keep
        # its headline above <main> and a newsletter's name in it).
        h1 = next((_clean(t) for t in evidence.other_h1s
                   if _plain(t) in confirmed and _plain(t) not in sites), h1)
    if h1 and _plain(h1) not in sites:
        return _h1_or_metadata(h1, metadata, sites)
    headings = {_plain(h) for h in evidence.headings if _clean(h)}
    for text in metadata:
        for candidate in (text, *_title_parts(text)):
            if _plain(candidate) in headings and _plain(candidate) not in sites:
                return candidate
    for text in metadata:
        stripped = _without_site_name(text, sites)
        if stripped:
            return stripped
    extracted = _clean(evidence.extracted)
    return "" if _plain(extracted) in sites else extracted


def _h1_or_metadata(h1: str, metadata: list[str], sites: set[str]) -> str:
    """The `<h1>`, unless the metadata says better what its headline is:

    - the `<h1>` is a kicker (a section name, a series) followed by a headline that the
      metadata gives alone ("Politics | St. Louis Park elects a new mayor", "Open Progress
      Why collaborative thinking beats...") → that headline; a part before a colon or a
      dash is the headline's own ("'Pure Leere': Marita Kramer verpasst...");
    - two of JSON-LD, og:title and `<title>` (each without the site's name) agree on a
      headline of three words or more that shares no word with the `<h1>` (a newsletter
      box's or a menu's heading, not a differently worded headline of the same story)
      → that headline.
    """
    headlines = [h for h in (_without_site_name(t, sites) or t for t in metadata)
                 if len(h.split()) >= 3 and _plain(h) not in sites]
    for headline in headlines:
        if h1.casefold().endswith(headline.casefold()) and len(h1) > len(headline):
            kicker = h1[: len(h1) - len(headline)].strip()
            if len(kicker.split()) <= _KICKER_MAX_WORDS and not kicker.endswith(_OWN_PART):
                return headline
    agreed = Counter(_plain(h) for h in headlines)
    for headline in headlines:
        if agreed[_plain(headline)] >= 2 and not _words(headline) & _words(h1):
            return headline
    return h1


_OWN_PART = (":", ";", ",", "-", "–", "—", '"', "'", "“", "”", "‘", "’")
_KICKER_MAX_WORDS = 5


def _words(text: str) -> set[str]:
    """Content words (four letters or more), case-folded."""
    return {w for w in re.findall(r"\w+", text.casefold()) if len(w) >= 4}


def _without_site_name(title: str, sites: set[str]) -> str:
    parts = _TITLE_SEPARATOR.split(title)
    separators = _TITLE_SEPARATOR.findall(title)
    if len(parts) < 2:
        return "" if _plain(title) in sites else title
    first, last = _plain(parts[0]), _plain(parts[-1])
    if last in sites or any(last and (last in s or s in last) for s in sites if len(s) > 3):
        return _join(parts[:-1], separators[:-1])
    if first in sites:
        return _join(parts[1:], separators[1:])
    if (separators[-1].strip() in _SITE_SEPARATORS and len(parts[-1].split()) <= 5
            and len(parts[-1]) < len(parts[0])):
        return _join(parts[:-1], separators[:-1])
    return title


def _title_parts(title: str) -> list[str]:
    """The title without its last part, and without its first part ("Headline | Site")."""
    parts = _TITLE_SEPARATOR.split(title)
    separators = _TITLE_SEPARATOR.findall(title)
    if len(parts) < 2:
        return []
    return [_join(parts[:-1], separators[:-1]), _join(parts[1:], separators[1:])]


def _join(parts: list[str], separators: list[str]) -> str:
    out = parts[0]
    for separator, part in zip(separators, parts[1:], strict=True):
        out += separator + part
    return out.strip()


def _clean(text: str) -> str:
    return " ".join(plain_title(text or "").split())


def _plain(text: str) -> str:
    """Letters and digits only, case-folded: how names are compared."""
    return "".join(c for c in text.casefold() if c.isalnum())


# -- boilerplate ---------------------------------------------------------------------------------

# Prompts and notices that pages put among the article's paragraphs: paywalls, newsletter
# sign-ups, advertiser disclosures. A paragraph is dropped when it is short and matches one;
# they are addressed to the reader, so a story that reports on subscriptions does not match.
_BOILERPLATE = re.compile(
    r"\bsubscribe\s+(?:now|today|here|to\s+(?:keep|continue)\s+reading|for\s+(?:full|"
    r"unlimited)\b)|"
    r"\byou(?:'ve|’ve| have)\s+(?:read|reached|used)\b.{0,40}\b(?:free|articles?|stories)\b|"
    r"\balready\s+(?:a\s+)?(?:subscriber|member|registered)\b|"
    r"\b(?:log|sign)\s*in\s+to\s+(?:continue|keep)\s+reading\b|"
    r"\bto\s+(?:continue|keep)\s+reading\b.{0,40}\b(?:subscribe|log\s*in|sign\s*in|register)|"
    r"\b(?:get|enjoy|unlock)\s+unlimited\s+(?:digital\s+)?access\b|"
    r"\bsign(?:ing)?[\s-]*up\s+(?:for|to)\s+(?:our|the|my)\b.{0,40}\b(?:newsletters?|alerts)\b|"
    r"\b(?:join|subscribe\s+to)\s+our\b.{0,30}\bnewsletters?\b|"
    r"\bnever\s+miss\b.{0,50}\b(?:sign(?:ing)?[\s-]*up|subscrib\w*|newsletters?)\b|"
    r"\b(?:delivered|sent|straight|direct(?:ly)?)\s+to\s+your\s+inbox\b|"
    r"\b(?:enter|pop|type|add|drop)\s+(?:in\s+)?your\s+e-?mail(?:\s+address)?\s+"
    r"(?:below|above|here|in\s+the\s+box|and\s+(?:hit|click|press))|"
    r"\bwe\s+want\s+to\s+hear\s+(?:what\s+you\s+think|from\s+you)\b|"
    r"\bsubmit\s+a\s+letter\s+to\s+the\s+editor\b|"
    r"\badvertiser\s+disclosure\b|\bthis\s+(?:article|post|page|story)\s+(?:may\s+)?"
    r"contains?\s+affiliate\s+links\b|\bwe\s+may\s+earn\s+(?:a\s+)?commission\b|"
    r"\b(?:we|this\s+site)\s+(?:may\s+)?(?:receive|be)\s+(?:compensation|compensated)\s+"
    r"(?:from|by|when)\b|"
    r"\bsupport\s+(?:our|independent|quality)\s+journalism\b|\bcancel\s+any\s?time\b",
    re.IGNORECASE)
_BOILERPLATE_MAX_WORDS = 60


# A paragraph that only credits a photo: "Photo: Jane Roe/AFP", "(Image: Colin Keegan,
# Collins Dublin)", "Getty Images", "AP Photo/Evan Vucci", "Jonathan Nackstrand/AFP via Getty
# Images", "Photograph by Ann Lee for the Herald".
_AGENCIES = (r"(?:Getty\s+Images|AFP|AP|Reuters|Shutterstock|iStock(?:photo)?|Alamy|EPA(?:-EFE)?|"
             r"PA(?:\s+(?:Wire|Images|Media))?|Bloomberg|NurPhoto|SOPA\s+Images|Xinhua|"
             r"Anadolu(?:\s+Agency)?|ANP|dpa|Unsplash|Pexels)")
_CREDIT_LINE = re.compile(
    r"^[(\[]?\s*(?:"
    r"(?:(?:main|top|header|featured|file|lead)\s+)?(?:photo(?:graph)?s?|pictures?|pics?|images?|"
    r"illustrations?|videos?|credits?|photo\s+credit|image\s+credit)\s*(?:credit)?\s*"
    r"(?:[:|]|\bby\b|\bcourtesy(?:\s+of)?\b|\bvia\b)\s*\S.*|"
    rf"(?:{_AGENCIES}\s+)?(?:photo|image|pool)\s*/\s*\S.*|"
    rf"(?:[\w.'’-]+\s+){{0,4}}[\w.'’-]+\s*/\s*{_AGENCIES}(?:\s+via\s+{_AGENCIES})?|"
    rf"(?:[\w.'’-]+\s+){{0,4}}[\w.'’-]+\s+(?:for|via)\s+{_AGENCIES}|"
    rf"{_AGENCIES}(?:\s+(?:file\s+)?photo)?"
    r")\s*[)\]]?\.?$", re.IGNORECASE)
_CREDIT_MAX = 14  # words: a caption with a sentence in it is longer


def _is_photo_credit(paragraph: str) -> bool:
    return len(paragraph.split()) <= _CREDIT_MAX and bool(_CREDIT_LINE.match(paragraph))


def drop_boilerplate(body: str) -> tuple[str, int]:
    """The body (paragraphs separated by blank lines) without paywall, newsletter, advertiser
    and letters prompts and lines that only credit a photo, and how many paragraphs were
    dropped."""
    paragraphs = body.split("\n\n")
    kept = [p for p in paragraphs
            if (len(p.split()) > _BOILERPLATE_MAX_WORDS or not _BOILERPLATE.search(p))
            and not _is_photo_credit(p)]
    return "\n\n".join(kept), len(paragraphs) - len(kept)


def is_prompt(text: str) -> bool:
    """Whether a short text (a box's heading, a paragraph) is a prompt addressed to the
    reader: a paywall, a sign-up, a newsletter's name, an advertiser disclosure."""
    text = " ".join(text.split())
    return 0 < len(text.split()) <= _BOILERPLATE_MAX_WORDS and bool(
        _BOILERPLATE.search(text) or _PROMPT_HEADING.search(text))


# Headings of sign-up boxes: "KXAN Daily Forecast Newsletter", "Sign up", "Get our alerts".
_PROMPT_HEADING = re.compile(
    r"^(?:[\w'’&-]+\s+){0,5}newsletters?[.!:]?$|^sign\s*up\b|^subscribe\b|"
    r"^(?:get|receive)\s+(?:our|the)\b.{0,40}\b(?:newsletters?|alerts|briefing)\b|"
    r"^advertiser\s+disclosure\b|^(?:letters?\s+to\s+the\s+editor|write\s+to\s+us)\b",
    re.IGNORECASE)
