"""Shared fixtures: a real database per test and a bot driven through the real dispatcher."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import Settings, StorageSettings
from bot.runtime import Runtime
from bot.shell import Shell, render, sent
from commands.clock import ManualClock
from commands.dispatcher import Result
from commands.framework import RoomKind
from commands.messages import Incoming, Rendered, Sent
from commands.policy import ProgramPolicy
from storage.models import metadata

COUNCIL = "@cy:example.org"
DELIVERY_TABLES = {"outbox_message", "handled_event", "courtesy_notice"}
START = datetime(2027, 1, 4, 9, 0, tzinfo=timezone.utc)


def pytest_addoption(parser) -> None:
    parser.addoption("--postgres", action="store_true",
                     help="run every test on a throwaway PostgreSQL cluster instead of SQLite")


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "homeserver: runs against a real Synapse (deselect with -m 'not homeserver')")
    config.addinivalue_line("markers", "sqlite_only: does not depend on the database (or is about SQLite itself): "
                                       "runs in the SQLite pass, and is left out of the PostgreSQL pass")


def pytest_collection_modifyitems(config, items) -> None:
    # Every test that needs a homeserver is marked, so the core runs on its own in a minute or two.
    for item in items:
        if "synapse" in item.fixturenames:
            item.add_marker(pytest.mark.homeserver)
    if config.getoption("--postgres"):  # what the SQLite pass runs already, and is the same on both
        kept = [item for item in items if item.get_closest_marker("sqlite_only") is None]
        if len(kept) < len(items):
            config.hook.pytest_deselected(items=[item for item in items if item not in kept])
            items[:] = kept


def pytest_sessionstart(session) -> None:
    if session.config.getoption("--postgres"):
        import tempfile

        from tests import postgres

        server = postgres.Postgres(Path(tempfile.mkdtemp(prefix="mentorbot-pg-")))
        server.start()
        postgres.ACTIVE = server


def pytest_sessionfinish(session, exitstatus) -> None:
    from tests import postgres

    if postgres.ACTIVE is not None:
        postgres.ACTIVE.stop()
        postgres.ACTIVE = None


def pytest_terminal_summary(terminalreporter) -> None:
    import sys

    bad_input = sys.modules.get("tests.test_bad_input")
    if bad_input is not None and bad_input.CASES["ran"]:
        terminalreporter.write_line(f"bad input: {bad_input.CASES['ran']} property-based cases ran")


def pytest_report_header(config) -> str:
    return "database: PostgreSQL (throwaway cluster)" if config.getoption("--postgres") else "database: SQLite"


def database_url(tmp_path: Path, *, empty: bool = False) -> str:
    """A fresh database for one test: SQLite in the test's own folder, or on the PostgreSQL pass
    a database of its own (migrated to head unless ``empty``)."""
    from tests import postgres

    if postgres.ACTIVE is not None:
        return postgres.ACTIVE.database(str(tmp_path), empty=empty)
    target = tmp_path / "mentorbot.db"
    if not empty and not target.exists():
        shutil.copyfile(_sqlite_template(), target)  # migrated once, copied for each test
    return f"sqlite+aiosqlite:///{target}"


_TEMPLATE: list[Path] = []


def _sqlite_template() -> Path:
    """An SQLite database the migrations brought from empty to head, made once per run."""
    if not _TEMPLATE:
        import tempfile

        from storage.db import Database
        from tests.postgres import _in_thread

        path = Path(tempfile.mkdtemp(prefix="mentorbot-template-")) / "template.db"

        async def migrate() -> None:
            db = Database(f"sqlite+aiosqlite:///{path}")
            try:
                await db.upgrade()
            finally:
                await db.close()

        _in_thread(migrate())
        _TEMPLATE.append(path)
    return _TEMPLATE[0]


def storage_toml(tmp_path: Path) -> str:
    """The [storage] section of a config file for a bot run as its own process in this test."""
    return f'[storage]\nurl = "{database_url(tmp_path)}"\n'


def on_postgres() -> bool:
    from tests import postgres

    return postgres.ACTIVE is not None


class RecordingOutbox:
    def __init__(self) -> None:
        self.sent: list[Rendered] = []
        self.txn_ids: list[str] = []

    async def send(self, message: Rendered, txn_id: str) -> Sent:
        self.sent.append(message)
        self.txn_ids.append(txn_id)
        return sent(message, txn_id)  # posted where the shell posts it, so that `% react` finds it


class BotHarness:
    """Drives the bot like people would, and shows what it sent."""

    def __init__(self, runtime: Runtime, clock: ManualClock, outbox: RecordingOutbox) -> None:
        self.runtime, self.clock, self.outbox = runtime, clock, outbox
        self.shell = Shell(runtime, clock)

    @property
    def db(self):
        return self.runtime.db

    async def send(self, sender: str, text: str, room: RoomKind = RoomKind.DM) -> Result:
        room_id = "!other:test" if room is RoomKind.OTHER else None
        return await self.runtime.handle(Incoming(sender=sender, room=room, text=text, room_id=room_id))

    async def say(self, line: str) -> list[str]:
        """Send one line in the shell's format; returns what the bot sent, rendered as the shell does."""
        before = len(self.outbox.sent)
        await self.shell.feed(line)
        return [render(m) for m in self.outbox.sent[before:]]

    async def reply(self, sender: str, text: str, room: RoomKind = RoomKind.DM) -> str:
        """The plain text of the single reply to a message."""
        result = await self.send(sender, text, room)
        assert len(result.messages) == 1, [m.msg.plain() for m in result.messages]
        return result.messages[0].msg.plain()

    async def snapshot(self) -> dict[str, list[tuple]]:
        """Every row of the program's data, to prove that a refused command changed nothing.

        The bot's own delivery records (the outbox and the handled events) change
        with every answer, refusals included, so they are left out.
        """
        out: dict[str, list[tuple]] = {}
        async with self.db.session() as session:
            for table in metadata.sorted_tables:
                if table.name in DELIVERY_TABLES:
                    continue
                rows = (await session.exec(select(table).order_by(*table.primary_key.columns))).all()
                out[table.name] = [tuple(r) for r in rows]
        return out


@pytest.fixture
def policy() -> ProgramPolicy:
    return ProgramPolicy(name="Test program", timezone="Europe/Berlin", council=[COUNCIL])


@pytest.fixture
async def bot(tmp_path, policy):
    settings = Settings(storage=StorageSettings(url=database_url(tmp_path)), program=policy)
    clock = ManualClock(START)
    outbox = RecordingOutbox()
    runtime = Runtime(settings, clock, outbox)
    await runtime.start()
    harness = BotHarness(runtime, clock, outbox)
    try:
        yield harness
    finally:
        await runtime.close()


@pytest.fixture
async def demo_bot(bot):
    from bot import demo

    assert await demo.seed(bot.db, bot.clock.now(), bot.runtime.settings.program)
    return bot


@pytest.fixture
def fake():
    """A fake Discourse on 127.0.0.1 that answers like the real one (tests/fake_discourse.py)."""
    from tests.fake_discourse import FakeDiscourse

    server = FakeDiscourse().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def synapse(tmp_path_factory):
    """One real Synapse for the whole run; tests keep apart by using their own users and rooms."""
    from tests.synapse import Synapse

    server = Synapse(tmp_path_factory.mktemp("synapse"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
