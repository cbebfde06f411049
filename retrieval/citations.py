"""Citations as a contract: parse `[n]` markers back out of an answer and validate them (pure).

A marker that maps to no passage is dropped; the rest are renumbered 1..m in order of first
appearance, and only cited passages become citations.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import replace

from retrieval.records import Answer, Citation, Passage

# [3], [1, 2], [1][2] and [1,2,3]; not [a] or [2005] (years are not citations).
_MARKER = re.compile(r"\s?\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")


def cited_numbers(text: str) -> list[int]:
    """All citation numbers in order of appearance (with repeats)."""
    return [int(n) for m in _MARKER.finditer(text) for n in m.group(1).split(",")]


def validate_citations(text: str, passages: Sequence[Passage]) -> tuple[str, tuple[Citation, ...]]:
    """Return the answer text with valid, renumbered markers and the matching citations."""
    renumbered: dict[int, int] = {}

    def replace(match: re.Match[str]) -> str:
        kept: list[int] = []
        for raw in match.group(1).split(","):
            number = int(raw)
            if 1 <= number <= len(passages):
                new = renumbered.setdefault(number, len(renumbered) + 1)
                if new not in kept:
                    kept.append(new)
        if not kept:
            return ""
        leading = match.group(0)[0] if match.group(0)[0].isspace() else ""
        return leading + "".join(f"[{n}]" for n in kept)

    cleaned = _MARKER.sub(replace, text)
    cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned).strip()
    citations = tuple(
        Citation(new, passages[old - 1])
        for old, new in sorted(renumbered.items(), key=lambda kv: kv[1])
    )
    return cleaned, citations


_ONE_MARKER = re.compile(r"\[(\d{1,3})\]")


def join_answers(question: str, main: Answer, support: Answer) -> Answer:
    """One answer from two: `main` answers the question, `support` says which subject it is
    about (a two-part question). Markers are rebased on the passages of both and renumbered;
    `support` loses its lead value, so the answer leads with one value only."""
    # Both stories' best passages first, in the order of the reasoning (which subject, then
    # what about it): each half of the question ranked its own.
    paired = [p for pair in itertools.zip_longest(support.passages, main.passages)
              for p in pair if p is not None]
    passages = tuple({p.chunk_id: p for p in paired}.values())
    number = {p.chunk_id: n for n, p in enumerate(passages, start=1)}

    def rebased(answer: Answer) -> str:
        by_n = {c.n: c.passage.chunk_id for c in answer.citations}
        return _ONE_MARKER.sub(
            lambda m: f"[{number[by_n[int(m.group(1))]]}]" if int(m.group(1)) in by_n else "",
            answer.answer)

    support_text = rebased(support)
    if support.lead is not None and support_text.startswith(support.lead + " — "):
        support_text = support_text[len(support.lead) + 3:]
    text, citations = validate_citations(f"{rebased(main)} {support_text}", passages)
    span = None
    if main.answer_span is not None:
        cited = next((c.passage.chunk_id for c in main.citations if c.n == main.answer_span.n),
                     None)
        span = next((replace(main.answer_span, n=c.n) for c in citations
                     if c.passage.chunk_id == cited), None)
    timings = {key: main.timings.get(key, 0.0) + support.timings.get(key, 0.0)
               for key in {*main.timings, *support.timings}}
    return Answer(question=question, answer=text, abstained=False, citations=citations,
                  passages=passages, timings=timings, answer_span=span)
