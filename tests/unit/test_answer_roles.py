"""Which answerer the settings build ([answer] reader): the factory's wiring, no model run
(the models are only constructed; they load at the first question)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.factory import Components
from config import load_settings
from config.errors import ConfigError


def reading(monkeypatch: pytest.MonkeyPatch, role: str) -> dict[str, object]:
    monkeypatch.setenv("NEWSDESK_ANSWER__READER", role)
    return Components(load_settings())._reading()


def test_each_role_gets_its_parts(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert reading(monkeypatch, "off") == {}
    answer = reading(monkeypatch, "answer")
    assert answer["reader"] is not None and answer["ranker"] is not None
    assert 0 < float(answer["no_answer"]) < 1 and 0 < float(answer["bold"]) <= 1  # type: ignore[arg-type]


def test_a_missing_ranker_falls_back_to_the_hand_made_scorer(
        data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr("retrieval.answer.ranker.model_directory", lambda: tmp_path / "gone")
    assert reading(monkeypatch, "answer") == {}
    assert "ranker's model is missing" in caplog.text


def test_the_retired_lead_role_is_a_clear_configuration_error(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # "lead" (the hand-made model choosing, the reader giving the bold value) was retired
    # with the trained answerer in December 2026: a config that still names it is told so.
    monkeypatch.setenv("NEWSDESK_ANSWER__READER", "lead")
    with pytest.raises(ConfigError, match=r"answer\.reader: Input should be .off. or .answer."):
        load_settings()
