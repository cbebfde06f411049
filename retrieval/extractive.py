"""The offline answerer: pick the sentences that answer the question and cite them (pure).

No generative model: candidate sentences from the top passages are scored by how much of the
question's (IDF-weighted) content they cover, in the sentence itself and in its immediate
context, and by whether they contain the kind of answer the question asks for (an amount, a
date, a name...). Too little evidence means abstaining.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from ingest.ids import chunk_number
from ingest.sentences import split_sentences
from retrieval.answer_types import AnswerType, answer_type, offers
from retrieval.records import ABSTENTION, Passage, closest_articles
from retrieval.spans import SpanMatch, find_span
from retrieval.time_window import asks_change, asks_latest, day_label


class Similarity(Protocol):
    """Semantic similarity of a query to each of some sentences (cosine, about 0..1)."""

    def __call__(self, query: str, sentences: Sequence[str]) -> list[float]: ...


class TermAnalyzer(Protocol):
    """Index-consistent terms (stemmed, stop-words removed) and their IDF."""

    def terms(self, text: str) -> list[str]: ...

    def idf(self, term: str) -> float: ...


# Words that frame a question rather than name what it is about: an answer need not hold
# them ("What happened with the strike?", "the latest on the budget"). In a small store they
# are rare, so their IDF would otherwise outweigh the words that matter.
FRAMING_WORDS = "happen happened happening latest news update now currently current still"
# In a question about how a value changed, the change is asked about, not a topic word.
CHANGE_WORDS = "change changed changes revise revised revision"


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
    similarity_weight: float = 0.6
    # A further sentence joins the answer only when it covers this share of the question that
    # the ones before it do not, and scores at least `second_ratio` of the best.
    min_gain: float = 0.2
    second_ratio: float = 0.6
    # Typed questions: the best few sentences are re-scored by the asked-for value they hold.
    span_candidates: int = 12
    span_bonus: float = 1.0
    # Follow-ups: a sentence the conversation already holds scores this much less.
    repeat_penalty: float = 0.5
    # "Say what is missing": the share of the question's weight its distinguishing words
    # absent from the best sentence's article must carry (see _missing).
    missing_share: float = 0.05
    # The latest version wins: a newer article of the same story (sharing this share of its
    # vocabulary with the best sentence's) replaces the best sentence when it scores at
    # least `newer_ratio` of it and gives another value, or the question asks for the latest.
    newer_ratio: float = 0.6
    same_story: float = 0.15
    # "What's the latest on X?": an earlier sentence of the same article scoring at least
    # this share of the best leads instead (news puts the news first).
    lead_ratio: float = 0.75


@dataclass(frozen=True)
class Candidate:
    passage_index: int
    text: str
    covered: frozenset[str]  # the question's terms in the sentence, its neighbours, its title
    # Share of the question's weight found in this sentence and its neighbours.
    coverage: float
    type_ok: bool
    score: float
    # Every term of this sentence's article, as far as it was read (title included).
    in_article: frozenset[str] = frozenset()
    # Where the sentence stands in its article: chunk number, then sentence in the chunk.
    place: tuple[int, int] = (0, 0)

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True)
class Evidence:
    """The chosen sentences (best first); empty when the passages do not answer. `span` is
    the asked-for value in the first of them; `missing` the question's words the best
    sentence lacks, when they make it no answer (it is then shown as what the articles do
    say, not as the answer)."""

    chosen: tuple[Candidate, ...]
    abstain: bool
    span: str | None = None
    missing: tuple[str, ...] = ()
    # The date the answer holds as of: the newer article that replaced an older version, or
    # the answering article when the question asks for the latest.
    as_of: datetime | None = None


def find_evidence(question: str, passages: Sequence[Passage], analyzer: TermAnalyzer,
                  config: ExtractiveConfig, context: str = "",
                  similarity: Similarity | None = None) -> Evidence:
    """`context` is what the conversation adds (earlier turns); its terms count for less,
    and a sentence it already holds (said before) counts for less too."""
    framing = set(analyzer.terms(FRAMING_WORDS))
    if asks_change(question):
        framing |= set(analyzer.terms(CHANGE_WORDS))
    weights = {t: analyzer.idf(t) * config.context_term_weight
               for t in set(analyzer.terms(context))}
    own_terms = set(analyzer.terms(question)) - framing
    weights.update({t: analyzer.idf(t) for t in own_terms})
    total = sum(weights.values())
    if not passages or total <= 0:
        return Evidence((), True)
    kind = answer_type(question)
    candidates = _candidates(question, passages, analyzer, weights, total, kind, config)
    if context and kind in (AnswerType.ANY, AnswerType.REASON):
        # "Why?", "And what about X?": what was already said is not the answer. (A typed
        # follow-up may well be answered by the same sentence: "How much did they pay?")
        said = _normal(context)
        candidates = [replace(c, score=c.score - config.repeat_penalty)
                      if _normal(c.text) in said else c for c in candidates]
    if not candidates:
        return Evidence((), True)
    ranked = sorted(candidates, key=lambda c: -c.score)
    if similarity is not None and config.rerank > 0:
        ranked = _rerank(question, ranked, similarity, config)
    spans: dict[str, str] = {}
    bonus: dict[str, float] = {}
    if kind not in (AnswerType.ANY, AnswerType.REASON):
        # The sentence that holds a value of the asked-for kind next to the question's own
        # words is the likelier answer ("sold for £100,000" beats "one of a number").
        head = ranked[: config.span_candidates]
        # Only the question's own words are no answer: the previous answer may hold the value
        # a follow-up asks for ("How much did they pay for her?").
        matches = {c.text: find_span(c.text, question, kind, weights=weights) for c in head}
        spans = {text: m.text for text, m in matches.items() if m is not None}
        bonus = {text: config.span_bonus * _closeness(m) for text, m in matches.items()}
        ranked = sorted((replace(c, score=c.score + bonus[c.text]) for c in head),
                        key=lambda c: -c.score) + ranked[config.span_candidates:]
    ranked, earlier = _prefer_newer(question, ranked, passages, kind, spans, config)
    if kind is AnswerType.ANY and asks_latest(question):
        ranked = _lead_first(ranked, config)
    best = ranked[0]
    as_of = passages[best.passage_index].published if (
        earlier is not None or asks_latest(question)) else None
    # "Why?" is answered by a reason when there is one, but a sentence without a cue word
    # may still give it: only the other kinds require their kind of answer.
    strict = kind not in (AnswerType.ANY, AnswerType.REASON)
    if best.score < config.min_evidence or (strict and not best.type_ok):
        return Evidence((), True)
    missing = _missing(question, best, own_terms, weights, analyzer, config)
    if missing:
        return Evidence((best,), False, missing=missing)
    chosen = _choose(ranked, weights, total, config, spans, bonus)
    if earlier is not None and asks_change(question) and earlier not in chosen:
        chosen = (chosen[0], earlier, *chosen[1:])[: max(2, config.max_sentences)]
    for position, candidate in enumerate(chosen):
        span = spans.get(candidate.text)
        if span:
            # The sentence holding the asked-for value comes first.
            ordered = (candidate, *chosen[:position], *chosen[position + 1:])
            return Evidence(ordered, False, span=span, as_of=as_of)
    return Evidence(chosen, False, as_of=as_of)


def _prefer_newer(question: str, ranked: list[Candidate], passages: Sequence[Passage],
                  kind: AnswerType, spans: dict[str, str], config: ExtractiveConfig
                  ) -> tuple[list[Candidate], Candidate | None]:
    """The latest version wins. Among the best sentence and the sentences of other articles
    of its story that answer nearly as well and give a different value (a revised figure, a
    raised toll) — or any such sentences when the question asks for the latest or for how it
    changed — the newest article's sentence leads. The version it replaces is returned (the
    answer names its date; questions about the change also get the older sentence)."""
    best = ranked[0]
    first = passages[best.passage_index]
    if first.published is None:
        return ranked, None
    any_version = asks_latest(question) or asks_change(question)
    versions: list[tuple[datetime, Candidate]] = [(first.published, best)]
    for candidate in ranked[1: config.span_candidates]:
        passage = passages[candidate.passage_index]
        if (passage.published is None or passage.article_id == first.article_id
                or candidate.score < config.newer_ratio * best.score
                or (kind not in (AnswerType.ANY, AnswerType.REASON) and not candidate.type_ok)
                or _overlap(candidate.in_article, best.in_article) < config.same_story):
            continue
        revised = (spans.get(candidate.text) is not None and spans.get(best.text) is not None
                   and spans[candidate.text] != spans[best.text])
        if any_version or revised:
            versions.append((passage.published, candidate))
    if len(versions) == 1:
        return ranked, None
    newest = max(versions, key=lambda pair: pair[0])[1]
    older = [c for _, c in sorted(versions, key=lambda pair: pair[0]) if c is not newest]
    replaced = older[-1]  # the version just before the newest
    rest = [c for c in ranked if c is not newest and c not in older]
    return [newest, *rest], replaced


def _lead_first(ranked: list[Candidate], config: ExtractiveConfig) -> list[Candidate]:
    """"What's the latest on X?": the news is in the lead. Of the best sentence's article, the
    earliest sentence that answers nearly as well comes first."""
    best = ranked[0]
    article = best.in_article
    near = [c for c in ranked if c.in_article == article
            and c.score >= config.lead_ratio * best.score]
    lead = min(near, key=lambda c: c.place)
    return [lead, *(c for c in ranked if c is not lead)]


def _overlap(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def _closeness(match: SpanMatch | None) -> float:
    """The share of the question's weight found around the value (0 without a value)."""
    if match is None:
        return 0.0
    return match.near + (1.0 if match.counted else 0.0)


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


