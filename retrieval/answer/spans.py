"""The answer inside an answering sentence: the amount, date, name... a question asks for (pure).

Candidates of the asked-for kind are found with patterns; words the question (or the
conversation) already contains are no answer; of the rest, the candidate nearest to the
question's own words in the sentence wins ("the repair cost 84 million euros, ... 19 million
over budget" → the amount next to "cost").
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ingest.text.terms import analyze
from ingest.text.vocabulary import (
    APPROXIMATORS,
    CURRENCY_SIGNS,
    CURRENCY_WORDS,
    DIMENSION_UNITS,
    FORMER_WORDS,
    NOT_ANSWER_NAMES,
    NUMBER_WORDS,
    RELATIVE_DAYS,
    RISE_FALL_WORDS,
    ROLE_WORDS,
    SCALE_ABBREVIATIONS,
    SCALE_WORDS,
    SMALL_WORDS,
    WEEKDAYS,
    alternation,
    month_names,
)
from retrieval.question.answer_types import AnswerType, asked_dimension

_CURRENCY_WORDS = alternation(CURRENCY_WORDS)
_SCALE = rf"(?:\s?(?:{alternation(SCALE_ABBREVIATIONS + SCALE_WORDS)})\b)"
_SIGNS = f"(?:US|A|C|NZ|HK)?[{CURRENCY_SIGNS}]"
_WORD_NUMBER = alternation(NUMBER_WORDS)
_MONEY = re.compile(
    rf"{_SIGNS}\s?\d[\d,]*(?:\.\d+)?{_SCALE}?"
    rf"|\b\d[\d,]*(?:\.\d+)?{_SCALE}?\s?{_CURRENCY_WORDS}\b"
    rf"|\b\d[\d,]*(?:\.\d+)?-(?:million|billion)-{_CURRENCY_WORDS}\b"
    rf"|\b\d[\d,]*(?:\.\d+)?-{_CURRENCY_WORDS}\b"
    rf"|\b\d[\d,]*(?:\.\d+)?(?:bn|m)\b"
    rf"|\b{_WORD_NUMBER}(?:\s(?:hundred|thousand|million|billion))?\s{_CURRENCY_WORDS}\b",
    re.IGNORECASE)
_PERCENT = re.compile(r"\b\d[\d,]*(?:\.\d+)?\s?(?:%|per ?cent\b)", re.IGNORECASE)
_NUMBER = re.compile(
    r"\b\d+-\d+\b"  # a score or a range
    rf"|(?:\b{alternation(APPROXIMATORS)}\s)?"
    rf"(?:\b\d[\d,]*(?:\.\d+)?{_SCALE}?(?![\d,.])(?!(?:st|nd|rd|th)\b)|\b(?:{_WORD_NUMBER})"
    rf"(?:[\s-](?:{_WORD_NUMBER}))*(?:\s(?:million|billion))?\b)",
    re.IGNORECASE)
# Capitalised, as names of months and days are ("may" and "march" are verbs).
_MONTHS = alternation(w.title() for w in month_names())
_WEEKDAYS = alternation(w.title() for w in WEEKDAYS)
_DATE = re.compile(
    rf"\b(?:(?:{_WEEKDAYS}),?\s)?\d{{1,2}}(?:st|nd|rd|th)?\s(?:{_MONTHS})\.?(?:,?\s(?:1[89]|20)\d\d)?\b"
    rf"|\b(?:(?:{_WEEKDAYS}),?\s)?(?:{_MONTHS})\.?\s\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s(?:1[89]|20)\d\d)?\b"
    rf"|\b(?:early |late |mid-)?(?:{_MONTHS})(?:\s(?:1[89]|20)\d\d)\b"
    rf"|\b(?:early |late |mid-)?(?:1[89]|20)\d\d(?:s\b)?"
    rf"|\b(?:{_WEEKDAYS})\b|\b(?:{_MONTHS})\b"
    rf"|\b(?i:{alternation(RELATIVE_DAYS)})\b")
# A quoted title: "The Show Must Go On" (capitalised, short; not quoted speech).
_QUOTED = re.compile(r"[\"“]([A-Z][^\"”]{1,60})[\"”]")
# A run of capitalised words, with the small words that join names ("Bank of England").
_PROPER = re.compile(
    r"\b[A-Z][\w'’&.-]*(?:\s+(?:(?:of|de|da|del|der|van|von|la|le|du|the|and|&)\s+)?"
    r"[A-Z][\w'’&.-]*)*")
# Roles written before a name ("Striker Nadia Kowalski"): the name alone answers "who".
_ROLES = frozenset(ROLE_WORDS)
_SCORE = re.compile(r"\b\d+-\d+\b")
_CHANGE = re.compile(rf"\b{alternation(RISE_FALL_WORDS)}\b", re.IGNORECASE)
_PLACE_CUE = re.compile(r"\b(?:in|at|from|near|to|into|outside|across)\s+$", re.IGNORECASE)
# Before a person's name these mean a place more often than not ("takes over from X" is a
# person, "in Los Angeles" is not).
_NOT_PERSON_CUE = re.compile(r"\b(?:in|at|near|outside|across)\s+$", re.IGNORECASE)
_WORD = re.compile(r"[\w'’-]+")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class SpanMatch:
    """An answer span and the share of the question's (weighted) words that stand within a
    few words of it: a value among the question's words is likelier what was asked."""

    text: str
    near: float
    counted: bool = False  # "11 arrests" for "how many people were arrested"
    choices: int = 1  # values of the asked-for kind in the sentence (1: no doubt which)


