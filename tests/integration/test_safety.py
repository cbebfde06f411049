"""Data safety and hostile input, end to end with the real model, Chroma and HTTP peers:
scoped prune, slow servers, damaged indexes, read-only data, chat in scripts."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import bot.factory
from bot.cli.commands import cli
from bot.factory import Components
from config import load_settings
from ingest.embed.embedder import Embedder
from retrieval.engine import AnswerEngine
from tests.helpers import SAMPLES, LocalServer, respond, write_article

pytestmark = pytest.mark.slow

BRIDGE = "https://example.com/samples/2025/03/harbour-bridge-reopens"


@pytest.fixture
def run(data_dir: Path, embedder: Embedder,
        monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """`newsdesk ARGS` in-process, sharing the session's loaded model."""
    monkeypatch.setattr(bot.factory, "Components",
                        functools.partial(Components, embedder=embedder))

    def invoke(*args: str, stdin: str | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), input=stdin, catch_exceptions=False)

    return invoke


def stored_ids() -> set[str]:
    return set(Components(load_settings()).store.articles())


def folder(tmp_path: Path, name: str, count: int) -> Path:
    root = tmp_path / name
    for i in range(count):
        write_article(root, f"{name}-{i}.txt", f"{name} story {i}",
                      f"The {name} desk filed report number {i} about harbour traffic.")
    return root


# -- prune is scoped to the sources named in the run --------------------------------------------


def test_prune_with_an_empty_folder_removes_nothing_and_fails(
        run: Callable[..., Result], tmp_path: Path) -> None:
    assert run("ingest", str(SAMPLES)).exit_code == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("ingest", str(empty), "--prune")
    assert result.exit_code == 1
    assert f"failed: {empty}: no articles found in {empty}" in result.stdout
    assert "removed 0" in result.stdout
    missing = run("ingest", str(tmp_path / "unmounted"), "--prune")
    assert missing.exit_code == 1 and "removed 0" in missing.stdout
    assert len(stored_ids()) == 6


