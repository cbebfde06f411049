"""MCP tools for saved questions and the daily brief, added to the server of bot/mcp/tools.py:
`watch_add`, `watch_list`, `watch_remove` and `daily_brief`. Arguments are read by
bot.app.watching (the same checks as every front end): a bad one is a tool error naming it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from bot.app.logs import safe
from bot.app.user_values import can_exist
from bot.app.watching import WatchService
from bot.mcp.tools import passage_summary
from config.errors import NewsdeskError

T = TypeVar("T")


def register_watch_tools(server: MCPServer, watch_service: WatchService,
                         pool: ThreadPoolExecutor) -> None:
    """Add the tools to `server`; they run in `pool` (the API's bounded pool)."""

    async def in_pool(work: Callable[[], T]) -> T:
        try:
            return await asyncio.wrap_future(pool.submit(work))
        except NewsdeskError as exc:  # RequestError included: it names the argument
            raise ToolError(safe(str(exc))) from exc

    @server.tool(description="Save a question: after each ingest, when a new or updated "
                             "article answers it, an alert with the cited answer is made "
                             "(posted to `channel` in Slack when one is given).")
    async def watch_add(question: str, channel: str | None = None,
                        source: list[str] | None = None) -> dict[str, Any]:
        saved = await in_pool(lambda: watch_service.add(
            {"question": question, "channel": channel, "source": source}))
        return saved.as_dict()

    @server.tool(description="The saved questions (of one Slack channel, when given), with "
                             "the answer each last alerted with.")
    async def watch_list(channel: str | None = None) -> dict[str, Any]:
        saved = await in_pool(lambda: watch_service.list(channel))
        return {"watches": [w.as_dict() for w in saved]}

    @server.tool(description="Remove a saved question by its id.")
    async def watch_remove(id: int, channel: str | None = None) -> dict[str, Any]:
        removed = can_exist(id) and await in_pool(lambda: watch_service.remove(id, channel))
        if not removed:
            raise ToolError(f"no saved question {id}")
        return {"removed": id}

    @server.tool(description="The stories published in a period, most covered first: wire "
                             "copies as one story, each with its lead sentence cited [n] and "
                             "its date, and a short timeline for a story that developed. "
                             "since: a duration back from now (24h, 3d) or YYYY-MM-DD.")
    async def daily_brief(since: str = "24h", until: str | None = None,
                          source: list[str] | None = None,
                          as_of: str | None = None) -> dict[str, Any]:
        brief = await in_pool(lambda: watch_service.brief(
            {"since": since, "until": until, "source": source, "as_of": as_of}))
        return {"brief": brief.text,
                "stories": [s.as_dict() for s in brief.stories], "more": brief.more,
                "citations": [{"n": c.n, **passage_summary(c.passage, with_text=False)}
                              for c in brief.citations]}