def answer_span(sentence: str, question: str, kind: AnswerType, asked: str = "") -> str | None:
    """The part of `sentence` that answers `question` (of kind `kind`), or None. `asked` is
    more text whose words are no answer (the conversation so far)."""
    match = find_span(sentence, question, kind, asked)
    return match.text if match else None


def find_span(sentence: str, question: str, kind: AnswerType, asked: str = "",
              weights: Mapping[str, float] | None = None, measured: str | None = None,
              year: bool = False, role: str | None = None) -> SpanMatch | None:
    """The answer span and its closeness; `weights` weigh the question's terms (IDF) when
    counting those near the span (all 1 without). `measured` is the dimension a "how tall"
    question measures (read from the question when not given); with `year` ("since what
    year?") only a value holding a year answers."""
    if kind in (AnswerType.ANY, AnswerType.REASON):
        return None
    known = {w.lower() for w in _WORD.findall(f"{question} {asked}")}
    candidates = [s for s in _candidates(sentence, kind, question, measured)
                  if not _all_known(s.text, known)]
    if year:
        candidates = [s for s in candidates if _has_year(s.text)]
    if role is not None and kind is AnswerType.PERSON:
        former = [s for s in candidates if named_former(sentence, s.start)]
        kept = former if role == "former" else [s for s in candidates if s not in former]
        candidates = kept or candidates
    if not candidates:
        return None
    anchors = _anchors(sentence, question)
    best = min(candidates, key=lambda s: (_distance(s, anchors), -len(s.text), s.start))
    counted = False
    if kind is AnswerType.NUMBER:
        # Prefer the number that counts what the question counts, then name it.
        counting = [s for s in candidates
                    if _with_counted_noun(sentence, s, question).end > s.end]
        if counting:
            best = min(counting, key=lambda s: (_distance(s, anchors), s.start))
            counted = True
        best = _with_counted_noun(sentence, best, question)
    text = best.text.strip(" ,;:")
    if not text:
        return None
    return SpanMatch(text, _near_terms(sentence, best, question, weights), counted,
                     len(candidates))


