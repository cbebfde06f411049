"""`newsdesk serve`: one ASGI application (Starlette) for every HTTP front end.

Routes: Slack events at /slack/events; the JSON and streaming API at /api/ask, /api/search,
/api/stats; MCP at /mcp; /healthz, /readyz and /metrics for operators.

Every request passes `RequestGuard` first: bounded concurrency (503 + Retry-After), the bearer
token on API and MCP routes, and a body cap and body deadline enforced while the body is read
(413 / 408) — all before any route parses or verifies anything. Routes then see the whole,
bounded body. Questions run in a bounded pool of their own, so Slack acks never wait behind
API answers; a question whose client has gone is dropped from that pool (or, already running,
its answer is thrown away), so abandoned requests do not delay the next ones.

Shutting down (`Lifecycle`, driven by bot/runtime.py): `drain` refuses new requests with a
JSON 503 and reports not ready; requests in progress get the grace period to finish;
`abandon` then answers those still waiting with a JSON 503 (an `error` event on a stream).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.asking import Desk, read_request
from bot.asking import Request as DeskRequest
from bot.logs import safe
from bot.metrics import CONTENT_TYPE, Metrics
from config.errors import NewsdeskError, RequestError, StoreError
from config.settings import ServeSettings
from retrieval.records import Answer

log = logging.getLogger(__name__)

SLACK_PATH = "/slack/events"
PROTECTED_PREFIXES = ("/api/", "/mcp")
OPERATOR_PATHS = ("/healthz", "/readyz", "/metrics")  # never queued behind busy routes


T = TypeVar("T")


class SlackDispatch(Protocol):
    """Verifies and dispatches one Slack request (bot.slack_app.NewsdeskSlackBot)."""

    def verify(self, body: bytes, headers: dict[str, str]) -> bool: ...
    def dispatch(self, body: bytes, query: str, headers: dict[str, str]) -> tuple[int, dict[
        str, str], str]: ...


class ShuttingDownError(Exception):
    """The server is stopping and this request did not finish within the grace period."""


class ClientGoneError(Exception):
    """The client disconnected before its answer was ready."""


class Lifecycle:
    """Where a running app is in its life: serving, draining (no new requests), abandoning
    (requests still waiting are answered 503). `drain` and `abandon` may be called from any
    thread; `in_flight` counts requests past the guard, operator routes excepted."""

    def __init__(self) -> None:
        self.draining = False
        self.in_flight = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._abandoned: asyncio.Event | None = None

    def bind(self) -> None:
        """Called on the app's event loop when it starts."""
        self._loop = asyncio.get_running_loop()
        self._abandoned = asyncio.Event()

    def drain(self) -> None:
        self.draining = True

    def abandon(self) -> None:
        self.draining = True
        loop, abandoned = self._loop, self._abandoned
        if loop is not None and abandoned is not None:
            with suppress(RuntimeError):  # the loop has already closed: nobody waits
                loop.call_soon_threadsafe(abandoned.set)

    async def result(self, work: Future[T], receive: Receive | None = None) -> T:
        """The result of `work` (running in a thread pool), unless the client goes first
        (ClientGoneError; `work` is cancelled if it has not started) or the server gives up
        (ShuttingDownError). Unlike asyncio.wrap_future, a result that arrives after the loop
        closed is dropped quietly."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[T] = loop.create_future()

        def transfer(done: Future[T]) -> None:
            if waiter.done():
                return
            if done.cancelled():
                waiter.cancel()
            elif (exc := done.exception()) is not None:
                waiter.set_exception(exc)
            else:
                waiter.set_result(done.result())

        def finished(done: Future[T]) -> None:
            with suppress(RuntimeError):  # the loop has closed: nobody waits for it
                loop.call_soon_threadsafe(transfer, done)

        work.add_done_callback(finished)
        watchers: list[asyncio.Task[Any]] = []
        if self._abandoned is not None:
            watchers.append(asyncio.ensure_future(self._abandoned.wait()))
        if receive is not None:
            watchers.append(asyncio.ensure_future(_disconnected(receive)))
        try:
            done, _ = await asyncio.wait([waiter, *watchers],
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            for watcher in watchers:
                watcher.cancel()
        if waiter in done:
            return waiter.result()
        work.cancel()  # still queued: skip it; running: its result is dropped
        waiter.cancel()
        if self._abandoned is not None and self._abandoned.is_set():
            raise ShuttingDownError("the server is shutting down; ask again shortly")
        raise ClientGoneError


async def _disconnected(receive: Receive) -> None:
    """Returns when the client has gone (the body was already read by the guard)."""
    while (await receive())["type"] != "http.disconnect":
        pass


@dataclass
class Service:
    """What the app serves; built from settings in bot/factory.py."""

    desk: Desk
    readiness: Callable[[], str | None]  # None when ready to answer, else why not
    metrics: Metrics
    limits: ServeSettings
    answers: ThreadPoolExecutor
    api: bool = True  # the /api and /mcp routes
    api_token: SecretStr | None = None
    slack: SlackDispatch | None = None
    mcp: Any = None  # an MCPServer, when api is on
    watchroom: Any = None  # bot.watching.Watchroom: /api/watches, /api/brief (api on)
    lifecycle: Lifecycle = field(default_factory=Lifecycle)


# -- the guard ----------------------------------------------------------------------------------


class RequestGuard:
    """Pure ASGI middleware in front of every route (see the module docstring)."""

    def __init__(self, app: ASGIApp, limits: ServeSettings,
                 api_token: SecretStr | None, lifecycle: Lifecycle) -> None:
        self._app = app
        self._limits = limits
        self._token = api_token.get_secret_value().encode() if api_token else None
        self._lifecycle = lifecycle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        path: str = scope["path"]
        if path in OPERATOR_PATHS:
            await self._app(scope, receive, send)
            return
        lifecycle = self._lifecycle
        if lifecycle.draining:
            await _reply(send, 503, {"error": "the server is shutting down; ask again shortly"},
                         {"retry-after": "5", "connection": "close"})
            return
        if lifecycle.in_flight >= self._limits.max_concurrent_requests:
            await _reply(send, 503, {"error": "busy; try again shortly"},
                         {"retry-after": "1"})
            return
        lifecycle.in_flight += 1
        try:
            await self._guarded(scope, receive, send, path)
        finally:
            lifecycle.in_flight -= 1

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


def error_response(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": safe(message)}, status_code=status)


def failure_response(exc: BaseException) -> JSONResponse:
    """The one mapping of errors to HTTP statuses."""
    if isinstance(exc, RequestError):
        return error_response(400, f"invalid request: {exc}")
    if isinstance(exc, ShuttingDownError | StoreError):
        return error_response(503, str(exc))
    if isinstance(exc, NewsdeskError):
        return error_response(500, str(exc))
    log.error("answering failed", exc_info=exc)
    return error_response(500, "internal error")


def json_object(body: bytes) -> dict[str, Any]:
    """A request body that must be one JSON object."""
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested deep
        raise RequestError("body", "is not valid JSON") from None
    if not isinstance(data, dict):
        raise RequestError("body", "must be a JSON object, e.g. {\"question\": \"...\"}")
    return data


async def pooled(service: Service, request: Request, work: Callable[[], Any], *,
                 status: int = 200, missing: str | None = None) -> Response:
    """Run `work` in the answer pool for `request`: its result as JSON with `status` (404
    with `missing` when it gives None), 499 when the client went first, else the one error
    mapping (`failure_response`)."""
    try:
        data = await service.lifecycle.result(service.answers.submit(work), request.receive)
    except ClientGoneError:
        return Response(status_code=499)
    except Exception as exc:
        return failure_response(exc)
    if data is None and missing is not None:
        return error_response(404, missing)
    return JSONResponse(data, status_code=status)


def _sse(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def build_app(service: Service) -> Starlette:
    limits = service.limits
    desk = service.desk
    lifecycle = service.lifecycle

    async def ask(request: Request) -> Response:
        try:
            asked = read_request(json_object(await request.body()))
        except RequestError as exc:
            desk.rejected("api", "ask")
            return failure_response(exc)
        if "text/event-stream" in request.headers.get("accept", ""):
            return _stream(asked)
        return await pooled(service, request,
                            lambda: desk.ask(asked, "api").as_dict(asked.explain))

    def _stream(asked: DeskRequest) -> Response:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str] = asyncio.Queue()

        def on_token(piece: str) -> None:
            with suppress(RuntimeError):  # the loop has closed: the stream is gone
                loop.call_soon_threadsafe(queue.put_nowait, piece)

        work: Future[Answer] = service.answers.submit(desk.ask, asked, "api", on_token)

        async def events() -> AsyncIterator[bytes]:
            result = asyncio.ensure_future(lifecycle.result(work))
            try:
                while not result.done() or not queue.empty():
                    token = asyncio.ensure_future(queue.get())
                    done, _ = await asyncio.wait([token, result],
                                                 return_when=asyncio.FIRST_COMPLETED)
                    if token in done:
                        yield _sse("token", {"text": token.result()})
                    else:
                        token.cancel()
                if (exc := result.exception()) is not None:
                    yield _sse("error", json.loads(bytes(failure_response(exc).body)))
                else:
                    yield _sse("answer", result.result().as_dict(asked.explain))
            finally:  # the client went away (Starlette cancels us): drop the work
                result.cancel()
                work.cancel()

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"cache-control": "no-cache"})

    async def search(request: Request) -> Response:
        params = request.query_params
        try:
            asked = read_request({
                "question": params.get("q", ""), "k": params.get("k") or None,
                "source": params.getlist("source"), "since": params.get("since"),
                "until": params.get("until"), "as_of": params.get("as_of")}, name="q")
        except RequestError as exc:
            desk.rejected("api", "search")
            return failure_response(exc)
        return await pooled(service, request, lambda: [
            {"rank": i, **p.as_dict()}
            for i, p in enumerate(desk.search(asked, "api").passages, 1)])

    async def changes(request: Request) -> Response:
        params = request.query_params
        try:
            asked = read_request({"question": params.get("q", ""),
                                  "source": params.getlist("source")}, name="q")
        except RequestError as exc:
            desk.rejected("api", "changes")
            return failure_response(exc)
        return await pooled(service, request, lambda: desk.changes(asked, "api").as_dict())

    async def stats(request: Request) -> Response:
        return await pooled(service, request, lambda: desk.stats("api"))

    async def slack_events(request: Request) -> Response:
        slack = service.slack
        assert slack is not None  # the route exists only with a Slack app
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        # Verified on the raw bytes, before anything is parsed.
        if not slack.verify(body, headers):
            return error_response(401, "invalid Slack signature")
        try:
            status, response_headers, text = await asyncio.to_thread(
                slack.dispatch, body, request.url.query, headers)
        except (ValueError, UnicodeDecodeError):
            return error_response(400, "malformed Slack request")
        return Response(text, status_code=status, headers=response_headers)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        reason = ("shutting down" if lifecycle.draining
                  else await asyncio.to_thread(service.readiness))
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
            Route("/api/changes", changes, methods=["GET"]),
            Route("/api/stats", stats, methods=["GET"]),
        ]
        if service.watchroom is not None:
            from bot.desk_routes import desk_routes

            routes += desk_routes(service, service.watchroom)
        if service.mcp is not None:
            mcp_app = service.mcp.streamable_http_app(
                streamable_http_path="/mcp", stateless_http=True, json_response=True,
                max_request_body_size=limits.max_body_bytes, host=limits.host)
            routes += list(mcp_app.routes)
            mcp_session = service.mcp.session_manager.run

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        lifecycle.bind()
        if mcp_session is None:
            yield
            return
        async with mcp_session():
            yield

    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(RequestGuard, limits=limits, api_token=service.api_token,
                       lifecycle=lifecycle)
    return app

