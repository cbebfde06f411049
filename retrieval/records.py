"""Answer-side records: passages, citations and the Answer contract (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ingest.model.records import ChunkMeta
from retrieval.question.time_window import TimeWindow, day_label

# Where else a wire story ran: the first few are named in a source line, the rest counted.
MAX_REPRINTS_SHOWN = 5
# What every answerer says, in every front end, when the articles do not answer.
ABSTENTION = "The articles don't say."


@dataclass(frozen=True)
class Reprint:
    """Another copy of a wire story, shown as "also ran in": where, and under whose byline."""

    article_id: str
    source: str | None = None
    author: str | None = None
    url: str | None = None

    @property
    def label(self) -> str:
        where = self.source or self.url or self.article_id
        return f"{where} ({self.author})" if self.author else where

    def as_dict(self) -> dict[str, Any]:
        return {"article_id": self.article_id, "source": self.source, "author": self.author,
                "url": self.url}


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with what a reader needs to judge and open it."""

    chunk_id: str
    article_id: str
    title: str
    text: str
    score: float
    url: str | None = None
    source: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    author: str | None = None
    # The wire story's group (its first copy's id) and the other copies of it in the store.
    group: str = ""
    reprints: tuple[Reprint, ...] = ()

    @classmethod
    def of(cls, chunk_id: str, text: str, meta: ChunkMeta, score: float) -> Passage:
        return cls(chunk_id=chunk_id, article_id=meta.article_id, title=meta.title, text=text,
                   score=float(score), url=meta.url, source=meta.source,
                   published=meta.published, updated=meta.updated, author=meta.author,
                   group=meta.group)

    @property
    def details(self) -> list[str]:
        """Source, publication date and revision date, where known, for display."""
        date = day_label(self.published) if self.published else None
        revised = f"updated {day_label(self.updated)}" if self.updated else None
        return [x for x in (self.source, date, revised) if x]

    @property
    def also_ran(self) -> str:
        """"also ran in: AFP (Jean Dupont), Reuters" — empty without reprints."""
        if not self.reprints:
            return ""
        shown = ", ".join(r.label for r in self.reprints[:MAX_REPRINTS_SHOWN])
        more = len(self.reprints) - MAX_REPRINTS_SHOWN
        return f"also ran in: {shown}" + (f" and {more} more" if more > 0 else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "article_id": self.article_id,
            "title": self.title,
            "url": self.url,
            "source": self.source,
            "published": self.published.isoformat() if self.published else None,
            "updated": self.updated.isoformat() if self.updated else None,
            "author": self.author,
            "also_ran_in": [r.as_dict() for r in self.reprints],
            "chunk_id": self.chunk_id,
            "text": self.text,
            "score": round(self.score, 4),
        }


def closest_articles(passages: Sequence[Passage], limit: int = 3) -> list[Passage]:
    """The best passage of each of the first `limit` distinct articles, in rank order."""
    unique: dict[str, Passage] = {}
    for passage in passages:
        unique.setdefault(passage.article_id, passage)
    return list(unique.values())[:limit]


@dataclass(frozen=True)
class Citation:
    """Citation number `n` as it appears in the answer text, and the passage behind it."""

    n: int
    passage: Passage

    def as_dict(self) -> dict[str, Any]:
        return {"n": self.n, **self.passage.as_dict()}


@dataclass(frozen=True)
class AnswerSpan:
    """The value the question asked for (an amount, a date, a name...) and the citation
    number `n` of the sentence it was found in. `confidence` is the lead model's probability
    (0..1) that it is the right value; only when `shown` does the answer lead with it (the
    answer text then starts with `text`, or with `text, as of <as_of>`), in bold where the
    medium has bold. `as_of` is the date the value holds as of (the newest version)."""

    text: str
    n: int
    confidence: float = 1.0
    shown: bool = True
    as_of: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "n": self.n, "confidence": round(self.confidence, 3),
                "shown": self.shown, "as_of": self.as_of.isoformat() if self.as_of else None}


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    abstained: bool
    citations: tuple[Citation, ...]
    passages: tuple[Passage, ...]
    timings: dict[str, float] = field(default_factory=dict)
    # Set when the configured answerer failed and a fallback produced this answer.
    note: str | None = None
    # The asked-for value, when the answer found one; the answer leads with it only when
    # `answer_span.shown`.
    answer_span: AnswerSpan | None = None
    # The publication window the passages were retrieved from (the question's time words,
    # or --since/--until); front ends show its label above the answer.
    window: TimeWindow | None = None
    # How the answerer decided (the extractive answerer's Trace, as a dict): `ask --explain`.
    trace: dict[str, Any] | None = None

    @property
    def lead(self) -> str | None:
        """The value the answer text starts with, when it leads with one."""
        span = self.answer_span
        return span.text if span is not None and span.shown else None

    def as_dict(self, explain: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "answer_span": self.answer_span.as_dict() if self.answer_span else None,
            "window": self.window.as_dict() if self.window else None,
            "citations": [c.as_dict() for c in self.citations],
            "passages": [p.as_dict() for p in self.passages],
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }
        if self.note:
            data["note"] = self.note
        if explain:
            data["trace"] = self.trace
        return data
