"""Ingest end to end with the real embedding model and a real Chroma directory."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from bot.cli.commands import cli
from bot.factory import Components
from config import load_settings
from ingest.embed.embedder import Embedder
from ingest.model.records import Chunk, SearchFilter
from ingest.run.pipeline import Ingestor
from ingest.store.chroma import ChromaStore
from ingest.text.ids import article_of
from retrieval.search.keyword_index import KeywordIndex
from tests.helpers import HTML_PAGE, SAMPLES, LocalServer, respond, rss_feed, write_article

pytestmark = pytest.mark.slow


class CountingEmbedder:
    """The real model, with a count of embedding calls."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.embedded = 0

    @property
    def max_tokens(self) -> int:
        return self.inner.max_tokens

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded += len(texts)
        return self.inner.embed(texts)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.inner.count_tokens(texts)


def build(embedder: Embedder, **overrides: Any) -> tuple[Ingestor, ChromaStore, CountingEmbedder]:
    counting = CountingEmbedder(embedder)
    components = Components(load_settings(**overrides), embedder=counting)
    return components.build_ingestor(), components.store, counting


def snapshot(store: ChromaStore) -> dict[str, tuple[str, str]]:
    return {c.id: (c.meta.content_hash, c.text) for c in store.iter_chunks()}


def long_body(topic: str, sentences: int) -> str:
    return " ".join(
        f"Report {i} on the {topic} says the committee met again and agreed on item {i}."
        for i in range(sentences)
    )


def test_ingest_then_unchanged_then_update_then_prune(store_mode: str, tmp_path: Path,
                                                      embedder: Embedder) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLES, corpus)
    write_article(corpus, "long.txt", "Committee marathon", long_body("budget", 80))
    ingestor, store, counting = build(embedder)

    first = ingestor.ingest([str(corpus)])
    assert (first.added, first.updated, first.unchanged, first.failed) == (7, 0, 0, [])
    assert store.count() == first.chunks > 7
    long_chunks = [c for c in store.iter_chunks() if c.meta.article_id == "long.txt"]
    assert len(long_chunks) > 3
    for chunk in long_chunks:  # header + text within the model's 256 tokens, specials included
        header = chunk.meta.header
        assert embedder.count_tokens([f"{header}\n{chunk.text}"])[0] + 2 <= 256
    meta = next(c.meta for c in store.iter_chunks()
                if c.meta.article_id.endswith("harbour-bridge-reopens"))
    assert meta.title == "Harbour Bridge Reopens After Two-Year Repair"
    assert meta.source == "example.com" and meta.author == "Newsdesk Samples"
    assert meta.published is not None and meta.published.date().isoformat() == "2025-03-14"
    assert meta.path == str(corpus / "harbour-bridge-reopens.txt")
    since = SearchFilter(since=datetime(2025, 3, 14, tzinfo=UTC))
    found = store.query(embedder.embed(["bridge"])[0], 10, since)  # usable in filters
    assert found and all(c.meta.published_epoch >= 1_741_910_400 for c, _ in found)
    assert len(found) < len(store.query(embedder.embed(["bridge"])[0], 10))

    counting.embedded = 0
    before = snapshot(store)
    again = ingestor.ingest([str(corpus)])
    assert (again.added, again.updated, again.unchanged, again.chunks) == (0, 0, 7, 0)
    assert counting.embedded == 0
    assert snapshot(store) == before

    write_article(corpus, "long.txt", "Committee marathon", long_body("budget", 12))
    updated = ingestor.ingest([str(corpus)])
    assert (updated.updated, updated.unchanged) == (1, 6)
    after = [c for c in store.iter_chunks() if c.meta.article_id == "long.txt"]
    assert len(after) < len(long_chunks)
    assert {c.meta.content_hash for c in after} != {c.meta.content_hash
                                                           for c in long_chunks}
    assert sorted(c.meta.chunk_index for c in after) == list(range(len(after)))
    assert len({c.meta.content_hash for c in after}) == 1

    (corpus / "long.txt").unlink()
    no_prune = ingestor.ingest([str(corpus)])
    assert no_prune.removed == 0
    pruned = ingestor.ingest([str(corpus)], prune=True)
    assert pruned.removed == 1
    assert not [c for c in store.iter_chunks() if c.meta.article_id == "long.txt"]
    assert store.stats()["articles"] == 6


