"""ChromaDB adapter: chunk records in, article bookkeeping and similarity search out.

Embeddings are always passed in (Chroma's default embedding function would download a model).
A `stamp` in the collection's metadata changes whenever the collection changes, so readers can
tell that derived indexes (BM25) are stale.
"""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ingest.errors import ConfigError, StoreError
from ingest.records import Article, Chunk

log = logging.getLogger(__name__)

CHROMA_MAX_BATCH = 5461
PAGE = 5000


@dataclass
class StoredArticle:
    """What the store holds for one article id, aggregated over its chunks."""

    article_id: str
    origin: str = ""
    text_hash: str = ""
    chunks_by_hash: Counter[str] = field(default_factory=Counter)
    expected_by_hash: dict[str, int] = field(default_factory=dict)

    def is_complete(self, content_hash: str) -> bool:
        """All chunks of exactly this version are present and nothing else is."""
        return (
            set(self.chunks_by_hash) == {content_hash}
            and self.chunks_by_hash[content_hash] == self.expected_by_hash.get(content_hash)
        )


@dataclass(frozen=True)
class StoredChunk:
    id: str
    text: str
    metadata: dict[str, Any]


def chunk_metadata(article: Article, chunk: Chunk, stored_hash: str, count: int) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "article_id": article.id,
        "chunk_index": chunk.index,
        "chunk_count": count,
        "start": chunk.start,
        "end": chunk.end,
        "content_hash": stored_hash,
        "text_hash": article.text_hash,
        "title": article.title,
        "header": chunk.header,
        "origin": article.origin,
        "url": article.url,
        "source": article.source,
        "author": article.author,
        "category": article.category,
    }
    if article.published is not None:
        meta["published"] = int(article.published.timestamp())
        meta["published_iso"] = article.published.astimezone(UTC).isoformat()
    # Chroma rejects None values; absent keys simply do not match a filter.
    return {k: v for k, v in meta.items() if v is not None and v != ""}


