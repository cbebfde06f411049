"""The one reader of every value a user types — questions, history, k, sources, dates, a
brief's period, a saved question's number — for the CLI, HTTP, MCP and Slack alike: one set of
limits and words, and one RequestError (naming the field) for each mistake."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from config.durations import parse_interval
from config.errors import RequestError
from ingest.model.records import SearchFilter
from ingest.run.shards import Shard
from ingest.sources.parse import parse_date
from ingest.text.ids import source_names
from ingest.text.vocabulary import DAYS_BACK, DAYS_PER_UNIT, alternation
from retrieval.question.history import Turn
from retrieval.question.time_window import day_label

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 2000  # a question, a search query or a timeline topic
MAX_HISTORY_TURNS = 20  # earlier (question, answer) turns sent with a follow-up
MAX_TURN_CHARS = 8000  # each side of one earlier turn (an answer may be long)
MAX_K = 100  # passages retrieved
MAX_SOURCES = 50  # source restrictions in one request
DEFAULT_PERIOD = "24h"  # a brief's period when none is given

# Relative day words accepted for since/until ("yesterday", "3 days ago", "today").
_RELATIVE_DAY = re.compile(rf"^\s*({alternation(DAYS_BACK)}|(\d{{1,4}})\s+"
                           rf"({alternation(DAYS_PER_UNIT)})s?\s+ago)\s*$", re.I)
K_PROBLEM = f"must be a whole number from 1 to {MAX_K}"


def read_question(name: str, value: str) -> str:
    """`value` with its runs of white space made one space; RequestError under `name` when it
    has no letter or digit, or is longer than MAX_QUESTION_CHARS."""
    question = " ".join(value.split())
    if not any(char.isalnum() for char in question):  # blank, or only marks and spaces
        raise RequestError(name, "is empty: ask a question")
    if len(question) > MAX_QUESTION_CHARS:
        raise RequestError(name, f"is {len(question):,} characters; the limit is "
                                 f"{MAX_QUESTION_CHARS:,}")
    return question


def read_k(k: int | None) -> int | None:
    """`k` as given (None: the settings' k); RequestError unless in 1..MAX_K."""
    if k is not None and not 1 <= k <= MAX_K:
        raise RequestError("k", K_PROBLEM)
    return k


def check_typed_k(k: Any) -> None:
    """RequestError unless `k`, a JSON value, is None or a number itself (not "5", not true)."""
    if k is not None and (isinstance(k, bool) or not isinstance(k, int)):
        raise RequestError("k", K_PROBLEM)


def read_history(turns: Sequence[tuple[str, str]]) -> tuple[Turn, ...]:
    """Earlier (question, answer) turns, stripped; RequestError past MAX_HISTORY_TURNS turns or
    MAX_TURN_CHARS characters on a side."""
    if len(turns) > MAX_HISTORY_TURNS:
        raise RequestError("history", f"{len(turns)} turns; the limit is {MAX_HISTORY_TURNS} "
                                      "(send the most recent)")
    for number, (asked, said) in enumerate(turns, start=1):
        if max(len(asked), len(said)) > MAX_TURN_CHARS:
            raise RequestError("history", f"turn {number} is longer than "
                                          f"{MAX_TURN_CHARS:,} characters")
    return tuple((asked.strip(), said.strip()) for asked, said in turns)


def read_sources(value: Sequence[str] | str | None, *, limit: int | None = MAX_SOURCES
                 ) -> tuple[str, ...]:
    """Source restrictions (a name, or a list) as a filter names them (ingest.text.ids.
    source_names), blanks dropped; RequestError past `limit` of them (None: no limit)."""
    sources = (value,) if isinstance(value, str) else tuple(value or ())
    sources = tuple(s.strip() for s in sources if s.strip())
    if limit is not None and len(sources) > limit:
        raise RequestError("source", f"at most {limit} sources in one request")
    return source_names(sources)


def read_moment(name: str, value: str | None, as_of: datetime | None,
                end_of_day: bool) -> datetime | None:
    """A date a user typed: YYYY-MM-DD, an ISO or RFC 822 time, or "today", "yesterday",
    "N days/weeks ago" (read as of `as_of`, default now). A bare day as `until` includes that
    whole day. None for no value; RequestError under `name` for anything else."""
    if value is None or not value.strip():
        return None
    try:
        return read_date(value.strip(), as_of, end_of_day)
    except (OverflowError, ValueError):  # out of range, or an offset of a day or more
        pass
    raise RequestError(name, f"not a date: {shown(value)} (use YYYY-MM-DD, or e.g. "
                             "\"yesterday\", \"3 days ago\")")


def read_date(text: str, as_of: datetime | None, end_of_day: bool) -> datetime:
    """`text` as a moment (see read_moment); OverflowError or ValueError when it is no usable
    date."""
    relative = _RELATIVE_DAY.match(text)
    if relative is not None:
        now = as_of or datetime.now(UTC)
        word = relative.group(1).lower()
        back = DAYS_BACK.get(word)
        if back is None:
            back = int(relative.group(2)) * DAYS_PER_UNIT[relative.group(3).lower()]
        day = (now - timedelta(days=back)).replace(hour=0, minute=0, second=0, microsecond=0)
        return day + timedelta(days=1, microseconds=-1) if end_of_day else day
    parsed = parse_date(text)
    if parsed is None:
        raise ValueError(f"not a date: {text!r}")
    try:
        parsed.astimezone(UTC)  # an offset of 24 h or more fails here, not in a later query
    except (OverflowError, ValueError):
        raise ValueError(f"not a date: {text!r}") from None
    if end_of_day and len(text.strip()) <= 10:
        parsed += timedelta(days=1, microseconds=-1)
    return parsed


def read_period(since: str | None, until: str | None, sources: Sequence[str] = (),
                as_of: datetime | None = None) -> SearchFilter:
    """The period of a brief: `since` a duration back from `as_of` (default now: "24h",
    "3d") or a date as `ask` reads one (YYYY-MM-DD: from that day's start; "yesterday", "3
    days ago"), `until` a date (that whole day) or, when absent, `as_of` (default now) — so
    `--since 2026-12-01` reads as `git log --since` does. ValueError for anything else ("not
    a date: …", "… is before since …")."""
    since = since or DEFAULT_PERIOD
    try:
        seconds = parse_interval(since)
    except ValueError:
        seconds = None
    now = as_of or datetime.now(UTC)
    # Dates are compared as each publisher's wall clock read as UTC (SearchFilter).
    try:
        start = (now - timedelta(seconds=seconds) if seconds is not None
                 else read_date(since, as_of, False))
    except OverflowError:
        raise ValueError(f"{since!r} back from {day_label(now)} is before the calendar's "
                         "first day") from None
    last = read_date(until, as_of, True) if until else None
    if last is not None and last < start:
        raise ValueError(f"{until!r} is before since {since!r}")
    if until is None or (seconds is not None and not until):
        last = now  # none: up to as_of; an empty one after a date has always left it open
    return SearchFilter(sources=tuple(sources), since=start, until=last)


def chat_period(text: str) -> dict[str, str]:
    """The period typed after "brief" in a chat, as brief fields: none (the default), a
    duration back ("3d": since), or a date ("2026-12-01", "yesterday": that one day)."""
    text = text.strip()
    if not text:
        return {}
    try:
        read_date(text, None, False)
    except (OverflowError, ValueError):  # a duration, or not a date: read as since says
        return {"since": text}
    return {"since": text, "until": text}


def read_brief_period(since: str | None, until: str | None, sources: Sequence[str],
                      as_of: str | None) -> SearchFilter:
    """read_period from a user's text (`as_of` too); RequestError naming since, until or
    as_of."""
    moment = read_moment("as_of", as_of, None, False)  # as ask reads it
    try:
        return read_period(since or DEFAULT_PERIOD, until, sources, moment)
    except (ValueError, OverflowError) as exc:  # OverflowError: out of the calendar
        bad_until = bool(until) and repr(until) in str(exc)
        if bad_until:
            raise RequestError("until", f"{exc} (use YYYY-MM-DD, or e.g. \"yesterday\")"
                               ) from None
        raise RequestError("since", f"{exc} (use a duration such as 24h or 3d, or YYYY-MM-DD, "
                                    "or e.g. \"yesterday\")") from None


def read_watch_number(value: Any) -> int:
    """A saved question's number as typed ("3", "#3"); RequestError under "id" when it is
    not a whole number."""
    try:
        return int(str(value).strip().lstrip("#"))
    except ValueError:
        raise RequestError("id", f"not a saved question's number: {value!r}") from None


_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_shard(text: str) -> Shard:
    """"2/4" → Shard(2, 4); a ValueError that says the form otherwise."""
    match = _SHARD.match(text or "")
    if match is None:
        raise ValueError(f"not a shard: {text!r} (use i/N, e.g. 1/4)")
    return Shard(int(match.group(1)), int(match.group(2)))


def read_shard(text: str | None) -> Shard | None:
    """`ingest --shard i/N` as typed; None for none, RequestError under "--shard" otherwise."""
    if text is None:
        return None
    try:
        return parse_shard(text)
    except ValueError as exc:
        raise RequestError("--shard", str(exc)) from None


LARGEST_WATCH_NUMBER = 2**63 - 1  # SQLite's largest integer: no saved question has a larger id


def can_exist(watch_id: int) -> bool:
    """Whether a saved question could have this number (they count up from 1): one that
    cannot is simply not there, rather than an error of the store."""
    return 1 <= watch_id <= LARGEST_WATCH_NUMBER


def shown(value: str, limit: int = 60) -> str:
    """A user's value as an error quotes it: repr, cut to `limit` characters."""
    return repr(value if len(value) <= limit else value[:limit] + "…")
