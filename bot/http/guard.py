"""What `newsdesk serve` refuses before any route runs: `RequestGuard`, the ASGI middleware in
front of every route of the app (bot/http/app.py), and the checks it makes.

Every request passes `RequestGuard` first, which counts every response in /metrics (by route,
or "unknown", and status) and refuses, before any route parses anything: an unknown path
(404); a missing or wrong bearer token on API and MCP routes (401); a bad or too large declared
body length (400 / 413); Slack signature headers that are missing, malformed or stale (401:
the signature itself needs the body). None of these takes a request slot or reads a body.
Then a slot: 503 + Retry-After when all are taken, 429 + Retry-After when the client's address
already has its share of requests still sending a body. The body is read under a cap (413) and
one deadline for the whole body, not per read (408). Routes then see the whole, bounded body.

/mcp's own Host and Origin check is the MCP SDK's, configured by `mcp_transport_security`.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

from mcp.server.transport_security import TransportSecuritySettings
from pydantic import SecretStr
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.app.metrics import Metrics
from bot.http.service import Lifecycle
from config.settings import ServeSettings

SLACK_PATH = "/slack/events"
PROTECTED_PREFIXES = ("/api/", "/mcp")
OPERATOR_PATHS = ("/healthz", "/readyz", "/metrics")  # never queued behind busy routes
UNKNOWN_ROUTE = "unknown"  # the metrics label of a path no route serves

SLACK_TIMESTAMP = re.compile(r"[0-9]{1,12}")  # seconds since the epoch, ASCII digits only
SLACK_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")  # HMAC-SHA256, lowercase hex
SLACK_MAX_AGE = 300  # seconds between Slack's timestamp and now: slack_sdk's own limit

# The Host values the MCP SDK accepts on a loopback address (DNS-rebinding protection).
LOOPBACK_HOSTS = ("127.0.0.1:*", "localhost:*", "[::1]:*")


def slack_header_problem(headers: Mapping[str, str], now: float) -> str | None:
    """Why a request cannot be Slack's, judged from its headers alone (None: it may be):
    `X-Slack-Request-Timestamp` and `X-Slack-Signature` present and well formed, the timestamp
    within SLACK_MAX_AGE seconds of `now` (seconds since the epoch). `headers` have lowercase
    names. The signature itself covers the body: the route checks it once the body is read."""
    timestamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    if timestamp is None or signature is None:
        return "missing Slack signature headers"
    if not SLACK_TIMESTAMP.fullmatch(timestamp) or not SLACK_SIGNATURE.fullmatch(signature):
        return "malformed Slack signature headers"
    if abs(now - int(timestamp)) > SLACK_MAX_AGE:
        return "stale Slack request timestamp"
    return None


def client_share(limits: ServeSettings) -> int:
    """How many requests still sending their body one client address may have at once: the
    setting, or (0) a quarter of max_concurrent_requests, at least 1."""
    return limits.max_bodies_per_client or max(1, limits.max_concurrent_requests // 4)


def slot_refusal(in_flight: int, sending: int, limits: ServeSettings
                 ) -> tuple[int, str] | None:
    """Whether a request may take a slot: None, or the status and message to refuse it with.
    `in_flight`: the requests in progress; `sending`: those of them still sending their body
    from this request's client address (0 when this request has no body).

    Slots are held for long only by bodies that come slowly (unauthenticated requests are
    refused from their headers, or, on /slack/events, as soon as the body fails its
    signature), so it is those that are capped per address: a burst of complete requests
    from one address (Slack's, a proxy's) is not refused. A client past its share gets 429,
    so that only it is told to slow down; anyone else finding every slot taken gets 503."""
    if sending >= client_share(limits):
        return 429, "too many requests at once from your address; try again shortly"
    if in_flight >= limits.max_concurrent_requests:
        return 503, "busy; try again shortly"
    return None


def match_route(routes: Sequence[BaseRoute], scope: Scope) -> tuple[str, Match]:
    """The path template of the route that serves `scope`, FULL; or PARTIAL when the router
    answers without reading the body: the route takes other methods (405), or takes the path
    with its trailing slash added or removed (a redirect); else UNKNOWN_ROUTE, Match.NONE."""
    route, match = _first_match(routes, scope)
    if match is Match.NONE and scope["path"] != "/":
        path = scope["path"]
        twin = path[:-1] if path.endswith("/") else path + "/"
        route, match = _first_match(routes, {**scope, "path": twin})
        match = Match.NONE if match is Match.NONE else Match.PARTIAL
    return route, match


def _first_match(routes: Sequence[BaseRoute], scope: Scope) -> tuple[str, Match]:
    partial: str | None = None
    for route in routes:
        try:
            match, _ = route.matches(scope)
        except ValueError:  # e.g. an int parameter too long to convert: no such resource
            continue
        if match is Match.FULL:
            return str(getattr(route, "path", UNKNOWN_ROUTE)), match
        if match is Match.PARTIAL and partial is None:
            partial = str(getattr(route, "path", UNKNOWN_ROUTE))
    return (partial, Match.PARTIAL) if partial is not None else (UNKNOWN_ROUTE, Match.NONE)


def _loopback(host: str) -> bool:
    import ipaddress

    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_allowed(value: str, patterns: Sequence[str]) -> bool:
    """Whether a Host header value ("name" or "name:port") matches one of `patterns`: a name
    (exactly), "name:port", or "name:*" (the name with any port or none)."""
    value = value.strip().lower()
    for pattern in (p.lower() for p in patterns):
        if pattern.endswith(":*"):
            base = pattern[:-2]
            port = value[len(base) + 1:] if value.startswith(base + ":") else None
            if value == base or (port is not None and port.isdigit()):
                return True
        elif value == pattern:
            return True
    return False


def cross_site_problem(headers: Mapping[str, str], guarded: bool, patterns: Sequence[str]
                       ) -> tuple[int, str] | None:
    """A browser's request from another site, or through a rebound DNS name, refused by its
    headers: a Host not among `patterns` (421), or an Origin of another host (403). Only when
    `guarded` (a loopback address, or names configured): web pages elsewhere must not reach
    an API that answers without a token on this machine."""
    if not guarded:
        return None
    host = headers.get("host", "")
    if host and not host_allowed(host, patterns):
        return 421, f"Host {host!r} is not served here ([serve] allowed_hosts)"
    origin = headers.get("origin")
    if origin is not None:
        _, _, rest = origin.partition("://")
        if origin == "null" or not host_allowed(rest.rstrip("/"), patterns):
            return 403, "cross-site request refused"
    return None


def mcp_transport_security(host: str, allowed_hosts: Sequence[str]
                           ) -> TransportSecuritySettings | None:
    """The MCP SDK's DNS-rebinding check for /mcp, from `[serve] allowed_hosts`: None (none
    given) leaves the SDK's default — on for a loopback `host`, accepting only loopback Host
    headers; "*" turns it off (a proxy in front checks Host); otherwise it accepts the loopback
    names and those given (and browser Origins of those hosts, http or https)."""
    if "*" in allowed_hosts:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    if not allowed_hosts:
        return None
    hosts = [*LOOPBACK_HOSTS, *allowed_hosts]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts,
        allowed_origins=[f"{scheme}://{name}" for name in hosts for scheme in ("http", "https")])


class RequestGuard:
    """Pure ASGI middleware in front of every route (see the module docstring)."""

    def __init__(self, app: ASGIApp, limits: ServeSettings, api_token: SecretStr | None,
                 lifecycle: Lifecycle, metrics: Metrics, routes: Sequence[BaseRoute],
                 slack: bool = False) -> None:
        self._app = app
        self._limits = limits
        self._token = api_token.get_secret_value().encode() if api_token else None
        self._lifecycle = lifecycle
        self._metrics = metrics
        self._routes = routes
        self._slack = slack  # /slack/events is served: check its headers here
        self._sending: dict[str, int] = {}  # requests still sending a body, by address
        allowed = list(limits.allowed_hosts)
        # As /mcp's check: on for a loopback address or configured names; ["*"] turns it off.
        self._guarded = "*" not in allowed and (bool(allowed) or _loopback(limits.host))
        self._hosts = [*LOOPBACK_HOSTS, *allowed]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        route, match = match_route(self._routes, scope)
        send = self._counted(route, send)
        path: str = scope["path"]
        if path in OPERATOR_PATHS:
            await self._app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        # A body we refuse without reading: close the connection rather than wait for it.
        close = {"connection": "close"} if _declares_body(headers) else {}
        if self._lifecycle.draining:
            await _reply(send, 503, {"error": "the server is shutting down; ask again shortly"},
                         {"retry-after": "5", "connection": "close"})
            return
        if match is Match.NONE:
            await _reply(send, 404, {"error": "not found"}, close)
            return
        if match is Match.PARTIAL:  # the router answers 405 or a redirect, reading no body
            await self._app(scope, receive, send)
            return
        if (refused := self._refusal(path, headers)) is not None:
            status, message, extra = refused
            await _reply(send, status, {"error": message}, {**extra, **close})
            return
        client = scope["client"][0] if scope.get("client") else "unknown"
        has_body = scope["method"] in ("POST", "PUT", "PATCH")
        lifecycle = self._lifecycle
        sending = self._sending.get(client, 0) if has_body else 0
        if (full := slot_refusal(lifecycle.in_flight, sending, self._limits)) is not None:
            status, message = full
            await _reply(send, status, {"error": message}, {"retry-after": "1", **close})
            return
        lifecycle.in_flight += 1
        try:
            body = await self._body(client, receive, send) if has_body else b""
            if body is not None:
                await self._app(scope, _replay(body, receive), send)
        finally:
            lifecycle.in_flight -= 1

    def _counted(self, route: str, send: Send) -> Send:
        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._metrics.responded(route, int(message["status"]))
            await send(message)

        return counted

    def _refusal(self, path: str, headers: dict[str, str]
                 ) -> tuple[int, str, dict[str, str]] | None:
        """What the headers alone already refuse: status, message and response headers."""
        if self._token is not None and path.startswith(PROTECTED_PREFIXES):
            given = headers.get("authorization", "")
            scheme, _, credential = given.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                    credential.strip().encode(), self._token):
                return 401, "missing or wrong API token", {
                    "www-authenticate": 'Bearer realm="newsdesk"'}
        declared = headers.get("content-length")
        cap = self._limits.max_body_bytes
        if declared is not None and not declared.isdigit():
            return 400, "bad Content-Length", {}
        if declared is not None and int(declared) > cap:
            return 413, f"request body larger than {cap} bytes", {}
        if self._slack and path == SLACK_PATH and (
                problem := slack_header_problem(headers, time.time())) is not None:
            return 401, problem, {}
        # /mcp: the MCP SDK's own check (mcp_transport_security); Slack signs its requests.
        if path != SLACK_PATH and not path.startswith("/mcp") and (
                foreign := cross_site_problem(headers, self._guarded, self._hosts)) is not None:
            return foreign[0], foreign[1], {}
        return None

    async def _body(self, client: str, receive: Receive, send: Send) -> bytes | None:
        """The whole body, counted as `client`'s while it comes; or None, having answered
        408 / 413 (or the client went)."""
        cap = self._limits.max_body_bytes
        self._sending[client] = self._sending.get(client, 0) + 1
        try:  # one deadline for the whole body: a byte now and then does not extend it
            async with asyncio.timeout(self._limits.body_timeout):
                body = await _read_body(receive, cap)
        except TimeoutError:
            await _reply(send, 408, {"error": "request body too slow"}, {"connection": "close"})
            return None
        finally:
            if (left := self._sending[client] - 1) > 0:
                self._sending[client] = left
            else:
                del self._sending[client]
        if body is not None and len(body) > cap:
            await _reply(send, 413, {"error": f"request body larger than {cap} bytes"},
                         {"connection": "close"})
            return None
        return body


def _declares_body(headers: Mapping[str, str]) -> bool:
    return headers.get("content-length", "0") != "0" or "transfer-encoding" in headers


async def _read_body(receive: Receive, cap: int) -> bytes | None:
    """The request body, or None if the client disconnected; stops once past `cap` bytes."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body.extend(message.get("body", b""))
        if len(body) > cap or not message.get("more_body", False):
            return bytes(body)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that yields the already read body, then waits for the client to go."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _reply(send: Send, status: int, data: dict[str, Any],
                 headers: dict[str, str] | None = None) -> None:
    payload = json.dumps(data).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})
