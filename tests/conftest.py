"""Shared fixtures. Integration tests use the real model, a real Chroma directory and real
HTTP servers on 127.0.0.1; the model is loaded once per test session."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pytest

from tests.http_helpers import QuietHandler, server_url, start_server, stop_server

# The suite never reaches a model hub; make an accidental download fail fast instead of hanging.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = Path(__file__).parent.parent / "docs" / "samples"


@pytest.fixture(scope="session")
def embedder() -> Any:
    from ingest.embedding import SentenceTransformerEmbedder

    model = SentenceTransformerEmbedder("all-MiniLM-L6-v2", threads=2)
    model.embed(["warm up"])
    return model


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "data"
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(path))
    for name in list(os.environ):
        if name.startswith("NEWSDESK_") and name != "NEWSDESK_DATA_DIR":
            monkeypatch.delenv(name)
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


@pytest.fixture
def local_server() -> Iterator[Callable[[dict[str, Route]], LocalServer]]:
    servers: list[LocalServer] = []

    def start(routes: dict[str, Route]) -> LocalServer:
        server = LocalServer(routes)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


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


class ChromaServer:
    """A real `chroma run` server on 127.0.0.1 for server-mode tests; can be killed and
    restarted on the same port and data (fault tests)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
        self.process = subprocess.Popen(
            [chroma, "run", "--path", str(self.path), "--host", "127.0.0.1",
             "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urlopen(f"{self.url}/api/v2/heartbeat", timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("chroma server did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=30)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["embedded", "server"])
def store_mode(request: pytest.FixtureRequest, data_dir: Path,
               monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a store-level test against the embedded store and against a Chroma server."""
    if request.param == "server":
        server: ChromaServer = request.getfixturevalue("chroma_server")
        monkeypatch.setenv("NEWSDESK_CHROMA_URL", server.url)
        monkeypatch.setenv("NEWSDESK_STORE__COLLECTION", f"test-{uuid.uuid4().hex[:12]}")
    return str(request.param)
