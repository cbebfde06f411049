"""The ingest run: load → dedupe → chunk → embed → upsert → prune, incremental and resumable.
Orchestration only: the decisions are the pure steps beside it (ledger, arbitration,
wire_copies, prune, writing, outcomes); see docs/architecture.md for crash safety."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from config.errors import DiskFullError, StoreError, is_disk_full
from config.settings import ChunkingSettings, IngestSettings
from ingest.embed.embedder import Embedder
from ingest.model.records import Article, Failure, IngestSummary
from ingest.run import outcomes, prune, writing
from ingest.run.chunking import chunk_article
from ingest.run.ledger import Ledger
from ingest.run.shards import Shard
from ingest.run.writing import BatchWriter, ChunkWriter, Queued
from ingest.sources.articles import NotModified, Partial
from ingest.sources.discover import SourceItem, discover, path_article_id
from ingest.sources.fetch import Fetcher
from ingest.sources.loaders import load
from ingest.store.change_journal import ChangeJournal
from ingest.text.ids import sha256

log = logging.getLogger(__name__)

CHUNKER_VERSION = "1"  # bump when chunking changes in a way that should re-embed everything


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped an ingest; `summary` says what was stored before it."""

    def __init__(self, summary: IngestSummary) -> None:
        super().__init__("interrupted")
        self.summary = summary


class DerivedIndex(Protocol):
    """An index kept in step with the store (the keyword index): brought up to date after
    each batch written, so the first question after an ingest finds it current, and asked to
    compact (make its statistics exact again) once, at the end of the run."""

    def catch_up(self, compact: bool = True) -> object: ...


@dataclass
class _Run:
    ledger: Ledger  # what was read: duplicates, versions, what prune must keep
    record: list[outcomes.Outcome] = field(default_factory=list)  # what happened, in order
    produced: Counter[str] = field(default_factory=Counter)  # articles per source (origin)
    # Sources (URL origins) and files (paths) that failed in part: prune leaves them alone.
    protected_origins: set[str] = field(default_factory=set)
    protected_paths: set[str] = field(default_factory=set)
    fully_loaded: list[str] = field(default_factory=list)  # URLs whose every item loaded
    pending: list[Queued] = field(default_factory=list)  # the write batch
    counted: set[str] = field(default_factory=set)  # written or found unchanged in this run
    index_behind: bool = False  # the keyword index could not be written: the disk is full


