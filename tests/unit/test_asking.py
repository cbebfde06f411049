"""The one request model (bot.app.asking.read_request): every front end's limits and messages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.app.asking import Desk, Request, read_request
from bot.app.user_values import MAX_HISTORY_TURNS, MAX_QUESTION_CHARS
from config.errors import RequestError
from ingest.model.records import SearchFilter
from retrieval.records import Answer

AS_OF = "2026-11-25"


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"question": "   \n\t"}, "question", "is empty"),
    ({"question": "x" * (MAX_QUESTION_CHARS + 1)}, "question", "the limit is 2,000"),
    ({"question": "Who?", "k": 0}, "k", "from 1 to 100"),
    ({"question": "Who?", "k": -1}, "k", "from 1 to 100"),
    ({"question": "Who?", "k": 10**9}, "k", "from 1 to 100"),
    ({"question": "Who?", "k": "many"}, "k", "from 1 to 100"),
    ({"question": "Who?", "since": "soon"}, "since", "not a date"),
    ({"question": "Who?", "until": "2026-13-45"}, "until", "not a date"),
    ({"question": "Who?", "since": "2026-03-02", "until": "2026-03-01"}, "until", "before"),
    ({"question": "Who?", "as_of": "someday"}, "as_of", "not a date"),
    ({"question": "Who?", "history": [["q", "a"]] * (MAX_HISTORY_TURNS + 1)}, "history",
     "the limit is 20"),
    ({"question": "Who?", "colour": "red"}, "colour", "not permitted"),
    ({"question": 42}, "question", "valid string"),
    ({"question": "\u200b \u200b"}, "question", "is empty"),  # zero-width spaces only
    ({"question": "Who?", "as_of": "0001-01-01", "since": "yesterday"}, "since",
     "not a date"),  # out of the calendar's range
    ({"question": "Who?", "since": "2026-11-25T10:00:00+25:00"}, "since", "not a date"),
    ({"question": "Who?", "since": "x" * 500_000}, "since", "…'"),  # quoted, cut short
])
def test_bad_requests_name_their_field(fields: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(RequestError) as raised:
        read_request(fields)
    assert raised.value.field == field
    assert words in str(raised.value) and str(raised.value).startswith(f"{field}: ")
    assert raised.value.exit_code == 2


@pytest.mark.parametrize(("fields", "field"), [
    ({"question": "Who?", "k": "5"}, "k"), ({"question": "Who?", "k": True}, "k"),
    ({"question": "Who?", "k": 5.0}, "k"), ({"question": "Who?", "explain": "yes"}, "explain"),
    ({"question": "Who?", "time_words": 0}, "time_words"),
])
def test_a_json_body_gives_each_field_its_own_type(fields: dict[str, Any], field: str) -> None:
    # {"k": "5"} and {"explain": "yes"} were taken by the API (a tester's finding); a query
    # string or a flag, whose values are all text, still may say k=5
    with pytest.raises(RequestError) as raised:
        read_request(fields, typed=True)
    assert raised.value.field == field
    assert read_request({"question": "Who?", "k": 5, "explain": True}, typed=True).k == 5
    assert read_request({"question": "Who?", "k": "5"}).k == 5


def test_the_question_is_named_as_the_front_end_calls_it() -> None:
    with pytest.raises(RequestError, match=r"^q: is empty"):
        read_request({"question": " "}, name="q")


def test_a_good_request_is_normalised() -> None:
    asked = read_request({"question": "  Who   won\nthe cup? ", "k": "5", "source": "BBC",
                          "since": "2026-03-01", "until": "2026-03-01", "as_of": AS_OF,
                          "history": [[" Who played? ", " Port Alder. "]]})
    assert asked.question == "Who won the cup?"
    assert asked.k == 5 and asked.where.sources == ("BBC",)
    assert asked.history == (("Who played?", "Port Alder."),)
    assert asked.where.since == datetime(2026, 3, 1, tzinfo=UTC)
    assert asked.where.until is not None and asked.where.until.date().isoformat() == "2026-03-01"
    assert asked.where.until.hour == 23  # a bare day as `until` includes the whole day


@pytest.mark.parametrize(("since", "day"), [
    ("yesterday", "2026-11-24"), ("today", "2026-11-25"), ("3 days ago", "2026-11-22"),
    ("2 weeks ago", "2026-11-11"),
])
def test_relative_days_are_read_as_of_the_request(since: str, day: str) -> None:
    asked = read_request({"question": "Who?", "since": since, "until": since, "as_of": AS_OF})
    assert asked.where.since is not None and asked.where.until is not None
    assert asked.where.since.date().isoformat() == day
    assert asked.where.until.date().isoformat() == day and asked.where.until.hour == 23


class RecordingEngine:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def ask(self, question: str, history: Any = (), **kwargs: Any) -> Answer:
        self.calls.append((question, {"history": history, **kwargs}))
        return Answer(question=question, answer="a", abstained=False, citations=(), passages=())

    def timeline(self, topic: str, **kwargs: Any) -> Answer:
        return self.ask(topic)

    def windowed(self, question: str, where: SearchFilter | None, as_of: Any
                 ) -> tuple[str, SearchFilter | None]:
        # As the engine does: "last week" leaves the query and becomes the window.
        if question.endswith(" last week"):
            return question.removesuffix(" last week"), SearchFilter(
                since=datetime(2026, 11, 16, tzinfo=UTC), until=datetime(2026, 11, 22, tzinfo=UTC))
        return question, where

    def search(self, question: str, **kwargs: Any) -> list[Any]:
        self.calls.append((question, kwargs))
        return []


def test_search_applies_the_query_time_words_as_ask_does() -> None:
    engine = RecordingEngine()
    found = Desk(engine).search(Request("ferry strike last week"), "api")
    assert engine.calls[0][0] == "ferry strike"
    assert engine.calls[0][1]["where"].since == datetime(2026, 11, 16, tzinfo=UTC)
    assert found.window is not None and found.window.label == "Articles from 16–22 Nov 2026"


def test_the_engine_is_made_on_first_use_and_again_after_it_failed() -> None:
    attempts: list[int] = []

    def build() -> RecordingEngine:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("store down")
        return RecordingEngine()

    desk = Desk(build=build)
    assert not attempts  # nothing is made before a request
    with pytest.raises(RuntimeError, match="store down"):
        desk.ask(Request("Who?"), "api")
    assert not desk.ask(Request("Who?"), "api").abstained
    desk.ask(Request("Who?"), "api")
    assert len(attempts) == 2


def test_the_length_limit_counts_the_question_as_asked_without_outer_spaces() -> None:
    assert len(read_request({"question": "  " + "x" * MAX_QUESTION_CHARS + " "}).question) \
        == MAX_QUESTION_CHARS


def test_a_long_bad_value_is_not_echoed_whole() -> None:
    with pytest.raises(RequestError) as raised:
        read_request({"question": "Who?", "since": "x" * 500_000})
    assert len(str(raised.value)) < 200
