"""Data at rest: the database files are the bot's user's alone, and erased text leaves the disk.

The files are SQLite's (the embedded default), so these tests make an SQLite database of
their own on both passes; the PostgreSQL pass checks the same erasure through the database
itself (tests/test_privacy.py).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from commands.framework import RoomKind
from storage.db import Database

ANA = "@ana:example.org"
MARKER = "Zq7-erase-me-from-the-disk"

@pytest.fixture
async def sqlite_bot(tmp_path, policy):
    """The demo program on an SQLite file of its own, whichever database the pass uses."""
    from bot import demo
    from bot.config import Settings, StorageSettings
    from bot.runtime import Runtime
    from commands.clock import ManualClock
    from tests.conftest import START, BotHarness, RecordingOutbox

    settings = Settings(storage=StorageSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'own' / 'mentorbot.db'}"),
                        program=policy)
    runtime = Runtime(settings, ManualClock(START), RecordingOutbox())
    await runtime.start()
    await demo.seed(runtime.db, START, policy)
    try:
        yield BotHarness(runtime, runtime.clock, runtime.outbox)
    finally:
        await runtime.close()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def database_file(bot) -> Path:
    return Path(bot.runtime.db.url.split("///", 1)[1])


async def test_forgotten_text_is_neither_in_the_database_file_nor_in_its_log(sqlite_bot):
    demo_bot = sqlite_bot
    for n in range(3):
        await demo_bot.send(ANA, f"diary {MARKER} {n}: my thoughts about the last session")
    path = database_file(demo_bot)
    on_disk = b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    assert MARKER.encode() in on_disk  # written, as it should be
    await demo_bot.send(ANA, "forget me")
    result = await demo_bot.send(ANA, "forget me confirm")
    assert result.outcome == "ok"
    files = [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
    assert {p.name for p in files} >= {path.name, path.name + "-wal"}
    for p in files:  # the database (erased rows zeroed), and its write-ahead log (emptied after the erasure)
        assert MARKER.encode() not in p.read_bytes(), p.name


async def test_the_database_and_its_side_files_are_private(tmp_path, sqlite_bot):
    demo_bot = sqlite_bot
    path = database_file(demo_bot)
    await demo_bot.send(ANA, "diary a few words")
    for suffix in ("", "-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            assert mode(side) == 0o600, (side.name, oct(mode(side)))
    # A database made before, open to everyone on the machine, is narrowed at the next start.
    older = tmp_path / "older" / "mentorbot.db"
    older.parent.mkdir()
    older.touch()
    os.chmod(older, 0o644)
    db = Database(f"sqlite+aiosqlite:///{older}")
    try:
        await db.upgrade()
        await db.check_writable()
    finally:
        await db.close()
    assert mode(older) == 0o600
    # And a new one is made private whatever the process's umask.
    fresh = tmp_path / "fresh" / "program.db"
    previous = os.umask(0o022)
    try:
        db = Database(f"sqlite+aiosqlite:///{fresh}")
        await db.upgrade()
        await db.close()
    finally:
        os.umask(previous)
    assert mode(fresh) == 0o600


async def test_a_person_who_is_forgotten_leaves_nothing_in_the_courtesy_notes(demo_bot):
    from sqlmodel import select

    from storage.models import CourtesyNotice

    await demo_bot.send(ANA, "!help", RoomKind.OTHER)  # noted: told where to go, once a day
    async with demo_bot.db.session() as s:
        assert (await s.exec(select(CourtesyNotice.kind).where(CourtesyNotice.user_id == ANA))).all() == ["other_room"]
    await demo_bot.send(ANA, "forget me")
    await demo_bot.send(ANA, "forget me confirm")
    async with demo_bot.db.session() as s:
        assert (await s.exec(select(CourtesyNotice).where(CourtesyNotice.user_id == ANA))).all() == []
