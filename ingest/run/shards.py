"""Splitting one ingest between several workers (pure).

`newsdesk ingest --shard i/N` stores only the articles whose id falls in shard i of N, so N
workers — processes or machines, each with its own data directory, writing to one Chroma
server (server mode; the change log keeps every replica exact) — can share a folder, a JSONL
export or a feed list without overlap. Every worker still reads every source (parsing is
cheap next to embedding, ~16 chunks/s per 2 cores) and runs every article through the same
rules, keeping only its own shard's: so all workers agree which of two identical texts is the
original and which version of an article is kept. The split is by article id, so the versions
of one article always meet in one worker, and a re-run with the same N gives each worker the
same articles.

What a split cannot see: a wire copy (a rewrite, not an identical text) and its original in
different shards of the same run are compared only with what is already stored; run
`newsdesk regroup` after a sharded back-catalogue import to group them across the store.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Shard:
    """Shard `index` (1-based) of `count`."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not 1 <= self.index <= self.count:
            raise ValueError(f"shard {self.index}/{self.count}: use i/N with 1 <= i <= N")

    def holds(self, article_id: str) -> bool:
        """Whether this shard stores `article_id`: a stable hash (SHA-1, not Python's
        per-process hash), the same on every machine and every run."""
        digest = hashlib.sha1(article_id.encode("utf-8"), usedforsecurity=False).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

