"""Wire copies share their lead story (issue 29): two interviews that share a paragraph of
background are not grouped, while another paper's copy of one of them still is — real
model, real Chroma, the articles written as markdown files and ingested as a user would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.commands import cli
from bot.factory import Components
from config import load_settings
from ingest.embed.embedder import Embedder
from tests.shared_background import write_interviews

pytestmark = pytest.mark.slow

MAYOR, CHIEF, COPY = "mayor-interview.md", "fire-chief-interview.md", "mayor-interview-gazette.md"


def test_interviews_sharing_a_background_paragraph_are_not_wire_copies(
        data_dir: Path, tmp_path: Path, embedder: Embedder) -> None:
    components = Components(load_settings(), embedder=embedder)
    ingestor = components.build_ingestor()
    # The two interviews alone: no copies.
    first = ingestor.ingest([str(write_interviews(tmp_path / "desk", with_copy=False))])
    assert first.added == 2 and first.wire_copies == []
    # The gazette's copy of the mayor's interview arrives: grouped with the mayor's, against
    # the store, and never with the fire chief's (which shares the same paragraph with it).
    later = ingestor.ingest([str(write_interviews(tmp_path / "desk"))])
    assert later.added == 1
    # (One story, named after its first copy: the same day, so the smaller id.)
    assert later.wire_copies == [{"id": MAYOR, "copy_of": COPY}]
    metas = {c.meta.article_id: c.meta for c in components.store.iter_chunks(False)
             if c.meta.chunk_index == 0}
    assert metas[COPY].group == metas[MAYOR].group != metas[CHIEF].group
    assert metas[CHIEF].copy_of is None and metas[CHIEF].group == CHIEF
    # The search shows the mayor's story once, "also ran in" its copy; the chief's stands alone.
    result = CliRunner().invoke(cli, ["search", "--json", "-k", "5",
                                      "the Elme flood in Altmarkt"])
    assert result.exit_code == 0, result.output
    passages = {p["article_id"]: p for p in json.loads(result.stdout)}
    assert CHIEF in passages and passages[CHIEF]["also_ran_in"] == []
    assert (MAYOR in passages) != (COPY in passages)
    shown = passages.get(MAYOR) or passages[COPY]
    assert {r["article_id"] for r in shown["also_ran_in"]} == {MAYOR, COPY} - {
        shown["article_id"]}
    # Looked for again across the whole store: the same groups, nothing changes.
    regrouped = CliRunner().invoke(cli, ["regroup", "--json"])
    assert regrouped.exit_code == 0, regrouped.output
    assert json.loads(regrouped.stdout) == {"regrouped": 0}
