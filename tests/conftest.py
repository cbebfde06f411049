"""Shared fixtures. Integration tests use the real model, a real Chroma directory and real
HTTP servers on 127.0.0.1; the model is loaded once per test session."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import LocalServer, Route
from tests.peers import ChromaServer

# The suite never reaches a model hub; make an accidental download fail fast instead of hanging.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session", autouse=True)
def onnx_exports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The ONNX exports of this session: made once and shared, as the user's cache is, but
    never the user's."""
    path = tmp_path_factory.mktemp("onnx-exports")
    saved = os.environ.get("NEWSDESK_EMBEDDING__EXPORT_DIR")
    os.environ["NEWSDESK_EMBEDDING__EXPORT_DIR"] = str(path)
    yield path
    if saved is None:
        os.environ.pop("NEWSDESK_EMBEDDING__EXPORT_DIR", None)
    else:
        os.environ["NEWSDESK_EMBEDDING__EXPORT_DIR"] = saved


@pytest.fixture(scope="session")
def embedder() -> Any:
    from config.settings import EmbeddingSettings
    from ingest.embed.embedder import SentenceTransformerEmbedder

    model = SentenceTransformerEmbedder(EmbeddingSettings())
    model.embed(["warm up"])
    return model


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, onnx_exports: Path) -> Path:
    path = tmp_path / "data"
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(path))
    for name in list(os.environ):
        if name.startswith("NEWSDESK_") and name not in (
                "NEWSDESK_DATA_DIR", "NEWSDESK_EMBEDDING__EXPORT_DIR"):
            monkeypatch.delenv(name)
    return path


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
