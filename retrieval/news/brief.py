"""The daily brief (pure): a period's articles as stories, most covered first.

Input is one record per article published in the period: its first chunk (the lead) with
its metadata and, when the store has it, the lead's embedding. Stories are made in two
steps: wire copies are one story already (their group, set at ingest); then groups whose
leads embed close AND share their names (people, places, bodies) are developments of one
story ("Hong Kong protests" on three days). A story is covered by the sources it ran in;
it is shown with the lead sentence of its newest development, cited, and when it developed
over the period, with a short timeline of its developments, oldest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import numpy as np

from ingest.model.records import ChunkMeta
from ingest.text.groups import DisjointSets
from ingest.text.near_duplicates import dice, names
from ingest.text.sentences import split_sentences
from retrieval.news.timeline import Development, compose_timeline
from retrieval.question.time_window import TimeWindow, day_label
from retrieval.records import Citation, Passage, Reprint

# Two wire groups are developments of one story when their leads' embeddings are at least
# this close and they share this share of their names (Dice); chosen on the fixture
# newsroom and Wikinews days (see tests/unit/test_brief.py and the closing note).
STORY_COSINE = 0.6
STORY_NAMES = 0.3
# Stories listed in full; the rest are counted ("and N more stories").
MAX_STORIES = 15
# Timeline lines shown per story (the newest; earlier ones are counted).
MAX_STEPS = 4
_MIN_WORDS = 5


@dataclass(frozen=True)
class BriefItem:
    """One article of the period: its first chunk (`chunk_id`, `text`, `meta`) and the
    chunk's embedding (unit length; None when not known)."""

    chunk_id: str
    text: str
    meta: ChunkMeta
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def published(self) -> datetime | None:
        return self.meta.published


@dataclass(frozen=True)
class Story:
    """One story of the brief. `lead` is the lead sentence of its newest development, cited
    as `n`; `passage` that article (its wire copies as reprints); `sources` every source it
    ran in; `articles` how many articles (copies and developments) it folds; `timeline` its
    developments oldest first (empty for a story of one development), and `earlier` how
    many older ones were left out of it."""

    title: str
    lead: str
    n: int
    passage: Passage
    sources: tuple[str, ...]
    articles: int
    timeline: tuple[Development, ...] = ()
    earlier: int = 0

    @property
    def coverage(self) -> str:
        """"ran in 3 sources" (empty when it ran in one)."""
        return f"ran in {len(self.sources)} sources" if len(self.sources) > 1 else ""

    def as_dict(self) -> dict[str, Any]:
        published = self.passage.published
        return {
            "title": self.title, "lead": self.lead, "n": self.n,
            "article_id": self.passage.article_id,
            "published": published.isoformat() if published else None,
            "updated": self.passage.updated.isoformat() if self.passage.updated else None,
            "sources": list(self.sources), "articles": self.articles,
            "timeline": [{"n": s.n, "published": s.passage.published.isoformat()
                          if s.passage.published else None, "sentence": s.sentence}
                         for s in self.timeline],
            "earlier": self.earlier,
        }


@dataclass(frozen=True)
class Brief:
    """The stories of a period, most covered first; `citations` numbers every article cited
    (the `n` of leads and timeline lines); `more` stories were left out."""

    window: TimeWindow
    stories: tuple[Story, ...]
    citations: tuple[Citation, ...]
    articles: int
    more: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"window": self.window.as_dict(), "articles": self.articles,
                "stories": [s.as_dict() for s in self.stories], "more": self.more,
                "citations": [c.as_dict() for c in self.citations]}

    @property
    def text(self) -> str:
        """The brief as plain text, [n] pointing at `citations`."""
        if not self.stories:
            return f"{self.window.label}: no articles."
        count = len(self.stories) + self.more
        lines = [f"{self.window.label}: {count} {'story' if count == 1 else 'stories'} "
                 f"from {self.articles} {'article' if self.articles == 1 else 'articles'}."]
        for number, story in enumerate(self.stories, start=1):
            lines.append("")
            lines.append(f"{number}. {story.title}"
                         + (f" — {story.coverage}" if story.coverage else ""))
            lines.append(f"   {story.lead} [{story.n}] ({_when(story.passage)})")
            if story.timeline:
                lines.append("   Timeline:" + (f" ({story.earlier} earlier not shown)"
                                               if story.earlier else ""))
                lines.extend(f"     {line}" for line in
                             compose_timeline(story.timeline).splitlines())
        if self.more:
            lines += ["", f"and {self.more} more {'story' if self.more == 1 else 'stories'}"]
        return "\n".join(lines)


