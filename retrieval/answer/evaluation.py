"""Scoring a question set (pure). Rules follow the bbc-qa README:

- hit@k: for every evidence item, a passage among the top k comes from that item's doc;
  evidence recall@k additionally needs the whitespace-normalised quote inside such a passage.
- MRR@10: reciprocal rank of the first passage from the first evidence doc.
- answer: correct when the normalised gold answer or an alias appears in the answer (as whole
  words); an unanswerable question is correct when the bot abstains.
- citation precision: the share of cited passages that come from an evidence doc.
- lead: the gold answer (or an alias) appears before the first citation marker — what a
  reader takes in first; over answerable questions.
- words: the length of an answer that was given (markers not counted), mean over them.
- lead_shown / lead_precision: the share of answered questions whose answer leads with a value
  (in bold), and the share of those values that match the gold answer (a value shown for an
  unanswerable question is wrong).
"""

from __future__ import annotations

import re
import string
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from retrieval.records import Answer

UNANSWERABLE = "unanswerable"


class EvidenceItem(BaseModel):
    doc: str
    quote: str = ""


class EvalQuestion(BaseModel):
    id: str
    question: str
    type: str = "factoid"
    answer: str = ""
    aliases: list[str] = Field(default_factory=list)
    evidence: list[EvidenceItem] = Field(default_factory=list)
    history: list[tuple[str, str]] = Field(default_factory=list)
    # The day the question is asked: its time words ("last week") are read relative to it.
    as_of: date | None = None

    @property
    def answerable(self) -> bool:
        return self.type != UNANSWERABLE and bool(self.answer)


_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans(dict.fromkeys(string.punctuation + "“”‘’", " "))


def normalise_answer(text: str) -> str:
    """SQuAD-style: lower case, punctuation and articles removed, whitespace collapsed."""
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCT)).split())


def answer_matches(answer: str, gold: str, aliases: Iterable[str] = ()) -> bool:
    haystack = f" {normalise_answer(answer)} "
    for candidate in (gold, *aliases):
        needle = normalise_answer(candidate)
        if needle and f" {needle} " in haystack:
            return True
    return False


_CITATION = re.compile(r"\[\d+(?:\s*,\s*\d+)*\]")


def _ws(text: str) -> str:
    return " ".join(text.split())


@dataclass
class QuestionScore:
    id: str
    type: str
    answerable: bool
    hit: dict[int, bool] = field(default_factory=dict)
    evidence_recall: bool = False
    reciprocal_rank: float = 0.0
    correct: bool = False
    abstained: bool = False
    cited: int = 0
    cited_relevant: int = 0
    lead: bool = False
    words: int | None = None  # None for an abstention
    lead_shown: bool = False
    lead_right: bool = False


def score_question(item: EvalQuestion, answer: Answer, ks: Sequence[int],
                   recall_k: int) -> QuestionScore:
    docs = [p.article_id for p in answer.passages]
    score = QuestionScore(item.id, item.type, item.answerable, abstained=answer.abstained)
    if item.evidence:
        for k in ks:
            top = set(docs[:k])
            score.hit[k] = all(e.doc in top for e in item.evidence)
        top_passages = answer.passages[:recall_k]
        score.evidence_recall = all(
            any(p.article_id == e.doc and _ws(e.quote) in _ws(p.text) for p in top_passages)
            for e in item.evidence
        )
        first_doc = item.evidence[0].doc
        for rank, doc in enumerate(docs[:10], start=1):
            if doc == first_doc:
                score.reciprocal_rank = 1.0 / rank
                break
        evidence_docs = {e.doc for e in item.evidence}
        score.cited = len(answer.citations)
        score.cited_relevant = sum(c.passage.article_id in evidence_docs for c in answer.citations)
    if not answer.abstained:
        score.words = len(_CITATION.sub(" ", answer.answer).split())
        if answer.lead is not None:
            score.lead_shown = True
            score.lead_right = item.answerable and answer_matches(answer.lead, item.answer,
                                                                  item.aliases)
    if item.answerable:
        score.correct = not answer.abstained and answer_matches(answer.answer, item.answer,
                                                                item.aliases)
        first_marker = _CITATION.search(answer.answer)
        lead = answer.answer[: first_marker.start()] if first_marker else answer.answer
        score.lead = score.correct and answer_matches(lead, item.answer, item.aliases)
    else:
        score.correct = answer.abstained
    return score


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def summarise(scores: Sequence[QuestionScore], ks: Sequence[int], recall_k: int
              ) -> dict[str, Any]:
    def block(group: Sequence[QuestionScore]) -> dict[str, Any]:
        retrieval = [s for s in group if s.hit]
        answerable = [s for s in group if s.answerable]
        unanswerable = [s for s in group if not s.answerable]
        cited = sum(s.cited for s in retrieval)
        data: dict[str, Any] = {"questions": len(group)}
        for k in ks:
            data[f"doc_hits@{k}"] = _mean([float(s.hit[k]) for s in retrieval])
        data[f"evidence_recall@{recall_k}"] = _mean([float(s.evidence_recall) for s in retrieval])
        data["mrr@10"] = _mean([s.reciprocal_rank for s in retrieval])
        data["answer_accuracy"] = _mean([float(s.correct) for s in answerable])
        data["lead"] = _mean([float(s.lead) for s in answerable])
        answered = [s for s in group if s.words is not None]
        data["lead_shown"] = _mean([float(s.lead_shown) for s in answered])
        data["lead_precision"] = _mean([float(s.lead_right) for s in answered if s.lead_shown])
        data["words_mean"] = _mean([float(s.words) for s in group if s.words is not None])
        data["abstention_accuracy"] = _mean([float(s.abstained) for s in unanswerable])
        data["false_abstention_rate"] = _mean([float(s.abstained) for s in answerable])
        data["citation_precision"] = (round(sum(s.cited_relevant for s in retrieval) / cited, 4)
                                      if cited else None)
        return data

    by_type: dict[str, list[QuestionScore]] = defaultdict(list)
    for s in scores:
        by_type[s.type].append(s)
    return {"overall": block(scores),
            "by_type": {t: block(group) for t, group in sorted(by_type.items())}}


# -- news-aware checks (the dated fixture set: tests/fixtures/newsroom-questions.jsonl) --------


class NewsQuestion(BaseModel):
    """A time-bounded question ("window": the label its window must have) or a question about
    the latest version of a story ("latest"); `expect` is part of the id of the article that
    must be cited (first, for "latest")."""

    question: str
    kind: str
    expect: str
    window: str = ""


def answered_inside_window(answer: Answer) -> bool:
    """The answer used a window and cites only articles published inside it."""
    return (answer.window is not None and not answer.abstained and bool(answer.citations)
            and all(answer.window.contains(c.passage.published) for c in answer.citations))


def news_check(question: NewsQuestion, answer: Answer) -> bool:
    if not answer.citations or answer.abstained:
        return False
    cited = [c.passage.article_id for c in answer.citations]
    if question.kind == "window":
        return (answered_inside_window(answer) and answer.window is not None
                and answer.window.label == question.window
                and any(question.expect in article for article in cited))
    return question.expect in cited[0]
