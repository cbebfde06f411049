"""The chain with any LangChain retriever: Documents in, validated cited Answer out."""

from datetime import UTC, datetime

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from ingest.model.records import SearchFilter
from retrieval.answer.answerers import ExtractiveAnswerer
from retrieval.engine import AnswerEngine
from retrieval.question.dates import read_question_time
from retrieval.records import Passage
from retrieval.search.retriever import NewsdeskRetriever
from tests.helpers import Analyzer, extractive_config


class TwoDocs(BaseRetriever):
    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [
            Document(page_content="The Kestrel bridge repair cost the city 84 million euros.",
                     metadata={"article_id": "bridge", "title": "Kestrel bridge reopens",
                               "published": "2025-03-14T00:00:00+00:00"}),
            Document(page_content="The council approved a solar farm on Monday.",
                     metadata={"title": "Farm approved"}, id="farm#0"),
        ]


def engine_with(retriever: BaseRetriever) -> AnswerEngine:
    answerer = ExtractiveAnswerer(Analyzer, extractive_config(min_evidence=0.3))
    return AnswerEngine(retriever, answerer, k=6)


def test_any_langchain_retriever_can_feed_the_chain() -> None:
    answer = engine_with(TwoDocs()).ask("How much did the Kestrel bridge repair cost?")
    assert answer.answer == ("84 million euros — The Kestrel bridge repair cost the city "
                             "84 million euros. [1]")
    assert answer.answer_span is not None
    assert (answer.answer_span.text, answer.answer_span.n) == ("84 million euros", 1)
    [citation] = answer.citations
    assert citation.passage.article_id == "bridge"
    assert citation.passage.published is not None
    assert [p.chunk_id for p in answer.passages] == ["doc-0", "farm#0"]


class OnePassage:
    def search(self, query: str, k: int, where: object = None) -> list[Passage]:
        return [Passage(chunk_id="b#0", article_id="b", title="Bridge", text="Repair done.",
                        score=0.5, url="https://n.example/b")]


def test_newsdesk_retriever_speaks_langchain() -> None:
    [doc] = NewsdeskRetriever(searcher=OnePassage(), k=3).invoke("bridge")
    assert doc.page_content == "Repair done." and doc.id == "b#0"
    assert doc.metadata["url"] == "https://n.example/b" and doc.metadata["score"] == 0.5


class FilteringSearcher:
    """Our searcher's contract: it applies the filter it is given."""

    def __init__(self) -> None:
        self.wheres: list[SearchFilter | None] = []

    def search(self, query: str, k: int, where: SearchFilter | None = None) -> list[Passage]:
        self.wheres.append(where)
        bridge = Passage(chunk_id="bridge#0", article_id="bridge", title="Kestrel bridge",
                         text="The Kestrel bridge repair cost the city 84 million euros.",
                         score=1.0, published=datetime(2025, 3, 14, tzinfo=UTC))
        return [p for p in [bridge] if where is None or where.accepts(
            p.source, int(p.published.timestamp()) if p.published else None)]

    def context(self, passages: list[Passage], articles: int) -> list[Passage]:
        return []


def test_filters_hold_with_either_retriever() -> None:
    """--source/--since/--until are never dropped, whichever retriever feeds the chain."""
    later = SearchFilter(since=datetime(2025, 6, 1, tzinfo=UTC))
    earlier = SearchFilter(until=datetime(2025, 6, 1, tzinfo=UTC))
    question = "How much did the Kestrel bridge repair cost?"
    searcher = FilteringSearcher()
    ours = engine_with(NewsdeskRetriever(searcher=searcher, k=6))
    foreign = engine_with(TwoDocs())
    for engine in (ours, foreign):
        assert engine.ask(question, where=later).abstained
        assert "84 million euros" in engine.ask(question, where=earlier).answer
        assert engine.search(question, where=later) == []
    assert searcher.wheres[0] == later  # handed to our searcher, which filters in the store
    # The farm document has no date: an --until filter cannot vouch for it either.
    assert [p.article_id for p in foreign.search(question, where=earlier)] == ["bridge"]
    assert [p.chunk_id for p in foreign.search(question)] == ["doc-0", "farm#0"]


class UndatedSearcher(FilteringSearcher):
    """A store whose articles carry no dates: any date window holds nothing."""

    def search(self, query: str, k: int, where: SearchFilter | None = None) -> list[Passage]:
        self.wheres.append(where)
        bridge = Passage(chunk_id="bridge#0", article_id="bridge", title="Kestrel bridge",
                         text="The Kestrel bridge repair in 2004 cost the city 84 million "
                              "euros.", score=1.0)
        return [p for p in [bridge] if where is None or where.accepts(p.source, None)]


def test_time_words_in_an_undated_store_stay_part_of_the_question() -> None:
    searcher = UndatedSearcher()
    answerer = ExtractiveAnswerer(Analyzer, extractive_config(min_evidence=0.3))
    engine = AnswerEngine(NewsdeskRetriever(searcher=searcher, k=6), answerer, k=6,
                          time_reader=read_question_time)
    answer = engine.ask("How much did the Kestrel bridge repair cost in 2004?",
                        as_of=datetime(2026, 1, 1, tzinfo=UTC))
    assert "84 million euros" in answer.answer and not answer.abstained
    assert answer.window is None  # no window was used in the end
    # Tried in the window first, then without it.
    assert [w.since.year if w and w.since else None for w in searcher.wheres][:2] == [2004,
                                                                                       None]


def test_time_words_turned_off_leave_the_question_and_set_no_window() -> None:
    """`time_words=False` (the web page's switch): read once, taken out, no window; dates
    given in the filter still win."""
    searcher = FilteringSearcher()
    answerer = ExtractiveAnswerer(Analyzer, extractive_config(min_evidence=0.3))
    engine = AnswerEngine(NewsdeskRetriever(searcher=searcher, k=6), answerer, k=6,
                          time_reader=read_question_time)
    question = "How much did the Kestrel bridge repair cost in 2004?"
    intent = engine.read(question, as_of=datetime(2026, 1, 1, tzinfo=UTC), time_words=False)
    assert intent.window is None and "2004" not in intent.asked.text
    answer = engine.ask(question, as_of=datetime(2026, 1, 1, tzinfo=UTC), time_words=False)
    assert "84 million euros" in answer.answer and answer.question == question
    first = searcher.wheres[0]  # only as it stood on as_of: no since from "in 2004"
    assert answer.window is None and first is not None and first.since is None
    dated = SearchFilter(until=datetime(2025, 1, 1, tzinfo=UTC))
    assert engine.read(question, where=dated, time_words=False).window is not None
