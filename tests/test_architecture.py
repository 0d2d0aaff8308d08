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


# ---------------------------------------------------------------- module by module

PACKAGES = ("bot", "commands", "storage")
HANDLERS = {"commands.announcements", "commands.checkins", "commands.council", "commands.help", "commands.mentoring",
            "commands.privacy", "commands.profile", "commands.records", "commands.roster"}
# What only the transports may know: the network, the forum, the scheduler.
TRANSPORT_LIBRARIES = {"nio", "pydiscourse", "apscheduler", "aiohttp", "requests"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))}


def imports_of(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``path`` imports, anywhere in it (also inside functions)."""
    here = module_name(path)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                # ``from commands import words`` imports the module commands.words.
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base)
    return {m for m in found if m in modules and m != here}


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(path, modules) for name, path in modules.items()}


def test_no_import_cycle_module_by_module():
    graph = import_graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert cycles == []


def test_services_know_nothing_above_them():
    """The domain core imports no handler, no dispatcher, no framework and no sentence."""
    above = HANDLERS | {"commands", "commands.dispatcher", "commands.framework", "commands.words", "commands.help"}
    graph = import_graph()
    found = sorted((name, m) for name, deps in graph.items() if name.startswith("commands.services")
                   for m in deps if m in above or m.startswith("commands.words."))
    assert found == []


def test_only_the_transports_import_network_forum_or_scheduler_libraries():
    found = sorted({(p.relative_to(ROOT).as_posix(), m) for package in ("commands", "storage")
                    for p, m in imported_modules(package) if m.split(".")[0] in TRANSPORT_LIBRARIES})
    assert found == []


def test_the_graph_sees_the_layers():
    graph = import_graph()
    assert "commands.services.work" in graph["commands.services.mentorships"]
    assert "commands.words" in graph["commands.dispatcher"]
    assert "storage.db" in graph["commands.dispatcher"]
