"""Versions and corrections end to end: real model, real Chroma (embedded and server), the
keyword index, the CLI. The fixture articles (tests/fixtures/versions) are ingested, then
ingested again with changed text, as an edited file is."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli.commands import cli
from bot.factory import Components
from config import load_settings
from ingest.embed.embedder import Embedder
from tests.helpers import FIXTURES

pytestmark = pytest.mark.slow

VERSIONS = FIXTURES / "versions"
STORM = "storm-kell.txt"
BAKERY = "https://quaynews.example/bakery-closes"


class Newsroom:
    def __init__(self, root: Path, embedder: Embedder) -> None:
        self.root = root
        self.embedder = embedder
        root.mkdir()
        shutil.copy(VERSIONS / "library.txt", root / "library.txt")
        self.put("storm-kell", 1)
        self.put("bakery", 1)
        self.components = self.ingest()

    def put(self, name: str, version: int) -> None:
        shutil.copy(VERSIONS / f"{name}-v{version}.txt", self.root / f"{name}.txt")

    def ingest(self) -> Components:
        """A new process's components (settings read afresh from the environment)."""
        components = Components(load_settings(), embedder=self.embedder)
        summary = components.build_ingestor().ingest([str(self.root)])
        assert summary.failed == []
        return components

    def run(self, *args: str) -> Any:
        data_dir = str(self.components.settings.data_dir)
        result = CliRunner().invoke(cli, ["--data-dir", data_dir, *args])
        assert result.exit_code == 0, result.output
        return result.stdout


@pytest.fixture
def newsroom(store_mode: str, data_dir: Path, tmp_path: Path, embedder: Embedder) -> Newsroom:
    return Newsroom(tmp_path / "news", embedder)


def test_changes_name_old_and_new_values_and_old_versions_stay_out_of_search(
        newsroom: Newsroom) -> None:
    newsroom.put("storm-kell", 2)
    components = newsroom.ingest()
    store = components.store

    report = json.loads(newsroom.run("changes", "Storm Orla", "--json"))
    assert report["article_id"] == STORM and not report["abstained"]
    assert "Death toll raised from 3 to 5 (updated 22 Nov, was 21 Nov) [" in report["answer"]
    assert "Removed (updated 22 Nov, was 21 Nov): Two fishermen are still missing." in (
        report["answer"])
    cited = {c["chunk_id"] for c in report["citations"]}
    assert f"{STORM}@v1" in cited
    assert all(c == f"{STORM}@v1" or c.startswith(f"{STORM}#") for c in cited)
    (step,) = report["changes"]["steps"]
    assert {(v["old"], v["new"]) for v in step["values"]} >= {("3", "5"), ("three", "five")}
    assert step["from"]["updated"] is None and step["to"]["updated"].startswith("2026-11-22")

    # The old version is stored, but never searched, counted or indexed by keywords.
    (kept,) = store.versions([STORM])[STORM]
    assert "Two fishermen are still missing." in kept.text
    engine = components.build_engine()
    for query in ("Two fishermen are still missing", "Storm Orla kills three in Kell"):
        for passage in engine.search(query, k=20):
            assert "@v" not in passage.chunk_id and "fishermen" not in passage.text
            assert passage.title != "Storm Orla kills three in Kell"
    stats = store.stats()
    assert (stats["articles"], stats["chunks"]) == (3, store.count())
    chunk_ids = {chunk.id for chunk in store.iter_chunks(include_text=False)}
    assert set(components.keyword_index.current().ids()) == chunk_ids
    assert not any("@v" in chunk_id for chunk_id in chunk_ids)

    # Asked in words, the question is routed to the same answer.
    answer = engine.ask("What changed in the Storm Orla story?")
    assert "Death toll raised from 3 to 5" in answer.answer and not answer.abstained


def test_unchanged_text_adds_no_version_and_the_bound_is_honoured(
        newsroom: Newsroom, monkeypatch: pytest.MonkeyPatch) -> None:
    newsroom.put("storm-kell", 2)
    newsroom.ingest()
    again = newsroom.ingest()  # nothing changed
    assert [v.number for v in again.store.versions([STORM])[STORM]] == [1]
    monkeypatch.setenv("NEWSDESK_INGEST__KEEP_VERSIONS", "1")
    newsroom.put("storm-kell", 3)
    bounded = newsroom.ingest()
    (kept,) = bounded.store.versions([STORM])[STORM]
    assert kept.number == 2 and "rose to 5 on Saturday" in kept.text
    text = newsroom.run("changes", STORM)
    assert "Death toll raised from 5 to 6 (updated 23 Nov, was 22 Nov)" in text
    assert "earlier version 2" in text


def test_a_corrected_article_shows_its_correction_first(newsroom: Newsroom) -> None:
    newsroom.put("bakery", 2)
    newsroom.ingest()
    lines = newsroom.run("changes", BAKERY).splitlines()
    assert lines[1].startswith("Correction (updated 19 Nov): An earlier version of this "
                               "article said the bakery opened in 1921.")
    assert any("Changed “1921” to “1912”" in line for line in lines)
    # Its versions go with the article.
    (newsroom.root / "bakery.txt").unlink()
    assert json.loads(newsroom.run("ingest", str(newsroom.root), "--prune", "--json"))[
        "removed"] == 1
    assert newsroom.components.store.versions([BAKERY]) == {}
