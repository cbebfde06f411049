"""`newsdesk serve` when things go wrong around it: SIGTERM with slow questions in flight,
clients that give up, a Chroma server that is down at start. Real processes and servers on
127.0.0.1 (an OpenAI-compatible stub for slow answers, `chroma run`)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app.asking import Desk
from bot.app.metrics import Metrics
from bot.http.app import build_app
from bot.http.server import HttpServer
from bot.http.service import Service
from config.settings import ServeSettings
from retrieval.records import Answer
from tests.helpers import ChatStub
from tests.integration.serving import BRIDGE_QUESTION, TOKEN, Served
from tests.peers import ChromaServer

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Serve:
    """`newsdesk serve` in a process of its own."""

    def __init__(self, data_dir: Path, env: dict[str, str]) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        environ = {**os.environ, "NEWSDESK_DATA_DIR": str(data_dir),
                   "NEWSDESK_API_TOKEN": TOKEN, **env}
        environ.pop("SLACK_BOT_TOKEN", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve", "--port", str(self.port)],
            env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def readiness(self) -> httpx.Response | None:
        try:
            return httpx.get(f"{self.base}/readyz", timeout=5)
        except httpx.TransportError:
            return None

    def wait_until(self, ready: bool, timeout: float = 180) -> httpx.Response:
        """Poll /readyz until it answers with `ready` (a deadline, not a speed check)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.process.communicate()[1]
            response = self.readiness()
            if response is not None and (response.status_code == 200) == ready:
                return response
            time.sleep(0.3)
        raise AssertionError(f"/readyz never said ready={ready}")

    def stop(self) -> tuple[int, str]:
        """SIGTERM; the exit code and what it wrote to stderr."""
        self.process.send_signal(signal.SIGTERM)
        _, err = self.process.communicate(timeout=120)
        return self.process.returncode, err


@pytest.fixture
def serve_process() -> Iterator[Any]:
    started: list[Serve] = []

    def start(data_dir: Path, **env: str) -> Serve:
        process = Serve(data_dir, env)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.process.poll() is None:
            process.process.kill()
            process.process.communicate()


def test_sigterm_finishes_what_fits_and_answers_the_rest_with_json_503(
        served: Served, serve_process: Any) -> None:
    stub = ChatStub()
    stub.reply = lambda request: "The repair cost 84 million euros [1]."
    stub.delay = 12.0  # far longer than the grace period
    server = serve_process(served.components.settings.data_dir, **{
        "NEWSDESK_ANSWER__MODE": "llm", "NEWSDESK_LLM__BASE_URL": stub.base_url,
        "NEWSDESK_LLM__MODEL": "stub-model", "NEWSDESK_LLM__TIMEOUT": "60",
        "NEWSDESK_SERVE__SHUTDOWN_GRACE": "3"})
    server.wait_until(ready=True)
    replies: list[tuple[str, int, str]] = []

    def ask(kind: str) -> None:
        headers = {**AUTH, **({"Accept": "text/event-stream"} if kind == "stream" else {})}
        with httpx.Client(base_url=server.base, timeout=120) as client:
            response = client.post("/api/ask", json={"question": BRIDGE_QUESTION},
                                   headers=headers)
            replies.append((kind, response.status_code, response.text))

    askers = [threading.Thread(target=ask, args=(kind,)) for kind in ("json", "json", "stream")]
    for thread in askers:
        thread.start()
    deadline = time.monotonic() + 120
    while len(stub.requests) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)  # all three are with the model now
    server.process.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    late = httpx.post(f"{server.base}/api/ask", json={"question": "Who won?"}, headers=AUTH,
                      timeout=30)
    for thread in askers:
        thread.join(timeout=120)
    code, stderr = server.process.wait(timeout=120), server.process.communicate()[1]
    assert late.status_code == 503 and late.json()["error"].startswith(
        "the server is shutting down") and late.headers["retry-after"]
    by_kind = sorted(replies)
    assert [(kind, status) for kind, status, _ in by_kind] == [
        ("json", 503), ("json", 503), ("stream", 200)]
    for _, _, text in by_kind[:2]:
        assert httpx.Response(503, text=text).json() == {
            "error": "the server is shutting down; ask again shortly"}
    assert "event: error" in by_kind[2][2] and "shutting down" in by_kind[2][2]
    assert code == 0
    assert "Traceback" not in stderr and "Event loop is closed" not in stderr, stderr


class HeldEngine:
    """Answers only once released; counts the questions it was actually asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.release = threading.Event()

    def ask(self, question: str, history: Any = (), **kwargs: Any) -> Answer:
        self.asked.append(question)
        self.release.wait(timeout=60)
        return Answer(question=question, answer="Answered.", abstained=False, citations=(),
                      passages=())


def test_questions_whose_clients_gave_up_are_not_answered() -> None:
    engine = HeldEngine()
    limits = ServeSettings(host="127.0.0.1", answer_workers=1)
    service = Service(desk=Desk(engine), readiness=lambda: None,  # type: ignore[arg-type]
                      metrics=Metrics(), limits=limits,
                      answers=ThreadPoolExecutor(max_workers=1))
    server = HttpServer(build_app(service), "127.0.0.1", 0, limits.header_timeout)
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        def give_up(number: int) -> None:
            with pytest.raises(httpx.ReadTimeout):
                httpx.post(f"{base}/api/ask", json={"question": f"Q{number}?"}, timeout=1.0)

        with ThreadPoolExecutor(max_workers=6) as clients:
            list(clients.map(give_up, range(6)))
        deadline = time.monotonic() + 30
        while service.lifecycle.in_flight and time.monotonic() < deadline:
            time.sleep(0.05)  # the server has seen every client go
        engine.release.set()
        answered = httpx.post(f"{base}/api/ask", json={"question": "Still there?"}, timeout=60)
    finally:
        server.stop()
    assert answered.status_code == 200 and answered.json()["answer"] == "Answered."
    # The one question already running when its client went, then the new one: the five
    # that were still queued were dropped, not answered for nobody.
    assert len(engine.asked) == 2 and engine.asked[-1] == "Still there?"


def test_serve_starts_while_chroma_is_down_and_becomes_ready_when_it_returns(
        tmp_path: Path, serve_process: Any) -> None:
    chroma = ChromaServer(tmp_path / "chroma")  # its port is chosen, the server not started
    server = serve_process(tmp_path / "data", NEWSDESK_STORE__URL=chroma.url)
    try:
        deadline = time.monotonic() + 180
        while "loading" in (reason := server.wait_until(ready=False).json()["reason"]):
            assert time.monotonic() < deadline, "still loading the model"
            time.sleep(0.3)
        # Up, not ready, and saying why: the store.
        assert chroma.url in reason or "store" in reason.lower(), reason
        chroma.start()
        server.wait_until(ready=True)
        answer = httpx.post(f"{server.base}/api/ask", json={"question": BRIDGE_QUESTION},
                            headers=AUTH, timeout=120)
        assert answer.status_code == 200 and answer.json()["abstained"]  # an empty store
        code, stderr = server.stop()
        assert code == 0, stderr
    finally:
        chroma.stop()
