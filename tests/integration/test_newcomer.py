"""What a newcomer meets first (issue 29 §7), through the real CLI and store: an empty or
mistyped data directory is said at once, and a mistyped chat command is said to be unknown."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from bot.cli import cli
from bot.terminal import unknown_command


def test_asking_an_empty_store_says_so_and_names_the_directory(tmp_path: Path) -> None:
    empty = tmp_path / "mistyped"
    for command in (["ask", "Who won the final?"], ["chat"]):
        result = CliRunner().invoke(cli, ["--data-dir", str(empty), *command], input="Hi\n")
        assert result.exit_code == 1, result.output
        assert f"no articles in the store at {empty}" in result.output
        assert "The articles don't say" not in result.output


def test_a_mistyped_chat_command_is_unknown_not_a_question() -> None:
    assert unknown_command("/source")
    assert unknown_command("/histroy please")
    assert not unknown_command("/sources")
    assert not unknown_command("/reset")
    assert not unknown_command("What did /r/news say about the ferry?")
    assert not unknown_command("/etc/passwd was read by whom?")
