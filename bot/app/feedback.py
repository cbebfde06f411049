"""Answers given in Slack and on the web page and the 👍/👎 votes on them, in SQLite under the
data directory."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.app.sqlite_file import SqliteFile
from bot.app.user_values import MAX_K, MAX_QUESTION_CHARS, MAX_TURN_CHARS
from config.errors import RequestError
from retrieval.records import Answer

_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    channel TEXT NOT NULL, message_ts TEXT NOT NULL, question TEXT NOT NULL,
    answer TEXT NOT NULL, citations TEXT NOT NULL, abstained INTEGER NOT NULL,
    created_at TEXT NOT NULL, PRIMARY KEY (channel, message_ts));
CREATE TABLE IF NOT EXISTS votes (
    id INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL, message_ts TEXT NOT NULL,
    user TEXT NOT NULL, vote TEXT NOT NULL CHECK (vote IN ('up', 'down')),
    message_text TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL);
"""


class FeedbackStore(SqliteFile):
    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        super().__init__(path, _SCHEMA, "feedback")

    def record_answer(self, channel: str, message_ts: str, answer: Answer) -> None:
        citations = json.dumps([c.as_dict() for c in answer.citations], ensure_ascii=False)
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)",
                (channel, message_ts, answer.question, answer.answer, citations,
                 int(answer.abstained), _now()),
            )

    def record_vote(self, channel: str, message_ts: str, user: str, vote: str,
                    message_text: str = "") -> None:
        """A vote; `message_text` stands in for the answer when it was not recorded (replies to
        slash commands go through a response URL and have no message ts up front)."""
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO votes (channel, message_ts, user, vote, message_text, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (channel, message_ts, user, vote, message_text, _now()))

    def record_rated(self, channel: str, message_ts: str, user: str, vote: str,
                     asked: Mapping[str, Any]) -> None:
        """A vote on an answer the server no longer holds (the web page's): `asked` is the
        answer as the page showed it, `{question, answer, citations: [...], abstained}`,
        recorded once per (channel, message_ts) beside the vote, as Slack's answers are."""
        citations = json.dumps(list(asked.get("citations") or []), ensure_ascii=False)
        with self._lock, self._db:
            self._db.execute(
                "INSERT OR IGNORE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?)",
                (channel, message_ts, str(asked.get("question", "")),
                 str(asked.get("answer", "")), citations, int(bool(asked.get("abstained"))),
                 _now()))
            self._db.execute(
                "INSERT INTO votes (channel, message_ts, user, vote, message_text, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)", (channel, message_ts, user, vote, "", _now()))

    def votes(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT v.created_at, v.vote, v.user, v.channel, v.message_ts, a.question, "
                "COALESCE(a.answer, v.message_text), a.citations FROM votes v LEFT JOIN answers a "
                "ON a.channel = v.channel AND a.message_ts = v.message_ts ORDER BY v.id"
            ).fetchall()
        keys = ("created_at", "vote", "user", "channel", "message_ts", "question", "answer",
                "citations")
        out = []
        for row in rows:
            item = dict(zip(keys, row, strict=True))
            item["citations"] = json.loads(item["citations"]) if item["citations"] else []
            out.append(item)
        return out



def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class _WebVote(BaseModel):
    """A vote the web page sends: which answer (an id the page made), the vote, and the
    answer as it was shown."""

    model_config = ConfigDict(extra="forbid")

    answer_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    vote: Literal["up", "down"]
    question: str = Field(max_length=MAX_QUESTION_CHARS)
    answer: str = Field(max_length=MAX_TURN_CHARS)
    abstained: bool = False
    citations: list[dict[str, Any]] = Field(default_factory=list, max_length=MAX_K)


def read_web_vote(data: Mapping[str, Any]) -> dict[str, Any]:
    """The vote in a /api/feedback body, as `{answer_id, vote, question, answer, abstained,
    citations}` (each citation cut to `n`, `article_id`, `title` and `url`); RequestError
    naming the first field at fault."""
    try:
        vote = _WebVote.model_validate(dict(data))
    except ValidationError as exc:
        problem = exc.errors()[0]
        place = ".".join(str(p) for p in problem["loc"]) or "request"
        raise RequestError(place, str(problem["msg"]).lower()) from None
    kept = ("n", "article_id", "title", "url")
    return {**vote.model_dump(), "citations": [
        {k: c.get(k) for k in kept if isinstance(c.get(k), str | int | None)}
        for c in vote.citations]}