class Ingestor:
    def __init__(self, store: ChunkWriter, embedder: Embedder, fetcher: Fetcher, *,
                 chunking: ChunkingSettings, settings: IngestSettings,
                 derived: Sequence[DerivedIndex] = (),
                 after: Sequence[Callable[[IngestSummary], None]] = (),
                 journal: ChangeJournal | None = None) -> None:
        self._store, self._embedder, self._fetcher = store, embedder, fetcher
        self._derived = derived
        self._after = after  # run once a run's writes are done (saved-question checks)
        self._journal = journal  # what `after` has yet to see, kept across interrupted runs
        self._chunking, self._settings = chunking, settings
        self._on_article: Callable[[int], None] = lambda read: None
        self._on_step: Callable[[str], None] = lambda step: None
        self._shard: Shard | None = None
        self._writer = BatchWriter(store, embedder, settings, journal if after else None,
                                   lambda step: self._on_step(step))  # noqa: PLW0108 (set per run)
        # Part of every stored version hash: changing the model or chunking re-embeds.
        self._fingerprint = sha256(embedder.name, str(chunking.max_tokens),
                                   str(chunking.overlap_tokens), CHUNKER_VERSION)

    def ingest(self, sources: Sequence[str], *, prune: bool = False, force: bool = False,
               on_total: Callable[[int], None] | None = None,
               on_advance: Callable[[], None] | None = None,
               on_article: Callable[[int], None] | None = None,
               on_step: Callable[[str], None] | None = None,
               shard: Shard | None = None) -> IngestSummary:
        """Ingest `sources`; with `prune`, also remove stored articles that came from these
        sources and are gone from them (other sources' are never touched, a source that
        yields nothing prunes nothing, and a prune over `max_prune_share` of a source's
        articles is refused unless `force`). `on_total` gets the number of sources, `on_advance` is
        called after each, `on_article` with the articles read so far, `on_step` with the
        work that takes the time ("embedding 128/512 chunks"). With `shard`, only that
        shard's articles are stored and pruned (ingest/run/shards.py). Ctrl-C raises
        Interrupted, carrying the summary of what was stored until then."""
        self._on_article = on_article or (lambda read: None)
        self._on_step = on_step or (lambda step: None)
        self._shard = shard
        with self._store.writing():
            summary = self._ingest(sources, prune, force, on_total, on_advance)
        handed = self._journal.pending() if self._journal is not None else {}
        summary.unchecked = {k: v for k, v in handed.items() if k not in summary.changed}
        succeeded = True
        if self._after:
            self._on_step("checking saved questions")
        for step in self._after:
            try:
                step(summary)
            except Exception:  # the articles are stored; a later step's failure is its own
                succeeded = False
                log.warning("after ingest: %s failed", getattr(step, "__name__", step),
                            exc_info=True)
        if self._journal is not None and succeeded:
            self._journal.done([*handed, *summary.changed])
        return summary

    def _ingest(self, sources: Sequence[str], prune_: bool, force: bool,
                on_total: Callable[[int], None] | None,
                on_advance: Callable[[], None] | None) -> IngestSummary:
        items, missing, skipped = discover(sources)
        if on_total:
            on_total(len(items))
        run = _Run(Ledger(self._store.articles()))
        run.record += [*map(outcomes.Failed, missing), *map(outcomes.SkippedFile, skipped)]
        done = read = 0
        try:
            for item in items:
                read = self._ingest_item(run, item, read)
                done += 1
                if on_advance:
                    on_advance()
            self._flush(run)
            origins, empty = prune.productive(
                list(dict.fromkeys(sources)), run.produced, outcomes.reported_sources(run.record))
            run.record += map(outcomes.Failed, empty)
            if prune_:
                self._prune(run, origins, force)
            self._update_derived(compact=True, run=run)
            if run.index_behind:
                run.record.append(outcomes.IndexBehind())
            for url in run.fully_loaded:  # only now, stored, may the next run skip it
                self._fetcher.commit(url)
        except KeyboardInterrupt:
            left = f"; {len(items) - done} sources not read" if done < len(items) else ""
            run.record.append(outcomes.Failed(Failure("(ingest)", f"interrupted (Ctrl-C){left}")))
            run.record += writing.settle(self._store, run.pending, "interrupted")
            raise Interrupted(outcomes.summarize(run.record)) from None
        except StoreError as exc:  # the store went away (or the disk filled): a re-run completes
            log.error("store failed during ingest: %s", exc)
            left = f"; {len(items) - done} sources not read" if done < len(items) else ""
            run.record.append(outcomes.Failed(Failure("(ingest)", f"stopped: {exc}{left}")))
            run.record += writing.settle(self._store, run.pending, "disk full" if isinstance(
                exc, DiskFullError) else "the store failed")
        return outcomes.summarize(run.record)

    def _ingest_item(self, run: _Run, item: SourceItem, read: int) -> int:
        """Read one source item (a file, folder entry or URL); returns articles read so far."""
        produced = failed = False
        for result in load(item, self._fetcher, self._settings):
            read += 1
            self._on_article(read)
            if isinstance(result, NotModified):
                run.record.append(outcomes.NotModified(result.location))
                run.protected_origins.add(item.origin)  # its articles are as stored
            elif isinstance(result, Partial):
                run.record.append(outcomes.PartialRead(Failure(result.location, result.reason)))
            elif isinstance(result, Failure):
                failed = True
                run.record.append(outcomes.Failed(result))
                log.info("cannot ingest %s: %s", result.source, result.reason)
            elif self._ingest_one(
                    run, result if item.is_url else replace(result, path=item.location)):
                produced = True
                run.produced[item.origin] += 1
            else:
                failed = True
        if failed or not produced:  # a bad read must not prune what we stored before
            if item.is_url:
                run.protected_origins.add(item.origin)
            else:
                run.protected_paths.add(item.location)
                run.ledger.seen.add(path_article_id(item))  # stored before paths were kept
        elif item.is_url:
            run.fully_loaded.append(item.location)
        return read

    def _ingest_one(self, run: _Run, article: Article) -> bool:
        """Queue, skip or report one article (False: it cannot be stored); whatever it does
        wrong beyond the store's own failures is its own failure, and the run goes on."""
        try:
            if self._shard is None or self._shard.holds(article.id):
                return self._consider(run, article)
            # Another worker's: read through the ledger all the same, so that every worker
            # agrees on originals and versions; its report dropped; never pruned here.
            try:
                return run.ledger.read(article, self._key(article)).ok
            finally:
                run.record.append(outcomes.OtherShard())
                run.ledger.seen.add(article.id)
        except (StoreError, KeyboardInterrupt):
            raise
        except Exception as exc:
            log.warning("%s: unexpected error", article.read_from, exc_info=True)
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            run.record.append(outcomes.Failed(Failure(
                article.read_from or article.id,
                f"not stored: unexpected {type(exc).__name__}: {first}")))
            return False

    def _key(self, article: Article) -> str:
        """The stored hash of an article's version: its content and how it is embedded."""
        return sha256(article.content_hash, self._fingerprint)

    def _consider(self, run: _Run, article: Article) -> bool:
        key = self._key(article)
        reading = run.ledger.read(article, key)
        run.record += reading.outcomes
        if reading.withdraws:  # its earlier version, if still queued, is not written
            run.pending = [p for p in run.pending if p.article.id != article.id]
        if not reading.new:
            return reading.ok
        existing = run.ledger.stored.get(article.id)
        if existing is not None and existing.is_complete(key):
            run.record.append(outcomes.Unchanged(article.id))
            run.counted.add(article.id)
            return True
        max_tokens = min(self._chunking.max_tokens or self._embedder.max_tokens,
                         self._embedder.max_tokens)  # never above the model's own limit
        chunks = chunk_article(article, self._embedder.count_tokens, max_tokens,
                               self._chunking.overlap_tokens)
        limit = self._settings.max_chunks_per_article
        if len(chunks) > limit:
            run.record.append(outcomes.Failed(Failure(article.read_from or article.id, (
                f"too long to store as one article ({len(chunks):,} chunks; the limit is "
                f"{limit:,}: raise [ingest] max_chunks_per_article, or set "
                "NEWSDESK_INGEST__MAX_CHUNKS_PER_ARTICLE)"))))
            run.ledger.forget_text(article)
            return False
        run.pending.append(Queued(article, key, chunks,
                                    "added" if existing is None else "updated",
                                    replaces=article.id in run.counted))
        if sum(len(p.chunks) for p in run.pending) >= self._settings.write_batch_chunks:
            self._flush(run)
        return True

    def _flush(self, run: _Run) -> None:
        if not run.pending:
            return
        self._writer.write(run.pending, run.record)  # counted once all are written
        run.counted.update(q.article.id for q in run.pending)
        run.pending = []
        self._update_derived(compact=False, run=run)

    def regroup(self) -> int:
        """Look for wire copies across the whole store again (a store made before they were
        grouped, or another threshold); a group's first copy is its earliest published
        article. Returns how many articles changed group. Needs the store to itself: with a
        server it takes an exclusive lease (StoreBusyError while any ingest holds one)."""
        with self._store.writing(exclusive=True):
            changes = writing.regroup(self._store)
            if changes:
                self._update_derived()
            log.info("regrouped wire copies: %d articles changed group", len(changes))
            return len(changes)

    def _update_derived(self, compact: bool = True, run: _Run | None = None) -> None:
        if self._derived:
            self._on_step("compacting the keyword index" if compact
                          else "updating the keyword index")
        for index in self._derived:
            try:
                index.catch_up(compact=compact)
            except Exception as exc:  # derived data: its next reader catches up from the log
                log.warning("could not update %s; it catches up when next read",
                            type(index).__name__, exc_info=True)
                if run is not None and is_disk_full(exc):
                    run.index_behind = True

    def _prune(self, run: _Run, origins: Sequence[str], force: bool) -> None:
        plan = prune.plan(
            run.ledger.stored, origins, seen=run.ledger.seen,
            protected_origins=run.protected_origins, protected_paths=run.protected_paths,
            holds=lambda article_id: self._shard is None or self._shard.holds(article_id),
            max_share=self._settings.max_prune_share, force=force)
        run.record += map(outcomes.Failed, plan.refused)
        if plan.gone:
            writing.delete(self._store, plan.gone)
        run.record.append(outcomes.Removed(len(plan.gone)))

