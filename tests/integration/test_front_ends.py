"""One request model under every front end (bot/app/asking.py): the same inputs get the same
decision from the CLI, the HTTP API, MCP over HTTP and over stdio, and Slack; and the drift
there was between them (windows in search, metrics, timelines after earlier turns).
Real model, real Chroma, real servers on 127.0.0.1, the MCP SDK's own client, a fake Slack
Web API with signed requests."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from click.testing import CliRunner

from bot.cli.commands import cli
from tests.integration.serving import BRIDGE_QUESTION, SECRET, Served
from tests.peers import slack_signature

pytestmark = pytest.mark.slow

BRIDGE_URL_END = "harbour-bridge-reopens"
ANSWERED = "answered"

# (name, request fields, decision): a decision is the field a front end refuses the request
# for, or ANSWERED (answered, citing the bridge article).
CASES: list[tuple[str, dict[str, Any], str]] = [
    ("blank question", {"question": "   \t  "}, "question"),
    ("question over the limit", {"question": "why " * 600}, "question"),
    ("k of 0", {"question": BRIDGE_QUESTION, "k": 0}, "k"),
    ("k of -1", {"question": BRIDGE_QUESTION, "k": -1}, "k"),
    ("k of a billion", {"question": BRIDGE_QUESTION, "k": 10**9}, "k"),
    ("since not a date", {"question": BRIDGE_QUESTION, "since": "soonish"}, "since"),
    ("until before since", {"question": BRIDGE_QUESTION, "since": "2025-03-14",
                            "until": "2025-03-01"}, "until"),
    ("a good question", {"question": BRIDGE_QUESTION}, ANSWERED),
    ("a good question in a window", {"question": BRIDGE_QUESTION, "since": "2025-03-01",
                                     "until": "yesterday", "k": 5}, ANSWERED),
]
_REFUSED = re.compile(r"\b(question|k|since|until): ")


def _refused_field(message: str) -> str:
    found = _REFUSED.search(message)
    return found.group(1) if found else f"unrecognised refusal: {message[:200]}"


def _cites_bridge(citations: list[dict[str, Any]]) -> bool:
    return any((c.get("url") or "").endswith(BRIDGE_URL_END) for c in citations)


# -- each front end: send one request, return its decision ---------------------------------------


def via_cli(served: Served, fields: dict[str, Any]) -> str:
    args = ["--data-dir", str(served.components.settings.data_dir), "ask", "--json",
            fields["question"]]
    for name in ("k", "since", "until"):
        if name in fields:
            args += [f"--{name}", str(fields[name])]
    result = CliRunner().invoke(cli, args)
    if result.exit_code == 2:
        return _refused_field(result.output)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    return ANSWERED if not answer["abstained"] and _cites_bridge(
        answer["citations"]) else "not answered"


def via_api(served: Served, fields: dict[str, Any]) -> str:
    with served.client(headers=served.auth) as client:
        response = client.post("/api/ask", json=fields)
    if response.status_code == 400:
        return _refused_field(response.json()["error"])
    assert response.status_code == 200, response.text
    answer = response.json()
    return ANSWERED if not answer["abstained"] and _cites_bridge(
        answer["citations"]) else "not answered"


async def _mcp_decisions(server: Any, requests: list[dict[str, Any]]) -> list[str]:
    from mcp import Client

    decisions = []
    async with Client(server) as client:
        for fields in requests:
            result = await client.call_tool("ask_articles", fields)
            if result.is_error:
                text = " ".join(getattr(part, "text", "") for part in result.content)
                decisions.append(_refused_field(text))
                continue
            answer = result.structured_content or {}
            decisions.append(ANSWERED if not answer["abstained"] and _cites_bridge(
                answer["citations"]) else "not answered")
    return decisions


def via_mcp_http(served: Served, requests: list[dict[str, Any]]) -> list[str]:
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    async def run() -> list[str]:
        async with httpx2.AsyncClient(headers=served.auth, timeout=60) as http:
            return await _mcp_decisions(
                streamable_http_client(f"{served.base}/mcp", http_client=http), requests)

    return asyncio.run(run())


def via_mcp_stdio(served: Served, requests: list[dict[str, Any]]) -> list[str]:
    from mcp.client.stdio import StdioServerParameters

    params = StdioServerParameters(command=sys.executable, args=["-m", "bot.cli", "mcp"], env={
        **os.environ, "NEWSDESK_DATA_DIR": str(served.components.settings.data_dir)})
    return asyncio.run(_mcp_decisions(params, requests))


def via_slack(served: Served, fields: dict[str, Any]) -> str:
    """A slash command: Slack carries only the question (no k, no window)."""
    responses_before = len(served.fake.responses)
    form = urlencode({"command": "/ask", "text": fields["question"], "user_id": "U7",
                      "channel_id": "C7", "team_id": "T1", "trigger_id": "t1",
                      "response_url": f"{served.fake.url}/response/{time.monotonic_ns()}"})
    with served.client() as client:
        ack = client.post("/slack/events", content=form, headers={
            **slack_signature(form, SECRET), "Content-Type": "application/x-www-form-urlencoded"})
    assert ack.status_code == 200
    if "can't ask that" in ack.text:
        return _refused_field(ack.text)
    served.fake.wait_for(lambda: len(served.fake.responses) > responses_before)
    reply = json.dumps(served.fake.responses[-1])
    return ANSWERED if BRIDGE_URL_END in reply else "not answered"


ONE_AT_A_TIME: dict[str, Callable[[Served, dict[str, Any]], str]] = {
    "cli": via_cli, "api": via_api, "slack": via_slack}
IN_ONE_SESSION: dict[str, Callable[[Served, list[dict[str, Any]]], list[str]]] = {
    "mcp-http": via_mcp_http, "mcp-stdio": via_mcp_stdio}
SLACK_FIELDS = {"question"}


@pytest.mark.parametrize("front_end", [*ONE_AT_A_TIME, *IN_ONE_SESSION])
def test_every_front_end_makes_the_same_decision(served: Served, front_end: str) -> None:
    cases = [case for case in CASES
             if front_end != "slack" or set(case[1]) <= SLACK_FIELDS]
    if front_end in IN_ONE_SESSION:
        decided = IN_ONE_SESSION[front_end](served, [fields for _, fields, _ in cases])
    else:
        decided = [ONE_AT_A_TIME[front_end](served, fields) for _, fields, _ in cases]
    assert {name: got for (name, _, _), got in zip(cases, decided, strict=True)} == {
        name: expected for name, _, expected in cases}


# -- drift that the one request model ended ------------------------------------------------------


def test_search_reads_time_words_the_same_in_cli_api_and_mcp(served: Served) -> None:
    """"… last week" sets the window in every front end's search, as it does in ask."""
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    def ids(passages: list[dict[str, Any]]) -> list[str]:
        return [p["article_id"] for p in passages]

    query = "bridge repair last week"
    for as_of, expect_bridge in (("2025-03-18", True), ("2025-07-01", False)):
        cli_run = CliRunner().invoke(cli, [
            "--data-dir", str(served.components.settings.data_dir), "search", "--json",
            "--as-of", as_of, query])
        assert cli_run.exit_code == 0, cli_run.output
        by_cli = ids(json.loads(cli_run.stdout))
        with served.client(headers=served.auth) as client:
            by_api = ids(client.get("/api/search", params={"q": query, "as_of": as_of}).json())

        async def mcp_search(as_of: str = as_of) -> dict[str, Any]:
            async with httpx2.AsyncClient(headers=served.auth, timeout=60) as http, \
                    Client(streamable_http_client(f"{served.base}/mcp", http_client=http)) as c:
                result = await c.call_tool("search_articles", {"query": query, "as_of": as_of})
                return result.structured_content or {}

        by_mcp = asyncio.run(mcp_search())
        assert by_cli == by_api == ids(by_mcp["passages"])
        # Only the bridge article was published in the week before 18 Mar 2025; none in the
        # week before 1 Jul 2025 (the other samples are dated outside both).
        assert [i.endswith(BRIDGE_URL_END) for i in by_api] == ([True] if expect_bridge else [])
        assert by_mcp["window"] is not None


