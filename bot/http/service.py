"""What every HTTP route shares: the `Service` it serves, its `Lifecycle`, the one mapping of
errors to statuses, and `pooled` (work in the bounded answer pool). The app (bot/http/app.py)
and the routes beside it (watch_routes.py, web_page.py) import it, never each other."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive

from bot.app.asking import Desk
from bot.app.feedback import FeedbackStore
from bot.app.logs import safe
from bot.app.metrics import Metrics
from bot.app.watching import WatchService
from config.errors import NewsdeskError, RequestError, StoreError
from config.settings import ServeSettings

log = logging.getLogger(__name__)

T = TypeVar("T")

class SlackDispatch(Protocol):
    """Verifies and dispatches one Slack request (bot.slack.app.NewsdeskSlackBot)."""

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
    watch_service: WatchService | None = None  # /api/watches, /api/brief (api on)
    feedback: FeedbackStore | None = None  # /api/feedback (api on)
    lifecycle: Lifecycle = field(default_factory=Lifecycle)


# -- errors and pooled work -------------------------------------------------------------------


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
        text = (body or b"null").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError("body", f"is not UTF-8 (byte {exc.start}): JSON must be "
                                   "sent as UTF-8") from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise RequestError("body", "is nested too deeply") from None
    except ValueError:
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

