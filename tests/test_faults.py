"""Faults, with the bot as a real `mentorbot run` process on a real Synapse.

- killed with SIGKILL in the middle of a burst of 500 commands, then started again:
  every command answered exactly once, no record written twice;
- the homeserver stopped for 60 seconds: the bot resumes by itself, nothing lost;
- the database locked by another writer for 10 seconds: commands wait and succeed;
- Discourse answering 503 for the whole time an announcement is confirmed: it is
  delivered once Discourse recovers.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text

from storage.db import Database
from storage.models import DiaryEntry
from tests.conftest import database_url, on_postgres, storage_toml
from tests.matrix_helpers import person, unique
from tests.synapse import Synapse


class BotProcess:
    """`mentorbot run` in its own process, started and stopped (or killed) like a service."""

    def __init__(self, tmp_path: Path, synapse: Synapse, account, mentors_room: str, *, council_room: str,
                 council: tuple[str, ...] = (), extra: str = "") -> None:
        self.tmp_path, self.account = tmp_path, account
        lines = [f'[matrix]\nhomeserver = "{synapse.url}"\nuser_id = "{account.user_id}"\n'
                 f'mentors_room = "{mentors_room}"\ncouncil_room = "{council_room}"\n'
                 'store_path = "store"\nencryption = false\n']
        lines.append(storage_toml(tmp_path))
        councillors = ", ".join(f'"{c}"' for c in council)
        lines.append(f'[program]\ntimezone = "Europe/Berlin"\ncouncil = [{councillors}]\n')
        # Bursts of a hundred commands from one person, far beyond a person's budget: these
        # tests are about faults; the budget has tests of its own.
        lines.append('[limits]\ncommand_burst = 1000\ncommands_per_minute = 10000\n')
        lines.append(extra)
        (tmp_path / "config.toml").write_text("".join(lines))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORBOT_")}
        self.env["MENTORBOT_MATRIX_PASSWORD"] = account.password
        self.exe = shutil.which("mentorbot", path=str(Path(sys.executable).parent))
        self.process: asyncio.subprocess.Process | None = None
        self.logs: list[Path] = []

    async def start(self) -> None:
        log = self.tmp_path / f"bot-{len(self.logs)}.log"
        self.logs.append(log)
        self.process = await asyncio.create_subprocess_exec(
            self.exe, "run", "-v", cwd=self.tmp_path, env=self.env, stdout=asyncio.subprocess.DEVNULL,
            stderr=open(log, "wb"))

    async def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> int:
        if self.process is None or self.process.returncode is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), 60)
        except asyncio.TimeoutError:
            self.process.kill()
            await self.process.wait()
            raise AssertionError("the bot did not stop within a minute of SIGTERM")

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.logs if p.exists())


async def diary_replies(someone, room: str, bot_id: str) -> list[str]:
    """The event ids the bot's diary answers in ``room`` reply to, from the room's full history."""
    from nio import MessageDirection, RoomMessagesError

    found, token = [], ""
    while True:
        page = await someone.client.room_messages(room, start=token, direction=MessageDirection.back, limit=100)
        assert not isinstance(page, RoomMessagesError), page
        for event in page.chunk:
            content = event.source.get("content", {})
            if event.sender == bot_id and content.get("body", "").startswith("Written in your diary"):
                found.append(content["m.relates_to"]["m.in_reply_to"]["event_id"])
        if not page.chunk or not page.end:
            return found
        token = page.end


async def diary_rows(tmp_path: Path) -> list[str]:
    db = Database(database_url(tmp_path))
    try:
        async with db.session() as session:
            return list((await session.exec(select(DiaryEntry.text))).scalars().all())
    finally:
        await db.close()


async def test_kill_9_in_a_burst_of_500_commands_answers_each_once_and_writes_each_once(synapse, tmp_path):
    account = synapse.register(unique("burstbot"))
    people = [await person(synapse, f"v{i}", tmp_path) for i in range(5)]
    bot = None
    try:
        mentors = await people[0].room(account.user_id, name="mentors")
        council = await people[0].room(account.user_id, name="council")
        bot = BotProcess(tmp_path, synapse, account, mentors, council_room=council)
        await bot.start()
        rooms = []
        for someone in people:
            room = await someone.dm(account.user_id)
            await someone.until_joined(room, account.user_id, timeout=60)
            await someone.say(room, "request help with my first event")
            await someone.replies(account.user_id, room, 1, timeout=60)
            rooms.append(room)

        async def hundred(index: int) -> list[str]:
            someone, room = people[index], rooms[index]
            return [await someone.say(room, f"diary entry {index}-{n}") for n in range(100)]

        burst = asyncio.gather(*(hundred(i) for i in range(5)))

        def answered() -> int:
            return sum(len([s for s in p.from_user(account.user_id, room) if "Written in your diary" in s.body])
                       for p, room in zip(people, rooms))

        async def kill_midway() -> None:
            while answered() < 60:
                await asyncio.sleep(0.05)
            await bot.kill()

        killer = asyncio.create_task(kill_midway())
        sent = sum(await burst, [])
        await asyncio.wait_for(killer, 120)
        answered_before = answered()
        await bot.start()
        # Read each DM's whole history from the homeserver (a client's live sync may skip
        # events when many arrive at once).
        deadline = time.monotonic() + 240
        while True:
            replies = [await diary_replies(p, room, account.user_id) for p, room in zip(people, rooms)]
            if all(len(r) >= 100 for r in replies) or time.monotonic() > deadline:
                break
            await asyncio.sleep(3)
        await asyncio.sleep(3)  # room for a duplicate to show itself
        replied_to = [e for p, room in zip(people, rooms) for e in await diary_replies(p, room, account.user_id)]
        assert sorted(replied_to) == sorted(sent)  # all 500, each exactly once
        assert 0 < answered_before < 500  # the kill came in the middle
        entries = await diary_rows(tmp_path)
        assert sorted(entries) == sorted(f"entry {i}-{n}" for i in range(5) for n in range(100))
    finally:
        if bot is not None:
            await bot.stop()
        for someone in people:
            await someone.stop()


@pytest.mark.homeserver  # the Matrix side: a homeserver that goes away, or `mentorbot run` itself
async def test_the_homeserver_down_for_a_minute_the_bot_resumes_by_itself(tmp_path):
    server = Synapse(tmp_path / "outage-synapse")
    server.start()
    bob = None
    bot = None
    try:
        account = server.register("mentorbot")
        bob = await person(server, "bob", tmp_path)
        mentors = await bob.room(account.user_id, name="mentors")
        council = await bob.room(account.user_id, name="council")
        bot = BotProcess(tmp_path, server, account, mentors, council_room=council)
        await bot.start()
        await bob.until_joined(mentors, account.user_id, timeout=60)
        await bob.say(mentors, "!help")
        await bob.replies(account.user_id, mentors, 1, timeout=60)
        asked = await bob.say(mentors, "!mentors")  # its answer may be on its way when the server goes
        server.stop()
        await asyncio.sleep(60)
        server.start()
        later = await bob.say(mentors, "!pool")
        await bob.replies(account.user_id, mentors, 3, timeout=120)
        await asyncio.sleep(2)
        answers = [s.content["m.relates_to"]["m.in_reply_to"]["event_id"]
                   for s in bob.from_user(account.user_id, mentors)]
        assert answers[1:] == [asked, later]  # nothing lost, nothing twice, in order
        assert bot.process.returncode is None  # it never gave up
    finally:
        if bot is not None:
            assert await bot.stop() == 0
        if bob is not None:
            await bob.stop()
        server.stop()


def hold_the_database(tmp_path: Path, seconds: float, locked: threading.Event) -> None:
    """Another writer holds the database for ``seconds``: SQLite's file lock, or PostgreSQL table locks."""
    if not on_postgres():
        import sqlite3

        conn = sqlite3.connect(tmp_path / "mentorbot.db", timeout=30)
        conn.execute("BEGIN EXCLUSIVE")
        locked.set()
        time.sleep(seconds)
        conn.rollback()
        conn.close()
        return

    async def hold() -> None:
        db = Database(database_url(tmp_path))
        async with db.engine.connect() as conn:
            await conn.execute(text("BEGIN"))
            await conn.execute(text("LOCK TABLE handled_event, outbox_message, diary_entry IN ACCESS EXCLUSIVE MODE"))
            locked.set()
            await asyncio.sleep(seconds)
            await conn.execute(text("ROLLBACK"))
        await db.close()

    asyncio.run(hold())


