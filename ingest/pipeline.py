"""The ingest pipeline: load → dedupe → chunk → embed → upsert → prune, incremental and resumable.

Crash safety without transactions: every chunk carries its article's version hash and chunk
count, chunk ids are deterministic (`article_id#n`), and an article counts as stored only when
all chunks of exactly one version are present. A run killed at any point leaves articles that
are either complete (skipped next time) or incomplete (re-embedded and upserted over, then the
other versions' chunks deleted), so a re-run converges to the same collection.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ingest.chunking import chunk_article
from ingest.embedding import Embedder
from ingest.errors import StoreError
from ingest.ids import sha256
from ingest.loaders import (
    Fetcher,
    LoaderLimits,
    NotModified,
    SourceItem,
    discover,
    load,
    path_article_id,
)
from ingest.records import Article, Chunk, Failure, IngestSummary
from ingest.store import StoredArticle, chunk_metadata

log = logging.getLogger(__name__)

# Bump when chunking changes in a way that should re-embed everything.
CHUNKER_VERSION = "1"


class ChunkWriter(Protocol):
    """The store operations ingest needs (ChromaStore implements it)."""

    def articles(self) -> dict[str, StoredArticle]: ...
    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray,
               metadatas: Sequence[dict[str, object]]) -> None: ...
    def delete_stale(self, article_id: str, keep_hash: str) -> None: ...
    def delete_articles(self, article_ids: Sequence[str]) -> None: ...
    def bump_stamp(self) -> None: ...
    def writing(self) -> AbstractContextManager[None]: ...


@dataclass
class _Pending:
    article: Article
    stored_hash: str
    chunks: list[Chunk]
    is_update: bool


@dataclass
class _Run:
    stored: dict[str, StoredArticle]
    summary: IngestSummary = field(default_factory=IngestSummary)
    seen: set[str] = field(default_factory=set)
    protected_origins: set[str] = field(default_factory=set)
    by_text: dict[str, str] = field(default_factory=dict)
    pending: list[_Pending] = field(default_factory=list)
    pending_chunks: int = 0
    wrote: bool = False
    fully_loaded: list[str] = field(default_factory=list)  # URLs whose every item loaded


class Ingestor:
    def __init__(
        self,
        store: ChunkWriter,
        embedder: Embedder,
        fetcher: Fetcher,
        *,
        max_tokens: int,
        overlap_tokens: int,
        limits: LoaderLimits,
        write_batch_chunks: int = 512,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._fetcher = fetcher
        self._configured_max_tokens = max_tokens
        self._overlap = overlap_tokens
        self._limits = limits
        self._write_batch = write_batch_chunks
        # Part of every stored version hash: changing the model or chunking re-embeds.
        self._fingerprint = sha256(
            embedder.name, str(max_tokens), str(overlap_tokens), CHUNKER_VERSION
        )

    @property
    def _max_tokens(self) -> int:
        """The configured bound, never above the model's own limit (0 = the model's limit)."""
        model_limit = self._embedder.max_tokens
        return min(self._configured_max_tokens or model_limit, model_limit)

    def ingest(
        self,
        sources: Sequence[str],
        *,
        prune: bool = False,
        on_total: Callable[[int], None] | None = None,
        on_advance: Callable[[], None] | None = None,
    ) -> IngestSummary:
        with self._store.writing():
            return self._ingest(sources, prune, on_total, on_advance)

    def _ingest(
        self,
        sources: Sequence[str],
        prune: bool,
        on_total: Callable[[int], None] | None,
        on_advance: Callable[[], None] | None,
    ) -> IngestSummary:
        items, missing = discover(sources)
        if on_total:
            on_total(len(items))
        run = _Run(stored=self._store.articles())
        run.summary.failed.extend(missing)
        run.by_text = {
            entry.text_hash: article_id
            for article_id, entry in run.stored.items()
            if entry.text_hash
        }
        done = 0
        try:
            for item in items:
                self._ingest_item(run, item)
                done += 1
                if on_advance:
                    on_advance()
            self._flush(run)
            if prune:
                self._prune(run, missing)
            if run.wrote:
                self._store.bump_stamp()  # once more after the writes: readers rebuild
            for url in run.fully_loaded:
                # Only now, with the articles stored, may the next run skip an unchanged URL.
                self._fetcher.commit(url)
        except StoreError as exc:
            # The store went away mid-run. Say which articles were not stored; everything
            # written so far is consistent, and a re-run completes the rest.
            log.error("store failed during ingest: %s", exc)
            run.summary.failed.extend(Failure(p.article.id, f"not stored: {exc}")
                                      for p in run.pending)
            if done < len(items):
                run.summary.failed.append(Failure(
                    "(ingest)", f"stopped; {len(items) - done} sources not processed: {exc}"))
        return run.summary

    def _ingest_item(self, run: _Run, item: SourceItem) -> None:
        produced = failed = False
        for result in load(item, self._fetcher, self._limits):
            if isinstance(result, NotModified):
                run.summary.not_modified.append(result.source)
            elif isinstance(result, Failure):
                failed = True
                run.summary.failed.append(result)
                log.info("cannot ingest %s: %s", result.source, result.reason)
            else:
                produced = True
                self._ingest_article(run, result)
        if not produced and not item.is_url:
            # The file may hold an article we stored before; a bad read must not prune it.
            run.seen.add(path_article_id(item))
        if item.is_url and not produced:
            run.protected_origins.add(item.origin)  # failed or not modified: keep its articles
        if item.is_url and produced and not failed:
            run.fully_loaded.append(item.location)

    def _ingest_article(self, run: _Run, article: Article) -> None:
        if article.id in run.seen:
            return  # the same article twice in one run (e.g. a file and a feed entry)
        run.seen.add(article.id)
        original = run.by_text.get(article.text_hash)
        if original is not None and original != article.id:
            run.summary.duplicates.append({"id": article.id, "duplicate_of": original})
            return
        run.by_text[article.text_hash] = article.id
        stored_hash = sha256(article.content_hash, self._fingerprint)
        existing = run.stored.get(article.id)
        if existing is not None and existing.is_complete(stored_hash):
            run.summary.unchanged += 1
            return
        chunks = chunk_article(
            article, self._embedder.count_tokens, self._max_tokens, self._overlap
        )
        run.pending.append(_Pending(article, stored_hash, chunks, existing is not None))
        run.pending_chunks += len(chunks)
        if run.pending_chunks >= self._write_batch:
            self._flush(run)

    def _flush(self, run: _Run) -> None:
        if not run.pending:
            return
        if not run.wrote:
            # Mark the store as changing before the first write, so a reader that builds an
            # index mid-run holds a stamp that the final bump invalidates.
            self._store.bump_stamp()
            run.wrote = True
        chunks = [c for p in run.pending for c in p.chunks]
        metadatas = [
            chunk_metadata(p.article, c, p.stored_hash, len(p.chunks))
            for p in run.pending for c in p.chunks
        ]
        vectors = self._embedder.embed([c.embed_text for c in chunks])
        self._store.upsert(chunks, vectors, metadatas)
        for pending in run.pending:
            if pending.is_update:
                self._store.delete_stale(pending.article.id, pending.stored_hash)
                run.summary.updated += 1
            else:
                run.summary.added += 1
        run.summary.chunks += len(chunks)
        log.info("wrote %d chunks of %d articles", len(chunks), len(run.pending))
        run.pending.clear()
        run.pending_chunks = 0

    def _prune(self, run: _Run, missing: Sequence[Failure]) -> None:
        if missing:
            # A source that is not there at all (typo, unmounted disk) must not empty the store.
            log.warning("not pruning: %d source(s) could not be found", len(missing))
            return
        gone = [
            article_id for article_id, entry in run.stored.items()
            if article_id not in run.seen and entry.origin not in run.protected_origins
        ]
        if gone:
            if not run.wrote:
                self._store.bump_stamp()
                run.wrote = True
            self._store.delete_articles(gone)
        run.summary.removed = len(gone)