def _candidates(sentence: str, kind: AnswerType, question: str,
                measured_dimension: str | None = None) -> list[Span]:
    if kind is AnswerType.MONEY:
        # A percentage is an amount too ("how much did their pay rise?"); a rise or fall is
        # best told by its share, or by both ends ("from 410 euros to about 435 euros").
        money, percent = _matches(_MONEY, sentence), _matches(_PERCENT, sentence)
        if _CHANGE.search(question):
            return percent + _ranges(sentence, money) or money
        return money or percent
    if kind is AnswerType.PERCENT:
        return _matches(_PERCENT, sentence)
    if kind is AnswerType.NUMBER:
        if re.search(r"\bscore\b", question, re.IGNORECASE):
            return _joined(sentence, _matches(_SCORE, sentence))
        dates = _matches(_DATE, sentence)
        numbers = [s for s in _matches(_NUMBER, sentence)
                   if not any(d.start <= s.start and s.end <= d.end and _has_year(d.text)
                              for d in dates)
                   and s.text.lower() != "one"  # "one of", "the one": rarely a count
                   and not _SCORE.fullmatch(s.text)]  # a result, unless asked for
        dimension = measured_dimension or asked_dimension(question)
        if dimension:
            # "How tall?" wants a measure: a number with a unit of that dimension.
            unit = re.compile(rf"^[\s-]?({alternation(DIMENSION_UNITS[dimension])})(?![\w/])",
                              re.IGNORECASE)
            numbers = [_with_unit(sentence, s, unit) for s in numbers
                       if unit.match(sentence[s.end:]) or unit.search(s.text.split()[-1])]
        # "grew from 10cm to 130cm": the value reached, not the one left behind.
        return [s for i, s in enumerate(numbers)
                if i + 1 == len(numbers)
                or not re.fullmatch(r"\s+to\s+", sentence[s.end:numbers[i + 1].start])]
    if kind is AnswerType.DATE:
        return _longest(_matches(_DATE, sentence))
    names = [_without_roles(s) for s in _names(sentence)]
    if kind is AnswerType.PERSON:
        names = [s for s in names if not _NOT_PERSON_CUE.search(sentence[: s.start])]
        people = [s for s in names if len(s.text.split()) >= 2]
        return people or names
    if kind is AnswerType.PLACE:
        cued = [s for s in names if _PLACE_CUE.search(sentence[: s.start])]
        return cued or names
    titles = [q for q in _matches(_QUOTED, sentence, group=1) if _title_like(q.text)]
    return titles or names  # NAME: titles are often quoted


def _ranges(sentence: str, spans: list[Span]) -> list[Span]:
    """"from 410 euros to about 435 euros" as one span, where amounts pair up like that."""
    out = []
    for first, second in itertools.pairwise(spans):
        if re.fullmatch(r"\s+to\s+(?:about\s+|around\s+|nearly\s+|almost\s+)?",
                        sentence[first.end:second.start]) and re.search(
                            r"\bfrom\s+$", sentence[: first.start]):
            start = sentence.rindex("from", 0, first.start)
            out.append(Span(start, second.end, sentence[start:second.end]))
    return out or spans


def _joined(sentence: str, scores: list[Span]) -> list[Span]:
    """"5-4 on penalties after a 2-2 draw": results a few words apart are one answer."""
    if len(scores) >= 2 and len(sentence[scores[0].end:scores[-1].start].split()) <= 5:
        end = scores[-1].end
        if re.match(r"\s+(draw|win|defeat|victory|aggregate)\b", sentence[end:]):
            end += len(re.match(r"\s+\w+", sentence[end:]).group())  # type: ignore[union-attr]
        return [Span(scores[0].start, end, sentence[scores[0].start:end])]
    return scores


def _title_like(text: str) -> bool:
    """ "The Show Must Go On", not quoted speech ("Tony, that's rubbish")."""
    words = [w for w in text.split() if w.lower() not in SMALL_WORDS]
    return bool(words) and len(words) <= 8 and "," not in text and sum(
        w[0].isupper() or w[0].isdigit() for w in words) / len(words) >= 0.6




def _matches(pattern: re.Pattern[str], sentence: str, group: int = 0) -> list[Span]:
    return [Span(m.start(group), m.end(group), m.group(group))
            for m in pattern.finditer(sentence) if m.group(group).strip()]


def _longest(spans: list[Span]) -> list[Span]:
    """Drop spans inside longer ones ("March" inside "14 March 2025")."""
    return [s for s in spans
            if not any(o is not s and o.start <= s.start and s.end <= o.end
                       and len(o.text) > len(s.text) for o in spans)]


def _has_year(text: str) -> bool:
    return bool(re.search(r"\b(1[89]|20)\d\d\b", text))


def _names(sentence: str) -> list[Span]:
    spans = []
    for match in _PROPER.finditer(sentence):
        words = match.group().split()
        start = match.start()
        # Peel off leading words that are capitalised only as the sentence's first word.
        while words and words[0].lower().strip(".") in NOT_ANSWER_NAMES:
            start = sentence.index(words[0], start) + len(words[0])
            words = words[1:]
            while start < len(sentence) and sentence[start] == " ":
                start += 1
        while words and words[-1].lower() in {"of", "and", "the", "&", "de", "van", "von"}:
            words = words[:-1]
        if not words:
            continue
        if start == 0 and len(words) == 1 and words[0].lower().endswith("ly"):
            continue  # "Unfortunately, ..."
        text = " ".join(words).rstrip(".")
        spans.append(Span(start, start + len(text), text))
    return spans


