"""Feeds against real HTTP servers on 127.0.0.1 with the real fetcher (httpx): a feed's links to
internal addresses are refused, also behind a redirect or a name rebound after the check,
unless allowed; a slow feed's linked pages share one deadline; a redirect's end names the
article; a compressed page is never inflated past the size cap."""

from __future__ import annotations

import gzip
import socket
import time
import tracemalloc
import zlib
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import zstandard

from config.settings import ChunkingSettings, IngestSettings
from ingest.model.records import IngestSummary
from ingest.run.pipeline import Ingestor
from ingest.sources.fetch import HttpFetcher
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


def encoded(body: bytes, encoding: str) -> Callable[[BaseHTTPRequestHandler], None]:
    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Encoding", encoding)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
    return route


def test_a_compression_bomb_is_refused_without_being_inflated(local_server: Start) -> None:
    zeros = b"\0" * 100_000_000
    bombs = {"/gzip": encoded(gzip.compress(zeros), "gzip"),  # ~100 kB on the wire
             "/nested": encoded(gzip.compress(gzip.compress(zeros)), "gzip, gzip"),  # ~200 B
             "/zstd": encoded(zstandard.ZstdCompressor().compress(zeros), "zstd")}  # ~3 kB
    del zeros
    page = PAGE.format(title="Ferry timetable", text="The winter timetable starts. " * 5)
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    site = local_server({**bombs, "/ok": encoded(gzip.compress(page.encode()), "gzip"),
                         "/deflate": encoded(raw_deflate.compress(page.encode())
                                             + raw_deflate.flush(), "deflate")})
    fetcher = HttpFetcher(IngestSettings(max_fetch_bytes=1_000_000))
    tracemalloc.start()
    try:
        for path in bombs:
            summary, _ = ingest(site.url + path, max_fetch_bytes=1_000_000)
            assert summary.added == 0 and len(summary.failed) == 1, path
            assert ("response larger than 1000000 bytes" in summary.failed[0].reason
                    or "unsupported content encoding" in summary.failed[0].reason), path
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000, f"{peak} bytes allocated to refuse 1 MB pages"
    # Pages compressed as servers do are still read.
    assert fetcher.get(site.url + "/ok").content == page.encode()
    assert fetcher.get(site.url + "/deflate").content == page.encode()


def test_a_name_rebound_to_an_internal_address_after_the_check_is_not_read(
        local_server: Start, monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: the linked page's name answers a public address when it is judged,
    then 127.0.0.1 (a TTL of 0) when the connection is made."""
    internal = local_server({"/latest/meta-data/iam": respond(
        PAGE.format(title="Credentials", text=SECRET))})
    port = internal.url.rsplit(":", 1)[1]
    site = local_server({})
    site.routes["/feed.xml"] = respond(rss([("Keys", f"http://rebind.test:{port}"
                                                     "/latest/meta-data/iam")]),
                                       "application/rss+xml")
    real = socket.getaddrinfo
    answers = iter(["93.184.216.34"])  # the first answer is public, every later one is not

    def rebinding(host: object, *args: object, **kwargs: object) -> object:
        if host != "rebind.test":
            return real(host, *args, **kwargs)  # type: ignore[arg-type]
        address = next(answers, "127.0.0.1")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port)))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    summary, store = ingest(f"{site.url}/feed.xml")
    assert "swordfish" not in stored_text(store)
    assert summary.added == 1 and len(summary.partial) == 1  # the teaser is kept
    assert ("refused: a feed's link to an internal address (rebind.test is 127.0.0.1)"
            in summary.partial[0].reason), summary.partial[0].reason


def test_a_named_source_that_redirects_to_an_internal_address_is_not_read(
        local_server: Start) -> None:
    """The operator named the feed, not where its publisher redirects it: a hop to another
    internal host is judged as a feed's link is (its own host stays allowed)."""
    internal = local_server({"/admin": respond(PAGE.format(title="Admin", text=SECRET))})
    secret_url = internal.url.replace("localhost", "127.0.0.1") + "/admin"
    site = local_server({"/feed.xml": redirect(secret_url), "/moved": redirect("/feed.xml")})
    site_url = site.url.replace("127.0.0.1", "localhost")  # the named source's host
    summary, store = ingest(f"{site_url}/moved")  # its own host first, then the internal one
    assert "swordfish" not in stored_text(store)
    assert summary.added == 0 and len(summary.failed) == 1
    assert "refused" in summary.failed[0].reason and "127.0.0.1" in summary.failed[0].reason
    assert internal.requests == []

    allowed, store = ingest(f"{site_url}/moved", allow_private_hosts=["127.0.0.1"])
    assert "swordfish" in stored_text(store) and allowed.added == 1
    named, store = ingest(secret_url)  # named itself: the operator's choice
    assert "swordfish" in stored_text(store) and named.added == 1
