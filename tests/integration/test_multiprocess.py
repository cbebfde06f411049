"""Several processes and faults: the writer lock, a reader seeing another process's ingest,
and a Chroma server that dies and comes back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.commands import cli
from bot.factory import Components
from config import load_settings
from config.errors import StoreError
from ingest.embed.embedder import Embedder
from tests.helpers import write_article
from tests.peers import ChromaServer

pytestmark = pytest.mark.slow


def many_articles(folder: Path, count: int) -> Path:
    for i in range(count):
        body = " ".join(f"Report {i} item {j} on the harbour committee vote." for j in range(12))
        write_article(folder, f"{i:03d}.txt", f"Harbour story {i}", body)
    return folder


def start_ingest(corpus: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """An ingest in another process, writing in small steps; returns once it has written."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "-v", "ingest", str(corpus), "--json"],
        env={**os.environ, **env, "NEWSDESK_INGEST__WRITE_BATCH_CHUNKS": "2"},
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    for line in proc.stderr:
        if "wrote" in line:
            return proc
    raise AssertionError("the ingest never wrote")


def test_second_writer_on_the_embedded_store_fails_fast(data_dir: Path, tmp_path: Path) -> None:
    corpus = many_articles(tmp_path / "many", 60)
    first = start_ingest(corpus, {})
    try:
        result = CliRunner().invoke(cli, ["ingest", str(tmp_path / "many")])
        assert result.exit_code == 1
        message = result.stderr.strip()
        assert len(message.splitlines()) == 1
        assert f"pid {first.pid}" in message and "store.url" in message
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
    # The lock dies with its holder: the next writer proceeds and completes the work.
    done = CliRunner().invoke(cli, ["ingest", str(corpus), "--json"])
    assert done.exit_code == 0, done.output
    assert Components(load_settings()).store.stats()["articles"] == 60


def test_a_running_reader_sees_another_process_ingest(store_mode: str, tmp_path: Path,
                                                      embedder: Embedder) -> None:
    first = tmp_path / "first"
    write_article(first, "ferry.txt", "Ferry timetable", "The ferry now leaves at noon daily.")
    reader = Components(load_settings(), embedder=embedder)
    reader.build_ingestor().ingest([str(first)])
    engine = reader.build_engine()
    assert all(p.article_id != "zeppelin.txt" for p in engine.search("zeppelin hangar"))

    second = tmp_path / "second"
    write_article(second, "zeppelin.txt", "Zeppelin hangar opens",
                  "A zeppelin hangar opened at the old airfield on Monday.")
    other = subprocess.run([sys.executable, "-m", "bot.cli", "ingest", str(second)],
                           env=dict(os.environ), capture_output=True, text=True, timeout=300,
                           check=False)
    assert other.returncode == 0, other.stderr
    found = engine.search("zeppelin hangar airfield")
    assert found[0].article_id == "zeppelin.txt"  # BM25 and dense both see it, no restart
    answer = engine.ask("What opened at the old airfield?")
    assert answer.passages[0].article_id == "zeppelin.txt"  # read, no restart


@pytest.fixture
def own_server(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
               ) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path / "server-data")
    server.start()
    monkeypatch.setenv("NEWSDESK_CHROMA_URL", server.url)
    yield server
    server.stop()


def test_server_down_mid_question_is_a_clear_error_and_recovers(
        own_server: ChromaServer, tmp_path: Path, embedder: Embedder) -> None:
    corpus = tmp_path / "news"
    write_article(corpus, "ferry.txt", "Ferry timetable",
                  "The Baltline ferry will leave Reval Point at noon on Monday.")
    components = Components(load_settings(), embedder=embedder)
    components.build_ingestor().ingest([str(corpus)])
    engine = components.build_engine()
    assert engine.ask("When does the Baltline ferry leave Reval Point?").citations

    own_server.kill()
    with pytest.raises(StoreError, match=r"store at http://127\.0\.0\.1:\d+ failed"):
        engine.ask("When does the Baltline ferry leave Reval Point?")
    cli_result = CliRunner().invoke(cli, ["ask", "When does the Baltline ferry leave?"])
    assert cli_result.exit_code == 1
    assert cli_result.stderr.startswith("newsdesk: error: cannot")

    own_server.start()
    answer = engine.ask("When does the Baltline ferry leave Reval Point?")  # no restart
    assert "noon" in answer.answer and answer.citations