def _with_unit(sentence: str, span: Span, pattern: re.Pattern[str]) -> Span:
    unit = pattern.match(sentence[span.end:])
    if unit is None:
        return span
    end = span.end + unit.end()
    return Span(span.start, end, sentence[span.start:end])


def _without_roles(span: Span) -> Span:
    words = span.text.split()
    start = span.start
    while len(words) >= 2 and words[0].lower() in _ROLES:
        start += len(words[0]) + 1
        words = words[1:]
    return Span(start, span.end, " ".join(words))


def _all_known(text: str, known: set[str]) -> bool:
    words = [w.lower() for w in _WORD.findall(text)]
    significant = [w for w in words if w not in NOT_ANSWER_NAMES]
    return bool(significant) and all(w in known for w in significant)


def _anchors(sentence: str, question: str) -> list[int]:
    """Offsets in `sentence` of the words the question shares with it (stemmed)."""
    wanted = set(analyze(question))
    return [m.start() for m in _WORD.finditer(sentence)
            if (terms := analyze(m.group())) and terms[0] in wanted]


def _distance(span: Span, anchors: list[int]) -> int:
    if not anchors:
        return 0
    return min(0 if span.start <= a < span.end else min(abs(a - span.start), abs(a - span.end))
               for a in anchors)


def _near_terms(sentence: str, span: Span, question: str,
                weights: Mapping[str, float] | None, window: int = 6) -> float:
    wanted = {t: (weights.get(t, 0.0) if weights is not None else 1.0)
              for t in analyze(question)}
    total = sum(wanted.values())
    if total <= 0:
        return 0.0
    before = _WORD.findall(sentence[: span.start])[-window:]
    after = _WORD.findall(sentence[span.end:])[:window]
    found = {t for w in before + after for t in analyze(w) if t in wanted}
    return sum(wanted[t] for t in found) / total


# A role made past just before a name: "former minister Ann Holt", "ex-coach Tom Reid".
_FORMER_BEFORE = re.compile(rf"\b(?:{alternation(FORMER_WORDS)})\b[\s-]+(?:[\w'’-]+\s+){{0,2}}$",
                            re.IGNORECASE)
_STOP_COUNTED = re.compile(
    r"^(?:were|was|are|is|did|do|does|have|has|had|will|would|can|could|in|on|at|through|"
    r"for|from|to|of|by|with|into|during|after|before|\w+ed)$", re.IGNORECASE)


def _counted_words(question: str) -> set[str]:
    """The terms of what "how many" counts: the words after it up to a verb or a
    preposition ("how many people marched" counts people; "how many suspension cables were"
    counts suspension cables); all of the question's terms when it has no "how many"."""
    match = re.search(r"\bhow many\s+(.*)", question, re.IGNORECASE)
    if match is None:
        return set(analyze(question))
    words = []
    for word in _WORD.findall(match.group(1))[:3]:
        if _STOP_COUNTED.match(word):
            break
        words.append(word)
    return set(analyze(" ".join(words))) or set(analyze(question))


def _with_counted_noun(sentence: str, span: Span, question: str) -> Span:
    """'212' → '212 suspension cables' when the question counts cables: the value and the
    next few words, up to the last that is one of the counted words."""
    wanted = _counted_words(question)
    end = span.end
    position = span.end
    for match in itertools.islice(_WORD.finditer(sentence, span.end), 3):
        if sentence[position:match.start()].strip() or match.start() - position > 1:
            break
        position = match.end()
        terms = analyze(match.group())
        if terms and terms[0] in wanted:
            end = match.end()
    return Span(span.start, end, sentence[span.start:end])


# Kinds in order of precedence where two overlap: "€3 million" is an amount, not the number 3.
_VALUE_PRECEDENCE = (AnswerType.MONEY, AnswerType.PERCENT, AnswerType.DATE, AnswerType.NUMBER,
                     AnswerType.NAME)


