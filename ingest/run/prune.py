"""What a prune deletes (pure): the stored articles of the named sources that a run did not
see again, unless a source would lose more than its allowed share (then nothing of it)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from ingest.model.records import Failure, StoredArticle
from ingest.sources.discover import is_url, source_origin

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Plan:
    """The article ids to delete, and a failure for each source whose prune was refused."""

    gone: tuple[str, ...]
    refused: tuple[Failure, ...]


def plan(stored: Mapping[str, StoredArticle], origins: Sequence[str], *,
         seen: Collection[str], protected_origins: Collection[str],
         protected_paths: Collection[str], holds: Callable[[str], bool],
         max_share: float, force: bool) -> Plan:
    """The prune of `origins` (the named sources that yielded articles): their stored
    articles (those this worker `holds`) not `seen` in this run, leaving alone the sources
    and files that failed in part (`protected_*`). A source losing more than `max_share`
    (0..1) of its articles is refused unless `force`."""
    gone: list[str] = []
    refused: list[Failure] = []
    for origin in origins:
        if origin in protected_origins:
            continue
        scoped = [article_id for article_id, entry in stored.items()
                  if in_scope(entry, origin) and holds(article_id)]
        stale = [article_id for article_id in scoped
                 if article_id not in seen and stored[article_id].path not in protected_paths]
        share = len(stale) / len(scoped) if scoped else 0.0
        if stale and share > max_share and not force:
            log.warning("not pruning %s: %d of %d articles would go", origin, len(stale),
                        len(scoped))
            refused.append(Failure(origin, (
                f"prune refused: it would remove {len(stale)} of the {len(scoped)} stored "
                f"articles from this source (more than {max_share:.0%}); "
                "run again with --force if they are really gone")))
            continue
        gone.extend(stale)
    return Plan(tuple(dict.fromkeys(gone)), tuple(refused))


def in_scope(entry: StoredArticle, origin: str) -> bool:
    """Whether a stored article came from the named source `origin`: a URL's own entries, or
    for a file or folder, what was read from a file at or under it."""
    if is_url(origin):
        return entry.origin == origin
    # Articles stored before paths were recorded know only the folder they were ingested from.
    path = entry.path or entry.origin
    return path == origin or path.startswith(origin.rstrip(os.sep) + os.sep)


def productive(named: Sequence[str], produced: Mapping[str, int], reported: set[str]
               ) -> tuple[list[str], list[Failure]]:
    """The origins of the `named` sources that yielded articles (`produced`: articles per
    origin), and a failure for each other one not `reported` already (failed, or "not
    modified")."""
    origins: list[str] = []
    failures: list[Failure] = []
    for source in named:
        origin = source_origin(source)
        if produced.get(origin, 0) > 0:
            origins.append(origin)
        elif not {source, origin} & reported:
            failures.append(Failure(source, f"no articles found in {source}"))
    return origins, failures
