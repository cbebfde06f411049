"""Questions that are not factoids get the job that answers them (issue 28 §3): "What happened
last week?" is the window's brief, never "The articles don't say"; a question with a subject
is still answered as one."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest.model.records import SearchFilter
from retrieval.engine import AnswerEngine
from retrieval.news.brief import Brief
from retrieval.question.dates import read_question_time
from retrieval.question.intent import asks_what_happened
from retrieval.question.time_window import TimeWindow
from retrieval.records import Citation, Passage
from tests.unit.test_engine_swap import TwoDocs, engine_with

THURSDAY = datetime(2026, 11, 26, 12, tzinfo=UTC)


@pytest.mark.parametrize(("question", "asks"), [
    ("What happened last week?", True), ("What happened on 16 November?", True),
    ("What happened in October?", True), ("What's new this week?", True),
    ("Any news since Monday?", True), ("What happened to the ferry last week?", False),
    ("What did the council decide last week?", False),
])
def test_what_happened_is_read_once_its_time_words_are_out(question: str, asks: bool) -> None:
    found = read_question_time(question, THURSDAY)
    assert found is not None
    assert asks_what_happened(found.question) is asks, found.question


def passage(n: int, title: str, text: str) -> Passage:
    return Passage(chunk_id=f"a{n}#0", article_id=f"a{n}", title=title, text=text, score=1.0,
                   published=datetime(2026, 11, 19 + n, tzinfo=UTC))


class Briefs:
    """A stand-in for the store's brief: one story per passage, recording the filter."""

    def __init__(self, *passages: Passage) -> None:
        self.passages = passages
        self.asked: list[SearchFilter] = []

    def __call__(self, where: SearchFilter) -> Brief:
        from retrieval.news.brief import Story
        self.asked.append(where)
        stories = tuple(Story(p.title, p.text, n, p, ("wire",), 1)
                        for n, p in enumerate(self.passages, start=1))
        return Brief(TimeWindow(where.since, where.until), stories,
                     tuple(Citation(n, p) for n, p in enumerate(self.passages, start=1)),
                     len(self.passages))


def engine(briefs: Briefs) -> AnswerEngine:
    plain = engine_with(TwoDocs())
    return AnswerEngine(plain.retriever, plain.answerer, k=6, time_reader=read_question_time,
                        briefer=briefs)


def test_what_happened_last_week_is_the_weeks_brief_with_cited_leads() -> None:
    briefs = Briefs(passage(1, "Ferry strike called off", "The ferry strike was called off."),
                    passage(2, "Tram fares frozen", "Tram fares will not rise next year."))
    answer = engine(briefs).ask("What happened last week?", as_of=THURSDAY)
    assert not answer.abstained
    assert answer.answer.startswith("2 stories from 2 articles.")  # the window shown once
    assert "Ferry strike called off" in answer.answer and "[1]" in answer.answer
    assert "Tram fares will not rise next year. [2]" in answer.answer
    assert [c.passage.article_id for c in answer.citations] == ["a1", "a2"]
    # last week is the calendar week before this one, as last month is the month before
    assert answer.window is not None and answer.window.label == "Articles from 16–22 Nov 2026"
    [where] = briefs.asked
    assert (where.since, where.until) == (answer.window.since, answer.window.until)
    assert where.until is not None and where.until < THURSDAY


def test_asked_as_of_a_day_the_archive_is_read_as_it_stood_that_day() -> None:
    class Recording(TwoDocs):
        def _get_relevant_documents(self, query, *, run_manager):  # type: ignore[no-untyped-def]
            docs = super()._get_relevant_documents(query, run_manager=run_manager)
            return [*docs, Document(page_content="The bridge repair cost 90 million euros.",
                                    metadata={"article_id": "later", "title": "Later",
                                              "published": "2026-12-01T00:00:00+00:00"})]

    from langchain_core.documents import Document
    plain = engine_with(Recording())
    later = AnswerEngine(plain.retriever, plain.answerer, k=6, time_reader=read_question_time)
    as_then = later.ask("How much did the Kestrel bridge repair cost?",
                        as_of=datetime(2026, 11, 26, tzinfo=UTC))
    assert "later" not in {p.article_id for p in as_then.passages}
    now = later.ask("How much did the Kestrel bridge repair cost?")
    assert "later" in {p.article_id for p in now.passages}


def test_a_question_with_a_subject_is_not_a_brief_and_an_empty_window_says_so() -> None:
    briefs = Briefs()
    answer = engine(briefs).ask("What happened last week?", as_of=THURSDAY)
    assert len(briefs.asked) == 1  # asked, found no story: said as any empty window is
    assert answer.abstained and answer.answer.startswith("No articles from 16–22 Nov 2026.")
    subject = Briefs(passage(1, "Ferry", "The ferry strike was called off."))
    asked = engine(subject).ask("How much did the Kestrel bridge repair cost last week?",
                                as_of=THURSDAY)
    assert subject.asked == []
    assert "Ferry" not in asked.answer


def test_a_year_in_a_question_cannot_rule_out_undated_articles() -> None:
    # TwoDocs: the bridge article is dated 14 Mar 2025, the farm article is undated. No
    # article is dated 2024, but an undated one may be of 2024: the question is answered as
    # asked, and the answerer says the dated article lacks "2024".
    plain = engine_with(TwoDocs())
    dated = AnswerEngine(plain.retriever, plain.answerer, k=6, time_reader=read_question_time)
    asked = dated.ask("How much did the Kestrel bridge repair cost in 2024?", as_of=THURSDAY)
    assert asked.answer.startswith("The articles don't say this for “2024”.")
    # "What happened in 2024?" asks for the window's news: there is none.
    window = dated.ask("What happened in 2024?", as_of=THURSDAY)
    assert window.abstained and window.answer.startswith("No articles from 2024.")
