"""The web page of `newsdesk serve`: `GET /` and its two files under /static/.

The page is one more front end over the HTTP API (bot/http/app.py): the HTML shell is
rendered here (it holds no store data: the page is served without the API token, the data
it asks for is not), and bot/http/web/page.js calls /api/* with the token the person types
(kept in the browser tab, sent as a header, never in a URL). The files ship as package data:
no build step, nothing fetched from elsewhere.

Every response carries a strict Content-Security-Policy (`page_headers`): scripts only from
this server's own files, no inline script or style, no frames, no other origins. The page
inserts article text as text (page.js never uses innerHTML), so an article holding `<script>`
shows as words; the policy is the second wall.
"""

from __future__ import annotations

import logging
from functools import cache
from importlib import resources
from string import Template

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.http.service import Service, error_response

log = logging.getLogger(__name__)

# The only files served under /static/: name → media type.
STATIC_FILES = {"page.js": "text/javascript; charset=utf-8",
                "page.css": "text/css; charset=utf-8", "icon.svg": "image/svg+xml"}
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def page_headers() -> dict[str, str]:
    """The headers of the page and its files: the CSP, no sniffing, no referrer (article
    links must not tell other sites where the desk is), no framing, no stale copy."""
    return {"content-security-policy": CONTENT_SECURITY_POLICY,
            "x-content-type-options": "nosniff", "referrer-policy": "no-referrer",
            "x-frame-options": "DENY", "cache-control": "no-cache"}


@cache
def _asset(name: str) -> str:
    """A file of bot/http/web/ (package data); read once per process."""
    return resources.files("bot.http").joinpath("web", name).read_text(encoding="utf-8")


def render_page(token_required: bool) -> str:
    """The page's HTML. `token_required` tells the script to ask for the API token before
    anything else (it asks again whenever the API answers 401)."""
    return Template(_asset("page.html")).substitute(
        token_required="true" if token_required else "false")


def web_routes(service: Service) -> list[BaseRoute]:
    """`/` and `/static/{name}` (STATIC_FILES), for a service that serves the API."""
    if not service.api:
        return []
    html = render_page(service.api_token is not None)

    async def page(request: Request) -> Response:
        return Response(html, media_type="text/html; charset=utf-8", headers=page_headers())

    async def static(request: Request) -> Response:
        name: str = request.path_params["name"]
        media_type = STATIC_FILES.get(name)
        if media_type is None:
            return error_response(404, "not found")
        return Response(_asset(name), media_type=media_type, headers=page_headers())

    return [Route("/", page, methods=["GET"]),
            Route("/static/{name}", static, methods=["GET"])]
