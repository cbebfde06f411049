"""The ingest pipeline: load → dedupe → chunk → embed → upsert → prune, incremental and resumable.

Crash safety without transactions: every chunk carries its article's version hash and chunk
count, chunk ids are deterministic (`article_id#n`), and an article counts as stored only when
all chunks of exactly one version are present. A run killed at any point leaves articles that
are either complete (skipped next time) or incomplete (re-embedded and upserted over, then the
other versions' chunks deleted), so a re-run converges to the same collection.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

import numpy as np

from config.errors import DiskFullError, StoreError, is_disk_full
from config.settings import ChunkingSettings, IngestSettings
from ingest.embed.embedder import Embedder
from ingest.model.records import Article, Chunk, ChunkMeta, Failure, IngestSummary
from ingest.model.versions import ArticleVersion, replaced_version, stored_version
from ingest.run.chunking import chunk_article
from ingest.run.shards import Shard
from ingest.sources.loaders import (
    Fetcher,
    NotModified,
    Partial,
    SourceItem,
    discover,
    is_url,
    load,
    path_article_id,
    source_origin,
)
from ingest.store.change_journal import ChangeJournal
from ingest.store.chroma import StoredArticle, StoredChunk
from ingest.text.ids import chunk_id, sha256
from ingest.text.near_duplicates import Lead, copy_group

log = logging.getLogger(__name__)

# Chunks embedded per step of a write batch: progress is said between steps.
EMBED_STEP = 64

# Bump when chunking changes in a way that should re-embed everything.
CHUNKER_VERSION = "1"
# Wire copies: the stored first chunks compared with each new one (the nearest by embedding).
COPY_CANDIDATES = 3


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


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped an ingest; `summary` says what was stored before it."""

    def __init__(self, summary: IngestSummary) -> None:
        super().__init__("interrupted")
        self.summary = summary


class DerivedIndex(Protocol):
    """An index kept in step with the store (the keyword index): ingest brings it up to date
    after each batch it writes, so the first question after an ingest finds it current, and
    asks it to compact (make its statistics exact again) once, at the end of the run."""

    def catch_up(self, compact: bool = True) -> object: ...


@dataclass
class _Pending:
    article: Article
    stored_hash: str
    chunks: list[Chunk]
    is_update: bool  # the article was stored before this run
    replaces: bool = False  # another version was written earlier in this run


@dataclass(frozen=True, slots=True)
class _Version:
    """One version of an article as read (or as stored), with what orders it in time: its
    own revision dates, then when the file it came from last changed."""

    where: str  # the file (or URL) it was read from
    key: str  # the version's stored hash (content and how it is embedded)
    published: datetime | None
    updated: datetime | None
    mtime_ns: int | None
    stored: bool = False  # the stored version (read in an earlier run from `where`)

    @classmethod
    def of(cls, article: Article, key: str) -> _Version:
        return cls(article.path or article.origin, key, article.published, article.updated,
                   _mtime_ns(article.path))

    @property
    def revised(self) -> float | None:
        when = self.updated or self.published
        return when.timestamp() if when is not None else None


@dataclass
class _Run:
    stored: dict[str, StoredArticle]
    summary: IngestSummary = field(default_factory=IngestSummary)
    seen: set[str] = field(default_factory=set)
    # Articles per named source (by origin), counting unchanged and duplicate ones.
    produced: Counter[str] = field(default_factory=Counter)
    # Sources (URL origins) and files (paths) that failed in part: prune leaves them alone.
    protected_origins: set[str] = field(default_factory=set)
    protected_paths: set[str] = field(default_factory=set)
    # (text hash, outlet) → the article holding that text: an outlet's second copy of a text
    # is its duplicate; another outlet's is stored, as a wire copy of the same story.
    by_text: dict[tuple[str, str], str] = field(default_factory=dict)
    by_hash: dict[str, list[str]] = field(default_factory=dict)  # text hash → its articles
    path_of: dict[str, str] = field(default_factory=dict)  # file read for an id in this run
    pending: list[_Pending] = field(default_factory=list)
    pending_chunks: int = 0
    read: int = 0  # articles (and failed items) read from the sources so far
    # The version of each article id this run keeps, and how it was counted.
    versions: dict[str, _Version] = field(default_factory=dict)
    counted: dict[str, str] = field(default_factory=dict)  # "unchanged" | "added" | "updated"
    fully_loaded: list[str] = field(default_factory=list)  # URLs whose every item loaded
    derived_full: bool = False  # the keyword index could not be written: the disk is full


