"""`newsdesk serve`: one ASGI application (Starlette) for every HTTP front end.

Routes: Slack events at /slack/events; the JSON and streaming API at /api/ask, /api/search,
/api/stats; MCP at /mcp; /healthz, /readyz and /metrics for operators.

Every request passes `RequestGuard` first: bounded concurrency (503 + Retry-After), the bearer
token on API and MCP routes, and a body cap and body deadline enforced while the body is read
(413 / 408) — all before any route parses or verifies anything. Routes then see the whole,
bounded body. Questions run in a bounded pool of their own, so Slack acks never wait behind
API answers.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.logs import safe
from bot.metrics import CONTENT_TYPE, Metrics
from config.settings import ServeSettings
from ingest.errors import NewsdeskError, StoreError
from ingest.ids import source_names
from ingest.parse import parse_date, parse_filter
from ingest.records import SearchFilter
from retrieval.answerers import TokenSink
from retrieval.records import Answer, Passage, Turn

log = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"
PROTECTED_PREFIXES = ("/api/", "/mcp")
OPERATOR_PATHS = ("/healthz", "/readyz", "/metrics")  # never queued behind busy routes


class Engine(Protocol):
    def ask(self, question: str, history: Any = (), *, k: int | None = None,
            where: SearchFilter | None = None, on_token: TokenSink | None = None,
            as_of: datetime | None = None) -> Answer: ...

    def search(self, question: str, *, k: int | None = None,
               where: SearchFilter | None = None) -> list[Passage]: ...

    def timeline(self, topic: str, *, where: SearchFilter | None = None,
                 as_of: datetime | None = None) -> Answer: ...


class SlackDispatch(Protocol):
    """Verifies and dispatches one Slack request (bot.slack_app.NewsdeskSlackBot)."""

    def verify(self, body: bytes, headers: dict[str, str]) -> bool: ...
    def dispatch(self, body: bytes, query: str, headers: dict[str, str]) -> tuple[int, dict[
        str, str], str]: ...


@dataclass
class Service:
    """What the app serves; built from settings in bot/factory.py."""

    engine: Engine
    stats: Callable[[], dict[str, Any]]
    readiness: Callable[[], str | None]  # None when ready to answer, else why not
    metrics: Metrics
    limits: ServeSettings
    answers: ThreadPoolExecutor
    api: bool = True  # the /api and /mcp routes
    api_token: SecretStr | None = None
    slack: SlackDispatch | None = None
    mcp: Any = None  # an MCPServer, when api is on


# -- the guard ----------------------------------------------------------------------------------


class RequestGuard:
    """Pure ASGI middleware in front of every route (see the module docstring)."""

    def __init__(self, app: ASGIApp, limits: ServeSettings,
                 api_token: SecretStr | None) -> None:
        self._app = app
        self._limits = limits
        self._token = api_token.get_secret_value().encode() if api_token else None
        self._in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        path: str = scope["path"]
        if path in OPERATOR_PATHS:
            await self._app(scope, receive, send)
            return
        if self._in_flight >= self._limits.max_concurrent_requests:
            await _reply(send, 503, {"error": "busy; try again shortly"},
                         {"retry-after": "1"})
            return
        self._in_flight += 1
        try:
            await self._guarded(scope, receive, send, path)
        finally:
            self._in_flight -= 1

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", [])}
        if self._token is not None and path.startswith(PROTECTED_PREFIXES):
            given = headers.get("authorization", "")
            scheme, _, credential = given.partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                    credential.strip().encode(), self._token):
                await _reply(send, 401, {"error": "missing or wrong API token"},
                             {"www-authenticate": 'Bearer realm="newsdesk"'})
                return
        declared = headers.get("content-length")
        cap = self._limits.max_body_bytes
        if declared is not None and (not declared.isdigit() or int(declared) > cap):
            status = 413 if declared.isdigit() else 400
            await _reply(send, status, {"error": f"request body larger than {cap} bytes"
                                        if status == 413 else "bad Content-Length"})
            return
        body = bytearray()
        more = scope["method"] in ("POST", "PUT", "PATCH")
        while more:
            try:
                message = await asyncio.wait_for(receive(), self._limits.body_timeout)
            except TimeoutError:
                await _reply(send, 408, {"error": "request body too slow"},
                             {"connection": "close"})
                return
            if message["type"] == "http.disconnect":
                return
            body.extend(message.get("body", b""))
            if len(body) > cap:
                await _reply(send, 413, {"error": f"request body larger than {cap} bytes"},
                             {"connection": "close"})
                return
            more = message.get("more_body", False)
        await self._app(scope, _replay(bytes(body), receive), send)


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


# -- requests and answers -------------------------------------------------------------------------


class AskRequest(BaseModel):
    """Body of POST /api/ask."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=2000)
    history: list[tuple[str, str]] = Field(default_factory=list, max_length=20)
    k: int | None = Field(None, ge=1, le=100)
    source: list[str] | str | None = None
    since: str | None = None
    until: str | None = None
    # The moment the question's time words are read from ("last week"); default now.
    as_of: str | None = None
    # Include the answerer's trace (as `ask --explain --json`).
    explain: bool = False

    def where(self) -> SearchFilter:
        sources = (self.source,) if isinstance(self.source, str) else tuple(self.source or ())
        return parse_filter(source_names(sources), self.since, self.until)

    def moment(self) -> datetime | None:
        if not self.as_of:
            return None
        parsed = parse_date(self.as_of)
        if parsed is None:
            raise ValueError(f"as_of is not a date: {self.as_of!r}")
        return parsed


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": safe(message)}, status_code=status)


