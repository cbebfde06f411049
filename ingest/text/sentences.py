"""A small rule-based sentence splitter that keeps character offsets (pure).

Good enough for news prose: it knows common abbreviations, initials and decimal numbers, and
treats a paragraph break as a sentence end. Used by the chunker and the extractive answerer.
"""

from __future__ import annotations

import re

# A run of punctuation is tried from its first mark only: tried from each of its marks, a
# long run ("......" with no space after) would be scanned again from each, in square time.
_CANDIDATE = re.compile(r"(?<![.!?…])[.!?…]+[\"'”’)\]]*(?=\s)|\n\s*\n")
_ABBREVIATIONS = frozenset(
    (
        "mr mrs ms dr prof sr jr st mt ft gen col lt sgt capt cmdr adm gov sen rep rev hon pres "
        "no nos vs etc inc ltd co corp plc dept univ est approx fig vol jan feb mar apr jun jul "
        "aug sep sept oct nov dec mon tue wed thu fri sat sun e.g i.e u.s u.k u.n a.m p.m "
        # German, French, Spanish, Italian, Dutch, Portuguese
        "nr bzw ca vgl z.b inkl evtl hr fr mme mlle sra sres sig dott ing dhr mevr sr.a"
    ).split()
)
# Month names of the languages above: "am 19. November", "le 1. mars" — a day's ordinal dot
# before a month never ends a sentence.
_MONTH_NAMES = frozenset((
    "january february march april may june july august september october november december "
    "januar februar märz maerz april mai juni juli august oktober dezember jänner "
    "janvier février fevrier mars avril juin juillet août aout septembre octobre novembre "
    "décembre decembre enero febrero marzo abril mayo junio julio agosto septiembre octubre "
    "noviembre diciembre gennaio febbraio aprile maggio giugno luglio settembre ottobre "
    "dicembre januari februari maart mei augustus janeiro fevereiro março marco maio junho "
    "julho setembro outubro novembro dezembro"
).split())
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
        if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()) or _INITIALS.match(word):
            return False
        if _DAY_ORDINAL.search(text[max(0, punct_at - 4): punct_at]):
            following_word = text[end: end + 20].split(maxsplit=1)
            if following_word and following_word[0].lower().strip(",.") in _MONTH_NAMES:
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
