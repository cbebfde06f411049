"""Citations as a contract: parse `[n]` markers back out of an answer and validate them (pure).

A marker that maps to no passage is dropped; the rest are renumbered 1..m in order of first
appearance, and only cited passages become citations.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from retrieval.records import Citation, Passage

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
