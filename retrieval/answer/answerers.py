"""Answerers turn a question and ranked passages into a draft with `[n]` markers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from retrieval.answer.candidates import Similarity
from retrieval.answer.compose import abstention_text, compose
from retrieval.answer.extractive import find_evidence
from retrieval.answer.extractive_config import ExtractiveConfig
from retrieval.question.intent import Asked
from retrieval.question.reading import TermAnalyzer
from retrieval.records import Passage

TokenSink = Callable[[str], None]


@dataclass(frozen=True)
class Draft:
    """An answer before citation checking: markers number `passages` from 1. `span` is the
    asked-for value the text leads with, taken from passage number `span_marker`."""

    text: str
    abstained: bool
    note: str | None = None
    span: str | None = None
    span_marker: int | None = None
    # The lead model's probability that `span` is right, and whether the text leads with it.
    span_confidence: float = 1.0
    span_shown: bool = True
    as_of: datetime | None = None
    trace: dict[str, Any] | None = None


class Answerer(Protocol):
    """Answers `asked` (the question, what its conversation adds, the question a follow-up
    follows: retrieval.question.intent.Asked) from `passages`, numbered from 1."""

    def answer(self, asked: Asked, passages: Sequence[Passage],
               on_token: TokenSink | None = None) -> Draft: ...


class ExtractiveAnswerer:
    """The offline default: selected sentences with citations, or an abstention."""

    def __init__(self, analyzer: Callable[[], TermAnalyzer], config: ExtractiveConfig,
                 similarity: Similarity | None = None) -> None:
        self._analyzer = analyzer  # called per answer: the BM25 index may have been rebuilt
        self.config = config
        self._similarity = similarity

    def answer(self, asked: Asked, passages: Sequence[Passage],
               on_token: TokenSink | None = None) -> Draft:
        evidence = find_evidence(asked.text, passages, self._analyzer(), self.config,
                                 asked.context, self._similarity, asked.earlier, asked.described)
        trace = evidence.trace.as_dict() if evidence.trace is not None else None
        if evidence.abstain:
            return Draft(abstention_text(passages), abstained=True, trace=trace)
        text = compose(evidence, self.config.max_words)
        if on_token:
            on_token(text)
        if evidence.missing:
            # What the articles do say, cited, but not an answer to this question.
            return Draft(text, abstained=True, trace=trace)
        marker = evidence.chosen[0].passage_index + 1
        return Draft(text, abstained=False, span=evidence.span,
                     span_marker=marker if evidence.span else None,
                     span_confidence=evidence.span_confidence, span_shown=evidence.span_shown,
                     as_of=evidence.as_of, trace=trace)
