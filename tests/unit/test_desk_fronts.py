"""Saved questions and the brief in every front end, on fakes: the one request reading
(bot/app/watching.py), Block Kit within Slack's limits, the HTTP routes, the MCP tools and the
Slack sub-commands."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from starlette.testclient import TestClient

from bot.app.asking import Desk
from bot.app.metrics import Metrics
from bot.app.watches import WatchStore
from bot.app.watching import MAX_WATCHES, WatchService
from bot.http.app import build_app
from bot.http.service import Service
from bot.mcp.watch_tools import register_watch_tools
from bot.slack.blocks import MAX_BLOCKS, SECTION_LIMIT
from bot.slack.watch_blocks import alert_blocks, brief_blocks, watches_blocks
from bot.slack.watches import SlackWatchCommands
from config.errors import RequestError
from config.settings import ServeSettings
from ingest.model.records import Chunk, ChunkMeta
from retrieval.news.alerts import Alert, Watch
from retrieval.news.brief import BriefItem, compose_brief
from retrieval.question.time_window import TimeWindow
from retrieval.records import Answer, Citation, Passage
from tests.fakes import MemoryStore

DAY = datetime(2026, 12, 1, 9, tzinfo=UTC)

# A loopback address, as the server checks Host (cross-site guard).
LOCAL = "http://127.0.0.1:8080"



def meta(article: str, title: str, source: str, day: int = 1) -> ChunkMeta:
    return ChunkMeta(article_id=article, chunk_index=0, chunk_count=1, content_hash="h",
                     text_hash=article, title=title, source=source,
                     url=f"https://x.example/{article}",
                     published=datetime(2026, 12, day, 9, tzinfo=UTC))


def newsroom() -> MemoryStore:
    """Two stories of 1 Dec 2026 in the in-memory store: one ran in two sources."""
    store = MemoryStore()
    rows = [("afp", "Plant to close", "AFP", "Orrin Motors will cut 1,200 jobs at Feldmark.",
             None, [1.0, 0.0]),
            ("reuters", "Plant shuts", "Reuters", "Orrin Motors will cut 1,200 Feldmark jobs.",
             "afp", [1.0, 0.0]),
            ("cup", "Cup final <!channel>", "Sport", "Port Selby won the cup 2-1 on Tuesday.",
             None, [0.0, 1.0])]
    for article, title, source, text, copy_of, vector in rows:
        chunk = Chunk(f"{article}#0", article, 0, text, "", 0, len(text))
        stored = ChunkMeta(**{**meta(article, title, source).__dict__, "copy_of": copy_of})
        store.upsert([chunk], np.asarray([vector], dtype=np.float32), [stored])
    return store


@pytest.fixture
def room(tmp_path: Path) -> WatchService:
    return WatchService(WatchStore(tmp_path / "watches.sqlite3"), newsroom,
                     {"C0SPORT": ["Sport"]})


# -- the one reading -------------------------------------------------------------------------


def test_saved_questions_are_read_as_questions_are(room: WatchService) -> None:
    saved = room.add({"question": "  Who won\nthe cup? ", "channel": "C0SPORT"})
    assert (saved.question, saved.sources) == ("Who won the cup?", ("Sport",))
    assert room.add({"question": "Jobs?", "source": "AFP"}).sources == ("AFP",)
    with pytest.raises(RequestError, match=r"^question: is empty"):
        room.add({"question": " "})
    with pytest.raises(RequestError, match=r"^question: is 2,001 characters"):
        room.add({"question": "x" * 2001})
    with pytest.raises(RequestError, match=r"^colour: extra inputs"):
        room.add({"question": "Who?", "colour": "red"})
    with pytest.raises(RequestError, match=r"^id: not a saved question's number"):
        room.remove("three")
    assert room.remove("#1", channel="C0SPORT") and not room.remove(1)


def test_saved_questions_per_channel_are_bounded(room: WatchService) -> None:
    for n in range(MAX_WATCHES):
        room.add({"question": f"Question {n}?", "channel": "C1"})
    with pytest.raises(RequestError, match="remove one first"):
        room.add({"question": "One more?", "channel": "C1"})
    assert room.add({"question": "Elsewhere?", "channel": "C2"}).id == MAX_WATCHES + 1


def test_the_brief_reads_its_period_and_the_channels_desk(room: WatchService) -> None:
    brief = room.brief({"since": "2026-12-01"})
    assert [s.passage.article_id for s in brief.stories] == ["afp", "cup"]
    assert brief.stories[0].sources == ("AFP", "Reuters")
    assert [s.passage.article_id for s in room.brief({"since": "2026-12-01"}, "C0SPORT")
            .stories] == ["cup"]
    assert room.brief({"since": "24h", "as_of": "2026-12-01T20:00:00Z"}).articles == 3
    with pytest.raises(RequestError, match=r"^since: not a date: 'fortnightish' \(use a duration"):
        room.brief({"since": "fortnightish"})
    with pytest.raises(RequestError, match=r"^until: not a date"):
        room.brief({"since": "2026-12-01", "until": "soon"})
    with pytest.raises(RequestError, match=r"^as_of: not a date"):
        room.brief({"as_of": "later"})


# -- Block Kit --------------------------------------------------------------------------------


def passage(article: str, text: str = "Port Selby won. <!channel>") -> Passage:
    return Passage(chunk_id=f"{article}#0", article_id=article, title=f"<@U1> {article}",
                   text=text, score=1.0, published=DAY, group=article)


def test_an_alert_in_slack_says_what_fired_and_escapes_article_text() -> None:
    answer = Answer(question="Who won?", answer="Port Selby <!channel> won. [1]",
                    abstained=False, citations=(Citation(1, passage("cup")),),
                    passages=(passage("cup"),))
    blocks, text = alert_blocks(Alert(Watch(4, "Who won?", "C1"), "updated", answer, ("cup",),
                                      ("cup",)))
    assert blocks[0]["text"]["text"] == "*Updated* for saved question 4: _Who won?_"
    rendered = str(blocks)
    assert "<!channel>" not in rendered and "&lt;!channel&gt;" in rendered
    assert "<@U1>" not in rendered and "<!channel>" not in text
    assert text.startswith("Updated for “Who won?”: ")


def test_a_long_brief_stays_within_slacks_limits() -> None:
    items = []
    for n in range(60):
        article = f"story-{n}"
        text = f"Story {n} happened in Town{n} on Tuesday. " + "More words here. " * 300
        items.append(BriefItem(f"{article}#0", text, meta(article, f"Story {n}", f"S{n}"),
                               np.eye(64, dtype=np.float32)[n]))
    brief = compose_brief(items, TimeWindow(DAY, DAY), max_stories=60)
    blocks, text = brief_blocks(brief, max_stories=60)
    assert len(blocks) <= MAX_BLOCKS
    sections = [b for b in blocks if b["type"] == "section"]
    assert sum(s["text"]["text"].startswith("*Sources*") for s in sections) >= 1
    assert all(len(b["text"]["text"]) <= SECTION_LIMIT for b in blocks if "text" in b)
    shown = sum(bool(re.match(r"\*\d+\. Story", s["text"]["text"])) for s in sections)
    assert blocks[-1]["type"] == "context"
    assert blocks[-1]["elements"][0]["text"] == f"and {60 - shown} more stories"
    assert len(text) <= 3000
    empty, _ = brief_blocks(compose_brief([], TimeWindow(DAY, DAY)))
    assert empty[0]["text"]["text"] == "Articles from 1 Dec 2026: no articles."


def test_a_channel_without_saved_questions_is_told_how_to_save_one() -> None:
    blocks, _ = watches_blocks([], "/ask")
    assert "`/ask watch &lt;question&gt;`" in blocks[0]["text"]["text"]
    listed, text = watches_blocks([Watch(2, "Who <b>won</b>?")], "/ask")
    assert "`2` Who &lt;b&gt;won&lt;/b&gt;?" in listed[0]["text"]["text"]
    assert text == "1 saved questions"


# -- HTTP -------------------------------------------------------------------------------------


class NoEngine:
    def __getattr__(self, name: str) -> Any:
        raise AssertionError("the desk routes never ask the engine")


def http(room: WatchService) -> TestClient:
    metrics = Metrics()
    service = Service(desk=Desk(NoEngine(), stats=dict, recorder=metrics),
                      readiness=lambda: None, metrics=metrics, limits=ServeSettings(),
                      answers=ThreadPoolExecutor(max_workers=1), watch_service=room)
    return TestClient(build_app(service), base_url=LOCAL)


def test_the_api_saves_lists_and_removes_questions_and_gives_the_brief(
        room: WatchService) -> None:
    with http(room) as client:
        created = client.post("/api/watches", json={"question": "Who won?", "channel": "C1"})
        assert created.status_code == 201 and created.json()["id"] == 1
        assert client.post("/api/watches", json={"question": ""}).json() == {
            "error": "invalid request: question: is empty: ask a question"}
        assert client.post("/api/watches", content=b"[1]").status_code == 400
        assert [w["id"] for w in client.get("/api/watches?channel=C1").json()] == [1]
        assert client.get("/api/watches?channel=C9").json() == []
        assert client.delete("/api/watches/1?channel=C9").status_code == 404
        assert client.delete("/api/watches/1").json() == {"removed": 1}
        brief = client.get("/api/brief", params={"since": "2026-12-01"}).json()
        assert [s["article_id"] for s in brief["stories"]] == ["afp", "cup"]
        assert client.get("/api/brief", params={"since": "x"}).status_code == 400


# -- MCP --------------------------------------------------------------------------------------


def test_the_mcp_tools_share_the_same_checks(room: WatchService) -> None:
    server = MCPServer("test")
    register_watch_tools(server, room, ThreadPoolExecutor(max_workers=1))

    def call(tool: str, **arguments: Any) -> Any:
        return asyncio.run(server.call_tool(tool, arguments)).structured_content

    assert call("watch_add", question="Who won?", channel="C0SPORT")["sources"] == ["Sport"]
    assert [w["id"] for w in call("watch_list")["watches"]] == [1]
    with pytest.raises(ToolError, match="question: is empty"):
        call("watch_add", question=" ")
    assert call("watch_remove", id=1) == {"removed": 1}
    with pytest.raises(ToolError, match="no saved question 1"):
        call("watch_remove", id=1)
    brief = call("daily_brief", since="2026-12-01", until="2026-12-01")
    assert brief["brief"].startswith("Articles from 1 Dec 2026: 2 stories from 3 articles.")
    assert [c["also_ran_in"] for c in brief["citations"]] == [["Reuters"], []]


# -- Slack ------------------------------------------------------------------------------------


class Replies:
    """What a slash command said: its ack, later responses and posted messages."""

    def __init__(self) -> None:
        self.acks: list[dict[str, Any]] = []
        self.responses: list[dict[str, Any]] = []
        self.posted: list[dict[str, Any]] = []

    def ack(self, **kwargs: Any) -> None:
        self.acks.append(kwargs)

    def respond(self, **kwargs: Any) -> None:
        self.responses.append(kwargs)

    def chat_postMessage(self, **kwargs: Any) -> None:
        self.posted.append(kwargs)


def test_slack_sub_commands_save_list_remove_and_brief(room: WatchService) -> None:
    replies = Replies()
    commands = SlackWatchCommands(room, replies)

    def slash(text: str) -> bool:
        return commands.handle({"text": text, "channel_id": "C0SPORT", "user_id": "U1"},
                               replies.ack, replies.respond)

    assert not slash("who won the cup?")  # a question: the bot answers it as usual
    assert slash("watch Who won the &lt;cup&gt;?")
    assert replies.acks[-1]["text"].startswith("Saved question 1: _Who won the &lt;cup&gt;?_")
    assert room.list("C0SPORT")[0].question == "Who won the <cup>?"
    assert slash("watches") and "`1` Who won" in str(replies.acks[-1]["blocks"])
    assert slash("watch ") and replies.acks[-1]["text"].startswith("Sorry, I can't do that:")
    assert slash("unwatch 7") and replies.acks[-1]["text"] == "No saved question 7 in this channel."
    assert slash("unwatch 1") and replies.acks[-1]["text"] == "Removed saved question 1."
    assert slash("brief 2026-12-01")
    commands._work.shutdown(wait=True)
    (brief,) = replies.responses
    assert "Cup final" in str(brief["blocks"]) and "Plant" not in str(brief["blocks"])
    assert brief["response_type"] == "in_channel"


def test_an_alert_is_posted_to_the_channel_it_was_saved_in() -> None:
    replies = Replies()
    commands = SlackWatchCommands(WatchService(WatchStore(Path(":memory:")), newsroom), replies)
    answer = Answer(question="q", answer="Yes. [1]", abstained=False,
                    citations=(Citation(1, passage("a")),), passages=(passage("a"),))
    commands.post_alert(Alert(Watch(1, "q", channel=None), "new", answer, ("a",), ("a",)))
    assert replies.posted == []  # saved without a channel: the CLI prints it
    commands.post_alert(Alert(Watch(1, "q", channel="D42"), "new", answer, ("a",), ("a",)))
    (posted,) = replies.posted
    assert posted["channel"] == "D42" and posted["text"].startswith("New for “q”")