class Ingestor:
    def __init__(
        self,
        store: ChunkWriter,
        embedder: Embedder,
        fetcher: Fetcher,
        *,
        chunking: ChunkingSettings,
        settings: IngestSettings,
        derived: Sequence[DerivedIndex] = (),
        after: Sequence[Callable[[IngestSummary], None]] = (),
        journal: ChangeJournal | None = None,
    ) -> None:
        self._store = store
        self._derived = derived
        self._after = after  # run once a run's writes are done (saved-question checks)
        self._journal = journal  # what `after` has yet to see, kept across interrupted runs
        self._embedder = embedder
        self._fetcher = fetcher
        self._configured_max_tokens = chunking.max_tokens
        self._overlap = chunking.overlap_tokens
        self._settings = settings
        self._on_article: Callable[[int], None] | None = None
        self._on_step: Callable[[str], None] = lambda step: None
        self._shard: Shard | None = None
        # Part of every stored version hash: changing the model or chunking re-embeds.
        self._fingerprint = sha256(
            embedder.name, str(chunking.max_tokens), str(chunking.overlap_tokens),
            CHUNKER_VERSION,
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
        force: bool = False,
        on_total: Callable[[int], None] | None = None,
        on_advance: Callable[[], None] | None = None,
        on_article: Callable[[int], None] | None = None,
        on_step: Callable[[str], None] | None = None,
        shard: Shard | None = None,
    ) -> IngestSummary:
        """Ingest `sources`; with `prune`, also remove stored articles that came from these
        sources and are gone from them. Other sources' articles are never touched, a source
        that yields nothing prunes nothing, and a prune that would remove more than
        `max_prune_share` of a source's articles is refused unless `force`.

        `on_total` gets the number of sources, `on_advance` is called after each, and
        `on_article` with the number of articles read so far (progress inside a large file),
        and `on_step` with what the run is doing while no source advances ("embedding 128/512
        chunks", "writing 512 chunks", "updating the keyword index", "checking saved
        questions"): the work that takes the time.
        With `shard`, only the articles of that shard are stored (and pruned): see
        ingest/run/shards.py. Ctrl-C raises Interrupted, carrying the summary of what was stored
        until then."""
        self._on_article = on_article
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

    def _ingest(
        self,
        sources: Sequence[str],
        prune: bool,
        force: bool,
        on_total: Callable[[int], None] | None,
        on_advance: Callable[[], None] | None,
    ) -> IngestSummary:
        items, missing, skipped = discover(sources)
        if on_total:
            on_total(len(items))
        run = _Run(stored=self._store.articles())
        run.summary.failed.extend(missing)
        run.summary.skipped.extend(skipped)
        run.by_text = {
            (entry.text_hash, entry.source): article_id
            for article_id, entry in run.stored.items()
            if entry.text_hash
        }
        for (text_hash, _), article_id in run.by_text.items():
            run.by_hash.setdefault(text_hash, []).append(article_id)
        done = 0
        try:
            for item in items:
                self._ingest_item(run, item)
                done += 1
                if on_advance:
                    on_advance()
            self._flush(run)
            productive = self._report_empty_sources(run, list(dict.fromkeys(sources)))
            if prune:
                self._prune(run, productive, force)
            self._update_derived(compact=True, run=run)
            self._report_derived(run)
            for url in run.fully_loaded:
                # Only now, with the articles stored, may the next run skip an unchanged URL.
                self._fetcher.commit(url)
        except KeyboardInterrupt:
            left = f"; {len(items) - done} sources not read" if done < len(items) else ""
            run.summary.failed.append(Failure("(ingest)", f"interrupted (Ctrl-C){left}"))
            self._settle(run, "interrupted")
            raise Interrupted(run.summary) from None
        except StoreError as exc:
            # The store went away (or the disk filled) mid-run: everything written so far is
            # consistent, and a re-run completes the rest. Said once, in full; then exactly
            # which of the articles being written made it.
            log.error("store failed during ingest: %s", exc)
            left = f"; {len(items) - done} sources not read" if done < len(items) else ""
            run.summary.failed.append(Failure("(ingest)", f"stopped: {exc}{left}"))
            self._settle(run, "disk full" if isinstance(exc, DiskFullError) else
                         "the store failed")
        return run.summary

    def _settle(self, run: _Run, why: str) -> None:
        """After a failed write, count the queued articles the store holds completely after
        all (a batch is several writes) and report the others as not stored."""
        try:
            now = self._store.articles()
        except StoreError:
            now = {}
            why += "; could not check the store afterwards"
        for pending in run.pending:
            held = now.get(pending.article.id)
            if held is not None and held.is_complete(pending.stored_hash):
                if pending.is_update:
                    run.summary.updated += 1
                else:
                    run.summary.added += 1
                run.summary.changed[pending.article.id] = (
                    "updated" if pending.is_update else "added")
                run.summary.chunks += len(pending.chunks)
            else:
                run.summary.failed.append(Failure(
                    pending.article.id, f"not stored, or only in part ({why}; run again)"))
        run.pending.clear()

    def _ingest_item(self, run: _Run, item: SourceItem) -> None:
        produced = failed = False
        for result in load(item, self._fetcher, self._settings):
            run.read += 1
            if self._on_article is not None:
                self._on_article(run.read)
            if isinstance(result, NotModified):
                run.summary.not_modified.append(result.source)
                run.protected_origins.add(item.origin)  # its articles are as stored
            elif isinstance(result, Partial):
                run.summary.partial.append(Failure(result.source, result.reason))
            elif isinstance(result, Failure):
                failed = True
                run.summary.failed.append(result)
                log.info("cannot ingest %s: %s", result.source, result.reason)
            elif self._ingest_one(
                    run, result if item.is_url else replace(result, path=item.location)):
                produced = True
                run.produced[item.origin] += 1
            else:
                failed = True
        if failed or not produced:
            # A file or feed that failed in part may hold articles we stored before: a bad
            # read must not prune them.
            if item.is_url:
                run.protected_origins.add(item.origin)
            else:
                run.protected_paths.add(item.location)
                run.seen.add(path_article_id(item))  # stored before paths were recorded
        elif item.is_url:
            run.fully_loaded.append(item.location)

    def _ingest_one(self, run: _Run, article: Article) -> bool:
        """`_ingest_article`, with whatever one article does wrong (beyond the store's own
        failures) reported as that article's failure: the run goes on."""
        try:
            return self._ingest_article(run, article)
        except (StoreError, KeyboardInterrupt):
            raise
        except Exception as exc:
            log.warning("%s: unexpected error", article.read_from, exc_info=True)
            first = (str(exc).strip().splitlines() or [""])[0][:200]
            run.summary.failed.append(Failure(
                article.read_from or article.id,
                f"not stored: unexpected {type(exc).__name__}: {first}"))
            return False

    def _ingest_article(self, run: _Run, article: Article) -> bool:
        """Queue, skip or report one article; False when it cannot be stored."""
        if self._shard is None or self._shard.holds(article.id):
            return self._consider(run, article, store=True)
        # Another worker's article. It is still read through every rule here, with what they
        # report thrown away, so that all workers (reading the same sources in the same
        # order) agree on which of two identical texts is the original and which version of
        # an article is kept; and it is marked seen, so it is never pruned here.
        reported, run.summary = run.summary, IngestSummary()
        try:
            return self._consider(run, article, store=False)
        finally:
            run.summary = reported
            run.summary.other_shards += 1
            run.seen.add(article.id)

    def _consider(self, run: _Run, article: Article, *, store: bool) -> bool:
        other = _other_file_with_id(run, article)
        if other is not None:
            run.summary.failed.append(Failure(article.path, (
                f"its id {article.id!r} is already used by {other}, so it was not stored "
                "(file ids are paths relative to the folder ingested: ingest a folder that "
                "holds both, or give the articles URLs)")))
            return False
        if article.path:
            run.path_of.setdefault(article.id, article.path)
        stored_hash = sha256(article.content_hash, self._fingerprint)
        kept = run.versions.get(article.id) or _stored_elsewhere(run, article)
        if kept is not None and kept.key != stored_hash:
            verdict = _another_version(run, article, _Version.of(article, stored_hash), kept)
            if verdict is not None:
                return verdict  # the kept version stays
        elif kept is not None and not kept.stored:
            return True  # the same article twice in one run (e.g. a file and a feed entry)
        if article.id in run.seen and (kept is None or not kept.stored):
            return True  # a duplicate's original, or a file that failed (see _ingest_item)
        run.seen.add(article.id)
        run.versions[article.id] = _Version.of(article, stored_hash)
        text_key = (article.text_hash, article.source or "")
        original = run.by_text.get(text_key) or _same_file(run, article)
        if original is not None and original != article.id:
            run.summary.duplicates.append({"id": article.id, "duplicate_of": original})
            # The stored copy stands for this one: pruning it would lose the text.
            run.seen.add(original)
            return True
        run.by_text[text_key] = article.id
        run.by_hash.setdefault(article.text_hash, []).append(article.id)
        if not store:
            return True
        existing = run.stored.get(article.id)
        if existing is not None and existing.is_complete(stored_hash):
            run.summary.unchanged += 1
            run.counted[article.id] = "unchanged"
            return True
        chunks = chunk_article(
            article, self._embedder.count_tokens, self._max_tokens, self._overlap
        )
        limit = self._settings.max_chunks_per_article
        if len(chunks) > limit:
            run.summary.failed.append(Failure(article.read_from or article.id, (
                f"too long to store as one article ({len(chunks):,} chunks; the limit is "
                f"{limit:,}: raise [ingest] max_chunks_per_article, or set "
                "NEWSDESK_INGEST__MAX_CHUNKS_PER_ARTICLE)")))
            run.by_text.pop(text_key, None)  # no stored copy stands for its text
            return False
        run.pending.append(_Pending(article, stored_hash, chunks, existing is not None,
                                    replaces=article.id in run.counted))
        run.pending_chunks += len(chunks)
        if run.pending_chunks >= self._settings.write_batch_chunks:
            self._flush(run)
        return True

    def _flush(self, run: _Run) -> None:
        if not run.pending:
            return
        chunks = [c for p in run.pending for c in p.chunks]
        metas = [
            ChunkMeta.of(p.article, c, p.stored_hash, len(p.chunks))
            for p in run.pending for c in p.chunks
        ]
        vectors = self._embed([c.embed_text for c in chunks], len(run.pending))
        copies = self._wire_copies(run.pending, chunks, vectors)
        if copies:
            metas = [replace(m, copy_of=copies.get(m.article_id)) for m in metas]
            run.summary.wire_copies.extend(
                {"id": article_id, "copy_of": group} for article_id, group in copies.items())
        self._keep_replaced(run.pending)
        if self._after and self._journal is not None:  # before the store: see change_journal
            self._journal.add({p.article.id: "updated" if p.is_update else "added"
                               for p in run.pending})
        self._on_step(f"writing {len(chunks):,} chunks")
        self._store.upsert(chunks, vectors, metas)
        for pending in run.pending:
            if pending.is_update or pending.replaces:
                self._store.delete_stale(pending.article.id, pending.stored_hash)
        if copies:
            self._name_groups_by_first_copy(
                copies, {m.article_id: m for m in metas if m.chunk_index == 0}, run)
        for pending in run.pending:  # counted once all are written (else see _settle)
            if pending.is_update:
                run.summary.updated += 1
            else:
                run.summary.added += 1
            run.counted[pending.article.id] = "updated" if pending.is_update else "added"
            run.summary.changed[pending.article.id] = run.counted[pending.article.id]
        run.summary.chunks += len(chunks)
        log.info("wrote %d chunks of %d articles", len(chunks), len(run.pending))
        run.pending.clear()
        run.pending_chunks = 0
        self._update_derived(compact=False, run=run)

    def _embed(self, texts: Sequence[str], articles: int) -> np.ndarray:
        """The texts' vectors, embedded in steps of EMBED_STEP so that progress is said as it
        happens (a batch of 512 chunks is minutes on a small CPU)."""
        parts = []
        for start in range(0, len(texts), EMBED_STEP):
            self._on_step(f"embedding {start:,}/{len(texts):,} chunks of {articles:,} articles")
            parts.append(self._embedder.embed(texts[start:start + EMBED_STEP]))
        return np.concatenate(parts) if parts else self._embedder.embed([])

    def _keep_replaced(self, pending: Sequence[_Pending]) -> None:
        """Keep the stored version of every article this batch changes (its headline or
        text), before its chunks are written over: at most `keep_versions` per article, as
        records that are never searched (ingest/model/versions.py)."""
        keep = self._settings.keep_versions
        changing = [p.article for p in pending if p.is_update or p.replaces]
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

    def _wire_copies(self, pending: Sequence[_Pending], chunks: Sequence[Chunk],
                     vectors: np.ndarray) -> dict[str, str]:
        """Which of the pending articles are copies of a wire story already stored or
        earlier in this batch (article id → the story's group id). Candidates are the
        nearest stored first chunks by embedding (one query for the batch, cosines
        included) and the nearest of the batch's earlier first chunks; `copy_group`
        decides."""
        first = {c.article_id: n for n, c in enumerate(chunks) if c.index == 0}
        order = [p for p in pending if p.article.id in first]
        if not order:
            return {}
        leads = np.asarray([vectors[first[p.article.id]] for p in order])
        neighbours = self._store.nearest_leads(leads, COPY_CANDIDATES)
        copies: dict[str, str] = {}
        batch: list[tuple[Lead, np.ndarray]] = []
        for p, vector, found in zip(order, leads, neighbours, strict=True):
            lead = Lead(p.article.id, p.article.id, chunks[first[p.article.id]].text,
                        p.article.published, p.article.title)
            stored = [(_lead_of(c), cosine) for c, cosine in found]
            # Earlier articles of this batch are not in the store yet: their nearest too.
            earlier = sorted(((other, float(vector @ v)) for other, v in batch),
                             key=lambda candidate: -candidate[1])[:COPY_CANDIDATES]
            group = copy_group(lead, [*stored, *earlier])
            if group is not None:
                copies[p.article.id] = group
                lead = replace(lead, group=group)
            batch.append((lead, vector))
        return copies

    def _name_groups_by_first_copy(self, copies: dict[str, str], leads: dict[str, ChunkMeta],
                                   run: _Run) -> None:
        """A wire story is named after its earliest published copy, as `regroup` and prune
        name it, whatever order the copies are read in: when this batch brought a copy
        published before the article its story is named after, the story is renamed to it
        (every member re-written; the report says so)."""
        joined: dict[str, list[str]] = {}
        for article_id, group in copies.items():
            joined.setdefault(group, []).append(article_id)
        named = {c.meta.article_id: c.meta for c in self._store.get(
            [chunk_id(group, 0) for group in joined])}
        renames: dict[str, str] = {}
        for group, members in joined.items():
            earliest = min((leads[a] for a in members if a in leads), key=_first_copy_order,
                           default=None)
            current = named.get(group)
            if earliest is not None and current is not None and (
                    _first_copy_order(earliest) < _first_copy_order(current)):
                renames[group] = earliest.article_id
        if not renames:
            return
        self._store.set_copy_of(_renamed_groups(
            renames, self._store.marked_copies_of(list(renames))))
        reported = [{"id": entry["id"], "copy_of": renames.get(entry["copy_of"], entry["copy_of"])}
                    for entry in run.summary.wire_copies]
        reported += [{"id": group, "copy_of": first} for group, first in renames.items()]
        run.summary.wire_copies[:] = [entry for entry in reported
                                      if entry["id"] != entry["copy_of"]]
        log.info("%d wire stories renamed after an earlier copy", len(renames))

    def regroup(self) -> int:
        """Look for wire copies across the whole store again (a store made before they were
        grouped, or another threshold): every article's first chunk against its nearest
        stored ones. A group's first copy is its earliest published article. Returns how many
        articles changed group. Needs the store to itself: with a server it takes an exclusive
        lease, and fails (StoreBusyError) while any ingest holds one."""
        with self._store.writing(exclusive=True):
            leads = self._store.leads()
            self._store.sync_leads(leads)  # the lookup below reads them: repaired first
            order = sorted(leads, key=lambda lead: _first_copy_order(lead[0].meta))
            rank = {lead.meta.article_id: n for n, (lead, _) in enumerate(order)}
            parent = list(range(len(order)))

            def root(n: int) -> int:
                while parent[n] != n:
                    parent[n] = parent[parent[n]]
                    n = parent[n]
                return n

            for start in range(0, len(order), 256):
                batch = order[start:start + 256]
                found = self._store.nearest_leads(np.asarray([v for _, v in batch]),
                                                  COPY_CANDIDATES + 1)
                for (lead, _), neighbours in zip(batch, found, strict=True):
                    me = rank[lead.meta.article_id]
                    # Compared with earlier articles only: the first copy stays the original.
                    earlier = [(replace(_lead_of(c), group=c.meta.article_id), cosine)
                               for c, cosine in neighbours
                               if rank.get(c.meta.article_id, me) < me]
                    match = copy_group(replace(_lead_of(lead), group=lead.meta.article_id),
                                       earlier)
                    if match is not None:
                        # The earlier root stays the root: a group is known by its first copy.
                        a, b = root(me), root(rank[match])
                        parent[max(a, b)] = min(a, b)
            changes: dict[str, str | None] = {}
            for n, (lead, _) in enumerate(order):
                first = order[root(n)][0].meta.article_id
                group = None if root(n) == n else first
                if group != lead.meta.copy_of:
                    changes[lead.meta.article_id] = group
            if changes:
                self._store.set_copy_of(changes)
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
                    run.derived_full = True

    def _report_derived(self, run: _Run) -> None:
        """Said once a run: what the full disk kept out of the keyword index."""
        if run.derived_full:
            written = run.summary.added + run.summary.updated
            run.summary.failed.append(Failure("(keyword index)", (
                f"disk full: {written} articles stored but not yet searchable by keywords; "
                "they are indexed when space returns (at the next question or ingest)")))

    def _report_empty_sources(self, run: _Run, named: Sequence[str]) -> list[str]:
        """Report each named source that yielded no article; return the origins that did."""
        productive = []
        # A source that failed or answered "not modified" has said so already.
        reported = {f.source for f in run.summary.failed} | set(run.summary.not_modified)
        for source in named:
            origin = source_origin(source)
            if run.produced[origin] > 0:
                productive.append(origin)
            elif not reported & {source, origin}:
                run.summary.failed.append(Failure(source, f"no articles found in {source}"))
        return productive

    def _prune(self, run: _Run, origins: Sequence[str], force: bool) -> None:
        gone: list[str] = []
        for origin in origins:
            if origin in run.protected_origins:
                continue
            scoped = [article_id for article_id, entry in run.stored.items()
                      if _in_scope(entry, origin)
                      and (self._shard is None or self._shard.holds(article_id))]
            stale = [article_id for article_id in scoped
                     if article_id not in run.seen
                     and run.stored[article_id].path not in run.protected_paths]
            share = len(stale) / len(scoped) if scoped else 0.0
            if stale and share > self._settings.max_prune_share and not force:
                log.warning("not pruning %s: %d of %d articles would go", origin, len(stale),
                            len(scoped))
                run.summary.failed.append(Failure(origin, (
                    f"prune refused: it would remove {len(stale)} of the {len(scoped)} stored "
                    f"articles from this source (more than {self._settings.max_prune_share:.0%}); "
                    "run again with --force if they are really gone")))
                continue
            gone.extend(stale)
        gone = list(dict.fromkeys(gone))
        if gone:
            self._store.delete_articles(gone)
            self._rename_orphaned_groups(gone)
        run.summary.removed = len(gone)

    def _rename_orphaned_groups(self, gone: Sequence[str]) -> None:
        """A wire story whose first copy was pruned is known by its earliest remaining copy
        from now on (as `regroup` would name it), so that no stored article, and no copy
        found later, is grouped with an article the store no longer has."""
        marked = self._store.marked_copies_of(gone)
        renames = {group: min((m for m in marked if m.group == group),
                              key=_first_copy_order).article_id
                   for group in {meta.group for meta in marked}}
        if renames:
            self._store.set_copy_of({article_id: group for article_id, group
                                     in _renamed_groups(renames, marked).items()
                                     if article_id not in renames})  # those are gone
            log.info("pruned the first copy of %d wire stories; each is now known by its "
                     "earliest remaining copy", len(renames))


