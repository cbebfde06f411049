"""The answer chain as a LangChain runnable: query → retrieve → answer → citation check.

Any LangChain retriever can stand in for the hybrid one, and any chat model for the LLM
answerer; the logic in each step (history handling, sentence selection, citation validation)
is plain Python in its own module. The chain carries one typed state from step to step.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from datetime import time as dt_time

from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda

from ingest.model.records import SearchFilter
from retrieval.answer.answerers import Answerer, Draft, TokenSink
from retrieval.answer.extractive import abstention_text
from retrieval.citations import CitationStream, join_answers, validate_citations
from retrieval.news.brief import Brief, asks_what_happened
from retrieval.news.changes import changes_question
from retrieval.news.story_changes import ChangeReport, StoryChanges, VersionStore
from retrieval.news.timeline import compose_timeline, developments, timeline_topic
from retrieval.question.history import (
    Turn,
    conversation_context,
    earlier_question,
    is_followup,
    refers_back,
    search_query,
)
from retrieval.question.reading import TermAnalyzer
from retrieval.question.time_window import QuestionTime, TimeWindow
from retrieval.question.two_part import TwoPart, split_two_part
from retrieval.records import ABSTENTION, Answer, AnswerSpan, Passage, closest_articles
from retrieval.search.retriever import NewsdeskRetriever, filtered, to_passages

Condenser = Callable[[str, Sequence[Turn]], str]
# The publication window a question's own words give, relative to a moment
# (retrieval.question.dates).
TimeReader = Callable[[str, datetime], QuestionTime | None]
# The brief of the articles a filter accepts (bot.app.briefing.daily_brief over the store).
Briefer = Callable[[SearchFilter], Brief]

# The answerer reads the top ANSWER_PASSAGES ranked passages, plus every other chunk of the
# top CONTEXT_ARTICLES articles among them (tuned with the extractive answerer on a dev set).
ANSWER_PASSAGES = 6
CONTEXT_ARTICLES = 3
# A timeline reads this many articles of the story (one passage each, wire copies collapsed).
TIMELINE_ARTICLES = 12


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
                 condenser: Condenser | None = None, time_reader: TimeReader | None = None,
                 analyzer: Callable[[], TermAnalyzer] | None = None,
                 versions: VersionStore | None = None, briefer: Briefer | None = None
                 ) -> None:
        self.retriever = retriever
        self.briefer = briefer  # "What happened last week?": the window's stories
        # "What changed in …" questions, when the store's earlier versions can be read.
        self.story_changes = (StoryChanges(versions, self._ranked, analyzer)
                              if versions is not None else None)
        self.answerer = answerer
        self.time_reader = time_reader
        self.analyzer = analyzer  # index-consistent terms, for timelines
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
            where: SearchFilter | None = None, on_token: TokenSink | None = None,
            as_of: datetime | None = None) -> Answer:
        """Answer `question`. Time words in it ("last week", "in March") restrict retrieval to
        that publication window, relative to `as_of` (default now), unless `where` already
        has dates; "timeline of X" questions get the story's dated developments."""
        question = question.strip()
        asked, window = self._window(question, where, as_of)
        where = _as_it_stood(_within(where, window), as_of)
        # "Timeline of the ferry strike" is a timeline after earlier turns too; "timeline of
        # it" takes its subject from the last question.
        topic = timeline_topic(asked) if self.analyzer is not None else None
        if topic is not None and history and refers_back(topic):
            topic = f"{topic} {history[-1][0]}"
        changed = self._changes_asked(asked, where, history) if topic is None else None
        brief = (self._brief(where) if topic is None and changed is None
                 and window is not None and asks_what_happened(asked) else None)
        if topic is not None:
            answer = self._timeline(topic, where)
        elif changed is not None:
            answer = changed.answer
        elif brief is not None:
            answer = brief
        else:
            answer = self._ask_any(asked, history, k, where, on_token)
        if window is not None and not answer.passages:
            answer = self._outside_window(question, asked, history, k, where, window,
                                          None if topic or changed or brief else on_token)
        elif window is not None:
            answer = replace(answer, window=window)
        if on_token and (topic is not None or changed is not None or brief is not None):
            on_token(answer.answer)  # written at once, not token by token
        return replace(answer, question=question)

    def timeline(self, topic: str, *, where: SearchFilter | None = None,
                 as_of: datetime | None = None) -> Answer:
        """The story's dated developments, oldest first, one cited sentence per article."""
        topic = topic.strip()
        asked, window = self._window(topic, where, as_of)
        answer = self._timeline(asked, _as_it_stood(_within(where, window), as_of))
        return replace(answer, question=topic, window=window)

    def changes(self, target: str, *, where: SearchFilter | None = None) -> ChangeReport:
        """What changed in the article `target` names (id or URL) or in the story about a
        topic: correction notes, values, sentences added and removed, each cited to its
        version (retrieval/news/story_changes.py). Raises ValueError when this engine was built
        without the store's versions."""
        if self.story_changes is None:
            raise ValueError("this engine cannot read earlier versions of articles")
        return self.story_changes.report(target, where)

    def _changes_asked(self, question: str, where: SearchFilter | None,
                       history: Sequence[Turn]) -> ChangeReport | None:
        """The changes a "What changed in the ferry strike story?" question asks for ("…in
        that story?" takes its subject from the last question); None for other questions,
        and for a looser "What changed in X?" whose story has nothing to tell (it is then
        asked as a question about the news)."""
        asked = changes_question(question) if self.story_changes is not None else None
        if asked is None or self.story_changes is None:
            return None
        context = history[-1][0] if history and refers_back(asked.topic) else ""
        report = self.story_changes.report(asked.topic, where, context)
        return report if report.found or asked.explicit else None

    def windowed(self, question: str, where: SearchFilter | None, as_of: datetime | None
                 ) -> tuple[str, SearchFilter | None]:
        """The question without its time words, and the filter with their window."""
        asked, window = self._window(question, where, as_of)
        return asked, _as_it_stood(_within(where, window), as_of)

    def _ask_any(self, question: str, history: Sequence[Turn], k: int | None,
                 where: SearchFilter | None, on_token: TokenSink | None) -> Answer:
        parts = split_two_part(question) if not history else None
        if parts is not None:
            joined = self._ask_two_part(question, parts, k, where)
            if joined is not None:
                if on_token:
                    on_token(joined.answer)
                return joined
        return self._ask_one(question, history, k, where, on_token)

    def _window(self, question: str, where: SearchFilter | None, as_of: datetime | None
                ) -> tuple[str, TimeWindow | None]:
        """The question to search for and the publication window: --since/--until when
        given (they win), else the question's own time words, taken out of it."""
        if where is not None and (where.since is not None or where.until is not None):
            return question, TimeWindow(where.since, where.until)
        if self.time_reader is None:
            return question, None
        found = self.time_reader(question, as_of or datetime.now(UTC))
        if found is None:
            return question, None
        return found.question, found.window

    def _outside_window(self, question: str, asked: str, history: Sequence[Turn],
                        k: int | None, where: SearchFilter | None, window: TimeWindow,
                        on_token: TokenSink | None) -> Answer:
        """No article in the window: say so, with the closest articles outside it. The
        question is answered as asked instead when no article carries a date at all, or when
        the question's own time words made the window and undated articles are among the
        closest: no window can exclude those (their day is unknown), and the words may be part
        of the question ("How many cars did Ford sell in 2004?", told by a report of 2005);
        the answerer then says what a dated article of another year lacks ("2004")."""
        anywhere = SearchFilter(sources=where.sources) if where is not None else None
        # "What happened last week?" names no subject: the closest articles are the closest
        # in time, drawn from a wider pool than a subject's few best passages
        undirected = asks_what_happened(asked)
        nearest = self._ranked(asked, (k or self.k) * (8 if undirected else 1), anywhere)
        from_words = asked != question  # --since/--until are the user's own window
        if not any(p.published for p in nearest) or (
                from_words and not all(p.published for p in nearest) and not undirected):
            return self._ask_any(question, history, k, anywhere, on_token)
        dated = [p for p in nearest if p.published]
        if undirected:
            dated.sort(key=lambda p: window.distance(p.published))  # type: ignore[arg-type]
            nearest = dated[: k or self.k]
        closest = closest_articles(dated)
        listed = "; ".join(f"“{p.title}” ({', '.join(p.details)})" for p in closest)
        # "No articles from July 2026. The closest articles outside it: …"
        text = (f"No {window.label[0].lower()}{window.label[1:]}. "
                f"The closest articles outside it: {listed}.")
        if on_token:
            on_token(text)
        return Answer(question=question, answer=text, abstained=True, citations=(),
                      passages=tuple(nearest), window=window)

    def _brief(self, where: SearchFilter | None) -> Answer | None:
        """The stories of the window, each with its cited lead (as `newsdesk brief`); None
        when no briefer was given or the window holds no article."""
        if self.briefer is None or where is None:
            return None
        started = time.perf_counter()
        brief = self.briefer(where)
        if not brief.stories:
            return None
        passages = tuple(c.passage for c in brief.citations)
        # The window is shown with the answer (its `window`): not again in its first line.
        text = brief.text.removeprefix(f"{brief.window.label}: ")
        return Answer(question="", answer=text[:1].upper() + text[1:], abstained=False,
                      citations=brief.citations, passages=passages,
                      timings={"total": time.perf_counter() - started})

    def _timeline(self, topic: str, where: SearchFilter | None) -> Answer:
        started = time.perf_counter()
        passages = self._ranked(topic, max(self.k, TIMELINE_ARTICLES), where)
        analyzer = self.analyzer() if self.analyzer is not None else None
        steps = developments(topic, passages, analyzer) if analyzer is not None else []
        timings = {"total": time.perf_counter() - started}
        if not steps:
            text = (f"The articles give no dated developments for “{topic}”. "
                    + abstention_text(passages).removeprefix(ABSTENTION).strip())
            return Answer(question=topic, answer=text.strip(), abstained=True, citations=(),
                          passages=tuple(passages), timings=timings)
        text, citations = validate_citations(compose_timeline(steps), passages)
        return Answer(question=topic, answer=text, abstained=False, citations=citations,
                      passages=tuple(passages), timings=timings)

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
        earlier = earlier_question(state.history) if state.context else None
        read = self._answer_passages(state)
        # streamed markers numbered as _finalize numbers the answer's
        stream = CitationStream(state.on_token, len(read)) if state.on_token else None
        draft = self.answerer.answer(state.question, state.context, read, on_token=stream,
                                     earlier=earlier)
        if stream is not None:
            stream.close()
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
            if not passages and state.where is not None and state.where.sources:
                # "--source wikinews" where the articles' source is en.wikinews.org: say
                # that the filter found nothing, not that the articles are silent
                names = " or ".join(f"“{name}”" for name in state.where.sources)
                text = (f"No article in the store is from {names}: `newsdesk stats` lists "
                        "the sources as they were ingested.")
            else:
                # Every claim must cite a passage; an answer left with none is no answer.
                text = text if draft.abstained else abstention_text(passages)
            return Answer(question=state.question, answer=text, abstained=True, citations=(),
                          passages=passages, timings=self._timed(state), note=draft.note,
                          trace=draft.trace)
        span = None
        if draft.span and draft.span_marker and 1 <= draft.span_marker <= len(read):
            cited = read[draft.span_marker - 1].chunk_id
            span = next((AnswerSpan(draft.span, c.n, draft.span_confidence, draft.span_shown,
                                    draft.as_of)
                         for c in citations if c.passage.chunk_id == cited), None)
        return Answer(
            question=state.question, answer=text, abstained=draft.abstained,
            # An abstention that says what the articles do say keeps its citations.
            citations=citations, passages=passages, timings=self._timed(state),
            note=draft.note, answer_span=span, trace=draft.trace,
        )

    @staticmethod
    def _timed(state: ChainState) -> dict[str, float]:
        return {**state.timings, "total": time.perf_counter() - state.started}


def _within(where: SearchFilter | None, window: TimeWindow | None) -> SearchFilter | None:
    if window is None:
        return where
    return SearchFilter(sources=where.sources if where is not None else (),
                        since=window.since, until=window.until)


def _as_it_stood(where: SearchFilter | None, as_of: datetime | None) -> SearchFilter | None:
    """`where`, and nothing published after `as_of` (a bare date: after that day): asked as
    of a day, the archive is read as it stood then, in answers, timelines and the latest."""
    if as_of is None:
        return where
    end = as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC)
    if end.timetz().replace(tzinfo=None) == dt_time(0):
        end = datetime.combine(end.date(), dt_time.max, tzinfo=end.tzinfo)
    until = min(where.until, end) if where is not None and where.until is not None else end
    return SearchFilter(sources=where.sources if where is not None else (),
                        since=where.since if where is not None else None, until=until)
