"""The request guard against hostile clients on a real server (uvicorn on 127.0.0.1, a
stand-in engine, no model): slow bodies that try to hold every request slot, bodies trickled a
byte at a time, streaming clients that leave. Clients bind other loopback addresses
(127.0.0.2, …) to stand for other machines."""

from __future__ import annotations

import gc
import logging
import select
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
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
from tests.peers import slack_signature

SECRET = "guard-signing-secret"


class Engine:
    """Answers at once, or (streaming) sends one token and waits to be released."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def ask(self, question: str, history: Any = (), on_token: Any = None,
            **kwargs: Any) -> Answer:
        if on_token is not None:
            on_token("first ")
            self.release.wait(timeout=30)
        return Answer(question=question, answer="Answered.", abstained=False, citations=(),
                      passages=())

    def windowed(self, question: str, where: Any, as_of: Any) -> Any:
        return question, where


class SignedSlack:
    """Verifies as the real bot does (slack_sdk's SignatureVerifier); acknowledges."""

    def verify(self, body: bytes, headers: dict[str, str]) -> bool:
        from slack_sdk.signature import SignatureVerifier

        return SignatureVerifier(SECRET).is_valid_request(body, headers)

    def dispatch(self, body: bytes, query: str, headers: dict[str, str]
                 ) -> tuple[int, dict[str, str], str]:
        return 200, {"content-type": "application/json"}, '{"ok": true}'


class Running:
    def __init__(self, limits: ServeSettings) -> None:
        self.engine = Engine()
        self.metrics = Metrics()
        self.service = Service(desk=Desk(self.engine, stats=dict,  # type: ignore[arg-type]
                                         recorder=self.metrics),
                               readiness=lambda: None, metrics=self.metrics, limits=limits,
                               answers=ThreadPoolExecutor(max_workers=1),
                               slack=SignedSlack())
        self.server = HttpServer(build_app(self.service), "127.0.0.1", 0, limits.header_timeout)
        self.server.start()
        self.base = f"http://127.0.0.1:{self.server.port}"

    def client(self, address: str) -> httpx.Client:
        """A client whose connections come from `address` (another loopback address)."""
        return httpx.Client(base_url=self.base, timeout=10,
                            transport=httpx.HTTPTransport(local_address=address))

    def connect(self, data: bytes) -> socket.socket:
        """A raw connection from 127.0.0.1 that has sent `data`."""
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        sock.sendall(data)
        return sock

    def wait_until_in_flight(self, count: int) -> None:
        deadline = time.monotonic() + 10  # a bound, not a speed check
        while self.service.lifecycle.in_flight != count:
            assert time.monotonic() < deadline, self.service.lifecycle.in_flight
            time.sleep(0.02)


@pytest.fixture
def running() -> Iterator[Any]:
    started: list[Running] = []

    def start(**limits: Any) -> Running:
        started.append(Running(ServeSettings(host="127.0.0.1", **limits)))
        return started[-1]

    yield start
    for each in started:
        each.engine.release.set()
        each.server.stop()


def answer_of(sock: socket.socket) -> bytes:
    """What the server sends until it closes the connection (or 10 s pass)."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except (TimeoutError, ConnectionResetError):
        pass  # a reset: the server closed with our bytes unread (see the trickle test)
    return received


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.1") else 0


def count(metrics: Metrics, route: str, status: int) -> float:
    prefix = f'newsdesk_http_responses_total{{route="{route}",status="{status}"}} '
    lines = [line for line in metrics.exposition().decode().splitlines()
             if line.startswith(prefix)]
    return float(lines[0].removeprefix(prefix)) if lines else 0.0


def test_slow_bodies_from_one_address_cannot_lock_others_out(running: Any) -> None:
    server = running(max_concurrent_requests=8, body_timeout=30.0)  # 2 slots per address
    declared = b"Content-Type: application/json\r\nContent-Length: 50000\r\n\r\n{"
    slack = b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    forged = (f"X-Slack-Request-Timestamp: {int(time.time())}\r\n"
              f"X-Slack-Signature: v0={'0' * 64}\r\n").encode()
    sockets: list[socket.socket] = []
    try:
        # Unsigned Slack requests and unknown paths: refused from their headers, no slot taken.
        refused = [server.connect(slack + declared) for _ in range(8)]
        refused += [server.connect(b"POST /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n" + declared)
                    for _ in range(8)]
        sockets += refused
        answers = [answer_of(sock) for sock in refused]
        assert [status_of(a) for a in answers] == [401] * 8 + [404] * 8
        assert b'{"error": "missing Slack signature headers"}' in answers[0]
        # Well-formed (forged) Slack headers and a body that never comes: two hold a slot, the
        # rest are told to slow down (only this address is).
        holders = [server.connect(slack + forged + declared) for _ in range(8)]
        sockets += holders
        server.wait_until_in_flight(2)
        told = [status_of(answer_of(sock)) for sock in holders[2:]]
        assert told == [429] * 6
        with server.client("127.0.0.2") as client:
            assert client.get("/api/stats").status_code == 200
            body = b'{"type": "url_verification"}'
            signed = client.post("/slack/events", content=body,
                                 headers=slack_signature(body, SECRET))
            assert signed.status_code == 200 and signed.json() == {"ok": True}
        assert server.service.lifecycle.in_flight == 2  # the two holders are still there
    finally:
        for sock in sockets:
            sock.close()
    metrics = server.metrics
    assert count(metrics, "/slack/events", 401) == 8.0
    assert count(metrics, "unknown", 404) == 8.0
    assert count(metrics, "/slack/events", 429) == 6.0
    assert count(metrics, "/api/stats", 200) == 1.0


def test_a_full_server_is_503_for_everyone_else(running: Any) -> None:
    server = running(max_concurrent_requests=4, max_bodies_per_client=4, body_timeout=30.0)
    holders = [server.connect(b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 50\r\n"
                              b"\r\n{") for _ in range(4)]
    try:
        server.wait_until_in_flight(4)
        with server.client("127.0.0.2") as client:
            busy = client.get("/api/stats")
            assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
            assert busy.json() == {"error": "busy; try again shortly"}
            assert client.get("/healthz").status_code == 200
    finally:
        for sock in holders:
            sock.close()
    assert count(server.metrics, "/api/stats", 503) == 1.0


def test_a_trickled_body_meets_one_deadline_for_the_whole_body(running: Any) -> None:
    server = running(body_timeout=1.0)
    sock = server.connect(b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          b"Content-Length: 60\r\n\r\n")
    try:
        # poll, not select: a long test run holds file descriptors past select's 1024.
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        sent = 0
        for _ in range(60):  # a byte every 0.2 s: each well within body_timeout of the last
            if poller.poll(200):
                break
            try:
                sock.sendall(b" ")
            except (ConnectionResetError, BrokenPipeError):
                break
            sent += 1
        answer = answer_of(sock)
    finally:
        sock.close()
    assert sent < 59  # answered before the body was whole: the deadline held
    assert count(server.metrics, "/api/ask", 408) == 1.0
    # A byte sent as the server answered and closed makes its kernel reset the connection,
    # which can discard the answer on its way; when it arrived, it is the 408.
    assert not answer or (status_of(answer) == 408
                          and b'{"error": "request body too slow"}' in answer)


def test_a_streaming_client_that_leaves_is_no_error(running: Any,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.http.app")
    server = running()
    with server.client("127.0.0.1") as client, client.stream(
            "POST", "/api/ask", json={"question": "Who won?"},
            headers={"Accept": "text/event-stream"}) as response:
        for line in response.iter_lines():
            if line.startswith("event: token"):
                break  # and leave, the answer still being written
    server.wait_until_in_flight(0)
    server.engine.release.set()
    server.service.answers.submit(lambda: None).result(timeout=30)  # the answer is done
    gc.collect()  # what the stream left behind is collected (and warned about, if pending)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert any("streaming client left" in r.getMessage() for r in caplog.records)