def test_exact_duplicates_are_skipped_and_reported(store_mode: str, tmp_path: Path,
                                                   embedder: Embedder) -> None:
    corpus = tmp_path / "dups"
    write_article(corpus, "a.txt", "Original", "The same body text.\n\nTwo paragraphs.")
    write_article(corpus, "b.txt", "Copy, new title", "The  same body TEXT.\nTwo paragraphs.")
    ingestor, store, _ = build(embedder)
    summary = ingestor.ingest([str(corpus)])
    assert summary.added == 1
    assert summary.duplicates == [{"id": "b.txt", "duplicate_of": "a.txt"}]
    # Later runs still recognise the copy against what is stored.
    write_article(corpus / "later", "c.txt", "Third copy", "The same body text. Two paragraphs.")
    assert ingestor.ingest([str(corpus)]).duplicates[-1] == {"id": "later/c.txt",
                                                               "duplicate_of": "a.txt"}
    assert store.stats()["articles"] == 1


def test_bad_files_are_reported_and_the_rest_is_stored(store_mode: str, tmp_path: Path,
                                                       embedder: Embedder) -> None:
    corpus = tmp_path / "mixed"
    write_article(corpus, "good.txt", "Good", "A good article about ferries.")
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "binary.md").write_bytes(bytes(range(256)) * 4)
    (corpus / "huge.txt").write_text("Huge\n\n" + "word " * 5000)
    (corpus / "latin.txt").write_bytes("Caf\xe9 news\n\nThe caf\xe9 reopened.".encode("latin-1"))
    (corpus / "lines.jsonl").write_text('{"title": "J", "body": "Json body."}\n{oops\n')
    ingestor, store, _ = build(embedder, **{"ingest.max_file_bytes": 10_000})
    summary = ingestor.ingest([str(corpus)])
    failed = {Path(f.source).name: f.reason for f in summary.failed}
    assert set(failed) == {"empty.txt", "binary.md", "huge.txt", "lines.jsonl:2"}
    assert summary.added == 3
    assert {c.meta.article_id for c in store.iter_chunks()} == {
        "good.txt", "latin.txt", "lines.jsonl:1"}
    # A file that turned unreadable keeps its stored article even with --prune.
    (corpus / "good.txt").write_bytes(b"\x00" * 10)
    assert ingestor.ingest([str(corpus)], prune=True).removed == 0
    assert "good.txt" in {c.meta.article_id for c in store.iter_chunks()}


