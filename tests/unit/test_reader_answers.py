"""Answers with the trained answerer in place (retrieval/answer/extractive.py's ranker + reader
path), on a fake reader that knows which sentence answers and a ranker that sees every
sentence alike: the reader scores and spans, the news rules stay, and the refusal and the bold
value follow the thresholds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

from retrieval.answer.compose import compose
from retrieval.answer.extractive import find_evidence
from retrieval.answer.ranker import RankerInput
from retrieval.answer.reader import ReaderInput, Reading, no_answer_probability
from retrieval.answer.rules import READER_RULES
from retrieval.answer.scoring import AnswerWeights
from tests.helpers import extractive_config
from tests.unit.test_answer_rules import BRIDGE, Terms, passage


class FakeReader:
    """P(answers) and span by a table of (sentence fragment → probability, span text)."""

    def __init__(self, table: dict[str, tuple[float, str]]) -> None:
        self.table = table
        self.inputs: list[ReaderInput] = []

    def read(self, question: str, candidates: Sequence[ReaderInput]) -> list[Reading]:
        self.inputs.extend(candidates)
        out = []
        for candidate in candidates:
            p, span = next(((p, s) for key, (p, s) in self.table.items()
                            if key in candidate.sentence), (0.02, ""))
            at = candidate.sentence.find(span) if span else -1
            out.append(Reading(p, (at, at + len(span)) if at >= 0 else None,
                               0.95 if at >= 0 else 0.0))
        return out

    def no_answer(self, readings: Sequence[Reading]) -> float:
        return no_answer_probability(readings)


class EqualRanker:
    """Every sentence alike, so the reader alone decides (the ranker's own part is tested in
    test_ranked_answers.py)."""

    def similarities(self, question: str, candidates: Sequence[RankerInput],
                     context: str | None = None) -> list[float]:
        return [0.5] * len(candidates)


# P(holds the answer) = the reader's p_answer: weight 1 on its logit, nothing else.
READER_ONLY = AnswerWeights((0.0, 0.0, 1.0, 0.0, 0.0), 0.0, read=24, refuse_below=0.3,
                            bold=0.6)


def evidence(question: str, reader: FakeReader, passages=(BRIDGE,), earlier=None,
             **config):  # type: ignore[no-untyped-def]
    settings = replace(extractive_config(**config), reader=reader, ranker=EqualRanker(),
                       weights=READER_ONLY, no_answer=0.7, bold=0.6)
    return find_evidence(question, passages, Terms(), settings, "", None, earlier)


def test_the_readers_sentence_and_span_answer_and_lead_in_bold() -> None:
    reader = FakeReader({"replaced all 212": (0.9, "212")})
    found = evidence("How many cables did engineers replace?", reader)
    assert found.chosen[0].text == "Engineers replaced all 212 suspension cables."
    # the reader's "212", with what the question counts (spans.shaped_span)
    assert (found.span, found.span_shown) == ("212 suspension cables", True)
    assert compose(found, 80).startswith("212 suspension cables — Engineers replaced all 212")
    assert found.trace is not None and found.trace.candidates[0]["probability"] == 0.9
    # Each candidate is read with its neighbours and headline.
    read = next(i for i in reader.inputs if i.sentence.startswith("Engineers"))
    assert read.previous.startswith("The Kestrel Harbour Bridge reopened")
    assert read.next.startswith("The transport office") and read.headline == BRIDGE.title


def test_a_span_not_confident_enough_is_not_bold() -> None:
    reader = FakeReader({"replaced all 212": (0.62, "212")})  # bold: 0.62 × 0.95 = 0.589 < 0.6
    found = evidence("How many cables did engineers replace?", reader)
    assert found.span == "212 suspension cables" and not found.span_shown


def test_the_reader_refuses_when_no_sentence_is_likely() -> None:
    found = evidence("Who designed the bridge?", FakeReader({"cables": (0.2, "212")}))
    assert found.abstain
    assert found.trace is not None and found.trace.decision.startswith("abstained: the reader")


def test_a_followup_is_read_with_the_question_it_follows() -> None:
    reader = FakeReader({"tolls would stay": (0.8, "two euros")})
    found = evidence("And for cars?", reader, earlier="What are the bridge tolls?")
    assert found.span == "two euros"
    assert {i.question_context for i in reader.inputs} == {"What are the bridge tolls?"}


def test_a_correction_notes_value_is_not_the_readers_answer() -> None:
    note = passage("footbridge", "Council approves footbridge", (
        "The council approved a footbridge that will cost 6 million euros. Work starts "
        "in spring.\n\nCorrection: An earlier version of this article said the footbridge "
        "would cost 9 million euros."))
    reader = FakeReader({"would cost 9": (0.9, "9 million euros"),
                         "will cost 6": (0.8, "6 million euros")})
    found = evidence("How much will the footbridge cost?", reader, passages=(note,))
    assert found.span == "6 million euros"
    assert READER_RULES[0].__name__ == "rule_not_a_correction"


def test_the_latest_version_of_a_story_wins_with_the_reader() -> None:
    old = passage("toll-1", "Toll set", "The harbour toll was set at 40 people dead in the "
                  "first count of the storm on the coast.", datetime(2026, 11, 20, tzinfo=UTC))
    new = passage("toll-2", "Toll rises", "The harbour toll rose to 52 people dead in the "
                  "latest count of the storm on the coast.", datetime(2026, 11, 22, tzinfo=UTC))
    reader = FakeReader({"set at 40": (0.9, "40"), "rose to 52": (0.8, "52")})
    found = evidence("How many people died in the storm?", reader, passages=(old, new))
    assert found.span == "52 people"


def test_a_sentence_that_refers_back_brings_the_sentence_naming_whom() -> None:
    council = passage("council", "New harbour chief named", (
        "The port authority named Jane Roe as its new harbour chief on Monday. She replaces "
        "Amara Osei, who retired in June after twelve years in the post."))
    found = evidence("Who does the new harbour chief replace?",
                     FakeReader({"She replaces": (0.9, "Amara Osei")}), passages=(council,))
    assert found.chosen[0].text.startswith("She replaces Amara Osei")
    assert found.referent is not None and found.referent.text.startswith("The port authority")
    text = compose(found, 80)
    assert text.index("Jane Roe") < text.index("She replaces") and text.count("[1]") == 2


AWARDS = passage("awards", "Considine wins Evening Standard award", (
    "Paddy Considine was named best actor at the Evening Standard film awards for Dead Man's "
    "Shoes. The ceremony was held in London on Sunday night."))
SHOES = passage("shoes", "Low-budget thriller opens", (
    "Dead Man's Shoes, directed by Shane Meadows, opens in cinemas this week. The thriller "
    "was shot in the Peak District in three weeks."))
DIRECTOR = FakeReader({"directed by Shane": (0.9, "Shane Meadows")})


def test_a_description_naming_another_articles_subject_bridges_rather_than_refuses() -> None:
    # The answering article lacks "Paddy Considine", which the awards article holds: a
    # two-article question, not a near miss.
    found = evidence("Who directed the film that won Paddy Considine best actor?", DIRECTOR,
                     passages=(SHOES, AWARDS))
    assert not found.missing and found.span == "Shane Meadows"
    assert found.trace is not None and any(r.startswith("missing_bridged: Paddy")
                                           for r in found.trace.rules)


def test_without_a_description_or_a_bridging_article_the_missing_name_is_said() -> None:
    # Asked plainly, the name is what the question is about: the article lacks it.
    plain = evidence("Who directed Paddy Considine in his new film?", DIRECTOR,
                     passages=(SHOES, AWARDS))
    assert "Paddy Considine" in plain.missing  # one name, as the question writes it
    # Described, but no article read holds the name: still missing.
    alone = evidence("Who directed the film that won Paddy Considine best actor?", DIRECTOR,
                     passages=(SHOES,))
    assert "Paddy Considine" in alone.missing


HOTEL = passage("hotel", "Hotel fire kills seventeen in Delhi", (
    "A fire at a hotel in Karol Bagh killed seventeen people on Tuesday. Firefighters "
    "dispatched around 30 vehicles to the hotel."))
GARAGE = passage("garage", "Fire in parking structure at Sola Airport", (
    "A fire destroyed a parking garage at Sola Airport in Norway on Tuesday. About 60 "
    "firefighters fought the blaze through the night."))


def test_a_close_second_from_the_article_the_question_names_leads() -> None:
    # The ranker's best came from the Delhi fire, which lacks "Sola"; the Sola article's own
    # sentence, close behind, answers ("the articles don't say this for Sola Airport" named
    # an article that was read).
    close = FakeReader({"dispatched around 30": (0.5, "around 30"),
                        "About 60 firefighters": (0.47, "About 60")})
    found = evidence("How many firefighters fought the Sola Airport fire?", close,
                     passages=(HOTEL, GARAGE))
    assert not found.missing and found.chosen[0].text.startswith("About 60 firefighters")
    assert found.trace is not None and any(r.startswith("missing_elsewhere: Sola")
                                           for r in found.trace.rules)
    # further behind, it is no answer to lead with: the name is said to be missing
    far = FakeReader({"dispatched around 30": (0.5, "around 30"),
                      "About 60 firefighters": (0.4, "About 60")})
    assert "Sola Airport" in evidence("How many firefighters fought the Sola Airport fire?",
                                      far, passages=(HOTEL, GARAGE)).missing


def test_a_close_second_from_another_article_is_not_cited_one_from_the_same_is() -> None:
    reader = FakeReader({"directed by Shane": (0.9, "Shane Meadows"),
                         "Peak District": (0.8, ""), "ceremony was held": (0.85, "")})
    found = evidence("Who directed Dead Man's Shoes?", reader, passages=(SHOES, AWARDS),
                     close_ratio=0.7)
    texts = [c.text for c in found.chosen]
    assert texts[0].startswith("Dead Man's Shoes, directed by Shane Meadows")
    assert any(t.startswith("The thriller was shot") for t in texts)
    assert not any(t.startswith("The ceremony") for t in texts)


def test_a_name_called_former_is_no_bold_answer_to_who_holds_it_now() -> None:
    island = passage("island", "Governor sworn in", (
        "The now-former governor Pedro Alvar said he would not contest the ruling. Wanda "
        "Reyes was sworn in as governor on Wednesday."))
    reader = FakeReader({"now-former governor": (0.9, "Pedro Alvar")})
    now = evidence("Who is the governor of the island now?", reader, passages=(island,))
    assert now.span is None and not now.span_shown
    # asked without "now", the same reading keeps its value
    then = evidence("Who was the governor who would not contest the ruling?", reader,
                    passages=(island,))
    assert then.span == "Pedro Alvar"


class QuestionReader(FakeReader):
    """A FakeReader with a table for each question it is asked."""

    def __init__(self, tables: dict[str, dict[str, tuple[float, str]]]) -> None:
        super().__init__({})
        self.tables = tables

    def read(self, question: str, candidates: Sequence[ReaderInput]) -> list[Reading]:
        self.table = self.tables.get(question, {})
        return super().read(question, candidates)


COST = "What did the bridge repair cost?"
COST_SAID = f"{COST} The repair cost the city 84 million euros."


def follow_up(question: str, reads: dict[str, tuple[float, str]], earlier: str = COST,
              earlier_reads: dict[str, tuple[float, str]] | None = None,
              said: str = COST_SAID):  # type: ignore[no-untyped-def]
    """`question` after `earlier` (whose answer the conversation said as `said`), over the
    bridge report; `reads`: the reader's table for the follow-up."""
    reader = QuestionReader({earlier: earlier_reads or {"cost the city": (0.9, "84 million")},
                             question: reads})
    settings = replace(extractive_config(), reader=reader, ranker=EqualRanker(),
                       weights=READER_ONLY, no_answer=0.7, bold=0.6)
    return find_evidence(question, [BRIDGE], Terms(), settings, said, None, earlier)


