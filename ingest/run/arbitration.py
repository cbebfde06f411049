"""Which version of an article a run keeps (pure): two articles read under one id, or a
re-read of a stored article from another file, are ordered by their own revision dates,
then by when their files last changed."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Version:
    """One version of an article as read (or as stored), with what orders it in time: its
    own revision dates, then when the file it came from last changed (ns; None for a URL or
    a file gone)."""

    where: str  # the file (or URL) it was read from
    key: str  # the version's stored hash (content and how it is embedded)
    published: datetime | None
    updated: datetime | None
    mtime_ns: int | None
    stored: bool = False  # the stored version (read in an earlier run from `where`)

    @property
    def revised(self) -> float | None:
        when = self.updated or self.published
        return when.timestamp() if when is not None else None


class Verdict(enum.Enum):
    """What becomes of an article read as another version of one the run keeps."""

    REPLACES = "replaces"  # it is newer: store it in place of the kept one
    OLDER = "older"  # the kept one is newer: it is superseded
    UNDECIDED = "undecided"  # two versions in one run, neither newer: it is not stored


def decide(version: Version, kept: Version) -> Verdict:
    """`version` (just read) against `kept` (the version this run keeps, or the stored one
    when read from another file that is still there). A stored version nothing tells apart
    gives way to the one read now (a file edited in place is its next version)."""
    newer_one = newer(kept, version)
    if newer_one is None and not kept.stored:
        return Verdict.UNDECIDED
    return Verdict.OLDER if newer_one is kept else Verdict.REPLACES


def newer(a: Version, b: Version) -> Version | None:
    """The newer of two versions of one article, or None when nothing tells: a version whose
    `updated` date is after the other's last date wins; else the file changed later."""
    for this, other in ((a, b), (b, a)):
        mark = this.updated.timestamp() if this.updated is not None else None
        if mark is not None and (other.revised is None or mark > other.revised):
            return this
    if a.mtime_ns is not None and b.mtime_ns is not None and a.mtime_ns != b.mtime_ns \
            and a.where != b.where:
        return a if a.mtime_ns > b.mtime_ns else b
    return None
