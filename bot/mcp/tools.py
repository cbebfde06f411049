"""Newsdesk as Model Context Protocol tools (the official `mcp` SDK): `search_articles`,
`ask_articles`, `story_timeline` and `story_changes`, served over streamable HTTP at /mcp by
`newsdesk serve` and over stdio by `newsdesk mcp`, so that AI assistants can query the
archive."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from bot.app.asking import Desk, Request, read_request
from bot.app.logs import safe
from config.errors import NewsdeskError, RequestError
from retrieval.records import Answer, Passage

T = TypeVar("T")
ROUTE = "mcp"

INSTRUCTIONS = ("Search the team's news articles and ask questions about them. Answers are "
                "short, cite their sources as [n], and say so when the articles do not answer. "
                "since/until take YYYY-MM-DD (or \"yesterday\", \"3 days ago\"); as_of sets "
                "the day time words in a question (\"last week\") are read from.")


def passage_summary(passage: Passage, with_text: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": passage.title, "url": passage.url, "source": passage.source,
        "published": passage.published.date().isoformat() if passage.published else None,
        "article_id": passage.article_id,
        "also_ran_in": [r.label for r in passage.reprints],
    }
    if with_text:
        data["text"] = passage.text
    return data


def cited(answer: Answer) -> list[dict[str, Any]]:
    return [{"n": c.n, **passage_summary(c.passage, with_text=False)} for c in answer.citations]


def build_mcp(desk: Desk, pool: ThreadPoolExecutor) -> MCPServer:
    """The MCP server; questions run in `pool`, the bounded pool the HTTP API uses too.
    Arguments are checked by bot.app.asking.read_request, as every front end's are: a bad one is
    a tool error naming the argument; a NewsdeskError (the store is down) is a tool error
    with its message; anything else, a tool error that says nothing of the internals."""
    # The SDK configures logging (basicConfig) where nothing has yet: keep it to warnings.
    server: MCPServer = MCPServer("newsdesk", instructions=INSTRUCTIONS, log_level="WARNING")

    async def in_pool(work: Callable[[], T]) -> T:
        try:
            return await asyncio.wrap_future(pool.submit(work))
        except NewsdeskError as exc:  # our messages are safe to show; others stay hidden
            raise ToolError(safe(str(exc))) from exc

    def checked(operation: str, fields: dict[str, Any], name: str) -> Request:
        try:
            return read_request({k: v for k, v in fields.items() if v is not None}, name=name)
        except RequestError as exc:
            desk.rejected(ROUTE, operation)
            raise ToolError(str(exc)) from exc

    @server.tool(description="Find the passages of news articles that best match a query. "
                             "Time words in the query (\"last week\") or since/until "
                             "restrict it to articles published then.")
    async def search_articles(query: str, k: int = 6, source: list[str] | None = None,
                              since: str | None = None, until: str | None = None,
                              as_of: str | None = None) -> dict[str, Any]:
        asked = checked("search", {"question": query, "k": k, "source": source,
                                   "since": since, "until": until, "as_of": as_of}, "query")
        found = await in_pool(lambda: desk.search(asked, ROUTE))
        return {"window": found.window.label if found.window else None,
                "passages": [{"rank": rank, **passage_summary(p)}
                             for rank, p in enumerate(found.passages, start=1)]}

    @server.tool(description="Answer a question from the news articles, citing sources as "
                             "[n]; says so when the articles do not answer.")
    async def ask_articles(question: str, k: int | None = None, source: list[str] | None = None,
                           since: str | None = None, until: str | None = None,
                           as_of: str | None = None) -> dict[str, Any]:
        asked = checked("ask", {"question": question, "k": k, "source": source,
                                "since": since, "until": until, "as_of": as_of}, "question")
        answer = await in_pool(lambda: desk.ask(asked, ROUTE))
        return {
            "answer": answer.answer,
            "abstained": answer.abstained,
            "answer_span": answer.answer_span.as_dict() if answer.answer_span else None,
            "window": answer.window.label if answer.window else None,
            "citations": cited(answer),
        }

    @server.tool(description="A news story's dated developments, oldest first: one cited "
                             "sentence per article, wire copies collapsed.")
    async def story_timeline(topic: str, source: list[str] | None = None,
                             since: str | None = None, until: str | None = None
                             ) -> dict[str, Any]:
        asked = checked("timeline", {"question": topic, "source": source, "since": since,
                                     "until": until}, "topic")
        answer = await in_pool(lambda: desk.timeline(asked, ROUTE))
        return {
            "timeline": answer.answer,
            "found": not answer.abstained,
            "citations": cited(answer),
        }

    @server.tool(description="What changed in a news story or article (its id or URL, or a "
                             "topic) between the versions kept when it was updated: correction "
                             "notes first, then values changed (numbers, names, dates), "
                             "sentences added and removed, each cited to its version.")
    async def story_changes(story: str, source: list[str] | None = None) -> dict[str, Any]:
        asked = checked("changes", {"question": story, "source": source}, "story")
        report = await in_pool(lambda: desk.changes(asked, ROUTE))
        return {
            "changes": report.answer.answer,
            "article_id": report.article_id,
            "found": report.found,
            "steps": report.composed.as_dict()["steps"] if report.composed else [],
            "citations": cited(report.answer),
        }

    return server
