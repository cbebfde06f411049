"""The keyword (BM25) index: a Tantivy replica of the store kept current from its change log,
on whichever machine the bot runs; its design: docs/architecture.md, "The keyword index"."""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import math
import os
import shutil
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import tantivy
from filelock import FileLock

from config.errors import DiskFullError, StoreError, is_disk_full
from ingest.model.records import SearchFilter, StoredChunk, StoreVersion
from ingest.store.change_log import ChangeBatch, ChangeLogGapError, Cursor
from ingest.text.ids import sha256
from ingest.text.terms import analyze
from retrieval.records import Reprint

log = logging.getLogger(__name__)

FORMAT = 5  # bump when the schema or the analysis changes: every index is then rebuilt
_MAX_TERM = 200  # characters; longer "words" (encoded blobs) are not searchable text
_ADD_BATCH = 2000  # chunks read from the store per request during a rebuild or catch-up
_WRITER_HEAP = 64_000_000
_LARGE_CATCH_UP = 10_000  # chunks: after reading this many, hand the memory back


class ChangeFeed(Protocol):
    """What the index reads from the store (ChromaStore implements it)."""

    def version(self) -> StoreVersion: ...
    def start_cursor(self) -> Cursor: ...
    def changes_since(self, cursor: Cursor) -> ChangeBatch: ...
    def count(self) -> int: ...
    def get(self, ids: Sequence[str]) -> list[StoredChunk]: ...
    def iter_chunks(self, include_text: bool = True) -> Iterator[StoredChunk]: ...


@dataclass(frozen=True)
class SyncReport:
    """What the last catch-up did: nothing, apply `chunks` changed chunks, or rebuild."""

    kind: str  # "current" | "incremental" | "rebuild" | "compact" (a rebuild that purged deletes)
    chunks: int
    version: StoreVersion


@dataclass(frozen=True)
class ReplicaCheck:
    """What `KeywordIndex.check` found: chunk ids in the store but not the index (`missing`),
    in the index but not the store (`extra`), indexed from other text (`stale`), and whether
    the index files or their sync state could not be read (`unreadable`: rebuilt)."""

    chunks: int
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    unreadable: str = ""
    repaired: bool = False

    @property
    def damaged(self) -> bool:
        return bool(self.missing or self.extra or self.stale or self.unreadable)


@dataclass(frozen=True)
class _State:
    version: StoreVersion
    cursor: Cursor


def index_text(chunk: StoredChunk) -> str:
    """What a chunk is found by: its article's title and its text."""
    return f"{chunk.meta.title}\n{chunk.text}"


def digest(chunk: StoredChunk) -> str:
    """A hash of everything a chunk's index document is made from."""
    meta = chunk.meta
    return sha256(index_text(chunk), meta.source or "", meta.origin or "",
                  str(meta.published_epoch), meta.group, meta.author or "", meta.url or "")[:16]


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("chunk_id", stored=True, tokenizer_name="raw")
    builder.add_text_field("digest", stored=True, tokenizer_name="raw")
    builder.add_text_field("body", stored=False, tokenizer_name="whitespace",
                           index_option="freq")
    builder.add_text_field("source", stored=False, tokenizer_name="raw")
    builder.add_integer_field("published", stored=False, indexed=True, fast=True)
    # One term in every document: its document frequency counts deleted documents too, the
    # searcher's num_docs only live ones, so their difference is what a merge would purge.
    builder.add_text_field(_EVERY, stored=False, tokenizer_name="raw")
    # First chunks only: the article's wire story group, and its reprint line (JSON).
    builder.add_text_field("lead_group", stored=False, tokenizer_name="raw")
    builder.add_bytes_field("lead", stored=True)
    return builder.build()


_EVERY = "every"


SCHEMA = _schema()


