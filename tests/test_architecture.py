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


def test_services_write_no_sentence():
    """No service makes a message: what people read is made in the message layer (commands.words).
    Only the unit of work (which carries messages) and the outbox (which stores them) know the
    rich-text type."""
    carriers = {"commands.services.work", "commands.services.outbox"}
    graph = import_graph()
    found = sorted((name, m) for name, deps in graph.items() if name.startswith("commands.services")
                   and name not in carriers for m in deps if m == "commands.text")
    assert found == []
    makers = {"Msg", "bold", "code", "lines", "mention", "person", "join"}
    calls = sorted((path.name, node.func.id) for path in sorted((ROOT / "commands" / "services").glob("*.py"))
                   if module_name(path) not in carriers for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                   if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in makers)
    assert calls == []


def test_only_the_transports_import_network_forum_or_scheduler_libraries():
    found = sorted({(p.relative_to(ROOT).as_posix(), m) for package in ("commands", "storage")
                    for p, m in imported_modules(package) if m.split(".")[0] in TRANSPORT_LIBRARIES})
    assert found == []


def test_only_the_chart_child_imports_the_plotting_library():
    """matplotlib stays out of the bot's process: only the child that draws a chart loads it."""
    found = sorted({p.relative_to(ROOT).as_posix() for package in PACKAGES for p, m in imported_modules(package)
                    if m.split(".")[0] in {"matplotlib", "PIL"}})
    assert found == ["bot/chart_child.py"]
    graph = import_graph()
    assert not any("bot.chart_child" in deps for deps in graph.values())  # nobody imports it: it is run


def test_the_bot_starts_without_the_numeric_libraries():
    """NumPy and SciPy (for a cohort's assignment) load when a cohort is matched, never with the
    bot: the whole bot, every command and every message imported, leaves them out."""
    import subprocess
    import sys

    probe = ("import sys, bot.app, bot.matrix, bot.shell, commands, commands.words as w\n"
             "commands.build_registry(); w.known()\n"
             "print(sorted(m for m in ('numpy', 'scipy', 'matplotlib', 'PIL') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_child_processes_are_started_only_by_the_transports():
    """Starting a process is I/O: it lives in ``bot/`` and is injected, never in the core."""
    found = sorted({(p.relative_to(ROOT).as_posix(), m) for package in ("commands", "storage")
                    for p, m in imported_modules(package) if m.split(".")[0] in {"subprocess", "multiprocessing"}})
    calls = sorted(p.relative_to(ROOT).as_posix() for package in ("commands", "storage")
                   for p in (ROOT / package).rglob("*.py")
                   if "create_subprocess" in p.read_text(encoding="utf-8"))
    assert found == [] and calls == []


def test_the_graph_sees_the_layers():
    graph = import_graph()
    assert "commands.services.work" in graph["commands.services.mentorships"]
    assert "commands.words" in graph["commands.dispatcher"]
    assert "storage.db" in graph["commands.dispatcher"]


# ---------------------------------------------------------------- no private names of other packages

PROJECT = {"bot", "commands", "storage", "tests", "bench"}
# Underscored only so as not to clash with field names, and documented as public: a row's
# mapping and named-tuple methods (SQLAlchemy's Row, collections.namedtuple).
PUBLIC_UNDERSCORED = {"_mapping", "_asdict", "_fields", "_replace", "_make", "_t", "_tuple"}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _third_party(module: str) -> bool:
    import sys

    top = module.split(".")[0]
    return top not in PROJECT and top not in sys.stdlib_module_names


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else None
    return None


def private_uses(source: str) -> list[str]:
    """Private names of third-party packages that ``source`` imports or reaches: ``from pkg
    import _x``, ``import pkg._x``, and ``pkg._x`` on a name bound to a third-party module or
    to what one made (``self.client = Client(...)`` then ``self.client._get``), and, in a subclass
    of a third-party class, any private member that class already has."""
    tree = ast.parse(source)
    found: list[str] = []
    bound: set[str] = set()  # names and dotted targets standing for a third-party module or object
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not _third_party(alias.name):
                    continue
                if any(_private(part) for part in alias.name.split(".")):
                    found.append(f"import {alias.name}")
                bound.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and _third_party(node.module):
            if any(_private(part) for part in node.module.split(".")):
                found.append(f"from {node.module} import ...")
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"from {node.module} import {alias.name}")
                bound.add(alias.asname or alias.name)

    def from_bound(node: ast.AST) -> bool:
        while isinstance(node, (ast.Call, ast.Await, ast.Subscript)):
            node = node.func if isinstance(node, ast.Call) else node.value
        if isinstance(node, ast.Name):
            return node.id in bound
        if isinstance(node, ast.Attribute):
            return _dotted(node) in bound or from_bound(node.value)
        return False

    for _ in range(2):  # what is made from a bound name is bound too, wherever it is assigned
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and from_bound(node.value):
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    if _dotted(target):
                        bound.add(_dotted(target))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and _private(node.attr) and node.attr not in PUBLIC_UNDERSCORED
                and from_bound(node.value)):
            found.append(_dotted(node) or f"...{node.attr}")
        elif isinstance(node, ast.ClassDef) and any(from_bound(base) for base in node.bases):
            # A subclass of another package's class: overriding or reaching its private members
            # ties the project to that release just the same.
            inherited = _private_members([base for base in node.bases if from_bound(base)], tree)
            for inner in ast.walk(node):
                name = None
                if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)) or isinstance(inner, ast.Name):
                    name = inner.name if not isinstance(inner, ast.Name) else inner.id
                elif isinstance(inner, ast.Attribute) and isinstance(inner.value, ast.Name) and \
                        inner.value.id in ("self", "cls"):
                    name = inner.attr
                if name in inherited:
                    found.append(f"{node.name}.{name}")
    return sorted(set(found), key=found.index)