class ChromaStore:
    def __init__(self, client: Any, collection: str, model_name: str, location: str) -> None:
        self._client = client
        self.location = location
        self.model_name = model_name
        try:
            self._collection = client.get_or_create_collection(
                collection,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={"embedding_model": model_name, "stamp": uuid.uuid4().hex},
            )
        except Exception as exc:  # chromadb raises assorted types for a bad name or server
            raise StoreError(f"cannot open collection {collection!r} at {location}: {exc}") from exc
        stored_model = (self._collection.metadata or {}).get("embedding_model")
        if stored_model and stored_model != model_name:
            raise ConfigError(
                f"collection {collection!r} was built with embedding model {stored_model!r}, "
                f"not {model_name!r}; use another store.collection or the same model"
            )
        self.name = collection
        try:
            self.max_batch = int(client.get_max_batch_size())
        except Exception:
            self.max_batch = CHROMA_MAX_BATCH

    # -- bookkeeping ------------------------------------------------------------------------

    def stamp(self) -> str:
        collection = self._client.get_collection(self.name, embedding_function=None)
        return str((collection.metadata or {}).get("stamp", ""))

    def bump_stamp(self) -> None:
        metadata = dict(self._collection.metadata or {})
        metadata.pop("hnsw:space", None)
        metadata["stamp"] = uuid.uuid4().hex
        metadata["updated_at"] = datetime.now(UTC).isoformat()
        self._collection.modify(metadata=metadata)

    def count(self) -> int:
        return int(self._collection.count())

    def iter_chunks(self, include_text: bool = True) -> Iterator[StoredChunk]:
        include = ["metadatas", "documents"] if include_text else ["metadatas"]
        offset = 0
        while True:
            page = self._collection.get(include=include, limit=PAGE, offset=offset)
            ids = page["ids"]
            if not ids:
                return
            documents = page.get("documents") or [""] * len(ids)
            for chunk_id, text, meta in zip(ids, documents, page["metadatas"], strict=True):
                yield StoredChunk(chunk_id, text or "", dict(meta or {}))
            offset += len(ids)

    def articles(self) -> dict[str, StoredArticle]:
        stored: dict[str, StoredArticle] = {}
        for chunk in self.iter_chunks(include_text=False):
            meta = chunk.metadata
            article_id = str(meta.get("article_id", chunk.id.rsplit("#", 1)[0]))
            entry = stored.setdefault(article_id, StoredArticle(article_id))
            content_hash = str(meta.get("content_hash", ""))
            entry.chunks_by_hash[content_hash] += 1
            entry.expected_by_hash[content_hash] = int(meta.get("chunk_count", -1))
            entry.origin = str(meta.get("origin", entry.origin))
            entry.text_hash = str(meta.get("text_hash", entry.text_hash))
        return stored

    # -- writes -----------------------------------------------------------------------------

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray,
               metadatas: Sequence[dict[str, Any]]) -> None:
        for start in range(0, len(chunks), self.max_batch):
            end = start + self.max_batch
            self._collection.upsert(
                ids=[c.id for c in chunks[start:end]],
                embeddings=vectors[start:end],
                documents=[c.text for c in chunks[start:end]],
                metadatas=list(metadatas[start:end]),
            )

    def delete_stale(self, article_id: str, keep_hash: str) -> None:
        """Remove chunks of `article_id` that belong to any other version than `keep_hash`."""
        self._collection.delete(
            where={"$and": [{"article_id": article_id}, {"content_hash": {"$ne": keep_hash}}]}
        )

    def delete_articles(self, article_ids: Sequence[str]) -> None:
        ids = list(article_ids)
        for start in range(0, len(ids), 500):
            self._collection.delete(where={"article_id": {"$in": ids[start:start + 500]}})

    # -- reads ------------------------------------------------------------------------------

    def query(self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
              ) -> list[tuple[StoredChunk, float]]:
        result = self._collection.query(
            query_embeddings=[vector], n_results=k, where=where or None,
            include=["metadatas", "documents", "distances"],
        )
        hits: list[tuple[StoredChunk, float]] = []
        for chunk_id, text, meta, distance in zip(
            result["ids"][0], result["documents"][0], result["metadatas"][0],
            result["distances"][0], strict=True,
        ):
            hits.append((StoredChunk(chunk_id, text or "", dict(meta or {})), 1.0 - distance))
        return hits

    def get(self, ids: Sequence[str]) -> list[StoredChunk]:
        if not ids:
            return []
        page = self._collection.get(ids=list(ids), include=["metadatas", "documents"])
        found = {
            i: StoredChunk(i, d or "", dict(m or {}))
            for i, d, m in zip(page["ids"], page["documents"], page["metadatas"], strict=True)
        }
        return [found[i] for i in ids if i in found]

    def chunks_of(self, article_ids: Sequence[str]) -> list[StoredChunk]:
        """All chunks of the given articles, in article order then chunk order."""
        if not article_ids:
            return []
        page = self._collection.get(where={"article_id": {"$in": list(article_ids)}},
                                    include=["metadatas", "documents"])
        chunks = [StoredChunk(i, d or "", dict(m or {}))
                  for i, d, m in zip(page["ids"], page["documents"], page["metadatas"],
                                     strict=True)]
        order = {article_id: n for n, article_id in enumerate(article_ids)}
        return sorted(chunks, key=lambda c: (order.get(str(c.metadata.get("article_id")), 0),
                                             int(c.metadata.get("chunk_index", 0))))

    def stats(self) -> dict[str, Any]:
        articles: set[str] = set()
        sources: Counter[str] = Counter()
        dates: list[int] = []
        chunks = 0
        for chunk in self.iter_chunks(include_text=False):
            chunks += 1
            meta = chunk.metadata
            article_id = str(meta.get("article_id"))
            if article_id in articles:
                continue
            articles.add(article_id)
            sources[str(meta.get("source", "(none)"))] += 1
            if "published" in meta:
                dates.append(int(meta["published"]))
        return {
            "articles": len(articles),
            "chunks": chunks,
            "sources": dict(sorted(sources.items(), key=lambda kv: (-kv[1], kv[0]))),
            "published_from": _iso(min(dates)) if dates else None,
            "published_to": _iso(max(dates)) if dates else None,
            "store": self.location,
            "collection": self.name,
            "model": self.model_name,
        }


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).date().isoformat()
