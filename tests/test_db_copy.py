"""`mentorbot db copy`: a whole program moved to another database (on the PostgreSQL pass: SQLite to PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot import cli
from commands.framework import RoomKind
from storage.db import Database
from storage.models import metadata
from tests.conftest import COUNCIL, database_url

ANA, BOB = "@ana:example.org", "@bob:example.org"


async def counts(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            return {t.name: (await conn.execute(select(func.count()).select_from(t))).scalar_one()
                    for t in metadata.sorted_tables}
    finally:
        await db.close()


@pytest.fixture
async def busy_program(tmp_path, policy):
    """A program on SQLite with something in most tables."""
    from bot.config import Settings, StorageSettings
    from bot.runtime import Runtime
    from commands.clock import ManualClock
    from tests.conftest import START, BotHarness, RecordingOutbox
    from bot import demo

    url = f"sqlite+aiosqlite:///{tmp_path / 'program.db'}"
    runtime = Runtime(Settings(storage=StorageSettings(url=url), program=policy), ManualClock(START), RecordingOutbox())
    await runtime.start()
    await demo.seed(runtime.db, START, policy)
    bot = BotHarness(runtime, runtime.clock, runtime.outbox)
    for sender, line, room in ((BOB, "checkin @ana:example.org tomorrow 16:00", RoomKind.DM),
                               (ANA, "diary the copy keeps me", RoomKind.DM),
                               (BOB, "capacity 0", RoomKind.DM),  # below his load: he keeps his mentee
                               (COUNCIL, "!announce all The program moves to a new home | Nothing changes for you.",
                                RoomKind.COUNCIL)):
        assert (await bot.send(sender, line, room)).outcome == "ok", line
    await runtime.advance_to(START + timedelta(days=3), runtime.clock)
    await runtime.close()
    return url


async def test_db_copy_moves_every_row_and_the_bot_goes_on_there(busy_program, tmp_path, policy, capsys):
    target = database_url(tmp_path / "target", empty=True)
    before = await counts(busy_program)
    assert await cli.db_copy(busy_program, target) == 0
    out = capsys.readouterr().out
    assert "every count checked" in out and "MISMATCH" not in out
    assert await counts(target) == before and sum(before.values()) > 40
    copied = Database(target)
    async with copied.session() as session:
        from storage.models import Person
        bob = (await session.exec(select(Person).where(Person.matrix_id == BOB))).scalars().one()
    await copied.close()
    assert bob.capacity == 0  # kept as it was, below his load
    assert bob.active_mentees == 1  # counted once by the destination, not copied and counted again

    # The bot runs on the copy: records are there, and new rows get fresh ids.
    from bot.config import Settings, StorageSettings
    from bot.runtime import Runtime
    from commands.clock import ManualClock
    from tests.conftest import START, BotHarness, RecordingOutbox

    runtime = Runtime(Settings(storage=StorageSettings(url=target), program=policy),
                      ManualClock(START + timedelta(days=4)), RecordingOutbox())
    await runtime.start()
    try:
        bot = BotHarness(runtime, runtime.clock, runtime.outbox)
        assert "the copy keeps me" in await bot.reply(ANA, "diary")
        assert "Written in your diary" in await bot.reply(ANA, "diary a new entry after the move")
        assert "Draft announcement #4" in await bot.reply(
            COUNCIL, "!announce all A second announcement after it | The ids go on from the copy.", RoomKind.COUNCIL)
        assert "Bob" in await bot.reply(COUNCIL, "history @ana:example.org")
    finally:
        await runtime.close()


async def test_db_copy_refuses_a_destination_with_data(busy_program, tmp_path, capsys):
    target = database_url(tmp_path / "target", empty=True)
    assert await cli.db_copy(busy_program, target) == 0
    capsys.readouterr()
    assert await cli.db_copy(busy_program, target) == cli.EXIT_CONFIG
    assert "the destination already has data" in capsys.readouterr().err
    assert await cli.db_copy(busy_program, busy_program) == cli.EXIT_CONFIG
    assert await cli.db_copy("mysql://x", target) == cli.EXIT_CONFIG
    assert "--from unsupported database URL" in capsys.readouterr().err
