"""The HTTP app's error paths and its request guard's rules, with a stand-in engine
(Starlette's test client or the ASGI app called directly, no server)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from starlette.routing import Match, Route
from starlette.testclient import TestClient

from bot.app.asking import Desk
from bot.app.metrics import Metrics
from bot.http.app import build_app
from bot.http.guard import (
    client_share,
    cross_site_problem,
    host_allowed,
    match_route,
    mcp_transport_security,
    slack_header_problem,
    slot_refusal,
)
from bot.http.service import Service
from config.errors import StoreError
from config.settings import ServeSettings

LEAKY = "sk-leaky-secret-value-123456"

# A loopback address, as the server checks Host (cross-site guard).
LOCAL = "http://127.0.0.1:8080"



class FailingEngine:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def ask(self, question: str, history: Any = (), **kwargs: Any) -> Any:
        raise self.error

    def search(self, question: str, **kwargs: Any) -> Any:
        raise self.error

    def timeline(self, topic: str, **kwargs: Any) -> Any:
        raise self.error

    def windowed(self, question: str, where: Any, as_of: Any) -> Any:
        return question, where

    def changes(self, target: str, **kwargs: Any) -> Any:
        raise self.error


def client(error: Exception, readiness: str | None = None) -> TestClient:
    metrics = Metrics()
    service = Service(desk=Desk(FailingEngine(error), stats=dict, recorder=metrics),
                      readiness=lambda: readiness, metrics=metrics, limits=ServeSettings(),
                      answers=ThreadPoolExecutor(max_workers=1))
    return TestClient(build_app(service), base_url=LOCAL)


def test_a_store_outage_is_503_and_counted_as_an_error() -> None:
    with client(StoreError("cannot search: the store at http://chroma:8000 failed")) as http:
        response = http.post("/api/ask", json={"question": "Who won?"})
        assert response.status_code == 503
        assert response.json() == {
            "error": "cannot search: the store at http://chroma:8000 failed"}
        assert http.get("/api/search", params={"q": "x"}).status_code == 503
        metrics = http.get("/metrics").text
    assert 'newsdesk_questions_total{outcome="error",route="api"} 1.0' in metrics


def test_an_unexpected_failure_is_500_without_internals(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", LEAKY)
    with client(RuntimeError(f"provider said: bad key {LEAKY}")) as http:
        response = http.post("/api/ask", json={"question": "Who won?"})
        assert response.status_code == 500 and response.json() == {"error": "internal error"}
        streamed = http.post("/api/ask", json={"question": "Who won?"},
                             headers={"Accept": "text/event-stream"})
    assert streamed.text.startswith("event: error\ndata: ")
    assert "internal error" in streamed.text and LEAKY not in streamed.text


def test_not_ready_says_why() -> None:
    with client(RuntimeError("unused"), readiness="loading the model") as http:
        response = http.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"ready": False, "reason": "loading the model"}


def test_a_deeply_nested_body_is_a_400_not_a_crash() -> None:
    body = b'{"question": "q", "history": ' + b"[" * 300_000 + b"]" * 300_000 + b"}"
    with client(RuntimeError("unused")) as http:
        response = http.post("/api/ask", content=body)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid request: body: is nested too deeply"}


def test_a_body_not_in_utf8_is_told_so_not_called_bad_json() -> None:
    body = '{"question": "Who won in Malmö?"}'.encode("latin-1")
    with client(RuntimeError("unused")) as http:
        response = http.post("/api/ask", content=body)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid request: body: is not UTF-8 (byte 29): "
                                        "JSON must be sent as UTF-8"}


# -- the guard's rules (issue 30: lock-outs, 500s before authentication) -------------------------

SECRET = "guard-signing-secret"
NOW = 1_760_000_000.0


def test_slack_headers_are_judged_before_the_body_is_read() -> None:
    good = {"x-slack-request-timestamp": str(int(NOW)), "x-slack-signature": "v0=" + "a" * 64}
    assert slack_header_problem(good, NOW) is None
    assert slack_header_problem({}, NOW) == "missing Slack signature headers"
    assert slack_header_problem({"x-slack-signature": good["x-slack-signature"]}, NOW) == (
        "missing Slack signature headers")
    for timestamp in ("abc", "1e9", "-5", " 17", "١٧٦٠٠٠٠٠٠٠", "9" * 5000, ""):
        assert slack_header_problem({**good, "x-slack-request-timestamp": timestamp}, NOW) == (
            "malformed Slack signature headers"), timestamp
    for signature in ("v0=" + "A" * 64, "v0=" + "a" * 63, "v1=" + "a" * 64, "v0=é" + "a" * 63,
                      "a" * 64, ""):
        assert slack_header_problem({**good, "x-slack-signature": signature}, NOW) == (
            "malformed Slack signature headers"), signature
    for age in (301, -301):
        stale = {**good, "x-slack-request-timestamp": str(int(NOW) - age)}
        assert slack_header_problem(stale, NOW) == "stale Slack request timestamp"


def test_one_client_gets_a_share_of_the_slots_and_only_it_is_told_to_slow_down() -> None:
    limits = ServeSettings(max_concurrent_requests=8)
    assert client_share(limits) == 2  # a quarter by default
    assert client_share(ServeSettings(max_concurrent_requests=3)) == 1
    assert client_share(ServeSettings(max_concurrent_requests=8, max_bodies_per_client=5)) == 5
    assert slot_refusal(in_flight=1, sending=1, limits=limits) is None
    assert slot_refusal(in_flight=2, sending=2, limits=limits) == (
        429, "too many requests at once from your address; try again shortly")
    assert slot_refusal(in_flight=8, sending=0, limits=limits) == (
        503, "busy; try again shortly")


def test_routes_are_matched_before_anything_is_read() -> None:
    async def nothing(request: Any) -> None:
        return None

    routes = [Route("/api/ask", nothing, methods=["POST"]),
              Route("/api/watches/{watch_id:int}", nothing, methods=["DELETE"])]

    def match(method: str, path: str) -> tuple[str, Match]:
        return match_route(routes, {"type": "http", "method": method, "path": path,
                                    "root_path": ""})

    assert match("POST", "/api/ask") == ("/api/ask", Match.FULL)
    assert match("GET", "/api/ask") == ("/api/ask", Match.PARTIAL)  # 405 from the router
    assert match("POST", "/api/ask/") == ("/api/ask", Match.PARTIAL)  # its redirect
    assert match("DELETE", "/api/watches/99999999999999999999999") == (
        "/api/watches/{watch_id:int}", Match.FULL)
    for method, path in (("POST", "/wp-login.php"), ("POST", "/"),
                         ("DELETE", "/api/watches/" + "9" * 5000)):  # too long for int()
        assert match(method, path) == ("unknown", Match.NONE)


def test_mcp_hosts_are_the_sdk_default_unless_configured() -> None:
    assert mcp_transport_security("127.0.0.1", []) is None
    wide = mcp_transport_security("127.0.0.1", ["*"])
    assert wide is not None and not wide.enable_dns_rebinding_protection
    named = mcp_transport_security("0.0.0.0", ["news.example.com"])
    assert named is not None and named.enable_dns_rebinding_protection
    assert named.allowed_hosts == ["127.0.0.1:*", "localhost:*", "[::1]:*", "news.example.com"]
    assert "https://news.example.com" in named.allowed_origins


class SignedSlack:
    """Verifies as the real bot does (slack_sdk's SignatureVerifier); dispatches to nothing."""

    def verify(self, body: bytes, headers: dict[str, str]) -> bool:
        from slack_sdk.signature import SignatureVerifier

        return SignatureVerifier(SECRET).is_valid_request(body, headers)

    def dispatch(self, body: bytes, query: str, headers: dict[str, str]
                 ) -> tuple[int, dict[str, str], str]:
        return 200, {}, "ok"


class SqliteRoom:
    """Removes as the store does: SQLite refuses an integer past 64 bits."""

    def remove(self, watch_id: Any, channel: str | None = None) -> bool:
        sqlite3.connect(":memory:").execute("SELECT ?", (int(watch_id),))
        return False


def guarded(limits: ServeSettings | None = None, **extra: Any) -> TestClient:
    metrics = Metrics()
    service = Service(desk=Desk(FailingEngine(RuntimeError("unused")), stats=dict,
                                recorder=metrics),
                      readiness=lambda: None, metrics=metrics,
                      limits=limits or ServeSettings(), answers=ThreadPoolExecutor(max_workers=1),
                      **extra)
    return TestClient(build_app(service), base_url=LOCAL, raise_server_exceptions=False)


def test_malformed_slack_headers_and_impossible_ids_are_4xx_not_500() -> None:
    http = guarded(slack=SignedSlack(), watch_service=SqliteRoom())
    body = b'{"type": "url_verification", "challenge": "c"}'
    with http:
        for headers in ({"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=1"},
                        {"X-Slack-Request-Timestamp": "9" * 5000, "X-Slack-Signature": "x"},
                        {"X-Slack-Request-Timestamp": str(int(time.time())),
                         "X-Slack-Signature": "v0=\xe9"}):
            raw = [(k.encode(), v.encode("latin-1")) for k, v in headers.items()]
            response = http.post("/slack/events", content=body, headers=raw)
            assert response.status_code == 401, headers
            assert "Slack signature headers" in response.json()["error"]
            assert "\n" not in response.text
        for huge in ("99999999999999999999999", "9" * 4400):
            gone = http.delete(f"/api/watches/{huge}")
            assert gone.status_code == 404 and set(gone.json()) == {"error"}, gone.text


def test_unknown_paths_are_404_and_every_response_is_counted() -> None:
    http = guarded(api_token=SecretStr("t0ken-for-the-guard"))
    with http:
        missing = http.post("/wp-login.php", content=b"x" * 10)
        assert missing.status_code == 404 and missing.json() == {"error": "not found"}
        assert missing.headers["connection"] == "close"  # its body is never read
        assert http.get("/api/stats").status_code == 401
        assert http.post("/api/ask", content=b"{}", headers={
            "Authorization": "Bearer t0ken-for-the-guard",
            "Content-Length": str(10**9)}).status_code == 413
        assert http.get("/healthz").status_code == 200
        text = http.get("/metrics").text
    for route, status in (("unknown", 404), ("/api/stats", 401), ("/api/ask", 413),
                          ("/healthz", 200)):
        line = f'newsdesk_http_responses_total{{route="{route}",status="{status}"}} 1.0'
        assert line in text, line


def test_mcp_behind_a_proxy_accepts_the_hosts_configured(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.mcp.tools import build_mcp
    from config import load_settings

    monkeypatch.setenv("NEWSDESK_SERVE__ALLOWED_HOSTS", '["news.example.com"]')
    configured = load_settings().serve.allowed_hosts
    assert configured == ["news.example.com"]

    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "probe", "version": "1"}}}
    headers = {"Host": "news.example.com", "Accept": "application/json, text/event-stream"}
    for allowed, status in (([], 421), (configured, 200)):
        pool = ThreadPoolExecutor(max_workers=1)
        metrics = Metrics()
        desk = Desk(FailingEngine(RuntimeError("unused")), recorder=metrics)
        service = Service(desk=desk, readiness=lambda: None, metrics=metrics,
                          limits=ServeSettings(host="127.0.0.1", allowed_hosts=allowed),
                          answers=pool, mcp=build_mcp(desk, pool))
        with TestClient(build_app(service), base_url=LOCAL) as http:
            response = http.post("/mcp", json=initialize, headers=headers)
        assert response.status_code == status, (allowed, response.text)


