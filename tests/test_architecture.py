"""Dependencies point one way: bot -> commands -> storage."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TRANSPORTS = {"nio", "pydiscourse", "apscheduler"}


def imported_modules(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield path, alias.name
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                yield path, node.module


@pytest.mark.parametrize("package", ["commands", "storage"])
def test_commands_and_storage_know_no_transport_or_scheduler(package):
    found = [(p.name, m) for p, m in imported_modules(package) if m.split(".")[0] in TRANSPORTS]
    assert found == []


@pytest.mark.parametrize("package,forbidden", [("commands", {"bot"}), ("storage", {"bot", "commands"})])
def test_no_import_points_back_up(package, forbidden):
    found = [(p.name, m) for p, m in imported_modules(package) if m.split(".")[0] in forbidden]
    assert found == []


def test_the_check_itself_sees_imports():
    found = {m for _, m in imported_modules("bot")}
    assert "commands.dispatcher" in found
