"""Sharded ingest (ingest/run/shards.py, `ingest --shard i/N`): every article stored by exactly one
worker, the same one on every run; prunes stay within a worker's shard."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from bot.app.user_values import parse_shard
from ingest.run.shards import Shard
from tests.fakes import MemoryStore
from tests.helpers import write_article
from tests.unit.test_pipeline import TOPICS, ingestor, story


def test_every_id_falls_in_exactly_one_shard_and_the_shards_are_even() -> None:
    ids = [f"https://example.com/news/{n}" for n in range(4000)]
    shards = [Shard(i, 4) for i in range(1, 5)]
    owners = [[s for s in shards if s.holds(article_id)] for article_id in ids]
    assert all(len(found) == 1 for found in owners)
    sizes = [sum(1 for found in owners if found[0] == s) for s in shards]
    assert min(sizes) > 900 and max(sizes) < 1100  # SHA-1 spreads ids evenly


def test_the_split_is_the_same_in_every_process() -> None:
    # A stable hash, not Python's salted hash(): pinned values hold on every machine.
    assert [Shard(i, 3).holds("a.txt") for i in (1, 2, 3)].count(True) == 1
    assert Shard(2, 3).holds("a.txt") == Shard(2, 3).holds("a.txt")
    assert [i for i in (1, 2, 3) if Shard(i, 3).holds("ferry-strike.txt")] == \
        [1 + int.from_bytes(hashlib.sha1(b"ferry-strike.txt").digest()[:8], "big") % 3]


@pytest.mark.parametrize("text", ["0/4", "5/4", "1", "a/b", "1/0", ""])
def test_a_bad_shard_says_the_form(text: str) -> None:
    with pytest.raises(ValueError, match=r"i/N|1 <= i <= N"):
        parse_shard(text)


def test_parse_reads_i_of_n() -> None:
    assert parse_shard(" 2 / 4 ") == Shard(2, 4) and str(Shard(2, 4)) == "2/4"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "news"
    for i, topic in enumerate(TOPICS * 2):
        write_article(root, f"{i}.txt", f"Story {i}", story(f"{topic}{i}", 3))
    return root


def test_n_workers_store_what_one_worker_stores(corpus: Path) -> None:
    whole, split = MemoryStore(), MemoryStore()
    ingestor(whole).ingest([str(corpus)])
    summaries = [ingestor(split).ingest([str(corpus)], shard=Shard(i, 3)) for i in (1, 2, 3)]
    assert split.snapshot() == whole.snapshot()
    assert sum(s.added for s in summaries) == 16
    assert all(s.added + s.other_shards == 16 for s in summaries)
    again = ingestor(split).ingest([str(corpus)], shard=Shard(1, 3))
    assert again.added == 0 and again.unchanged == summaries[0].added


def test_a_sharded_prune_removes_only_its_own_gone_articles(corpus: Path) -> None:
    store = MemoryStore()
    ingestor(store).ingest([str(corpus)])
    for name in ("0.txt", "1.txt", "2.txt"):
        (corpus / name).unlink()
    shard = Shard(1, 2)
    pruned = ingestor(store).ingest([str(corpus)], prune=True, shard=shard)
    gone_here = [n for n in ("0.txt", "1.txt", "2.txt") if shard.holds(n)]
    assert 0 < len(gone_here) < 3  # the other worker's gone article stays until it runs
    assert pruned.removed == len(gone_here)
    assert set(store.articles()) == {f"{i}.txt" for i in range(16)} - set(gone_here)


def test_identical_texts_in_different_shards_are_stored_once(tmp_path: Path) -> None:
    root = tmp_path / "news"
    text = story("ferry", 3)
    names = [f"copy-{n}.txt" for n in range(12)]  # some fall in each shard
    for name in names:
        write_article(root, name, "Ferry strike", text)
    shards = [Shard(1, 2), Shard(2, 2)]
    assert {s for s in shards for name in names if s.holds(name)} == set(shards)
    store = MemoryStore()
    summaries = [ingestor(store).ingest([str(root)], shard=s) for s in shards]
    assert len(store.articles()) == 1  # the first read copy, by whichever worker owns it
    assert sum(s.added for s in summaries) == 1
    assert sum(len(s.duplicates) for s in summaries) == len(names) - 1  # each told once