def _another_version(run: _Run, article: Article, version: _Version,
                     kept: _Version) -> bool | None:
    """`article` (read as `version`) has the id of a version this run keeps (or of the
    stored version, read from another file that is still there) and is another version of
    it. The newer one is the article: by its own `updated` date, else the later-changed file
    (a daily export correcting yesterday's). Returns None when `article` replaces the kept
    version (store it), True when it is older (kept; reported as superseded), False when
    neither is newer: two versions under one id in one run, reported with both places, the
    second not stored."""
    newer = _newer(kept, version)
    if newer is None and not kept.stored:
        run.summary.failed.append(Failure(version.where, (
            f"another version of {article.id!r} was read from {kept.where} in this run, "
            "and neither is the newer (no later `updated` date, not a later file), so "
            "this one was not stored: remove the wrong copy, or date the correction")))
        return False
    if newer is kept:
        run.summary.superseded.append({"id": article.id, "source": version.where,
                                       "newer": kept.where})
        run.seen.add(article.id)
        run.versions.setdefault(article.id, kept)
        return True
    if not kept.stored:  # a version read earlier in this run gives way
        run.summary.superseded.append({"id": article.id, "source": kept.where,
                                       "newer": version.where})
        queued = [p for p in run.pending if p.article.id == article.id]
        run.pending = [p for p in run.pending if p.article.id != article.id]
        run.pending_chunks -= sum(len(p.chunks) for p in queued)
        counted = run.counted.get(article.id)
        if counted is not None:
            setattr(run.summary, counted, getattr(run.summary, counted) - 1)
            run.summary.changed.pop(article.id, None)
    run.seen.discard(article.id)
    return None