def test_a_body_trickled_a_byte_at_a_time_meets_one_deadline_for_the_whole_body() -> None:
    """Each byte comes well within body_timeout of the last; the whole body does not."""
    metrics = Metrics()
    service = Service(desk=Desk(FailingEngine(RuntimeError("unused")), recorder=metrics),
                      readiness=lambda: None, metrics=metrics,
                      limits=ServeSettings(body_timeout=0.5),
                      answers=ThreadPoolExecutor(max_workers=1))
    app = build_app(service)
    sent: list[dict[str, Any]] = []
    trickled = 0

    async def receive() -> dict[str, Any]:
        nonlocal trickled
        await asyncio.sleep(0.05)
        trickled += 1
        return {"type": "http.request", "body": b" ", "more_body": trickled < 200}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/api/ask", "raw_path": b"/api/ask",
             "root_path": "", "query_string": b"", "client": ("127.0.0.1", 5000),
             "server": ("127.0.0.1", 8080),
             "headers": [(b"host", b"127.0.0.1"), (b"content-length", b"200")]}
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    assert sent[0]["status"] == 408 and trickled < 200
    assert json.loads(sent[1]["body"]) == {"error": "request body too slow"}


def test_the_help_lists_exactly_the_routes_the_server_serves(tmp_path: Path) -> None:
    from starlette.routing import Route

    from bot.app.feedback import FeedbackStore
    from bot.cli.surface import API_ROUTES, OPERATOR_ROUTES, SLACK_ROUTE, WEB_ROUTES, serve_help

    app = guarded(slack=SignedSlack(), watch_service=SqliteRoom(),
                  feedback=FeedbackStore(tmp_path / "feedback.sqlite3")).app
    served = {(",".join(sorted((r.methods or set()) - {"HEAD"})), r.path)
              for r in app.routes if isinstance(r, Route)}  # type: ignore[attr-defined]
    listed = {(",".join(sorted(m.replace(" ", "").split(","))),
               p.replace("{id}", "{watch_id:int}"))
              for m, p in (*API_ROUTES, *OPERATOR_ROUTES, SLACK_ROUTE, *WEB_ROUTES)}
    assert served == listed
    for _, path in (*API_ROUTES, *OPERATOR_ROUTES, SLACK_ROUTE, WEB_ROUTES[0]):
        assert path in serve_help()


