"""Saved questions (alerts), the pure part: when an answer to a saved question is news.

After an ingest, a saved question is asked as usual; the answer is an alert when it cites an
article this ingest added or updated (or a story with a copy among them), it does not
abstain, and it says something other than what was last sent for the question. A story
(a wire copy group) is alerted once: a copy of an alerted story arriving later fires
nothing (answers list it under "also ran in"), an update of the alerted article fires
"updated" when the answer changed. The state these rules read (what was sent, per story) is
kept by the caller (bot/app/watches.py, in SQLite).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from retrieval.records import Answer, Passage

AlertKind = Literal["new", "updated"]

_MARKER = re.compile(r"\s*\[\d+\]")


@dataclass(frozen=True)
class Watch:
    """A saved question. `channel` is where its alerts go (a Slack channel or user id; None:
    printed by the CLI), `sources` restrict the articles it is answered from (as
    `--source`), `last_answer` is the answer text last sent (None: nothing sent yet)."""

    id: int
    question: str
    channel: str | None = None
    sources: tuple[str, ...] = ()
    created: str = ""
    last_answer: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "question": self.question, "channel": self.channel,
                "sources": list(self.sources), "created": self.created,
                "last_answer": self.last_answer}


@dataclass(frozen=True)
class Alert:
    """A saved question's answer that is news: `kind` new or updated, `articles` the
    added/updated articles it cites, `stories` their wire story groups (recorded as sent)."""

    watch: Watch
    kind: AlertKind
    answer: Answer
    articles: tuple[str, ...]
    stories: tuple[str, ...]
    # For an update: what the updated article's new version changed, in short lines
    # ("Death toll raised from 3 to 5"), from retrieval.news.changes; empty when no earlier
    # version was kept.
    changes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "watch": self.watch.id, "question": self.watch.question,
            "channel": self.watch.channel, "kind": self.kind,
            "articles": list(self.articles), "answer": self.answer.answer,
            "changes": list(self.changes),
            "citations": [c.as_dict() for c in self.answer.citations],
        }


def same_answer(a: str | None, b: str | None) -> bool:
    """Whether two answer texts say the same, citation numbers and spacing aside."""
    if a is None or b is None:
        return False
    return _plain(a) == _plain(b)


def _plain(text: str) -> str:
    return " ".join(_MARKER.sub("", text).split()).casefold()


def touched(passage: Passage, changed: Mapping[str, str]) -> list[str]:
    """The articles of `passage`'s story (itself and the copies listed as reprints) that the
    ingest added or updated."""
    members = [passage.article_id, *(r.article_id for r in passage.reprints)]
    return [a for a in dict.fromkeys(members) if a in changed]


def worth_asking(ranked: Sequence[Passage], changed: Mapping[str, str]) -> bool:
    """Whether the passages an answer would be read from include a changed story: the cheap
    test made before the answerer runs (an answer can only cite what it reads)."""
    return any(touched(p, changed) for p in ranked)


def decide(watch: Watch, answer: Answer, changed: Mapping[str, str],
           alerted: Mapping[str, str]) -> Alert | None:
    """The alert `answer` makes for `watch`, or None.

    `changed` maps the ingest's added/updated article ids to what happened to them;
    `alerted` maps each story group already alerted for this watch to the answer sent then.
    A cited story counts when one of its copies changed; an already alerted story counts
    only when the cited article itself was updated (a new copy of it is not news)."""
    if answer.abstained or not answer.citations:
        return None
    articles: list[str] = []
    stories: list[str] = []
    kind: AlertKind = "new"
    for citation in answer.citations:
        passage = citation.passage
        hit = touched(passage, changed)
        if not hit:
            continue
        story = passage.group or passage.article_id
        updated = changed.get(passage.article_id) == "updated"
        if story in alerted and (not updated or same_answer(answer.answer, alerted[story])):
            continue  # a wire copy of a story this watch was told of, or nothing new in it
        if updated or story in alerted:
            kind = "updated"
        articles.extend(a for a in hit if a not in articles)
        if story not in stories:
            stories.append(story)
    if not stories or same_answer(answer.answer, watch.last_answer):
        return None
    return Alert(watch, kind, answer, tuple(articles), tuple(stories))