class KeywordSnapshot:
    """The index as of one store version: BM25 search and the term statistics the extractive
    answerer weighs with. Holds one Tantivy searcher, so its answers are consistent."""

    def __init__(self, searcher: tantivy.Searcher, version: StoreVersion,
                 repair: Callable[[], KeywordSnapshot] | None = None) -> None:
        self._searcher = searcher
        self.version = version
        self._repair = repair  # rebuilds the index when reading it shows it damaged
        self._size = int(searcher.num_docs)
        self._idf: dict[str, float] = {}

    def __len__(self) -> int:
        return self._size

    def search(self, query: str, k: int, where: SearchFilter | None = None
               ) -> list[tuple[str, float]]:
        """Chunk ids and BM25 scores, best first; `where` filters exactly as the dense
        search does (ingest.store.chunks.chroma_where)."""
        terms = list(dict.fromkeys(t for t in analyze(query) if len(t) <= _MAX_TERM))
        if not terms or not self._size:
            return []
        text = tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, tantivy.Query.term_query(SCHEMA, "body", t, "freq"))
             for t in terms])
        clauses = [(tantivy.Occur.Must, text)]
        clauses += [(tantivy.Occur.Must, tantivy.Query.const_score_query(q, 0.0))
                    for q in _filter_queries(where)]
        query_obj = tantivy.Query.boolean_query(clauses) if len(clauses) > 1 else text
        try:
            hits = self._searcher.search(query_obj, limit=k, count=False).hits
            return [(str(self._searcher.doc(address)["chunk_id"][0]), float(score))
                    for score, address in hits]
        except BaseException as exc:
            return self._recover(exc).search(query, k, where)

    def reprints(self, groups: Sequence[str]) -> dict[str, list[Reprint]]:
        """Every stored copy of these wire story groups, by group: the group's own article
        first, then the copies marked as it, by article id. A story that ran once maps to its
        one article; a group not in the index is absent."""
        wanted = list(dict.fromkeys(groups))
        if not wanted or not self._size:
            return {}
        query = tantivy.Query.term_set_query(SCHEMA, "lead_group", wanted)
        try:
            found = self._searcher.search(query, limit=100 * len(wanted), count=True)
            hits = found.hits
            total = int(found.count or 0)  # type: ignore[attr-defined]  # not in the stub
            if total > len(hits):  # a story reprinted more than 100 times: read them all
                hits = self._searcher.search(query, limit=total, count=False).hits
            leads = [json.loads(bytes(self._searcher.doc(address)["lead"][0]))
                     for _, address in hits]
        except BaseException as exc:
            return self._recover(exc).reprints(groups)
        members: dict[str, list[Reprint]] = {}
        for group, article_id, source, author, url in leads:
            members.setdefault(group, []).append(Reprint(article_id, source, author, url))
        return {group: _own_first(group, copies) for group, copies in members.items()}

    def _recover(self, exc: BaseException) -> KeywordSnapshot:
        """The index rebuilt, when reading it failed on its files; anything else re-raised."""
        if not _tantivy_failure(exc) or self._repair is None:
            raise exc
        log.warning("keyword index damaged (%s: %s); rebuilding it", type(exc).__name__, exc)
        return self._repair()

    def _live_doc_freq(self, term: str) -> int:
        query = tantivy.Query.term_query(SCHEMA, "body", term)
        found = self._searcher.search(query, limit=1, count=True)
        return int(found.count or 0)  # type: ignore[attr-defined]  # not in tantivy's stub

    def ids(self) -> list[str]:
        """Every indexed chunk id (for checks and tests; reads every stored document)."""
        if not self._size:
            return []
        hits = self._searcher.search(tantivy.Query.all_query(), limit=self._size,
                                     count=False).hits
        return sorted(str(self._searcher.doc(a)["chunk_id"][0]) for _, a in hits)

    def terms(self, text: str) -> list[str]:
        return analyze(text)

    def idf(self, term: str) -> float:
        """BM25's inverse document frequency of a term (an unknown term counts as rarest),
        over live documents only: Tantivy's own doc_freq still counts deleted ones."""
        cached = self._idf.get(term)
        if cached is None:
            n = max(1, self._size)
            df = self._live_doc_freq(term) if len(term) <= _MAX_TERM else 0
            cached = (math.log(1 + n) if df == 0
                      else math.log(1 + (n - df + 0.5) / (df + 0.5)))
            if len(self._idf) < 100_000:
                self._idf[term] = cached
        return cached


