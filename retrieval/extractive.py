"""The offline answerer: pick the sentences that answer the question and cite them (pure).

No generative model: candidate sentences from the top passages are scored by how much of the
question's (IDF-weighted) content they cover, in the sentence itself and in its immediate
context, and by whether they contain the kind of answer the question asks for (an amount, a
date, a name...). Too little evidence means abstaining.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from ingest.sentences import split_sentences
from retrieval.answer_types import AnswerType, answer_type, offers
from retrieval.records import ABSTENTION, Passage, closest_articles


class Similarity(Protocol):
    """Semantic similarity of a query to each of some sentences (cosine, about 0..1)."""

    def __call__(self, query: str, sentences: Sequence[str]) -> list[float]: ...


class TermAnalyzer(Protocol):
    """Index-consistent terms (stemmed, stop-words removed) and their IDF."""

    def terms(self, text: str) -> list[str]: ...

    def idf(self, term: str) -> float: ...


@dataclass(frozen=True)
class ExtractiveConfig:
    """The [answer] settings (their defaults live there), then the scorer's tuned weights:
    constants kept here, in one place, because they were tuned together on a dev set."""

    max_sentences: int
    max_words: int
    min_evidence: float
    topic_weight: float = 1.0
    focus_weight: float = 1.0
    context_weight: float = 0.4
    type_bonus: float = 0.15
    type_penalty: float = 0.25
    rank_prior: float = 0.08
    context_term_weight: float = 0.4
    # How many of the lexically best sentences get a semantic similarity score (0 = none).
    rerank: int = 10
    # A further sentence joins the answer when it scores at least this share of the best.
    close_ratio: float = 0.8
    similarity_weight: float = 0.6


@dataclass(frozen=True)
class Candidate:
    passage_index: int
    text: str
    covered: frozenset[str]
    # Share of the question's weight found in this sentence and its neighbours.
    coverage: float
    type_ok: bool
    score: float

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True)
class Evidence:
    """The chosen sentences (best first); empty when the passages do not answer."""

    chosen: tuple[Candidate, ...]
    abstain: bool


def find_evidence(question: str, passages: Sequence[Passage], analyzer: TermAnalyzer,
                  config: ExtractiveConfig, context: str = "",
                  similarity: Similarity | None = None) -> Evidence:
    """`context` is what the conversation adds (earlier turns); its terms count for less."""
    weights = {t: analyzer.idf(t) * config.context_term_weight
               for t in set(analyzer.terms(context))}
    weights.update({t: analyzer.idf(t) for t in set(analyzer.terms(question))})
    total = sum(weights.values())
    if not passages or total <= 0:
        return Evidence((), True)
    kind = answer_type(question)
    candidates = _candidates(question, passages, analyzer, weights, total, kind, config)
    if not candidates:
        return Evidence((), True)
    ranked = sorted(candidates, key=lambda c: -c.score)
    if similarity is not None and config.rerank > 0:
        ranked = _rerank(question, ranked, similarity, config)
    best = ranked[0]
    if best.score < config.min_evidence or (kind is not AnswerType.ANY and not best.type_ok):
        return Evidence((), True)
    return Evidence(_choose(ranked, weights, total, config), False)


def _candidates(question: str, passages: Sequence[Passage], analyzer: TermAnalyzer,
                weights: dict[str, float], total: float, kind: AnswerType,
                config: ExtractiveConfig) -> list[Candidate]:
    """Score every distinct sentence of the passages, article by article.

    An article's `topic` score is how much of the question it covers anywhere (title included);
    a sentence's `focus` score counts the question terms it holds itself, each weighted down
    the more sentences of its article share it: the article's subject (a name, say) is in many
    sentences, while the words that single out the answer are in few.
    """
    by_article: dict[str, list[tuple[int, str]]] = {}
    titles: dict[str, str] = {}
    seen: set[str] = set()
    for index, passage in enumerate(passages):
        titles.setdefault(passage.article_id, passage.title)
        for start, end in split_sentences(passage.text):
            sentence = passage.text[start:end].strip()
            key = " ".join(sentence.split()).lower()
            if key in seen:
                continue  # overlapping chunks repeat sentences
            seen.add(key)
            by_article.setdefault(passage.article_id, []).append((index, sentence))
    out: list[Candidate] = []
    for rank, (article_id, sentences) in enumerate(by_article.items()):
        term_sets = [set(analyzer.terms(text)) for _, text in sentences]
        title_terms = set(analyzer.terms(titles[article_id]))
        article_terms = set().union(title_terms, *term_sets) & weights.keys()
        topic = sum(weights[t] for t in article_terms) / total
        spread = {t: sum(t in ts for ts in term_sets) for t in article_terms}
        n = len(sentences)
        prior = config.rank_prior * (1 - rank / len(by_article))
        for position, (index, sentence) in enumerate(sentences):
            if len(sentence.split()) < 4:
                continue  # fragments answer nothing
            own = term_sets[position] & weights.keys()
            near = (_neighbours(term_sets, position) | title_terms) & weights.keys()
            focus = sum(weights[t] * _local_weight(spread[t], n) for t in own) / total
            context = sum(weights[t] for t in near - own) / total
            type_ok = offers(sentence, kind, question)
            bonus = 0.0 if kind is AnswerType.ANY else (
                config.type_bonus if type_ok else -config.type_penalty)
            score = (config.topic_weight * topic + config.focus_weight * focus
                     + config.context_weight * context + bonus + prior)
            local = own | (_neighbours(term_sets, position) & weights.keys())
            coverage = sum(weights[t] for t in local) / total
            out.append(Candidate(index, sentence, frozenset(own | near), coverage, type_ok,
                                 score))
    return out


def _rerank(question: str, ranked: list[Candidate], similarity: Similarity,
            config: ExtractiveConfig) -> list[Candidate]:
    """Add semantic similarity to the lexically best few: it sees paraphrases that shared
    words miss ("whose place did he take" / "takes over from")."""
    head, tail = ranked[: config.rerank], ranked[config.rerank:]
    sims = similarity(question, [c.text for c in head])
    rescored = [replace(c, score=c.score + config.similarity_weight * sim)
                for c, sim in zip(head, sims, strict=True)]
    return sorted(rescored, key=lambda c: -c.score) + tail


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


def _choose(ranked: list[Candidate], weights: dict[str, float], total: float,
            config: ExtractiveConfig) -> tuple[Candidate, ...]:
    """The best sentence, then sentences that cover question content still missing (often from
    a second article), or that are nearly as good, within the sentence and word limits."""
    chosen = [ranked[0]]
    covered = set(ranked[0].covered)
    words = ranked[0].words
    for candidate in ranked[1:]:
        if len(chosen) >= config.max_sentences:
            break
        if words + candidate.words > config.max_words:
            continue
        gain = sum(weights[t] for t in candidate.covered - covered) / total
        close = candidate.score >= config.close_ratio * ranked[0].score
        if (gain >= 0.2 and candidate.score >= 0.6 * ranked[0].score) or close:
            chosen.append(candidate)
            covered |= candidate.covered
            words += candidate.words
    return tuple(chosen)


def compose(evidence: Evidence, max_words: int) -> str:
    """Answer text with a `[n]` marker (1-based passage number) after each sentence; a single
    sentence longer than the word limit is cut with an ellipsis."""
    parts: list[str] = []
    budget = max_words
    for candidate in evidence.chosen:
        words = candidate.text.split()
        if budget <= 0:
            break
        text = candidate.text if len(words) <= budget else " ".join(words[:budget]) + " …"
        budget -= len(words)
        parts.append(f"{text} [{candidate.passage_index + 1}]")
    return " ".join(parts)


def abstention_text(passages: Sequence[Passage], closest: int = 3) -> str:
    titles = [f"“{p.title}”" + (f" ({', '.join(p.details)})" if p.details else "")
              for p in closest_articles(passages, closest)]
    text = ABSTENTION
    if titles:
        text += " The closest articles: " + "; ".join(titles) + "."
    return text
