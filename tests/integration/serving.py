"""A `newsdesk serve` for tests: the sample articles ingested, the API, MCP and a Slack app
(against a fake Slack Web API) on 127.0.0.1 — shared by the HTTP, MCP and front-end tests."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bot.app.metrics import Metrics
from bot.factory import Components
from bot.http.app import build_app
from bot.http.server import HttpServer
from bot.slack.app import slack_tokens
from config import load_settings
from ingest.embed.embedder import Embedder
from tests.helpers import SAMPLES
from tests.peers import FakeSlack

TOKEN = "api-token-for-tests-0123456789"
SECRET = "serve-signing-secret"
BOT_TOKEN = "xoxb-serve-test-token"
BRIDGE_QUESTION = "How much did the Kestrel Harbour Bridge repair cost?"


class Served:
    def __init__(self, server: HttpServer, fake: FakeSlack, components: Components,
                 corpus: Path) -> None:
        self.server, self.fake, self.components = server, fake, components
        self.corpus = corpus
        self.base = f"http://127.0.0.1:{server.port}"
        self.auth = {"Authorization": f"Bearer {TOKEN}"}

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=60, **kwargs)


@contextmanager
def serving(data_dir: Path, corpus: Path, embedder: Embedder) -> Iterator[Served]:
    """Ingest the sample articles into `data_dir` (copied to `corpus`) and serve them."""
    shutil.copytree(SAMPLES, corpus)
    fake = FakeSlack()
    environ = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET,
               "SLACK_API_URL": fake.api_url, "NEWSDESK_API_TOKEN": TOKEN}
    saved = {name: os.environ.get(name) for name in environ}
    os.environ.update(environ)
    settings = load_settings(data_dir=str(data_dir), **{
        "serve.header_timeout": 1.0, "serve.body_timeout": 1.0,
        "serve.max_concurrent_requests": 8, "serve.max_body_bytes": 100_000})
    components = Components(settings, embedder=embedder)
    components.build_ingestor().ingest([str(corpus)])
    metrics = Metrics()
    desk = components.build_desk(metrics, lazy=True)
    bot = components.build_slack_bot(slack_tokens(environ, False), desk)
    service = components.build_service(api=True, desk=desk, slack=bot, metrics=metrics,
                                       host="127.0.0.1")
    server = HttpServer(build_app(service), "127.0.0.1", 0, settings.serve.header_timeout)
    server.start()
    try:
        yield Served(server, fake, components, corpus)
    finally:
        _stop(server, bot, fake, saved)


def _stop(server: HttpServer, bot: Any, fake: FakeSlack, saved: dict[str, str | None]) -> None:
    server.stop()
    bot.close()
    fake.close()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
