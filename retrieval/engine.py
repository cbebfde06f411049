"""The answer engine: a question read once (retrieval/question/intent.py), then plain steps:
retrieve, answer, check the citations; or a timeline, a story's changes, the window's brief.

Any LangChain retriever can stand in for the hybrid one (retrieval.search.retriever), and any
chat model for the LLM answerer (retrieval.answer.llm).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from datetime import time as dt_time

from langchain_core.retrievers import BaseRetriever

from ingest.model.records import SearchFilter
from retrieval.answer.answerers import Answerer, Draft, TokenSink
from retrieval.answer.compose import abstention_text
from retrieval.citations import CitationStream, join_answers, validate_citations
from retrieval.news.brief import Brief
from retrieval.news.story_changes import ChangeReport, StoryChanges, VersionStore
from retrieval.news.timeline import compose_timeline, developments
from retrieval.question.history import Turn
from retrieval.question.intent import Asked, Intent, read_asked, read_intent
from retrieval.question.reading import TermAnalyzer
from retrieval.question.time_window import QuestionTime, TimeWindow
from retrieval.question.two_part import TwoPart
from retrieval.records import ABSTENTION, Answer, AnswerSpan, Passage, closest_articles
from retrieval.search.retriever import passage_search

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
class Retrieval:
    """The passages found for one question: `ranked` best first, `extra` the other chunks of
    the top articles, `read` what the answerer reads (the top ranked ones, then `extra`)."""

    ranked: tuple[Passage, ...]
    extra: tuple[Passage, ...]
    read: tuple[Passage, ...]


class AnswerEngine:
    def __init__(self, retriever: BaseRetriever, answerer: Answerer, *, k: int,
                 condenser: Condenser | None = None, time_reader: TimeReader | None = None,
                 analyzer: Callable[[], TermAnalyzer] | None = None,
                 versions: VersionStore | None = None, briefer: Briefer | None = None
                 ) -> None:
        self.retriever = retriever
        self.searcher = passage_search(retriever)
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

    def ask(self, question: str, history: Sequence[Turn] = (), *, k: int | None = None,
            where: SearchFilter | None = None, on_token: TokenSink | None = None,
            as_of: datetime | None = None, time_words: bool = True) -> Answer:
        """Answer `question`. Time words in it ("last week", "in March") restrict retrieval to
        that publication window, relative to `as_of` (default now), unless `where` already
        has dates or `time_words` is False (then they are only taken out of the question);
        "timeline of X" questions get the story's dated developments."""
        intent = self.read(question, history, where, as_of, time_words=time_words)
        where = _as_it_stood(_within(where, intent.window), as_of)
        topic = intent.timeline if self.analyzer is not None else None
        changed = self._changes_asked(intent, where) if topic is None else None
        brief = (self._brief(where) if topic is None and changed is None
                 and intent.window is not None and intent.what_happened else None)
        if topic is not None:
            answer = self._timeline(topic, where)
        elif changed is not None:
            answer = changed.answer
        elif brief is not None:
            answer = brief
        else:
            answer = self._ask_any(intent.asked, history, k, where, on_token)
        if intent.window is not None and not answer.passages:
            answer = self._outside_window(intent, history, k, where,
                                          None if topic or changed or brief else on_token)
        elif intent.window is not None:
            answer = replace(answer, window=intent.window)
        if on_token and (topic is not None or changed is not None or brief is not None):
            on_token(answer.answer)  # written at once, not token by token
        return replace(answer, question=intent.question)

    def read(self, question: str, history: Sequence[Turn] = (),
             where: SearchFilter | None = None, as_of: datetime | None = None, *,
             time_words: bool = True) -> Intent:
        """What `question` asks for, read once (retrieval.question.intent.read_intent);
        with `time_words` False and no dates in `where`, its time words are taken out of
        it and set no window."""
        question = question.strip()
        time = self._time(question, where, as_of)
        if not time_words and time is not None and not _dated(where):
            return replace(read_intent(time.question, history), question=question)
        return read_intent(question, history, time)

    def timeline(self, topic: str, *, where: SearchFilter | None = None,
                 as_of: datetime | None = None) -> Answer:
        """The story's dated developments, oldest first, one cited sentence per article."""
        topic = topic.strip()
        asked, window = _split(topic, self._time(topic, where, as_of))
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

    def windowed(self, question: str, where: SearchFilter | None, as_of: datetime | None
                 ) -> tuple[str, SearchFilter | None]:
        """The question without its time words, and the filter with their window."""
        asked, window = _split(question, self._time(question, where, as_of))
        return asked, _as_it_stood(_within(where, window), as_of)

    def search(self, question: str, *, k: int | None = None,
               where: SearchFilter | None = None) -> list[Passage]:
        return self._ranked(question, k or self.k, where)

    # -- the steps of a question about the news ------------------------------------------------

    def search_text(self, asked: Asked, history: Sequence[Turn]) -> str:
        """What retrieval searches for: the question made standalone (by the condenser, when
        there is one, for a follow-up), else the question with the conversation it leans on."""
        if self.condenser is not None and asked.followup:
            return self.condenser(asked.text, history) or asked.search
        return asked.search

    def retrieve(self, search: str, k: int, where: SearchFilter | None) -> Retrieval:
        """The `k` best passages for `search`, and the rest of the top articles: an article's
        best chunk for the query is not always the one that holds the answer."""
        ranked = self._ranked(search, k, where)
        extra = self.searcher.context(ranked[: self.answer_passages], self.context_articles)
        return Retrieval(tuple(ranked), tuple(extra),
                         (*ranked[: self.answer_passages], *extra))

    def _ask_any(self, asked: Asked, history: Sequence[Turn], k: int | None,
                 where: SearchFilter | None, on_token: TokenSink | None) -> Answer:
        if asked.two_part is not None:
            joined = self._ask_two_part(asked.text, asked.two_part, k, where)
            if joined is not None:
                if on_token:
                    on_token(joined.answer)
                return joined
        return self._ask_one(asked, history, k, where, on_token)

    def _ask_two_part(self, question: str, parts: TwoPart, k: int | None,
                      where: SearchFilter | None) -> Answer | None:
        """Find who or what the description names in one article, then ask the main question
        about it; None (ask the question whole) when either step finds no answer."""
        subject = self._ask_one(read_asked(parts.subject_question.strip()), (), k, where, None)
        if subject.abstained or subject.answer_span is None:
            return None
        main = self._ask_one(read_asked(parts.main_about(subject.answer_span.text).strip()),
                             (), k, where, None)
        if main.abstained:
            return None
        return join_answers(question, main, subject)

    def _ask_one(self, asked: Asked, history: Sequence[Turn], k: int | None,
                 where: SearchFilter | None, on_token: TokenSink | None) -> Answer:
        """Search, retrieve, draft an answer, check its citations."""
        started = time.perf_counter()
        search = self.search_text(asked, history)
        condensed = time.perf_counter()
        found = self.retrieve(search, k or self.k, where)
        retrieved = time.perf_counter()
        draft = self._draft(asked, found.read, on_token)
        timings = {"condense": condensed - started, "retrieve": retrieved - condensed,
                   "answer": time.perf_counter() - retrieved}
        answer = self._checked(asked, draft, found, where)
        return replace(answer, timings={**timings, "total": time.perf_counter() - started})

    def _draft(self, asked: Asked, read: Sequence[Passage], on_token: TokenSink | None
               ) -> Draft:
        # streamed markers numbered as _checked numbers the answer's
        stream = CitationStream(on_token, len(read)) if on_token else None
        draft = self.answerer.answer(asked, read, on_token=stream)
        if stream is not None:
            stream.close()
        return draft

    def _checked(self, asked: Asked, draft: Draft, found: Retrieval,
                 where: SearchFilter | None) -> Answer:
        """The draft as an Answer whose every claim cites a passage it read; an abstention
        when none is left (timings are the caller's)."""
        passages = found.ranked + found.extra
        read = found.read
        text, citations = validate_citations(draft.text, read)
        if not citations:
            if not passages and where is not None and where.sources:
                # "--source wikinews" where the articles' source is en.wikinews.org: say
                # that the filter found nothing, not that the articles are silent
                names = " or ".join(f"“{name}”" for name in where.sources)
                text = (f"No article in the store is from {names}: `newsdesk stats` lists "
                        "the sources as they were ingested.")
            else:
                # Every claim must cite a passage; an answer left with none is no answer.
                text = text if draft.abstained else abstention_text(passages)
            return Answer(question=asked.text, answer=text, abstained=True, citations=(),
                          passages=passages, note=draft.note, trace=draft.trace)
        span = None
        if draft.span and draft.span_marker and 1 <= draft.span_marker <= len(read):
            cited = read[draft.span_marker - 1].chunk_id
            span = next((AnswerSpan(draft.span, c.n, draft.span_confidence, draft.span_shown,
                                    draft.as_of)
                         for c in citations if c.passage.chunk_id == cited), None)
        return Answer(
            question=asked.text, answer=text, abstained=draft.abstained,
            # An abstention that says what the articles do say keeps its citations.
            citations=citations, passages=passages, note=draft.note, answer_span=span,
            trace=draft.trace,
        )

    def _ranked(self, query: str, k: int, where: SearchFilter | None) -> list[Passage]:
        return self.searcher.search(query, k, where)

    # -- the other requests a question can make ------------------------------------------------

    def _time(self, question: str, where: SearchFilter | None, as_of: datetime | None
              ) -> QuestionTime | None:
        """The publication window and the question to search for: --since/--until when given
        (they win), else the question's own time words, taken out of it."""
        if where is not None and _dated(where):
            return QuestionTime(TimeWindow(where.since, where.until), question)
        if self.time_reader is None:
            return None
        return self.time_reader(question, as_of or datetime.now(UTC))

    def _changes_asked(self, intent: Intent, where: SearchFilter | None
                       ) -> ChangeReport | None:
        """The changes a "What changed in the ferry strike story?" question asks for; None
        for other questions, and for a looser "What changed in X?" whose story has nothing
        to tell (it is then asked as a question about the news)."""
        asked = intent.changes
        if asked is None or self.story_changes is None:
            return None
        report = self.story_changes.report(asked.topic, where, intent.changes_context)
        return report if report.found or asked.explicit else None

    def _outside_window(self, intent: Intent, history: Sequence[Turn], k: int | None,
                        where: SearchFilter | None, on_token: TokenSink | None) -> Answer:
        """No article in the window: say so, with the closest articles outside it. The
        question is answered as asked instead when no article carries a date at all, or when
        the question's own time words made the window and undated articles are among the
        closest: no window can exclude those (their day is unknown), and the words may be part
        of the question ("How many cars did Ford sell in 2004?", told by a report of 2005);
        the answerer then says what a dated article of another year lacks ("2004")."""
        window = intent.window
        assert window is not None  # called only for a question with a window
        anywhere = SearchFilter(sources=where.sources) if where is not None else None
        # "What happened last week?" names no subject: the closest articles are the closest
        # in time, drawn from a wider pool than a subject's few best passages
        undirected = intent.what_happened
        nearest = self._ranked(intent.asked.text, (k or self.k) * (8 if undirected else 1),
                               anywhere)
        if not any(p.published for p in nearest) or (
                intent.from_words and not all(p.published for p in nearest)
                and not undirected):
            return self._ask_any(intent.as_typed, history, k, anywhere, on_token)
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
        return Answer(question=intent.question, answer=text, abstained=True, citations=(),
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


def _split(question: str, time: QuestionTime | None) -> tuple[str, TimeWindow | None]:
    """The question without its time words, and their window (none: as it is, no window)."""
    return (time.question, time.window) if time is not None else (question, None)


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


def _dated(where: SearchFilter | None) -> bool:
    """Whether `where` has dates (--since/--until), which win over a question's time words."""
    return where is not None and (where.since is not None or where.until is not None)
