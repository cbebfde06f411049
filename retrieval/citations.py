"""Citations as a contract: parse `[n]` markers back out of an answer and validate them (pure).

A marker that maps to no passage is dropped; the rest are renumbered 1..m in order of first
appearance, and only cited passages become citations.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from retrieval.records import Answer, Citation, Passage

# [3], [1, 2], [1][2] and [1,2,3]; not [a] or [2005] (years are not citations).
_MARKER = re.compile(r"\s?\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")


def cited_numbers(text: str) -> list[int]:
    """All citation numbers in order of appearance (with repeats)."""
    return [int(n) for m in _MARKER.finditer(text) for n in m.group(1).split(",")]


def _renumbering(count: int, renumbered: dict[int, int]) -> Callable[[re.Match[str]], str]:
    """A marker's replacement: its numbers 1..`count` renumbered in order of first appearance
    (`renumbered`, old → new, filled as markers are met), the others dropped."""

    def replace(match: re.Match[str]) -> str:
        kept: list[int] = []
        for raw in match.group(1).split(","):
            number = int(raw)
            if 1 <= number <= count:
                new = renumbered.setdefault(number, len(renumbered) + 1)
                if new not in kept:
                    kept.append(new)
        if not kept:
            return ""
        leading = match.group(0)[0] if match.group(0)[0].isspace() else ""
        return leading + "".join(f"[{n}]" for n in kept)

    return replace


_SPACE_BEFORE_STOP = re.compile(r"[ \t]+([.,;:!?])")


def validate_citations(text: str, passages: Sequence[Passage]) -> tuple[str, tuple[Citation, ...]]:
    """Return the answer text with valid, renumbered markers and the matching citations."""
    renumbered: dict[int, int] = {}
    cleaned = _MARKER.sub(_renumbering(len(passages), renumbered), text)
    cleaned = _SPACE_BEFORE_STOP.sub(r"\1", cleaned).strip()
    citations = tuple(
        Citation(new, passages[old - 1])
        for old, new in sorted(renumbered.items(), key=lambda kv: kv[1])
    )
    return cleaned, citations


class CitationStream:
    """An answer's pieces, passed on as they stream with their markers renumbered as
    `validate_citations` renumbers the whole answer, so a streamed `[2]` is the final
    answer's `[2]` (a client showed `[7]` while the answer had two citations). A piece's
    tail that may still become a marker or a mended " ." waits for the next piece; `close`
    passes on what is left. Joined, the pieces are the validated text of the joined input."""

    def __init__(self, sink: Callable[[str], None], passages: int) -> None:
        self._sink = sink
        self._replace = _renumbering(passages, {})
        self._pending = ""
        self._spaces = ""
        self._started = False

    def __call__(self, piece: str) -> None:
        text = self._pending + piece
        cut = len(text.rstrip())  # trailing spaces: a stop may follow (" ." → ".")
        opened = text.rfind("[", 0, cut)
        if opened != -1 and "]" not in text[opened:cut] and cut - opened <= _LONGEST_MARKER:
            cut = len(text[:opened].rstrip())  # the marker takes the space before it
        self._pending = text[cut:]
        self._emit(text[:cut])

    def close(self) -> None:
        self._emit(self._pending)
        self._pending = ""

    def _emit(self, text: str) -> None:
        # a dropped marker may leave spaces at the end: they wait too (the answer is stripped)
        cleaned = _SPACE_BEFORE_STOP.sub(r"\1", self._spaces + _MARKER.sub(self._replace, text))
        if not self._started:
            cleaned = cleaned.lstrip()
        body = cleaned.rstrip()
        self._spaces = cleaned[len(body):]
        if body:
            self._started = True
            self._sink(body)


# "[12, 13, 14]" and a little more: a longer bracket is no marker and is not held back.
_LONGEST_MARKER = 24

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