def test_mcp_search_and_stats_are_counted_in_metrics(served: Served) -> None:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    def count(text: str, name: str, labels: str) -> float:
        prefix = f"{name}{{{labels}}} "
        return sum(float(line.removeprefix(prefix)) for line in text.splitlines()
                   if line.startswith(prefix))

    with served.client(headers=served.auth) as client:
        before = client.get("/metrics").text

        async def ask_over_mcp() -> None:
            async with httpx2.AsyncClient(headers=served.auth, timeout=60) as http, \
                    Client(streamable_http_client(f"{served.base}/mcp", http_client=http)) as c:
                await c.call_tool("ask_articles", {"question": BRIDGE_QUESTION})
                await c.call_tool("ask_articles", {"question": "x" * 5000})

        asyncio.run(ask_over_mcp())
        client.get("/api/search", params={"q": "cup final"})
        client.get("/api/stats")
        after = client.get("/metrics").text
    changes = {
        "mcp ask": ("newsdesk_questions_total", 'outcome="answered",route="mcp"'),
        "mcp refused": ("newsdesk_requests_total",
                        'operation="ask",outcome="rejected",route="mcp"'),
        "api search": ("newsdesk_requests_total",
                       'operation="search",outcome="found",route="api"'),
        "api stats": ("newsdesk_requests_total", 'operation="stats",outcome="ok",route="api"'),
    }
    assert {what: count(after, *key) - count(before, *key) for what, key in changes.items()} \
        == dict.fromkeys(changes, 1.0)