def value_spans(sentence: str) -> list[tuple[AnswerType, Span]]:
    """Every value in `sentence` that a story's update may change, in order: amounts
    (MONEY), percentages, dates, numbers and names (NAME: runs of capitalised words), as
    (kind, span). A value inside or overlapping a value of an earlier kind of that list is
    left out ("21" of "21 Nov", "3" of "€3 million"), except that a lone month or weekday
    inside a longer name is the name ("Jan Ellison", "May Holt"); "one" is not counted."""
    names = [_without_roles(s) for s in _names(sentence)]
    found: dict[AnswerType, list[Span]] = {
        AnswerType.MONEY: _matches(_MONEY, sentence),
        AnswerType.PERCENT: _matches(_PERCENT, sentence),
        AnswerType.DATE: [d for d in _longest(_matches(_DATE, sentence))
                          if " " in d.text or any(c.isdigit() for c in d.text)
                          or not any(n.start <= d.start and d.end <= n.end
                                     and len(n.text) > len(d.text) for n in names)],
        AnswerType.NUMBER: [s for s in _matches(_NUMBER, sentence) if s.text.lower() != "one"],
        AnswerType.NAME: names,
    }
    kept: list[tuple[AnswerType, Span]] = []
    for kind in _VALUE_PRECEDENCE:
        for span in found[kind]:
            if not any(s.start < span.end and span.start < s.end for _, s in kept):
                kept.append((kind, span))
    return sorted(kept, key=lambda pair: pair[1].start)


_MEASURED_KINDS = {AnswerType.NUMBER: (AnswerType.NUMBER, AnswerType.MONEY, AnswerType.PERCENT),
                   AnswerType.MONEY: (AnswerType.MONEY,),
                   AnswerType.PERCENT: (AnswerType.PERCENT,)}
_APPROXIMATOR = re.compile(rf"^(?:{alternation(APPROXIMATORS)})\s+$", re.IGNORECASE)


def named_former(sentence: str, start: int) -> bool:
    """Whether the value at `start` is named as a former holder ("the now-former governor
    Pierluisi"): no answer to who holds the office now."""
    return bool(_FORMER_BEFORE.search(sentence[:start]))


def shaped_span(sentence: str, start: int, end: int, question: str, kind: AnswerType
                ) -> tuple[int, int]:
    """A reader's span of `sentence` ([start, end), characters) with the boundaries of the
    value it holds: the reader chooses which value, the value's pattern where it starts and
    ends. For an amount, percentage or count asked for, a span overlapping exactly one value
    of that kind becomes that value, keeping an approximator the reader took ("about 435
    euros") and what it read past the value ("5-4 on penalties"), and a count gets the noun
    the question counts: "all 212" → "212 suspension cables", "Five" → "Five people". For a
    date, a span overlapping one date starts at it ("31 years on Saturday" → "Saturday"). Any
    other span is returned as it is. An amount asked to have risen or fallen that is one end
    of "from 410 euros to about 435 euros" becomes the whole range."""
    if kind is AnswerType.DATE:
        # "When did they win?" of "won for the first time in 31 years on Saturday": the
        # reader's "31 years on Saturday" holds one date; the duration before it is no date.
        dates = [span for value_kind, span in value_spans(sentence)
                 if value_kind is AnswerType.DATE and span.start < end and start < span.end]
        if len(dates) == 1 and dates[0].start > start:
            return dates[0].start, max(dates[0].end, end)
        return start, end
    kinds = _MEASURED_KINDS.get(kind)
    if kinds is None:
        return start, end
    values = [span for value_kind, span in value_spans(sentence)
              if value_kind in kinds and span.start < end and start < span.end]
    if len(values) != 1:
        return start, end
    [value] = values
    if kind is AnswerType.MONEY and _CHANGE.search(question):
        # "How much will bills rise?": one end of "from 410 euros to about 435 euros" is the
        # new or old amount, not the rise; both ends tell it.
        ends = [r for r in _ranges(sentence, _matches(_MONEY, sentence))
                if r.start <= value.start and value.end <= r.end and r.text.startswith("from")]
        if ends:
            return ends[0].start, max(ends[0].end, end)
    begin = start if start < value.start and _APPROXIMATOR.match(
        sentence[start:value.start]) else value.start
    finish = max(value.end, end)  # what the reader read on past the value stays
    span = Span(begin, finish, sentence[begin:finish])
    if kind is AnswerType.NUMBER:
        span = _with_counted_noun(sentence, span, question)
    return span.start, span.end
