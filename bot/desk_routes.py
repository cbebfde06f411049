"""HTTP routes for saved questions and the daily brief, beside /api/ask (bot/http_app.py):

- `GET /api/watches[?channel=C]`: the saved questions;
- `POST /api/watches` `{question, channel?, source?}`: save one (201, the saved question);
- `DELETE /api/watches/{id}[?channel=C]`: remove one (404 when there is none);
- `GET /api/brief?since=24h&until=&source=&as_of=`: the brief (`brief --json`).

They sit behind the same guard (token, body cap, concurrency) and run in the same bounded
pool as questions; errors map as the API's do (400 for a request at fault, 503 when the
store is down).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.http_app import ClientGoneError, Service, ShuttingDownError
from bot.logs import safe
from bot.watching import Watchroom
from config.errors import NewsdeskError, RequestError, StoreError

log = logging.getLogger(__name__)
T = TypeVar("T")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": safe(message)}, status_code=status)


def _failure(exc: BaseException) -> JSONResponse:
    if isinstance(exc, RequestError):
        return _error(400, f"invalid request: {exc}")
    if isinstance(exc, ShuttingDownError | StoreError):
        return _error(503, str(exc))
    if isinstance(exc, NewsdeskError):
        return _error(500, str(exc))
    log.error("a saved-question or brief request failed", exc_info=exc)
    return _error(500, "internal error")


def desk_routes(service: Service, room: Watchroom) -> list[BaseRoute]:
    async def run(request: Request, work: Callable[[], T]) -> T:
        return await service.lifecycle.result(service.answers.submit(work), request.receive)

    async def answered(request: Request, work: Callable[[], Any],
                       status: int = 200) -> Response:
        try:
            data = await run(request, work)
        except ClientGoneError:
            return Response(status_code=499)
        except Exception as exc:
            return _failure(exc)
        if data is None:
            return _error(404, "no such saved question")
        return JSONResponse(data, status_code=status)

    async def watches(request: Request) -> Response:
        channel = request.query_params.get("channel") or None
        if request.method == "GET":
            return await answered(request, lambda: [w.as_dict() for w in room.list(channel)])
        try:
            data = json.loads(await request.body() or b"null")
        except (ValueError, UnicodeDecodeError):
            return _failure(RequestError("body", "is not valid JSON"))
        if not isinstance(data, dict):
            return _failure(RequestError("body", "must be a JSON object, e.g. "
                                                 "{\"question\": \"...\"}"))
        return await answered(request, lambda: room.add(data).as_dict(), status=201)

    async def watch(request: Request) -> Response:
        watch_id = request.path_params["watch_id"]
        channel = request.query_params.get("channel") or None
        return await answered(request, lambda: {"removed": int(watch_id)}
                              if room.remove(watch_id, channel) else None)

    async def brief(request: Request) -> Response:
        params = request.query_params
        fields = {"since": params.get("since"), "until": params.get("until"),
                  "source": params.getlist("source") or None, "as_of": params.get("as_of")}
        return await answered(request, lambda: room.brief(fields).as_dict())

    return [
        Route("/api/watches", watches, methods=["GET", "POST"]),
        Route("/api/watches/{watch_id:int}", watch, methods=["DELETE"]),
        Route("/api/brief", brief, methods=["GET"]),
    ]
