"""The `llm` answerer against a local OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli.commands import cli
from bot.factory import Components
from config import load_settings
from ingest.embed.embedder import Embedder
from ingest.sources.parse import parse_date
from tests.helpers import SAMPLES, ChatStub, numbered

pytestmark = pytest.mark.slow

BRIDGE = "https://example.com/samples/2025/03/harbour-bridge-reopens"
CUP = "https://example.com/samples/2025/05/cup-final-penalties"
SECRET = "sk-test-very-secret-0123456789"



@pytest.fixture
def stub() -> Iterator[ChatStub]:
    server = ChatStub()
    yield server
    server.close()


@pytest.fixture
def llm_env(data_dir: Path, tmp_path: Path, stub: ChatStub, embedder: Embedder,
            monkeypatch: pytest.MonkeyPatch) -> Callable[..., Components]:
    corpus = tmp_path / "news"
    shutil.copytree(SAMPLES, corpus)
    Components(load_settings(), embedder=embedder).build_ingestor().ingest([str(corpus)])
    monkeypatch.setenv("NEWSDESK_ANSWER__MODE", "llm")
    monkeypatch.setenv("NEWSDESK_LLM__BASE_URL", stub.base_url)
    monkeypatch.setenv("NEWSDESK_LLM__MODEL", "stub-model")
    monkeypatch.setenv("NEWSDESK_LLM_API_KEY", SECRET)

    def build(**overrides: Any) -> Components:
        return Components(load_settings(**overrides), embedder=embedder)

    return build


def test_cited_answer_from_the_model(llm_env: Callable[..., Components], stub: ChatStub) -> None:
    stub.reply = lambda r: (f"The repair cost 84 million euros "
                            f"[{numbered(r, 'Harbour Bridge Reopens')}].")
    answer = llm_env().build_engine().ask("How much did the bridge repair cost?")
    assert answer.answer == "The repair cost 84 million euros [1]."
    assert not answer.abstained and answer.note is None
    assert [c.passage.article_id for c in answer.citations] == [BRIDGE]
    request = stub.requests[-1]
    assert request["model"] == "stub-model"
    assert request["messages"][0]["role"] == "system"
    assert "[1]" in request["messages"][-1]["content"]
    # Passages carry their dates, and the model is told that the newest version wins.
    assert "Harbour Bridge Reopens After Two-Year Repair (" in request["messages"][-1]["content"]
    assert "14 Mar 2025)" in request["messages"][-1]["content"]
    assert 'say "as of <its date>"' in request["messages"][0]["content"]
    assert stub.headers[-1]["authorization"] == f"Bearer {SECRET}"


def test_time_words_set_the_window_for_the_model_too(llm_env: Callable[..., Components],
                                                     stub: ChatStub) -> None:
    stub.reply = lambda r: "The cup was won on penalties [1]."
    answer = llm_env().build_engine().ask("Who won the cup final in May?",
                                          as_of=parse_date("2025-06-30"))
    assert answer.window is not None and answer.window.label == "Articles from May 2025"
    content = stub.requests[-1]["messages"][-1]["content"]
    assert "24 May 2025" in content and "14 Mar 2025" not in content
    assert "Question: Who won the cup final?" in content  # the window's words are taken out


def test_invented_citation_is_dropped(llm_env: Callable[..., Components],
                                      stub: ChatStub) -> None:
    stub.reply = lambda r: (f"It cost 84 million euros [{numbered(r, 'Harbour Bridge')}] "
                            "and the king opened it [42].")
    answer = llm_env().build_engine().ask("How much did the bridge repair cost?")
    assert answer.answer == "It cost 84 million euros [1] and the king opened it."
    assert [c.n for c in answer.citations] == [1]


def test_model_abstention_lists_closest_articles(llm_env: Callable[..., Components],
                                                 stub: ChatStub) -> None:
    stub.reply = lambda r: "The articles don't say."
    answer = llm_env().build_engine().ask("What is the boiling point of neon?")
    assert answer.abstained and answer.citations == ()
    assert answer.answer.startswith("The articles don't say.")


def test_uncited_model_answer_falls_back_to_extractive(llm_env: Callable[..., Components],
                                                       stub: ChatStub) -> None:
    stub.reply = lambda r: "It cost a great deal of money."
    answer = llm_env().build_engine().ask("How much did the Kestrel Harbour Bridge repair cost?")
    assert "84 million euros" in answer.answer
    assert answer.note is not None and "cited no passage" in answer.note


def test_timeout_falls_back_to_extractive_with_a_note(
        llm_env: Callable[..., Components], stub: ChatStub,
        caplog: pytest.LogCaptureFixture) -> None:
    stub.delay = 3.0
    stub.reply = lambda r: "Too late [1]."
    with caplog.at_level(logging.DEBUG):
        answer = llm_env(**{"llm.timeout": 0.5}).build_engine().ask(
            "How much did the Kestrel Harbour Bridge repair cost?")
    # The late reply never made it into the answer (speed itself belongs in bench/).
    assert "Too late" not in answer.answer
    assert "84 million euros" in answer.answer
    assert [c.passage.article_id for c in answer.citations] == [BRIDGE]
    assert answer.note is not None and "timed out" in answer.note
    assert SECRET not in caplog.text


def test_streaming_tokens_and_condensed_followup(llm_env: Callable[..., Components],
                                                 stub: ChatStub) -> None:
    def reply(request: dict[str, Any]) -> str:
        if "Rewrite the user's last question" in request["messages"][0]["content"]:
            return "How much did Port Alder United pay for Nadia Kowalski?"
        return f"A club-record 3.5 million euros [{numbered(request, 'Cup Final')}]."

    stub.reply = reply
    pieces: list[str] = []
    history = [("Who scored both United goals in the cup final?", "Nadia Kowalski [1]")]
    answer = llm_env().build_engine().ask("How much did they pay for her?", history,
                                          on_token=pieces.append)
    assert len(pieces) > 3 and "".join(pieces).startswith("A club-record")
    assert answer.answer == "A club-record 3.5 million euros [1]."
    assert answer.citations[0].passage.article_id == CUP
    condense, final = stub.requests
    assert "Nadia Kowalski" in condense["messages"][-1]["content"]
    assert final["stream"] is True


def test_cli_ask_in_llm_mode_never_prints_the_key(llm_env: Callable[..., Components],
                                                  stub: ChatStub) -> None:
    llm_env()
    stub.reply = lambda r: f"84 million euros [{numbered(r, 'Harbour Bridge')}]."
    result = CliRunner().invoke(cli, ["-vv", "ask", "How much did the bridge repair cost?"])
    assert result.exit_code == 0, result.output
    assert "84 million euros [1]" in result.stdout and "Sources" in result.stdout
    assert SECRET not in result.output


def test_a_provider_error_that_echoes_the_key_is_one_redacted_line(
        llm_env: Callable[..., Components], stub: ChatStub) -> None:
    llm_env()
    stub.reject_key = True
    command = [sys.executable, "-m", "bot.cli", "ask", "How much did the bridge repair cost?"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "84 million euros" in done.stdout  # the extractive fallback answered
    assert SECRET not in done.stdout + done.stderr
    assert "Incorrect API key provided: [redacted]" in done.stderr
    warnings = done.stderr.strip().splitlines()
    assert len(warnings) == 2 and "Traceback" not in done.stderr, done.stderr  # log, note
    verbose = subprocess.run([command[0], *command[1:3], "-v", *command[3:]],
                             capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" in verbose.stderr  # the details are there when asked for
    assert SECRET not in verbose.stdout + verbose.stderr
