"""Several ingest processes writing to one Chroma server at once, each with its own data dir
(as on separate machines), while a bot follows in another process: afterwards every replica
of the keyword index holds exactly the store's chunks, and finds every article."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.factory import Components
from config import load_settings
from tests.helpers import write_article
from tests.peers import ChromaServer

pytestmark = pytest.mark.slow

SYLLABLES = ["ka", "lo", "mi", "ru", "ze", "po", "ti", "va", "su", "ne", "bo", "gu"]


def unique_word(n: int) -> str:
    """A made-up word that no other article holds (nobody writes 'kaloru')."""
    return "".join(SYLLABLES[(n * 7 + k * 5) % len(SYLLABLES)] for k in range(3)) + f"x{n}q"


def article_body(word: str, n: int) -> str:
    filler = " ".join(f"The harbour board met on day {k} and noted item {k} for review."
                      for k in range(25))
    return f"Inspectors reported the {word} finding at pier {n}. {filler} The {word} case ends."


@pytest.fixture
def server(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
           ) -> Iterator[ChromaServer]:
    chroma = ChromaServer(tmp_path / "server-data")
    chroma.start()
    monkeypatch.setenv("NEWSDESK_CHROMA_URL", chroma.url)
    yield chroma
    chroma.stop()


def test_concurrent_writers_lose_nothing_and_every_replica_is_exact(
        server: ChromaServer, tmp_path: Path) -> None:
    env = {**os.environ, "NEWSDESK_CHROMA_URL": server.url,
           "NEWSDESK_INGEST__WRITE_BATCH_CHUNKS": "2"}  # many small writes, interleaved
    words: dict[str, str] = {}  # article id (file name) -> its unique word
    folders = [tmp_path / f"desk{w}" for w in range(3)]
    serial = 0

    def add(folder: Path, name: str) -> None:
        nonlocal serial
        serial += 1
        word = unique_word(serial)
        write_article(folder, name, f"Harbour report {serial}", article_body(word, serial))
        words[name] = word

    for w, folder in enumerate(folders):
        for a in range(3):
            add(folder, f"w{w}-a{a}.txt")

    def bot_dir(name: str) -> dict[str, str]:
        return {**env, "NEWSDESK_DATA_DIR": str(tmp_path / name)}

    # A bot that follows before, during and after, in its own process and data dir.
    stop = tmp_path / "stop"
    follower = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.follower", str(stop), str(tmp_path / "out")],
        env=bot_dir("bot-follower"), stderr=subprocess.PIPE, text=True)
    early = Components(load_settings(data_dir=str(tmp_path / "bot-early")))
    early.keyword_index.current()  # caught up before anything was written

    def run_writers(extra: list[list[str]]) -> None:
        procs = [subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "ingest", str(folder), "--json", *args],
            env=bot_dir(f"writer{w}"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True) for w, (folder, args) in enumerate(zip(folders, extra, strict=True))]
        for proc in procs:
            _, err = proc.communicate(timeout=400)
            assert proc.returncode == 0, err[-2000:]

    try:
        run_writers([[], [], []])
        # Round 2: an update, a prune and new articles, again all at once.
        updated = "w0-a1.txt"
        old_word = words[updated]
        add(folders[0], updated)
        (folders[1] / "w1-a2.txt").unlink()
        del words["w1-a2.txt"]
        add(folders[2], "w2-a3.txt")
        add(folders[2], "w2-a4.txt")
        run_writers([[], ["--prune"], []])
    finally:
        stop.touch()
        _, err = follower.communicate(timeout=120)
    assert follower.returncode == 0, err[-2000:]

    store = Components(load_settings(data_dir=str(tmp_path / "check"))).store
    stored_ids = sorted(chunk.id for chunk in store.iter_chunks())
    assert {chunk.meta.article_id for chunk in store.iter_chunks()} == set(words)
    # The follower, as it stood when it stopped: caught up on its own, incrementally.
    followed = json.loads((tmp_path / "out").read_text())
    assert followed["ids"] == stored_ids
    assert followed["syncs"][0] == "rebuild" and "incremental" in followed["syncs"]
    assert "rebuild" not in followed["syncs"][1:]

    replicas = ["bot-follower", "bot-early", "writer0", "writer1", "writer2"]
    for name in replicas:
        components = Components(load_settings(data_dir=str(tmp_path / name)))
        index = components.keyword_index
        snapshot = index.current()
        assert snapshot.ids() == stored_ids, name
        found = index.check(repair=False)  # ids and the text each was indexed from
        assert not found.damaged, (name, found)
        for article_id, word in words.items():
            hits = snapshot.search(word, 3)
            assert hits and hits[0][0].startswith(f"{article_id}#"), (name, article_id, word)
        assert snapshot.search(old_word, 3) == []  # the updated article's old text is gone


def test_sharded_workers_split_one_folder_and_store_each_article_once(
        server: ChromaServer, tmp_path: Path) -> None:
    """`ingest --shard i/3` in three processes at once, each with its own data dir, over one
    folder holding two identical texts under different names: every article stored once,
    by one worker; then a concurrent sharded --prune removes exactly what is gone."""
    env = {**os.environ, "NEWSDESK_CHROMA_URL": server.url,
           "NEWSDESK_EMBEDDING__ONNX_QUERIES": "false"}
    archive = tmp_path / "archive"
    for n in range(12):
        write_article(archive, f"a{n:02d}.txt", f"Harbour report {n}",
                      article_body(unique_word(n), n))
    for name in ("copy-1.txt", "copy-2.txt"):  # one text, two files
        write_article(archive, name, "Harbour report copy", article_body(unique_word(99), 99))

    def run_shards(*args: str) -> list[dict[str, object]]:
        procs = [subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "ingest", str(archive), "--json",
             "--shard", f"{i}/3", *args],
            env={**env, "NEWSDESK_DATA_DIR": str(tmp_path / f"worker{i}")},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in (1, 2, 3)]
        summaries = []
        for proc in procs:
            out, err = proc.communicate(timeout=400)
            assert proc.returncode == 0, err[-2000:]
            summaries.append(json.loads(out))
        return summaries

    first = run_shards()
    store = Components(load_settings(data_dir=str(tmp_path / "check"))).store
    stored = {chunk.meta.article_id for chunk in store.iter_chunks()}
    assert stored == {f"a{n:02d}.txt" for n in range(12)} | {"copy-1.txt"}
    assert sum(int(s["added"]) for s in first) == 13  # type: ignore[call-overload]
    assert [len(s["duplicates"]) for s in first].count(1) == 1  # type: ignore[arg-type]
    assert all(int(s["added"]) + int(s["other_shards"]) + len(s["duplicates"])  # type: ignore
               == 14 for s in first)

    for name in ("a03.txt", "a07.txt"):
        (archive / name).unlink()
    pruned = run_shards("--prune")
    assert sum(int(s["removed"]) for s in pruned) == 2  # type: ignore[call-overload]
    assert sum(int(s["added"]) for s in pruned) == 0  # type: ignore[call-overload]
    assert {chunk.meta.article_id for chunk in store.iter_chunks()} == stored - {
        "a03.txt", "a07.txt"}
