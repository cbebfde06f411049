"""The extractive answerer's named units, each on invented passages (pure, no model): the
question reading, the lead shown only when the lead model is confident, the value's type and
dimension, what counts as missing, relative days, the latest version, and the trace."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from ingest.text.terms import analyze
from retrieval.answer.compose import compose
from retrieval.answer.extractive import find_evidence
from retrieval.answer.rules import RULES
from retrieval.answer.scorer import AnswerModel, LinearModel
from retrieval.answer.spans import answer_span, find_span
from retrieval.question.answer_types import AnswerType, answer_type
from retrieval.question.reading import read_question
from retrieval.question.time_window import relative_day
from retrieval.records import Passage
from tests.helpers import extractive_config


class Terms:
    """The real term analysis with flat IDF."""

    def terms(self, text: str) -> list[str]:
        return analyze(text)

    def idf(self, term: str) -> float:
        return 2.0


def passage(article: str, title: str, text: str, published: datetime | None = None,
            n: int = 0) -> Passage:
    return Passage(chunk_id=f"{article}#{n}", article_id=article, title=title, text=text,
                   score=1.0, published=published)


BRIDGE = passage("bridge", "Harbour bridge reopens", (
    "The Kestrel Harbour Bridge reopened on Friday after a repair that cost the city 84 million "
    "euros. Engineers replaced all 212 suspension cables. The transport office said tolls "
    "would stay at two euros for cars."))


def model(lead_bias: float, abstain_below: float = 0.3) -> AnswerModel:
    """A sentence model that likes question coverage and a value of the asked-for kind, and a
    lead model whose confidence is set by `lead_bias` alone."""
    sentence = LinearModel(("topic", "focus", "span", "type_miss"), (2.0, 4.0, 2.0, -3.0), -3.0)
    lead = LinearModel(("span_near",), (0.0,), lead_bias)
    return AnswerModel(sentence, lead, abstain_below=abstain_below, lead_above=0.5)


def evidence(question: str, passages: Sequence[Passage] = (BRIDGE,), lead_bias: float = 5.0,
             context: str = "", **config: float):  # type: ignore[no-untyped-def]
    settings = replace(extractive_config(**config), model=model(lead_bias))
    return find_evidence(question, passages, Terms(), settings, context)


# -- the lead value: shown only when the lead model is confident ---------------------------


def test_a_confident_value_leads_in_bold_and_is_kept_as_data() -> None:
    found = evidence("How much did the bridge repair cost?", lead_bias=3.0)
    assert found.span == "84 million euros" and found.span_shown
    assert found.span_confidence > 0.9
    assert compose(found, 80).startswith("84 million euros — The Kestrel Harbour Bridge")


def test_an_unsure_value_is_not_shown_the_sentence_answers_alone() -> None:
    found = evidence("How much did the bridge repair cost?", lead_bias=-3.0)
    assert found.span == "84 million euros" and not found.span_shown
    assert found.span_confidence < 0.1
    text = compose(found, 80)
    assert text.startswith("The Kestrel Harbour Bridge reopened") and "84 million euros" in text
    assert " — " not in text


def test_the_lead_threshold_comes_from_settings_when_given() -> None:
    found = evidence("How much did the bridge repair cost?", lead_bias=0.0,
                     lead_confidence=0.4)
    assert found.span_shown  # confidence 0.5 >= 0.4
    found = evidence("How much did the bridge repair cost?", lead_bias=0.0,
                     lead_confidence=0.6)
    assert not found.span_shown


# -- the trace -------------------------------------------------------------------------------


def test_the_trace_names_the_reading_candidates_rules_and_decision() -> None:
    found = evidence("How much did the bridge repair cost?")
    assert found.trace is not None
    trace = found.trace.as_dict()
    assert trace["question"]["kind"] == "money"
    assert trace["candidates"][0]["span"] == "84 million euros"
    assert trace["candidates"][0]["probability"] >= trace["candidates"][1]["probability"]
    assert "focus" in trace["candidates"][0]["features"]
    assert trace["decision"] == "led with the value"
    assert trace["lead"]["shown"] is True


def test_an_abstention_says_why_in_the_trace() -> None:
    found = evidence("Who designed the new tram depot in Lisbon?", min_evidence=0.9)
    assert found.abstain
    assert found.trace is not None and found.trace.decision.startswith("abstained:")


def test_rules_run_in_one_ordered_list_of_named_units() -> None:
    names = [rule.__name__ for rule in RULES]
    assert names == ["rule_not_a_correction", "rule_not_said_before", "rule_prefer_newer",
                     "rule_lead_first",
                     "rule_threshold", "rule_missing", "rule_choose"]
    assert all(rule.__doc__ for rule in RULES)


# -- type and dimension ----------------------------------------------------------------------


def test_how_much_weight_wants_a_weight_not_a_distance() -> None:
    assert answer_type("How much weight has he lost?") is AnswerType.NUMBER
    sentence = "He runs 100m sprints every morning and has lost 20kg since March."
    assert answer_span(sentence, "How much weight has he lost?", AnswerType.NUMBER) == "20kg"


def test_an_ordinal_is_not_a_count_or_an_amount() -> None:
    sentence = "The firm is restoring an 18th-century chapel and giving 40 new jobs."
    assert answer_span(sentence, "How many jobs is the firm giving?",
                       AnswerType.NUMBER) == "40 new jobs" or answer_span(
        sentence, "How many jobs is the firm giving?", AnswerType.NUMBER) == "40"
    assert answer_span("It is an 18th-century chapel.", "How many chapels?",
                       AnswerType.NUMBER) is None


def test_since_what_year_wants_a_year_not_a_weekday() -> None:
    question = "Since what year has the ferry run?"
    reading = read_question(question, Terms())
    assert reading.year_asked and reading.kind is AnswerType.DATE
    sentence = "On Monday the operator said the ferry has run every day since 1998."
    match = find_span(sentence, question, AnswerType.DATE, year=reading.year_asked)
    assert match is not None and match.text == "1998"


def test_a_value_the_question_names_is_never_the_answer() -> None:
    sentence = "Nadia Kowalski, 15, was beaten by Marta Lind on her debut."
    assert answer_span(sentence, "Who beat Nadia Kowalski on her debut?",
                       AnswerType.PERSON) == "Marta Lind"


def test_the_current_holder_of_a_role_is_not_the_former_one() -> None:
    assert read_question("Who is the current minister?", Terms()).role == "current"
    assert read_question("Who was the ex-minister?", Terms()).role == "former"
    assert read_question("Who is the minister?", Terms()).role is None
    sentence = "Former minister Ann Holt handed the post to Tom Reid on Friday."
    current = find_span(sentence, "Who is the current minister?", AnswerType.PERSON,
                        role="current")
    former = find_span(sentence, "Who was the ex-minister?", AnswerType.PERSON, role="former")
    assert current is not None and current.text == "Tom Reid"
    assert former is not None and former.text == "Ann Holt"


# -- what counts as missing ------------------------------------------------------------------


DATED = datetime(2019, 8, 19, tzinfo=UTC)
MARCH = passage("march", "Thousands march for rights", (
    "Yesterday, about 20,000 people marched through the city centre. Organisers said the "
    "crowd was the largest since the protests began. Police made no arrests."), DATED)


def test_the_articles_own_year_and_month_are_not_missing() -> None:
    found = evidence("How many people marched through the city centre in August 2019?", [MARCH])
    assert not found.missing and not found.abstain
    assert found.span == "about 20,000 people"


def test_a_year_the_article_does_not_have_is_missing() -> None:
    found = evidence("How many people marched through the city centre in 2003?", [MARCH])
    assert found.missing == ("2003",)


def test_a_missing_name_of_two_words_is_said_as_one() -> None:
    found = evidence("How many people marched through the city centre of Port Alder?", [MARCH])
    assert found.missing == ("Port Alder",)
    assert compose(found, 80).startswith("The articles don't say this for “Port Alder”.")


def test_for_good_is_not_what_a_question_is_for() -> None:
    found = evidence("When will the marches stop for good?", [MARCH])
    assert "good" not in found.missing


def test_a_duration_is_not_what_a_question_is_for() -> None:
    found = evidence("How many people marched through the city centre for six weeks?", [MARCH])
    assert not found.missing
    assert evidence("How many people marched through the city centre for pensioners?",
                    [MARCH]).missing == ("pensioners",)


def test_a_synonym_of_a_name_is_not_missing() -> None:
    tory = passage("tory", "Conservatives pick leader", (
        "The Conservative party chose Ann Holt as leader on Tuesday, with 62 percent of the "
        "vote of members."))
    found = evidence("What share of the vote did the Tory leader get?", [tory])
    assert not found.missing


def test_users_are_the_customers_a_price_is_for() -> None:
    speeds = passage("speeds", "Faster broadband", (
        "The new speeds start on 17 February for home customers and 1 April for businesses."))
    assert not evidence("When do the new speeds start for home users?", [speeds]).missing
    assert evidence("When do the new speeds start for pensioners?", [speeds]).missing == (
        "pensioners",)


# -- relative days ---------------------------------------------------------------------------


def test_relative_days_resolve_against_the_articles_date() -> None:
    monday = datetime(2019, 8, 19, tzinfo=UTC)  # a Monday
    assert relative_day("yesterday", monday) == datetime(2019, 8, 18, tzinfo=UTC)
    assert relative_day("Saturday", monday) == datetime(2019, 8, 17, tzinfo=UTC)
    assert relative_day("Monday", monday) == monday
    assert relative_day("last year", monday) is None


def test_a_sentence_dated_relative_to_its_article_shows_the_articles_date() -> None:
    found = evidence("How many people marched through the city centre?", [MARCH])
    assert compose(found, 80).endswith("city centre. (reported 19 Aug 2019) [1]")


def test_a_relative_date_answer_is_resolved_to_a_day() -> None:
    found = evidence("When did thousands march through the city centre?", [MARCH])
    assert found.span == "Yesterday (18 Aug 2019)"


# -- the latest version ----------------------------------------------------------------------


def test_a_latest_question_leads_with_a_sentence_that_holds_the_value() -> None:
    text = ("The ferry strike entered its fourth day on Thursday. Crews now want a 7 percent "
            "pay rise, union leaders said. Talks resume next week.")
    strike = passage("strike", "Ferry strike: day four", text,
                     datetime(2026, 11, 20, tzinfo=UTC))
    found = evidence("What pay rise do the ferry crews want now?", [strike])
    assert found.chosen[0].text.startswith("Crews now want a 7 percent pay rise")


def test_whats_the_latest_is_not_refused_because_the_lead_scores_less() -> None:
    text = ("Boats between the islands were back to normal on Friday. The ferry strike was "
            "called off late on Thursday after the crews accepted a new pay offer. Talks on "
            "rosters will continue in January.")
    strike = passage("strike", "Ferry strike called off", text,
                     datetime(2026, 11, 20, tzinfo=UTC))
    found = evidence("What's the latest on the ferry strike?", [strike], min_evidence=0.0001)
    assert found.trace is not None and "lead_first: the article's lead answers" in \
        found.trace.rules
    scores = {c["text"][:20]: c["probability"] for c in found.trace.candidates}
    best = max(scores.values())
    lead = scores["Boats between the is"]
    assert lead < best
    # With the threshold between the two: the lead the rule put first stands on its
    # article's best sentence, and is not refused.
    between = evidence("What's the latest on the ferry strike?", [strike],
                       min_evidence=(lead + best) / 2)
    assert not between.abstain
    assert between.chosen[0].text.startswith("Boats between the islands")


def test_a_close_second_sentence_is_shown_when_the_model_is_torn() -> None:
    question = "How much did the bridge repair cost?"
    alone = evidence(question)
    both = evidence(question, close_ratio=0.01)
    assert len(alone.chosen) == 1
    assert len(both.chosen) == 2 and both.chosen[0] == alone.chosen[0]


def test_a_follow_up_is_not_answered_with_what_was_already_said() -> None:
    said = "The Kestrel Harbour Bridge reopened on Friday after a repair that cost the city 84 " \
           "million euros."
    found = evidence("And what about the cables?", context=f"What did the repair cost? {said}")
    assert "not_said_before: 1 sentences already said" in (found.trace.rules if found.trace
                                                           else ())


# -- the shipped model -----------------------------------------------------------------------


def test_the_shipped_model_reads_only_features_the_answerer_computes() -> None:
    from retrieval.answer.answer_model import load_packaged
    from retrieval.answer.candidates import candidate_table, lead_features

    shipped = load_packaged()
    rows = candidate_table("How much did the bridge repair cost?", [BRIDGE], Terms(),
                           extractive_config())
    computed = set(rows[0].features) | {"similarity"}
    assert set(shipped.sentence.features) <= computed
    best = next(c for c in rows if c.span is not None)
    reading = read_question("How much did the bridge repair cost?", Terms())
    known = set(lead_features(reading, replace(best, score=0.5), rows)) | {
        f"kind_{kind.value}" for kind in AnswerType}
    assert set(shipped.lead.features) <= known
    assert 0 < shipped.abstain_below < 1 and 0 < shipped.lead_above < 1


def test_a_model_round_trips_and_another_format_is_refused() -> None:
    import pytest

    from retrieval.answer.scorer import ModelFormatError

    original = model(lead_bias=1.0)
    assert AnswerModel.from_dict(original.as_dict()) == original
    with pytest.raises(ModelFormatError):
        AnswerModel.from_dict({**original.as_dict(), "format": 99})


def test_a_typed_question_is_answered_by_a_likely_sentence_that_holds_its_kind() -> None:
    final = passage("final", "Coastal Cup", (
        "United beat Rovers 5-4 on penalties after a 2-2 draw. The final of the cup went to a "
        "long shoot-out in the rain."))
    # A model that only reads focus ranks the sentence naming "final" first, but it holds no
    # score: the best likely sentence that does holds the answer.
    focus_only = AnswerModel(LinearModel(("focus",), (4.0,), -1.0),
                             LinearModel(("span_near",), (0.0,), 5.0), 0.01, 0.5)
    settings = replace(extractive_config(), model=focus_only)
    found = find_evidence("What was the score in the final?", [final], Terms(), settings)
    assert found.trace is not None
    assert "type_required: the best sentence with a value leads" in found.trace.rules
    assert found.chosen[0].text.startswith("United beat Rovers")
    assert found.span == "5-4 on penalties after a 2-2 draw"
