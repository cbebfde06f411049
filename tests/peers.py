"""Local protocol peers shared by the tests and the benchmarks: stdlib HTTP servers on
127.0.0.1, a real `chroma run` server, and a fake Slack Web API (in the style of bolt-python's
own tests: it answers the methods Newsdesk calls, records every call, and can answer 429)."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from urllib.request import urlopen


class QuietHandler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def start_server(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """Serve `handler` on a free loopback port in a daemon thread."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def server_url(httpd: ThreadingHTTPServer) -> str:
    host, port = httpd.server_address[:2]
    return f"http://{host!s}:{port}"


def stop_server(httpd: ThreadingHTTPServer) -> None:
    httpd.shutdown()
    httpd.server_close()


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


BOT_USER = "UBOT"
BOT_ID = "BBOT"


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.call_times: list[float] = []  # time.monotonic() of each call, for benchmarks
        self.responses: list[dict[str, Any]] = []  # posts to response_url
        self.posted: dict[str, dict[str, Any]] = {}  # ts handed out -> chat.postMessage params
        self.replies: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.rate_limit: dict[str, int] = {}  # method -> how many 429s to answer first
        self._ts = 1_700_000_000.0
        self._lock = threading.Lock()
        fake = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                fake._handle(self, parts.path, params)

            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                kind = self.headers.get("Content-Type", "")
                if "json" in kind:
                    params = json.loads(raw or b"{}")
                else:
                    params = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                params.update({k: v[0] for k, v in parse_qs(parts.query).items()})
                fake._handle(self, parts.path, params)

        self.httpd = start_server(Handler)
        self.url = server_url(self.httpd)

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def _next_ts(self) -> str:
        with self._lock:
            self._ts += 1
            return f"{self._ts:.6f}"

    def _handle(self, handler: BaseHTTPRequestHandler, path: str, params: dict[str, Any]) -> None:
        if path.startswith("/response/"):
            with self._lock:
                self.responses.append(params)
            self._send(handler, 200, {"ok": True})
            return
        method = path.removeprefix("/api/")
        with self._lock:
            self.calls.append((method, params))
            self.call_times.append(time.monotonic())
            limited = self.rate_limit.get(method, 0)
            if limited:
                self.rate_limit[method] = limited - 1
        if limited:
            self._send(handler, 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
            return
        self._send(handler, 200, self._answer(method, params))

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER, "bot_id": BOT_ID, "team_id": "T1",
                    "user": "newsdesk", "team": "Test", "url": self.url + "/"}
        if method == "chat.postMessage":
            ts = self._next_ts()
            with self._lock:
                self.posted[ts] = params
            return {"ok": True, "channel": params.get("channel"), "ts": ts,
                    "message": {"text": params.get("text", "")}}
        if method == "chat.update":
            return {"ok": True, "channel": params.get("channel"), "ts": params.get("ts")}
        if method == "conversations.replies":
            key = (params.get("channel", ""), params.get("ts", ""))
            return {"ok": True, "messages": self.replies.get(key, []), "has_more": False}
        if method in ("reactions.add", "reactions.remove"):
            return {"ok": True}
        return {"ok": False, "error": "unknown_method"}

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, body: dict[str, Any],
              headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    # -- helpers for tests ------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        with self._lock:
            return [params for name, params in self.calls if name == method]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting; calls so far: {[c[0] for c in self.calls]}")

    def close(self) -> None:
        stop_server(self.httpd)


def slack_signature(body: str | bytes, secret: str, timestamp: int | None = None
                    ) -> dict[str, str]:
    """The headers Slack signs a request with (v0 HMAC-SHA256 of timestamp and body)."""
    raw = body.encode() if isinstance(body, str) else body
    ts = str(timestamp if timestamp is not None else int(time.time()))
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + raw,
                      hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def mention_event(text: str, ts: str, event_id: str, channel: str = "C1") -> str:
    """The body of an Events API callback: a user @mentions the bot with `text`."""
    event = {"type": "app_mention", "user": "U1", "channel": channel, "ts": ts,
             "text": f"<@{BOT_USER}> {text}"}
    return json.dumps({"type": "event_callback", "event_id": event_id, "team_id": "T1",
                       "event": event, "event_time": int(time.time())})