def test_an_elliptical_follow_up_is_a_detail_of_the_sentence_just_said() -> None:
    # the reader gives the earlier answer's sentence P 0.01 for "When?", its span right
    found = follow_up("When?", {"reopened on Friday": (0.01, "Friday")})
    assert not found.abstain
    assert found.chosen[0].text.startswith("The Kestrel Harbour Bridge reopened on Friday")
    assert found.trace is not None and "follow_detail" in found.trace.rules[0]
    assert found.span == "Friday" and not found.span_shown  # the reader's P stays low
    assert len(found.chosen) == 1  # one detail of one sentence


def test_a_detail_the_earlier_answers_sentence_lacks_is_still_refused() -> None:
    cables = "How many cables were replaced?"
    found = follow_up("When?", {"replaced all 212": (0.01, "212")}, cables,
                      {"replaced all 212": (0.9, "212")},
                      f"{cables} Engineers replaced all 212 suspension cables.")
    assert found.abstain  # "212" is no date


def test_a_name_is_no_detail_of_the_sentence_just_said() -> None:
    found = follow_up("Where?", {"reopened on Friday": (0.01, "Kestrel Harbour Bridge")})
    assert found.abstain


def test_a_follow_up_with_words_of_its_own_is_the_readers_alone() -> None:
    found = follow_up("When did the ferries stop?", {"reopened on Friday": (0.01, "Friday")})
    assert found.abstain or found.missing
