"""Which answerer the settings build ([answer] reader): the factory's wiring, no model run
(the models are only constructed; they load at the first question)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.factory import Components
from config import load_settings


def reading(monkeypatch: pytest.MonkeyPatch, role: str) -> dict[str, object]:
    monkeypatch.setenv("NEWSDESK_ANSWER__READER", role)
    return Components(load_settings())._reading()


def test_each_role_gets_its_parts(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert reading(monkeypatch, "off") == {}
    lead = reading(monkeypatch, "lead")
    assert lead["reader_role"] == "lead" and "ranker" not in lead
    answer = reading(monkeypatch, "answer")
    assert answer["reader_role"] == "answer" and answer["ranker"] is not None
    assert 0 < float(answer["no_answer"]) < 1 and 0 < float(answer["bold"]) <= 1  # type: ignore[arg-type]


def test_a_missing_ranker_falls_back_to_the_hand_made_scorer(
        data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr("retrieval.ranker.model_directory", lambda: tmp_path / "gone")
    assert reading(monkeypatch, "answer") == {}
    assert "ranker's model is missing" in caplog.text