def _private_members(bases: list[ast.expr], tree: ast.Module) -> set[str]:
    """The private members of third-party base classes, read from the classes themselves."""
    import importlib

    where = {alias.asname or alias.name: (n.module, alias.name) for n in ast.walk(tree)
             if isinstance(n, ast.ImportFrom) and n.module for alias in n.names}
    members: set[str] = set()
    for base in bases:
        if isinstance(base, ast.Name) and base.id in where:
            module, name = where[base.id]
            try:
                cls = getattr(importlib.import_module(module), name)
            except (ImportError, AttributeError):
                continue
            members |= {m for klass in getattr(cls, "__mro__", ()) for m in vars(klass) if _private(m)}
    return members


def test_no_private_name_of_another_package_is_used():
    # The check itself sees each form.
    assert private_uses("from sqlalchemy.util import _x") == ["from sqlalchemy.util import _x"]
    assert private_uses("import aiosqlite._core") == ["import aiosqlite._core"]
    assert private_uses("import aiosqlite\naiosqlite.Connection._execute") == ["aiosqlite.Connection._execute"]
    assert private_uses("from pydiscourse import DiscourseClient\nclass A:\n def __init__(self):\n"
                        "  self.client = DiscourseClient('u')\n def f(self):\n  return self.client._get('/x')"
                        ) == ["self.client._get"]
    assert private_uses("from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection as A\n"
                        "class C(A):\n    _cursor_cls = object\n    _mine = 1") == ["C._cursor_cls"]
    assert private_uses("import os\nos._exit(0)\nfrom storage import db\ndb._upgrade_sync\nrow._mapping") == []
    found = {
        (path.relative_to(ROOT).as_posix(), use)
        for package in sorted(PROJECT)
        for path in sorted((ROOT / package).rglob("*.py"))
        for use in private_uses(path.read_text(encoding="utf-8"))
    }
    assert found == set()
