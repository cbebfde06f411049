"""HTTP routes for saved questions and the daily brief, beside /api/ask (bot/http/app.py):

- `GET /api/watches[?channel=C]`: the saved questions;
- `POST /api/watches` `{question, channel?, source?}`: save one (201, the saved question);
- `DELETE /api/watches/{id}[?channel=C]`: remove one (404 when there is none, or cannot be);
- `GET /api/alerts[?channel=C]`: the alerts sent for saved questions, newest first;
- `GET /api/brief?since=24h&until=&source=&as_of=`: the brief (`brief --json`, with the
  web page's `view`: where each cited sentence lies in its passage).

They sit behind the same guard (token, body cap, concurrency) and run in the same bounded
pool as questions; errors map as the API's do (400 for a request at fault, 503 when the
store is down).
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.app.user_values import can_exist
from bot.app.watching import WatchService
from bot.http.answer_view import brief_view
from bot.http.service import Service, error_response, failure_response, json_object, pooled
from config.errors import RequestError

log = logging.getLogger(__name__)


def watch_routes(service: Service, watch_service: WatchService) -> list[BaseRoute]:
    async def watches(request: Request) -> Response:
        channel = request.query_params.get("channel") or None
        if request.method == "GET":
            return await pooled(service, request,
                                lambda: [w.as_dict() for w in watch_service.list(channel)])
        try:
            data = json_object(await request.body())
        except RequestError as exc:
            return failure_response(exc)
        return await pooled(service, request, lambda: watch_service.add(data).as_dict(),
                            status=201)

    async def watch(request: Request) -> Response:
        watch_id: int = request.path_params["watch_id"]
        if not can_exist(watch_id):  # e.g. past SQLite's integers: the store would raise
            return error_response(404, "no such saved question")
        channel = request.query_params.get("channel") or None
        return await pooled(service, request, lambda: {"removed": int(watch_id)}
                            if watch_service.remove(watch_id, channel) else None,
                            missing="no such saved question")

    async def brief(request: Request) -> Response:
        params = request.query_params
        fields = {"since": params.get("since"), "until": params.get("until"),
                  "source": params.getlist("source") or None, "as_of": params.get("as_of")}
        def brief_data() -> dict[str, Any]:
            made = watch_service.brief(fields)
            return {**made.as_dict(), "view": brief_view(made)}

        return await pooled(service, request, brief_data)

    async def alerts(request: Request) -> Response:
        channel = request.query_params.get("channel") or None
        return await pooled(service, request, lambda: watch_service.alerts(channel))

    return [
        Route("/api/watches", watches, methods=["GET", "POST"]),
        Route("/api/watches/{watch_id:int}", watch, methods=["DELETE"]),
        Route("/api/brief", brief, methods=["GET"]),
        Route("/api/alerts", alerts, methods=["GET"]),
    ]