def test_a_timeline_question_is_a_timeline_after_earlier_turns(served: Served) -> None:
    history = [["How many cables were replaced?", "212 suspension cables [1]."]]
    with served.client(headers=served.auth) as client:
        first = client.post("/api/ask", json={
            "question": "Timeline of the Kestrel Harbour Bridge repair"}).json()
        later = client.post("/api/ask", json={
            "question": "Timeline of the Kestrel Harbour Bridge repair", "history": history}
        ).json()
    assert first["answer"].startswith("14 Mar 2025 — ")
    assert later["answer"] == first["answer"]
    lines = json.dumps({"question": "Timeline of the Kestrel Harbour Bridge repair",
                        "history": history})
    cli_run = CliRunner().invoke(cli, ["--data-dir", str(served.components.settings.data_dir),
                                       "ask", "--jsonl"], input=lines + "\n")
    assert json.loads(cli_run.stdout)["answer"] == first["answer"]


def test_search_windows_accept_relative_days_and_name_bad_ones(served: Served) -> None:
    with served.client(headers=served.auth) as client:
        recent = client.get("/api/search", params={"q": "bridge", "since": "yesterday"})
        bad = client.get("/api/search", params={"q": "bridge", "since": "the other day"})
        blank = client.get("/api/search", params={"q": "  "})
    assert recent.status_code == 200 and recent.json() == []  # the samples are older
    assert bad.status_code == 400 and bad.json()["error"].startswith(
        "invalid request: since: not a date: 'the other day'")
    assert blank.status_code == 400 and "q: is empty" in blank.json()["error"]


def test_a_huge_mcp_question_is_refused_before_any_work(served: Served) -> None:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async def ask_huge() -> Any:
        async with httpx2.AsyncClient(headers=served.auth, timeout=60) as http, \
                Client(streamable_http_client(f"{served.base}/mcp", http_client=http)) as c:
            return await c.call_tool("ask_articles", {"question": "ferry " * 15_000})

    result = asyncio.run(ask_huge())
    text = " ".join(getattr(part, "text", "") for part in result.content)
    assert result.is_error and "question: is 89,999 characters; the limit is 2,000" in text


def test_the_api_refuses_what_is_not_a_json_object(served: Served) -> None:
    with httpx.Client(base_url=served.base, headers=served.auth, timeout=60) as client:
        listed = client.post("/api/ask", content=b'["Who won?"]')
        broken = client.post("/api/ask", content=b'{"question": ')
    assert listed.status_code == 400 and "body: must be a JSON object" in listed.json()["error"]
    assert broken.status_code == 400 and "body: is not valid JSON" in broken.json()["error"]
