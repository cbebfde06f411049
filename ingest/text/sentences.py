"""A small rule-based sentence splitter that keeps character offsets (pure).

Good enough for news prose: it knows common abbreviations, initials and decimal numbers, and
treats a paragraph break as a sentence end. Used by the chunker and the extractive answerer.
"""

from __future__ import annotations

import re

from ingest.text.vocabulary import ABBREVIATIONS, MONTHS_IN_LANGUAGES

# A run of punctuation is tried from its first mark only: tried from each of its marks, a
# long run ("......" with no space after) would be scanned again from each, in square time.
_CANDIDATE = re.compile(r"(?<![.!?…])[.!?…]+[\"'”’)\]]*(?=\s)|\n\s*\n")
_DAY_ORDINAL = re.compile(r"(?:^|\s)\d{1,2}$")
# Dotted initials ("K.C. Maurer", "J.R.R. Tolkien"), their last dot not yet taken.
_INITIALS = re.compile(r"^(?:[^\W\d_]\.)+[^\W\d_]$")
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


def first_sentence(text: str) -> str:
    """The first sentence of `text` (all of it when it has no boundary): an article's lead."""
    spans = split_sentences(text)
    return text[spans[0][0]:spans[0][1]] if spans else text


def _is_boundary(text: str, punct_at: int, end: int) -> bool:
    if text[punct_at] == ".":
        before = _WORD_BEFORE.search(text[max(0, punct_at - 20): punct_at + 1])
        word = before.group(1).lower().rstrip(".") if before else ""
        if word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()) or _INITIALS.match(word):
            return False
        if _DAY_ORDINAL.search(text[max(0, punct_at - 4): punct_at]):
            following_word = text[end: end + 20].split(maxsplit=1)
            if following_word and following_word[0].lower().strip(",.") in MONTHS_IN_LANGUAGES:
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