def test_other_sites_and_rebound_names_cannot_reach_the_api() -> None:
    """Without a token the API answers anyone on this machine: a web page elsewhere (its
    Origin) or a DNS name rebound to 127.0.0.1 (its Host) must not use it."""
    with client(RuntimeError("unused")) as http:
        csrf = http.post("/api/ask", content='{"question": "csrf"}',
                         headers={"Origin": "http://evil.example", "Content-Type": "text/plain"})
        assert csrf.status_code == 403 and csrf.json() == {"error": "cross-site request refused"}
        rebound = http.get("/api/stats", headers={"Host": "attacker.example:8080"})
        assert rebound.status_code == 421 and "attacker.example" in rebound.json()["error"]
        page = http.get("/", headers={"Host": "attacker.example"})
        assert page.status_code == 421
        same = http.get("/api/stats", headers={"Origin": "http://127.0.0.1:8080"})
        assert same.status_code not in (403, 421)
        assert http.get("/healthz", headers={"Host": "attacker.example"}).status_code == 200


def test_configured_names_are_served_and_star_turns_the_check_off() -> None:
    for allowed, host, status in ((["news.example.com"], "news.example.com", 200),
                                  (["news.example.com:*"], "news.example.com:443", 200),
                                  (["news.example.com"], "other.example", 421),
                                  (["*"], "other.example", 200)):
        metrics = Metrics()
        service = Service(desk=Desk(FailingEngine(RuntimeError("unused")), stats=dict,
                                    recorder=metrics),
                          readiness=lambda: None, metrics=metrics,
                          limits=ServeSettings(allowed_hosts=allowed),
                          answers=ThreadPoolExecutor(max_workers=1))
        with TestClient(build_app(service), base_url=LOCAL) as http:
            response = http.get("/api/stats", headers={"Host": host})
        assert response.status_code == status, (allowed, host, response.text)


def test_host_patterns() -> None:
    patterns = ["127.0.0.1:*", "news.example.com"]
    assert host_allowed("127.0.0.1", patterns) and host_allowed("127.0.0.1:9", patterns)
    assert host_allowed("NEWS.example.com", patterns)
    assert not host_allowed("news.example.com:8080", patterns)
    assert not host_allowed("127.0.0.10", patterns)
    # "name:*" is the name with a port: nothing else may follow the colon
    assert not host_allowed("127.0.0.1:8096.evil.example", patterns)
    assert not host_allowed("127.0.0.1:", patterns)
    assert cross_site_problem({"host": "127.0.0.1:8080",
                               "origin": "http://127.0.0.1:8096.evil.example"},
                              True, patterns) == (403, "cross-site request refused")


def test_a_method_not_served_is_a_json_405() -> None:
    with client(RuntimeError("unused")) as http:
        response = http.get("/api/ask")
    assert response.status_code == 405
    assert response.json() == {"error": "method not allowed"}
    assert "POST" in response.headers["allow"]