def _stored_elsewhere(run: _Run, article: Article) -> _Version | None:
    """The stored version of a URL-identified article when it was read from another file
    that is still there (a file edited in place is simply its next version)."""
    stored = run.stored.get(article.id)
    if (stored is None or not article.url or not stored.path or stored.path == article.path
            or not os.path.exists(stored.path)):
        return None
    key = next(iter(stored.chunks_by_hash)) if len(stored.chunks_by_hash) == 1 else ""
    return _Version(stored.path, key, stored.published, stored.updated,
                    _mtime_ns(stored.path), stored=True)


def _newer(a: _Version, b: _Version) -> _Version | None:
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


def _mtime_ns(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns if path else None
    except OSError:
        return None


def _same_file(run: _Run, article: Article) -> str | None:
    """The article already holding this text from the very same file, read under another
    folder's name (a sub-folder ingested on its own): that is no other outlet's copy."""
    if not article.path:
        return None
    for article_id in run.by_hash.get(article.text_hash, ()):
        stored = run.stored.get(article_id)
        path = run.path_of.get(article_id) or (stored.path if stored is not None else "")
        if path == article.path:
            return article_id
    return None


def _other_file_with_id(run: _Run, article: Article) -> str | None:
    """Another file, still there, whose article has this file article's id: ids are paths
    relative to the folder ingested, so two folders can hold the same names. (An id that is
    the article's URL names one article wherever it is read: see _another_version.)"""
    if not article.path or article.url:
        return None
    other = run.path_of.get(article.id)
    if other is None:
        stored = run.stored.get(article.id)
        # A stored path that is gone means the folder moved: that is the same article.
        if stored is not None and stored.path and os.path.exists(stored.path):
            other = stored.path
    return other if other is not None and other != article.path else None


def _renamed_groups(renames: dict[str, str], marked: Sequence[ChunkMeta]
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


def _first_copy_order(meta: ChunkMeta) -> tuple[float, str]:
    """Which copy of a wire story names its group: the earliest published (undated last),
    then the smallest article id."""
    published = meta.published_epoch
    return (published if published is not None else float("inf"), meta.article_id)


def _in_scope(entry: StoredArticle, origin: str) -> bool:
    """Whether a stored article came from the named source `origin`: a URL's own entries, or
    for a file or folder, what was read from a file at or under it."""
    if is_url(origin):
        return entry.origin == origin
    # Articles stored before paths were recorded know only the folder they were ingested from.
    path = entry.path or entry.origin
    return path == origin or path.startswith(origin.rstrip(os.sep) + os.sep)


def _lead_of(chunk: StoredChunk) -> Lead:
    """A stored first chunk as compared for wire copies."""
    meta = chunk.meta
    return Lead(meta.article_id, meta.group, chunk.text, meta.published, meta.title)
