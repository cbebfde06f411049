"""The extractive answerer's candidates: every distinct sentence of the passages with its named
features (the rows the sentence model weighs, candidate_table), and the lead model's features
of the value in the best one (pure)."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

from ingest.text.ids import chunk_number
from ingest.text.sentences import split_sentences
from ingest.text.vocabulary import MONTHS, WEEKDAYS
from retrieval.answer.extractive_config import ExtractiveConfig
from retrieval.answer.scorer import logit
from retrieval.answer.spans import SpanMatch, find_span
from retrieval.question.answer_types import AnswerType, offers
from retrieval.question.reading import QuestionReading, TermAnalyzer, read_question
from retrieval.records import Passage


class Similarity(Protocol):
    """Semantic similarity of a query to each of some sentences (cosine, about 0..1)."""

    def __call__(self, query: str, sentences: Sequence[str]) -> list[float]: ...


@dataclass(frozen=True)
class Candidate:
    passage_index: int
    text: str
    covered: frozenset[str]  # the question's terms in the sentence, its neighbours, its title
    # Share of the question's weight found in this sentence and its neighbours.
    coverage: float
    type_ok: bool
    score: float  # the sentence model's probability that this sentence holds the answer
    # Every term of this sentence's article, as far as it was read (title included).
    in_article: frozenset[str] = frozenset()
    # Where the sentence stands in its article: chunk number, then sentence in the chunk.
    place: tuple[int, int] = (0, 0)
    features: Mapping[str, float] = field(default_factory=dict)
    span: SpanMatch | None = None
    title: str = ""

    @property
    def words(self) -> int:
        return len(self.text.split())


def candidate_table(question: str, passages: Sequence[Passage], analyzer: TermAnalyzer,
                    config: ExtractiveConfig, context: str = "",
                    similarity: Similarity | None = None) -> list[Candidate]:
    """Every candidate sentence with all its features (similarity for all of them), unscored:
    the rows bench/train_scorer.py learns from."""
    reading = read_question(question, analyzer, context, config.context_term_weight)
    if not passages or reading.total <= 0:
        return []
    candidates = candidates_of(reading, passages, analyzer)
    if similarity is not None and candidates:
        sims = similarity(question, [c.text for c in candidates])
        candidates = [replace(c, features={**c.features, "similarity": sim})
                      for c, sim in zip(candidates, sims, strict=True)]
    return candidates


def lead_features(reading: QuestionReading, best: Candidate,
                  ranked: Sequence[Candidate]) -> dict[str, float]:
    """What says whether the value in the best sentence is the answer: how sure the sentence
    model is and by how much, how close the value sits to the question's words, whether the
    next best sentences give the same value, whether the value is the article's own subject
    (named in its title: rarely what is asked)..."""
    span = best.span
    assert span is not None
    others = [c for c in ranked[1:6] if c.span is not None]
    same = sum(normal(c.span.text) == normal(span.text) for c in others if c.span)
    second = ranked[1].score if len(ranked) > 1 else 0.0
    words = {w.lower() for w in re.findall(r"[\w'’-]+", span.text)}
    title = {w.lower() for w in re.findall(r"[\w'’-]+", best.title)}
    values = {
        "sentence_logit": logit(best.score),
        "margin": best.score - second,
        "span_near": span.near,
        "span_counted": float(span.counted),
        "span_choices": 1.0 / max(1, span.choices),
        "agreement": same / len(others) if others else 0.0,
        "span_in_title": float(bool(words) and words <= title),
        "span_words": min(len(words), 6) / 6,
    }
    values[f"kind_{reading.kind.value}"] = 1.0
    return values


def normal(text: str) -> str:
    return " ".join(text.lower().split())


def present_in(term: str, terms: frozenset[str]) -> bool:
    return term in terms or (len(term) >= 5 and any(a.startswith(term[:5]) for a in terms))


def _date_terms(published: datetime | None, analyzer: TermAnalyzer) -> set[str]:
    """The words an article's own date line gives it: its year, month and weekday."""
    if published is None:
        return set()
    return set(analyzer.terms(f"{published.year} {MONTHS[published.month - 1]} "
                              f"{WEEKDAYS[published.weekday()]}"))


