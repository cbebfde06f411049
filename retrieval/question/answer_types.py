"""What kind of answer a question asks for, and whether a sentence offers one (pure)."""

from __future__ import annotations

import re
from enum import Enum

from ingest.text.vocabulary import (
    CURRENCY_SIGNS,
    CURRENCY_WORDS,
    HOW_DIMENSIONS,
    MONTHS,
    NUMBER_WORDS,
    REASON_CUES,
    RELATIVE_DAYS,
    SCALE_WORDS,
    WEEKDAYS,
    WHAT_DIMENSIONS,
    alternation,
)


class AnswerType(Enum):
    MONEY = "money"
    NUMBER = "number"
    PERCENT = "percent"
    DATE = "date"
    PERSON = "person"
    PLACE = "place"
    NAME = "name"  # some proper name or title, e.g. "which band", "what is it called"
    REASON = "reason"  # "why?": a sentence that gives a cause or a purpose
    ANY = "any"


_RULES: list[tuple[re.Pattern[str], AnswerType]] = [
    # A toll of the dead, the injured or the missing is a count, not a fee.
    (re.compile(r"\b(death|casualty|injury|human|body|fatality|final) tolls?\b"),
     AnswerType.NUMBER),
    (re.compile(r"^\W*(and |but |so )?(why|how come)\b|\bwhat (caused|was the reason)\b|"
                r"\bfor what reason\b"), AnswerType.REASON),
    (re.compile(r"\b(what|which) (percentage|percent|proportion|share)\b"), AnswerType.PERCENT),
    (re.compile(r"\bhow much (weight|time|ground|land|rain|snow|water|space)\b"),
     AnswerType.NUMBER),
    (re.compile(r"\bwhat(?: is|'s| was| are| were| will be) the (?:\w+ ){0,2}(toll|price|fare|"
                r"fee|cost|salary|fine|budget|bill|prize|bid|offer|value)s?\b"), AnswerType.MONEY),
    (re.compile(r"\bhow much\b.*\b(cost|pay|paid|worth|spend|spent|price|invest|fine|fined|"
                r"raise|raised|charge|sold|sell|earn|bid|offer|deal|fee|value|valued|"
                r"money|budget|profit|loss|lost|owe|debt|compensation|damages|go for|went for|"
                r"fetch|fetched|auction|bought|rise|rises|risen|rose|increase|go up|bill|bills|"
                r"toll|fare|salary|wage|wages)\b"),
     AnswerType.MONEY),
    (re.compile(r"\bhow (many|much|long|old|far|big|large|tall|fast|often)\b|\bwhat age\b|"
                r"\bscore\b|\bby how much\b"), AnswerType.NUMBER),
    (re.compile(r"\bwhen\b|\bwhat (year|date|day|month|time)\b|\bwhich (year|month|day)\b"),
     AnswerType.DATE),
    (re.compile(r"^(who|whom|whose)\b|\b(who|whom|whose)\b"), AnswerType.PERSON),
    (re.compile(r"^where\b|\bwhere (is|was|are|were|will|did|does|do)\b"), AnswerType.PLACE),
    (re.compile(r"\b(which|what) (band|group|company|firm|club|team|country|city|film|"
                r"album|song|show|series|brand|channel|newspaper|party|province|county|"
                r"network|airline|bank|game|book|award|title)\b|\bcalled\b|\bnamed?\b|"
                r"^which \w+"),
     AnswerType.NAME),
]

_MONEY = re.compile(
    rf"[{CURRENCY_SIGNS}]\s?\d|\d\s?(bn|m|k)\b|\b\d[\d,.]*\s?(?:{alternation(SCALE_WORDS)}|"
    rf"{alternation(CURRENCY_WORDS)})\b|\b{alternation(SCALE_WORDS)}\b|"
    rf"\b{alternation(NUMBER_WORDS)}\s{alternation(CURRENCY_WORDS)}\b", re.IGNORECASE)
_NUMBER = re.compile(
    rf"\d|\b(?:{alternation(NUMBER_WORDS + SCALE_WORDS)}|double|twice)\b", re.IGNORECASE)
_PERCENT = re.compile(r"\d\s?%|\bper ?cent\b|\bpercentage\b", re.IGNORECASE)
_DATE = re.compile(
    rf"\b(1[89]\d\d|20\d\d)\b|\b(?:{alternation(m.title() for m in MONTHS + WEEKDAYS)})\b"
    rf"|\b(?i:{alternation(RELATIVE_DAYS)})\b")
_REASON = re.compile(rf"\b{alternation(REASON_CUES)}\b", re.IGNORECASE)
_PROPER = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'’-]+")


_LEADING = re.compile(r"^(when|if|after|before|while|as|since|once)\b[^,?]{3,},\s*", re.IGNORECASE)
_FIRST_WORD = {"where": AnswerType.PLACE, "who": AnswerType.PERSON, "whom": AnswerType.PERSON,
               "whose": AnswerType.PERSON}


def answer_type(question: str) -> AnswerType:
    # The main clause asks: "When X won the race, where was it held?" asks for a place.
    q = _LEADING.sub("", question.strip()).lower()
    first = re.match(r"\W*(\w+)", q)
    if first and first.group(1) in _FIRST_WORD and not _RULES[0][0].search(q):
        return _FIRST_WORD[first.group(1)]
    for pattern, kind in _RULES:
        if pattern.search(q):
            return kind
    return AnswerType.ANY


def offers(sentence: str, kind: AnswerType, question: str) -> bool:
    """Whether `sentence` contains something of the asked-for kind that the question lacks."""
    if kind is AnswerType.ANY:
        return True
    if kind is AnswerType.MONEY:
        # A percentage is an amount too ("how much did their pay rise?").
        return bool(_MONEY.search(sentence) or _PERCENT.search(sentence))
    if kind is AnswerType.REASON:
        return bool(_REASON.search(sentence))
    if kind is AnswerType.NUMBER:
        return bool(_NUMBER.search(_without(sentence, question)))
    if kind is AnswerType.PERCENT:
        return bool(_PERCENT.search(sentence))
    if kind is AnswerType.DATE:
        return bool(_DATE.search(_without(sentence, question)))
    # PERSON, PLACE, NAME: a capitalised word that the question does not already contain.
    asked = {w.lower() for w in re.findall(r"[\w'’-]+", question)}
    return any(m.group().lower() not in asked for m in _PROPER.finditer(sentence)) or bool(
        kind is AnswerType.NAME and re.search(r"[\"“'‘]\w", sentence))


def _without(sentence: str, question: str) -> str:
    """The sentence minus tokens the question already has (so '2004' in both is no answer)."""
    asked = {w.lower() for w in re.findall(r"\w+", question)}
    return " ".join(w for w in re.findall(r"[\w%$£€.,'-]+", sentence) if w.lower() not in asked)


_MEASURED = re.compile(rf"\bhow ({'|'.join(HOW_DIMENSIONS)})\b|"
                       rf"\bwhat ({'|'.join(WHAT_DIMENSIONS)})\b|\bhow much (weight)\b",
                       re.IGNORECASE)
def asked_dimension(question: str) -> str | None:
    """The dimension `question` measures, lower-case ("How tall is it?" → "tall"; a key of
    DIMENSION_UNITS), or None."""
    measured = _MEASURED.search(question)
    return next(g for g in measured.groups() if g).lower() if measured else None
