"""`newsdesk serve` for real: uvicorn on 127.0.0.1, real model and Chroma, talked to with real
HTTP clients (httpx, raw sockets, the MCP SDK's own client) as friendly and hostile peers."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from bot.app.metrics import Metrics
from bot.cli.commands import cli
from bot.factory import Components
from bot.http.app import build_app
from bot.http.server import HttpServer
from config import load_settings
from tests.helpers import ChatStub, numbered
from tests.integration.serving import BRIDGE_QUESTION, SECRET, TOKEN, Served
from tests.peers import BOT_USER, slack_signature

pytestmark = pytest.mark.slow

def raw_request(served: Served, data: bytes, read_timeout: float = 10.0) -> bytes:
    """Send bytes on a fresh connection; return what comes back until the server closes or
    stops sending."""
    with socket.create_connection(("127.0.0.1", served.server.port), timeout=read_timeout) as s:
        s.sendall(data)
        received = b""
        try:
            while chunk := s.recv(65536):
                received += chunk
                if b"\r\n\r\n" in received and b"connection: close" not in received.lower():
                    break
        except TimeoutError:
            pass
        return received


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.1") else 0


# -- the API ------------------------------------------------------------------------------------


def test_api_and_mcp_need_the_token_and_health_does_not(served: Served) -> None:
    with served.client() as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        for headers in ({}, {"Authorization": "Bearer guess-4711"}, {"Authorization": TOKEN}):
            denied = client.post("/api/ask", json={"question": "x"}, headers=headers)
            assert denied.status_code == 401
            assert denied.headers["www-authenticate"].startswith("Bearer")
            assert "guess-4711" not in denied.text and TOKEN not in denied.text
        assert client.get("/api/stats").status_code == 401
        assert client.post("/mcp", json={}).status_code == 401
        stats = client.get("/api/stats", headers=served.auth).json()
        assert stats["articles"] == 6
        # No CORS unless configured: browsers on other origins get no permission.
        preflight = client.options("/api/ask", headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in preflight.headers


def test_ask_returns_the_answer_record_and_applies_filters(served: Served) -> None:
    with served.client(headers=served.auth) as client:
        answer = client.post("/api/ask", json={"question": BRIDGE_QUESTION}).json()
        assert "84 million euros" in answer["answer"] and not answer["abstained"]
        assert set(answer) >= {"question", "answer", "abstained", "citations", "passages",
                               "timings"}
        assert answer["citations"][0]["title"] == "Harbour Bridge Reopens After Two-Year Repair"
        later = client.post("/api/ask", json={"question": BRIDGE_QUESTION,
                                              "since": "2025-06-01"}).json()
        assert all(p["published"] >= "2025-06-01" for p in later["passages"])
        assert not any("84 million" in c["text"] for c in later["citations"])
        followup = client.post("/api/ask", json={
            "question": "How much did the club pay for her?",
            "history": [["Who scored both goals for United in the Coastal Cup final?",
                         "Nadia Kowalski scored both goals [1]."]]}).json()
        assert "3.5 million euros" in followup["answer"]
        passages = client.get("/api/search", params={"q": "bridge repair", "k": 2}).json()
        assert [p["rank"] for p in passages] == [1, 2]
        assert "harbour-bridge" in passages[0]["article_id"]
        for bad in ({"question": ""}, {"question": "x", "k": 0}, {"question": "x", "since": "x"},
                    {"question": "x", "extra": 1}, {"history": []}):
            response = client.post("/api/ask", json=bad)
            assert response.status_code == 400 and "invalid request" in response.json()["error"]
        assert client.get("/api/search").status_code == 400
        # Time words in the question, read as of the given date, set the window.
        dated = client.post("/api/ask", json={
            "question": "How much did the Kestrel Harbour Bridge repair cost in March?",
            "as_of": "2025-06-01"}).json()
        assert dated["window"]["label"] == "Articles from March 2025"
        assert "84 million euros" in dated["answer"]
        assert all(c["published"].startswith("2025-03") for c in dated["citations"])
        bad_date = client.post("/api/ask", json={"question": "x", "as_of": "soon"})
        assert bad_date.status_code == 400 and "as_of" in bad_date.json()["error"]


def test_streaming_answer_arrives_as_server_sent_events(served: Served) -> None:
    events: list[tuple[str, Any]] = []
    with served.client(headers={**served.auth, "Accept": "text/event-stream"}) as client, \
            client.stream("POST", "/api/ask", json={"question": BRIDGE_QUESTION}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        event = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((str(event), json.loads(line.removeprefix("data: "))))
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "answer" and kinds[:-1] and set(kinds[:-1]) == {"token"}
    streamed = "".join(data["text"] for kind, data in events if kind == "token")
    final = events[-1][1]
    assert streamed == final["answer"] and "84 million euros" in streamed
    assert final["citations"][0]["n"] == 1


def test_metrics_count_questions_by_route_and_outcome(served: Served) -> None:
    def count(text: str, route: str, outcome: str) -> float:
        prefix = f'newsdesk_questions_total{{outcome="{outcome}",route="{route}"}} '
        lines = [line for line in text.splitlines() if line.startswith(prefix)]
        return float(lines[0].removeprefix(prefix)) if lines else 0.0

    with served.client() as client:
        before = client.get("/metrics").text
        asked = client.post("/api/ask", json={"question": BRIDGE_QUESTION},
                            headers=served.auth)
        refused = client.post("/api/ask", headers=served.auth,
                              json={"question": "What is the boiling point of liquid neon?"})
        assert asked.status_code == refused.status_code == 200
        assert refused.json()["abstained"]
        after = client.get("/metrics")
    assert after.headers["content-type"].startswith("text/plain")
    assert count(after.text, "api", "answered") == count(before, "api", "answered") + 1
    assert count(after.text, "api", "abstained") == count(before, "api", "abstained") + 1
    assert 'newsdesk_answer_seconds_count{route="api"}' in after.text


def test_ready_once_the_model_and_index_are_loaded(served: Served) -> None:
    with served.client() as client:
        deadline = time.monotonic() + 60
        while (ready := client.get("/readyz")).status_code != 200:
            assert ready.status_code == 503 and ready.json()["ready"] is False
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert ready.json() == {"ready": True}


# -- hostile clients ----------------------------------------------------------------------------


def test_oversized_and_malformed_bodies_get_a_status_not_a_dropped_connection(
        served: Served) -> None:
    declared = raw_request(served, b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                   b"Authorization: Bearer "
                           + TOKEN.encode() + b"\r\nContent-Length: 1000000000\r\n\r\n{")
    assert status_of(declared) == 413  # refused from the header, nothing read
    unsigned = raw_request(served, b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           b"Content-Length: 30000000\r\n\r\n" + b"{" * 1000)
    assert status_of(unsigned) == 413  # before the signature is even looked at

    def chunks() -> Iterator[bytes]:
        for _ in range(30):
            yield b"x" * 10_000

    with served.client(headers=served.auth) as client:
        streamed = client.post("/api/ask", content=chunks())  # chunked, no Content-Length
        assert streamed.status_code == 413
        broken = client.post("/api/ask", content=b"{not json")
        assert broken.status_code == 400 and "invalid request" in broken.json()["error"]
        for value in (b"abc", b"-1"):
            bad = raw_request(served, b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                      b"Content-Length: "
                              + value + b"\r\n\r\n{}")
            assert status_of(bad) == 400
        assert client.get("/healthz").status_code == 200  # the server is fine


def test_slack_requests_are_verified_on_the_raw_bytes(served: Served) -> None:
    calls_before = len(served.fake.calls)
    with served.client() as client:
        for body in (b"{not json", b'{"type": "url_verification", "challenge": "c"}'):
            assert client.post("/slack/events", content=body).status_code == 401
        body = b'{"type": "url_verification", "challenge": "c"}'
        json_type = {"Content-Type": "application/json"}
        old = client.post("/slack/events", content=body, headers={
            **slack_signature(body, SECRET, int(time.time()) - 600), **json_type})
        assert old.status_code == 401
        good = client.post("/slack/events", content=body,
                           headers={**slack_signature(body, SECRET), **json_type})
        assert good.status_code == 200 and good.json() == {"challenge": "c"}
        garbage = b"{signed but not json"
        signed = client.post("/slack/events", content=garbage,
                             headers={**slack_signature(garbage, SECRET), **json_type})
        assert signed.status_code == 400
    assert len(served.fake.calls) == calls_before
    assert BOT_USER  # the fake's bot user answered auth.test when the app started


def test_slow_senders_are_cut_off_and_others_still_served(served: Served) -> None:
    with socket.create_connection(("127.0.0.1", served.server.port), timeout=10) as trickle:
        trickle.sendall(b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # headers never finish
        with served.client(headers=served.auth) as client:
            ok = client.post("/api/ask", json={"question": BRIDGE_QUESTION})
            assert ok.status_code == 200
        assert trickle.recv(1024) == b""  # closed by the header deadline
    stalled = raw_request(served, b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                  b"Authorization: Bearer "
                          + TOKEN.encode() + b"\r\nContent-Length: 100\r\n\r\n{\"quest")
    assert status_of(stalled) == 408


def test_a_full_server_says_503_with_retry_after(served: Served) -> None:
    holders = []
    try:
        # max_concurrent_requests (8), each holding a slot while its body stalls: from four
        # addresses, as one address may hold only a quarter of the slots.
        for number in range(8):
            holder = socket.create_connection(("127.0.0.1", served.server.port), timeout=10,
                                              source_address=(f"127.0.0.{2 + number // 2}", 0))
            holder.sendall(b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                           + TOKEN.encode() + b"\r\nContent-Length: 50\r\n\r\n{")
            holders.append(holder)
        time.sleep(0.3)
        with served.client(headers=served.auth) as client:
            busy = client.get("/api/stats")
            assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
            assert client.get("/healthz").status_code == 200  # operators always get through
            # The lock-out shows in the metrics.
            assert 'newsdesk_http_responses_total{route="/api/stats",status="503"}' in (
                client.get("/metrics").text)
    finally:
        for holder in holders:
            holder.close()
    time.sleep(1.5)  # the stalled bodies time out and free their slots
    with served.client(headers=served.auth) as client:
        assert client.get("/api/stats").status_code == 200


# -- MCP ----------------------------------------------------------------------------------------


async def _use_mcp(server: Any) -> tuple[list[str], dict[str, Any], dict[str, Any]]:
    from mcp import Client

    async with Client(server) as client:
        tools = sorted(tool.name for tool in (await client.list_tools()).tools)
        searched = await client.call_tool("search_articles", {"query": "cup final", "k": 2})
        asked = await client.call_tool("ask_articles", {"question": BRIDGE_QUESTION})
        timeline = await client.call_tool("story_timeline",
                                          {"topic": "the Kestrel Harbour Bridge repair"})
        changes = await client.call_tool("story_changes",
                                         {"story": "the Kestrel Harbour Bridge repair"})
    assert searched.structured_content is not None and asked.structured_content is not None
    assert timeline.structured_content is not None
    steps = timeline.structured_content
    assert steps["found"] and steps["timeline"].startswith("14 Mar 2025 — ")
    assert steps["citations"][0]["url"].endswith("harbour-bridge-reopens")
    # The samples were ingested once: the story has no earlier version to compare.
    assert changes.structured_content is not None
    unchanged = changes.structured_content
    assert unchanged["article_id"].endswith("harbour-bridge-reopens") and not unchanged["found"]
    assert unchanged["changes"].startswith("No earlier version of “Harbour Bridge Reopens")
    return tools, searched.structured_content, asked.structured_content


def _check_mcp(tools: list[str], searched: dict[str, Any], asked: dict[str, Any]) -> None:
    from bot.cli.surface import MCP_TOOLS, mcp_help, serve_help

    assert tools == ["ask_articles", "daily_brief", "search_articles", "story_changes",
                     "story_timeline", "watch_add", "watch_list", "watch_remove"]
    assert tools == sorted(MCP_TOOLS)  # the help of `serve` and `mcp` lists exactly these
    assert all(tool in mcp_help() and tool in serve_help() for tool in tools)
    assert [p["rank"] for p in searched["passages"]] == [1, 2]
    assert searched["passages"][0]["title"] == "Port Alder United Win Cup Final on Penalties"
    assert "84 million euros" in asked["answer"] and not asked["abstained"]
    assert asked["citations"][0]["url"].endswith("harbour-bridge-reopens")


def test_mcp_tools_over_streamable_http_with_the_sdk_client(served: Served) -> None:
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    async def run() -> tuple[list[str], dict[str, Any], dict[str, Any]]:
        async with httpx2.AsyncClient(headers=served.auth, timeout=60) as http:
            return await _use_mcp(streamable_http_client(f"{served.base}/mcp", http_client=http))

    _check_mcp(*asyncio.run(run()))


def test_mcp_tools_over_stdio_with_the_sdk_client(served: Served) -> None:
    from mcp.client.stdio import StdioServerParameters

    settings = served.components.settings
    params = StdioServerParameters(command=sys.executable, args=["-m", "bot.cli", "mcp"], env={
        **os.environ, "NEWSDESK_DATA_DIR": str(settings.data_dir)})
    _check_mcp(*asyncio.run(_use_mcp(params)))


# -- the command ----------------------------------------------------------------------------------


def test_serve_refuses_an_open_address_without_a_token(data_dir: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("NEWSDESK_API_TOKEN", "SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--port", "0"])
    assert result.exit_code == 2
    assert result.stderr.startswith("newsdesk: error: the API on 0.0.0.0 needs a token")
    assert len(result.stderr.strip().splitlines()) == 1


def test_llm_answers_stream_token_by_token(served: Served, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    """In llm mode the events carry the model's tokens as they come, then the Answer; a
    streamed marker is the answer's (the model cites the prompt's last passage first: it is
    [1] in the stream as in the answer, not the prompt's number)."""
    stub = ChatStub()

    def reply(request: dict[str, Any]) -> str:
        prompt = request["messages"][-1]["content"]
        last = max(int(line[1:line.index("]")]) for line in prompt.splitlines()
                   if line.startswith("[") and "]" in line and line[1:line.index("]")].isdigit())
        bridge = numbered(request, "Harbour Bridge Reopens")
        assert last > bridge
        return (f"The articles mention other news [{last}]. "
                f"The repair cost the city 84 million euros [{bridge}].")

    stub.reply = reply
    for name, value in {"NEWSDESK_ANSWER__MODE": "llm", "NEWSDESK_LLM__BASE_URL": stub.base_url,
                        "NEWSDESK_LLM__MODEL": "stub-model", "NEWSDESK_API_TOKEN": TOKEN}.items():
        monkeypatch.setenv(name, value)
    shared = served.components
    components = Components(load_settings(data_dir=str(shared.settings.data_dir)),
                            embedder=shared.embedder)
    metrics = Metrics()
    service = components.build_service(api=True, desk=components.build_desk(metrics),
                                       slack=None, metrics=metrics, host="127.0.0.1")
    server = HttpServer(build_app(service), "127.0.0.1", 0, 5.0)
    server.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{server.port}", timeout=60) as client, \
                client.stream("POST", "/api/ask", json={"question": BRIDGE_QUESTION}, headers={
                    **served.auth, "Accept": "text/event-stream"}) as response:
            events = [json.loads(line.removeprefix("data: "))
                      for line in response.iter_lines() if line.startswith("data: ")]
    finally:
        server.stop()
        stub.close()
    tokens, final = events[:-1], events[-1]
    assert len(tokens) > 3  # word by word, as the stub streams them
    assert "".join(t["text"] for t in tokens) == final["answer"]
    assert final["answer"] == ("The articles mention other news [1]. "
                               "The repair cost the city 84 million euros [2].")
    assert final["citations"][1]["title"] == "Harbour Bridge Reopens After Two-Year Repair"
    assert stub.requests[-1]["stream"] is True
