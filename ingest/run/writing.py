"""Writing a batch of queued articles: embed, find wire copies, keep replaced versions,
upsert, delete the versions written over. The store is the port below (ChromaStore)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from config.errors import StoreError
from config.settings import IngestSettings
from ingest.embed.embedder import Embedder
from ingest.model.records import Article, Chunk, ChunkMeta, Failure, StoredArticle, StoredChunk
from ingest.model.versions import ArticleVersion, replaced_version, stored_version
from ingest.run import wire_copies
from ingest.run.outcomes import Failed, Outcome, Renamed, Stored, WireCopies, Written
from ingest.run.wire_copies import COPY_CANDIDATES, NewLead
from ingest.store.change_journal import ChangeJournal
from ingest.text.groups import DisjointSets
from ingest.text.ids import chunk_id
from ingest.text.near_duplicates import Lead

log = logging.getLogger(__name__)

EMBED_STEP = 64  # chunks embedded per step of a write batch: progress is said between steps


class ChunkWriter(Protocol):
    """The store operations ingest needs (ChromaStore implements it)."""

    def articles(self) -> dict[str, StoredArticle]: ...
    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray,
               metas: Sequence[ChunkMeta]) -> None: ...
    def delete_stale(self, article_id: str, keep_hash: str) -> None: ...
    def delete_articles(self, article_ids: Sequence[str]) -> None: ...
    def writing(self, exclusive: bool = False) -> AbstractContextManager[None]: ...
    def nearest_leads(self, vectors: np.ndarray, n: int
                      ) -> list[list[tuple[StoredChunk, float]]]: ...
    def leads(self) -> list[tuple[StoredChunk, np.ndarray]]: ...
    def sync_leads(self, leads: Sequence[tuple[StoredChunk, np.ndarray]]) -> None: ...
    def set_copy_of(self, groups: dict[str, str | None]) -> None: ...
    def marked_copies_of(self, groups: Sequence[str]) -> list[ChunkMeta]: ...
    def get(self, ids: Sequence[str]) -> list[StoredChunk]: ...
    def chunks_of(self, article_ids: Sequence[str]) -> list[StoredChunk]: ...
    def save_versions(self, versions: Sequence[ArticleVersion], keep: int) -> None: ...


@dataclass(frozen=True, slots=True)
class Queued:
    """An article queued to be written: its version's stored hash and its chunks."""

    article: Article
    stored_hash: str
    chunks: list[Chunk]
    written: Written  # "updated": the article was stored before this run
    replaces: bool = False  # another version was written earlier in this run

    @property
    def overwrites(self) -> bool:
        """Whether a stored version of it is written over."""
        return self.written == "updated" or self.replaces