async def test_a_database_locked_for_10_seconds_makes_commands_wait_not_fail(synapse, tmp_path):
    account = synapse.register(unique("lockbot"))
    ana = await person(synapse, "ana", tmp_path)
    bot = None
    try:
        mentors = await ana.room(account.user_id, name="mentors")
        council = await ana.room(account.user_id, name="council")
        bot = BotProcess(tmp_path, synapse, account, mentors, council_room=council)
        await bot.start()
        room = await ana.dm(account.user_id)
        await ana.until_joined(room, account.user_id, timeout=60)
        await ana.say(room, "request help with events")
        await ana.replies(account.user_id, room, 1, timeout=60)
        locked = threading.Event()
        holder = threading.Thread(target=hold_the_database, args=(tmp_path, 10, locked))
        holder.start()
        assert await asyncio.to_thread(locked.wait, 30), "the other writer never got the lock"
        started = time.monotonic()
        sent = [await ana.say(room, f"diary written while locked {n}") for n in range(3)]
        replies = await ana.replies(account.user_id, room, 4, timeout=90)
        waited = time.monotonic() - started
        await asyncio.to_thread(holder.join)
        assert [r.content["m.relates_to"]["m.in_reply_to"]["event_id"] for r in replies[1:]] == sent
        assert all(r.body.startswith("Written in your diary") for r in replies[1:])
        assert waited >= 8  # they waited for the lock
        assert sorted(await diary_rows(tmp_path)) == [f"written while locked {n}" for n in range(3)]
    finally:
        if bot is not None:
            assert await bot.stop() == 0
        await ana.stop()


