"""Answers a reader takes in at a glance, on hand-made passages (pure code, no model): the
asked-for value first, one sentence when one answers, follow-ups, two-part questions, and
saying what is missing."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot.slack.blocks import answer_mrkdwn
from ingest.text.terms import analyze
from retrieval.answer.compose import compose
from retrieval.answer.extractive import find_evidence
from retrieval.answer.spans import answer_span, shaped_span
from retrieval.citations import join_answers
from retrieval.question.answer_types import AnswerType, answer_type
from retrieval.question.two_part import describes_another, split_two_part
from retrieval.records import Answer, AnswerSpan, Citation, Passage
from tests.helpers import extractive_config


class Terms:
    """The real term analysis with flat IDF, except for the words listed as common."""

    def __init__(self, common: Sequence[str] = ()) -> None:
        self._common = {t for w in common for t in analyze(w)}

    def terms(self, text: str) -> list[str]:
        return analyze(text)

    def idf(self, term: str) -> float:
        return 0.3 if term in self._common else 2.0


def passage(article: str, title: str, text: str, score: float = 1.0) -> Passage:
    return Passage(chunk_id=f"{article}#0", article_id=article, title=title, text=text,
                   score=score)


BRIDGE = passage("bridge", "Harbour bridge reopens", (
    "The Kestrel Harbour Bridge reopened on Friday after a repair that cost the city 84 million "
    "euros. Engineers replaced all 212 suspension cables. Cyclists get a separate lane for "
    "the first time. The transport office said tolls would stay at two euros for cars. "
    "Critics said the repair ran 19 million euros over budget."))
WATER = passage("water", "Water bills to rise", (
    "Households will pay 6 percent more for water from January. The average annual bill will "
    "rise from 410 euros to about 435 euros. Clearwater said the increase pays for replacing "
    "old pipes, which lose a quarter of the water they carry."), score=0.5)
FERRY = passage("ferry", "Ferry strike ends", (
    "The ferry strike ended on Tuesday. Ferry workers accepted a 7 percent pay rise after "
    "talks that lasted all night."), score=0.4)
PASSAGES = [BRIDGE, WATER, FERRY]


def answer(question: str, context: str = "", passages: Sequence[Passage] = PASSAGES,
           **config: float) -> tuple[str, bool, str | None]:
    settings = extractive_config(min_evidence=0.3, **config)
    evidence = find_evidence(question, passages, Terms(["bridge", "water", "ferry"]), settings,
                             context)
    if evidence.abstain:
        return "", True, None
    return compose(evidence, settings.max_words), bool(evidence.missing), evidence.span


@pytest.mark.parametrize(("sentence", "question", "expected"), [
    ("The repair cost the city 84 million euros, and ran 19 million euros over budget.",
     "How much did the repair cost?", "84 million euros"),
    ("Engineers replaced all 212 suspension cables and resurfaced the deck.",
     "How many suspension cables were replaced?", "212 suspension cables"),
    ("United won, beating Rovers 5-4 on penalties after a 2-2 draw.",
     "What was the score in the final?", "5-4 on penalties after a 2-2 draw"),
    ("Striker Nadia Kowalski scored both of their goals.",
     "Who scored both goals?", "Nadia Kowalski"),
    ("The bill will rise from 410 euros to about 435 euros.",
     "How much will the bill rise?", "from 410 euros to about 435 euros"),
    ("Ferry workers accepted a 7 percent pay rise.",
     "How much did the ferry workers' pay rise?", "7 percent"),
    ("The Asimo robot grew 10cm to 130cm and was born five years ago.",
     "How tall is the Asimo robot?", "130cm"),
    ("Wilkinson takes over from Lawrence Dallaglio, who retired in August.",
     "Whose place did Wilkinson take?", "Lawrence Dallaglio"),
    ("Europeans favoured Queen's anthem \"The Show Must Go On\" as their first choice.",
     "Which song did Europeans pick?", "The Show Must Go On"),
    ("The first panels would feed the grid in late 2026.",
     "When will the first panels feed the grid?", "late 2026"),
])
def test_the_asked_for_value_is_found_in_its_sentence(sentence: str, question: str,
                                                      expected: str) -> None:
    assert answer_span(sentence, question, answer_type(question)) == expected


def test_no_span_when_the_sentence_only_repeats_the_question() -> None:
    sentence = "Analyst Bill Thompson has seen the future."
    assert answer_span(sentence, "Which phone is Bill Thompson keeping?", AnswerType.NAME) is None
    assert answer_span("It rained.", "Why did it rain?", AnswerType.REASON) is None


@pytest.mark.parametrize(("question", "kind"), [
    ("When Chepkemei won the race three years ago, where was it held?", AnswerType.PLACE),
    ("Where was Kuznetsova playing when she gave the sample?", AnswerType.PLACE),
    ("How much did Hendrix's guitar go for at the auction?", AnswerType.MONEY),
    ("What is the bridge toll for trucks?", AnswerType.MONEY),
    ("How much will water bills rise?", AnswerType.MONEY),
    ("Why?", AnswerType.REASON),
    ("And why is that?", AnswerType.REASON),
])
def test_the_main_clause_decides_what_is_asked(question: str, kind: AnswerType) -> None:
    assert answer_type(question) is kind


def test_the_answer_leads_with_the_value_in_one_sentence() -> None:
    text, _, span = answer("How much did the Kestrel bridge repair cost?")
    assert span == "84 million euros"
    # "19 million euros over budget" scores close but adds nothing the question asked.
    assert text == ("84 million euros — The Kestrel Harbour Bridge reopened on Friday after a "
                    "repair that cost the city 84 million euros. [1]")


def test_a_second_sentence_only_when_it_supplies_what_the_first_lacks() -> None:
    # Two stories in one question: each article supplies its half.
    text, _, _ = answer("How much did the Kestrel bridge repair cost, and how much did the "
                        "ferry workers' pay rise?")
    assert "84 million euros" in text and "7 percent" in text
    assert "[1]" in text and "[3]" in text


def test_a_percentage_answers_how_much_a_pay_rise_was() -> None:
    text, missing, span = answer("How much did the ferry workers' pay rise?")
    assert not missing and span == "7 percent"
    assert text.startswith("7 percent — Ferry workers accepted a 7 percent pay rise")


def test_what_is_missing_is_said_not_presented_as_the_answer() -> None:
    text, missing, _ = answer("What is the bridge toll for trucks?")
    assert missing
    assert text == ("The articles don't say this for “trucks”. The closest they come: The "
                    "transport office said tolls would stay at two euros for cars. [1]")
    _, missing, span = answer("What is the bridge toll for cars?")
    assert not missing and span == "two euros"
    # what the toll is for, followed by where
    _, missing, _ = answer("How much is the toll for trucks on the Kestrel bridge?")
    assert missing


def test_a_name_the_article_never_mentions_is_missing() -> None:
    _, missing, _ = answer("How much did the Velmar Bridge repair cost?")
    assert missing


def test_why_follow_up_gives_the_reason_not_the_answer_again() -> None:
    first = ("How much will water bills rise? from 410 euros to about 435 euros — The average "
             "annual bill will rise from 410 euros to about 435 euros. [1]")
    text, _, _ = answer("Why?", context=first)
    assert text.startswith("Clearwater said the increase pays for replacing old pipes")


def test_and_what_about_follow_up_is_answered_from_the_same_story() -> None:
    first = ("What is the Kestrel bridge toll for cars? two euros — The transport office said "
             "tolls would stay at two euros for cars. [1]")
    text, missing, _ = answer("And what about the cyclists?", context=first)
    assert not missing and text.startswith("Cyclists get a separate lane")


def test_a_typed_follow_up_may_take_its_value_from_the_sentence_said_before() -> None:
    first = ("When did the Kestrel bridge reopen? Friday — The Kestrel Harbour Bridge reopened "
             "on Friday after a repair that cost the city 84 million euros. [1]")
    text, missing, span = answer("How much did the repair cost?", context=first)
    assert not missing and span == "84 million euros"
    assert text.startswith("84 million euros — The Kestrel Harbour Bridge reopened")


@pytest.mark.parametrize(("question", "subject", "main"), [
    ("The TV channel where a mother confronted Tony Blair - how many complaints did it get?",
     "Which is the TV channel where a mother confronted Tony Blair?",
     "How many complaints did Five get?"),
    ("The Spurs boss who said his side were robbed at Old Trafford - which Dutch club has "
     "been linked with him?",
     "Who is the Spurs boss who said his side were robbed at Old Trafford?",
     "Which Dutch club has been linked with Five?"),
    ("Which night is the singer who directed last year's Meltdown playing?",
     "Who is the singer who directed last year's Meltdown?", "Which night is Five playing?"),
])
def test_two_part_questions_split_into_a_subject_and_a_question_about_it(
        question: str, subject: str, main: str) -> None:
    parts = split_two_part(question)
    assert parts is not None
    assert parts.subject_question == subject
    assert parts.main_about("Five") == main


@pytest.mark.parametrize("question", [
    "Which band made the CD that got Wal-Mart sued over swearing?",
    "What was the 1993 Ray Charles album that used hip-hop beats?",
    "How much did the bridge repair cost?",
    "Who directed Kisna - the Warrior Poet?",
])
def test_one_fact_questions_are_not_split(question: str) -> None:
    assert split_two_part(question) is None


@pytest.mark.parametrize(("question", "describes"), [
    ("Who directed the film that won Paddy Considine best actor?", True),
    ("Which role did she play in the film named best film at the Baftas?", True),
    ("When is the film of the novel the Bishop of Durham called lousy history due out?", True),
    ("The ADB put the costs at $3bn; how big is the rebuilding drive?", True),
    ("Who will host the 2005 Golden Globes ceremony?", False),
    ("What was Lufthansa's revenue in 2004?", False),
])
def test_a_question_that_singles_out_its_subject_by_a_description(question: str,
                                                                   describes: bool) -> None:
    assert describes_another(question) is describes


def test_two_answers_join_with_markers_renumbered_over_both() -> None:
    channel = passage("five", "Five", "Five hosted the phone-in.")
    other = passage("other", "Other", "Unrelated.")
    complaints = passage("ads", "Ads", "Five received 100 complaints.")
    subject = Answer("q1", "Five — Five hosted the phone-in. [2]", False,
                     (Citation(2, channel),), (other, channel),
                     answer_span=AnswerSpan("Five", 2))
    main = Answer("q2", "100 complaints — Five received 100 complaints. [1]", False,
                  (Citation(1, complaints),), (complaints, channel),
                  answer_span=AnswerSpan("100 complaints", 1))
    joined = join_answers("two-part?", main, subject)
    assert joined.answer == ("100 complaints — Five received 100 complaints. [1] "
                             "Five hosted the phone-in. [2]")
    assert [c.passage.chunk_id for c in joined.citations] == ["ads#0", "five#0"]
    assert joined.answer_span == AnswerSpan("100 complaints", 1)
    assert {p.chunk_id for p in joined.passages} == {"ads#0", "five#0", "other#0"}


def test_slack_shows_the_lead_value_in_bold() -> None:
    plain = Answer("q", "84 million euros — It cost 84 million euros. [1]", False,
                   (Citation(1, BRIDGE),), (BRIDGE,), answer_span=AnswerSpan("84 million euros", 1))
    assert answer_mrkdwn(plain) == "*84 million euros* — It cost 84 million euros. [1]"
    without = Answer("q", "It cost a lot. [1]", False, (Citation(1, BRIDGE),), (BRIDGE,))
    assert answer_mrkdwn(without) == "It cost a lot. [1]"


@pytest.mark.parametrize(("sentence", "read", "question", "shaped"), [
    # the count and what the question counts; a determiner the reader took is not the value
    ("Engineers replaced all 212 suspension cables.", "all 212",
     "How many suspension cables were replaced?", "212 suspension cables"),
    ("Five people have now died in Storm Orla.", "Five", "How many people died?",
     "Five people"),
    # an amount with its currency, keeping the approximator the reader took
    ("The bill will be about 435 euros.", "about 435", "How much will the bill be?",
     "about 435 euros"),
    ("The bill will be about 435 euros.", "435", "How much will the bill be?", "435 euros"),
    # one end of a range is not the rise: both ends are
    ("The bill will rise from 410 euros to about 435 euros.", "about 435",
     "How much will water bills rise?", "from 410 euros to about 435 euros"),
    ("The bill will rise from 410 euros to about 435 euros.", "410 euros",
     "How much will water bills rise?", "from 410 euros to about 435 euros"),
    # a span over two values, or over none of the asked-for kind, stays the reader's
    ("The bill will rise from 410 euros to about 435 euros.", "410 euros to about 435 euros",
     "How much will water bills rise?", "410 euros to about 435 euros"),
    ("Jonas Lind saved two penalties in the shoot-out.", "Jonas Lind",
     "Who saved two penalties?", "Jonas Lind"),
    # what the reader read past the value stays
    ("United won 5-4 on penalties after a 2-2 draw.", "5-4 on penalties",
     "What was the score?", "5-4 on penalties"),
    # a duration before the one date asked for is no date; a span of two dates stays
    ("United won the cup for the first time in 31 years on Saturday.", "31 years on Saturday",
     "When did United win the cup?", "Saturday"),
    ("The bridge, closed since February 2023, reopened on 3 May.", "February 2023, reopened "
     "on 3 May", "When did the bridge reopen?", "February 2023, reopened on 3 May"),
])
def test_a_readers_span_takes_the_boundaries_of_its_value(sentence: str, read: str,
                                                          question: str, shaped: str) -> None:
    start = sentence.index(read)
    begin, end = shaped_span(sentence, start, start + len(read), question,
                             answer_type(question))
    assert sentence[begin:end] == shaped


def test_a_theft_is_what_a_report_of_a_stolen_thing_tells() -> None:
    museum = passage("museum", "Stolen painting found", (
        "Police found a painting stolen from the Harbour Museum six years ago. Two men, aged "
        "54 and 61, have been arrested."))
    _, missing, _ = answer("How many people were arrested for the painting theft?",
                           passages=[museum])
    assert not missing
    _, missing, _ = answer("How many people were arrested for the painting fraud?",
                           passages=[museum])
    assert missing