def test_urls_and_feeds_from_a_local_server(store_mode: str, embedder: Embedder,
                                            local_server: Any) -> None:
    def slow(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(2)
        respond("<html></html>")(handler)

    server: LocalServer = local_server({})
    base = server.url
    page_two = HTML_PAGE.replace("tram line", "bus lane").replace(
        "https://city.example/news/tram", f"{base}/news/bus")
    server.routes.update({
        "/news/tram": respond(HTML_PAGE),
        "/news/bus": respond(page_two),
        "/feed.xml": respond(rss_feed([
            ("Bus lane approved", f"{base}/news/bus", "Short teaser."),
            ("Gone story", f"{base}/news/gone", "A teaser whose page is gone."),
            ("Dead link, no text", f"{base}/news/dead", ""),
        ]), "application/rss+xml"),
        "/slow": slow,
    })
    ingestor, store, _ = build(embedder, **{"ingest.fetch_timeout": 0.5})
    summary = ingestor.ingest([f"{base}/news/tram", f"{base}/feed.xml", f"{base}/missing",
                               f"{base}/slow"])
    failed = {f.source: f.reason for f in summary.failed}
    assert failed[f"{base}/missing"] == "HTTP 404 Not Found"
    assert failed[f"{base}/slow"] == "timed out"
    assert failed[f"{base}/news/dead"] == "HTTP 404 Not Found"
    assert summary.added == 3
    by_id = {c.meta.article_id: c for c in store.iter_chunks()}
    assert set(by_id) == {"https://city.example/news/tram", f"{base}/news/bus",
                          f"{base}/news/gone"}
    bus = by_id[f"{base}/news/bus"]
    assert bus.meta.title == "Bus lane approved"  # the feed's own title wins
    assert bus.meta.source == "Example Feed"
    assert "voted 7 to 2" in bus.text  # the linked page replaced the short teaser
    assert by_id[f"{base}/news/gone"].text == "A teaser whose page is gone."


def run_cli(args: list[str], env: dict[str, str] | None = None) -> Any:
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def test_cli_ingest_json_stats_and_exit_codes(data_dir: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "cli"
    write_article(corpus, "one.txt", "One", "First article text.")
    (corpus / "bad.txt").write_bytes(b"")
    result = run_cli(["ingest", str(corpus), "--json"])
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["added"] == 1 and summary["chunks"] == 1
    assert summary["failed"] == [{"source": str(corpus / "bad.txt"), "reason": "empty file"}]
    (corpus / "bad.txt").unlink()
    ok = run_cli(["ingest", str(corpus)])
    assert ok.exit_code == 0
    assert ok.stdout.startswith("added 0, updated 0, unchanged 1")
    stats = json.loads(run_cli(["stats", "--json"]).stdout)
    assert (stats["articles"], stats["chunks"], stats["model"]) == (1, 1, "all-MiniLM-L6-v2")
    assert stats["store"] == str(data_dir / "chroma")
    bad = run_cli(["stats"], env={"NEWSDESK_CHUNKING__MAX_TOKENS": "lots"})
    assert bad.exit_code == 2 and "chunking.max_tokens" in bad.stderr
    assert run_cli(["ingest"]).exit_code == 2


def test_sigkill_mid_ingest_then_rerun_matches_an_uninterrupted_run(tmp_path: Path,
                                                                    store_mode: str) -> None:
    corpus = tmp_path / "many"
    for i in range(40):
        write_article(corpus, f"{i:03d}.txt", f"Story {i}", long_body(f"topic {i}", 6 + i % 5))
    env = {**os.environ, "NEWSDESK_INGEST__WRITE_BATCH_CHUNKS": "3"}
    killed_dir, clean_dir = tmp_path / "killed", tmp_path / "clean"

    def env_for(target: Path) -> dict[str, str]:
        # Separate data dirs, and in server mode separate collections on the one server.
        return {**env, "NEWSDESK_DATA_DIR": str(target),
                "NEWSDESK_STORE__COLLECTION": f"{env.get('NEWSDESK_STORE__COLLECTION', 'nd')}"
                                              f"-{target.name}"}

    command = [sys.executable, "-m", "bot.cli", "-v", "ingest", str(corpus)]
    proc = subprocess.Popen(command, env=env_for(killed_dir),
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    assert proc.stderr is not None
    writes = 0
    for line in proc.stderr:
        if "wrote" in line:
            writes += 1
            if writes == 3:
                proc.send_signal(signal.SIGKILL)
                break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "ingest finished before it could be killed"

    for target in (killed_dir, clean_dir):
        done = subprocess.run([*command, "--json"], check=False, capture_output=True, text=True,
                              env=env_for(target), timeout=300)
        assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["added"] == 40

    def contents(path: Path) -> tuple[dict[str, tuple[str, str]], list[str]]:
        collection = env_for(path)["NEWSDESK_STORE__COLLECTION"]
        settings = load_settings(data_dir=str(path), **{"store.collection": collection})
        components = Components(settings)
        return snapshot(components.store), components.keyword_index.current().ids()

    (resumed, resumed_bm25), (clean, clean_bm25) = contents(killed_dir), contents(clean_dir)
    assert resumed == clean
    assert resumed_bm25 == clean_bm25 == sorted(clean)
    assert len({cid.rsplit("#", 1)[0] for cid in clean}) == 40


def test_unchanged_feed_costs_one_request_and_no_embedding(data_dir: Path, embedder: Embedder,
                                                           local_server: Any) -> None:
    etag = {"value": '"v1"'}
    body = "<p>" + "The harbour council met and agreed the budget. " * 15 + "</p>"
    feed = rss_feed([("Budget agreed", "https://feed.example/budget", body),
                     ("Second story", "https://feed.example/second", body.replace("budget",
                                                                                  "ferry"))])

    def conditional(handler: BaseHTTPRequestHandler) -> None:
        if handler.headers.get("If-None-Match") == etag["value"]:
            handler.send_response(304)
            handler.send_header("ETag", etag["value"])
            handler.end_headers()
            return
        data = feed.encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/rss+xml")
        handler.send_header("ETag", etag["value"])
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    server: LocalServer = local_server({"/feed.xml": conditional})
    url = f"{server.url}/feed.xml"
    ingestor, store, counting = build(embedder)
    first = ingestor.ingest([url])
    assert first.added == 2 and first.not_modified == []
    counting.embedded = 0
    server.requests.clear()

    again = ingestor.ingest([url], prune=True)
    assert server.requests == ["/feed.xml"]
    assert counting.embedded == 0
    assert again.not_modified == [url]
    assert (again.added, again.removed, again.failed) == (0, 0, [])
    assert store.stats()["articles"] == 2  # a 304 keeps the feed's articles, even with --prune

    etag["value"] = '"v2"'
    changed = ingestor.ingest([url])
    assert changed.not_modified == [] and changed.unchanged == 2


def test_ingest_without_arguments_uses_configured_sources(data_dir: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "configured"
    write_article(corpus, "one.txt", "One", "The first configured article.")
    config = tmp_path / "newsdesk.toml"
    config.write_text(f'[[sources]]\nlocation = "{corpus}"\nrefresh = "15m"\n')
    result = run_cli(["--config", str(config), "ingest", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["added"] == 1
    missing = run_cli(["ingest"])
    assert missing.exit_code == 2 and "[[sources]]" in missing.stderr


def test_day_filters_use_each_articles_own_calendar_day(data_dir: Path, tmp_path: Path,
                                                        embedder: Embedder) -> None:
    def page(name: str, when: str, title: str) -> None:
        (tmp_path / "desk").mkdir(exist_ok=True)
        (tmp_path / "desk" / name).write_text(
            f"<html><head><meta charset='utf-8'><title>{title}</title><meta property="
            f"'article:published_time' content='{when}'></head><body><article><h1>{title}</h1>"
            f"<p>The ferry pool council met and voted on the {title.lower()} after a long "
            "debate about repairs to the seaward wall.</p></article></body></html>")

    page("sydney.html", "2026-11-20T09:00:00+11:00", "Sydney pool vote")  # 19 Nov in UTC
    page("newyork.html", "2026-11-20T21:25:00-05:00", "New York pool vote")  # 21 Nov in UTC
    ingestor, store, _ = build(embedder)
    assert ingestor.ingest([str(tmp_path / "desk")]).added == 2
    # A chunk stored before offsets were kept: its published time in UTC, no offset.
    old = next(c for c in store.iter_chunks() if c.meta.article_id == "sydney.html")
    legacy = replace(old.meta, article_id="legacy.html",
                     published=old.meta.published.astimezone(UTC) if old.meta.published else None)
    with store.writing():
        store.upsert([Chunk("legacy.html#0", "legacy.html", 0, old.text, old.meta.header, 0,
                            len(old.text))], embedder.embed([old.text]), [legacy])
    keywords = KeywordIndex(tmp_path / "kw", store)

    def on(day: int) -> set[str]:
        where = SearchFilter(since=datetime(2026, 11, day, tzinfo=UTC),
                             until=datetime(2026, 11, day, 23, 59, 59, tzinfo=UTC))
        vector = {c.meta.article_id for c, _ in store.query(embedder.embed(["pool"])[0], 10,
                                                            where)}
        keyword = {article_of(cid) for cid, _ in keywords.current().search("pool vote", 10,
                                                                           where)}
        assert vector == keyword
        return vector

    assert on(20) == {"sydney.html", "newyork.html"}
    assert on(19) == {"legacy.html"} and on(21) == set()
    stored = {c.meta.article_id: c.meta.published for c in store.iter_chunks()}
    assert stored["sydney.html"] == datetime.fromisoformat("2026-11-20T09:00:00+11:00")
    assert str(stored["sydney.html"]) == "2026-11-20 09:00:00+11:00"