def _when(passage: Passage) -> str:
    parts = [day_label(passage.published)] if passage.published else []
    if passage.updated is not None and (
            passage.published is None or passage.updated.date() != passage.published.date()):
        parts.append(f"updated {day_label(passage.updated)}")
    return "; ".join(parts) or "undated"


def lead_sentence(text: str) -> str:
    """The first sentence of a lead with a few words in it (a dateline or a one-word line
    is skipped), on one line; the whole text when it has none."""
    for start, end in split_sentences(text):
        sentence = " ".join(text[start:end].split())
        if len(sentence.split()) >= _MIN_WORDS:
            return sentence
    return " ".join(text.split())


def related(a: BriefItem, b: BriefItem, cosine: float = STORY_COSINE,
            shared: float = STORY_NAMES) -> bool:
    """Whether two leads are developments of one story: close embeddings and shared names."""
    if a.vector is None or b.vector is None:
        return False
    if float(np.dot(a.vector, b.vector)) < cosine:
        return False
    return (dice(names(f"{a.meta.title}\n{a.text}"), names(f"{b.meta.title}\n{b.text}"))
            or 0.0) >= shared


def group_stories(items: Sequence[BriefItem]) -> list[list[BriefItem]]:
    """Articles grouped into stories: wire copies first (their group), then groups linked by
    `related` leads (any pair across them). Each story's articles oldest first; stories in
    the order of their first article."""
    order = sorted(items, key=_oldest_first)
    groups: dict[str, list[BriefItem]] = {}
    for item in order:
        groups.setdefault(item.meta.group, []).append(item)
    keys = list(groups)
    joined = DisjointSets(len(keys))
    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            if joined.root(i) == joined.root(j):
                continue
            if any(related(a, b) for a in groups[keys[i]] for b in groups[keys[j]]):
                joined.join(i, j)
    stories: dict[int, list[BriefItem]] = {}
    for n, key in enumerate(keys):
        stories.setdefault(joined.root(n), []).extend(groups[key])
    return [sorted(members, key=_oldest_first) for members in stories.values()]


def _oldest_first(item: BriefItem) -> tuple[float, str]:
    published = item.meta.published
    return (published.timestamp() if published else float("inf"), item.meta.article_id)


def _sources(members: Sequence[BriefItem]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(m.meta.source or m.meta.url or m.meta.article_id
                               for m in members))


def compose_brief(items: Sequence[BriefItem], window: TimeWindow,
                  max_stories: int = MAX_STORIES, max_steps: int = MAX_STEPS) -> Brief:
    """The brief of `items` (the articles published in `window`): stories ordered by
    coverage (sources, then articles, then the newest first), each cited."""
    stories = group_stories(items)

    def newest(members: list[BriefItem]) -> float:
        dated = [m.meta.published.timestamp() for m in members if m.meta.published]
        return max(dated) if dated else float("-inf")

    stories.sort(key=lambda members: (-len(_sources(members)), -len(members),
                                      -newest(members)))
    shown, more = stories[:max_stories], max(0, len(stories) - max_stories)
    citations: list[Citation] = []
    numbers: dict[str, int] = {}

    def cite(group: list[BriefItem]) -> tuple[int, Passage]:
        """The citation of a wire group: its first copy, the others as reprints."""
        first = group[0]
        passage = Passage.of(first.chunk_id, first.text, first.meta, 0.0)
        passage = _with_reprints(passage, group[1:])
        if first.meta.article_id not in numbers:
            numbers[first.meta.article_id] = len(citations) + 1
            citations.append(Citation(len(citations) + 1, passage))
        return numbers[first.meta.article_id], passage

    composed = []
    for members in shown:
        groups: dict[str, list[BriefItem]] = {}
        for member in members:
            groups.setdefault(member.meta.group, []).append(member)
        # The newest development leads; each development is its group's first copy.
        developments = sorted(groups.values(), key=lambda g: _oldest_first(g[0]))
        n, passage = cite(developments[-1])
        steps: list[Development] = []
        if len(developments) > 1:
            for group in developments[-max_steps:]:
                step, cited = cite(group)
                steps.append(Development(step, lead_sentence(group[0].text), cited))
        composed.append(Story(
            title=passage.title or passage.article_id, lead=lead_sentence(passage.text),
            n=n, passage=passage, sources=_sources(members), articles=len(members),
            timeline=tuple(steps), earlier=max(0, len(developments) - max_steps)
            if steps else 0))
    return Brief(window, tuple(composed), tuple(citations), len(items), more)


def _with_reprints(passage: Passage, copies: Sequence[BriefItem]) -> Passage:
    if not copies:
        return passage
    return replace(passage, reprints=tuple(
        Reprint(c.meta.article_id, c.meta.source, c.meta.author, c.meta.url) for c in copies))
