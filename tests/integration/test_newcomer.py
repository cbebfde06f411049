"""What a newcomer meets first (issue 29 §7), through the real CLI and store: an empty or
mistyped data directory is said at once (and not created, by a question or a service), the
program's options work after the command too, and a mistyped chat command is said to be
unknown."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.commands import cli, program_options_first
from bot.cli.terminal import unknown_command


def test_asking_an_empty_store_says_so_and_names_the_directory(tmp_path: Path) -> None:
    empty = tmp_path / "mistyped"
    for command in (["ask", "Who won the final?"], ["chat"]):
        result = CliRunner().invoke(cli, ["--data-dir", str(empty), *command], input="Hi\n")
        assert result.exit_code == 1, result.output
        assert f"no articles in the store at {empty}" in result.output
        assert "The articles don't say" not in result.output
    assert not empty.exists()  # a question creates no directory
    for command in (["stats"], ["search", "bridge"], ["timeline", "bridge"],
                    ["changes", "bridge"], ["brief"], ["doctor"], ["feedback"]):
        result = CliRunner().invoke(cli, ["--data-dir", str(empty), *command])
        said = "no data directory" if command == ["feedback"] else "no store"  # votes: no store
        assert result.exit_code == 1 and f"{said} at {empty}" in result.output, (
            command, result.output)
        assert not empty.exists()  # nor does reading the store (a fresh-clone tester's finding)


def test_a_service_started_on_a_mistyped_directory_says_so_and_creates_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `serve` created the directory and a store in it, said it was ready and answered every
    # question "The articles don't say" (a fresh-clone tester's finding).
    monkeypatch.setenv("NEWSDESK_API_TOKEN", "t" * 32)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1-2-abc")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s" * 32)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    empty = tmp_path / "mistyped"
    for command in (["serve", "--port", "0"], ["slack", "--http", "--port", "0"], ["mcp"]):
        result = CliRunner().invoke(cli, ["--data-dir", str(empty), *command])
        assert result.exit_code == 1, (command, result.output)
        assert f"no store at {empty}" in result.output
        assert not empty.exists()


def test_the_programs_options_are_taken_after_the_command_too(tmp_path: Path) -> None:
    empty = tmp_path / "elsewhere"
    for args in (["ask", "Who won?", "--data-dir", str(empty)],
                 ["ask", f"--data-dir={empty}", "Who won?"],
                 ["stats", "-v", "--data-dir", str(empty)]):
        result = CliRunner().invoke(cli, args)
        assert f"no articles in the store at {empty}" in result.output or (
            args[0] == "stats" and str(empty) in result.output), (args, result.output)
    # after `--` an argument is the question's, whatever it looks like
    assert program_options_first(["ask", "--", "--data-dir", "x"]) == [
        "ask", "--", "--data-dir", "x"]
    assert program_options_first(["--data-dir", "d", "ask", "q", "-v"]) == [
        "-v", "--data-dir", "d", "ask", "q"]


def test_a_mistyped_chat_command_is_unknown_not_a_question() -> None:
    assert unknown_command("/source")
    assert unknown_command("/histroy please")
    assert not unknown_command("/sources")
    assert not unknown_command("/reset")
    assert not unknown_command("What did /r/news say about the ferry?")
    assert not unknown_command("/etc/passwd was read by whom?")
