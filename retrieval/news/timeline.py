"""A story's timeline (pure): its dated developments in order, one cited sentence per article.

The search has already collapsed wire copies (one passage per story copy group) and capped
the ranking at one passage per article. Here an article belongs to the story when it covers
most of the topic's (IDF-weighted) words; its development is the sentence of its passage that
covers the topic best, the earliest such sentence winning ties (news puts what happened
first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ingest.text.ids import chunk_number
from ingest.text.sentences import first_sentence, split_sentences
from retrieval.question.reading import TermAnalyzer
from retrieval.question.time_window import day_label
from retrieval.records import Passage

# An article is part of the story when it holds this share of the topic's weight.
STORY_COVERAGE = 0.6
# ...and is about it when its headline and lead hold more than this share (as a later version
# of a story must: retrieval.answer.rules.VERSION_NAMED_SHARE).
ABOUT_SHARE = 0.5
# Words of a sentence that make it a development rather than a fragment.
_MIN_WORDS = 6


@dataclass(frozen=True)
class Development:
    """One dated step of the story: a sentence of passage number `n` (from 1)."""

    n: int
    sentence: str
    passage: Passage


def developments(topic: str, passages: Sequence[Passage], analyzer: TermAnalyzer,
                 coverage: float = STORY_COVERAGE) -> list[Development]:
    """The story's dated developments, oldest first; `n` numbers `passages` from 1."""
    weights = {t: analyzer.idf(t) for t in set(analyzer.terms(topic))}
    total = sum(weights.values())
    if total <= 0:
        return []
    steps: list[tuple[float, Development]] = []
    seen: set[str] = set()
    for number, passage in enumerate(passages, start=1):
        key = passage.group or passage.article_id
        if passage.published is None or key in seen:
            continue
        article_terms = set(analyzer.terms(f"{passage.title}\n{passage.text}"))
        if sum(w for t, w in weights.items() if t in article_terms) / total < coverage:
            continue
        # ...and is about it: its headline (with its lead, when the passage opens the
        # article) holds most of the topic. A report of the next storm recalls Dorian in
        # its background paragraph; Time's Person of the Year names the Hong Kong protesters.
        opening = set(analyzer.terms(passage.title + (
            f"\n{first_sentence(passage.text)}" if chunk_number(passage.chunk_id) == 0 else "")))
        if sum(w for t, w in weights.items() if t in opening) / total <= ABOUT_SHARE:
            continue
        sentence = _best_sentence(passage.text, weights, analyzer)
        if sentence is None:
            continue
        seen.add(key)
        steps.append((passage.published.timestamp(), Development(number, sentence, passage)))
    return [step for _, step in sorted(steps, key=lambda pair: pair[0])]


def _best_sentence(text: str, weights: dict[str, float], analyzer: TermAnalyzer) -> str | None:
    best: tuple[float, str] | None = None
    for start, end in split_sentences(text):
        sentence = " ".join(text[start:end].split())
        if len(sentence.split()) < _MIN_WORDS:
            continue
        score = sum(w for t, w in weights.items() if t in set(analyzer.terms(sentence)))
        if best is None or score > best[0]:
            best = (score, sentence)
    return best[1] if best else None


def compose_timeline(steps: Sequence[Development]) -> str:
    """One line per development: `12 Nov 2026 — <sentence> [n]`."""
    return "\n".join(f"{day_label(s.passage.published)} — {s.sentence} [{s.n}]"
                     for s in steps if s.passage.published is not None)
