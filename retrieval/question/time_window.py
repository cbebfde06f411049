"""Time in a question, as a publication window (pure).

The date parser (retrieval.question.dates) finds a phrase and the date and granularity it names;
this
module decides whether the phrase is about when articles were published ("last week", "in
March", "since Monday", "before the election on 5 May 2005") rather than part of what is asked
("profits in the three months to December", "what did May say?"), and turns it into a
window: whole days, both ends inclusive, relative to the `as_of` moment.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal

from ingest.text.vocabulary import (
    LATEST_WORDS,
    MONTHS,
    NUMBER_VALUES,
    NUMBER_WORDS,
    WEEKDAYS,
    alternation,
    month_names,
)

Period = Literal["day", "week", "month", "year"]

_MONTH = alternation(month_names())
_WEEKDAY = alternation(WEEKDAYS)
# A weekday names a calendar day as a date does ("on Tuesday", "last Saturday").
_NAMED_DAY = re.compile(rf"\b{_WEEKDAY}\b", re.IGNORECASE)
_DAY_BEFORE_DATE = re.compile(rf"^{_WEEKDAY},? (?=\d|{_MONTH})", re.IGNORECASE)
_NUMBER = rf"(?:\d+|{'|'.join(NUMBER_WORDS[:12])}|a|few)"
_UNIT = r"(?:days?|weeks?|months?|years?)"
# Phrases that can only be about time; others need a preposition that makes them a window.
_RELATIVE = re.compile(
    rf"^(?:yesterday|today|tonight|this (?:morning|afternoon|evening|week|month|year)|"
    rf"last (?:night|week|month|year|{_WEEKDAY})|(?:the )?(?:past|previous|last) "
    rf"(?:week|month|year)|"
    rf"(?:(?:the )?(?:past|last|previous) )?{_NUMBER} {_UNIT}(?: ago)?|"
    rf"{_WEEKDAY}|{_NUMBER} {_UNIT} ago)$", re.IGNORECASE)
_ROLLING = re.compile(rf"^(?:the )?(?P<word>past|last|previous)(?: (?P<n>{_NUMBER}))? "
                      rf"(?P<unit>{_UNIT})$", re.IGNORECASE)
_CALENDAR = re.compile(rf"^(?:{_MONTH}\.?(?: \d{{1,2}}(?:st|nd|rd|th)?)?,?(?: \d{{4}})?|"
                       rf"\d{{1,2}}(?:st|nd|rd|th)? (?:of )?{_MONTH}\.?(?:,? \d{{4}})?|"
                       rf"(?:19|20)\d\d|\d{{4}}-\d\d-\d\d|\d{{1,2}}/\d{{1,2}}/\d{{2,4}})$",
                       re.IGNORECASE)
# A preposition the parser took into the phrase ("after 10 November", "by Friday").
_LEADING = re.compile(r"^(?P<word>in|on|at|during|since|after|from|before|prior to|until|"
                      r"till|up to|by)\s+", re.IGNORECASE)
# Words the parser leaves out of a rolling span: "the past | two weeks".
_SPAN_START = re.compile(r"\b(?:the\s+)?(?:past|last|previous)\s+$", re.IGNORECASE)
# What the words before the phrase make of it.
_RELATION = re.compile(
    r"\b(?P<word>since|after|from|before|prior to|until|till|up to|by|in|on|during|over|"
    r"within)\b"
    r"(?:\s+(?!since|after|from|before|until|till|by)[\w'’-]+){0,3}\s*$", re.IGNORECASE)
_RELATIONS = {"since": "since", "after": "after", "from": "since", "before": "before",
              "prior to": "before", "until": "until", "till": "until", "up to": "until",
              "by": "until", "in": "in", "on": "in", "during": "in", "at": "in", "over": "in",
              "within": "in"}
# A calendar day in a question names when something happened; the articles that report it
# are published on that day or up to this many days later.
EVENT_REPORT_DAYS = 3
_LATEST = re.compile(rf"\b{alternation(LATEST_WORDS)}\b", re.IGNORECASE)
_CHANGE = re.compile(r"\b(change[ds]?|revised?|revision|risen|rose|fallen|fell|went up|went "
                     r"down|updated?|from .+ to|how did .+ (?:grow|shrink|move))\b",
                     re.IGNORECASE)


@dataclass(frozen=True)
class TimeWindow:
    """Articles published from `since` to `until` (either may be open); `phrase` is the
    question's words it came from, empty for a window given with --since/--until."""

    since: datetime | None
    until: datetime | None
    phrase: str = ""

    @property
    def label(self) -> str:
        """How the answer names it: "Articles from 17–23 Nov 2026"."""
        since, until = self.since, self.until
        if since is not None and until is not None:
            return f"Articles from {_span(since, until)}"
        if since is not None:
            return f"Articles since {day_label(since)}"
        if until is not None:
            return f"Articles up to {day_label(until)}"
        return "All articles"

    def contains(self, moment: datetime | None) -> bool:
        """Whether an article published at `moment` is in the window, by the publisher's own
        calendar: wall-clock times compared (as the stores filter)."""
        if moment is None:
            return False
        wall = moment.replace(tzinfo=UTC)
        return (self.since is None or wall >= self.since.replace(tzinfo=UTC)) and (
            self.until is None or wall <= self.until.replace(tzinfo=UTC))

    def distance(self, moment: datetime) -> timedelta:
        """How far `moment` lies outside the window (zero inside it), wall clocks compared."""
        wall = moment.replace(tzinfo=UTC)
        if self.since is not None and wall < self.since.replace(tzinfo=UTC):
            return self.since.replace(tzinfo=UTC) - wall
        if self.until is not None and wall > self.until.replace(tzinfo=UTC):
            return wall - self.until.replace(tzinfo=UTC)
        return timedelta(0)

    def as_dict(self) -> dict[str, Any]:
        return {"since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None,
                "phrase": self.phrase or None, "label": self.label}


