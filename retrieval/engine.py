"""The answer chain as a LangChain runnable: query → retrieve → answer → citation check.

Any LangChain retriever can stand in for the hybrid one, and any chat model for the LLM
answerer; the logic in each step (history handling, sentence selection, citation validation)
is plain Python in its own module. The chain carries one typed state from step to step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda

from ingest.records import SearchFilter
from retrieval.answerers import Answerer, Draft, TokenSink
from retrieval.citations import join_answers, validate_citations
from retrieval.extractive import abstention_text
from retrieval.history import conversation_context, is_followup, search_query
from retrieval.records import Answer, AnswerSpan, Passage, Turn
from retrieval.retriever import NewsdeskRetriever, filtered, to_passages
from retrieval.two_part import TwoPart, split_two_part

Condenser = Callable[[str, Sequence[Turn]], str]

# The answerer reads the top ANSWER_PASSAGES ranked passages, plus every other chunk of the
# top CONTEXT_ARTICLES articles among them (tuned with the extractive answerer on a dev set).
ANSWER_PASSAGES = 6
CONTEXT_ARTICLES = 3


@dataclass(frozen=True)
class ChainState:
    """What one question carries through the chain; each step fills in its part."""

    question: str
    history: tuple[Turn, ...]
    k: int
    where: SearchFilter | None
    on_token: TokenSink | None
    started: float
    timings: dict[str, float] = field(default_factory=dict)
    search: str = ""  # what retrieval searches for (the question, made standalone)
    context: str = ""  # conversation context the answerer may lean on
    ranked: tuple[Passage, ...] = ()
    extra: tuple[Passage, ...] = ()  # the rest of the top articles, read by the answerer
    draft: Draft | None = None


class AnswerEngine:
    def __init__(self, retriever: BaseRetriever, answerer: Answerer, *, k: int,
                 condenser: Condenser | None = None) -> None:
        self.retriever = retriever
        self.answerer = answerer
        self.k = k  # passages retrieved: the [retrieval] k setting
        self.answer_passages = ANSWER_PASSAGES
        self.context_articles = CONTEXT_ARTICLES
        self.condenser = condenser
        self.chain: Runnable[ChainState, Answer] = (
            RunnableLambda(self._query)
            | RunnableLambda(self._retrieve)
            | RunnableLambda(self._answer)
            | RunnableLambda(self._finalize)
        )

    def ask(self, question: str, history: Sequence[Turn] = (), *, k: int | None = None,
            where: SearchFilter | None = None, on_token: TokenSink | None = None) -> Answer:
        parts = split_two_part(question) if not history else None
        if parts is not None:
            joined = self._ask_two_part(question.strip(), parts, k, where)
            if joined is not None:
                if on_token:
                    on_token(joined.answer)
                return joined
        return self._ask_one(question, history, k, where, on_token)

    def _ask_one(self, question: str, history: Sequence[Turn], k: int | None,
                 where: SearchFilter | None, on_token: TokenSink | None) -> Answer:
        return self.chain.invoke(ChainState(
            question=question.strip(), history=tuple(history), k=k or self.k, where=where,
            on_token=on_token, started=time.perf_counter(),
        ))

    def _ask_two_part(self, question: str, parts: TwoPart, k: int | None,
                      where: SearchFilter | None) -> Answer | None:
        """Find who or what the description names in one article, then ask the main question
        about it; None (ask the question whole) when either step finds no answer."""
        subject = self._ask_one(parts.subject_question, (), k, where, None)
        if subject.abstained or subject.answer_span is None:
            return None
        main = self._ask_one(parts.main_about(subject.answer_span.text), (), k, where, None)
        if main.abstained:
            return None
        return join_answers(question, main, subject)

    def search(self, question: str, *, k: int | None = None,
               where: SearchFilter | None = None) -> list[Passage]:
        return self._ranked(question, k or self.k, where)

    def _ranked(self, query: str, k: int, where: SearchFilter | None) -> list[Passage]:
        if isinstance(self.retriever, NewsdeskRetriever):
            return self.retriever.search(query, k, where)
        # Another LangChain retriever knows nothing of our filters: apply them to what it
        # returns (so a filtered question may get fewer than k passages), never drop them.
        return filtered(to_passages(self.retriever.invoke(query)), where)[:k]

    # -- steps ---------------------------------------------------------------------------------

    def _query(self, state: ChainState) -> ChainState:
        """What to search for, and the conversation context the answerer may lean on."""
        started = time.perf_counter()
        question, history = state.question, state.history
        search = search_query(question, history)
        if self.condenser is not None and is_followup(question, history):
            search = self.condenser(question, history) or search
        return replace(state, search=search, context=conversation_context(question, history),
                       timings={**state.timings, "condense": time.perf_counter() - started})

    def _retrieve(self, state: ChainState) -> ChainState:
        started = time.perf_counter()
        ranked = self._ranked(state.search, state.k, state.where)
        extra: list[Passage] = []
        if isinstance(self.retriever, NewsdeskRetriever):
            # The answerer also reads the rest of the top articles: an article's best chunk
            # for the query is not always the one that holds the answer.
            extra = self.retriever.context(ranked[: self.answer_passages],
                                           self.context_articles)
        return replace(state, ranked=tuple(ranked), extra=tuple(extra),
                       timings={**state.timings, "retrieve": time.perf_counter() - started})

    def _answer(self, state: ChainState) -> ChainState:
        started = time.perf_counter()
        draft = self.answerer.answer(state.question, state.context,
                                     self._answer_passages(state), on_token=state.on_token)
        return replace(state, draft=draft,
                       timings={**state.timings, "answer": time.perf_counter() - started})

    def _answer_passages(self, state: ChainState) -> list[Passage]:
        """The passages the answerer reads: the top ranked ones, then the context chunks."""
        return [*state.ranked[: self.answer_passages], *state.extra]

    def _finalize(self, state: ChainState) -> Answer:
        draft = state.draft if state.draft is not None else Draft("", abstained=True)
        passages = state.ranked + state.extra
        read = self._answer_passages(state)
        text, citations = validate_citations(draft.text, read)
        if not citations:
            # Every claim must cite a passage; an answer left with none is no answer.
            text = text if draft.abstained else abstention_text(passages)
            return Answer(question=state.question, answer=text, abstained=True, citations=(),
                          passages=passages, timings=self._timed(state), note=draft.note)
        span = None
        if draft.span and draft.span_marker and 1 <= draft.span_marker <= len(read):
            cited = read[draft.span_marker - 1].chunk_id
            span = next((AnswerSpan(draft.span, c.n) for c in citations
                         if c.passage.chunk_id == cited), None)
        return Answer(
            question=state.question, answer=text, abstained=draft.abstained,
            # An abstention that says what the articles do say keeps its citations.
            citations=citations, passages=passages, timings=self._timed(state),
            note=draft.note, answer_span=span,
        )

    @staticmethod
    def _timed(state: ChainState) -> dict[str, float]:
        return {**state.timings, "total": time.perf_counter() - state.started}
