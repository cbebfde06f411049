"""Content extraction on real news pages: is the stored article what readers read?

Scores Newsdesk's own HTML loader (`ingest.sources.loaders.load` on a `.html` file: the code path
`newsdesk ingest page.html` takes) on trafilatura's evaluation pages (`tests/eval/*.html`
and `tests/evaldata.json` in its repository; not shipped here: point `--pages` and
`--evaldata` at a copy). evaldata.json maps a URL to {file, title?, date?, with: [snippets
the article's text must hold], without: [snippets it must not]}.

Which pages (deterministic, no network):

1. entries with both a `title` and a `date`, whose file is present;
2. the page is in English: its `og:locale` when it has one, else `<html lang>`, else a
   `content-language` meta, starts with "en" (many German pages say `lang="en"` by
   template but `og:locale="de_DE"`, hence og:locale first);
3. its URL's host is a known news outlet (NEWS_OUTLETS below: newspapers, broadcasters,
   news magazines and local news sites; blogs, recipes, shops and wikis are left out);
4. of those, `--count` (30) drawn with `random.Random(--seed)` (seed 29) from the list
   sorted by URL, then listed by URL. `--all` takes every page that passes 1-3.

Scores, per page:

- title: the stored title equals evaldata's after normalising both (NFKC, case-folded,
  curly quotes and dashes made plain, whitespace collapsed, trailing punctuation dropped);
- date: the stored `published` falls on evaldata's calendar day (in the publisher's own
  offset, as stored);
- body: every `with` snippet is in the stored text and no `without` snippet is (both
  normalised as titles are, line breaks as spaces). A live blog stored as several articles
  is scored on their texts together, and on the first one's title.

    python bench/extraction.py --pages /tmp/trafeval/eval --evaldata /tmp/trafeval/evaldata.json
        [--count 30 | --all] [--seed 29] [--json] [--verbose]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import lxml.html

from config.settings import IngestSettings
from ingest.model.records import Article
from ingest.sources.discover import SourceItem
from ingest.sources.fetch import Fetched
from ingest.sources.loaders import load

# News outlets (hosts without "www."): newspapers, broadcasters, news magazines, local news.
NEWS_OUTLETS = frozenset((
    "abc13.com", "abc7news.com", "axios.com", "bbc.com", "bbc.co.uk", "bostonherald.com",
    "californiaglobe.com", "caymancompass.com", "cbsnews.com", "citylimits.org",
    "corkbeo.ie", "dailymail.co.uk", "economist.com", "edition.cnn.com", "cnn.com",
    "fivethirtyeight.com", "gothamist.com", "heartlandnewsfeed.com", "independent.co.uk",
    "japantimes.co.jp", "kaieteurnewsonline.com", "kxan.com", "latimes.com", "laweekly.com",
    "metrotimes.com", "miamitodaynews.com", "msn.com", "newrepublic.com", "nymag.com",
    "nytimes.com", "observer.com", "pagesix.com", "phillyvoice.com", "politico.com",
    "publishedreporter.com", "reuters.com", "roughdraftatlanta.com", "standard.co.uk",
    "theatlantic.com", "theguardian.com", "theintercept.com", "thelocal.se",
    "timesofisrael.com", "twincities.com", "ukbdnews.com", "villagevoice.com",
    "viconsortium.com", "wired.com", "world.kbs.co.kr", "wsvn.com", "salon.com",
    "washingtonpost.com", "usatoday.com", "npr.org", "apnews.com", "theverge.com",
))


@dataclass
class Score:
    url: str
    file: str
    title: bool = False
    date: bool = False
    body: bool = False
    stored_title: str = ""
    stored_date: str = ""
    missing: list[str] = field(default_factory=list)  # `with` snippets not in the text
    unwanted: list[str] = field(default_factory=list)  # `without` snippets in it
    error: str = ""


_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "′": "'", "“": '"', "”": '"',
                         "„": '"', "″": '"', "–": "-", "—": "-", "‐": "-", "‑": "-",
                         "\u00a0": " "})


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    return " ".join(text.split())


def same_title(stored: str, expected: str) -> bool:
    def plain(text: str) -> str:
        return normalise(text).rstrip(" .:!?")
    return plain(stored) == plain(expected)


def page_language(html: bytes) -> str:
    """og:locale, else <html lang>, else a content-language meta ('' when none)."""
    try:
        root = lxml.html.document_fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return ""
    for meta in root.iter("meta"):
        if (meta.get("property") or meta.get("name") or "").lower() == "og:locale":
            return (meta.get("content") or "").strip().lower()
    if root.get("lang"):
        return str(root.get("lang")).strip().lower()
    for meta in root.iter("meta"):
        if (meta.get("http-equiv") or "").lower() == "content-language":
            return (meta.get("content") or "").strip().lower()
    return ""


def is_news_outlet(url: str) -> bool:
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    return host in NEWS_OUTLETS or any(host.endswith("." + o) for o in NEWS_OUTLETS)


def select(evaldata: dict[str, Any], pages: Path, count: int | None,
           seed: int) -> list[tuple[str, dict[str, Any]]]:
    chosen = []
    for url in sorted(evaldata):
        entry = evaldata[url]
        path = pages / entry.get("file", "")
        if not (entry.get("title") and entry.get("date") and path.is_file()):
            continue
        if not is_news_outlet(url):
            continue
        if not page_language(path.read_bytes()).startswith("en"):
            continue
        chosen.append((url, entry))
    if count is not None and count < len(chosen):
        chosen = sorted(random.Random(seed).sample(chosen, count))
    return chosen


class _Offline:
    """A fetcher for the loader: a page file never needs the network."""

    def get(self, url: str, conditional: bool = False,
            linked_from: str | None = None) -> Fetched:
        raise RuntimeError(f"no network in the bench ({url})")

    def commit(self, url: str) -> None:
        pass


def score(url: str, entry: dict[str, Any], pages: Path) -> Score:
    path = pages / entry["file"]
    result = Score(url=url, file=entry["file"])
    loaded = list(load(SourceItem(location=str(path), origin=str(path), root=pages),
                       _Offline(), IngestSettings()))
    articles = [a for a in loaded if isinstance(a, Article)]
    if not articles:
        result.error = "; ".join(getattr(x, "reason", str(x)) for x in loaded) or "nothing"
        result.missing = list(entry.get("with", []))
        return result
    first = articles[0]
    result.stored_title = first.title
    result.title = same_title(first.title, entry["title"]) or (
        len(articles) > 1 and normalise(first.title).startswith(normalise(entry["title"])))
    if first.published is not None:
        result.stored_date = first.published.date().isoformat()
        result.date = result.stored_date == entry["date"]
    text = normalise(" ".join(a.text for a in articles))
    result.missing = [s for s in entry.get("with", []) if normalise(s) not in text]
    result.unwanted = [s for s in entry.get("without", []) if normalise(s) in text]
    result.body = not result.missing and not result.unwanted
    return result


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def report(scores: list[Score], evaldata: dict[str, Any], verbose: bool) -> None:
    print(f"{'page':44} {'title':5} {'date':5} {'body':5}")
    for s in scores:
        mark = {True: "ok", False: "NO"}
        print(f"{_short(s.file, 44):44} {mark[s.title]:5} {mark[s.date]:5} {mark[s.body]:5}")
        if verbose or not (s.title and s.date and s.body):
            if s.error:
                print(f"    error: {s.error}")
            if not s.title:
                print(f"    title: {s.stored_title!r} (want {evaldata[s.url]['title']!r})")
            if not s.date:
                print(f"    date: {s.stored_date or 'none'} (want {evaldata[s.url]['date']})")
            for snippet in s.missing:
                print(f"    missing: {_short(snippet, 90)!r}")
            for snippet in s.unwanted:
                print(f"    kept: {_short(snippet, 90)!r}")
    n = len(scores)
    print(f"\ntitles {sum(s.title for s in scores)}/{n}  dates {sum(s.date for s in scores)}/{n}"
          f"  bodies {sum(s.body for s in scores)}/{n}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=Path, required=True, help="trafilatura's tests/eval")
    parser.add_argument("--evaldata", type=Path, required=True, help="its tests/evaldata.json")
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--all", action="store_true", help="every page the rule selects")
    parser.add_argument("--seed", type=int, default=29)
    parser.add_argument("--json", action="store_true", help="figures as JSON")
    parser.add_argument("--verbose", action="store_true", help="details for every page")
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # the loader's per-page notes are not the report
    evaldata = json.loads(args.evaldata.read_text())
    chosen = select(evaldata, args.pages, None if args.all else args.count, args.seed)
    scores = [score(url, entry, args.pages) for url, entry in chosen]
    if args.json:
        n = len(scores)
        print(json.dumps({"pages": n, "titles": sum(s.title for s in scores),
                          "dates": sum(s.date for s in scores),
                          "bodies": sum(s.body for s in scores),
                          "per_page": [asdict(s) for s in scores]}, indent=1))
    else:
        report(scores, evaldata, args.verbose)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