def _failure(exc: BaseException) -> JSONResponse:
    if isinstance(exc, StoreError):
        return _error(503, str(exc))
    if isinstance(exc, NewsdeskError):
        return _error(500, str(exc))
    log.error("answering failed", exc_info=exc)
    return _error(500, "internal error")


def _sse(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def build_app(service: Service) -> Starlette:
    limits = service.limits

    async def in_pool(work: Callable[[], Answer]) -> Answer:
        return await asyncio.wrap_future(service.answers.submit(work))

    async def timed(route: str, work: Callable[[], Answer]) -> Answer:
        started = time.perf_counter()
        try:
            answer = await in_pool(work)
        except BaseException:
            service.metrics.answered(route, None, time.perf_counter() - started)
            raise
        service.metrics.answered(route, answer, time.perf_counter() - started)
        return answer

    async def ask(request: Request) -> Response:
        try:
            body = AskRequest.model_validate_json(await request.body())
            where = body.where()
            as_of = body.moment()
        except ValidationError as exc:
            problem = exc.errors()[0]
            place = ".".join(str(p) for p in problem["loc"]) or "body"
            return _error(400, f"invalid request: {place}: {problem['msg']}")
        except ValueError as exc:
            return _error(400, f"invalid request: {exc}")
        history: list[Turn] = list(body.history)
        if "text/event-stream" in request.headers.get("accept", ""):
            return _stream(body, history, where, as_of)
        try:
            answer = await timed("api", lambda: service.engine.ask(
                body.question, history, k=body.k, where=where, as_of=as_of))
        except Exception as exc:
            return _failure(exc)
        return JSONResponse(answer.as_dict(body.explain))

    def _stream(body: AskRequest, history: list[Turn], where: SearchFilter,
                as_of: datetime | None) -> Response:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        def on_token(piece: str) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, ("token", piece))

        started = time.perf_counter()
        future: Future[Answer] = service.answers.submit(
            service.engine.ask, body.question, history, k=body.k, where=where,
            on_token=on_token, as_of=as_of)
        future.add_done_callback(
            lambda done: loop.call_soon_threadsafe(queue.put_nowait, ("done", done)))

        async def events() -> AsyncIterator[bytes]:
            while True:
                kind, value = await queue.get()
                if kind == "token":
                    yield _sse("token", {"text": value})
                    continue
                exc = value.exception()
                service.metrics.answered("api", None if exc else value.result(),
                                         time.perf_counter() - started)
                if exc is not None:
                    failure = _failure(exc)
                    yield _sse("error", json.loads(bytes(failure.body)))
                else:
                    yield _sse("answer", value.result().as_dict(body.explain))
                return

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"cache-control": "no-cache"})

    async def search(request: Request) -> Response:
        query = request.query_params.get("q", "").strip()
        if not query:
            return _error(400, "give a query: /api/search?q=...")
        try:
            k = int(request.query_params.get("k") or 0) or None
            if k is not None and not 1 <= k <= 100:
                raise ValueError
            where = parse_filter(source_names(request.query_params.getlist("source")),
                                  request.query_params.get("since"),
                                  request.query_params.get("until"))
        except ValueError:
            return _error(400, "k must be a number from 1 to 100, and dates YYYY-MM-DD")
        try:
            passages = await asyncio.wrap_future(service.answers.submit(
                service.engine.search, query, k=k, where=where))
        except Exception as exc:
            return _failure(exc)
        return JSONResponse([{"rank": i, **p.as_dict()} for i, p in enumerate(passages, 1)])

    async def stats(request: Request) -> Response:
        try:
            data = await asyncio.wrap_future(service.answers.submit(service.stats))
        except Exception as exc:
            return _failure(exc)
        return JSONResponse(data)

    async def slack_events(request: Request) -> Response:
        slack = service.slack
        assert slack is not None  # the route exists only with a Slack app
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        # Verified on the raw bytes, before anything is parsed.
        if not slack.verify(body, headers):
            return _error(401, "invalid Slack signature")
        try:
            status, response_headers, text = await asyncio.to_thread(
                slack.dispatch, body, request.url.query, headers)
        except (ValueError, UnicodeDecodeError):
            return _error(400, "malformed Slack request")
        return Response(text, status_code=status, headers=response_headers)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        reason = await asyncio.to_thread(service.readiness)
        if reason is None:
            return JSONResponse({"ready": True})
        return JSONResponse({"ready": False, "reason": safe(reason)}, status_code=503)

    async def metrics(request: Request) -> Response:
        return Response(service.metrics.exposition(), media_type=CONTENT_TYPE)

    routes: list[BaseRoute] = [
        Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics),
    ]
    if service.slack is not None:
        routes.append(Route(SLACK_PATH, slack_events, methods=["POST"]))
    mcp_session: Callable[[], Any] | None = None
    if service.api:
        routes += [
            Route("/api/ask", ask, methods=["POST"]),
            Route("/api/search", search, methods=["GET"]),
            Route("/api/stats", stats, methods=["GET"]),
        ]
        if service.mcp is not None:
            mcp_app = service.mcp.streamable_http_app(
                streamable_http_path="/mcp", stateless_http=True, json_response=True,
                max_request_body_size=limits.max_body_bytes, host=limits.host)
            routes += list(mcp_app.routes)
            mcp_session = service.mcp.session_manager.run

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if mcp_session is None:
            yield
            return
        async with mcp_session():
            yield

    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(RequestGuard, limits=limits,
                       api_token=service.api_token)
    return app

