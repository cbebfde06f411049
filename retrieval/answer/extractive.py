"""The offline answerer: pick the sentences that answer the question and cite them (pure).

No generative model. Every distinct sentence of the passages is a candidate with named
features (how much of the question its article and its neighbourhood cover, whether it holds
a value of the asked-for kind near the question's words, its semantic similarity, where it
stands...); a logistic model learned from labelled questions (retrieval.answer.scorer, fitted by
bench/train_scorer.py) turns them into the probability that the sentence holds the answer.
The best sentence answers when that probability clears the abstention threshold; the value
in it leads the answer, in bold, only when the lead model is confident enough. Then named
rules run in order (RULES): the latest version of a story wins, news leads first, what the
article does not mention is said. Each step is recorded in a Trace (`ask --explain`).

This module runs those steps (find_evidence); the candidates and their features are
candidates.py's, the rules rules.py's, the answer's text compose.py's, the settings
extractive_config.py's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ingest.text.vocabulary import (
    DATED_BY_ARTICLE_WORDS,
    THIRD_PERSON_PRONOUNS,
    WEEKDAYS,
    alternation,
)
from retrieval.answer.candidates import WORDS, Candidate, Similarity, candidates_of, lead_features
from retrieval.answer.extractive_config import ExtractiveConfig
from retrieval.answer.ranker import RankerInput, RankerProtocol
from retrieval.answer.reader import ReaderInput, ReaderProtocol
from retrieval.answer.rules import READER_RULES, RULES, State, elliptical
from retrieval.answer.scorer import AnswerModel
from retrieval.answer.scoring import FEATURES as ANSWER_FEATURES
from retrieval.answer.scoring import AnswerWeights, bold_features, features
from retrieval.answer.spans import SpanMatch, named_former, shaped_span, value_spans
from retrieval.question.answer_types import AnswerType
from retrieval.question.reading import QuestionReading, TermAnalyzer, read_question
from retrieval.question.time_window import day_label, relative_day
from retrieval.records import Passage

__all__ = ["Evidence", "Trace", "find_evidence", "packaged_model"]


@dataclass(frozen=True)
class Trace:
    """How an answer was reached, for `ask --explain`: the question as read, the best
    candidates with their features and probabilities, the rules that fired, the decision."""

    reading: Mapping[str, Any]
    candidates: tuple[Mapping[str, Any], ...] = ()
    rules: tuple[str, ...] = ()
    decision: str = ""
    lead: Mapping[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"question": dict(self.reading), "candidates": [dict(c) for c in self.candidates],
                "rules": list(self.rules), "decision": self.decision,
                "lead": dict(self.lead) if self.lead is not None else None}


@dataclass(frozen=True)
class Evidence:
    """The chosen sentences (best first); empty when the passages do not answer. `span` is
    the asked-for value in the first of them, `span_confidence` the lead model's probability
    that it is right and `span_shown` whether it clears the threshold (then the answer leads
    with it); `missing` the question's words the best sentence's article lacks, when they
    make it no answer (it is then shown as what the articles do say, not as the answer)."""

    chosen: tuple[Candidate, ...]
    abstain: bool
    span: str | None = None
    missing: tuple[str, ...] = ()
    # The date the answer holds as of: the newer article that replaced an older version, or
    # the answering article when the question asks for the latest.
    as_of: datetime | None = None
    span_confidence: float = 0.0
    span_shown: bool = False
    # Publication dates of the chosen sentences' articles where a sentence dates its event
    # relative to it ("yesterday", "on Monday"): shown beside the sentence.
    dated: Mapping[int, datetime] = field(default_factory=dict)
    trace: Trace | None = None
    # The sentence before the first one when that one refers back with a pronoun ("She
    # replaces Amara Osei…"): shown before it, cited, so the answer names whom it means.
    referent: Candidate | None = None


def find_evidence(question: str, passages: Sequence[Passage], analyzer: TermAnalyzer,
                  config: ExtractiveConfig, context: str = "",
                  similarity: Similarity | None = None, earlier: str | None = None,
                  described: bool | None = None) -> Evidence:
    """The sentences that answer `question` from `passages` (numbered from 0 by
    `passage_index`), or an abstention. `context` is what the conversation adds (earlier
    turns); its terms count for less, and a sentence it already holds counts for less too.
    `earlier` is the question a follow-up follows (the reader reads it with the question);
    `described` as read_question takes it (the engine's reading of the question)."""
    model = config.model if config.model is not None else packaged_model()
    reading = read_question(question, analyzer, context, config.context_term_weight, described)
    if not passages or reading.total <= 0:
        return Evidence((), True, trace=Trace(reading.as_dict(), decision="abstained: no "
                                              "question terms or no passages"))
    candidates = candidates_of(reading, passages, analyzer)
    if not candidates:
        return Evidence((), True, trace=Trace(reading.as_dict(),
                                              decision="abstained: no sentences"))
    around = _around(candidates, passages)
    trained = config.reader is not None and config.ranker is not None \
        and config.weights is not None
    untrained = trained and config.trained_reads is not None \
        and not config.trained_reads(question)
    if trained and not untrained:
        assert config.reader is not None and config.ranker is not None
        assert config.weights is not None
        ranked = _rank_and_read(question, _likeliest(candidates, passages,
                                                     config.ranker_candidates),
                                config.ranker, config.reader, config.weights, earlier,
                                around, passages, reading)
        if earlier and elliptical(reading):
            ranked = _read_for_earlier(earlier, ranked, config.reader, around, passages)
        rules = READER_RULES
    else:
        ranked = _scored(reading, candidates, model, similarity, config.rerank)
        rules = RULES
    state = State(reading, passages, config, model, ranked, analyzer,
                   trained=trained and not untrained)
    if untrained:
        state = state.fire("not_english: scored by the hand-made model (the trained "
                           "answerer reads English only)")
    for rule in rules:
        state = rule(state)
        if state.abstain:
            break
    return _with_referent(_evidence(state), candidates, passages, around)


# A sentence that opens by referring back to someone or something named before it.
_REFERS_BACK = re.compile(rf"^{alternation(THIRD_PERSON_PRONOUNS)}\b", re.IGNORECASE)


def _with_referent(found: Evidence, candidates: Sequence[Candidate],
                   passages: Sequence[Passage],
                   around: Mapping[tuple[str, tuple[int, int]], tuple[str, str]]) -> Evidence:
    """`found`, with the sentence before its first one when that one opens with a pronoun
    and the sentence before is read and not already shown."""
    if found.abstain or not found.chosen or not _REFERS_BACK.match(found.chosen[0].text):
        return found
    first = found.chosen[0]
    article = passages[first.passage_index].article_id
    previous, _ = around.get((article, first.place), ("", ""))
    if not previous or any(c.text == previous for c in found.chosen):
        return found
    referent = next((c for c in candidates if c.text == previous
                     and passages[c.passage_index].article_id == article), None)
    return replace(found, referent=referent) if referent is not None else found


def _around(candidates: Sequence[Candidate], passages: Sequence[Passage]
            ) -> dict[tuple[str, tuple[int, int]], tuple[str, str]]:
    """Each candidate's previous and next sentence in its article, by (article id, place)."""
    order: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        order.setdefault(passages[candidate.passage_index].article_id, []).append(candidate)
    around: dict[tuple[str, tuple[int, int]], tuple[str, str]] = {}
    for article_id, sentences in order.items():
        sentences.sort(key=lambda c: c.place)
        for n, candidate in enumerate(sentences):
            around[(article_id, candidate.place)] = (
                sentences[n - 1].text if n else "",
                sentences[n + 1].text if n + 1 < len(sentences) else "")
    return around


def _likeliest(candidates: list[Candidate], passages: Sequence[Passage], limit: int
               ) -> list[Candidate]:
    """At most `limit` candidates: the first sentence read of each of the top three
    articles (news leads), then those sharing most of the question's words with their
    neighbours and headline; in their original order."""
    if len(candidates) <= limit:
        return candidates
    firsts: dict[str, Candidate] = {}
    for candidate in sorted(candidates, key=lambda c: (c.passage_index, c.place)):
        firsts.setdefault(passages[candidate.passage_index].article_id, candidate)
    leads = {id(c) for c in list(firsts.values())[:3]}
    chosen = {id(c) for c in sorted(candidates, key=lambda c: (
        id(c) in leads, c.coverage + c.features.get("focus", 0.0)
        + 0.1 * c.features.get("prior", 0.0)), reverse=True)[:limit]}
    return [c for c in candidates if id(c) in chosen]


def _rank_and_read(question: str, candidates: list[Candidate], ranker: RankerProtocol,
                   reader: ReaderProtocol, weights: AnswerWeights, earlier: str | None,
                   around: Mapping[tuple[str, tuple[int, int]], tuple[str, str]],
                   passages: Sequence[Passage], reading: QuestionReading) -> list[Candidate]:
    """Every candidate scored by the ranker; its best `weights.read` read by the reader and
    scored by `weights` (`score` = P(holds the answer), `span` the reader's with the
    boundaries of the value it holds (spans.shaped_span), feature "bold" = score × span
    probability), best first; the rest follow in the ranker's order, score 0. A candidate
    keeps its "repeated" feature (the conversation already said it: rule_not_said_before)."""
    cosines = ranker.similarities(question, [RankerInput(c.text, c.title) for c in candidates],
                                  earlier)
    order = sorted(range(len(candidates)), key=lambda i: -cosines[i])
    best = cosines[order[0]] if order else 0.0
    chosen = order[: weights.read]
    inputs = [ReaderInput(candidates[i].text,
                          *around.get((passages[candidates[i].passage_index].article_id,
                                       candidates[i].place), ("", "")),
                          headline=candidates[i].title, question_context=earlier)
              for i in chosen]
    readings = reader.read(question, inputs)
    read: list[Candidate] = []
    for i, read_as in zip(chosen, readings, strict=True):
        candidate = candidates[i]
        # the bench's articles count the headline as sentence 0: the lead is place 1 there
        values = features(cosines[i], best, read_as.p_answer, read_as.span_probability,
                          1 if candidate.place == (0, 0) else 2)
        probability = weights.probability(values)
        span = None
        if read_as.span is not None:
            start, end = shaped_span(candidate.text, *read_as.span, question, reading.kind)
            text = candidate.text[start:end].strip(" ,;:")
            # "Who is the governor now?": a name the sentence calls former is no value of it.
            former = reading.role == "current" and named_former(candidate.text, start)
            span = SpanMatch(text, 1.0) if text and not former else None
        read.append(replace(candidate, score=probability, span=span,
                            type_ok=span is not None,
                            features={**values, "p_answer": read_as.p_answer,
                                      "bold": probability * read_as.span_probability,
                                      "repeated": candidate.features.get("repeated", 0.0)}))
    rest = [replace(candidates[i], score=0.0, span=None, type_ok=False,
                    features={"cosine": cosines[i]}) for i in order[weights.read:]]
    return sorted(read, key=lambda c: -c.score) + rest


def _read_for_earlier(earlier: str, ranked: list[Candidate], reader: ReaderProtocol,
                      around: Mapping[tuple[str, tuple[int, int]], tuple[str, str]],
                      passages: Sequence[Passage]) -> list[Candidate]:
    """The read candidates with feature "earlier_p": the reader's P that the sentence
    answers the question the follow-up follows (the sentence the conversation just gave)."""
    read = [c for c in ranked if "p_answer" in c.features]
    inputs = [ReaderInput(c.text, *around.get((passages[c.passage_index].article_id, c.place),
                                              ("", "")), headline=c.title) for c in read]
    readings = dict(zip(map(id, read), reader.read(earlier, inputs), strict=True))
    return [replace(c, features={**c.features, "earlier_p": readings[id(c)].p_answer})
            if id(c) in readings else c for c in ranked]


def _scored(reading: QuestionReading, candidates: list[Candidate], model: AnswerModel,
            similarity: Similarity | None, rerank: int) -> list[Candidate]:
    """Candidates with the sentence model's probability, best first. Similarity costs a
    model call per sentence, so only the best `rerank` by the other features get it; the
    rest are given the lowest similarity among those (they rank below them anyway)."""
    def scored(c: Candidate) -> Candidate:
        return replace(c, score=model.sentence.probability(c.features))

    ranked = sorted(map(scored, candidates), key=lambda c: -c.score)
    if similarity is None or rerank <= 0:
        return ranked
    head, tail = ranked[:rerank], ranked[rerank:]
    sims = similarity(reading.text, [c.text for c in head])
    floor = min(sims, default=0.0)
    head = [replace(c, features={**c.features, "similarity": sim})
            for c, sim in zip(head, sims, strict=True)]
    tail = [replace(c, features={**c.features, "similarity": floor}) for c in tail]
    return sorted(map(scored, head + tail), key=lambda c: -c.score)


def _evidence(state: State) -> Evidence:
    """The Evidence of what the rules decided."""
    reading, model = state.reading, state.model
    reader = state.trained
    weights = state.config.weights if reader else None
    trace = Trace(reading.as_dict(), tuple(_explained(c, None if reader else model, weights)
                                           for c in state.ranked[:5]), state.fired)
    if state.abstain:
        return Evidence((), True, trace=replace(trace, decision=f"abstained: {state.abstain}"))
    if state.missing:
        return Evidence(state.chosen, False, missing=state.missing,
                        trace=replace(trace, decision="missing: said what the articles lack"))
    chosen = state.chosen
    first = chosen[0]
    span = first.span.text if first.span is not None else None
    confidence, shown, lead = 0.0, False, None
    if first.span is not None and reader and weights is not None:
        values = _bold_features(state, first, first.span.text)
        confidence = weights.bold_model.probability(values) if weights.bold_model \
            else first.features.get("bold", 0.0)
        above = state.config.bold
        # A bold value is a value, not a clause: 99 % of our question set's answers are at
        # most MAX_BOLD_WORDS words long (bench/reader_questions, 4,689 answers).
        shown = confidence >= above and len(WORDS.findall(first.span.text)) <= MAX_BOLD_WORDS
        lead = {"span": span, "confidence": round(confidence, 3), "threshold": above,
                "shown": shown, "features": {"p_answer": round(first.score, 3),
                                             **{k: round(v, 4) for k, v in values.items()}}}
    elif first.span is not None:
        values = lead_features(reading, first, state.ranked)
        confidence = model.lead.probability(values)
        above = state.config.lead_confidence or model.lead_above
        shown = confidence >= above
        lead = {"span": span, "confidence": round(confidence, 3), "threshold": above,
                "shown": shown, "features": {k: round(v, 3) for k, v in values.items()}}
    if span is not None and reading.kind is AnswerType.DATE:
        resolved = _resolved(span, state.passages[first.passage_index].published)
        span = resolved or span
    dated = {i: published for i, c in enumerate(chosen)
             if (published := state.passages[c.passage_index].published) is not None
             and _RELATIVE_TIME.search(c.text)}
    decision = "led with the value" if shown else (
        "answered with the sentence (value not confident enough)" if span else "answered")
    return Evidence(chosen, False, span=span, as_of=state.as_of, span_confidence=confidence,
                    span_shown=shown, dated=dated,
                    trace=replace(trace, decision=decision, lead=lead))


def _bold_features(state: State, first: Candidate, span: str) -> dict[str, float]:
    """The bold model's inputs (retrieval.answer.scoring.bold_features) for the chosen sentence."""
    second = next((c.score for c in state.ranked if c is not first), 0.0)
    words = [w.lower() for w in WORDS.findall(span)]
    asked = {w.lower() for w in WORDS.findall(state.reading.text)}
    is_value = any(value.text.strip(" ,;:") == span for _, value in value_spans(first.text))
    return bold_features(first.score, first.features.get("span_probability", 0.0),
                         first.features.get("p_answer", 0.0), second,
                         state.reading.kind.value, len(words), is_value,
                         sum(w in asked for w in words) / max(1, len(words)))


MAX_BOLD_WORDS = 6


def _explained(candidate: Candidate, model: AnswerModel | None,
               weights: AnswerWeights | None = None) -> dict[str, Any]:
    """One candidate for --explain: its probability and span, with the features that weighed
    most — the trained answerer's (`weights`: ranker cosine, reader logit and span probability,
    ...) or the hand-made sentence model's."""
    features = {k: round(v, 3) for k, v in candidate.features.items()}
    if weights is not None:
        known = all(name in candidate.features for name in ANSWER_FEATURES)
        parts = weights.contributions(candidate.features) if known else {}
    elif model is not None:
        parts = model.sentence.contributions(candidate.features)
    else:
        parts = {}
    return {"text": candidate.text, "passage": candidate.passage_index + 1,
            "probability": round(candidate.score, 3),
            "span": candidate.span.text if candidate.span else None,
            "features": features,
            "contributions": {k: round(v, 3) for k, v in list(parts.items())[:6]}}


_RELATIVE_TIME = re.compile(
    rf"\b(?:{'|'.join(DATED_BY_ARTICLE_WORDS)}|on (?:{'|'.join(w.title() for w in WEEKDAYS)}))\b|"
    rf"^(?:{'|'.join(w.title() for w in WEEKDAYS)})\b", re.IGNORECASE)


def _resolved(span: str, published: datetime | None) -> str | None:
    """"yesterday" → "yesterday (23 Nov 2026)", against the article's date."""
    if published is None:
        return None
    day = relative_day(span, published)
    return f"{span} ({day_label(day)})" if day is not None else None


def packaged_model() -> AnswerModel:
    """The model shipped with the package (retrieval/answer/answer_model.json)."""
    from retrieval.answer.answer_model import load_packaged
    return load_packaged()
