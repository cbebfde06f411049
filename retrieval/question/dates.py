"""Dates in questions, found by dateparser's search (the adapter; the rules that make a phrase
a publication window are in retrieval.question.time_window)."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime
from functools import cache
from typing import Any

from ingest.text.vocabulary import MONTH_ABBREVIATIONS, MONTHS, WEEKDAYS, alternation
from retrieval.question.time_window import Found, QuestionTime, question_window

# Cheap gate: dateparser (0.2 s to load, a few ms a question) runs only when a question holds
# words that can make a window (time_window's rules then decide): a relative phrase, or a
# preposition before a month, a weekday, a year or a date.
_MONTHS = rf"(?:{alternation(MONTHS)}|{alternation(MONTH_ABBREVIATIONS)}\.?)"
_DAYS = alternation(WEEKDAYS)
_MAYBE = re.compile(
    rf"\b(?:yesterday|today|tonight|ago|(?:this|last|past|previous)\s+(?:\w+\s+)?"
    rf"(?:days?|weeks?|months?|years?|night|morning|{_DAYS})|"
    rf"(?:in|on|since|before|after|until|till|by|during|from|over|within|to)\s+"
    rf"(?:the\s+)?(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?)?"
    rf"(?:{_MONTHS}|{_DAYS}|(?:19|20)\d\d|\d{{4}}-\d\d-\d\d|\d{{1,2}}/\d{{1,2}}))\b",
    re.IGNORECASE)
# Spans dateparser's search does not find ("the past week", "over the last month"); the
# rules in time_window read them like the ones it does find.
_PLAIN_SPAN = re.compile(r"\b(?:the\s+)?(?:past|last|previous)\s+(?P<unit>week|month|year)\b",
                         re.IGNORECASE)
# dateparser's search sometimes leaves a day or a year beside a month out of the phrase
# ("before 12 November" gives "November"): they are taken back in and the phrase re-parsed.
_DAY_BEFORE = re.compile(r"\b\d{1,2}(?:st|nd|rd|th)?(?:\s+of)?\s+$", re.IGNORECASE)
_AFTER_MONTH = re.compile(r"^(?:\s+\d{1,2}(?:st|nd|rd|th)?\b)?(?:,?\s+(?:19|20)\d\d\b)?",
                          re.IGNORECASE)
_MONTH_START = re.compile(rf"^{alternation(month[:3] for month in MONTHS)}",
                          re.IGNORECASE)
_lock = threading.Lock()  # dateparser's caches are not documented as thread-safe


def read_question_time(question: str, as_of: datetime) -> QuestionTime | None:
    """The publication window the question's words give, relative to `as_of`."""
    if not _MAYBE.search(question):
        return None
    as_of = as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
    found = _search(question, as_of)
    taken = [(f.start, f.start + len(f.text)) for f in found]
    for match in _PLAIN_SPAN.finditer(question):
        if not any(start < match.end() and match.start() < end for start, end in taken):
            found.append(Found(text=match.group(0), start=match.start(), date=as_of,
                               period=match.group("unit").lower()))
    return question_window(question, sorted(found, key=lambda f: f.start), as_of)


def _search(question: str, as_of: datetime) -> list[Found]:
    search_dates, parser = _dateparser()
    settings: dict[str, Any] = {
        # dateparser compares with a naive base; the window keeps as_of's zone.
        "RELATIVE_BASE": as_of.replace(tzinfo=None), "PREFER_DATES_FROM": "past",
        "RETURN_TIME_AS_PERIOD": True, "RETURN_AS_TIMEZONE_AWARE": False,
    }
    with _lock:
        hits = search_dates(question, languages=["en"], settings=settings) or []
        found = []
        position = 0
        for hit_text, hit_date in hits:
            start = question.find(hit_text, position)
            if start < 0:
                continue
            text = hit_text
            if _MONTH_START.match(text):
                before = _DAY_BEFORE.search(question[:start])
                after = _AFTER_MONTH.match(question[start + len(text):])
                end = start + len(text) + (after.end() if after else 0)
                start = before.start() if before else start
                text = question[start:end]
            position = start + len(text)
            data = parser(settings).get_date_data(text)
            date = data.date_obj if data.date_obj is not None else hit_date
            found.append(Found(text=text, start=start, date=date.replace(tzinfo=as_of.tzinfo),
                               period=data.period or "day"))
    return found


@cache
def _dateparser() -> tuple[Any, Any]:
    from dateparser.date import DateDataParser
    from dateparser.search import search_dates

    def parser(settings: dict[str, Any]) -> Any:
        return DateDataParser(languages=["en"], settings=settings)

    return search_dates, parser
