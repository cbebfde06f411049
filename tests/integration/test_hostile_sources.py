"""Feeds against real HTTP servers on 127.0.0.1 with the real fetcher (httpx): a feed's links to
internal addresses are refused, also behind a redirect, unless allowed; a slow feed's linked
pages share one deadline; a redirect's end names the article."""

from __future__ import annotations

import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from config.settings import ChunkingSettings, IngestSettings
from ingest.fetch import HttpFetcher
from ingest.pipeline import Ingestor
from ingest.records import IngestSummary
from tests.fakes import HashingEmbedder, MemoryStore
from tests.helpers import LocalServer, respond

SECRET = "The database password for the payroll system is swordfish-42."
PAGE = ("<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
        + "<p>{text}</p>" * 3 + "</article></body></html>")

Start = Callable[[dict[str, Callable[[BaseHTTPRequestHandler], None]]], LocalServer]


def rss(items: list[tuple[str, str]]) -> str:
    entries = "".join(f"<item><title>{t}</title><link>{link}</link><guid>{link}</guid>"
                      f"<description>Teaser for {t}.</description></item>" for t, link in items)
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Hostile</title>'
            f"{entries}</channel></rss>")


def redirect(to: str) -> Callable[[BaseHTTPRequestHandler], None]:
    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(301)
        handler.send_header("Location", to)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
    return route


def ingest(url: str, **settings: object) -> tuple[IngestSummary, MemoryStore]:
    store = MemoryStore()
    limits = IngestSettings(**settings)  # type: ignore[arg-type]
    run = Ingestor(store, HashingEmbedder(), HttpFetcher(limits),
                   chunking=ChunkingSettings(max_tokens=60, overlap_tokens=8), settings=limits)
    return run.ingest([url]), store


def stored_text(store: MemoryStore) -> str:
    return " ".join(text for text, _, _ in store.chunks.values())


def test_a_feed_cannot_make_newsdesk_read_an_internal_page(local_server: Start) -> None:
    internal = local_server({"/internal/secret": respond(
        PAGE.format(title="Internal", text=SECRET))})
    secret_url = internal.url.replace("localhost", "127.0.0.1") + "/internal/secret"
    site = local_server({})
    site_url = site.url.replace("127.0.0.1", "localhost")  # the feed's own host: localhost
    site.routes["/feed.xml"] = respond(rss([("Payroll", secret_url),
                                            ("Hop", f"{site_url}/r")]), "application/rss+xml")
    site.routes["/r"] = redirect(secret_url)  # allowed host first, then the internal one
    summary, store = ingest(f"{site_url}/feed.xml")
    assert "swordfish" not in stored_text(store)
    refused = [p.reason for p in summary.partial]
    assert len(refused) == 2
    assert all("refused: a feed's link to an internal address (127.0.0.1 is 127.0.0.1)" in r
               for r in refused), refused
    assert internal.requests == []  # never asked

    allowed, store = ingest(f"{site_url}/feed.xml", allow_private_hosts=["127.0.0.1"])
    assert "swordfish" in stored_text(store) and not allowed.partial


def test_a_slow_feed_shares_one_deadline_and_keeps_its_teasers(local_server: Start) -> None:
    def slow(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(3)
        respond(PAGE.format(title="Slow", text="Late words " * 40))(handler)

    site = local_server({f"/p{i}": slow for i in range(4)})
    site.routes["/feed.xml"] = respond(rss([(f"Story {i}", f"{site.url}/p{i}")
                                            for i in range(4)]), "application/rss+xml")
    summary, store = ingest(f"{site.url}/feed.xml", source_deadline=1.0, link_fetches=2)
    assert summary.added == 4  # each entry kept, as its teaser
    assert len(summary.partial) == 4
    assert all("not fetched within the source's deadline (1 s; [ingest] source_deadline)"
               in p.reason for p in summary.partial)
    assert "Late words" not in stored_text(store)


def test_a_tracking_redirect_does_not_name_the_article(local_server: Start,
                                                       tmp_path: Path) -> None:
    site = local_server({"/news/ferry.html": respond(PAGE.format(
        title="Ferry timetable", text="The winter ferry timetable starts on Monday. " * 5))})
    site.routes["/~r/feed/abc"] = redirect("/news/ferry.html")
    site.routes["/feed.xml"] = respond(rss([("Ferry timetable", f"{site.url}/~r/feed/abc")]),
                                       "application/rss+xml")
    summary, store = ingest(f"{site.url}/feed.xml")
    assert summary.added == 1
    assert list(store.articles()) == [f"{site.url}/news/ferry.html"]
