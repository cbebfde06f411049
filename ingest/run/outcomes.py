"""What a run reports (pure): the outcomes its steps record, in order, and the one function
that turns them into an IngestSummary."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from ingest.model.records import Failure, IngestSummary

Written = Literal["added", "updated"]


@dataclass(frozen=True, slots=True)
class Failed:
    """A source, file or article that could not be (fully) stored."""

    failure: Failure


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A file of a type Newsdesk does not read."""

    failure: Failure


@dataclass(frozen=True, slots=True)
class NotModified:
    """A URL that answered 304: its articles are as stored."""

    source: str


@dataclass(frozen=True, slots=True)
class PartialRead:
    """Stored, with less than the source had."""

    failure: Failure


@dataclass(frozen=True, slots=True)
class Duplicate:
    """An outlet's second copy of a text: not stored, `original` stands for it."""

    article_id: str
    original: str


@dataclass(frozen=True, slots=True)
class Superseded:
    """An older version of `article_id`, read from `source`, beside the newer one at `newer`."""

    article_id: str
    source: str
    newer: str


@dataclass(frozen=True, slots=True)
class Unchanged:
    """Stored before, exactly as read."""

    article_id: str


@dataclass(frozen=True, slots=True)
class Stored:
    """Written in full (`chunks` chunks)."""

    article_id: str
    written: Written
    chunks: int


@dataclass(frozen=True, slots=True)
class Withdrawn:
    """A version counted earlier in this run gave way to a newer one read later."""

    article_id: str


@dataclass(frozen=True, slots=True)
class OtherShard:
    """An article left to another worker of a sharded ingest."""


@dataclass(frozen=True, slots=True)
class WireCopies:
    """Articles stored as copies of a wire story: article id → the story's group id."""

    copies: dict[str, str]


@dataclass(frozen=True, slots=True)
class Renamed:
    """Wire stories renamed after an earlier copy: old group id → new group id."""

    renames: dict[str, str]


@dataclass(frozen=True, slots=True)
class Removed:
    """Articles a prune deleted."""

    count: int


@dataclass(frozen=True, slots=True)
class IndexBehind:
    """The keyword index could not be written (the disk is full)."""


Outcome = (Failed | SkippedFile | NotModified | PartialRead | Duplicate | Superseded | Unchanged
           | Stored | Withdrawn | OtherShard | WireCopies | Renamed | Removed | IndexBehind)


def summarize(outcomes: Iterable[Outcome]) -> IngestSummary:
    """The summary of a run's outcomes, in the order they happened (a Withdrawn uncounts
    what was counted for its article before; a Renamed renames the wire copies reported
    before)."""
    summary = IngestSummary()
    counted: dict[str, str] = {}  # article id → "unchanged" | "added" | "updated"
    for outcome in outcomes:
        match outcome:
            case Failed(failure):
                summary.failed.append(failure)
            case SkippedFile(failure):
                summary.skipped.append(failure)
            case NotModified(source):
                summary.not_modified.append(source)
            case PartialRead(failure):
                summary.partial.append(failure)
            case Duplicate(article_id, original):
                summary.duplicates.append({"id": article_id, "duplicate_of": original})
            case Superseded(article_id, source, newer):
                summary.superseded.append({"id": article_id, "source": source, "newer": newer})
            case Unchanged(article_id):
                counted[article_id] = "unchanged"
            case Stored(article_id, written, chunks):
                counted[article_id] = written
                summary.changed[article_id] = written
                summary.chunks += chunks
            case Withdrawn(article_id):
                counted.pop(article_id, None)
                summary.changed.pop(article_id, None)
            case OtherShard():
                summary.other_shards += 1
            case WireCopies(copies):
                summary.wire_copies.extend(
                    {"id": article_id, "copy_of": group} for article_id, group in copies.items())
            case Renamed(renames):
                reported = [{"id": entry["id"],
                             "copy_of": renames.get(entry["copy_of"], entry["copy_of"])}
                            for entry in summary.wire_copies]
                reported += [{"id": group, "copy_of": first} for group, first in renames.items()]
                summary.wire_copies = [entry for entry in reported
                                       if entry["id"] != entry["copy_of"]]
            case Removed(count):
                summary.removed = count
            case IndexBehind():
                stored = sum(1 for kind in counted.values() if kind != "unchanged")
                summary.failed.append(Failure("(keyword index)", (
                    f"disk full: {stored} articles stored but not yet searchable by "
                    "keywords; they are indexed when space returns (at the next question "
                    "or ingest)")))
    kinds = list(counted.values())
    summary.added, summary.updated = kinds.count("added"), kinds.count("updated")
    summary.unchanged = kinds.count("unchanged")
    return summary


def reported_sources(outcomes: Sequence[Outcome]) -> set[str]:
    """The sources that said why they gave no article (failed, or "not modified")."""
    return {o.failure.source if isinstance(o, Failed) else o.source
            for o in outcomes if isinstance(o, Failed | NotModified)}