def test_prune_of_one_folder_never_touches_another(run: Callable[..., Result],
                                                   tmp_path: Path) -> None:
    first, second = folder(tmp_path, "alpha", 4), folder(tmp_path, "beta", 4)
    assert run("ingest", str(first), str(second)).exit_code == 0
    assert len(stored_ids()) == 8
    (second / "beta-3.txt").unlink()
    result = run("ingest", str(second), "--prune", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["removed"] == 1
    ids = stored_ids()
    assert len(ids) == 7 and "alpha-3.txt" in ids and "beta-3.txt" not in ids
    # A sub-folder prunes what lies under it, and only that.
    nested = first / "sub"
    write_article(nested, "x.txt", "Nested one", "A nested report about the ferry timetable.")
    write_article(nested, "y.txt", "Nested two", "A second nested report about tram fares.")
    write_article(nested, "z.txt", "Nested three", "A third nested report about bus lanes.")
    assert run("ingest", str(first)).exit_code == 0
    (nested / "z.txt").unlink()
    pruned = json.loads(run("ingest", str(nested), "--prune", "--json").stdout)
    assert pruned["removed"] == 1
    assert {"sub/x.txt", "sub/y.txt"} <= stored_ids() and "sub/z.txt" not in stored_ids()
    assert len(stored_ids()) == 9


def test_prune_of_most_of_a_source_is_refused_unless_forced(run: Callable[..., Result],
                                                            tmp_path: Path) -> None:
    root = folder(tmp_path, "desk", 5)
    assert run("ingest", str(root)).exit_code == 0
    for i in range(1, 5):
        (root / f"desk-{i}.txt").unlink()
    refused = run("ingest", str(root), "--prune")
    assert refused.exit_code == 1
    assert "prune refused: it would remove 4 of the 5 stored articles" in refused.stdout
    assert "--force" in refused.stdout
    assert len(stored_ids()) == 5
    forced = run("ingest", str(root), "--prune", "--force", "--json")
    assert forced.exit_code == 0 and json.loads(forced.stdout)["removed"] == 4
    assert stored_ids() == {"desk-0.txt"}


def test_same_file_names_in_two_folders_never_overwrite_each_other(
        run: Callable[..., Result], tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "news", tmp_path / "b" / "news"
    write_article(first, "story.txt", "First", "The first desk's story about the ferry.")
    write_article(second, "story.txt", "Second", "The second desk's story about the tram.")
    assert run("ingest", str(first)).exit_code == 0
    result = run("ingest", str(second), "--json")
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["updated"] == 0
    assert summary["failed"][0]["source"] == str(second / "story.txt")
    assert f"already used by {first / 'story.txt'}" in summary["failed"][0]["reason"]
    texts = {c.text for c in Components(load_settings()).store.iter_chunks()}
    assert texts == {"The first desk's story about the ferry."}
    # Both in one run: the second is reported too, not silently dropped.
    both = json.loads(run("ingest", str(tmp_path / "a"), str(second), "--json").stdout)
    assert str(second / "story.txt") in [f["source"] for f in both["failed"]]


def test_prune_keeps_the_stored_copy_of_a_skipped_duplicate(run: Callable[..., Result],
                                                            tmp_path: Path) -> None:
    root = tmp_path / "dups"
    write_article(root, "a.txt", "Original", "The same body about the harbour strike.")
    write_article(root, "b.txt", "Other", "Another body about the tram depot.")
    assert run("ingest", str(root)).exit_code == 0
    # a.txt moves to c.txt: c is the same text as stored a, so it is skipped as a duplicate.
    (root / "a.txt").rename(root / "c.txt")
    result = json.loads(run("ingest", str(root), "--prune", "--json").stdout)
    assert result["duplicates"] == [{"id": "c.txt", "duplicate_of": "a.txt"}]
    assert result["removed"] == 0
    assert stored_ids() == {"a.txt", "b.txt"}  # the text is still searchable


def test_configured_sources_each_prune_their_own(run: Callable[..., Result],
                                                 tmp_path: Path, local_server: Any) -> None:
    from tests.helpers import rss_feed

    body = "<p>" + "The ferry operator confirmed the new winter timetable today. " * 10 + "</p>"
    feed = {"entries": [("Ferry one", "https://feed.example/1", body),
                        ("Ferry two", "https://feed.example/2", body.replace("winter", "spring")),
                        ("Ferry three", "https://feed.example/3", body.replace("winter", "fall"))]}

    def current_feed(handler: BaseHTTPRequestHandler) -> None:  # read at each request
        respond(rss_feed(feed["entries"]), "application/rss+xml")(handler)

    server: LocalServer = local_server({"/feed.xml": current_feed})
    local = folder(tmp_path, "local", 3)
    config = tmp_path / "sources.toml"
    config.write_text(f'[[sources]]\nlocation = "{local}"\n'
                      f'[[sources]]\nlocation = "{server.url}/feed.xml"\n')
    assert run("--config", str(config), "ingest").exit_code == 0
    assert len(stored_ids()) == 6
    feed["entries"] = feed["entries"][:2]  # one entry dropped from the feed
    # Only the feed is due (as in `ingest --watch`): the folder's articles stay.
    result = run("--config", str(config), "ingest", f"{server.url}/feed.xml", "--prune",
                 "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["removed"] == 1
    assert "https://feed.example/3" not in stored_ids() and len(stored_ids()) == 5
    (local / "local-2.txt").unlink()
    every = run("--config", str(config), "ingest", "--prune", "--json")
    assert json.loads(every.stdout)["removed"] == 1 and len(stored_ids()) == 4
    feed["entries"] = []  # a feed that briefly lists nothing prunes nothing
    empty = run("--config", str(config), "ingest", "--prune", "--json")
    assert empty.exit_code == 1
    summary = json.loads(empty.stdout)
    assert summary["removed"] == 0 and summary["failed"][0]["reason"] == "feed has no entries"
    assert len(stored_ids()) == 4


# -- slow servers and refused pages -------------------------------------------------------------


def test_a_trickling_server_fails_at_the_deadline_and_the_run_goes_on(
        run: Callable[..., Result], local_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.helpers import HTML_PAGE

    gave_up = threading.Event()

    def trickle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.end_headers()
        try:
            for _ in range(60):  # one byte every 0.5 s: each read is quick, the whole is not
                handler.wfile.write(b"<")
                handler.wfile.flush()
                time.sleep(0.5)
        except OSError:
            gave_up.set()  # the client gave up, as it should

    server: LocalServer = local_server({"/slow": trickle, "/news/tram": respond(HTML_PAGE)})
    monkeypatch.setenv("NEWSDESK_INGEST__FETCH_TIMEOUT", "5")
    monkeypatch.setenv("NEWSDESK_INGEST__FETCH_DEADLINE", "2")
    result = run("ingest", f"{server.url}/slow", f"{server.url}/news/tram", "--json")
    # Cut off by the 2 s deadline, not after the server's 30 s: the server saw it go.
    assert gave_up.wait(timeout=20)
    summary = json.loads(result.stdout)
    assert summary["added"] == 1
    assert summary["failed"] == [{"source": f"{server.url}/slow",
                                  "reason": "download did not finish within 2 s"}]


def test_feed_entries_kept_as_teasers_are_reported(run: Callable[..., Result],
                                                   local_server: Any,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.helpers import HTML_PAGE, rss_feed

    server: LocalServer = local_server({})
    base = server.url
    server.routes.update({
        "/big": respond(HTML_PAGE + "<!--" + "x" * 50_000 + "-->"),
        "/feed.xml": respond(rss_feed([
            ("Too big", f"{base}/big", "A teaser about the oversized page."),
            ("Gone", f"{base}/gone", "A teaser whose page is gone."),
        ]), "application/rss+xml"),
    })
    monkeypatch.setenv("NEWSDESK_INGEST__MAX_FETCH_BYTES", "20000")
    result = run("ingest", f"{base}/feed.xml")
    assert result.exit_code == 0, result.output
    assert "added 2" in result.stdout and "partial 2" in result.stdout
    lines = [line for line in result.stdout.splitlines() if line.startswith("  partial:")]
    assert len(lines) == 2
    assert f"  partial: {base}/big: only the feed's teaser was stored; the linked page failed: " \
           "response too large (50616 bytes)" in lines
    assert any(f"{base}/gone" in line and "HTTP 404" in line for line in lines)


# -- derived indexes are checked, not trusted ---------------------------------------------------


@pytest.mark.parametrize("damage", ["position", "segments"])
def test_a_damaged_keyword_index_is_rebuilt_not_served(run: Callable[..., Result],
                                                       data_dir: Path, damage: str) -> None:
    assert run("ingest", str(SAMPLES)).exit_code == 0
    index = data_dir / "keywords" / "newsdesk"
    state = json.loads((index / "sync.json").read_text())
    if damage == "position":  # claims a write the store never made
        (index / "sync.json").write_text(json.dumps({**state, "head": "no-such-write"}))
    else:
        for segment in index.glob("*.idx"):
            segment.write_bytes(b"garbage")
    result = run("ask", "How much did the Kestrel Harbour Bridge repair cost?", "--json")
    assert result.exit_code == 0, result.output
    assert "84 million euros" in json.loads(result.stdout)["answer"]
    after = json.loads((index / "sync.json").read_text())
    # Caught up to the store again (the cursor's times are those of the repair).
    assert {k: after[k] for k in ("format", "store", "head")} == {
        k: state[k] for k in ("format", "store", "head")}
    assert run("search", "Kestrel").stdout.count("Harbour Bridge Reopens") == 1


# -- the command line in scripts and at the prompt ----------------------------------------------


def test_chat_reads_piped_questions_and_ends_with_the_input(run: Callable[..., Result]) -> None:
    assert run("ingest", str(SAMPLES)).exit_code == 0
    result = run("chat", stdin="How much did the bridge repair cost?\n\nWho scored both goals "
                               "for United in the Coastal Cup final?\n")
    assert result.exit_code == 0, result.output
    assert "you>" not in result.stdout and "Ask a question" not in result.stdout
    assert "84 million euros" in result.stdout and "Nadia Kowalski" in result.stdout
    assert result.stdout.count("Sources") == 2


def test_ctrl_c_during_an_answer_cancels_it_and_the_chat_goes_on(
        run: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("ingest", str(SAMPLES)).exit_code == 0
    real_ask = AnswerEngine.ask
    calls: list[str] = []

    def interrupted_once(self: AnswerEngine, question: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(question)
        if len(calls) == 1:
            raise KeyboardInterrupt  # what Ctrl-C raises in the middle of an answer
        return real_ask(self, question, *args, **kwargs)

    monkeypatch.setattr(AnswerEngine, "ask", interrupted_once)
    result = run("chat", stdin="Who won the cup final?\nHow much did the bridge repair cost?\n")
    assert result.exit_code == 0, result.output
    assert "(cancelled)" in result.stdout and "Aborted" not in result.output
    assert "84 million euros" in result.stdout
    assert len(calls) == 2


def test_passage_excerpts_are_indented_and_cut_at_a_word(run: Callable[..., Result]) -> None:
    assert run("ingest", str(SAMPLES)).exit_code == 0
    texts = " ".join(p.read_text() for p in SAMPLES.iterdir())
    words = set(texts.replace("\n", " ").split())
    result = run("search", "bridge repair", "-k", "3")
    chat = run("chat", stdin="How much did the bridge repair cost?\n/sources\n")
    for output in (result.stdout, chat.stdout.split("Sources", 1)[1]):
        excerpt = [line for line in output.splitlines()
                   if line and not line[0].isdigit() and not line.startswith(("  [", "Sources"))]
        assert excerpt and all(line.startswith("   ") for line in excerpt)
        cut = [line for line in excerpt if line.endswith("…")]
        assert cut, "expected at least one shortened passage"
        for line in cut:
            assert line.rstrip(" …").split()[-1] in words  # a whole word before the mark


def test_html_without_text_is_one_failure_line_without_library_noise(tmp_path: Path,
                                                                      data_dir: Path) -> None:
    root = tmp_path / "pages"
    root.mkdir()
    (root / "empty.html").write_text("<html><head><title>t</title></head><body></body></html>")
    done = subprocess.run([sys.executable, "-m", "bot.cli", "ingest", str(root)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert f"failed: {root / 'empty.html'}: no article text found in the HTML" in done.stdout
    assert done.stderr == ""


def _read_only_command(data_dir: Path) -> list[str]:
    """A command prefix under which `data_dir` may be read but not written. Root may write
    through any permission bits, so for root the data dir is bind-mounted read-only in a
    private mount namespace; anyone else just loses the write bits."""
    if os.geteuid() != 0:
        for path in [data_dir, *data_dir.rglob("*")]:
            os.chmod(path, os.stat(path).st_mode & ~0o222)
        return []
    unshare = shutil.which("unshare")
    prefix = [unshare or "unshare", "--mount", "sh", "-c",
              'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && shift && exec "$@"',
              str(data_dir), "--"]
    probe = subprocess.run([*prefix, "touch", str(data_dir / "probe")], capture_output=True,
                           check=False)
    if unshare is None or probe.returncode == 0 or (data_dir / "probe").exists():
        pytest.skip("cannot make a read-only mount here")
    return prefix


def test_an_unwritable_data_dir_is_one_clear_line(data_dir: Path, embedder: Embedder) -> None:
    Components(load_settings(), embedder=embedder).build_ingestor().ingest([str(SAMPLES)])
    prefix = _read_only_command(data_dir)
    try:
        for args in (["stats"], ["ask", "How much did the bridge repair cost?"]):
            done = subprocess.run([*prefix, sys.executable, "-m", "bot.cli", *args],
                                  capture_output=True, text=True, timeout=120, check=False)
            assert done.returncode == 2, done.stderr
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1, done.stderr
            assert lines[0].startswith(f"newsdesk: error: cannot write to {data_dir / 'chroma'}")
            assert "read and write access" in lines[0] and "readonly" not in lines[0]
    finally:
        for path in [data_dir, *data_dir.rglob("*")]:
            os.chmod(path, os.stat(path).st_mode | 0o200)


def test_a_server_urls_credentials_never_show_as_the_stores_location(tmp_path: Path) -> None:
    """/api/stats, `newsdesk stats` and store errors name the store by its location."""
    import chromadb

    from ingest.store.chroma import ChromaStore

    store = ChromaStore(lambda: chromadb.PersistentClient(str(tmp_path)), "articles", "model",
                        "http://newsdesk:s3cret-pass@chroma.internal:8000/?token=abc123def",
                        change_log_entries=10)
    shown = json.dumps(store.stats())
    assert "s3cret-pass" not in shown and "abc123def" not in shown
    assert "chroma.internal:8000" in shown