def candidates_of(reading: QuestionReading, passages: Sequence[Passage],
                analyzer: TermAnalyzer) -> list[Candidate]:
    """Every distinct sentence of the passages (of four words or more), with its features.

    An article's `topic` is how much of the question it covers anywhere (title included); a
    sentence's `focus` counts the question terms it holds itself, each weighted down the more
    sentences of its article share it: the article's subject (a name, say) is in many
    sentences, while the words that single out the answer are in few.
    """
    weights, total, kind = reading.weights, reading.total, reading.kind
    by_article: dict[str, list[tuple[int, str]]] = {}
    titles: dict[str, str] = {}
    dates: dict[str, datetime | None] = {}
    places: dict[str, tuple[int, int]] = {}
    seen: set[str] = set()
    for index, passage in enumerate(passages):
        titles.setdefault(passage.article_id, passage.title)
        dates.setdefault(passage.article_id, passage.published)
        chunk = chunk_number(passage.chunk_id)
        for number, (start, end) in enumerate(split_sentences(passage.text)):
            sentence = passage.text[start:end].strip()
            key = " ".join(sentence.split()).lower()
            if key in seen:
                continue  # overlapping chunks repeat sentences
            seen.add(key)
            places[sentence] = (chunk, number)
            by_article.setdefault(passage.article_id, []).append((index, sentence))
    said = normal(reading.context)
    out: list[Candidate] = []
    for rank, (article_id, sentences) in enumerate(by_article.items()):
        term_sets = [set(analyzer.terms(text)) for _, text in sentences]
        title_terms = set(analyzer.terms(titles[article_id]))
        every_term = frozenset().union(title_terms, *term_sets)
        article_terms = every_term & weights.keys()
        topic = sum(weights[t] for t in article_terms) / total
        spread = {t: sum(t in ts for ts in term_sets) for t in article_terms}
        n = len(sentences)
        prior = 1 - rank / len(by_article)
        dated = frozenset(_date_terms(dates[article_id], analyzer))
        ordered = sorted(range(n), key=lambda i: places.get(sentences[i][1], (0, 0)))
        ordinal = {i: o for o, i in enumerate(ordered)}
        missing = _missing_share(reading, every_term | dated, analyzer)
        for position, (index, sentence) in enumerate(sentences):
            if len(sentence.split()) < 4:
                continue  # fragments answer nothing
            own = term_sets[position] & weights.keys()
            fuzzy = _prefixed(weights.keys() - own, term_sets[position])
            near = (_neighbours(term_sets, position) | title_terms) & weights.keys()
            focus = sum(weights[t] * _local_weight(spread[t], n) for t in own) / total
            context = sum(weights[t] for t in near - own) / total
            span = _span(sentence, reading) if reading.typed else None
            # A score or a measure is only offered by a value of its form ("5-4", "20kg"):
            # the span finder decides, so detector and finder agree.
            type_ok = (span is not None if reading.measured or reading.score
                       else offers(sentence, kind, reading.text))
            local = own | (_neighbours(term_sets, position) & weights.keys())
            coverage = sum(weights[t] for t in local) / total
            place = places.get(sentence, (0, 0))
            features = {
                "topic": topic, "focus": focus, "context": context, "coverage": coverage,
                "focus_prefix": sum(weights[t] for t in fuzzy) / total,
                "pairs": _pairs(reading, analyzer.terms(sentence)),
                "prior": prior, "passage": 1 / (1 + index),
                "type_ok": float(reading.typed and type_ok),
                "type_miss": float(reading.typed and not type_ok),
                "reason": float(kind is AnswerType.REASON and type_ok),
                "lead": float(ordinal[position] == 0),
                "position": 1 / (1 + ordinal[position]),
                "length": min(len(sentence.split()), 60) / 30,
                "missing": missing,
                "repeated": float(bool(said) and normal(sentence) in said),
                "span": float(span is not None),
                "span_near": span.near if span else 0.0,
                "span_counted": float(span.counted) if span else 0.0,
                "similarity": 0.0,
            }
            out.append(Candidate(index, sentence, frozenset(own | near), coverage, type_ok,
                                 0.0, every_term | dated, place, features, span,
                                 titles[article_id]))
    return out


def _prefixed(terms: set[str] | frozenset[str], sentence_terms: set[str]) -> set[str]:
    """Question terms the sentence holds only in another form sharing their first five
    letters ("directs" / "director", "announced" / "announcing")."""
    return {t for t in terms if len(t) >= 5 and any(
        s.startswith(t[:5]) for s in sentence_terms)}


def _pairs(reading: QuestionReading, sentence_terms: list[str]) -> float:
    """The share of the question's neighbouring term pairs ("guide dog", "clamp down") that
    stand within three terms of each other in the sentence."""
    asked = [t for t in reading.question_terms if t in reading.own_terms]
    pairs = {(a, b) for a, b in itertools.pairwise(asked) if a != b}
    if not pairs:
        return 0.0
    where: dict[str, list[int]] = {}
    for i, t in enumerate(sentence_terms):
        where.setdefault(t, []).append(i)
    found = sum(any(abs(i - j) <= 3 for i in where.get(a, ()) for j in where.get(b, ()))
                for a, b in pairs)
    return found / len(pairs)


def _missing_share(reading: QuestionReading, article_terms: frozenset[str],
                   analyzer: TermAnalyzer) -> float:
    """The share of the question's names and numbers (by weight) that the article lacks."""
    weighted = [(sum(reading.weights.get(t, 0.0) for t in terms), terms)
                for name in reading.names if (terms := analyzer.terms(name))]
    total = sum(w for w, _ in weighted)
    if total <= 0:
        return 0.0
    return sum(w for w, terms in weighted
               if not any(present_in(t, article_terms) for t in terms)) / total


def _span(sentence: str, reading: QuestionReading) -> SpanMatch | None:
    match = find_span(sentence, reading.text, reading.kind, weights=reading.weights,
                      measured=reading.measured, year=reading.year_asked, role=reading.role)
    return match


def _local_weight(sentences_with_term: int, sentences: int) -> float:
    """1 for a term in one sentence of the article, falling towards 0 for one in all."""
    if sentences <= 1:
        return 1.0
    return math.log(1 + sentences / max(1, sentences_with_term)) / math.log(1 + sentences)


def _neighbours(term_sets: list[set[str]], position: int) -> set[str]:
    near: set[str] = set()
    for other in (position - 1, position + 1):
        if 0 <= other < len(term_sets):
            near |= term_sets[other]
    return near


# A word, as the rules (a lead tells something) and the bold value's cap count them.
WORDS = re.compile(r"\w+")
