"""Wire copies at ingest (pure): which new articles copy a stored wire story, and which copy
names each story (its earliest published). The store's nearest-lead look-ups are done by the
pipeline; copy_group (ingest/text/near_duplicates.py) decides each pair."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from ingest.model.records import ChunkMeta, StoredChunk
from ingest.text.groups import DisjointSets
from ingest.text.near_duplicates import Lead, copy_group

# Wire copies: the stored first chunks compared with each new one (the nearest by embedding).
COPY_CANDIDATES = 3

Copies = dict[str, str]  # article id → the group id of the wire story it copies


@dataclass(frozen=True, slots=True)
class NewLead:
    """A new article's first chunk and its embedding (unit length)."""

    lead: Lead
    vector: np.ndarray


def group(new: Sequence[NewLead], stored: Sequence[Sequence[tuple[StoredChunk, float]]]
          ) -> Copies:
    """Which of a batch's new articles (in the order read) are copies of a wire story: each
    against its nearest stored first chunks (`stored`, with cosines, one list per new lead)
    and the nearest of the batch's earlier leads (not in the store yet)."""
    copies: Copies = {}
    batch: list[tuple[Lead, np.ndarray]] = []
    for item, found in zip(new, stored, strict=True):
        lead = item.lead
        candidates = [(lead_of(c), cosine) for c, cosine in found]
        earlier = sorted(((other, float(item.vector @ v)) for other, v in batch),
                         key=lambda candidate: -candidate[1])[:COPY_CANDIDATES]
        story = copy_group(lead, [*candidates, *earlier])
        if story is not None:
            copies[lead.article_id] = story
            lead = replace(lead, group=story)
        batch.append((lead, item.vector))
    return copies


def first_copy_renames(copies: Copies, leads: Mapping[str, ChunkMeta],
                       named: Mapping[str, ChunkMeta]) -> dict[str, str]:
    """The stories to rename (group id → the member naming it now) after a batch brought
    `copies`: a story is named after its earliest published copy, whatever order the copies
    are read in. `leads`: the batch's first chunks; `named`: the stored first chunks of the
    articles the stories are named after."""
    joined: dict[str, list[str]] = {}
    for article_id, story in copies.items():
        joined.setdefault(story, []).append(article_id)
    renames: dict[str, str] = {}
    for story, members in joined.items():
        earliest = min((leads[a] for a in members if a in leads), key=first_copy_order,
                       default=None)
        current = named.get(story)
        if earliest is not None and current is not None and (
                first_copy_order(earliest) < first_copy_order(current)):
            renames[story] = earliest.article_id
    return renames


def orphan_renames(marked: Sequence[ChunkMeta]) -> dict[str, str]:
    """A story whose first copy was pruned is named after its earliest remaining copy (as
    `regroup` would name it): group id → that copy, for the copies `marked` of pruned ones."""
    return {story: min((m for m in marked if m.group == story),
                       key=first_copy_order).article_id
            for story in {meta.group for meta in marked}}


def renamed_groups(renames: Mapping[str, str], marked: Sequence[ChunkMeta]
                   ) -> dict[str, str | None]:
    """The `copy_of` changes that rename wire stories (old name -> the article naming it
    now): the articles marked as copies of an old name, and the old named article itself,
    become copies of the new one, which becomes a story of its own."""
    changes: dict[str, str | None] = {
        meta.article_id: renames[meta.group] for meta in marked if meta.group in renames}
    for old, new in renames.items():
        changes[old] = new
        changes[new] = None
    return changes


def regroup_matches(batch: Sequence[StoredChunk],
                    found: Sequence[Sequence[tuple[StoredChunk, float]]],
                    rank: Mapping[str, int]) -> list[tuple[int, int]]:
    """For a whole-store regroup: the (rank, rank) pairs of stored first chunks that are
    copies, each lead of `batch` against its nearest (`found`) that rank earlier (`rank`:
    article id → place, earliest published first), so the first copy stays the original."""
    pairs = []
    for lead, neighbours in zip(batch, found, strict=True):
        me = rank[lead.meta.article_id]
        earlier = [(replace(lead_of(c), group=c.meta.article_id), cosine)
                   for c, cosine in neighbours if rank.get(c.meta.article_id, me) < me]
        match = copy_group(replace(lead_of(lead), group=lead.meta.article_id), earlier)
        if match is not None:
            pairs.append((me, rank[match]))
    return pairs


def regroup_changes(order: Sequence[ChunkMeta], joined: DisjointSets
                    ) -> dict[str, str | None]:
    """The `copy_of` changes a regroup makes: each lead of `order` (earliest first) becomes a
    copy of its group's first member, or a story of its own."""
    changes: dict[str, str | None] = {}
    for n, meta in enumerate(order):
        first = joined.root(n)
        story = None if first == n else order[first].article_id
        if story != meta.copy_of:
            changes[meta.article_id] = story
    return changes


def first_copy_order(meta: ChunkMeta) -> tuple[float, str]:
    """Which copy of a wire story names its group: the earliest published (undated last),
    then the smallest article id."""
    published = meta.published_epoch
    return (published if published is not None else float("inf"), meta.article_id)


def lead_of(chunk: StoredChunk) -> Lead:
    """A stored first chunk as compared for wire copies."""
    meta = chunk.meta
    return Lead(meta.article_id, meta.group, chunk.text, meta.published, meta.title)