def _own_first(group: str, copies: list[Reprint]) -> list[Reprint]:
    """A group's copies, the article it is named after first, then by article id."""
    return sorted(copies, key=lambda reprint: (reprint.article_id != group, reprint.article_id))


def _tantivy_failure(exc: BaseException) -> bool:
    """Whether Tantivy failed on its files: it raises ValueError or OSError, or panics (pyo3's
    PanicException derives from BaseException, so it is recognised by name)."""
    return isinstance(exc, ValueError | OSError) or type(exc).__name__ == "PanicException"


def _filter_queries(where: SearchFilter | None) -> list[tantivy.Query]:
    if where is None or where.empty:
        return []
    queries = []
    if where.sources:
        queries.append(tantivy.Query.term_set_query(SCHEMA, "source", list(where.sources)))
    since, until = where.epoch_bounds()
    if since is not None or until is not None:
        queries.append(tantivy.Query.range_query(SCHEMA, "published", tantivy.FieldType.Integer,
                                                 since, until))
    return queries


_ROOM = 1 << 20  # bytes free under which a failed index write is taken for a full disk


class KeywordIndex:
    """The keyword index of one store, under `directory` (None: in memory, rebuilt by each
    process — for a data directory this process cannot write)."""

    def __init__(self, directory: Path | None, store: ChangeFeed,
                 lock_timeout: float = 600.0) -> None:
        self._directory = directory
        self._store = store
        self._lock_timeout = lock_timeout
        self._thread_lock = threading.Lock()
        self._index: tantivy.Index | None = None
        self._snapshot: KeywordSnapshot | None = None
        self._memory_state: _State | None = None
        self._waiting = False  # log entries not final yet: look again even if nothing moved
        self.last_sync: SyncReport | None = None

    # -- readers ------------------------------------------------------------------------------

    def current(self, version: StoreVersion | None = None) -> KeywordSnapshot:
        """The index as of the store's version now (or `version`, just read by the caller):
        caught up first if the store moved."""
        version = version or self._store.version()
        snapshot = self._snapshot
        if snapshot is not None and snapshot.version == version and not self._waiting:
            return snapshot
        with self._thread_lock:
            if self._snapshot is None or self._snapshot.version != version or self._waiting:
                try:
                    self._sync(version)
                except Exception as exc:
                    if not self._full(exc):
                        raise
                    self._as_it_was(exc)
            if self._snapshot is None:
                raise StoreError(f"the keyword index at {self._directory} is not available")
            return self._snapshot

    def _full(self, exc: BaseException) -> bool:
        """Whether `exc` came of a full disk: said so, or (Tantivy's worker threads hide the
        cause: "A worker thread encountered an error") under 1 MiB free where the index is."""
        if is_disk_full(exc):
            return True
        if self._directory is None:
            return False
        try:
            return shutil.disk_usage(self._directory).free < _ROOM
        except OSError:
            return False

    def _as_it_was(self, exc: BaseException) -> None:
        """The disk is full: search the index as it was (the newest articles are missing from
        keyword search until space returns; every later read tries to catch up again), or, with
        nothing to search, a DiskFullError saying so in one line."""
        log.warning("disk full: the keyword index at %s cannot take the newest articles; "
                    "searching it as it was until space returns", self._directory)
        if self._snapshot is None:
            state = self._read_state()
            with contextlib.suppress(Exception):
                if state is not None:
                    self._publish(state.version)
        if self._snapshot is None:
            raise DiskFullError(f"disk full: the keyword index at {self._directory} cannot be "
                                "written; free some space and try again") from exc

    def latest(self) -> KeywordSnapshot:
        """The index as last brought up to date, without asking the store again: for the
        answerer, which reads right after the search that did (one version check a
        question, not two; the store is read over the network in server mode)."""
        return self._snapshot or self.current()

    def catch_up(self, compact: bool = True) -> SyncReport:
        """Bring the index up to the store's version now (ingest calls this after writing);
        `compact=False` leaves deleted documents in place for now (ingest, between batches:
        it compacts once at the end of its run)."""
        with self._thread_lock:
            return self._sync(self._store.version(), compact=compact)

    # -- checking -----------------------------------------------------------------------------

    def check(self, repair: bool = True) -> ReplicaCheck:
        """Catch up, then compare every indexed chunk (id and digest) with the store; with
        `repair`, re-index what differs (or rebuild an index whose files or sync state cannot
        be read). Writes landing meanwhile are caught up and compared again, not reported."""
        with self._thread_lock:
            try:
                if self._directory is None:
                    return self._check_locked(repair)
                self._directory.mkdir(parents=True, exist_ok=True)
                with FileLock(str(self._directory.with_name(self._directory.name + ".lock")),
                              timeout=self._lock_timeout):
                    return self._check_locked(repair)
            except Exception as exc:
                if not self._full(exc) or isinstance(exc, DiskFullError):
                    raise
                raise DiskFullError(f"disk full: the keyword index at {self._directory} "
                                    "cannot be checked or repaired; free some space and run "
                                    "`newsdesk doctor` again") from exc

    def _check_locked(self, repair: bool) -> ReplicaCheck:
        state_file = self._state_file()
        unreadable = ""
        if self._open() is None:
            unreadable = "its files cannot be opened"
        elif state_file is not None and state_file.exists() and self._read_state() is None:
            unreadable = "its sync state cannot be read"
        if unreadable:
            if not repair:
                return ReplicaCheck(0, unreadable=unreadable)
            self._discard()
            report = self._sync_locked(self._store.version(), force_rebuild=False, verify=False)
            return ReplicaCheck(report.chunks, unreadable=unreadable, repaired=True)
        self._sync_locked(self._store.version(), force_rebuild=False, verify=False)
        index = self._open()
        assert index is not None
        stored = {chunk.id: digest(chunk) for chunk in self._store.iter_chunks()}
        differing = _differences(stored, _indexed(index))
        if any(differing):
            # Perhaps written while we read: catch up, then look at those chunks again.
            self._sync_locked(self._store.version(), force_rebuild=False, verify=False)
            suspects = sorted(set().union(*differing))
            again = {chunk.id: digest(chunk) for chunk in self._store.get(suspects)}
            indexed = {k: v for k, v in _indexed(index).items() if k in set(suspects)}
            differing = _differences(again, indexed)
            stored.update(again)
        missing, extra, stale = differing
        found = ReplicaCheck(len(stored), sorted(missing), sorted(extra), sorted(stale))
        if repair and found.damaged:
            self._apply(index, sorted(missing | extra | stale))
            self._publish(self._snapshot.version if self._snapshot else self._store.version())
            return ReplicaCheck(found.chunks, found.missing, found.extra, found.stale,
                                repaired=True)
        return found

    # -- catching up --------------------------------------------------------------------------

    def _sync(self, version: StoreVersion, force_rebuild: bool = False,
              compact: bool = True) -> SyncReport:
        if self._directory is None:
            return self._sync_locked(version, force_rebuild, compact)
        self._directory.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self._directory.with_name(self._directory.name + ".lock")),
                      timeout=self._lock_timeout):
            return self._sync_locked(version, force_rebuild, compact)

    def _sync_locked(self, version: StoreVersion, force_rebuild: bool,
                     compact: bool = True, verify: bool = True) -> SyncReport:
        if force_rebuild:
            self._discard()
        state = self._read_state()
        index = self._open()
        if index is not None and state is not None and state.version.store == version.store \
                and state.version.head != version.head:
            # Perhaps another process caught up past the version we read before the lock.
            version = self._store.version()
        if index is None or state is None or state.version.store != version.store:
            report = self._rebuild(version)
        elif state.version.head == version.head and not state.cursor.waiting:
            report = SyncReport("current", 0, version)
        else:
            try:
                batch = self._store.changes_since(state.cursor)
            except ChangeLogGapError as exc:
                log.warning("keyword index: %s; rebuilding it", exc)
                report = self._rebuild(version)
            else:
                self._apply(index, sorted(batch.ids))
                self._write_state(_State(version, batch.cursor))
                report = SyncReport("incremental", len(batch.ids), version)
        if report.kind != "rebuild" and verify:
            # (`doctor` compares chunk by chunk itself, and reports what it finds.)
            report = self._checked(version, compact) or report
        try:
            self._publish(version)
        except BaseException as exc:
            if not _tantivy_failure(exc):
                raise
            log.warning("keyword index at %s is damaged (%s); rebuilding it",
                        self._directory, exc)
            self._discard()
            report = self._rebuild(version)
            self._publish(version)
        self.last_sync = report
        state = self._read_state()
        self._waiting = state is not None and state.cursor.waiting > 0
        if report.kind != "current":
            log.info("keyword index: %s, %d chunks, now at %s", report.kind, report.chunks,
                     version)
        if report.chunks >= _LARGE_CATCH_UP:
            _release_memory()
        return report

    def _rebuild(self, version: StoreVersion) -> SyncReport:
        """Index every chunk of the store as of `version` (changes committed while reading
        are re-applied by the next catch-up, which starts from `version`)."""
        index = self._open()
        if index is None:
            self._discard()
            index = self._open()
            if index is None:
                raise StoreError(f"cannot create the keyword index at {self._directory}")
        log.info("keyword index: building it from every chunk in the store")
        cursor = self._store.start_cursor()  # before reading: later writes are applied next
        writer = index.writer(heap_size=_WRITER_HEAP, num_threads=1)
        total = 0
        try:
            writer.delete_all_documents()
            for chunk in self._store.iter_chunks():
                writer.add_document(_document(chunk))
                total += 1
            writer.commit()
        finally:
            writer.wait_merging_threads()
        self._write_state(_State(version, cursor))
        return SyncReport("rebuild", total, version)

    def _checked(self, version: StoreVersion, compact: bool) -> SyncReport | None:
        """A rebuild when the index, caught up to `version`, does not hold exactly what the
        store does: another number of live documents than the store has chunks (unless the
        store moved meanwhile), or, with `compact`, deleted documents still counted in its
        statistics. None when it is fine as it is. Costs one count of the store."""
        index = self._open()
        if index is None:
            return None  # _publish finds it damaged and rebuilds
        try:
            index.reload()
            searcher = index.searcher()
            live = int(searcher.num_docs)
            deleted = int(searcher.doc_freq(_EVERY, "1")) - live
        except BaseException as exc:
            if not _tantivy_failure(exc):
                raise
            return None
        if compact and deleted > 0:
            log.info("keyword index: compacting away %d deleted documents", deleted)
            rebuilt = self._rebuild(version)
            return SyncReport("compact", rebuilt.chunks, version)
        chunks = self._store.count()
        if live != chunks and self._store.version() == version:
            log.warning("keyword index at %s holds %d documents, the store %d chunks; "
                        "rebuilding it", self._directory, live, chunks)
            return self._rebuild(version)
        return None

    def _apply(self, index: tantivy.Index, ids: list[str]) -> None:
        writer = index.writer(heap_size=_WRITER_HEAP, num_threads=1)
        try:
            for start in range(0, len(ids), _ADD_BATCH):
                batch = ids[start:start + _ADD_BATCH]
                present = self._store.get(batch)
                for chunk_id in batch:
                    writer.delete_documents_by_term("chunk_id", chunk_id)
                for chunk in present:
                    writer.add_document(_document(chunk))
            writer.commit()
        finally:
            writer.wait_merging_threads()

    def _publish(self, version: StoreVersion) -> None:
        index = self._open()
        if index is None:
            raise StoreError(f"the keyword index at {self._directory} cannot be opened")
        index.reload()
        self._snapshot = KeywordSnapshot(index.searcher(), version, self._repaired)

    def _repaired(self) -> KeywordSnapshot:
        """The index rebuilt after a search found it damaged (served once, without repair)."""
        with self._thread_lock:
            version = self._store.version()
            self._sync(version, force_rebuild=True)
            if self._snapshot is None:
                raise StoreError(f"the keyword index at {self._directory} cannot be rebuilt")
            return KeywordSnapshot(self._snapshot._searcher, version)

    # -- files --------------------------------------------------------------------------------

    def _open(self) -> tantivy.Index | None:
        """The Tantivy index (created if absent), or None if what is there is damaged."""
        if self._index is not None:
            return self._index
        try:
            if self._directory is None:
                self._index = tantivy.Index(SCHEMA)
            else:
                self._directory.mkdir(parents=True, exist_ok=True)
                self._index = tantivy.Index(SCHEMA, path=str(self._directory), reuse=True)
        except BaseException as exc:
            if not _tantivy_failure(exc):
                raise
            log.warning("keyword index at %s is damaged (%s); rebuilding it",
                        self._directory, exc)
            return None
        return self._index

    def _discard(self) -> None:
        self._index = None
        self._snapshot = None
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
        self._memory_state = None

    def _state_file(self) -> Path | None:
        return None if self._directory is None else self._directory / "sync.json"

    def _read_state(self) -> _State | None:
        state_file = self._state_file()
        if state_file is None:
            return self._memory_state
        try:
            state = json.loads(state_file.read_text())
            if state.get("format") != FORMAT:
                return None
            return _State(StoreVersion(str(state["store"]), str(state["head"])),
                          Cursor.from_json(state["cursor"]))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # absent or unreadable: rebuilt

    def _write_state(self, state: _State) -> None:
        state_file = self._state_file()
        if state_file is None:
            self._memory_state = state
            return
        # Written only after the index commit, and swapped in whole: the recorded position is
        # never ahead of what the index holds.
        tmp = state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"format": FORMAT, "store": state.version.store,
                                   "head": state.version.head,
                                   "cursor": state.cursor.to_json()}))
        os.replace(tmp, state_file)


