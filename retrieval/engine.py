"""The answer chain as a LangChain runnable: query → retrieve → answer → citation check.

Any LangChain retriever can stand in for the hybrid one, and any chat model for the LLM
answerer; the logic in each step (history handling, sentence selection, citation validation)
is plain Python in its own module.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough

from retrieval.answerers import Answerer, Draft, TokenSink
from retrieval.citations import validate_citations
from retrieval.extractive import abstention_text
from retrieval.history import conversation_context, is_followup, search_query
from retrieval.records import Answer, Passage, SearchFilter, Turn
from retrieval.retriever import NewsdeskRetriever, to_passages

Condenser = Callable[[str, Sequence[Turn]], str]


@dataclass(frozen=True)
class _Retrieved:
    ranked: list[Passage]
    context: list[Passage]


class AnswerEngine:
    def __init__(self, retriever: BaseRetriever, answerer: Answerer, *, k: int = 6,
                 answer_passages: int = 6, context_articles: int = 3,
                 condenser: Condenser | None = None) -> None:
        self.retriever = retriever
        self.answerer = answerer
        self.k = k
        self.answer_passages = answer_passages
        self.context_articles = context_articles
        self.condenser = condenser
        self.chain: Runnable[dict[str, Any], Answer] = (
            RunnablePassthrough.assign(query=RunnableLambda(self._query))
            | RunnablePassthrough.assign(passages=RunnableLambda(self._retrieve))
            | RunnablePassthrough.assign(draft=RunnableLambda(self._answer))
            | RunnableLambda(self._finalize)
        )

    def ask(self, question: str, history: Sequence[Turn] = (), *, k: int | None = None,
            where: SearchFilter | None = None, on_token: TokenSink | None = None) -> Answer:
        return self.chain.invoke({
            "question": question.strip(), "history": list(history), "k": k or self.k,
            "where": where, "on_token": on_token, "timings": {}, "started": time.perf_counter(),
        })

    def search(self, question: str, *, k: int | None = None,
               where: SearchFilter | None = None) -> list[Passage]:
        if isinstance(self.retriever, NewsdeskRetriever):
            return self.retriever.search(question, k or self.k, where)
        return to_passages(self.retriever.invoke(question))[: k or self.k]

    # -- steps ---------------------------------------------------------------------------------

    def _query(self, state: dict[str, Any]) -> dict[str, str]:
        """What to search for, and the conversation context the answerer may lean on."""
        started = time.perf_counter()
        question, history = state["question"], state["history"]
        context = conversation_context(question, history)
        search = search_query(question, history)
        if self.condenser is not None and is_followup(question, history):
            condensed = self.condenser(question, history)
            if condensed:
                search = condensed
        state["timings"]["condense"] = time.perf_counter() - started
        return {"search": search, "context": context}

    def _retrieve(self, state: dict[str, Any]) -> _Retrieved:
        started = time.perf_counter()
        query, k, where = state["query"]["search"], state["k"], state["where"]
        context: list[Passage] = []
        if isinstance(self.retriever, NewsdeskRetriever):
            ranked = self.retriever.search(query, k, where)
            # The answerer also reads the rest of the top articles: an article's best chunk
            # for the query is not always the one that holds the answer.
            context = self.retriever.context(ranked[: self.answer_passages],
                                             self.context_articles)
        else:
            ranked = to_passages(self.retriever.invoke(query))[:k]
        state["timings"]["retrieve"] = time.perf_counter() - started
        return _Retrieved(ranked, context)

    def _answer(self, state: dict[str, Any]) -> Draft:
        started = time.perf_counter()
        draft = self.answerer.answer(state["question"], state["query"]["context"],
                                     self._answer_passages(state),
                                     on_token=state["on_token"])
        state["timings"]["answer"] = time.perf_counter() - started
        return draft

    def _answer_passages(self, state: dict[str, Any]) -> list[Passage]:
        """The passages the answerer reads: the top ranked ones, then the context chunks."""
        retrieved: _Retrieved = state["passages"]
        return retrieved.ranked[: self.answer_passages] + retrieved.context

    def _finalize(self, state: dict[str, Any]) -> Answer:
        draft: Draft = state["draft"]
        retrieved: _Retrieved = state["passages"]
        passages = retrieved.ranked + retrieved.context
        text, citations = validate_citations(draft.text, self._answer_passages(state))
        abstained = draft.abstained or not citations
        if abstained and not draft.abstained:
            # Every claim must cite a passage; an answer left with none is no answer.
            text = abstention_text(passages)
        timings = dict(state["timings"])
        timings["total"] = time.perf_counter() - state["started"]
        return Answer(
            question=state["question"], answer=text, abstained=abstained,
            citations=citations if not abstained else (), passages=tuple(passages),
            timings=timings, note=draft.note,
        )
