"""Saved questions: their state in SQLite under the data directory, and the check that runs
after every ingest (the rules are retrieval/news/alerts.py's).

The check asks each saved question only when the passages its answer would be read from
include an article the ingest added or updated (one hybrid search per question, no
answerer), then asks it as usual and keeps the answer when `decide` says it is news.
"""

from __future__ import annotations

import builtins
import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bot.app.sqlite_file import SqliteFile
from ingest.embed.embedder import Embedder
from ingest.model.records import IngestSummary, SearchFilter
from retrieval.news.alerts import Alert, Watch, decide, worth_asking
from retrieval.news.story_changes import VersionStore, last_change
from retrieval.records import Answer, Passage

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS watches (
    id INTEGER PRIMARY KEY AUTOINCREMENT, question TEXT NOT NULL, channel TEXT,
    sources TEXT NOT NULL DEFAULT '[]', created_at TEXT NOT NULL, last_answer TEXT);
CREATE TABLE IF NOT EXISTS alerted (
    watch_id INTEGER NOT NULL REFERENCES watches(id) ON DELETE CASCADE,
    story TEXT NOT NULL, answer TEXT NOT NULL, kind TEXT NOT NULL, sent_at TEXT NOT NULL,
    PRIMARY KEY (watch_id, story));
"""


class WatchStore(SqliteFile):
    """Saved questions and what was sent for each (per wire story), in one SQLite file.
    Safe to share between threads of one process (a refresh thread and a bot)."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        super().__init__(path, _SCHEMA, "saved questions")

    def add(self, question: str, channel: str | None = None,
            sources: Sequence[str] = ()) -> Watch:
        """Save a question; ValueError when it is empty."""
        question = " ".join(question.split())
        if not question:
            raise ValueError("a saved question cannot be empty")
        created = _now()
        with self._lock, self._db:
            cursor = self._db.execute(
                "INSERT INTO watches (question, channel, sources, created_at) VALUES (?, ?, ?, ?)",
                (question, channel, json.dumps(list(sources)), created))
        return Watch(int(cursor.lastrowid or 0), question, channel, tuple(sources), created)

    def list(self, channel: str | None = None) -> list[Watch]:
        """Every saved question, oldest first; with `channel`, only that channel's."""
        query = "SELECT id, question, channel, sources, created_at, last_answer FROM watches"
        args: tuple[str, ...] = ()
        if channel is not None:
            query, args = query + " WHERE channel = ?", (channel,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY id", args).fetchall()
        return [Watch(row[0], row[1], row[2], tuple(json.loads(row[3])), row[4], row[5])
                for row in rows]

    def remove(self, watch_id: int, channel: str | None = None) -> bool:
        """Delete a saved question (only if it is `channel`'s, when given); False if none."""
        query = "DELETE FROM watches WHERE id = ?"
        args: list[int | str] = [watch_id]
        if channel is not None:
            query, args = query + " AND channel = ?", [watch_id, channel]
        with self._lock, self._db:
            return self._db.execute(query, args).rowcount > 0

    def alerted(self, watch_id: int) -> dict[str, str]:
        """Story group → the answer sent for it, for one saved question."""
        with self._lock:
            rows = self._db.execute("SELECT story, answer FROM alerted WHERE watch_id = ?",
                                    (watch_id,)).fetchall()
        return dict(rows)

    def alerts(self, channel: str | None = None, limit: int = 50
               ) -> builtins.list[dict[str, Any]]:
        """The alerts sent, newest first (one per saved question and time sent, however many
        stories it covered): `{watch, question, channel, kind, answer, sent_at, stories}`;
        with `channel`, only that channel's saved questions'."""
        query = ("SELECT a.watch_id, w.question, w.channel, a.kind, a.answer, a.sent_at, "
                 "COUNT(*) FROM alerted a JOIN watches w ON w.id = a.watch_id")
        args: list[Any] = []
        if channel is not None:
            query, args = query + " WHERE w.channel = ?", [channel]
        query += (" GROUP BY a.watch_id, a.sent_at, a.kind, a.answer"
                  " ORDER BY a.sent_at DESC, a.watch_id DESC LIMIT ?")
        with self._lock:
            rows = self._db.execute(query, [*args, limit]).fetchall()
        keys = ("watch", "question", "channel", "kind", "answer", "sent_at", "stories")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def record(self, alert: Alert) -> None:
        """Remember an alert as sent: its answer for the question and for each story."""
        now = _now()
        with self._lock, self._db:
            self._db.execute("UPDATE watches SET last_answer = ? WHERE id = ?",
                             (alert.answer.answer, alert.watch.id))
            self._db.executemany(
                "INSERT OR REPLACE INTO alerted VALUES (?, ?, ?, ?, ?)",
                [(alert.watch.id, story, alert.answer.answer, alert.kind, now)
                 for story in alert.stories])



class WatchEngine(Protocol):
    """What the check needs from the answer engine (retrieval.engine.AnswerEngine)."""

    answer_passages: int

    def windowed(self, question: str, where: SearchFilter | None, as_of: datetime | None
                 ) -> tuple[str, SearchFilter | None]: ...

    def search(self, question: str, *, k: int | None = None,
               where: SearchFilter | None = None) -> list[Passage]: ...

    def ask(self, question: str, *, where: SearchFilter | None = None,
            as_of: datetime | None = None) -> Answer: ...


Notify = Callable[[Alert], None]
# A question is asked when one of its best GATE_PASSAGES passages is of a changed story:
# the answer's sentence comes from the top of the ranking (bench/alerts.py measures what a
# gate of all six passages the answerer reads adds, and what it finds).
GATE_PASSAGES = 3


class MemoEmbedder:
    """An Embedder that remembers the vectors it made, by text: within one check every
    saved question is embedded once (all in one call, by `prime`) though it is searched
    twice, and a sentence read for several questions once. `clear` forgets them."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self.name = inner.name
        self._vectors: dict[str, np.ndarray] = {}

    @property
    def max_tokens(self) -> int:
        return self._inner.max_tokens

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self._inner.count_tokens(texts)

    def prime(self, texts: Sequence[str]) -> None:
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, self._inner.embed(missing), strict=True))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.prime(texts)
        return np.asarray([self._vectors[t] for t in texts])

    def clear(self) -> None:
        self._vectors.clear()


MAX_CHANGE_LINES = 5  # of what an update changed, in its alert


class WatchChecker:
    """Checks every saved question against what an ingest changed; an ingest's `after` step.
    The engine is built on first need (an ingest that changed nothing, or a store without
    saved questions, loads nothing), with `embedder()`'s model behind a MemoEmbedder. Each
    alert is recorded as sent, handed to every `notify` (Slack; read at each alert, so that
    one added by a front end started later is included), and listed in the summary's
    `alerts`."""

    def __init__(self, watches: WatchStore, engine: Callable[[Embedder], WatchEngine],
                 embedder: Callable[[], Embedder], notify: Sequence[Notify] = (),
                 gate: int | None = GATE_PASSAGES,
                 versions: VersionStore | None = None) -> None:
        self._watches = watches
        # How many of the best passages must hold a changed story for the question to be
        # asked (None: all that the answerer reads).
        self._gate = gate
        self._engine_factory = engine
        self._embedder = embedder
        self._memo: MemoEmbedder | None = None
        self._engine: WatchEngine | None = None
        self._notify = notify
        self._versions = versions
        self.asked = 0  # saved questions the last check asked (past the retrieval gate)

    def __call__(self, summary: IngestSummary) -> None:
        alerts = self.check({**summary.unchecked, **summary.changed})
        summary.alerts.extend(alert.as_dict() for alert in alerts)

    def check(self, changed: Mapping[str, str], as_of: datetime | None = None) -> list[Alert]:
        """The alerts for these added/updated articles (article id → "added"/"updated")."""
        self.asked = 0
        if not changed:
            return []
        watches = self._watches.list()
        if not watches:
            return []
        if self._engine is None or self._memo is None:
            self._memo = MemoEmbedder(self._embedder())
            self._engine = self._engine_factory(self._memo)
        engine, memo = self._engine, self._memo
        try:
            return self._check(engine, memo, watches, changed, as_of)
        finally:
            memo.clear()

    def _check(self, engine: WatchEngine, memo: MemoEmbedder, watches: list[Watch],
               changed: Mapping[str, str], as_of: datetime | None) -> list[Alert]:
        asked = {w.id: engine.windowed(w.question, _scope(w), as_of) for w in watches}
        memo.prime([question for question, _ in asked.values()])
        alerts = []
        for watch in watches:
            question, where = asked[watch.id]
            ranked = engine.search(question, k=self._gate or engine.answer_passages,
                                   where=where)
            if not worth_asking(ranked, changed):
                continue
            self.asked += 1
            answer = engine.ask(watch.question, where=_scope(watch), as_of=as_of)
            alert = decide(watch, answer, changed, self._watches.alerted(watch.id))
            if alert is None:
                continue
            if alert.kind == "updated" and self._versions is not None:
                alert = replace(alert, changes=self._what_changed(alert, changed))
            self._watches.record(alert)
            alerts.append(alert)
            log.info("alert (%s) for saved question %d: %s", alert.kind, watch.id,
                     ", ".join(alert.articles))
            for send in self._notify:
                try:
                    send(alert)
                except Exception:  # recorded as sent: one failed channel is logged, not retried
                    log.warning("could not deliver the alert for saved question %d", watch.id,
                                exc_info=True)
        log.info("checked %d saved questions against %d changed articles: %d asked, %d alerts",
                 len(watches), len(changed), self.asked, len(alerts))
        return alerts


    def _what_changed(self, alert: Alert, changed: Mapping[str, str]) -> tuple[str, ...]:
        """What the updated articles' new versions changed (at most MAX_CHANGE_LINES)."""
        lines: list[str] = []
        for article_id in alert.articles:
            if changed.get(article_id) != "updated" or self._versions is None:
                continue
            try:
                step = last_change(self._versions, article_id)
            except Exception:  # the alert stands without it
                log.warning("cannot read what changed in %s", article_id, exc_info=True)
                continue
            if step is not None:
                lines += [line for line in step.summary.lines() if line not in lines]
        return tuple(lines[:MAX_CHANGE_LINES])


def _scope(watch: Watch) -> SearchFilter | None:
    return SearchFilter(sources=watch.sources) if watch.sources else None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
