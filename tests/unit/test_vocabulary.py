"""One vocabulary: the question-type detector (`offers`) and the span finder agree on every
word list of ingest.text.vocabulary, so that a currency, a month or a unit known to one is known
to the other ("paid 5,000 francs" must answer like "paid 5,000 euros")."""

from __future__ import annotations

import pytest

from ingest.text.vocabulary import (
    CURRENCY_WORDS,
    DIMENSION_UNITS,
    MONTHS,
    NUMBER_WORDS,
    REASON_CUES,
    ROLE_WORDS,
    WEEKDAYS,
    alternation,
)
from retrieval.answer.spans import answer_span, find_span
from retrieval.question.answer_types import AnswerType, answer_type, asked_dimension, offers


@pytest.mark.parametrize("currency", CURRENCY_WORDS)
def test_every_currency_word_is_money_to_both(currency: str) -> None:
    sentence = f"The museum paid 5,000 {currency} for the painting last year."
    question = "How much did the museum pay for the painting?"
    assert answer_type(question) is AnswerType.MONEY
    assert offers(sentence, AnswerType.MONEY, question)
    assert answer_span(sentence, question, AnswerType.MONEY) == f"5,000 {currency}"


@pytest.mark.parametrize("month", MONTHS)
def test_every_month_is_a_date_to_both(month: str) -> None:
    name = month.title()
    sentence = f"The bridge reopened on 14 {name} 2025 after two years."
    question = "When did the bridge reopen?"
    assert offers(sentence, AnswerType.DATE, question)
    assert answer_span(sentence, question, AnswerType.DATE) == f"14 {name} 2025"


@pytest.mark.parametrize("weekday", WEEKDAYS)
def test_every_weekday_is_a_date_to_both(weekday: str) -> None:
    sentence = f"The council voted on {weekday.title()} to close the pool."
    question = "When did the council vote to close the pool?"
    assert offers(sentence, AnswerType.DATE, question)
    assert answer_span(sentence, question, AnswerType.DATE) == weekday.title()


# "one" is left out on purpose ("one of", "the one": rarely a count); "half", "hundred",
# "thousand" and "dozen" need a number before them.
@pytest.mark.parametrize("word", [w for w in NUMBER_WORDS if w not in ("one", "half", "hundred",
                                                                      "thousand", "dozen")])
def test_every_number_word_counts_to_both(word: str) -> None:
    sentence = f"Rescuers found {word} survivors in the wreck."
    question = "How many survivors were found?"
    assert offers(sentence, AnswerType.NUMBER, question)
    assert answer_span(sentence, question, AnswerType.NUMBER) == f"{word} survivors"


@pytest.mark.parametrize(("dimension", "units"), sorted(DIMENSION_UNITS.items()))
def test_every_unit_measures_its_dimension(dimension: str, units: tuple[str, ...]) -> None:
    question = {"age": "What age was the winner?", "weight": "What weight did he reach?"}.get(
        dimension, f"How {dimension} is it?")
    for unit in units:
        sentence = f"Officials said it was 40 {unit} in the end."
        match = find_span(sentence, question, AnswerType.NUMBER)
        assert match is not None and match.text == f"40 {unit}", (dimension, unit)


@pytest.mark.parametrize("cue", REASON_CUES)
def test_every_reason_cue_offers_a_reason(cue: str) -> None:
    assert offers(f"The match was called off {cue} the storm.", AnswerType.REASON, "Why?")


@pytest.mark.parametrize("role", sorted(set(ROLE_WORDS) - {"new", "head"}))
def test_a_role_before_a_name_is_not_part_of_the_answer(role: str) -> None:
    sentence = f"The award went to {role.title()} Nadia Kowalski on the night."
    assert answer_span(sentence, "Who won the award?", AnswerType.PERSON) == "Nadia Kowalski"


def test_alternation_matches_longest_first_and_any_whitespace() -> None:
    import re

    pattern = re.compile(rf"\b{alternation(['go up', 'go'])}\b")
    assert pattern.search("prices go  up")
    match = pattern.search("prices go  up")
    assert match is not None and match.group() == "go  up"


@pytest.mark.parametrize("dimension", sorted(DIMENSION_UNITS))
def test_every_measured_dimension_is_read_from_a_question(dimension: str) -> None:
    question = ({"age": "What age was the winner?", "weight": "How much weight did he lose?"}
                .get(dimension, f"How {dimension.title()} is it?"))
    assert asked_dimension(question) == dimension
    assert asked_dimension("How many were there?") is None