@dataclass(frozen=True)
class Found:
    """A date phrase the parser found: where, the date it names and at what granularity."""

    text: str
    start: int
    date: datetime
    period: str  # the parser's granularity: day, week, month, year (or time)


@dataclass(frozen=True)
class QuestionTime:
    """The window a question's own words give, and the question without those words."""

    window: TimeWindow
    question: str


def question_window(question: str, found: list[Found], as_of: datetime) -> QuestionTime | None:
    """The first phrase that is about publication time, as a window; None when there is none."""
    for hit in found:
        span_start = _SPAN_START.search(question[: hit.start])
        item = hit if span_start is None else replace(
            hit, text=question[span_start.start():hit.start] + hit.text,
            start=span_start.start())
        text = item.text.strip()
        relation, cut = _relation(question[: item.start])
        leading = _LEADING.match(text)
        phrase = text[leading.end():] if leading else text
        if leading is not None:
            own = _RELATIONS[leading.group("word").lower()]
            # "before the election on 5 May": the "before" said earlier still holds.
            relation = relation if own == "in" and relation not in ("", "in") else own
            cut = item.start
        # "Tuesday 24 November" is the date; the weekday only confirms it.
        phrase = _DAY_BEFORE_DATE.sub("", phrase)
        if not _is_time(phrase, relation):
            continue
        window = _window(phrase, item, relation, as_of)
        if window is None:
            continue
        rest = f"{question[:cut]} {question[item.start + len(item.text):]}"
        stripped = re.sub(r"\s+([?.!,;])", r"\1", " ".join(rest.split()))
        return QuestionTime(window, stripped if len(stripped) > 3 else question)
    return None


def _relation(before: str) -> tuple[str, int]:
    """What the words just before a phrase make of it ("since", "before"... or "" for none),
    and where the phrase's own words start (a preposition right before it goes with it)."""
    match = _RELATION.search(before)
    if match is None:
        return "", len(before)
    relation = _RELATIONS[match.group("word").lower()]
    adjacent = not before[match.end("word"):].strip()
    return relation, match.start("word") if adjacent else len(before)


def asks_latest(question: str) -> bool:
    """"What's the latest on…", "Is the road still closed?", "How many now…"."""
    return bool(_LATEST.search(question))


def asks_change(question: str) -> bool:
    """Whether the question asks how a value changed (then the earlier value is wanted too)."""
    return bool(_CHANGE.search(question))


def _is_time(phrase: str, relation: str) -> bool:
    if re.search(r"\byears? ago$", phrase, re.IGNORECASE):
        return False  # "won three years ago" dates the event, not the article
    if _RELATIVE.match(phrase):
        return True
    # A bare month or year is a window only after a preposition: "in March", "since 2004";
    # "May said", "the 2005 budget" are not.
    return bool(_CALENDAR.match(phrase)) and relation != ""


