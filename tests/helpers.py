"""Helpers shared by the test modules: fixture articles, a routed local HTTP server, small
stand-ins. (Tests import these from here, never from one another or from conftest.)"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from bench.peers import QuietHandler, server_url, start_server, stop_server
from config.settings import AnswerSettings
from ingest.fetch import Fetched
from retrieval.extractive import ExtractiveConfig

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = Path(__file__).parent.parent / "docs" / "samples"


def write_article(folder: Path, name: str, title: str, body: str, *, url: str | None = None,
                  date: str = "March 3, 2024", author: str = "Test Desk") -> Path:
    """An article in the exported layout: title, byline, date, credit, body, original url."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [title, "", f"By [{author}](#)", "", date, "", "", "Test photo/Fixtures", "", body]
    if url:
        lines += ["", "Original url:", "", f"<{url}>"]
    path = folder / name
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


Route = Callable[[BaseHTTPRequestHandler], None]


class LocalServer:
    """A stdlib HTTP server on 127.0.0.1:0 serving routes; records every request path."""

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.requests: list[str] = []
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404, "Not Found")
                else:
                    route(self)

        self.httpd = start_server(Handler)
        self.url = server_url(self.httpd)

    def close(self) -> None:
        stop_server(self.httpd)


def respond(body: str | bytes, content_type: str = "text/html; charset=utf-8",
            status: int = 200) -> Route:
    data = body.encode() if isinstance(body, str) else body

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    return route


class NoNetwork:
    def get(self, url: str, conditional: bool = False) -> Fetched:
        raise AssertionError(f"unexpected fetch of {url}")

    def commit(self, url: str) -> None:
        raise AssertionError(f"unexpected commit of {url}")


def word_counter(texts: Sequence[str]) -> list[int]:
    """A stand-in tokenizer: one token per whitespace-separated word."""
    return [len(t.split()) for t in texts]


RARE = {"kestrel": 4.0, "bridg": 2.0, "repair": 2.0, "cost": 1.5, "cabl": 3.0, "toll": 3.0,
        "mayor": 3.0}


class Analyzer:
    def terms(self, text: str) -> list[str]:
        words = re.findall(r"\w\w+", text.lower())
        return [w[:5] if w.startswith("bridg") or w.startswith("cabl") else w for w in words
                if w not in {"the", "how", "much", "did", "was", "what", "who", "for", "and"}]

    def idf(self, term: str) -> float:
        return RARE.get(term, 1.0)


HTML_PAGE = """<html><head><title>Council backs tram line | City News</title>
<link rel="canonical" href="https://city.example/news/tram?utm_source=x">
<meta name="author" content="Jane Doe">
<meta property="article:published_time" content="2024-03-05T10:00:00Z">
<meta property="og:site_name" content="City News"></head>
<body><nav>Home | World</nav><article><h1>Council backs tram line</h1>
<p>The city council approved the new tram line on Tuesday evening after a long debate.</p>
<p>Councillors voted 7 to 2 in favour of the plan, which will cost 300 million euros.</p>
</article><footer>Copyright</footer></body></html>"""


def rss_feed(entries: list[tuple[str, str, str]]) -> str:
    items = "".join(
        f"<item><title>{title}</title><link>{link}</link>"
        f"<pubDate>Tue, 05 Mar 2024 10:00:00 GMT</pubDate>"
        f"<description><![CDATA[{body}]]></description></item>"
        for title, link, body in entries
    )
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Example Feed</title>'
            f"<link>https://feed.example/</link>{items}</channel></rss>")


def extractive_config(**overrides: Any) -> ExtractiveConfig:
    """The extractive answerer's config as settings make it, with some values changed."""
    answer = AnswerSettings().model_dump(include={"max_sentences", "max_words", "min_evidence"})
    return ExtractiveConfig(**{**answer, **overrides})
