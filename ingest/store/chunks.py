"""The chunks collection: chunk reads and raw writes, and the one mapping between ChunkMeta
(or a SearchFilter) and Chroma's flat metadata (or its `where` language)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import numpy as np

from ingest.model.records import Chunk, ChunkMeta, SearchFilter, StoredChunk, calendar_epoch
from ingest.store.guard import guarded
from ingest.text.ids import article_of

PAGE = 5000  # ids per paged read of a whole collection


def chroma_metadata(meta: ChunkMeta) -> dict[str, str | int | None]:
    """Flat metadata; dates as epoch seconds so that they can be range-filtered. Absent
    fields are None: Chroma's upsert keeps the keys it is not given (an update that drops
    an author or stops being a wire copy would keep the old value) and removes the ones
    given as None, so an absent field is stored as no key (and matches no filter).

    `published` is the publisher's wall-clock time read as UTC (`calendar_epoch`), so that
    day windows filter on the article's own calendar day, and `utc_offset` (seconds, absent
    for UTC) gives the moment back. A chunk stored before offsets were kept has only the
    UTC time, which is both."""
    values: dict[str, Any] = {**vars(meta)}
    values["published"] = calendar_epoch(meta.published)
    offset = meta.published.utcoffset() if meta.published is not None else None
    values["utc_offset"] = int(offset.total_seconds()) if offset else None
    values["updated"] = int(meta.updated.timestamp()) if meta.updated is not None else None
    return {k: None if v == "" else v for k, v in values.items()}


def meta_from_chroma(chunk_id: str, meta: Mapping[str, Any] | None) -> ChunkMeta:
    """The ChunkMeta of a chunk's stored metadata (missing keys: their defaults; the article
    id from the chunk id if absent)."""
    meta = meta or {}

    def text(key: str) -> str | None:
        value = meta.get(key)
        return None if value is None else str(value)

    return ChunkMeta(
        article_id=str(meta.get("article_id") or article_of(chunk_id)),
        chunk_index=int(meta.get("chunk_index", 0)),
        chunk_count=int(meta.get("chunk_count", -1)),
        content_hash=str(meta.get("content_hash", "")),
        text_hash=str(meta.get("text_hash", "")),
        title=str(meta.get("title", "")),
        header=str(meta.get("header", "")),
        origin=str(meta.get("origin", "")),
        path=str(meta.get("path", "")),
        url=text("url"), source=text("source"), author=text("author"),
        category=text("category"), copy_of=text("copy_of"),
        published=_from_calendar_epoch(meta.get("published"), meta.get("utc_offset")),
        updated=_from_epoch(meta.get("updated")),
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
    )


def chunk_from_chroma(chunk_id: str, text: str | None,
                      meta: Mapping[str, Any] | None) -> StoredChunk:
    """A chunk as Chroma returned it (a missing text reads as empty)."""
    return StoredChunk(chunk_id, text or "", meta_from_chroma(chunk_id, meta))


def chroma_where(where: SearchFilter | None) -> dict[str, Any] | None:
    """A SearchFilter in Chroma's `where` language (the same rule as SearchFilter.accepts)."""
    if where is None:
        return None
    clauses: list[dict[str, Any]] = []
    if where.sources:
        named = list(where.sources)
        clauses.append({"$or": [{"source": {"$in": named}}, {"origin": {"$in": named}}]})
    since, until = where.epoch_bounds()
    if since is not None:
        clauses.append({"published": {"$gte": since}})
    if until is not None:
        clauses.append({"published": {"$lte": until}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _from_epoch(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if isinstance(value, int | float) else None


def _from_calendar_epoch(value: Any, offset: Any) -> datetime | None:
    if not isinstance(value, int | float):
        return None
    seconds = int(offset) if isinstance(offset, int | float) else 0
    zone = timezone(timedelta(seconds=seconds)) if seconds else UTC
    return datetime.fromtimestamp(int(value) - seconds, tz=zone)


def _rows(page: Mapping[str, Any]) -> list[StoredChunk]:
    return [chunk_from_chroma(i, d, m)
            for i, d, m in zip(page["ids"], page["documents"], page["metadatas"], strict=True)]


class ChunkCollection:
    """The chunks (text, vector, ChunkMeta) of one Chroma collection. Writes here are raw:
    ChromaStore wraps them in change-log entries and keeps the leads beside them."""

    def __init__(self, collection: Any, location: str) -> None:
        self.collection = collection
        self._location = location

    def count(self) -> int:
        with guarded(self._location, "count chunks"):
            return int(self.collection.count())

    def query(self, vector: np.ndarray, k: int, where: SearchFilter | None
              ) -> list[tuple[StoredChunk, float]]:
        """The `k` nearest chunks `where` accepts, each with its cosine similarity."""
        with guarded(self._location, "search"):
            result = self.collection.query(
                query_embeddings=[vector], n_results=k, where=chroma_where(where),
                include=["metadatas", "documents", "distances"],
            )
        return [
            (chunk_from_chroma(chunk_id, text, meta), 1.0 - distance)
            for chunk_id, text, meta, distance in zip(
                result["ids"][0], result["documents"][0], result["metadatas"][0],
                result["distances"][0], strict=True)
        ]

    def get(self, ids: Sequence[str]) -> list[StoredChunk]:
        """These chunks, in the order asked; ids not stored are left out."""
        if not ids:
            return []
        with guarded(self._location, "read chunks"):
            page = self.collection.get(ids=list(ids), include=["metadatas", "documents"])
        found = {chunk.id: chunk for chunk in _rows(page)}
        return [found[i] for i in ids if i in found]

    def of_articles(self, article_ids: Sequence[str]) -> list[StoredChunk]:
        """All chunks of the given articles, in article order then chunk order."""
        if not article_ids:
            return []
        with guarded(self._location, "read chunks"):
            page = self.collection.get(where={"article_id": {"$in": list(article_ids)}},
                                       include=["metadatas", "documents"])
        order = {article_id: n for n, article_id in enumerate(article_ids)}
        return sorted(_rows(page), key=lambda c: (order.get(c.meta.article_id, 0),
                                                  c.meta.chunk_index))

    def with_vectors(self, article_ids: Sequence[str]) -> list[tuple[StoredChunk, np.ndarray]]:
        """All chunks of the given articles with their vectors, in no particular order."""
        with guarded(self._location, "read chunks"):
            page = self.collection.get(where={"article_id": {"$in": list(article_ids)}},
                                       include=["metadatas", "documents", "embeddings"])
        if not page["ids"]:
            return []
        return list(zip(_rows(page), np.asarray(page["embeddings"], dtype=np.float32),
                        strict=True))

    def iterate(self, include_text: bool = True) -> Iterator[StoredChunk]:
        """Every chunk, a page at a time (texts empty without `include_text`)."""
        include = ["metadatas", "documents"] if include_text else ["metadatas"]
        offset = 0
        while True:
            with guarded(self._location, "read chunks"):
                page = self.collection.get(include=include, limit=PAGE, offset=offset)
            ids = page["ids"]
            if not ids:
                return
            documents = page.get("documents") or [""] * len(ids)
            for stored_id, text, meta in zip(ids, documents, page["metadatas"], strict=True):
                yield chunk_from_chroma(stored_id, text, meta)
            offset += len(ids)

    def first_chunks(self, where: SearchFilter | None) -> list[tuple[StoredChunk, np.ndarray]]:
        """Every article's first chunk (of the articles `where` accepts), with its vector."""
        firsts: list[tuple[StoredChunk, np.ndarray]] = []
        offset = 0
        scope = chroma_where(where)
        query = {"chunk_index": 0} if scope is None else {"$and": [{"chunk_index": 0}, scope]}
        while True:
            with guarded(self._location, "read chunks"):
                page = self.collection.get(where=query, limit=PAGE, offset=offset,
                                           include=["metadatas", "documents", "embeddings"])
            if not page["ids"]:
                return firsts
            firsts.extend(zip(_rows(page),
                              (np.asarray(e, dtype=np.float32) for e in page["embeddings"]),
                              strict=True))
            offset += len(page["ids"])

    def first_chunk_ids(self) -> set[str]:
        """The ids of every article's first chunk."""
        firsts: set[str] = set()
        offset = 0
        while True:
            with guarded(self._location, "read first chunks"):
                page = self.collection.get(where={"chunk_index": 0}, include=[],
                                           limit=PAGE, offset=offset)
            if not page["ids"]:
                return firsts
            firsts.update(page["ids"])
            offset += len(page["ids"])

    def vectors_of(self, ids: Sequence[str]) -> list[tuple[StoredChunk, np.ndarray]]:
        """These chunks (metadata only, no text) with their vectors."""
        found: list[tuple[StoredChunk, np.ndarray]] = []
        for start in range(0, len(ids), PAGE):
            with guarded(self._location, "read first chunks"):
                page = self.collection.get(ids=list(ids[start:start + PAGE]),
                                           include=["metadatas", "embeddings"])
            found += [(chunk_from_chroma(i, "", m), np.asarray(e, dtype=np.float32))
                      for i, m, e in zip(page["ids"], page["metadatas"], page["embeddings"],
                                         strict=True)]
        return found

    def marked_copies_of(self, groups: Sequence[str]) -> list[ChunkMeta]:
        """The first chunk's metadata of every article marked as a copy of these groups."""
        if not groups:
            return []
        with guarded(self._location, "read chunks"):
            page = self.collection.get(
                where={"$and": [{"copy_of": {"$in": list(groups)}}, {"chunk_index": 0}]},
                include=["metadatas"])
        return [meta_from_chroma(i, m)
                for i, m in zip(page["ids"], page["metadatas"], strict=True)]

    def ids_where(self, where: dict[str, Any]) -> list[str]:
        with guarded(self._location, "find chunks to delete"):
            return list(self.collection.get(where=where, include=[])["ids"])

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray,
               metas: Sequence[ChunkMeta]) -> None:
        """Write one batch (at most the server's batch size)."""
        with guarded(self._location, "write chunks"):
            self.collection.upsert(
                ids=[c.id for c in chunks], embeddings=vectors,
                documents=[c.text for c in chunks],
                metadatas=[chroma_metadata(m) for m in metas],
            )

    def delete(self, ids: Sequence[str]) -> None:
        with guarded(self._location, "delete chunks"):
            self.collection.delete(ids=list(ids))
