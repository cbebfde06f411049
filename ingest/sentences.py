"""A small rule-based sentence splitter that keeps character offsets (pure).

Good enough for news prose: it knows common abbreviations, initials and decimal numbers, and
treats a paragraph break as a sentence end. Used by the chunker and the extractive answerer.
"""

from __future__ import annotations

import re

_CANDIDATE = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)|\n\s*\n")
_ABBREVIATIONS = frozenset(
    (
        "mr mrs ms dr prof sr jr st mt ft gen col lt sgt capt cmdr adm gov sen rep rev hon pres "
        "no nos vs etc inc ltd co corp plc dept univ est approx fig vol jan feb mar apr jun jul "
        "aug sep sept oct nov dec mon tue wed thu fri sat sun e.g i.e u.s u.k u.n a.m p.m"
    ).split()
)
_WORD_BEFORE = re.compile(r"([\w.]+)[.!?…]*[\"'”’)\]]*$")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) into `text`, without surrounding whitespace."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _CANDIDATE.finditer(text):
        end = match.end()
        if not match.group().startswith("\n") and not _is_boundary(text, match.start(), end):
            continue
        _append(spans, text, start, end)
        start = end
    _append(spans, text, start, len(text))
    return spans


def _is_boundary(text: str, punct_at: int, end: int) -> bool:
    if text[punct_at] == ".":
        before = _WORD_BEFORE.search(text[max(0, punct_at - 20): punct_at + 1])
        word = before.group(1).lower().rstrip(".") if before else ""
        if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
            return False
    following = text[end: end + 3].lstrip()
    # A sentence starts with a capital, a digit or an opening quote; "e.g. the" does not.
    return not following or not following[0].islower()


def _append(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))
