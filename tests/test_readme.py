"""The README stays true: its commands are what CI runs, its reference is what the bot knows."""

from __future__ import annotations

import re
from pathlib import Path

from bot import docs

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")


def shell_blocks() -> list[str]:
    return [b.strip() for b in re.findall(r"```sh\n(.*?)```", README, re.S)]


def test_the_test_command_is_exactly_what_ci_runs():
    install_and_shell, tests = shell_blocks()[:2]
    assert install_and_shell.endswith("mentorbot shell --demo")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert ci == tests


def test_the_command_reference_is_generated_from_the_declarations():
    assert docs.COMMANDS == ROOT / "docs" / "commands.md"
    assert docs.updated(COMMANDS) == COMMANDS, "run: python -m bot.docs --write"
    assert "| `mentor add <person> [capacity]` |" in COMMANDS


def test_the_reference_lives_in_docs_not_in_the_readme():
    assert docs.START not in README and docs.END not in README
    assert "docs/commands.md" in README
