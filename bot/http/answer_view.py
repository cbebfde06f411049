"""How the web page shows an answer, computed from the records (pure: no I/O).

The page (bot/http/web_page.py, bot/http/web/page.js) receives the JSON Answer of /api/ask with one
more
key, `view` (`answer_view`): the answer text cut into parts (plain text and `[n]` markers),
the value it leads with (shown in bold), and for each citation number where its cited sentence
lies in that passage's text, so that the page can highlight it. The brief gets the same
`quotes` (`brief_view`). The page inserts every part as text, never as HTML: the view holds
offsets and strings, no markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from retrieval.news.brief import Brief
from retrieval.records import Answer, Citation

_MARKER = re.compile(r"\[(\d+)\]")
# What the answerer adds after a quoted sentence, not in the article: "(reported 14 Mar 2025)".
_ADDED = re.compile(r"\s*\((?:reported|updated) [^()]*\)\s*$")
# A value or a date before the sentence it comes from: "84 million euros — The bridge …",
# "12 Nov 2026 — The strike …" (timelines).
_PREFIX = " — "
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)]*\s+")
_WORD = re.compile(r"\w+")
# A sentence of the passage is taken as the one cited only when it shares at least this share
# of the cited words (an LLM's paraphrase): below it nothing is highlighted, which is better
# than highlighting the wrong sentence.
MIN_OVERLAP = 0.5


def answer_parts(text: str, lead: str | None = None) -> tuple[str | None, list[dict[str, Any]]]:
    """`text` cut into parts for display: `({"text": s} | {"cite": n}, ...)`, with the bold
    value it starts with split off first (`lead`, with its ", as of <date>" when it has one;
    None when the text does not start with it). Plain text keeps its line breaks."""
    bold: str | None = None
    rest = text
    if lead and text.startswith(lead):
        head, dash, tail = text.partition(_PREFIX)
        # "84 million euros, as of 2 Dec 2026 — …": the date belongs with the value.
        with_date = dash and (head == lead or head.startswith(f"{lead}, as of "))
        bold, rest = (head, dash + tail) if with_date else (lead, text[len(lead):])
    parts: list[dict[str, Any]] = []
    position = 0
    for marker in _MARKER.finditer(rest):
        if marker.start() > position:
            parts.append({"text": rest[position:marker.start()]})
        parts.append({"cite": int(marker.group(1))})
        position = marker.end()
    if position < len(rest):
        parts.append({"text": rest[position:]})
    return bold, parts


def cited_sentences(text: str) -> list[tuple[int, str]]:
    """Each `[n]` marker of `text` in order, with the sentence it cites: the text before it
    back to the previous marker or line, without the value or date before a " — " and the
    "(reported …)" the answerer added ("[1] [2]": both cite the same sentence)."""
    said: list[tuple[int, str]] = []
    for line in text.splitlines():
        position = 0
        for marker in _MARKER.finditer(line):
            piece = _ADDED.sub("", line[position:marker.start()]).strip()
            position = marker.end()
            if _PREFIX in piece:
                piece = piece.split(_PREFIX, 1)[1].strip()
            if not piece and said:
                piece = said[-1][1]
            said.append((int(marker.group(1)), piece))
    return said


def cited_span(passage: str, sentence: str) -> tuple[int, int] | None:
    """Where `sentence` (as an answer quotes it) lies in `passage`: (start, end) character
    offsets; the passage sentence sharing the most of its words when it is not quoted word for
    word (at least MIN_OVERLAP of them); None when no sentence does."""
    sentence = sentence.strip()
    if not sentence:
        return None
    words = [re.escape(w) for w in sentence.split()]
    exact = re.search(r"\s+".join(words), passage)
    if exact is not None:
        return exact.start(), exact.end()
    wanted = {w.casefold() for w in _WORD.findall(sentence)}
    if not wanted:
        return None
    best: tuple[float, int, int] | None = None
    for start, end in _sentences(passage):
        found = {w.casefold() for w in _WORD.findall(passage[start:end])}
        share = len(wanted & found) / len(wanted)
        if share >= MIN_OVERLAP and (best is None or share > best[0]):
            best = (share, start, end)
    return (best[1], best[2]) if best is not None else None


def _sentences(text: str) -> Iterable[tuple[int, int]]:
    start = 0
    for gap in _SENTENCE_END.finditer(text):
        yield start, gap.start()
        start = gap.end()
    if start < len(text):
        yield start, len(text)


def quotes(said: Sequence[tuple[int, str]], citations: Sequence[Citation]
           ) -> list[list[int] | None]:
    """For each (citation number, cited sentence) of `said`: [start, end] of the sentence in
    that citation's passage text, or None (no such citation, or the sentence not found)."""
    passages = {c.n: c.passage.text for c in citations}
    found: list[list[int] | None] = []
    for number, sentence in said:
        span = cited_span(passages[number], sentence) if number in passages else None
        found.append(list(span) if span is not None else None)
    return found


def first_quotes(said: Sequence[tuple[int, str]], spans: Sequence[list[int] | None]
                 ) -> dict[str, list[int]]:
    """Citation number (a JSON key) → the first span found for it: what a source list's
    link highlights."""
    first: dict[str, list[int]] = {}
    for (number, _), span in zip(said, spans, strict=True):
        if span is not None:
            first.setdefault(str(number), span)
    return first


def answer_view(answer: Answer) -> dict[str, Any]:
    """The `view` of an answer: `{"lead": str | None, "parts": [...], "quotes": {n: [s, e]}}`.
    `parts` as `answer_parts` gives them, each `{"cite": n}` with its `"quote"`: [start, end]
    of the sentence that marker cites in passage n's text, or None; `quotes`: the first
    such span of each number (see `first_quotes`)."""
    bold, parts = answer_parts(answer.answer, answer.lead)
    said = cited_sentences(answer.answer)
    spans = quotes(said, answer.citations)
    markers = iter(spans)
    for part in parts:
        if "cite" in part:
            part["quote"] = next(markers, None)
    return {"lead": bold, "parts": parts, "quotes": first_quotes(said, spans)}


def brief_view(brief: Brief) -> dict[str, Any]:
    """The `view` of a brief: `{"quotes": {n: [s, e]}}` for its leads and timeline lines."""
    said: list[tuple[int, str]] = []
    for story in brief.stories:
        said.append((story.n, story.lead))
        said.extend((step.n, step.sentence) for step in story.timeline)
    return {"quotes": first_quotes(said, quotes(said, brief.citations))}