def _window(phrase: str, found: Found, relation: str, as_of: datetime) -> TimeWindow | None:
    today = _start(as_of)
    rolling = _ROLLING.match(phrase)
    if rolling and not phrase.lower().endswith("ago"):
        count = _count(rolling.group("n"))
        unit = rolling.group("unit").lower().rstrip("s")
        days = {"day": 1, "week": 7, "month": 30, "year": 365}[unit] * count
        if rolling.group("n") is None and unit in ("week", "month", "year") and \
                rolling.group("word").lower() != "past":
            # "last week", "last month", "last year": the calendar week (Monday to Sunday),
            # month or year before this one, as "this week" is the calendar week so far;
            # "the past week" is the last seven days.
            before = {"week": today - timedelta(days=today.weekday() + 1),
                      "month": today.replace(day=1) - timedelta(days=1),
                      "year": today.replace(year=today.year - 1, day=1)}[unit]
            start, end = _period(before, unit)
        else:
            start, end = today - timedelta(days=days - 1), today
    elif phrase.lower().startswith("this ") and not phrase.lower().endswith(
            ("morning", "afternoon", "evening")):
        unit = phrase.rsplit(maxsplit=1)[-1].lower()
        start = {"week": today - timedelta(days=today.weekday()),
                 "month": today.replace(day=1),
                 "year": today.replace(month=1, day=1)}[unit]
        end = today
    else:
        period = _granularity(phrase, found)
        start, end = _period(found.date, period)
        if period == "day" and ((relation == "in" and _CALENDAR.match(phrase))
                                or (relation in ("in", "") and _NAMED_DAY.search(phrase))):
            # "How many marched on 18 August?" names the day of the event: the reports of
            # it follow by a day or more ("yesterday, thousands marched").
            end = start + timedelta(days=EVENT_REPORT_DAYS)
    if start > today:
        return None  # a future date names no published article
    end = min(end, today)
    last = datetime.combine(end.date(), time.max, tzinfo=end.tzinfo)
    if relation == "since":
        return TimeWindow(start, None, phrase)
    if relation == "after":
        return TimeWindow(last + timedelta(microseconds=1), None, phrase)
    if relation == "before":
        return TimeWindow(None, start - timedelta(microseconds=1), phrase)
    if relation == "until":
        return TimeWindow(None, last, phrase)
    return TimeWindow(start, last, phrase)


def _granularity(phrase: str, found: Found) -> Period:
    if re.fullmatch(r"(?:19|20)\d\d", phrase):
        return "year"
    if re.fullmatch(rf"{_MONTH}\.?(?:,? \d{{4}})?", phrase, re.IGNORECASE):
        return "month"
    period = found.period if found.period in ("day", "week", "month", "year") else "day"
    return period  # type: ignore[return-value]


def _period(date: datetime, period: str) -> tuple[datetime, datetime]:
    """The first and last day of the period holding `date` (both at midnight)."""
    day = _start(date)
    if period == "year":
        return day.replace(month=1, day=1), day.replace(month=12, day=31)
    if period == "month":
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return first, following - timedelta(days=1)
    if period == "week":
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)
    return day, day


def _start(moment: datetime) -> datetime:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.combine(moment.date(), time.min, tzinfo=moment.tzinfo)


def _count(word: str | None) -> int:
    if word is None or word.lower() in ("a", "the"):
        return 1
    if word.isdigit():
        return max(1, int(word))
    return NUMBER_VALUES.get(word.lower(), 3 if word.lower() == "few" else 1)


def relative_day(phrase: str, published: datetime) -> datetime | None:
    """The day a relative phrase in an article names, read against the article's date:
    "yesterday" in a 24 Nov article is 23 Nov; "Monday" is the last Monday on or before it
    (news reports what happened); None for a phrase that names no day."""
    words = phrase.lower().split()
    if not words:
        return None
    if words[-1] in ("today", "tonight") or phrase.lower() in ("this morning", "last night"):
        return published - timedelta(days=1) if phrase.lower() == "last night" else published
    if words[-1] == "yesterday":
        return published - timedelta(days=1)
    if words[-1] == "tomorrow":
        return published + timedelta(days=1)
    if len(words) == 1 and words[0] in WEEKDAYS:
        back = (published.weekday() - WEEKDAYS.index(words[0])) % 7
        return published - timedelta(days=back)
    return None


def day_label(moment: datetime) -> str:
    """24 Nov 2026."""
    return f"{moment.day} {MONTHS[moment.month - 1][:3].title()} {moment.year}"


def _span(since: datetime, until: datetime) -> str:
    """17–23 Nov 2026; 28 Oct – 3 Nov 2026; March 2026; 2005."""
    first, last = since.date(), until.date()
    if first == last:
        return day_label(since)
    if first.day == 1 and first.month == 1 and last.month == 12 and last.day == 31 \
            and first.year == last.year:
        return str(first.year)
    # last day of its month (not `last + 1 day`: that runs past 9999-12-31)
    month_end = last.day == calendar.monthrange(last.year, last.month)[1]
    if first.day == 1 and month_end and first.month == last.month \
            and first.year == last.year:
        return f"{MONTHS[first.month - 1].title()} {first.year}"
    month = MONTHS[last.month - 1][:3].title()
    if first.year == last.year and first.month == last.month:
        return f"{first.day}–{last.day} {month} {last.year}"
    if first.year == last.year:
        return f"{first.day} {MONTHS[first.month - 1][:3].title()} – {last.day} {month} " \
               f"{last.year}"
    return f"{day_label(since)} – {day_label(until)}"