async def test_announcements_wait_out_a_discourse_answering_503_and_arrive_once(synapse, tmp_path, fake):
    account = synapse.register(unique("forumbot"))
    cy = await person(synapse, "cy", tmp_path)
    bob = await person(synapse, "bob", tmp_path)
    bot = None
    try:
        mentors = await cy.room(account.user_id, bob.user_id, name="mentors")
        council = await cy.room(account.user_id, name="council")
        await bob.until_joined(mentors, bob.user_id)
        extra = (f'[discourse]\nurl = "{fake.url}"\napi_username = "{fake.api_username}"\n'
                 'announcements_category = 5\n')
        bot = BotProcess(tmp_path, synapse, account, mentors, council_room=council, council=(cy.user_id,),
                         extra=extra)
        bot.env["MENTORBOT_DISCOURSE_API_KEY"] = fake.api_key
        fake.faults.down = True
        await bot.start()
        await cy.until_joined(council, account.user_id, timeout=60)
        await cy.say(council, "!announce mentors The forum is down but this gets there | Patience is a virtue, mentors.")
        await cy.replies(account.user_id, council, 1, timeout=60)
        await cy.say(council, "!confirm 1")
        await cy.wait_for(lambda _: [s for s in cy.from_user(account.user_id, council) if "not taking" in s.body],
                          timeout=60)
        await asyncio.sleep(5)
        assert fake.topics == [] and not [s for s in bob.from_user(account.user_id, mentors) if "Announcement #1" in s.body]
        fake.faults.down = False
        await bob.wait_for(lambda _: [s for s in bob.from_user(account.user_id, mentors)
                                      if "Announcement #1" in s.body], timeout=120)
        await asyncio.sleep(3)
        assert len(fake.topics) == 1
        copies = [s for s in bob.from_user(account.user_id, mentors) if "Announcement #1" in s.body]
        assert len(copies) == 1 and f"/t/{fake.topics[0].slug}/{fake.topics[0].id}" in copies[0].body
        assert fake.api_key not in bot.log()
    finally:
        if bot is not None:
            await bot.stop()
        await cy.stop()
        await bob.stop()

