"""Small fakes at the project's own interfaces, for tests that run in milliseconds: a
deterministic hashing embedder (Embedder), an in-memory store (the pipeline's ChunkWriter and
the searcher's ChunkReader), and LangChain's own fake chat model for the LLM path."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from ingest.model.records import (
    Chunk,
    ChunkMeta,
    SearchFilter,
    StoredArticle,
    StoredChunk,
    StoreVersion,
    stored_articles,
)
from ingest.model.versions import ArticleVersion, is_new_version, over_bound
from ingest.store.change_log import ChangeBatch, ChangeLogGapError, Cursor

_WORD = re.compile(r"\w+")


class HashingEmbedder:
    """Bag-of-words vectors by feature hashing: texts that share words are close."""

    name = "hashing-test-embedder"
    max_tokens = 64
    dimension = 256

    def __init__(self) -> None:
        self.embedded = 0  # texts embedded so far: "unchanged costs no embedding" is testable

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded += len(texts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
                vectors[row, int.from_bytes(digest, "little") % self.dimension] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(_WORD.findall(text)) for text in texts]


class Killed(BaseException):
    """Stands for SIGKILL: not an error the pipeline may catch."""


class MemoryStore:
    """The store in a dict, with a change log (one list of chunk ids per write, in order: a
    cursor's `high` is how many entries it has read). `fail_after_upserts` makes the n-th
    next upsert die mid-run."""

    def __init__(self) -> None:
        self.chunks: dict[str, tuple[str, np.ndarray, ChunkMeta]] = {}
        self._id = uuid.uuid4().hex
        self.changes: list[list[str]] = []
        self.fail_after_upserts: int | None = None
        self.kept: dict[str, list[ArticleVersion]] = {}  # earlier versions, oldest first

    # -- writer -------------------------------------------------------------------------------

    def articles(self) -> dict[str, StoredArticle]:
        return stored_articles(meta for _, _, meta in self.chunks.values())

    def upsert(self, chunks: Sequence[Chunk], vectors: np.ndarray,
               metas: Sequence[ChunkMeta]) -> None:
        if self.fail_after_upserts is not None:
            if self.fail_after_upserts == 0:
                raise Killed
            self.fail_after_upserts -= 1
        for chunk, vector, meta in zip(chunks, vectors, metas, strict=True):
            self.chunks[chunk.id] = (chunk.text, vector, meta)
        self.changes.append([c.id for c in chunks])

    def delete_stale(self, article_id: str, keep_hash: str) -> None:
        self._delete([chunk_id for chunk_id, (_, _, meta) in self.chunks.items()
                      if meta.article_id == article_id and meta.content_hash != keep_hash])

    def delete_articles(self, article_ids: Sequence[str]) -> None:
        gone = set(article_ids)
        self._delete([chunk_id for chunk_id, (_, _, meta) in self.chunks.items()
                      if meta.article_id in gone])
        for article_id in gone:
            self.kept.pop(article_id, None)

    def save_versions(self, versions: Sequence[ArticleVersion], keep: int) -> None:
        for version in versions if keep > 0 else ():
            earlier = self.kept.setdefault(version.article_id, [])
            if is_new_version(version, earlier):
                number = max((v.number for v in earlier), default=0) + 1
                earlier.append(replace(version, number=number, seen=datetime.now(UTC)))
            for old in over_bound(earlier, keep):
                earlier.remove(old)

    def versions(self, article_ids: Sequence[str], include_text: bool = True
                 ) -> dict[str, list[ArticleVersion]]:
        return {a: [v if include_text else replace(v, text="") for v in self.kept[a]]
                for a in dict.fromkeys(article_ids) if self.kept.get(a)}

    def _delete(self, ids: list[str]) -> None:
        for chunk_id in ids:
            del self.chunks[chunk_id]
        if ids:
            self.changes.append(ids)

    @contextmanager
    def writing(self, exclusive: bool = False) -> Iterator[None]:
        yield

    # -- reader -------------------------------------------------------------------------------

    def version(self) -> StoreVersion:
        return StoreVersion(self._id, str(len(self.changes)))

    def start_cursor(self) -> Cursor:
        return Cursor(low=len(self.changes), high=len(self.changes))

    def changes_since(self, cursor: Cursor) -> ChangeBatch:
        seen = int(cursor.high)
        if seen > len(self.changes):
            raise ChangeLogGapError(f"no entries past {len(self.changes)}")
        ids = {chunk_id for entry in self.changes[seen:] for chunk_id in entry}
        return ChangeBatch(ids, Cursor(low=len(self.changes), high=len(self.changes)))

    def changed_elsewhere(self, version: StoreVersion) -> bool:
        return False

    def reopen(self) -> None:
        pass

    def count(self) -> int:
        return len(self.chunks)

    def iter_chunks(self, include_text: bool = True) -> Iterator[StoredChunk]:
        for chunk_id, (text, _, meta) in sorted(self.chunks.items()):
            yield StoredChunk(chunk_id, text if include_text else "", meta)

    def query(self, vector: np.ndarray, k: int, where: SearchFilter | None = None
              ) -> list[tuple[StoredChunk, float]]:
        hits = [
            (StoredChunk(chunk_id, text, meta), float(np.dot(vector, stored)))
            for chunk_id, (text, stored, meta) in self.chunks.items()
            if where is None or where.accepts(meta.source, meta.calendar_epoch, meta.origin)
        ]
        return sorted(hits, key=lambda hit: -hit[1])[:k]

    def nearest_leads(self, vectors: np.ndarray, n: int
                      ) -> list[list[tuple[StoredChunk, float]]]:
        leads = [(stored, StoredChunk(chunk_id, text, meta))
                 for chunk_id, (text, stored, meta) in self.chunks.items()
                 if meta.chunk_index == 0]
        return [sorted(((chunk, float(vector @ stored)) for stored, chunk in leads),
                       key=lambda lead: -lead[1])[:n] for vector in vectors]

    def sync_leads(self, leads: Sequence[tuple[StoredChunk, np.ndarray]]) -> None:
        pass  # nearest_leads reads the chunks themselves: nothing to keep in step

    def leads(self, where: SearchFilter | None = None) -> list[tuple[StoredChunk, np.ndarray]]:
        return [(StoredChunk(chunk_id, text, meta), vector)
                for chunk_id, (text, vector, meta) in sorted(self.chunks.items())
                if meta.chunk_index == 0 and (where is None or where.accepts(
                    meta.source, meta.calendar_epoch, meta.origin))]

    def set_copy_of(self, groups: dict[str, str | None]) -> None:
        changed = [chunk_id for chunk_id, (_, _, meta) in self.chunks.items()
                   if meta.article_id in groups]
        for chunk_id in changed:
            text, vector, meta = self.chunks[chunk_id]
            self.chunks[chunk_id] = (text, vector, replace(meta, copy_of=groups[meta.article_id]))
        self.changes.append(changed)

    def marked_copies_of(self, groups: Sequence[str]) -> list[ChunkMeta]:
        wanted = set(groups)
        return [meta for _, _, meta in self.chunks.values()
                if meta.chunk_index == 0 and meta.copy_of in wanted]

    def get(self, ids: Sequence[str]) -> list[StoredChunk]:
        return [StoredChunk(i, self.chunks[i][0], self.chunks[i][2])
                for i in ids if i in self.chunks]

    def chunks_of(self, article_ids: Sequence[str]) -> list[StoredChunk]:
        order = {article_id: n for n, article_id in enumerate(article_ids)}
        found = [c for c in self.iter_chunks() if c.meta.article_id in order]
        return sorted(found, key=lambda c: (order[c.meta.article_id], c.meta.chunk_index))

    def snapshot(self) -> dict[str, tuple[str, str]]:
        return {chunk_id: (meta.content_hash, text)
                for chunk_id, (text, _, meta) in self.chunks.items()}


def fake_chat_model(*replies: str) -> GenericFakeChatModel:
    """LangChain's fake chat model, answering with `replies` in turn (streaming works too)."""
    return GenericFakeChatModel(messages=iter([AIMessage(content=reply) for reply in replies]))
