"""What changed between versions of an article (pure): correction notes, values changed
(numbers, amounts, percentages, dates, names), sentences added and removed.

Sentences (ingest/text/sentences.py) are aligned with difflib over their normalised texts. A run
of replaced sentences is paired by word similarity, and inside a pair the words that differ
are read for values (retrieval/spans.value_spans): "rose to 3" → "rose to 5" is one change,
"Death toll raised from 3 to 5", not one sentence removed and another added.

`describe_changes(old_text, new_text)` is the entry point for any caller (alerts say what
an update changed with it); `compose_changes` writes a story's history as a cited answer.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from difflib import SequenceMatcher
from typing import Any

from ingest.model.versions import ArticleVersion
from ingest.text.sentences import split_sentences
from ingest.text.vocabulary import (
    DETERMINERS,
    NOT_COUNTED_WORDS,
    NUMBER_VALUES,
    SCALE_VALUES,
    VALUE_LINK_WORDS,
)
from retrieval.answer.corrections import correction_notes
from retrieval.answer.spans import Span, value_spans
from retrieval.question.answer_types import AnswerType
from retrieval.records import Passage

# Two sentences are one sentence edited when this share of their words is common.
PAIR_SIMILARITY = 0.5
# A pair whose values changed is also shown reworded when this many other words changed.
REWORDED_WORDS = 4
# Past these, an edited run is told as sentences removed and added, and a sentence as reworded
# without reading its values: word diffs and value spans cost the square of the length, so
# one hostile 16,000-character "sentence" held an answer worker for seconds. News sentences
# stay far below (a few hundred characters); a replaced run of 60 × 60 sentences is a
# rewrite anyway.
MAX_DIFFED_CHARS = 2000
MAX_PAIRED_SENTENCES = 3600
# Lines shown per step between two versions; the rest are counted.
MAX_LINES_PER_STEP = 8
_WORD = re.compile(r"\S+")
_NUMERIC_KINDS = (AnswerType.NUMBER, AnswerType.MONEY, AnswerType.PERCENT)


@dataclass(frozen=True)
class ValueChange:
    """A value that an edited sentence changed: `kind` (AnswerType value: number, money,
    percent, date, name), the old and new values as written, the sentences they stand in,
    and what the value measures when the sentence says ("death toll"; else empty)."""

    kind: str
    old: str
    new: str
    old_sentence: str
    new_sentence: str
    subject: str = ""
    direction: str = "changed"  # "raised" | "lowered" | "changed"

    def describe(self) -> str:
        """"Death toll raised from 3 to 5"; without a subject, the new sentence says where:
        "Changed “Friday” to “Saturday”: The storm made landfall on Saturday." """
        if self.subject:
            subject = self.subject[0].upper() + self.subject[1:]
            return f"{subject} {self.direction} from {self.old} to {self.new}"
        return f"Changed “{self.old}” to “{self.new}”: {self.new_sentence}"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "old": self.old, "new": self.new, "subject": self.subject,
                "direction": self.direction, "old_sentence": self.old_sentence,
                "new_sentence": self.new_sentence}


@dataclass(frozen=True)
class ChangeSummary:
    """What changed from one version's text to the next: `corrections` (correction notes
    the new text added), `values` (values changed inside edited sentences), `added` and
    `removed` sentences, `reworded` (old, new) sentence pairs edited otherwise, and
    `title` (old, new) when the headline changed. Sentences are whitespace-normalised."""

    corrections: tuple[str, ...] = ()
    values: tuple[ValueChange, ...] = ()
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    reworded: tuple[tuple[str, str], ...] = ()
    title: tuple[str, str] | None = None

    @property
    def changed(self) -> bool:
        return bool(self.corrections or self.values or self.added or self.removed
                    or self.reworded or self.title)

    def lines(self) -> list[str]:
        """The changes as short plain lines, most telling first: corrections, headline,
        values, added, removed, reworded (no citations: for alerts and logs)."""
        lines = [f"Correction: {_without_label(note)}" for note in self.corrections]
        if self.title is not None:
            lines.append(f"Headline changed from “{self.title[0]}” to “{self.title[1]}”")
        lines += [value.describe() for value in self.values]
        lines += [f"Added: {sentence}" for sentence in self.added]
        lines += [f"Removed: {sentence}" for sentence in self.removed]
        lines += [f"Reworded: {new} (was: {old})" for old, new in self.reworded]
        return lines

    def as_dict(self) -> dict[str, Any]:
        return {"corrections": list(self.corrections),
                "values": [value.as_dict() for value in self.values],
                "added": list(self.added), "removed": list(self.removed),
                "reworded": [{"old": old, "new": new} for old, new in self.reworded],
                "title": ({"old": self.title[0], "new": self.title[1]}
                          if self.title is not None else None)}


def describe_changes(old_text: str, new_text: str, *, old_title: str = "",
                     new_title: str = "") -> ChangeSummary:
    """What changed from `old_text` to `new_text` (an article's body; titles optional):
    see ChangeSummary. Identical texts (whitespace aside) give an empty summary."""
    old, new = _sentences(old_text), _sentences(new_text)
    # A note is known by its first sentence (the rest of its paragraph may grow).
    before = {_key(_sentences(note)[0]) for note in correction_notes(old_text)}
    corrections = [note for note in correction_notes(new_text)
                   if _key(_sentences(note)[0]) not in before]
    in_notes = {_key(s) for note in corrections for s in _sentences(note)}
    values: list[ValueChange] = []
    added: list[str] = []
    removed: list[str] = []
    reworded: list[tuple[str, str]] = []
    matcher = SequenceMatcher(None, [_key(s) for s in old], [_key(s) for s in new],
                              autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        # A new correction note is shown as such, never as an edit of the sentence it fixes.
        pairs, lone_old, lone_new = _pair(old[i1:i2],
                                          [s for s in new[j1:j2] if _key(s) not in in_notes])
        removed += lone_old
        added += lone_new
        for before_sentence, after_sentence in pairs:
            found, other_words = _value_changes(before_sentence, after_sentence)
            values += [v for v in found if (v.kind, v.old, v.new) not in
                       {(w.kind, w.old, w.new) for w in values}]
            if not found or other_words >= REWORDED_WORDS:
                reworded.append((before_sentence, after_sentence))
    title = ((old_title.strip(), new_title.strip())
             if old_title.strip() and new_title.strip()
             and " ".join(old_title.split()) != " ".join(new_title.split()) else None)
    return ChangeSummary(tuple(corrections), tuple(values), tuple(added), tuple(removed),
                         tuple(reworded), title)


def _without_label(note: str) -> str:
    return re.sub(r"^\W*(?:corrections?|clarification)\s*[:\-–—]\s*", "", note,
                  flags=re.IGNORECASE)


def _sentences(text: str) -> list[str]:
    return [" ".join(text[start:end].split()) for start, end in split_sentences(text)]


def _key(sentence: str) -> str:
    return " ".join(sentence.lower().split())


def _words(sentence: str) -> list[str]:
    return [w.strip(".,;:!?\"'“”‘’()[]").lower() for w in sentence.split()]


def _similarity(a: str, b: str) -> float:
    if max(len(a), len(b)) > MAX_DIFFED_CHARS:
        return 0.0  # never paired: told as removed and added
    return SequenceMatcher(None, _words(a), _words(b), autojunk=False).ratio()


def _pair(old: Sequence[str], new: Sequence[str]
          ) -> tuple[list[tuple[str, str]], list[str], list[str]]:
    """Old and new sentences of one replaced run, paired where one is the other edited
    (most similar first, never crossing: the story's order is kept); the rest alone."""
    if len(old) * len(new) > MAX_PAIRED_SENTENCES:
        return [], list(old), list(new)
    scored = sorted(((_similarity(a, b), i, j) for i, a in enumerate(old)
                     for j, b in enumerate(new)), reverse=True)
    chosen: list[tuple[int, int]] = []
    for score, i, j in scored:
        if score < PAIR_SIMILARITY:
            break
        if all((i - a) * (j - b) > 0 for a, b in chosen):
            chosen.append((i, j))
    chosen.sort()
    paired_old = {i for i, _ in chosen}
    paired_new = {j for _, j in chosen}
    return ([(old[i], new[j]) for i, j in chosen],
            [s for i, s in enumerate(old) if i not in paired_old],
            [s for j, s in enumerate(new) if j not in paired_new])


def _value_changes(old: str, new: str) -> tuple[list[ValueChange], int]:
    """The values that differ between an edited sentence's versions, and how many other
    words changed. A value is changed where the words that differ hold a value of one kind
    in both; one kind's values pair in order."""
    old_words, new_words = list(_WORD.finditer(old)), list(_WORD.finditer(new))
    matcher = SequenceMatcher(None, _words(old), _words(new), autojunk=False)
    old_values, new_values = _values(old), _values(new)
    changes: list[ValueChange] = []
    other = 0
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag != "replace":
            other += (a2 - a1) + (b2 - b1)
            continue
        before = _overlapping(old_values, old_words[a1].start(), old_words[a2 - 1].end())
        after = _overlapping(new_values, new_words[b1].start(), new_words[b2 - 1].end())
        found = 0
        for kind in dict.fromkeys(k for k, _ in before):
            pairs = zip([s for k, s in before if k is kind], [s for k, s in after if k is kind],
                        strict=False)
            for was, now in pairs:
                change = _change(kind, old, was, new, now)
                if change is not None:
                    changes.append(change)
                    found += 1
        if not found:
            other += max(a2 - a1, b2 - b1)
    return changes, other


def _values(sentence: str) -> list[tuple[AnswerType, Span]]:
    """Values that may change: a one-word name that opens the sentence is left out (it is
    capitalised as the first word, not as a name)."""
    return [(kind, span) for kind, span in value_spans(sentence)
            if not (kind is AnswerType.NAME and span.start == 0 and " " not in span.text)]


def _overlapping(values: list[tuple[AnswerType, Span]], start: int, end: int
                 ) -> list[tuple[AnswerType, Span]]:
    return [(kind, span) for kind, span in values if span.start < end and start < span.end]


def _change(kind: AnswerType, old: str, was: Span, new: str, now: Span) -> ValueChange | None:
    if _key(was.text) == _key(now.text):
        return None
    direction, subject = "changed", ""
    if kind in _NUMERIC_KINDS:
        before, after = _number(was.text), _number(now.text)
        if before is not None and after is not None:
            if before == after:
                return None  # "three" → "3": written otherwise, not changed
            direction = "raised" if after > before else "lowered"
        subject = _subject(new, now)
    return ValueChange(kind.value, was.text, now.text, old, new, subject, direction)


_OWN_NOUN = re.compile(r"(?:\b(?:a|an|the|its|their|his|her)\s+((?:[a-z][a-z-]*\s+){0,2}"
                       r"[a-z][a-z-]*)|\b([a-z][a-z-]{3,}))\s+(?:of|at)\s*$", re.IGNORECASE)


def _subject(sentence: str, span: Span) -> str:
    """What a number in `sentence` measures: what it counts ("5 people" → "number of
    people"), else the subject of its clause before it ("The death toll from the storm rose
    to 5" → "death toll"; a clause starts after a comma, "that", "and" or a verb of saying);
    empty when neither reads as one (more than four words, or none)."""
    counted = re.match(r"\s+([a-z][a-z-]+)\b", sentence[span.end:])
    if counted is not None and counted.group(1) not in NOT_COUNTED_WORDS:
        return f"number of {counted.group(1)}"
    clause = re.split(r"[,;:()—–]|\b(?:that|and|but|said|says|told|according\s+to)\b",
                      sentence[: span.start])[-1]
    # "a pay rise of 7 percent", "inflation at 3%": the value's own noun comes just before it.
    own = _OWN_NOUN.search(clause)
    if own is not None and own.group(1):  # "a pay rise of": after a determiner, a noun
        return own.group(1)
    # "inflation at", not "rose at"
    if own is not None and own.group(2).lower() not in VALUE_LINK_WORDS:
        return own.group(2)
    words = [w.strip(".,\"'“”") for w in clause.split()]
    while words and words[0].lower() in DETERMINERS:
        words = words[1:]
    subject = list(itertools.takewhile(lambda w: w.lower() not in VALUE_LINK_WORDS, words))
    return " ".join(subject) if 1 <= len(subject) <= 4 else ""


def _number(text: str) -> float | None:
    """The number a value says ("€3.5 million", "about 300", "five", "twenty-two"), or None."""
    lowered = text.lower().replace(",", "")
    digits = re.search(r"\d+(?:\.\d+)?", lowered)
    words = re.findall(r"[a-z]+", lowered)
    if digits is not None:
        value = float(digits.group())
    else:
        units = [NUMBER_VALUES[w] for w in words if w in NUMBER_VALUES]
        if not units:
            return None
        value = float(sum(units))
    for word in words:
        value *= SCALE_VALUES.get(word, 1.0)
    return value


# -- a story's versions as a cited answer --------------------------------------------------


@dataclass(frozen=True)
class StoryHistory:
    """An article's current version (`current`, number 0, with its stored chunks as
    `passages`) and its kept earlier versions (`earlier`, oldest first)."""

    current: ArticleVersion
    passages: tuple[Passage, ...]
    earlier: tuple[ArticleVersion, ...] = ()

    @property
    def versions(self) -> list[ArticleVersion]:
        """Every version, oldest first, the current one last."""
        return [*self.earlier, self.current]


@dataclass(frozen=True)
class ChangeStep:
    """What changed from `older` to `newer`, two consecutive versions."""

    older: ArticleVersion
    newer: ArticleVersion
    summary: ChangeSummary

    def as_dict(self) -> dict[str, Any]:
        return {"from": _version_dict(self.older), "to": _version_dict(self.newer),
                **self.summary.as_dict()}


@dataclass(frozen=True)
class ComposedChanges:
    """The answer text (markers [n] number `passages` from 1), the steps it tells, and the
    correction notes of the current version."""

    text: str
    passages: tuple[Passage, ...]
    steps: tuple[ChangeStep, ...] = ()
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"notes": list(self.notes), "steps": [step.as_dict() for step in self.steps]}


def change_steps(history: StoryHistory) -> list[ChangeStep]:
    """What changed at each step from the oldest kept version to the current, oldest first."""
    return [ChangeStep(a, b, describe_changes(a.text, b.text, old_title=a.title,
                                              new_title=b.title))
            for a, b in itertools.pairwise(history.versions)]


def version_passage(version: ArticleVersion) -> Passage:
    """A kept earlier version as a citable passage: its record `article_id@vN` and text."""
    return Passage(chunk_id=f"{version.article_id}@v{version.number}",
                   article_id=version.article_id, title=version.title, text=version.text,
                   score=0.0, url=version.url, source=version.source,
                   published=version.published, updated=version.updated)


def compose_changes(history: StoryHistory) -> ComposedChanges:
    """The story's changes as lines cited to the version each comes from, correction notes
    first, then each step newest first: "Death toll raised from 3 to 5 (updated 22 Nov, was
    21 Nov) [1][2]" cites the new version's passage, then the old one's. A story with no
    earlier version says so and cites its current text."""
    current = history.current
    passages = [*history.passages, *(version_passage(v) for v in reversed(history.earlier))]
    number = {v.number: len(history.passages) + n
              for n, v in enumerate(reversed(history.earlier), start=1)}

    def cite(version: ArticleVersion, sentence: str) -> int:
        if version.number:
            return number[version.number]
        wanted = _key(sentence)
        return next((n for n, p in enumerate(history.passages, start=1)
                     if wanted and wanted in _key(p.text)), 1)

    notes = correction_notes(current.text)
    steps = change_steps(history)
    lines = []
    for note in notes:
        first = next((v for v in history.versions if _key(note) in
                      {_key(n) for n in correction_notes(v.text)}), current)
        lines.append(f"Correction ({_own_label(first, history)}): {_without_label(note)} "
                     f"[{cite(current, note)}]")
    for step in reversed(steps):
        lines += _step_lines(step, history, cite)
    title = current.title or current.article_id
    if not steps and notes:
        head = f"No earlier version of “{title}” is kept, but it carries a correction:"
    elif not steps:
        head = (f"No earlier version of “{title}” is kept: it has not changed since "
                f"Newsdesk first read it. [{cite(current, '')}]")
    else:
        dates = ", ".join(_own_label(v, history) for v in history.versions)
        head = f"What changed in “{title}” ({len(steps) + 1} versions: {dates}):"
    return ComposedChanges("\n".join([head, *lines]), tuple(passages), tuple(steps),
                           tuple(notes))


def _step_lines(step: ChangeStep, history: StoryHistory,
                cite: Any) -> list[str]:
    newer, older, summary = step.newer, step.older, step.summary
    when = _step_label(step, history)
    lines: list[str] = []
    if summary.title is not None:
        lines.append(f"Headline changed from “{summary.title[0]}” to “{summary.title[1]}” "
                     f"({when}) [{cite(newer, '')}][{cite(older, '')}]")
    for value in summary.values:
        lines.append(f"{value.describe()} ({when}) "
                     f"[{cite(newer, value.new_sentence)}][{cite(older, value.old_sentence)}]")
    for sentence in summary.added:
        lines.append(f"Added ({when}): {sentence} [{cite(newer, sentence)}]")
    for sentence in summary.removed:
        lines.append(f"Removed ({when}): {sentence} [{cite(older, sentence)}]")
    for old, new in summary.reworded:
        lines.append(f"Reworded ({when}): {new} [{cite(newer, new)}] — was: {old} "
                     f"[{cite(older, old)}]")
    if len(lines) > MAX_LINES_PER_STEP:
        more = len(lines) - MAX_LINES_PER_STEP
        lines = [*lines[:MAX_LINES_PER_STEP], f"… and {more} more changes ({when})"]
    if not lines:
        lines.append(f"Only its wording changed ({when}): whitespace or letter case.")
    return lines


def _became_current(version: ArticleVersion, history: StoryHistory) -> datetime | None:
    """When Newsdesk first held `version` as current: when the version before it was
    replaced (unknown for the oldest kept)."""
    versions = history.versions
    index = next(n for n, v in enumerate(versions) if v.number == version.number)
    return versions[index - 1].seen if index > 0 else None


def _own_label(version: ArticleVersion, history: StoryHistory) -> str:
    """How a version is dated: "updated 22 Nov", "21 Nov" (published), "read 23 Nov"."""
    if version.updated is not None:
        return f"updated {_day(version.updated)}"
    if version.published is not None:
        return _day(version.published)
    read = _became_current(version, history) or version.seen
    return f"read {_day(read)}" if read is not None else "undated"


def _step_label(step: ChangeStep, history: StoryHistory) -> str:
    """"updated 22 Nov, was 21 Nov": the new version's date, then the old one's. A new
    version that carries no later `updated` date is dated by when Newsdesk read it."""
    newer, older = step.newer, step.older
    new_date = newer.updated if newer.updated is not None and newer.updated != older.updated \
        else None
    old_date = older.updated or older.published
    if new_date is not None:
        new = f"updated {_day(new_date, old_date)}"
    elif older.seen is not None:
        new = f"read {_day(older.seen, old_date)}"
    else:
        new = "later"
    return f"{new}, was {_day(old_date, new_date or older.seen)}" if old_date else new


def _day(moment: datetime, other: datetime | None = None) -> str:
    """"22 Nov"; with the time when `other` is the same day ("22 Nov 16:45")."""
    label = f"{moment.day} {moment.strftime('%b')}"
    if other is not None and other.date() == moment.date() and other != moment:
        label += f" {moment.strftime('%H:%M')}"
    return label


def _version_dict(version: ArticleVersion) -> dict[str, Any]:
    return {"version": version.number, "title": version.title,
            "published": version.published.isoformat() if version.published else None,
            "updated": version.updated.isoformat() if version.updated else None,
            "seen": version.seen.isoformat() if version.seen else None}
