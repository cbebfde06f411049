"""What `newsdesk serve` and `newsdesk mcp` offer, listed once (pure): their `--help` is written
from these lists, and tests hold the built server and MCP server to exactly these."""

from __future__ import annotations

# (methods, path) of the JSON API (with NEWSDESK_API_TOKEN, or on a loopback address).
API_ROUTES = (
    ("POST", "/api/ask"), ("GET", "/api/search"), ("GET", "/api/changes"),
    ("GET", "/api/stats"), ("GET, POST", "/api/watches"), ("DELETE", "/api/watches/{id}"),
    ("GET", "/api/brief"), ("GET", "/api/alerts"), ("GET", "/api/timeline"),
    ("POST", "/api/feedback"),
)
# The web page (bot/http/web_page.py), a front end over the API: served without the token.
WEB_ROUTES = (("GET", "/"), ("GET", "/static/{name}"))
OPERATOR_ROUTES = (("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"))
SLACK_ROUTE = ("POST", "/slack/events")
MCP_PATH = "/mcp"
# The MCP tools, over HTTP (/mcp) and stdio alike.
MCP_TOOLS = ("search_articles", "ask_articles", "story_timeline", "story_changes",
             "watch_add", "watch_list", "watch_remove", "daily_brief")


def serve_help() -> str:
    """`newsdesk serve --help`."""
    api = ", ".join(f"{methods} {path}" for methods, path in API_ROUTES)
    operators = ", ".join(path for _, path in OPERATOR_ROUTES)
    return (
        "Serve the HTTP API, the web page, MCP, health checks, metrics and (with Slack "
        f"tokens) Slack events.\n\nWeb page: {WEB_ROUTES[0][1]} (open it in a browser). "
        f"API: {api}. MCP (streamable HTTP): {MCP_PATH}, tools "
        f"{', '.join(MCP_TOOLS)}. Slack: {' '.join(SLACK_ROUTE)}. Operators: {operators}.\n\n"
        "API and MCP need `Authorization: Bearer $NEWSDESK_API_TOKEN`; without a token they "
        "are served on a loopback address only. Starts while the store is down (/readyz says "
        "why) and is ready when it returns.")


def mcp_help() -> str:
    """`newsdesk mcp --help`."""
    return (f"Serve the MCP tools {', '.join(MCP_TOOLS[:-1])} and {MCP_TOOLS[-1]} over stdio, "
            "for a local AI assistant (configure it to run `newsdesk mcp`).")
