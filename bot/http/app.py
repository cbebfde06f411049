"""`newsdesk serve`: one ASGI application (Starlette) for every HTTP front end; its routes,
guard, pools and shutdown: docs/architecture.md, "Serving"."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from contextlib import asynccontextmanager, suppress
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from bot.app.asking import Request as DeskRequest
from bot.app.asking import read_request
from bot.app.feedback import read_web_vote
from bot.app.logs import safe
from bot.app.metrics import CONTENT_TYPE
from bot.http.answer_view import answer_view
from bot.http.guard import SLACK_PATH, RequestGuard, mcp_transport_security
from bot.http.service import (
    Service,
    error_response,
    failure_response,
    json_object,
    pooled,
)
from bot.http.watch_routes import watch_routes
from bot.http.web_page import web_routes
from config.errors import RequestError
from retrieval.records import Answer

log = logging.getLogger(__name__)

# How the web page's votes are stored beside Slack's (`newsdesk feedback` lists both).
WEB_CHANNEL = "web"
WEB_USER = "web page"


# -- requests and answers -------------------------------------------------------------------------


def answer_data(answer: Answer, asked: DeskRequest) -> dict[str, Any]:
    """The JSON of an answer to `asked`: the Answer record (`ask --json`, with its trace when
    asked to explain), plus `view` (how the web page shows it: bot/http/answer_view.py) and
    `filters` (what the request itself restricted: sources, since, until, as_of)."""
    return {**answer.as_dict(asked.explain), "view": answer_view(answer),
            "filters": asked.filters()}


def _sse(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def build_app(service: Service) -> Starlette:
    limits = service.limits
    desk = service.desk
    lifecycle = service.lifecycle

    async def ask(request: Request) -> Response:
        try:
            asked = read_request(json_object(await request.body()), typed=True)
        except RequestError as exc:
            desk.rejected("api", "ask")
            return failure_response(exc)
        if "text/event-stream" in request.headers.get("accept", ""):
            return _stream(asked)
        return await pooled(service, request,
                            lambda: answer_data(desk.ask(asked, "api"), asked))

    def _stream(asked: DeskRequest) -> Response:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str] = asyncio.Queue()

        def on_token(piece: str) -> None:
            with suppress(RuntimeError):  # the loop has closed: the stream is gone
                loop.call_soon_threadsafe(queue.put_nowait, piece)

        work: Future[Answer] = service.answers.submit(desk.ask, asked, "api", on_token)

        async def events() -> AsyncIterator[bytes]:
            result = asyncio.ensure_future(lifecycle.result(work))
            token: asyncio.Future[str] | None = None
            finished = False
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
                    yield _sse("answer", answer_data(result.result(), asked))
                finished = True
            finally:  # the client went away (Starlette cancels us): drop the work
                if not finished:  # normal for a client: not an error
                    log.info("a streaming client left before its answer was complete")
                if token is not None:
                    token.cancel()  # else left pending: "Task was destroyed but it is pending!"
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
        def report() -> dict[str, Any]:
            found = desk.changes(asked, "api")
            return {**found.as_dict(), "view": answer_view(found.answer)}

        return await pooled(service, request, report)

    async def timeline(request: Request) -> Response:
        params = request.query_params
        try:
            asked = read_request({
                "question": params.get("topic", ""), "source": params.getlist("source"),
                "since": params.get("since"), "until": params.get("until"),
                "as_of": params.get("as_of")}, name="topic")
        except RequestError as exc:
            desk.rejected("api", "timeline")
            return failure_response(exc)
        return await pooled(service, request,
                            lambda: answer_data(desk.timeline(asked, "api"), asked))

    async def feedback(request: Request) -> Response:
        store = service.feedback
        assert store is not None  # the route exists only with a feedback store
        try:
            vote = read_web_vote(json_object(await request.body()))
        except RequestError as exc:
            return failure_response(exc)

        def record() -> dict[str, Any]:
            store.record_rated(WEB_CHANNEL, vote["answer_id"], WEB_USER, vote["vote"], vote)
            return {"recorded": vote["vote"]}

        return await pooled(service, request, record, status=201)

    async def stats(request: Request) -> Response:
        return await pooled(service, request, lambda: desk.stats("api"))

    async def slack_events(request: Request) -> Response:
        slack = service.slack
        assert slack is not None  # the route exists only with a Slack app
        body = await request.body()
        headers = {k.lower(): v for k, v in request.headers.items()}
        # Verified on the raw bytes, before anything is parsed.
        try:
            verified = slack.verify(body, headers)
        except (ValueError, TypeError):  # headers the guard let through, but the SDK chokes on
            verified = False
        if not verified:
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
            Route("/api/timeline", timeline, methods=["GET"]),
        ]
        if service.feedback is not None:
            routes.append(Route("/api/feedback", feedback, methods=["POST"]))
        routes += web_routes(service)
        if service.watch_service is not None:
            routes += watch_routes(service, service.watch_service)
        if service.mcp is not None:
            mcp_app = service.mcp.streamable_http_app(
                streamable_http_path="/mcp", stateless_http=True, json_response=True,
                max_request_body_size=limits.max_body_bytes, host=limits.host,
                transport_security=mcp_transport_security(limits.host, limits.allowed_hosts))
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

    async def http_error(request: Request, exc: Exception) -> Response:
        # The router's own refusals (405 a method not served) as JSON, as every other error.
        status = int(getattr(exc, "status_code", 500))
        headers = dict(getattr(exc, "headers", None) or {})
        return JSONResponse({"error": str(getattr(exc, "detail", "error")).lower()}, status,
                            headers=headers)

    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={HTTPException: http_error})
    app.add_middleware(RequestGuard, limits=limits, api_token=service.api_token,
                       lifecycle=lifecycle, metrics=service.metrics, routes=routes,
                       slack=service.slack is not None)
    return app

