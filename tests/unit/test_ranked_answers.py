"""Answers with the ranker and the reader together ([answer] reader = "answer"): the ranker
scores every sentence, the reader reads only its best few, the fitted weights (pure,
retrieval/answer/scoring.py) join them, and refusal and bold follow the weights' thresholds.
Fakes stand in for both models; the weights are set by hand so each test says what moves."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest

from retrieval.answer.extractive import find_evidence
from retrieval.answer.ranker import RankerInput, candidate_text, question_text
from retrieval.answer.scoring import (
    BOLD_FEATURES,
    FEATURES,
    AnswerWeights,
    BoldModel,
    bold_features,
    features,
)
from tests.helpers import extractive_config
from tests.unit.test_answer_rules import BRIDGE, Terms, passage
from tests.unit.test_reader_answers import FakeReader


class FakeRanker:
    """Cosine by a table of (sentence fragment → cosine); 0.1 for any other sentence."""

    def __init__(self, table: dict[str, float]) -> None:
        self.table = table
        self.asked: list[tuple[str, str | None]] = []
        self.seen: list[str] = []

    def similarities(self, question: str, candidates: Sequence[RankerInput],
                     context: str | None = None) -> list[float]:
        self.asked.append((question, context))
        self.seen = [c.sentence for c in candidates]
        return [next((v for k, v in self.table.items() if k in c.sentence), 0.1)
                for c in candidates]


# Weights that follow the reader's logit and the ranker's cosine, nothing else.
WEIGHTS = AnswerWeights(weights=(2.0, 0.0, 1.0, 0.0, 0.0), bias=-1.0, read=2,
                        refuse_below=0.3, bold=0.6)


def evidence(question: str, ranker: FakeRanker, reader: FakeReader, earlier=None,
             weights: AnswerWeights = WEIGHTS, **config):  # type: ignore[no-untyped-def]
    settings = replace(extractive_config(**config), reader=reader,
                       ranker=ranker, weights=weights, no_answer=1 - weights.refuse_below,
                       bold=weights.bold)
    return find_evidence(question, (BRIDGE,), Terms(), settings, "", None, earlier)


def test_the_reader_reads_only_the_rankers_best_sentences() -> None:
    ranker = FakeRanker({"replaced all 212": 0.8, "tolls would stay": 0.6})
    reader = FakeReader({"replaced all 212": (0.9, "212"), "reopened": (0.99, "Friday")})
    found = evidence("How many cables did engineers replace?", ranker, reader)
    assert {i.sentence[:9] for i in reader.inputs} == {"Engineers", "The trans"}
    assert found.chosen[0].text == "Engineers replaced all 212 suspension cables."
    assert (found.span, found.span_shown) == ("212 suspension cables", True)


def test_a_question_the_trained_models_do_not_read_goes_to_the_hand_made_scorer() -> None:
    ranker = FakeRanker({"tolls would stay": 0.9})
    reader = FakeReader({"tolls would stay": (0.99, "two euros")})
    asked: list[str] = []

    def reads(question: str) -> bool:
        asked.append(question)
        return "bitte" not in question

    found = evidence("How many suspension cables did engineers replace, bitte?", ranker,
                     reader, trained_reads=reads)
    assert ranker.asked == [] and reader.inputs == []  # neither model ran
    assert found.chosen[0].text.startswith("Engineers replaced")  # the hand-made choice
    assert found.trace is not None and found.trace.rules[0].startswith("not_english")
    found = evidence("How many cables did engineers replace?", ranker, reader,
                     trained_reads=reads)
    assert len(ranker.asked) == 1 and found.chosen[0].text.startswith("The transport office")
    assert asked == ["How many suspension cables did engineers replace, bitte?",
                     "How many cables did engineers replace?"]


def test_the_ranker_scores_the_lead_and_the_sentences_sharing_most_words() -> None:
    ranker = FakeRanker({"replaced all 212": 0.8})
    reader = FakeReader({"replaced all 212": (0.9, "212")})
    found = evidence("How many suspension cables did engineers replace?", ranker, reader,
                     ranker_candidates=2)
    assert len(ranker.seen) == 2
    assert ranker.seen[0].startswith("The Kestrel Harbour Bridge reopened")  # the lead
    assert ranker.seen[1].startswith("Engineers replaced")  # the most question words
    assert found.span == "212 suspension cables"


def test_the_weights_decide_between_ranker_and_reader() -> None:
    ranker = FakeRanker({"replaced all 212": 0.8, "tolls would stay": 0.6})
    reader = FakeReader({"replaced all 212": (0.3, "212"), "tolls would stay": (0.95, "two")})
    found = evidence("How many cables?", ranker, reader)
    assert found.chosen[0].text.startswith("The transport office")  # the reader outweighs
    cosine_only = AnswerWeights((5.0, 0.0, 0.0, 0.0, 0.0), -2.0, 2, 0.3, 0.6)
    found = evidence("How many cables?", ranker, reader, weights=cosine_only)
    assert found.chosen[0].text.startswith("Engineers")


def test_no_sentence_likely_enough_is_a_refusal() -> None:
    ranker = FakeRanker({"replaced all 212": 0.2})
    reader = FakeReader({"replaced all 212": (0.1, "212")})
    found = evidence("Who designed the bridge?", ranker, reader)
    assert found.abstain


def test_a_refusal_names_what_the_articles_lack_and_shows_what_they_say() -> None:
    ranker = FakeRanker({"tolls would stay": 0.2})
    reader = FakeReader({"tolls would stay": (0.1, "two euros")})
    found = evidence("What is the bridge toll for trucks?", ranker, reader)
    # still no answer: "trucks" is nowhere in the article, and the reader is not sure
    assert not found.abstain and found.missing == ("trucks",)
    assert found.chosen[0].text.startswith("The transport office")  # what they say instead
    assert found.trace is not None
    # logit 2×0.2 + ln(0.1/0.9) − 1 = −2.80 → 0.06, under 1 − no_answer = 0.3
    assert [r.split(";")[0] for r in found.trace.rules] == ["no_answer: best 0.06"]
    assert found.trace.rules[0].endswith("missing: trucks")
    # "trucks" outweighs "toll", and the article still holds a good part of the question
    assert evidence("What is the toll for trucks?", ranker, reader).missing == ("trucks",)
    # the same refusal without a word the article lacks is a plain refusal
    assert evidence("What is the bridge toll?", ranker, reader).abstain


def test_a_span_under_the_bold_threshold_is_not_bold() -> None:
    ranker = FakeRanker({"replaced all 212": 0.5})
    reader = FakeReader({"replaced all 212": (0.6, "212")})
    # logit: 2×0.5 + ln(0.6/0.4) − 1 = 0.405 → p 0.60; × span 0.95 = 0.57 < 0.6
    found = evidence("How many cables?", ranker, reader)
    assert not found.abstain and found.span == "212 suspension cables" \
        and not found.span_shown


def test_a_followup_is_ranked_and_read_with_the_question_it_follows() -> None:
    ranker = FakeRanker({"tolls would stay": 0.8})
    reader = FakeReader({"tolls would stay": (0.9, "two euros")})
    found = evidence("And for cars?", ranker, reader, earlier="What are the bridge tolls?")
    assert ranker.asked == [("And for cars?", "What are the bridge tolls?")]
    assert {i.question_context for i in reader.inputs} == {"What are the bridge tolls?"}
    assert found.span == "two euros"


def test_features_and_probability() -> None:
    values = features(0.7, 0.9, 0.5, 0.25, place=1)
    assert values["cosine_gap"] == pytest.approx(-0.2) and values["reader_logit"] == 0.0
    assert values["lead"] == 1.0 and features(0.7, 0.9, 0.5, 0.25, 3)["lead"] == 0.0
    weights = AnswerWeights((1.0,) + (0.0,) * (len(FEATURES) - 1), 0.0)
    assert weights.probability(values) > weights.probability({**values, "cosine": 0.1})
    assert next(iter(weights.contributions(values))) == "cosine"


def test_weights_from_another_feature_set_are_refused() -> None:
    config = {"features": ["cosine"], "weights": [1.0], "bias": 0, "refuse_below": 0.2,
              "bold": 0.9}
    with pytest.raises(ValueError):
        AnswerWeights.from_config(config)
    config = {**config, "features": list(FEATURES), "weights": [0.0] * len(FEATURES)}
    assert AnswerWeights.from_config(config).refuse_below == 0.2


def test_what_the_ranker_embeds() -> None:
    assert question_text("And for cars?", "What are the tolls?") == \
        "And for cars? (What are the tolls?)"
    assert candidate_text(RankerInput("Tolls stay.", "Bridge reopens")) == \
        "Bridge reopens. Tolls stay."
    assert candidate_text(RankerInput("Bridge reopens", "Bridge reopens")) == "Bridge reopens"


def test_the_readers_span_takes_the_boundaries_of_the_value_it_holds() -> None:
    ranker = FakeRanker({"replaced all 212": 0.8})
    reader = FakeReader({"replaced all 212": (0.9, "all 212")})
    found = evidence("How many suspension cables did engineers replace?", ranker, reader)
    assert found.span == "212 suspension cables"  # the count and what it counts, no "all"
    reader = FakeReader({"tolls would stay": (0.9, "two")})
    found = evidence("What is the bridge toll for cars?", FakeRanker({"tolls would": 0.8}),
                     reader)
    assert found.span == "two euros"  # the amount with its currency
    reader = FakeReader({"tolls would stay": (0.9, "transport office")})
    found = evidence("Who decides the tolls?", FakeRanker({"tolls would": 0.8}), reader)
    assert found.span == "transport office"  # not a value: the reader's span as it is


def test_a_story_question_is_told_by_its_articles_lead_not_refused_by_the_reader() -> None:
    """The reader judges answers to questions of fact: "What happened with X?" is answered by
    the lead of an article about X even when every sentence reads as no answer, and refused
    when the best article is not about X."""
    ranker = FakeRanker({"tolls would stay": 0.5, "replaced all 212": 0.4})
    reader = FakeReader({"tolls would stay": (0.05, "two euros"),
                         "replaced all 212": (0.05, "212")})
    factual = evidence("Who repaired the harbour bridge?", ranker, reader)
    assert factual.abstain  # the same readings refuse a question of fact
    story = evidence("What happened with the harbour bridge last week?", ranker, reader)
    assert not story.abstain
    assert story.chosen[0].text.startswith("The Kestrel Harbour Bridge reopened")
    assert story.trace is not None and any(r.startswith("lead_first") for r in
                                           story.trace.rules)
    elsewhere = evidence("What happened with the zeppelin hangar?", ranker, reader)
    assert elsewhere.abstain and elsewhere.trace is not None
    assert "story_about: the best article lacks zeppelin, hangar" in elsewhere.trace.rules


def test_what_the_conversation_said_goes_behind_what_it_has_not() -> None:
    ranker = FakeRanker({"replaced all 212": 0.8, "tolls would stay": 0.6})
    reader = FakeReader({"replaced all 212": (0.9, "212"), "tolls would stay": (0.4, "two")})
    settings = replace(extractive_config(), reader=reader, ranker=ranker, weights=WEIGHTS,
                       no_answer=1 - WEIGHTS.refuse_below, bold=WEIGHTS.bold)
    said = "Engineers replaced all 212 suspension cables."
    found = find_evidence("Why?", (BRIDGE,), Terms(), settings,
                          f"How many cables were replaced? {said}", None,
                          "How many cables were replaced?")
    assert not found.abstain and found.trace is not None
    assert "not_said_before: 1 sentences already said" in found.trace.rules
    assert found.chosen[0].text.startswith("The transport office")
    assert all(c.text != said for c in found.chosen[:1])


def test_a_bold_model_decides_the_bold_value_when_one_is_shipped() -> None:
    ranker = FakeRanker({"replaced all 212": 0.8})
    reader = FakeReader({"replaced all 212": (0.9, "212")})
    question = "How many suspension cables did engineers replace?"
    # the product rule: 0.80 × 0.95 clears 0.6
    assert evidence(question, ranker, reader).span_shown
    # a model that distrusts spans made of the question's own words (2 of these 3 are)
    doubting = BoldModel(tuple(-5.0 if f == "span_in_question" else 0.0
                               for f in BOLD_FEATURES), 2.0)
    found = evidence(question, ranker, reader, weights=replace(WEIGHTS, bold_model=doubting))
    assert found.span == "212 suspension cables" and not found.span_shown
    lead = found.trace.lead if found.trace is not None else None
    assert lead is not None and set(BOLD_FEATURES) <= set(lead["features"])
    assert lead["features"]["span_is_value"] == 0.0  # "212 suspension cables" is more
    assert lead["features"]["span_in_question"] == pytest.approx(2 / 3, abs=1e-3)
    trusting = BoldModel((0.0,) * len(BOLD_FEATURES), 2.0)
    assert evidence(question, ranker, reader,
                    weights=replace(WEIGHTS, bold_model=trusting)).span_shown


def test_bold_features_and_a_bold_model_of_other_features_is_refused() -> None:
    values = bold_features(0.5, 0.9, 0.5, 0.2, "money", 3, True, 0.0)
    assert values["probability_logit"] == 0.0 and values["margin"] == pytest.approx(0.3)
    assert (values["asks_value"], values["asks_name"], values["span_is_value"]) == (1, 0, 1)
    assert bold_features(0.5, 0.9, 0.5, 0.2, "person", 2, False, 0.5)["asks_name"] == 1.0
    with pytest.raises(ValueError):
        BoldModel.from_config({"features": ["margin"], "weights": [1.0], "bias": 0.0})
    config = {"features": list(FEATURES), "weights": [0.0] * len(FEATURES), "bias": 0,
              "refuse_below": 0.2, "bold": 0.9,
              "bold_model": {"features": list(BOLD_FEATURES),
                             "weights": [0.0] * len(BOLD_FEATURES), "bias": 1.0}}
    loaded = AnswerWeights.from_config(config).bold_model
    assert loaded is not None and loaded.probability(values) == pytest.approx(0.731, abs=1e-3)


def test_what_about_x_is_answered_by_the_best_sentence_about_x_or_refused() -> None:
    ranker = FakeRanker({"tolls would stay": 0.5, "replaced all 212": 0.6})
    reader = FakeReader({"tolls would stay": (0.05, "two euros"),
                         "replaced all 212": (0.02, "212")})
    found = evidence("And what about the cables?", ranker, reader)
    assert not found.abstain and found.chosen[0].text.startswith("Engineers replaced")
    assert evidence("And what about the ferries?", ranker, reader).abstain


def test_a_why_question_is_answered_by_the_read_sentence_that_gives_a_cause() -> None:
    bridge = passage("bridge", "Harbour bridge reopens", (
        "The Kestrel Harbour Bridge reopened on Friday. Tolls will rise to three euros. The "
        "increase pays for replacing the 212 suspension cables."))
    ranker = FakeRanker({"Tolls will rise": 0.8, "increase pays": 0.6, "reopened": 0.5})
    reader = FakeReader({"Tolls will rise": (0.5, "three euros"),
                         "increase pays": (0.01, "replacing the 212 suspension cables")})
    settings = replace(extractive_config(), reader=reader, ranker=ranker,
                       weights=replace(WEIGHTS, read=3), no_answer=1 - WEIGHTS.refuse_below,
                       bold=WEIGHTS.bold)
    found = find_evidence("Why will tolls rise?", (bridge,), Terms(), settings)
    assert found.chosen[0].text.startswith("The increase pays for")
    assert found.trace is not None
    assert "reason_given: the sentence giving a cause leads" in found.trace.rules
    # a question of fact is not touched
    found = find_evidence("How much will tolls be?", (bridge,), Terms(), settings)
    assert found.chosen[0].text.startswith("Tolls will rise")


def test_a_decision_is_told_by_its_reports_lead_not_a_date_line() -> None:
    """"What did the board decide?": the report's lead tells the decision, even when the
    reader prefers a later sentence; a date line left in the body ("Friday 20 November 2026")
    is no lead."""
    board = passage("board", "Board bans jet skis", (
        "Friday 20 November 2026. The harbour board voted on Tuesday to ban jet skis from the "
        "inner harbour. The ban, passed by six votes to two, covers the inner water."))
    ranker = FakeRanker({"The ban, passed": 0.8, "voted on Tuesday": 0.6, "Friday": 0.5})
    reader = FakeReader({"The ban, passed": (0.3, "six votes to two"),
                         "voted on Tuesday": (0.05, "to ban jet skis"),
                         "Friday": (0.05, "Friday 20 November 2026")})
    settings = replace(extractive_config(), reader=reader, ranker=ranker,
                       weights=replace(WEIGHTS, read=3), no_answer=1 - WEIGHTS.refuse_below,
                       bold=WEIGHTS.bold)
    found = find_evidence("What did the harbour board decide?", (board,), Terms(), settings)
    assert not found.abstain
    assert found.chosen[0].text.startswith("The harbour board voted on Tuesday")
    found = find_evidence("How many votes did the ban pass by?", (board,), Terms(), settings)
    assert found.chosen[0].text.startswith("The ban, passed")  # a question of fact: untouched


def test_an_announcement_is_told_by_its_reports_lead_not_refused() -> None:
    """"What did the housing minister announce?": the announcement is a clause the reader
    scores low as an answer (shared case 27: P 0.03, refused); the report's lead tells it."""
    fund = passage("fund", "Repair fund for storm damage", (
        "Housing minister Aoife Creed has announced a repair fund of 5 million euros for homes "
        "hit by the storm. Owners can apply through the county council from Monday, she told "
        "reporters at the harbour."))
    ranker = FakeRanker({"Owners can apply": 0.6, "Housing minister": 0.5})
    reader = FakeReader({"Owners can apply": (0.02, "the county council"),
                         "Housing minister": (0.03, "Aoife Creed")})
    settings = replace(extractive_config(), reader=reader, ranker=ranker,
                       weights=WEIGHTS, no_answer=1 - WEIGHTS.refuse_below, bold=WEIGHTS.bold)
    for question in ("What did the housing minister announce?",
                     "What has the minister unveiled for storm damage?"):
        found = find_evidence(question, (fund,), Terms(), settings)
        assert not found.abstain, question
        assert found.chosen[0].text.startswith("Housing minister Aoife Creed"), question
    # a report that says "approved" tells what was announced: the verb frames the question
    found = find_evidence("What did the minister approve?", (fund,), Terms(), settings)
    assert not found.abstain and found.chosen[0].text.startswith("Housing minister")
    # a question of fact about the same report is still the reader's to refuse
    assert find_evidence("Who will pay for the repairs?", (fund,), Terms(), settings).abstain
