"""Answers given in Slack and the 👍/👎 votes on them, in SQLite under the data directory."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.sqlite_file import SqliteFile
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
