"""Helpers shared by the test modules: fixture articles, a routed local HTTP server, small
stand-ins. (Tests import these from here, never from one another or from conftest.)"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from bot.factory import Components
from config import load_settings
from config.settings import AnswerSettings
from ingest.sources.fetch import Fetched
from retrieval.answer.extractive_config import ExtractiveConfig
from retrieval.answer.scorer import AnswerModel, LinearModel
from tests.peers import QuietHandler, server_url, start_server, stop_server

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


def ingested_copy(folder: Path, workspace: Path, embedder: Any) -> Components:
    """Components over a fresh data directory in `workspace`, with a copy of `folder`
    ingested (the copy: tests must not write beside the repository's fixtures)."""
    corpus = workspace / folder.name
    shutil.copytree(folder, corpus)
    components = Components(load_settings(data_dir=str(workspace / "data")), embedder=embedder)
    components.build_ingestor().ingest([str(corpus)])
    return components


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
    def get(self, url: str, conditional: bool = False,
            linked_from: str | None = None) -> Fetched:
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


# Unit tests of the answerer's rules run on a fixed, hand-set model, so that they test the
# rules and not whichever weights bench/train_scorer.py last fitted: a sentence scores by its
# question coverage (article, sentence, neighbours), the asked-for kind of value near the
# question's words and its similarity; the lead model is sure of every value.
RULES_MODEL = AnswerModel(
    sentence=LinearModel(
        ("topic", "focus", "context", "type_ok", "type_miss", "reason", "prior", "similarity",
         "span_near", "span_counted", "focus_prefix"),
        (4.0, 4.0, 1.6, 0.6, -1.0, 1.0, 0.32, 2.4, 4.0, 4.0, 2.0), -4.0),
    lead=LinearModel(("sentence_logit",), (0.0,), 5.0),
    abstain_below=0.5, lead_above=0.5)


def extractive_config(**overrides: Any) -> ExtractiveConfig:
    """The extractive answerer's config as settings make it, with the fixed test model and
    some values changed."""
    answer = AnswerSettings().model_dump(include={"max_sentences", "max_words", "min_evidence",
                                                  "lead_confidence"})
    # No close second: the hand-set model's probabilities are too flat for its ratio.
    return ExtractiveConfig(**{**answer, "model": RULES_MODEL, "close_ratio": 1.01,
                               **overrides})


Reply = Callable[[dict[str, Any]], str]


class ChatStub:
    """Answers /v1/chat/completions like OpenAI, streaming or not; records every request."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.reply: Reply = lambda request: "No reply configured."
        self.delay = 0.0
        self.reject_key = False  # answer 401 with a body that echoes the caller's key
        stub = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.requests.append(body)
                stub.headers.append({k.lower(): v for k, v in self.headers.items()})
                time.sleep(stub.delay)
                if stub.reject_key:  # as some providers do: the error quotes the bad key
                    key = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    payload = json.dumps({"error": {
                        "message": f"Incorrect API key provided: {key}.\nSee your account.",
                        "type": "invalid_request_error", "code": "invalid_api_key"}}).encode()
                    self.send_response(401)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                text = stub.reply(body)
                # The client may have given up already (the timeout test).
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._send(body, text)

            def _send(self, body: dict[str, Any], text: str) -> None:
                if body.get("stream"):
                    self._stream(text)
                else:
                    self._json({"id": "c1", "object": "chat.completion", "created": 0,
                                "model": body["model"], "choices": [{
                                    "index": 0, "finish_reason": "stop",
                                    "message": {"role": "assistant", "content": text}}],
                                "usage": {"prompt_tokens": 1, "completion_tokens": 1,
                                          "total_tokens": 2}})

            def _json(self, data: dict[str, Any]) -> None:
                payload = json.dumps(data).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _stream(self, text: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                words = text.split(" ")
                for i, word in enumerate(words):
                    piece = word if i == len(words) - 1 else word + " "
                    chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 0,
                             "model": "stub", "choices": [{"index": 0, "delta":
                                                           {"content": piece},
                                                           "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")

        self.httpd = start_server(Handler)
        self.base_url = f"{server_url(self.httpd)}/v1"

    def close(self) -> None:
        stop_server(self.httpd)


def numbered(request: dict[str, Any], article_title: str) -> int:
    """The number the prompt gave the passage of the article with this title."""
    prompt = request["messages"][-1]["content"]
    for line in prompt.splitlines():
        if line.startswith("[") and article_title in line:
            return int(line[1:line.index("]")])
    raise AssertionError(f"{article_title!r} not in the prompt")
