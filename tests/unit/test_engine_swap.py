"""The chain with any LangChain retriever: Documents in, validated cited Answer out."""

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from retrieval.answerers import ExtractiveAnswerer
from retrieval.engine import AnswerEngine
from retrieval.records import Passage
from retrieval.retriever import NewsdeskRetriever
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
    return AnswerEngine(retriever, answerer)


def test_any_langchain_retriever_can_feed_the_chain() -> None:
    answer = engine_with(TwoDocs()).ask("How much did the Kestrel bridge repair cost?")
    assert answer.answer == "The Kestrel bridge repair cost the city 84 million euros. [1]"
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
