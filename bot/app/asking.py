"""One way to ask: the request every front end sends, and the desk that serves it.

Every front end turns what it received into a `Request` with `read_request` (each value read
by bot.app.user_values: the same limits, words and RequestErrors everywhere) and calls the
`Desk` with its route label, which counts the request in the metrics under that route.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.app.user_values import (
    K_PROBLEM,
    check_typed_k,
    read_history,
    read_k,
    read_moment,
    read_question,
    read_sources,
    shown,
)
from config.errors import RequestError
from ingest.model.records import SearchFilter
from retrieval.answer.answerers import TokenSink
from retrieval.news.story_changes import ChangeReport
from retrieval.question.history import Turn
from retrieval.question.time_window import TimeWindow
from retrieval.records import Answer, Passage

log = logging.getLogger(__name__)

class _Fields(BaseModel):
    """The request as it arrives (JSON body, query string, flags, tool arguments)."""

    model_config = ConfigDict(extra="forbid", strict=False)

    question: str
    history: list[tuple[str, str]] = Field(default_factory=list)
    k: int | None = None
    source: list[str] | str | None = None
    since: str | None = None
    until: str | None = None
    # The moment the question's time words are read from ("last week"); default now.
    as_of: str | None = None
    # Include the answerer's trace (as `ask --explain --json`).
    explain: bool = False
    # Read the question's time words ("last week") as its window; false: every date (the web
    # page's "remove the window" asks again so, with no since/until).
    time_words: bool = True


@dataclass(frozen=True)
class Request:
    """A validated request: `question` stripped and within MAX_QUESTION_CHARS, `k` in
    1..MAX_K or None (the settings' k), `where` the sources and the since/until window (until
    inclusive of its whole day), `as_of` the moment time words are read from (None: now)."""

    question: str
    history: tuple[Turn, ...] = ()
    k: int | None = None
    where: SearchFilter = field(default_factory=SearchFilter)
    as_of: datetime | None = None
    explain: bool = False
    time_words: bool = True

    def filters(self) -> dict[str, Any]:
        """What the request itself restricts (not what the question's words inferred):
        `{"sources": [...], "since": iso | None, "until": iso | None, "as_of": iso | None,
        "time_words": bool}`; the web page shows these as chips."""
        where = self.where
        return {"sources": list(where.sources),
                "since": where.since.isoformat() if where.since else None,
                "until": where.until.isoformat() if where.until else None,
                "as_of": self.as_of.isoformat() if self.as_of else None,
                "time_words": self.time_words}


def read_request(data: Mapping[str, Any], *, name: str = "question",
                 typed: bool = False) -> Request:
    """A `Request` from what a front end received, or a RequestError naming the first field at
    fault. `name` is what the front end calls the question ("q" for /api/search, "topic"
    for a timeline), so that errors use the name the user typed. `typed`: the values come
    with their JSON types, which must then be the fields' own (`"k": "5"` and `"explain":
    "yes"` are mistakes there; a query string or a flag gives every value as text)."""
    if typed:
        _check_types(data)
    try:
        fields = _Fields.model_validate(dict(data))
    except ValidationError as exc:
        problem = exc.errors()[0]
        place = ".".join(str(p) for p in problem["loc"]) or "request"
        if place == "question":
            place = name
        if place == "k" or place.startswith("k."):
            raise RequestError("k", K_PROBLEM) from None
        raise RequestError(place, str(problem["msg"]).lower()) from None
    question = read_question(name, fields.question)
    k = read_k(fields.k)
    history = read_history(fields.history)
    as_of = read_moment("as_of", fields.as_of, None, end_of_day=False)
    sources = read_sources(fields.source)
    since = read_moment("since", fields.since, as_of, end_of_day=False)
    until = read_moment("until", fields.until, as_of, end_of_day=True)
    if since is not None and until is not None and until < since:
        raise RequestError("until", f"{shown(fields.until or '')} is before since "
                                    f"{shown(fields.since or '')}")
    where = SearchFilter(sources=sources, since=since, until=until)
    return Request(question=question, history=history, k=k, where=where,
                   as_of=as_of, explain=fields.explain, time_words=fields.time_words)


def _check_types(data: Mapping[str, Any]) -> None:
    check_typed_k(data.get("k"))
    for flag in ("explain", "time_words"):
        if flag in data and not isinstance(data[flag], bool):
            raise RequestError(flag, "must be true or false")


# -- the desk -----------------------------------------------------------------------------------


class Engine(Protocol):
    """What the desk asks (retrieval.engine.AnswerEngine)."""

    def ask(self, question: str, history: Sequence[Turn] = (), *, k: int | None = None,
            where: SearchFilter | None = None, on_token: TokenSink | None = None,
            as_of: datetime | None = None, time_words: bool = True) -> Answer: ...

    def search(self, question: str, *, k: int | None = None,
               where: SearchFilter | None = None) -> list[Passage]: ...

    def timeline(self, topic: str, *, where: SearchFilter | None = None,
                 as_of: datetime | None = None) -> Answer: ...

    def windowed(self, question: str, where: SearchFilter | None, as_of: datetime | None
                 ) -> tuple[str, SearchFilter | None]: ...

    def changes(self, target: str, *, where: SearchFilter | None = None) -> ChangeReport: ...


class Recorder(Protocol):
    """Where requests are counted (bot.app.metrics.Metrics)."""

    def answered(self, route: str, answer: Answer | None, seconds: float) -> None: ...

    def served(self, route: str, operation: str, outcome: str, seconds: float) -> None: ...


@dataclass(frozen=True)
class Found:
    """Passages for a search, best first, and the window the query's time words set."""

    passages: list[Passage]
    window: TimeWindow | None


class Desk:
    """Every front end's way to the engine: ask, search, timeline, changes, stats; each
    counted under the caller's `route` ("cli", "api", "mcp", "slack") with its outcome and
    duration.

    Give `engine`, or `build` to make it on first use and again after it failed (a store that
    was down when the server started), so that a front end can start before its store.
    """

    def __init__(self, engine: Engine | None = None, *,
                 build: Callable[[], Engine] | None = None,
                 stats: Callable[[], dict[str, Any]] | None = None,
                 recorder: Recorder | None = None) -> None:
        if (engine is None) == (build is None):
            raise TypeError("give either engine or build")
        self._engine = engine
        self._build = build
        self._lock = threading.Lock()
        self._stats = stats
        self.recorder = recorder

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            with self._lock:
                if self._engine is None and self._build is not None:
                    self._engine = self._build()
        if self._engine is None:
            raise RuntimeError("the desk has no engine")
        return self._engine

    def ask(self, request: Request, route: str, on_token: TokenSink | None = None) -> Answer:
        """The engine's answer to `request` (timelines for "timeline of …" questions)."""
        started = time.perf_counter()
        answer: Answer | None = None
        try:
            answer = self.engine.ask(request.question, request.history, k=request.k,
                                     where=_where(request), on_token=on_token,
                                     as_of=request.as_of, time_words=request.time_words)
            return answer
        finally:
            self._answered(route, answer, started)

    def timeline(self, request: Request, route: str) -> Answer:
        """The dated developments of `request.question` (a topic), oldest first."""
        started = time.perf_counter()
        answer: Answer | None = None
        try:
            answer = self.engine.timeline(request.question, where=_where(request),
                                          as_of=request.as_of)
            return answer
        finally:
            self._answered(route, answer, started)

    def changes(self, request: Request, route: str) -> ChangeReport:
        """What changed in the article or story `request.question` names (an article id or
        URL, or a topic), cited to its versions (retrieval/news/story_changes.py)."""
        started = time.perf_counter()
        report: ChangeReport | None = None
        try:
            report = self.engine.changes(request.question, where=_where(request))
            return report
        finally:
            self._answered(route, report.answer if report is not None else None, started)

    def search(self, request: Request, route: str) -> Found:
        """Ranked passages; the query's time words ("last week") set the window, as in ask,
        unless the request gives since/until."""
        started = time.perf_counter()
        outcome = "error"
        try:
            engine = self.engine
            asked, where = engine.windowed(request.question, _where(request), request.as_of)
            passages = engine.search(asked, k=request.k, where=where)
            outcome = "found" if passages else "empty"
            window = (TimeWindow(where.since, where.until)
                      if where is not None and (where.since or where.until) else None)
            return Found(passages, window)
        finally:
            self._served(route, "search", outcome, started)

    def stats(self, route: str) -> dict[str, Any]:
        started = time.perf_counter()
        outcome = "error"
        try:
            if self._stats is None:
                raise RuntimeError("this desk has no store statistics")
            data = self._stats()
            outcome = "ok"
            return data
        finally:
            self._served(route, "stats", outcome, started)

    def rejected(self, route: str, operation: str) -> None:
        """Count a request its front end refused (a RequestError) before it reached here."""
        self._served(route, operation, "rejected", time.perf_counter())

    def _answered(self, route: str, answer: Answer | None, started: float) -> None:
        if self.recorder is not None:
            self.recorder.answered(route, answer, time.perf_counter() - started)

    def _served(self, route: str, operation: str, outcome: str, started: float) -> None:
        if self.recorder is not None:
            self.recorder.served(route, operation, outcome, time.perf_counter() - started)


def _where(request: Request) -> SearchFilter | None:
    return None if request.where.empty else request.where