def _indexed(index: tantivy.Index) -> dict[str, str]:
    """Every indexed chunk id and its digest (a chunk indexed twice gets no digest)."""
    index.reload()
    searcher = index.searcher()
    size = int(searcher.num_docs)
    found: dict[str, str] = {}
    if not size:
        return found
    for _, address in searcher.search(tantivy.Query.all_query(), limit=size, count=False).hits:
        document = searcher.doc(address)
        chunk_id = str(document["chunk_id"][0])
        digests = document.get_all("digest")
        found[chunk_id] = "" if chunk_id in found or not digests else str(digests[0])
    return found


def _differences(stored: dict[str, str], indexed: dict[str, str]
                 ) -> tuple[set[str], set[str], set[str]]:
    """(missing from the index, extra in it, indexed from other text)."""
    missing = stored.keys() - indexed.keys()
    extra = indexed.keys() - stored.keys()
    stale = {k for k in stored.keys() & indexed.keys() if stored[k] != indexed[k]}
    return set(missing), set(extra), stale


def _release_memory() -> None:
    """Give back to the system the memory a large catch-up used: glibc keeps freed heap for
    reuse, and a bot that caught up on a million chunks once should not hold it for good."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _document(chunk: StoredChunk) -> tantivy.Document:
    terms = " ".join(t for t in analyze(index_text(chunk)) if len(t) <= _MAX_TERM)
    document = tantivy.Document(chunk_id=chunk.id, digest=digest(chunk), body=terms)
    document.add_text(_EVERY, "1")
    # Filters name a source or an origin (a folder, a feed): the field holds both.
    for name in dict.fromkeys(n for n in (chunk.meta.source, chunk.meta.origin) if n):
        document.add_text("source", name)
    if chunk.meta.calendar_epoch is not None:  # the article's own calendar day, as filtered
        document.add_integer("published", chunk.meta.calendar_epoch)
    meta = chunk.meta
    if meta.chunk_index == 0:
        document.add_text("lead_group", meta.group)
        document.add_bytes("lead", json.dumps(
            [meta.group, meta.article_id, meta.source, meta.author, meta.url]).encode())
    return document
