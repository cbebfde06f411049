"""One reading of a question, computed once and passed to every scorer and rule (pure).

What kind of answer it asks for, the terms it is about (IDF-weighted; the conversation's
terms weigh less), the names and numbers that single it out, the dimension a "how tall"
question measures, and its intents: the latest state of a story, how a value changed, a
year rather than any date, a current holder of a role rather than a former one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from ingest.text.vocabulary import (
    CHANGE_WORDS,
    CURRENT_WORDS,
    FORMER_WORDS,
    FRAMING_WORDS,
)
from retrieval.question.answer_types import AnswerType, answer_type, asked_dimension
from retrieval.question.time_window import asks_change, asks_latest
from retrieval.question.two_part import describes_another, describes_first, split_two_part


class TermAnalyzer(Protocol):
    """Index-consistent terms (stemmed, stop-words removed) and their IDF."""

    def terms(self, text: str) -> list[str]: ...

    def idf(self, term: str) -> float: ...


# A question's distinguishing words: a name or a number ("Nestle", "2006"), not the first
# word of the question (capitalised only as such).
_NAME_OR_NUMBER = re.compile(
    r"(?<!^)(?<![.?!]\s)\b([A-Z][a-z][\w'’-]+|[A-Z]{2,}[\w'’-]*|\d[\d,.]{2,}\w*)")
_YEAR_ASKED = re.compile(r"\b(what|which|in what|since what|since which) year\b", re.IGNORECASE)
_CURRENT = re.compile(rf"\b(?:{'|'.join(w for w in CURRENT_WORDS if ' ' not in w)})\b",
                      re.IGNORECASE)
_FORMER = re.compile(rf"\b(?:{'|'.join(FORMER_WORDS)})\b|\bex-", re.IGNORECASE)


@dataclass(frozen=True)
class QuestionReading:
    """`weights` maps each term to its weight (IDF; the conversation's terms scaled down),
    `total` is their sum; `own_terms` are the question's own content terms."""

    text: str
    kind: AnswerType
    weights: Mapping[str, float]
    total: float
    own_terms: frozenset[str]
    names: tuple[str, ...] = ()
    measured: str | None = None
    latest: bool = False
    change: bool = False
    year_asked: bool = False
    score: bool = False  # "what was the score": a result such as 5-4
    role: str | None = None  # "current" or "former" when the question says which
    context: str = ""
    framing: frozenset[str] = field(default_factory=frozenset)
    question_terms: tuple[str, ...] = ()  # the question's terms in order (repeats kept)
    # A question that describes its subject before asking about it ("The channel where a
    # mother confronted Blair - how many complaints did it get?", or a sentence of context
    # then the question): its description's names belong to another article.
    described: bool = False
    # Broader: a relative clause or "the X named ..." singles out the subject by what another
    # article may say (two_part.describes_another).
    compound: bool = False

    @property
    def typed(self) -> bool:
        """Whether the question asks for a value of a kind (an amount, a name...)."""
        return self.kind not in (AnswerType.ANY, AnswerType.REASON)

    def as_dict(self) -> dict[str, object]:
        top = sorted(self.weights.items(), key=lambda kv: -kv[1])
        return {"kind": self.kind.value, "terms": {t: round(w, 2) for t, w in top},
                "names": list(self.names), "measured": self.measured, "latest": self.latest,
                "change": self.change, "year_asked": self.year_asked, "role": self.role,
                "follow_up": bool(self.context)}


def read_question(question: str, analyzer: TermAnalyzer, context: str = "",
                  context_weight: float = 0.4, described: bool | None = None
                  ) -> QuestionReading:
    """Read `question` once; `context` is what the conversation adds (earlier turns), its
    terms weighted by `context_weight` of their IDF. `described`: as the question's Asked
    read it (intent.read_asked); read from the question when None."""
    change = asks_change(question)
    framing = set(analyzer.terms(" ".join(FRAMING_WORDS)))
    if change:
        framing |= set(analyzer.terms(" ".join(CHANGE_WORDS)))
    weights = {t: analyzer.idf(t) * context_weight for t in set(analyzer.terms(context))}
    own = frozenset(analyzer.terms(question)) - framing
    weights.update({t: analyzer.idf(t) for t in own})
    role = None
    if _FORMER.search(question):
        role = "former"
    elif _CURRENT.search(question):
        role = "current"
    return QuestionReading(
        text=question, kind=answer_type(question), weights=weights,
        total=sum(weights.values()), own_terms=own,
        names=tuple(dict.fromkeys(m.group(1) for m in _NAME_OR_NUMBER.finditer(question))),
        measured=asked_dimension(question),
        latest=asks_latest(question), change=change,
        year_asked=bool(_YEAR_ASKED.search(question)), role=role, context=context,
        score=bool(re.search(r"\bscore\b", question, re.IGNORECASE)),
        framing=frozenset(framing), question_terms=tuple(analyzer.terms(question)),
        described=(described if described is not None
                   else describes_first(question, split_two_part(question))),
        compound=describes_another(question))