# A question's distinguishing words: a name or a number ("Nestle", "2006"), or what a toll,
# price or rule is asked "for" ("the toll for trucks").
_NAME_OR_NUMBER = re.compile(
    r"(?<!^)(?<![.?!]\s)\b([A-Z][a-z][\w'’-]+|[A-Z]{4,}|\d[\d,.]{2,}\w*)")
# Questions about two stories (compared, or asked in one breath) need two articles: one
# alone lacks half the names.
_COMPARES = re.compile(r"\b(than|both|adding up|add up|in total|combined|difference|"
                       r"compared)\b|\band (how|what|who|when|where|which|why)\b",
                       re.IGNORECASE)
_PRONOUNS = frozenset("me you him her it us them this that these those his its their one "
                      "ones".split())
_SPECIFIED = re.compile(r"\b(?:for|of)\s+((?:[a-z][\w'’-]*\s+){0,2}[a-z][\w'’-]*)\s*\??$")


def _missing(question: str, best: Candidate, own_terms: set[str], weights: dict[str, float],
             analyzer: TermAnalyzer, config: ExtractiveConfig) -> tuple[str, ...]:
    """The question's distinguishing words that the best sentence's whole article lacks: the
    sentence then answers a neighbouring question (about another company, another year, the
    toll for cars when trucks were asked about), and is shown as such, not as the answer."""
    if config.missing_share >= 1 or _COMPARES.search(question) or asks_change(question):
        return ()
    own = {t: weights[t] for t in own_terms if t in weights}
    total = sum(own.values())
    if total <= 0:
        return ()
    words = [m.group(1) for m in _NAME_OR_NUMBER.finditer(question)]
    specified = _SPECIFIED.search(question)
    if specified and specified.group(1).split()[-1].lower() not in _PRONOUNS:
        words += specified.group(1).split()[-1:]
    missing = []
    for word in words:
        terms = [t for t in analyzer.terms(word) if t in own]
        # "Malaysian" is not missing from an article about "Malaysia".
        if terms and not any(t in best.in_article or (len(t) >= 5 and any(
                a.startswith(t[:5]) for a in best.in_article)) for t in terms):
            missing.append((re.sub(r"['’]s?$", "", word), sum(own[t] for t in terms)))
    if not missing or sum(w for _, w in missing) / total < config.missing_share:
        return ()
    return tuple(dict.fromkeys(word for word, _ in missing))


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
    places: dict[str, tuple[int, int]] = {}
    seen: set[str] = set()
    for index, passage in enumerate(passages):
        titles.setdefault(passage.article_id, passage.title)
        chunk = chunk_number(passage.chunk_id)
        for number, (start, end) in enumerate(split_sentences(passage.text)):
            sentence = passage.text[start:end].strip()
            key = " ".join(sentence.split()).lower()
            if key in seen:
                continue  # overlapping chunks repeat sentences
            seen.add(key)
            places[sentence] = (chunk, number)
            by_article.setdefault(passage.article_id, []).append((index, sentence))
    out: list[Candidate] = []
    for rank, (article_id, sentences) in enumerate(by_article.items()):
        term_sets = [set(analyzer.terms(text)) for _, text in sentences]
        title_terms = set(analyzer.terms(titles[article_id]))
        every_term = frozenset().union(title_terms, *term_sets)
        article_terms = every_term & weights.keys()
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
                                 score, every_term, places.get(sentence, (0, 0))))
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
            config: ExtractiveConfig, spans: dict[str, str], bonus: dict[str, float]
            ) -> tuple[Candidate, ...]:
    """The best sentence; then, within the sentence and word limits, only sentences that
    supply part of the question the ones before do not — the asked-for value when the
    first lacks it, or question content it leaves uncovered (a second entity) — never one
    that merely scores close to the first."""
    chosen = [ranked[0]]
    covered = set(ranked[0].covered)
    words = ranked[0].words
    has_value = ranked[0].text in spans or not spans
    for candidate in ranked[1:]:
        if len(chosen) >= config.max_sentences:
            break
        if words + candidate.words > config.max_words:
            continue
        # Compared without the value bonus, which only decides which sentence leads.
        if (candidate.score - bonus.get(candidate.text, 0.0)
                < config.second_ratio * (ranked[0].score - bonus.get(ranked[0].text, 0.0))):
            continue
        # Measured with the sentences' neighbours: a sentence next to the first one adds
        # little the first's context did not already bring (tuned on the dev questions).
        gain = sum(weights[t] for t in candidate.covered - covered) / total
        supplies_value = not has_value and candidate.text in spans
        if gain >= config.min_gain or supplies_value:
            chosen.append(candidate)
            covered |= candidate.covered
            words += candidate.words
            has_value = has_value or supplies_value
    return tuple(chosen)


def compose(evidence: Evidence, max_words: int) -> str:
    """Answer text with a `[n]` marker (1-based passage number) after each sentence, led by
    the asked-for value when there is one; a single sentence longer than the word limit is
    cut with an ellipsis. With `missing`, what the articles say instead, plainly marked."""
    if evidence.missing:
        best = evidence.chosen[0]
        asked = ", ".join(f"“{w}”" for w in evidence.missing)
        return (f"The articles don't say this for {asked}. The closest they come: "
                f"{best.text} [{best.passage_index + 1}]")
    parts: list[str] = [f"{evidence.span} —"] if evidence.span else []
    if evidence.as_of is not None:
        date = day_label(evidence.as_of)
        parts = [f"{evidence.span}, as of {date} —"] if evidence.span else [f"As of {date}:"]
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
