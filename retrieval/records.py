"""Answer-side records: passages, citations and the Answer contract (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ingest.records import ChunkMeta

# What every answerer says, in every front end, when the articles do not answer.
ABSTENTION = "The articles don't say."


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

    @classmethod
    def of(cls, chunk_id: str, text: str, meta: ChunkMeta, score: float) -> Passage:
        return cls(chunk_id=chunk_id, article_id=meta.article_id, title=meta.title, text=text,
                   score=float(score), url=meta.url, source=meta.source,
                   published=meta.published)

    @property
    def details(self) -> list[str]:
        """Source and publication date, where known, for display."""
        date = self.published.date().isoformat() if self.published else None
        return [x for x in (self.source, date) if x]

    def as_dict(self) -> dict[str, Any]:
        return {
            "article_id": self.article_id,
            "title": self.title,
            "url": self.url,
            "source": self.source,
            "published": self.published.isoformat() if self.published else None,
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
    """The value the question asked for (an amount, a date, a name...), as the answer leads
    with it, and the citation number of the sentence it was taken from."""

    text: str
    n: int

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "n": self.n}


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
    # Set when the answer leads with the asked-for value: `answer` starts with its text.
    answer_span: AnswerSpan | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "answer_span": self.answer_span.as_dict() if self.answer_span else None,
            "citations": [c.as_dict() for c in self.citations],
            "passages": [p.as_dict() for p in self.passages],
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }
        if self.note:
            data["note"] = self.note
        return data


Turn = tuple[str, str]  # (question, answer)