def test_ingest_that_loses_the_server_reports_and_a_rerun_completes(
        own_server: ChromaServer, tmp_path: Path) -> None:
    corpus = many_articles(tmp_path / "many", 40)
    proc = start_ingest(corpus, {})
    own_server.kill()
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 1
    summary = json.loads(out)
    reasons = [f["reason"] for f in summary["failed"]]
    assert any(r.startswith("not stored") for r in reasons) or any(
        r.startswith("stopped") for r in reasons)
    assert summary["added"] < 40

    own_server.start()
    rerun = CliRunner().invoke(cli, ["ingest", str(corpus), "--json"])
    assert rerun.exit_code == 0, rerun.output
    again = json.loads(rerun.stdout)
    assert again["added"] + again["updated"] + again["unchanged"] == 40
    components = Components(load_settings())
    assert components.store.stats()["articles"] == 40
    assert components.keyword_index.current().ids() == sorted(
        c.id for c in components.store.iter_chunks())


def test_a_bot_on_another_machine_follows_the_store_through_its_own_replica(
        own_server: ChromaServer, tmp_path: Path, embedder: Embedder) -> None:
    """Server mode: the writer and the bot share only the Chroma server (separate data dirs,
    as on two machines). The bot's keyword index is a local replica that catches up from the
    change log recorded in Chroma: it reads the changed chunks, never the whole store."""
    corpus = tmp_path / "news"
    write_article(corpus, "ferry.txt", "Ferry timetable",
                  "The Baltline ferry will leave Reval Point at noon on Monday.")
    write_article(corpus, "tram.txt", "Tram line approved", "The council approved a tram line.")

    def ingest(*args: str) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", "ingest", str(corpus), *args],
            env={**os.environ, "NEWSDESK_DATA_DIR": str(tmp_path / "writer")},
            capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr

    def bot() -> Components:
        return Components(load_settings(data_dir=str(tmp_path / "bot")), embedder=embedder)

    ingest()
    first = bot()
    engine = first.build_engine()
    assert "noon" in engine.ask("When does the Baltline ferry leave Reval Point?").answer
    replica = first.keyword_index
    assert replica.last_sync is not None and replica.last_sync.kind == "rebuild"

    write_article(corpus, "zeppelin.txt", "Zeppelin hangar opens",
                  "A zeppelin hangar opened at the old airfield on Monday.")
    ingest()
    answer = engine.ask("What opened at the old airfield?")
    # What the engine read (whether the answerer answers from it is the reader's business:
    # its card names one-sentence invented articles as a known limit)
    assert answer.passages[0].article_id == "zeppelin.txt"
    # Incremental, or compacted when the write left deleted documents behind.
    assert replica.last_sync.kind in ("incremental", "compact")

    write_article(corpus, "ferry.txt", "Ferry timetable",
                  "The Baltline ferry will leave Reval Point at dusk on Monday.")
    ingest()
    assert "dusk" in engine.ask("When does the Baltline ferry leave Reval Point?").answer
    assert replica.current().search("noon", 5) == []  # the old version is gone here too
    assert replica.last_sync.kind in ("incremental", "compact")

    (corpus / "tram.txt").unlink()
    ingest("--prune")
    assert "tram.txt#0" not in replica.current().ids()
    assert all(p.article_id != "tram.txt" for p in engine.search("council tram line"))

    # Restarted, the bot opens its replica from disk; what changed while it was down is
    # fetched alone.
    write_article(corpus, "museum.txt", "Museum reopens", "The maritime museum reopened.")
    ingest()
    restarted = bot()
    assert restarted.keyword_index.current().ids() == sorted(
        c.id for c in restarted.store.iter_chunks())
    assert restarted.keyword_index.last_sync is not None
    assert restarted.keyword_index.last_sync.kind in ("incremental", "compact")
    assert restarted.keyword_index.last_sync.chunks == 1


def test_slack_refresh_thread_ingests_configured_sources(data_dir: Path, tmp_path: Path,
                                                         embedder: Embedder) -> None:
    from bot.cli.runtime import start_refresh

    corpus = tmp_path / "feeds"
    write_article(corpus, "tram.txt", "Tram line approved", "The council approved a tram line.")
    settings = load_settings(sources=[{"location": str(corpus), "refresh": "1h"}])
    components = Components(settings, embedder=embedder)
    stop = start_refresh(components, True)
    try:
        deadline = time.monotonic() + 60
        while components.store.count() == 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert components.build_engine().search("tram line")[0].article_id == "tram.txt"
    finally:
        stop.set()