class BatchWriter:
    def __init__(self, store: ChunkWriter, embedder: Embedder, settings: IngestSettings,
                 journal: ChangeJournal | None, on_step: Callable[[str], None]) -> None:
        self._store, self._embedder, self._settings = store, embedder, settings
        self._journal = journal  # told before the store what the write changes
        self._on_step = on_step

    def write(self, queued: Sequence[Queued], outcomes: list[Outcome]) -> None:
        """Write `queued`, appending to `outcomes` as it goes (a StoreError may stop it
        midway: what was said by then stays said; its articles are not counted)."""
        chunks = [c for q in queued for c in q.chunks]
        metas = [ChunkMeta.of(q.article, c, q.stored_hash, len(q.chunks))
                 for q in queued for c in q.chunks]
        vectors = self._embed([c.embed_text for c in chunks], len(queued))
        copies = self._wire_copies(queued, chunks, vectors)
        if copies:
            metas = [replace(m, copy_of=copies.get(m.article_id)) for m in metas]
            outcomes.append(WireCopies(copies))
        self._keep_replaced([q.article for q in queued if q.overwrites])
        if self._journal is not None:  # before the store: see change_journal
            self._journal.add({q.article.id: q.written for q in queued})
        self._on_step(f"writing {len(chunks):,} chunks")
        self._store.upsert(chunks, vectors, metas)
        for q in queued:
            if q.overwrites:
                self._store.delete_stale(q.article.id, q.stored_hash)
        if copies:
            leads = {m.article_id: m for m in metas if m.chunk_index == 0}
            named = {c.meta.article_id: c.meta for c in self._store.get(
                [chunk_id(story, 0) for story in dict.fromkeys(copies.values())])}
            renames = wire_copies.first_copy_renames(copies, leads, named)
            if renames:
                self._store.set_copy_of(wire_copies.renamed_groups(
                    renames, self._store.marked_copies_of(list(renames))))
                outcomes.append(Renamed(renames))
                log.info("%d wire stories renamed after an earlier copy", len(renames))
        outcomes.extend(Stored(q.article.id, q.written, len(q.chunks)) for q in queued)
        log.info("wrote %d chunks of %d articles", len(chunks), len(queued))

    def _embed(self, texts: Sequence[str], articles: int) -> np.ndarray:
        """The texts' vectors, embedded in steps of EMBED_STEP so that progress is said as it
        happens (a batch of 512 chunks is minutes on a small CPU)."""
        parts = []
        for start in range(0, len(texts), EMBED_STEP):
            self._on_step(f"embedding {start:,}/{len(texts):,} chunks of {articles:,} articles")
            parts.append(self._embedder.embed(texts[start:start + EMBED_STEP]))
        return np.concatenate(parts) if parts else self._embedder.embed([])

    def _keep_replaced(self, changing: Sequence[Article]) -> None:
        """Keep the stored version of every article about to be written over (its headline
        or text changed): at most `keep_versions` each, as records that are never searched
        (ingest/model/versions.py)."""
        keep = self._settings.keep_versions
        if keep <= 0 or not changing:
            return
        stored: dict[str, list[tuple[ChunkMeta, str]]] = {}
        for chunk in self._store.chunks_of([article.id for article in changing]):
            stored.setdefault(chunk.meta.article_id, []).append((chunk.meta, chunk.text))
        replaced = [version for article in changing
                    if (version := replaced_version(stored_version(stored.get(article.id, [])),
                                                    article)) is not None]
        if replaced:
            self._store.save_versions(replaced, keep)
            log.info("kept the replaced version of %d articles", len(replaced))

    def _wire_copies(self, queued: Sequence[Queued], chunks: Sequence[Chunk],
                     vectors: np.ndarray) -> wire_copies.Copies:
        """Which queued articles copy a wire story stored or earlier in the batch: their
        first chunks' nearest stored ones (one query for the batch), then wire_copies.group."""
        first = {c.article_id: n for n, c in enumerate(chunks) if c.index == 0}
        new = [NewLead(Lead(q.article.id, q.article.id, chunks[first[q.article.id]].text,
                            q.article.published, q.article.title), vectors[first[q.article.id]])
               for q in queued if q.article.id in first]
        if not new:
            return {}
        return wire_copies.group(new, self._store.nearest_leads(
            np.asarray([n.vector for n in new]), COPY_CANDIDATES))


def regroup(store: ChunkWriter) -> dict[str, str | None]:
    """Group wire copies across the whole store again, every stored first chunk against its
    nearest ones; returns the `copy_of` changes made. The caller holds the store."""
    leads = store.leads()
    store.sync_leads(leads)  # the lookup below reads them: repaired first
    order = sorted(leads, key=lambda lead: wire_copies.first_copy_order(lead[0].meta))
    rank = {lead.meta.article_id: n for n, (lead, _) in enumerate(order)}
    joined = DisjointSets(len(order))
    for start in range(0, len(order), 256):
        batch = order[start:start + 256]
        found = store.nearest_leads(np.asarray([v for _, v in batch]), COPY_CANDIDATES + 1)
        for a, b in wire_copies.regroup_matches([c for c, _ in batch], found, rank):
            joined.join(a, b)
    changes = wire_copies.regroup_changes([c.meta for c, _ in order], joined)
    if changes:
        store.set_copy_of(changes)
    return changes


def settle(store: ChunkWriter, queued: Sequence[Queued], why: str) -> list[Outcome]:
    """After a failed write: the queued articles the store holds completely after all (a
    batch is several writes) as stored, the others as failed (`why` says what stopped)."""
    try:
        now = store.articles()
    except StoreError:
        now = {}
        why += "; could not check the store afterwards"
    settled: list[Outcome] = []
    for q in queued:
        held = now.get(q.article.id)
        if held is not None and held.is_complete(q.stored_hash):
            settled.append(Stored(q.article.id, q.written, len(q.chunks)))
        else:
            settled.append(Failed(Failure(
                q.article.id, f"not stored, or only in part ({why}; run again)")))
    return settled


def delete(store: ChunkWriter, gone: Sequence[str]) -> None:
    """Delete the articles `gone` (pruned); a wire story whose first copy went is named after
    its earliest remaining copy from then on (as `regroup` would name it)."""
    store.delete_articles(list(gone))
    marked = store.marked_copies_of(list(gone))
    renames = wire_copies.orphan_renames(marked)
    if renames:
        store.set_copy_of({article_id: story for article_id, story
                           in wire_copies.renamed_groups(renames, marked).items()
                           if article_id not in renames})  # those are gone
        log.info("pruned the first copy of %d wire stories; each is now known by its "
                 "earliest remaining copy", len(renames))
