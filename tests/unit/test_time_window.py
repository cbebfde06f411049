"""Time words in questions → publication windows: the rules (pure) and dateparser's search
behind them (the real parser; it does no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ingest.model.records import Article, Chunk, ChunkMeta, SearchFilter
from ingest.store.chunks import chroma_metadata, meta_from_chroma
from retrieval.question.dates import read_question_time
from retrieval.question.time_window import (
    Found,
    TimeWindow,
    asks_change,
    asks_latest,
    question_window,
)

# A Wednesday.
AS_OF = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize(("question", "label", "rest"), [
    ("What happened with the strike last week?", "Articles from 16–22 Nov 2026",
     "What happened with the strike?"),
    ("What happened with the strike in the past week?", "Articles from 19–25 Nov 2026",
     "What happened with the strike?"),
    ("What did the council say yesterday?", "Articles from 24 Nov 2026",
     "What did the council say?"),
    ("What did the minister say in March?", "Articles from March 2026",
     "What did the minister say?"),
    ("Who won in 2005?", "Articles from 2005", "Who won?"),
    ("What happened this year with taxes?", "Articles from 1 Jan – 25 Nov 2026",
     "What happened with taxes?"),
    ("What was agreed before the election on 5 May 2005?", "Articles up to 4 May 2005",
     "What was agreed before the election?"),
    ("What did ferry crews vote for before 12 November?", "Articles up to 11 Nov 2026",
     "What did ferry crews vote for?"),
    ("What happened since 20 November?", "Articles since 20 Nov 2026", "What happened?"),
    ("What did Blair say after 10 November?", "Articles since 11 Nov 2026",
     "What did Blair say?"),
    ("What happened in the past two weeks?", "Articles from 12–25 Nov 2026", "What happened?"),
    ("How many crossings were cancelled in the past ten days?",
     "Articles from 16–25 Nov 2026", "How many crossings were cancelled?"),
    ("Any news from the past week?", "Articles since 19 Nov 2026", "Any news?"),
    ("What happened 3 days ago?", "Articles from 22 Nov 2026", "What happened?"),
    ("What happened last month?", "Articles from October 2026", "What happened?"),
    ("Who won the cup last year?", "Articles from 2025", "Who won the cup?"),
    # A calendar day names the event; its reports follow by days.
    ("What happened on November 12?", "Articles from 12–15 Nov 2026", "What happened?"),
    ("What happened in November 2025?", "Articles from November 2025", "What happened?"),
])
def test_time_words_become_a_window_and_leave_the_question(question: str, label: str,
                                                            rest: str) -> None:
    found = read_question_time(question, AS_OF)
    assert found is not None, question
    assert found.window.label == label
    assert found.question == rest


@pytest.mark.parametrize("question", [
    "What did May say about the budget?",  # a person, not a month
    "How much did profits rise in the three months to December?",  # the period reported on
    "How many died in the 2004 tsunami?",  # a year naming the event
    "Who scored the second goal?",
    "Is the ferry still running now?",  # "now" asks for the latest, it is no window
    "What is the latest on the budget?",
    "When she won the race three years ago, where was it held?",  # the event's time
])
def test_words_that_are_not_a_publication_window_are_left_alone(question: str) -> None:
    assert read_question_time(question, AS_OF) is None


def test_a_future_date_names_no_window() -> None:
    found = Found(text="in 2031", start=9, date=datetime(2031, 1, 1, tzinfo=UTC),
                  period="year")
    assert question_window("Who wins in 2031?", [found], AS_OF) is None


def test_window_bounds_are_whole_days_and_contain_their_ends() -> None:
    window = read_question_time("What happened yesterday?", AS_OF)
    assert window is not None
    since, until = window.window.since, window.window.until
    assert since == datetime(2026, 11, 24, tzinfo=UTC)
    assert until is not None and until.date() == since.date() and until.hour == 23
    assert window.window.contains(datetime(2026, 11, 24, 23, 59, tzinfo=UTC))
    assert not window.window.contains(datetime(2026, 11, 25, 0, 0, tzinfo=UTC))
    assert not window.window.contains(None)


def test_labels_of_explicit_windows() -> None:
    day = datetime(2026, 3, 1, tzinfo=UTC)
    assert TimeWindow(day, None).label == "Articles since 1 Mar 2026"
    assert TimeWindow(None, day).label == "Articles up to 1 Mar 2026"
    assert TimeWindow(day, datetime(2026, 4, 2, tzinfo=UTC)).label == \
        "Articles from 1 Mar – 2 Apr 2026"
    assert TimeWindow(datetime(2025, 12, 30, tzinfo=UTC), day).label == \
        "Articles from 30 Dec 2025 – 1 Mar 2026"
    assert TimeWindow(day, None).as_dict()["since"] == "2026-03-01T00:00:00+00:00"


def test_latest_and_change_cues() -> None:
    assert asks_latest("What's the latest on the budget?")
    assert asks_latest("Is the bridge still closed?")
    assert asks_latest("How many have died so far?")
    assert not asks_latest("How many people died in the storm?")
    assert asks_change("How did the toll change?")
    assert asks_change("Was the forecast revised?")
    assert not asks_change("Who won the final?")


def test_a_day_is_each_articles_own_calendar_day() -> None:
    sydney = datetime(2026, 11, 20, 9, tzinfo=timezone(timedelta(hours=11)))  # 19 Nov in UTC
    new_york = datetime(2026, 11, 20, 21, 25, tzinfo=timezone(timedelta(hours=-5)))  # 21 UTC
    day = SearchFilter(since=datetime(2026, 11, 20, tzinfo=UTC),
                       until=datetime(2026, 11, 20, 23, 59, 59, tzinfo=UTC))
    before = SearchFilter(since=datetime(2026, 11, 19, tzinfo=UTC),
                          until=datetime(2026, 11, 19, 23, 59, 59, tzinfo=UTC))
    window = TimeWindow(day.since, day.until)
    for published in (sydney, new_york):
        article = Article(id="a", title="T", text="Body.", published=published)
        meta = ChunkMeta.of(article, Chunk("a#0", "a", 0, "Body.", "", 0, 5), "h", 1)
        stored = chroma_metadata(meta)
        back = meta_from_chroma("a#0", stored)
        # The publisher's date and offset come back as written, the moment unchanged.
        assert back.published == published and back.published is not None
        assert back.published.utcoffset() == published.utcoffset()
        assert day.accepts(None, back.calendar_epoch) and window.contains(back.published)
        assert not before.accepts(None, back.calendar_epoch)
    # A chunk stored before offsets were kept (no utc_offset): its UTC day, as before.
    old = meta_from_chroma("b#0", {"article_id": "b", "published": 1_795_125_600})
    assert old.published == datetime(2026, 11, 19, 22, tzinfo=UTC)
    assert before.accepts(None, old.calendar_epoch) and not day.accepts(None, old.calendar_epoch)


def test_a_moments_distance_from_a_window_is_zero_inside_it() -> None:
    july = TimeWindow(datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 7, 31, tzinfo=UTC))
    assert july.distance(datetime(2026, 7, 9, tzinfo=UTC)) == timedelta(0)
    assert july.distance(datetime(2026, 6, 29, tzinfo=UTC)) == timedelta(days=2)
    assert july.distance(datetime(2026, 8, 3, tzinfo=UTC)) == timedelta(days=3)
    assert TimeWindow(None, None).distance(datetime(1999, 1, 1, tzinfo=UTC)) == timedelta(0)


def test_a_window_at_the_end_of_the_calendar_is_labelled() -> None:
    # `brief --until 9999-12-31` crashed labelling its period (a fresh-clone tester's finding)
    december = TimeWindow(datetime(9999, 12, 1, tzinfo=UTC),
                          datetime(9999, 12, 31, 23, 59, tzinfo=UTC))
    assert december.label == "Articles from December 9999"
    assert TimeWindow(datetime(2025, 1, 1, tzinfo=UTC),
                      datetime(9999, 12, 31, tzinfo=UTC)).label.endswith("31 Dec 9999")
