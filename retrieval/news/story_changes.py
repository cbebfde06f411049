"""What changed in a story, as a cited Answer: find the article, read its versions, compose.

The target is an article id or URL, or a topic: then the best-ranked article that covers the
topic (most of its IDF-weighted words, as timelines decide) and has earlier versions kept,
else the best-ranked covering article (which may carry a correction note, or has simply not
changed). Reads go through two small protocols, the store's and the search's; the diff and
the text are retrieval/news/changes.py's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ingest.model.records import SearchFilter, StoredChunk
from ingest.model.versions import ArticleVersion, stored_version
from ingest.text.ids import canonical_url
from retrieval.answer.compose import abstention_text
from retrieval.citations import validate_citations
from retrieval.news.changes import (
    ChangeStep,
    ComposedChanges,
    StoryHistory,
    change_steps,
    compose_changes,
)
from retrieval.news.timeline import STORY_COVERAGE
from retrieval.question.reading import TermAnalyzer
from retrieval.records import ABSTENTION, Answer, Passage

log = logging.getLogger(__name__)

# Ranked articles looked through for the story.
STORY_ARTICLES = 12
Search = Callable[[str, int, SearchFilter | None], list[Passage]]


class VersionStore(Protocol):
    """What this reads from the store (ChromaStore implements it)."""

    def chunks_of(self, article_ids: Sequence[str]) -> list[StoredChunk]: ...
    def versions(self, article_ids: Sequence[str], include_text: bool = True
                 ) -> dict[str, list[ArticleVersion]]: ...


@dataclass(frozen=True)
class ChangeReport:
    """The answer, the article it is about (None when none was found), and whether there
    was anything to tell: earlier versions kept or a correction note (`found`)."""

    answer: Answer
    article_id: str | None = None
    found: bool = False
    composed: ComposedChanges | None = None

    def as_dict(self) -> dict[str, Any]:
        """The JSON Answer, with `article_id` and `changes` (`notes`, and `steps`: each with
        `from` and `to` versions and what changed between them)."""
        return {**self.answer.as_dict(), "article_id": self.article_id,
                "changes": self.composed.as_dict() if self.composed is not None else None}


def story_history(store: VersionStore, article_id: str) -> StoryHistory | None:
    """The article's current version (rebuilt from its chunks, which are its passages) and
    its kept earlier versions; None when the store holds no complete version of it."""
    chunks = store.chunks_of([article_id])
    current = stored_version([(c.meta, c.text) for c in chunks])
    if current is None:
        return None
    passages = tuple({c.meta.chunk_index: Passage.of(c.id, c.text, c.meta, 0.0)
                      for c in chunks if c.meta.text_hash == current.text_hash}.values())
    earlier = store.versions([article_id]).get(article_id, [])
    return StoryHistory(current, passages, tuple(earlier))


def last_change(store: VersionStore, article_id: str) -> ChangeStep | None:
    """What the article's latest update changed: its newest kept version against the
    stored one (`.summary.lines()` says it in short lines), or None when no earlier version
    is kept. Read it after the ingest that wrote the update (alerts do)."""
    history = story_history(store, article_id)
    steps = change_steps(history) if history is not None else []
    return steps[-1] if steps else None


class StoryChanges:
    def __init__(self, store: VersionStore, search: Search,
                 analyzer: Callable[[], TermAnalyzer] | None = None,
                 articles: int = STORY_ARTICLES) -> None:
        self._store = store
        self._search = search
        self._analyzer = analyzer
        self._articles = articles

    def report(self, target: str, where: SearchFilter | None = None,
               context: str = "") -> ChangeReport:
        """What changed in the article `target` names (its id or URL) or in the story about
        it (a topic), cited to the versions; an abstention naming the closest articles when
        no article covers the topic. `context` is searched with a topic that points back
        ("that story": the question it follows)."""
        target = target.strip()
        article_id = self._article(target)
        passages: list[Passage] = []
        if article_id is None:
            passages = self._search(f"{target} {context}".strip(), self._articles, where)
            article_id = self._story(target, passages)
        history = self.history(article_id) if article_id is not None else None
        if history is None:
            text = (f"No article about “{target}” was found. "
                    + abstention_text(passages).removeprefix(ABSTENTION).strip())
            return ChangeReport(Answer(question=target, answer=text.strip(), abstained=True,
                                       citations=(), passages=tuple(passages)))
        composed = compose_changes(history)
        text, citations = validate_citations(composed.text, composed.passages)
        answer = Answer(question=target, answer=text, abstained=False, citations=citations,
                        passages=composed.passages)
        return ChangeReport(answer, history.current.article_id,
                            bool(history.earlier or composed.notes), composed)

    def history(self, article_id: str) -> StoryHistory | None:
        return story_history(self._store, article_id)

    def _article(self, target: str) -> str | None:
        """The stored article `target` names: its id, or its URL (tracking parameters and
        all, as ingest names articles)."""
        names = [target]
        if target.startswith(("http://", "https://")):
            names.append(canonical_url(target))
        for name in dict.fromkeys(names):
            if self._store.chunks_of([name]):
                return name
        return None

    def _story(self, topic: str, passages: Sequence[Passage]) -> str | None:
        """The ranked article that covers `topic` and has earlier versions kept, else the
        first that covers it. A wire story's other copies count as covering it too."""
        covering: list[str] = []
        for passage in passages:
            if self._covers(topic, passage):
                covering += [passage.article_id, *(r.article_id for r in passage.reprints)]
        covering = list(dict.fromkeys(covering))
        if not covering:
            return None
        changed = self._store.versions(covering, include_text=False)
        return next((a for a in covering if a in changed), covering[0])

    def _covers(self, topic: str, passage: Passage) -> bool:
        """Whether the passage's article holds most of the topic's IDF-weighted words."""
        if self._analyzer is None:
            return True
        analyzer = self._analyzer()
        weights = {t: analyzer.idf(t) for t in set(analyzer.terms(topic))}
        total = sum(weights.values())
        if total <= 0:
            return True  # no words of its own ("that story"): the ranking decides
        terms = set(analyzer.terms(f"{passage.title}\n{passage.text}"))
        return sum(w for t, w in weights.items() if t in terms) / total >= STORY_COVERAGE
