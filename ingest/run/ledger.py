"""What a run has read so far, and what each new article is against it: new, a duplicate,
the same article again, or another version of one (arbitration.decide picks the newer).

Every worker of a sharded ingest reads every article through this ledger, in the same
order, so that all of them agree on originals and versions (see pipeline._consider)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ingest.model.records import Article, Failure, StoredArticle
from ingest.run.arbitration import Verdict, Version, decide
from ingest.run.outcomes import Duplicate, Failed, Outcome, Superseded, Withdrawn


@dataclass(frozen=True, slots=True)
class Reading:
    """An article read against the ledger. `new`: go on to store it (it is recorded as this
    run's version); else `ok` says whether it is accounted for (False: not stored, a failure
    among `outcomes`). `withdraws`: a version of it queued or counted earlier gives way."""

    new: bool
    ok: bool = True
    outcomes: tuple[Outcome, ...] = ()
    withdraws: bool = False


@dataclass
class Ledger:
    """One run's memory of what it read, over what the store held when it began (`stored`)."""

    stored: dict[str, StoredArticle]
    seen: set[str] = field(default_factory=set)  # never pruned by this run
    # (text hash, outlet) → the article holding that text: an outlet's second copy of a text
    # is its duplicate; another outlet's is stored, as a wire copy of the same story.
    by_text: dict[tuple[str, str], str] = field(default_factory=dict)
    by_hash: dict[str, list[str]] = field(default_factory=dict)  # text hash → its articles
    path_of: dict[str, str] = field(default_factory=dict)  # file read for an id in this run
    versions: dict[str, Version] = field(default_factory=dict)  # the version kept of each id

    def __post_init__(self) -> None:
        self.by_text = {(entry.text_hash, entry.source): article_id
                        for article_id, entry in self.stored.items() if entry.text_hash}
        for (text_hash, _), article_id in self.by_text.items():
            self.by_hash.setdefault(text_hash, []).append(article_id)

    def read(self, article: Article, key: str) -> Reading:
        """`article` (its version's stored hash `key`) against what was read before."""
        other = self._other_file_with_id(article)
        if other is not None:
            return Reading(False, False, (Failed(Failure(article.path, (
                f"its id {article.id!r} is already used by {other}, so it was not stored "
                "(file ids are paths relative to the folder ingested: ingest a folder that "
                "holds both, or give the articles URLs)"))),))
        if article.path:
            self.path_of.setdefault(article.id, article.path)
        version = version_of(article, key)
        kept = self.versions.get(article.id) or self._stored_elsewhere(article)
        withdraws, outcomes = False, ()  # type: tuple[bool, tuple[Outcome, ...]]
        if kept is not None and kept.key != key:
            verdict = decide(version, kept)
            if verdict is Verdict.UNDECIDED:
                return Reading(False, False, (Failed(Failure(version.where, (
                    f"another version of {article.id!r} was read from {kept.where} in this "
                    "run, and neither is the newer (no later `updated` date, not a later "
                    "file), so this one was not stored: remove the wrong copy, or date the "
                    "correction"))),))
            if verdict is Verdict.OLDER:
                self.seen.add(article.id)
                self.versions.setdefault(article.id, kept)
                return Reading(False, outcomes=(
                    Superseded(article.id, version.where, kept.where),))
            if not kept.stored:  # a version read earlier in this run gives way
                withdraws = True
                outcomes = (Superseded(article.id, kept.where, version.where),
                            Withdrawn(article.id))
            self.seen.discard(article.id)
        elif kept is not None and not kept.stored:
            return Reading(False)  # the same article twice in one run (a file and a feed entry)
        if article.id in self.seen and (kept is None or not kept.stored):
            return Reading(False, outcomes=outcomes, withdraws=withdraws)  # an original
        self.seen.add(article.id)
        self.versions[article.id] = version
        text_key = (article.text_hash, article.source or "")
        original = self.by_text.get(text_key) or self._same_file(article)
        if original is not None and original != article.id:
            self.seen.add(original)  # it stands for this one: pruning it would lose the text
            return Reading(False, outcomes=(*outcomes, Duplicate(article.id, original)),
                           withdraws=withdraws)
        self.by_text[text_key] = article.id
        self.by_hash.setdefault(article.text_hash, []).append(article.id)
        return Reading(True, outcomes=outcomes, withdraws=withdraws)

    def forget_text(self, article: Article) -> None:
        """`article` was not stored after all: no stored copy stands for its text."""
        self.by_text.pop((article.text_hash, article.source or ""), None)

    def _stored_elsewhere(self, article: Article) -> Version | None:
        """The stored version of a URL-identified article when it was read from another file
        that is still there (a file edited in place is simply its next version)."""
        stored = self.stored.get(article.id)
        if (stored is None or not article.url or not stored.path
                or stored.path == article.path or not os.path.exists(stored.path)):
            return None
        key = next(iter(stored.chunks_by_hash)) if len(stored.chunks_by_hash) == 1 else ""
        return Version(stored.path, key, stored.published, stored.updated,
                       mtime_ns(stored.path), stored=True)

    def _same_file(self, article: Article) -> str | None:
        """The article already holding this text from the very same file, read under another
        folder's name (a sub-folder ingested on its own): that is no other outlet's copy."""
        if not article.path:
            return None
        for article_id in self.by_hash.get(article.text_hash, ()):
            stored = self.stored.get(article_id)
            path = self.path_of.get(article_id) or (stored.path if stored is not None else "")
            if path == article.path:
                return article_id
        return None

    def _other_file_with_id(self, article: Article) -> str | None:
        """Another file, still there, whose article has this file article's id: ids are
        paths relative to the folder ingested, so two folders can hold the same names. (An
        id that is the article's URL names one article wherever it is read.)"""
        if not article.path or article.url:
            return None
        other = self.path_of.get(article.id)
        if other is None:
            stored = self.stored.get(article.id)
            # A stored path that is gone means the folder moved: that is the same article.
            if stored is not None and stored.path and os.path.exists(stored.path):
                other = stored.path
        return other if other is not None and other != article.path else None


def version_of(article: Article, key: str) -> Version:
    """The version `article` is, read now."""
    where = article.path or article.origin
    return Version(where, key, article.published, article.updated, mtime_ns(article.path))


def mtime_ns(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns if path else None
    except OSError:
        return None
