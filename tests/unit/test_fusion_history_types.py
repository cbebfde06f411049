from datetime import UTC, datetime

import pytest

from ingest.model.records import SearchFilter
from ingest.store.chunks import chroma_where
from retrieval.question.answer_types import AnswerType, answer_type, offers
from retrieval.question.history import conversation_context, is_followup, search_query
from retrieval.search.fusion import cap_per_group, reciprocal_rank_fusion


def test_rrf_rewards_agreement_and_is_deterministic() -> None:
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "a", "d"]], k=60)
    assert [item for item, _ in fused] == ["a", "c", "b", "d"]
    weighted = reciprocal_rank_fusion([["a"], ["b"]], k=60, weights=[1.0, 2.0])
    assert weighted[0][0] == "b"


def test_cap_per_group_keeps_order_and_limits_each_article() -> None:
    ranked = [("x#0", 5.0), ("x#1", 4.0), ("x#2", 3.0), ("y#0", 2.0), ("x#3", 1.0)]
    kept = cap_per_group(ranked, lambda cid: cid.split("#")[0], 2)
    assert [cid for cid, _ in kept] == ["x#0", "x#1", "y#0"]
    assert cap_per_group(ranked, lambda cid: cid, 0) == ranked


@pytest.mark.parametrize(
    ("question", "followup"),
    [
        ("How much is that deal worth?", True),
        ("When did he first appear on television?", True),
        ("And when is the final episode?", True),
        ("Why?", True),
        ("Which band made the CD that got Wal-Mart sued over swearing?", False),
    ],
)
def test_is_followup(question: str, followup: bool) -> None:
    assert is_followup(question, [("Earlier question?", "Earlier answer")]) is followup
    assert is_followup(question, []) is False


def test_search_query_adds_recent_turns_only_for_followups() -> None:
    history = [("Q1 about ferries?", "A1"), ("Q2 about Baltline?", "A2"), ("Q3 on ships?", "A3")]
    assert search_query("How much did it cost?", history) == (
        "How much did it cost? Q2 about Baltline? A2 Q3 on ships? A3")
    assert conversation_context("Who is the mayor of Port Alder?", history) == ""


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("What percentage of the workforce is women?", AnswerType.PERCENT),
        ("How much did the ring cost?", AnswerType.MONEY),
        ("How many words does it know?", AnswerType.NUMBER),
        ("When did he first appear on television?", AnswerType.DATE),
        ("Who was the woman she attacked?", AnswerType.PERSON),
        ("Which band made the CD?", AnswerType.NAME),
        ("Did he win his appeal?", AnswerType.ANY),
    ],
)
def test_answer_type(question: str, kind: AnswerType) -> None:
    assert answer_type(question) is kind


def test_offers_requires_new_information() -> None:
    q = "How much did the ring cost in 2004?"
    assert offers("It cost $2m, his agent said.", AnswerType.MONEY, q)
    assert not offers("The ring was a gift.", AnswerType.MONEY, q)
    assert not offers("In 2004 he married.", AnswerType.DATE, "What happened in 2004?")
    assert offers("He first appeared in 1937.", AnswerType.DATE, "When did he appear?")
    assert offers("Kristin King was hit.", AnswerType.PERSON, "Who did she attack?")
    assert not offers("she was hit by a bottle.", AnswerType.PERSON, "Who did she attack?")


def test_search_filter_in_chroma_and_python_agree() -> None:
    where = SearchFilter(sources=("bbc",), since=datetime(2005, 1, 1, tzinfo=UTC))
    assert chroma_where(where) == {"$and": [
        {"$or": [{"source": {"$in": ["bbc"]}}, {"origin": {"$in": ["bbc"]}}]},
        {"published": {"$gte": 1104537600}}]}
    assert where.accepts("bbc", 1104537600)
    assert not where.accepts("bbc", 1104537599)
    assert not where.accepts("other", 1104537600)
    assert where.accepts("other", 1104537600, origin="bbc")  # a source named by its origin
    assert not where.accepts("bbc", None)
    assert chroma_where(SearchFilter()) is None and SearchFilter().accepts(None, None)


def test_a_followup_is_read_with_the_latest_question_that_stands_on_its_own() -> None:
    from retrieval.question.history import earlier_question

    water = ("How much will water bills rise?", "From 410 to about 435 euros. [1]")
    why = ("Why?", "The increase pays for new pipes. [1]")
    assert earlier_question([water, why]) == water[0]  # not "Why?"
    assert earlier_question([why]) == "Why?"  # nothing stands alone: the latest
    assert earlier_question([water, ("Who won the cup final?", "United. [1]")]) == \
        "Who won the cup final?"
    assert earlier_question([]) is None
