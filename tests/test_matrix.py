"""The bot on a real Synapse homeserver, driven by real Matrix clients."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from dataclasses import dataclass

import pytest
from nio.crypto.attachments import decrypt_attachment

from sqlalchemy import text

from commands.policy import FloodPolicy
from storage.db import Database
from tests.conftest import database_url, on_postgres, storage_toml
from tests.matrix_helpers import Person, RunningBot, bot_settings, person, unique
from tests.synapse import Account, Synapse


@dataclass
class World:
    synapse: Synapse
    bot: Account
    cy: Person  # council member; made the rooms
    bob: Person  # a mentor
    ana: Person  # a mentee
    mentors_room: str
    council_room: str
    running: RunningBot

    @property
    def bot_id(self) -> str:
        return self.bot.user_id


@pytest.fixture
async def world(synapse, tmp_path):
    bot = synapse.register(unique("mentorbot"))
    # Everyone's client encrypts, as Element does: the bot takes only private, encrypted rooms for DMs.
    cy = await person(synapse, "cy", tmp_path, encrypted=True)
    bob = await person(synapse, "bob", tmp_path, encrypted=True)
    ana = await person(synapse, "ana", tmp_path, encrypted=True)
    mentors_room = await cy.room(bot.user_id, bob.user_id, name="mentors")
    council_room = await cy.room(bot.user_id, name="council")
    await bob.until_joined(mentors_room, bob.user_id)
    settings = bot_settings(synapse, bot, tmp_path, mentors_room=mentors_room, council_room=council_room,
                            council=[cy.user_id])
    # Some tests send bursts of a hundred commands from one person, far beyond a person's
    # budget: the budget has tests of its own.
    settings.limits = FloodPolicy(commands_per_minute=10_000, command_burst=1_000)
    running = RunningBot(settings)
    await running.start()
    w = World(synapse, bot, cy, bob, ana, mentors_room, council_room, running)
    try:
        yield w
    finally:
        await running.stop()
        for p in (cy, bob, ana):
            await p.stop()


async def open_dm(someone: Person, bot_id: str, *, encrypted: bool = True) -> str:
    room = await someone.dm(bot_id, encrypted=encrypted)
    await someone.until_joined(room, bot_id)
    return room


def raw_event(synapse: Synapse, someone: Person, room: str, event_id: str) -> dict:
    return synapse._request("GET", f"/_matrix/client/v3/rooms/{room}/event/{event_id}",
                            token=someone.account.access_token)


async def test_a_command_in_the_mentors_room_is_answered_there_as_a_notice(world):
    await world.bob.say(world.mentors_room, "!mentors")
    [reply] = await world.bob.replies(world.bot_id, world.mentors_room, 1)
    assert reply.msgtype == "m.notice"
    assert reply.body.startswith("Mentors (2), with their mentees now of their capacity:")
    assert reply.content["format"] == "org.matrix.custom.html"
    assert f'<a href="https://matrix.to/#/{world.bob.user_id}">' in reply.html
    assert reply.content["m.mentions"] == {"user_ids": []}  # a listing links people, it pings nobody
    # Chat without the prefix is left alone.
    await world.bob.say(world.mentors_room, "good morning everyone")
    await world.bob.say(world.mentors_room, "!help")
    replies = await world.bob.replies(world.bot_id, world.mentors_room, 2)
    assert replies[1].body.startswith("Here is what you can do.")


async def test_a_dm_needs_no_prefix(world):
    room = await open_dm(world.bob, world.bot_id)
    await world.bob.say(room, "profile name Bob <b>the builder</b>")
    [reply] = await world.bob.replies(world.bot_id, room, 1)
    assert reply.body == "Done: I'll call you Bob <b>the builder</b>."
    assert "&lt;b&gt;the builder&lt;/b&gt;" in reply.html and "<b>the builder</b>" not in reply.html


async def test_an_encrypted_dm_made_like_element_makes_them(world):
    room = await open_dm(world.ana, world.bot_id, encrypted=True)
    sent = await world.ana.say(room, "profile timezone America/Lima")
    assert raw_event(world.synapse, world.ana, room, sent)["type"] == "m.room.encrypted"
    [reply] = await world.ana.replies(world.bot_id, room, 1)
    assert reply.body.startswith("Done: your time zone is America/Lima.")
    assert reply.msgtype == "m.notice"
    # The answer travelled encrypted too.
    assert raw_event(world.synapse, world.ana, room, reply.event_id)["type"] == "m.room.encrypted"


async def test_a_restart_replays_nothing(world):
    room = await open_dm(world.bob, world.bot_id)
    await world.bob.say(room, "profile name Bob")
    await world.bob.replies(world.bot_id, room, 1)
    await world.running.stop()
    await world.running.start()
    await world.bob.say(room, "profile")
    replies = await world.bob.replies(world.bot_id, room, 2)
    await asyncio.sleep(1.5)  # time for a wrongly replayed answer to show up
    replies = world.bob.from_user(world.bot_id, room)
    assert [r.body.splitlines()[0] for r in replies] == [
        "Done: I'll call you Bob.", f"Your profile ({world.bob.user_id})",
    ]


async def test_commands_sent_while_the_bot_was_down_are_answered_once_in_order(world):
    room = await open_dm(world.bob, world.bot_id)
    await world.bob.say(room, "help")
    await world.bob.replies(world.bot_id, room, 1)
    await world.running.stop()
    # More than one sync carries (100 events a room): the rest must be fetched.
    sent = [await world.bob.say(room, f"profile name Bob {i}") for i in range(130)]
    await world.running.start()
    replies = await world.bob.replies(world.bot_id, room, 131, timeout=120)
    await asyncio.sleep(1.5)
    replies = world.bob.from_user(world.bot_id, room)[1:]
    assert [r.body for r in replies] == [f"Done: I'll call you Bob {i}." for i in range(130)]
    assert [r.content["m.relates_to"]["m.in_reply_to"]["event_id"] for r in replies] == sent


async def test_history_from_before_the_bot_joined_is_not_acted_on(world, tmp_path):
    dana = await person(world.synapse, "dana", tmp_path, encrypted=True)
    try:
        room = await dana.room(name="a room with history", encrypted=True)
        await dana.say(room, "!help")
        await dana.say(room, "profile name Dana")
        await dana.client.room_invite(room, world.bot_id)
        await dana.until_joined(room, world.bot_id)
        await dana.say(room, "!help")
        [reply] = await dana.replies(world.bot_id, room, 1)
        await asyncio.sleep(1.5)
        assert len(dana.from_user(world.bot_id, room)) == 1
        assert reply.body.startswith("Here is what you can do.")
    finally:
        await dana.stop()


async def test_an_invite_from_a_server_not_allowed_is_refused(synapse, tmp_path):
    bot = synapse.register(unique("strictbot"))
    eve = await person(synapse, "eve", tmp_path)
    mentors = await eve.room(bot.user_id, name="mentors")
    council = await eve.room(bot.user_id, name="council")
    settings = bot_settings(synapse, bot, tmp_path, mentors_room=mentors, council_room=council,
                            allowed_servers=["example.org"])
    running = RunningBot(settings)
    await running.start()
    try:
        room = await eve.dm(bot.user_id)

        def refused(_):
            members = synapse._request("GET", f"/_matrix/client/v3/rooms/{room}/members",
                                       token=eve.account.access_token)["chunk"]
            return any(m["state_key"] == bot.user_id and m["content"]["membership"] == "leave" for m in members)

        await eve.wait_for(refused, timeout=20)
        # The configured room was joined all the same.
        await eve.until_joined(mentors, bot.user_id)
    finally:
        await running.stop()
        await eve.stop()


async def test_a_rate_limited_bot_still_delivers_every_reply(world):
    from bot.monitoring import Monitor

    monitor = Monitor(world.running.bot.runtime, world.running.bot)  # what /metrics would count
    admin = world.synapse.register(unique("admin"), admin=True)
    world.synapse.override_ratelimit(admin, world.bot_id, 1, 2)
    room = await open_dm(world.bob, world.bot_id)
    for i in range(6):
        await world.bob.say(room, f"profile name Bob {i}")
    replies = await world.bob.replies(world.bot_id, room, 6, timeout=60)
    assert [r.body for r in replies] == [f"Done: I'll call you Bob {i}." for i in range(6)]
    # The homeserver's 429s were waited out, and counted.
    registry = monitor.metrics.registry
    assert registry.get_sample_value("mentorbot_matrix_rate_limit_waits_total") >= 1
    assert registry.get_sample_value("mentorbot_matrix_rate_limit_wait_seconds_total") > 0


async def test_a_burst_of_100_commands_from_5_users_is_answered_exactly_once(world, tmp_path):
    crowd = [world.bob] + [await person(world.synapse, f"m{i}", tmp_path) for i in range(4)]
    try:
        for someone in crowd[1:]:
            await world.cy.client.room_invite(world.mentors_room, someone.user_id)
        for someone in crowd[1:]:
            await someone.until_joined(world.mentors_room, someone.user_id)

        async def twenty(someone: Person) -> list[str]:
            return [await someone.say(world.mentors_room, "!mentors") for _ in range(20)]

        sent = sum(await asyncio.gather(*(twenty(s) for s in crowd)), [])
        watcher = world.cy
        await watcher.replies(world.bot_id, world.mentors_room, 100, timeout=120)
        await asyncio.sleep(1.5)
        replies = watcher.from_user(world.bot_id, world.mentors_room)
        answered = [r.content["m.relates_to"]["m.in_reply_to"]["event_id"] for r in replies]
        assert sorted(answered) == sorted(sent)  # each exactly once
    finally:
        for someone in crowd[1:]:
            await someone.stop()


async def test_roles_follow_room_membership(world, tmp_path):
    dana = await person(world.synapse, "dana", tmp_path, encrypted=True)
    try:
        dm = await open_dm(dana, world.bot_id)
        await dana.say(dm, "mentors")
        [refused] = await dana.replies(world.bot_id, dm, 1)
        assert refused.body.startswith("Sorry, `mentors` is only for mentors and council members.")
        await world.cy.client.room_invite(world.mentors_room, dana.user_id)
        await dana.until_joined(world.mentors_room, dana.user_id)
        await world.cy.until_joined(world.mentors_room, dana.user_id)
        await asyncio.sleep(1)  # the bot's next sync carries the join
        await dana.say(dm, "mentors")
        replies = await dana.replies(world.bot_id, dm, 2)
        assert replies[1].body.startswith("Mentors (3)")
        await dana.client.room_leave(world.mentors_room)
        await asyncio.sleep(1)
        await dana.say(dm, "mentors")
        replies = await dana.replies(world.bot_id, dm, 3)
        assert replies[2].body.startswith("Sorry, `mentors` is only for")
        # Council: the members of the council room, plus the configured list (Cy).
        await world.cy.say(world.council_room, "!mentor add @zoe:localhost")
        [done] = await world.cy.replies(world.bot_id, world.council_room, 1)
        assert done.body.startswith("Done: @zoe:localhost is now a mentor")
    finally:
        await dana.stop()


async def test_the_bot_opens_a_dm_to_notify_someone_first_and_reuses_it(world, tmp_path):
    zoe = await person(world.synapse, "zoe", tmp_path, encrypted=True)
    try:
        await world.cy.say(world.council_room, f"!mentor add {zoe.user_id}")
        await zoe.wait_for(lambda _: zoe.from_user(world.bot_id), timeout=30)
        [welcome] = zoe.from_user(world.bot_id)
        assert welcome.body.startswith("Welcome, you are now a mentor in Test program!")
        room = zoe.client.rooms[welcome.room_id]
        assert set(room.users) == {zoe.user_id, world.bot_id}
        assert room.encrypted  # made as Element makes DMs
        await world.cy.say(world.council_room, f"!mentor remove {zoe.user_id}")
        await zoe.wait_for(lambda _: len(zoe.from_user(world.bot_id, welcome.room_id)) == 2, timeout=30)
        # Both DMs in the one room (the welcome to the mentors room is apart).
        assert len(zoe.from_user(world.bot_id, welcome.room_id)) == 2
        assert {s.room_id for s in zoe.from_user(world.bot_id)} <= {welcome.room_id, world.mentors_room}
    finally:
        await zoe.stop()


async def test_a_new_mentor_is_invited_to_the_mentors_room_or_the_council_is_told_who_to_invite(world, tmp_path):
    zoe = await person(world.synapse, "zoe", tmp_path, encrypted=True)
    eve = await person(world.synapse, "eve", tmp_path, encrypted=True)
    try:
        await world.cy.say(world.council_room, f"!mentor add {zoe.user_id}")
        await zoe.until_joined(world.mentors_room, zoe.user_id, timeout=30)  # the bot invited her
        await world.bob.wait_for(lambda _: any(
            s.body == f"Please welcome {zoe.user_id}, who joins the mentors!"
            for s in world.bob.from_user(world.bot_id, world.mentors_room)), timeout=30)
        # In a room where only moderators may invite, the bot cannot: the council is told who to
        # invite, and the mentors are told all the same.
        levels = await world.cy.client.room_get_state_event(world.mentors_room, "m.room.power_levels")
        await world.cy.client.room_put_state(world.mentors_room, "m.room.power_levels",
                                             {**levels.content, "invite": 50})
        await asyncio.sleep(1)
        await world.cy.say(world.council_room, f"!mentor add {eve.user_id}")
        await world.cy.wait_for(lambda _: any(
            s.body.startswith(f"I could not invite {eve.user_id} to the mentors room")
            for s in world.cy.from_user(world.bot_id, world.council_room)), timeout=30)
        await world.bob.wait_for(lambda _: any(
            s.body == f"Please welcome {eve.user_id}, who joins the mentors!"
            for s in world.bob.from_user(world.bot_id, world.mentors_room)), timeout=30)
        assert world.mentors_room not in eve.client.rooms
    finally:
        await zoe.stop()
        await eve.stop()


async def test_a_message_the_bot_cannot_decrypt_gets_an_explanation(world):
    room = await open_dm(world.bob, world.bot_id)
    # An encrypted event whose session the bot never received.
    bogus = {
        "algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgAEnACgAkLmt6qF84IK++J7UDH2Za1YVchHyprqTqsg",
        "device_id": world.bob.account.device_id, "sender_key": "IlRMeOPX2e0MurIyfWEucYBRVOEEUMrOHqn/8mLqMjA",
        "session_id": "X3lUlvLELLYxeTx4yOVu6UDpasGEVO0Jbu+QFnm0cKQ",
    }
    for n in range(3):  # sent as it is, past the client's own encryption
        world.synapse._request("PUT", f"/_matrix/client/v3/rooms/{room}/send/m.room.encrypted/bogus{n}", bogus,
                               token=world.bob.account.access_token)
    [reply] = await world.bob.replies(world.bot_id, room, 1)
    assert reply.body.startswith("I could not decrypt your last message")
    assert "Please send it again" in reply.body
    await world.bob.say(room, "profile name Bob")  # answered after the three: they were all seen
    await world.bob.replies(world.bot_id, room, 2)
    # One explanation an hour, however many messages cannot be read.
    assert len(world.bob.from_user(world.bot_id, room)) == 2


async def test_the_bot_follows_an_upgraded_mentors_room(world):
    upgraded = world.synapse._request(
        "POST", f"/_matrix/client/v3/rooms/{world.mentors_room}/upgrade", {"new_version": "10"},
        token=world.cy.account.access_token,
    )["replacement_room"]
    # As Element does for a private room: invite the old room's members to the new one.
    await world.cy.client.room_invite(upgraded, world.bot_id)
    await world.cy.client.room_invite(upgraded, world.bob.user_id)
    await world.cy.until_joined(upgraded, world.bot_id, timeout=30)
    await world.bob.until_joined(upgraded, world.bob.user_id)
    await world.bob.say(upgraded, "!mentors")
    [reply] = await world.bob.replies(world.bot_id, upgraded, 1)
    assert reply.body.startswith("Mentors (")
    # After a restart it still knows where the mentors room lives now.
    await world.running.stop()
    await world.running.start()
    await world.bob.say(upgraded, "!mentors")
    await world.bob.replies(world.bot_id, upgraded, 2)


@pytest.mark.homeserver  # the Matrix side: a homeserver that goes away, or `mentorbot run` itself
async def test_the_bot_rides_out_a_homeserver_outage(tmp_path):
    from tests.synapse import Synapse

    server = Synapse(tmp_path / "outage-synapse")
    server.start()
    try:
        bot = server.register("mentorbot")
        bob = await person(server, "bob", tmp_path)
        mentors = await bob.room(bot.user_id, name="mentors")
        council = await bob.room(bot.user_id, name="council")
        running = RunningBot(bot_settings(server, bot, tmp_path, mentors_room=mentors, council_room=council))
        await running.start()
        await bob.say(mentors, "!help")
        await bob.replies(bot.user_id, mentors, 1)
        server.stop()
        await asyncio.sleep(5)
        server.start()
        await bob.say(mentors, "!help")
        await bob.replies(bot.user_id, mentors, 2, timeout=60)
        await running.stop()
        await bob.stop()
    finally:
        server.stop()


async def test_mentorbot_run_serves_as_a_process_and_stops_cleanly_on_sigterm(synapse, tmp_path):
    import os
    import shutil
    import signal
    import sqlite3
    import sys
    from pathlib import Path

    bot = synapse.register(unique("procbot"))
    bob = await person(synapse, "bob", tmp_path)
    mentors = await bob.room(bot.user_id, name="mentors")
    council = await bob.room(bot.user_id, name="council")
    (tmp_path / "config.toml").write_text(
        f'[matrix]\nhomeserver = "{synapse.url}"\nuser_id = "{bot.user_id}"\n'
        f'mentors_room = "{mentors}"\ncouncil_room = "{council}"\nstore_path = "store"\n' + storage_toml(tmp_path)
        + '[logging]\nformat = "json"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORBOT_")}
    env["MENTORBOT_MATRIX_PASSWORD"] = bot.password
    exe = shutil.which("mentorbot", path=str(Path(sys.executable).parent))
    process = await asyncio.create_subprocess_exec(
        exe, "run", "-v", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    try:
        await bob.until_joined(mentors, bot.user_id, timeout=60)
        await bob.say(mentors, "!help")
        [reply] = await bob.replies(bot.user_id, mentors, 1, timeout=60)
        assert reply.body.startswith("Here is what you can do.")
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
        await bob.stop()
    log = stderr.decode()
    assert process.returncode == 0, log
    assert "stopped cleanly" in log and "Traceback" not in log
    assert bot.password not in log
    # The log in JSON, a line per command with its fields, and nothing of who typed it.
    entries = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert [(e["command"], e["outcome"], e["room"]) for e in entries if e["message"] == "command handled"] == \
        [("help", "ok", "mentors")]
    assert bob.user_id not in log
    # The device was kept, with its token readable only by the bot's user; so is everything the
    # bot wrote: its encryption store (the device's keys) and its database with its side files.
    assert oct((tmp_path / "store" / "credentials.json").stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "store").stat().st_mode & 0o777) == "0o700"
    written = [p for p in (tmp_path / "store").iterdir()]
    if not on_postgres():
        written += [p for p in tmp_path.iterdir() if p.name.startswith("mentorbot.db")]
    assert len(written) >= 2 and {p.name: oct(p.stat().st_mode & 0o777) for p in written} == \
        {p.name: "0o600" for p in written}
    db = Database(database_url(tmp_path))
    async with db.session() as session:
        handled = (await session.exec(text("SELECT count(*) FROM handled_event"))).scalar_one()
    await db.close()
    assert handled == 1  # the command was recorded as answered before the bot stopped
    if not on_postgres():
        assert sqlite3.connect(tmp_path / "mentorbot.db").execute("PRAGMA integrity_check").fetchone() == ("ok",)


async def the_only_free_mentor(world: World, tmp_path) -> Person:
    """Mia, a mentor whose client reads encrypted DMs, joins; Bob and Cy (who made the mentors
    room, so is a mentor too) are away, so an offer goes to Mia."""
    mia = await person(world.synapse, "mia", tmp_path, encrypted=True)
    await world.cy.client.room_invite(world.mentors_room, mia.user_id)
    await mia.until_joined(world.mentors_room, mia.user_id)
    await world.cy.say(world.mentors_room, "!away in 2 weeks")
    await world.bob.say(world.mentors_room, "!away in 2 weeks")
    await world.bob.say(world.mentors_room, "!mentors")  # answered after Mia's join is seen
    roster = (await world.bob.replies(world.bot_id, world.mentors_room, 3))[2]
    assert "Mentors (3)" in roster.body and "mia" in roster.body and roster.body.count("away until") == 2
    return mia


async def test_a_request_is_offered_in_a_dm_and_accepted_in_the_mentors_room(world, tmp_path):
    mia = await the_only_free_mentor(world, tmp_path)
    try:
        room = await open_dm(world.ana, world.bot_id, encrypted=True)
        await world.ana.say(room, "request help with my first <b>event</b>")
        [thanks] = await world.ana.replies(world.bot_id, room, 1)
        assert thanks.body.startswith("Thanks! Your request #1 is in. I have asked a mentor who fits")

        def offers(_):
            return [s for s in mia.from_user(world.bot_id) if "may suit you" in s.body]

        await mia.wait_for(offers, timeout=30)
        [offer] = offers(None)
        assert offer.room_id != world.mentors_room and mia.client.rooms[offer.room_id].encrypted
        assert "They wrote: help with my first <b>event</b>" in offer.body
        assert "&lt;b&gt;event&lt;/b&gt;" in offer.html
        notices = [s for s in mia.from_user(world.bot_id, world.mentors_room) if "needs a mentor" in s.body]
        assert len(notices) == 1 and "I have asked" in notices[0].body
        assert "event" not in notices[0].body and world.ana.user_id not in notices[0].body

        await mia.say(world.mentors_room, "!accept 1")
        await mia.wait_for(lambda _: [s for s in mia.from_user(world.bot_id, world.mentors_room)
                                      if "is taken" in s.body], timeout=30)
        await world.ana.wait_for(lambda _: len(world.ana.from_user(world.bot_id, room)) == 2, timeout=30)
        welcome = world.ana.from_user(world.bot_id, room)[1]
        assert "is your mentor now" in welcome.body
        # A message meant for Ana notifies her: m.text, mentioning her (and her mentor, named in it).
        assert welcome.msgtype == "m.text"
        assert welcome.content["m.mentions"] == {"user_ids": [mia.user_id, world.ana.user_id]}
        # Mia's welcome comes in the DM the offer opened.
        await mia.wait_for(lambda _: [s for s in mia.from_user(world.bot_id, offer.room_id)
                                      if "Welcome your new mentee" in s.body], timeout=30)
    finally:
        await mia.stop()


async def test_reminders_survive_a_kill_9_each_sent_exactly_once(synapse, tmp_path):
    """A real `mentorbot run` process, killed with SIGKILL while reminders fall due, then started again."""
    import os
    import re
    import shutil
    import signal
    import sys
    from datetime import datetime, timedelta, timezone
    from pathlib import Path

    from tests.planting import checkins_with_reminders

    bot = synapse.register(unique("reminderbot"))
    ana = await person(synapse, "ana", tmp_path, encrypted=True)
    bob = await person(synapse, "bob", tmp_path, encrypted=True)
    processes = []
    try:
        mentors = await bob.room(bot.user_id, name="mentors")
        council = await bob.room(bot.user_id, name="council")
        (tmp_path / "config.toml").write_text(
            f'[matrix]\nhomeserver = "{synapse.url}"\nuser_id = "{bot.user_id}"\n'
            f'mentors_room = "{mentors}"\ncouncil_room = "{council}"\nstore_path = "store"\n'
            '[program]\ntimezone = "Europe/Berlin"\nreminders = ["1h"]\n' + storage_toml(tmp_path)
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORBOT_")}
        env["MENTORBOT_MATRIX_PASSWORD"] = bot.password
        exe = shutil.which("mentorbot", path=str(Path(sys.executable).parent))

        async def start() -> asyncio.subprocess.Process:
            process = await asyncio.create_subprocess_exec(
                exe, "run", "-v", cwd=tmp_path, env=env, stderr=asyncio.subprocess.DEVNULL)
            processes.append(process)
            return process

        # The bot's first start makes its device and schema; then the program is planted:
        # 20 check-ins an hour away, whose reminders fall due over ten seconds.
        first = await start()
        await bob.until_joined(mentors, bot.user_id, timeout=60)
        first.send_signal(signal.SIGTERM)
        await asyncio.wait_for(first.wait(), 30)
        db = Database(database_url(tmp_path))
        count = 20
        soon = datetime.now(timezone.utc) + timedelta(seconds=12)
        await checkins_with_reminders(db, ana.user_id, bob.user_id,
                                      [soon + timedelta(hours=1, seconds=i / 2) for i in range(count)])
        await db.close()

        def numbers(someone) -> list[int]:
            return [int(n) for s in someone.from_user(bot.user_id) if "Reminder" in s.body
                    for n in re.findall(r"(?:confirm|checkin move) (\d+)", s.body)[:1]]

        second = await start()
        await ana.wait_for(lambda _: len(numbers(ana)) + len(numbers(bob)) >= 10, timeout=90)
        second.send_signal(signal.SIGKILL)
        await second.wait()
        killed_at = len(numbers(ana)) + len(numbers(bob))
        await start()
        await ana.wait_for(lambda _: sorted(set(numbers(ana))) == list(range(1, count + 1)), timeout=90)
        await bob.wait_for(lambda _: sorted(set(numbers(bob))) == list(range(1, count + 1)), timeout=90)
        await asyncio.sleep(3)  # room for a duplicate to show itself
        assert killed_at < 2 * count  # the kill came in the middle
        for someone in (ana, bob):
            seen = [(s.room_id, s.event_id, s.body[:60]) for s in someone.from_user(bot.user_id) if "Reminder" in s.body]
            assert sorted(numbers(someone)) == list(range(1, count + 1)), seen
        # Each in the person's own DM, the same one before and after the restart; none in the mentors room.
        for someone in (ana, bob):
            rooms = {s.room_id for s in someone.from_user(bot.user_id) if "Reminder" in s.body}
            assert len(rooms) == 1 and mentors not in rooms
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
        await ana.stop()
        await bob.stop()


async def test_a_database_that_does_not_answer_makes_the_bot_take_the_same_events_again(world):
    from sqlalchemy.exc import OperationalError

    runtime = world.running.bot.runtime
    original = runtime.handle
    calls: list[str] = []

    async def flaky(incoming):
        calls.append(incoming.text)
        if len(calls) == 1:  # the database is locked when the first command comes
            raise OperationalError("INSERT INTO handled_event ...", {}, Exception("database is locked"))
        return await original(incoming)

    runtime.handle = flaky
    await world.bob.say(world.mentors_room, "!mentors")
    [reply] = await world.bob.replies(world.bot_id, world.mentors_room, 1, timeout=30)
    await asyncio.sleep(2)  # room for a second answer to show itself
    assert len(world.bob.from_user(world.bot_id, world.mentors_room)) == 1
    assert reply.body.startswith("Mentors (2)") and calls[:2] == ["!mentors", "!mentors"]


SECRET = "Zqx-only-for-ana"


async def test_mydata_arrives_as_files_encrypted_in_an_encrypted_dm(world):
    room = await open_dm(world.ana, world.bot_id, encrypted=True)
    await world.ana.say(room, f"profile name Ana {SECRET}")
    await world.ana.say(room, "mydata")
    replies = await world.ana.replies(world.bot_id, room, 4, timeout=30)
    text, json_file, md_file = replies[1:4]
    assert text.body.startswith("Here is everything I store about you")
    assert [json_file.msgtype, md_file.msgtype] == ["m.file", "m.file"]
    assert json_file.body.endswith(".json") and md_file.body.endswith(".md")
    # On the homeserver the events are encrypted, and so is the uploaded file itself:
    # the server holds ciphertext, and only the keys in the (encrypted) event open it.
    assert raw_event(world.synapse, world.ana, room, json_file.event_id)["type"] == "m.room.encrypted"
    file = json_file.content["file"]
    downloaded = await world.ana.client.download(mxc=file["url"])
    assert SECRET.encode() not in downloaded.body
    plain = decrypt_attachment(downloaded.body, file["key"]["k"], file["hashes"]["sha256"], file["iv"])
    data = json.loads(plain)
    assert data["profile"]["matrix_id"] == world.ana.user_id
    assert data["profile"]["display_name"] == f"Ana {SECRET}"
    assert json_file.content["info"] == {"mimetype": "application/json", "size": len(plain)}


async def test_the_council_export_arrives_as_an_encrypted_zip_of_csv_files(world):
    room = await open_dm(world.cy, world.bot_id)
    await world.cy.say(room, "export people mentorships")
    replies = await world.cy.replies(world.bot_id, room, 2, timeout=30)
    assert replies[0].body.startswith("The export: one ZIP archive of 2 CSV files (people, mentorships; ")
    assert replies[1].msgtype == "m.file" and replies[1].body.startswith("mentorbot-export-")
    assert replies[1].body.endswith(".zip")
    file = replies[1].content["file"]
    assert replies[1].content["info"]["size"] == int(replies[1].content["info"]["size"]) > 0
    downloaded = await world.cy.client.download(mxc=file["url"])
    plain = decrypt_attachment(downloaded.body, file["key"]["k"], file["hashes"]["sha256"], file["iv"])
    with zipfile.ZipFile(io.BytesIO(plain)) as archive:
        names = archive.namelist()
        assert [n.split("-")[0] for n in names] == ["people", "mentorships"]
        header = archive.read(names[0]).decode().splitlines()[0]
    assert header.startswith("id,matrix_id,display_name")


async def test_report_chart_arrives_in_the_council_room_as_an_image_with_its_figures_as_text(world):
    from PIL import Image

    await world.cy.say(world.council_room, "!report chart")
    text, image = await world.cy.replies(world.bot_id, world.council_room, 2, timeout=60)
    assert text.body.startswith("The last twelve months, ")
    assert len([line for line in text.body.splitlines() if line.startswith("• ")]) == 12
    assert "Active mentorships: 0" in text.body and "could not be drawn" not in text.body
    assert image.msgtype == "m.image"
    assert image.body.startswith("Chart of the program month by month")  # its text alternative
    assert image.content["filename"].startswith("program-") and image.content["filename"].endswith(".png")
    info = image.content["info"]
    downloaded = await world.cy.client.download(mxc=image.content["url"])  # the council room is not encrypted
    data = downloaded.body
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    decoded = Image.open(io.BytesIO(data))
    assert info == {"mimetype": "image/png", "size": len(data), "w": decoded.size[0], "h": decoded.size[1]}
    assert decoded.size == (1000, 560)


async def test_a_group_gets_an_invite_only_encrypted_room_where_its_members_read_a_check_in_reminder(world, tmp_path):
    from datetime import datetime, timezone

    from sqlalchemy import update
    from sqlmodel import select

    from storage.models import MentoringGroup, Reminder

    eve = await person(world.synapse, "eve", tmp_path, encrypted=True)
    try:
        dms = {}
        for someone, line in ((world.ana, "profile name Ana"), (eve, "profile name Eve"),
                              (world.bob, "group create Writers")):
            dms[someone.user_id] = await open_dm(someone, world.bot_id)
            await someone.say(dms[someone.user_id], line)
            await someone.replies(world.bot_id, dms[someone.user_id], 1)
        runtime = world.running.bot.runtime

        async def stored_room() -> str | None:
            async with runtime.db.session() as s:
                return (await s.exec(select(MentoringGroup.room_id))).one()

        for _ in range(100):
            if await stored_room():
                break
            await asyncio.sleep(0.2)
        room = await stored_room()
        assert room, "the group's room was made and stored"
        await world.bob.until_joined(room, world.bob.user_id)
        state = world.synapse._request("GET", f"/_matrix/client/v3/rooms/{room}/state",
                                       token=world.bob.account.access_token)
        by_type = {e["type"]: e["content"] for e in state if e.get("state_key") == ""}
        assert by_type["m.room.join_rules"]["join_rule"] == "invite"
        assert by_type["m.room.encryption"]["algorithm"] == "m.megolm.v1.aes-sha2"
        assert by_type["m.room.history_visibility"]["history_visibility"] != "world_readable"
        powers = by_type["m.room.power_levels"]
        # Only the bot holds power there (from room version 12 as its maker, listed nowhere).
        assert set(powers.get("users", {})) <= {world.bot_id} and powers["invite"] == 100 and powers["kick"] == 100
        # Members are asked in their DMs, and invited into the room when they agree.
        for member in (world.ana, eve):
            await world.bob.say(dms[world.bob.user_id], f"group invite 1 {member.user_id}")
            await member.replies(world.bot_id, dms[member.user_id], 2)
            await member.say(dms[member.user_id], "group join 1")
            await member.replies(world.bot_id, dms[member.user_id], 3)
            await member.until_joined(room, member.user_id)
        bot_room = world.running.bot.client.rooms

        async def bot_sees_joined(*people) -> None:
            for _ in range(100):
                r = bot_room.get(room)
                if r is not None and all(p in r.users and p not in r.invited_users for p in people):
                    return
                await asyncio.sleep(0.2)
            raise AssertionError("the bot did not see the members join")

        await bot_sees_joined(world.ana.user_id, eve.user_id, world.bob.user_id)
        await world.bob.say(dms[world.bob.user_id], "group checkin 1 tomorrow 18:00")
        await world.bob.wait_for(lambda seen: any(x.body.startswith("Done: #1 check-in") for x in seen))
        # The reminders' time comes now.
        async with runtime.db.session() as s:
            await s.exec(update(Reminder).values(due_at=datetime.now(timezone.utc)))
            await s.commit()
        await runtime.run_reminders()
        for someone in (world.ana, eve, world.bob):
            await someone.wait_for(lambda seen: any(x.room_id == room and x.body.startswith("Reminder: check-in of")
                                                    for x in seen), timeout=30)
        [reminder] = [x for x in world.ana.seen if x.room_id == room and x.body.startswith("Reminder")]
        assert reminder.msgtype == "m.text"
        assert set(reminder.content["m.mentions"]["user_ids"]) == {world.ana.user_id, eve.user_id, world.bob.user_id}
        assert raw_event(world.synapse, world.ana, room, reminder.event_id)["type"] == "m.room.encrypted"
        # A restart that lost the room's id (made, not stored) finds the same room by its alias.
        await world.running.stop()
        db = Database(database_url(tmp_path))
        try:
            async with db.session() as s:
                await s.exec(update(MentoringGroup).values(room_id=None))
                await s.commit()
        finally:
            await db.close()
        await world.running.start()
        runtime = world.running.bot.runtime
        await eve.say(dms[eve.user_id], "group leave 1")
        await world.ana.wait_for(lambda seen: any(x.room_id == room and "left the group" in x.body for x in seen),
                                 timeout=30)
        assert await stored_room() == room
        # Who left is removed from the room before it hears more.
        for _ in range(100):
            r = world.ana.client.rooms.get(room)
            if r is not None and eve.user_id not in r.users:
                break
            await asyncio.sleep(0.2)
        assert eve.user_id not in world.ana.client.rooms[room].users
        assert not [x for x in eve.seen if x.room_id == room and "left the group" in x.body]
    finally:
        await eve.stop()


async def test_a_calendar_file_arrives_encrypted_in_a_dm_and_opens_as_a_calendar(world):
    from datetime import datetime, timedelta, timezone

    from icalendar import Calendar

    from commands.services import people
    from storage.models import CheckIn, Mentorship

    room = await open_dm(world.ana, world.bot_id, encrypted=True)
    await world.ana.say(room, "profile timezone America/Lima")
    await world.ana.replies(world.bot_id, room, 1)
    # Bob mentors Ana, and a check-in is planned in three days.
    now = datetime.now(timezone.utc)
    when = (now + timedelta(days=3)).replace(second=0, microsecond=0)
    async with world.running.bot.runtime.db.session() as s:
        ana = await people.ensure(s, world.ana.user_id, now)
        bob = await people.ensure(s, world.bob.user_id, now)
        bob.display_name = "Bob"
        m = Mentorship(mentee_id=ana.id, mentor_id=bob.id, started_at=now, commitment_ends_at=now + timedelta(days=365))
        s.add(m)
        await s.flush()
        c = CheckIn(mentorship_id=m.id, due_at=when, timezone="Europe/Madrid", created_at=now)
        s.add(c)
        await s.commit()
        number = c.id
    await world.ana.say(room, f"calendar {number}")
    text, sent = (await world.ana.replies(world.bot_id, room, 3, timeout=30))[1:3]
    assert text.body.startswith(f"Check-in #{number} as a calendar file")
    assert sent.msgtype == "m.file" and sent.body == f"checkin-{number}.ics"
    # Encrypted on the homeserver, the event and the file both.
    assert raw_event(world.synapse, world.ana, room, sent.event_id)["type"] == "m.room.encrypted"
    file = sent.content["file"]
    downloaded = await world.ana.client.download(mxc=file["url"])
    assert b"BEGIN:VCALENDAR" not in downloaded.body
    plain = decrypt_attachment(downloaded.body, file["key"]["k"], file["hashes"]["sha256"], file["iv"])
    assert sent.content["info"] == {"mimetype": "text/calendar", "size": len(plain)}
    [event] = Calendar.from_ical(plain).walk("VEVENT")
    assert event.start == when and event.start.tzinfo.key == "America/Lima"
    assert event["SUMMARY"] == "Check-in with Bob"
    assert event["UID"] == f"checkin-{number}@{world.bot_id.partition(':')[2]}"


async def test_an_offer_in_an_encrypted_dm_gets_the_bots_reactions_and_a_mentors_encrypted_tick_accepts_it(
        world, tmp_path):
    mia = await the_only_free_mentor(world, tmp_path)
    try:
        room = await open_dm(world.ana, world.bot_id, encrypted=True)
        await world.ana.say(room, "request help with my first event")
        await world.ana.replies(world.bot_id, room, 1)

        def offers(_):
            return [s for s in mia.from_user(world.bot_id) if "may suit you" in s.body]

        await mia.wait_for(offers, timeout=30)
        [offer] = offers(None)
        assert mia.client.rooms[offer.room_id].encrypted
        assert raw_event(world.synapse, mia, offer.room_id, offer.event_id)["type"] == "m.room.encrypted"

        def bots_reactions():
            return sorted(r.key for r in mia.reactions if r.sender == world.bot_id and r.reacts_to == offer.event_id)

        await mia.wait_for(lambda _: bots_reactions() == sorted(["✅", "❌"]), timeout=30)
        # Ana, who is no mentor and not in the room, cannot answer; Mia's tick, encrypted as Element
        # sends it, is her `accept 1`.
        tick = await mia.react(offer.room_id, offer.event_id, "✅")
        assert raw_event(world.synapse, mia, offer.room_id, tick)["type"] == "m.room.encrypted"

        def done(_):
            return [s for s in mia.from_user(world.bot_id, offer.room_id) if "mentor now" in s.body]

        await mia.wait_for(done, timeout=30)
        [answer] = done(None)
        assert answer.body.startswith("Done: you are ")
        assert answer.content["m.relates_to"] == {"m.in_reply_to": {"event_id": offer.event_id}}
        await world.ana.wait_for(lambda _: any("is your mentor now" in s.body
                                               for s in world.ana.from_user(world.bot_id, room)), timeout=30)
        # A second tick under the decided offer gets one short note, then nothing more.
        await mia.react(offer.room_id, offer.event_id, "❌")
        await mia.wait_for(lambda _: any(s.body == "That offer was already answered."
                                         for s in mia.from_user(world.bot_id, offer.room_id)), timeout=30)
        # Taking the tick back does nothing; a new tick after it gets no second note.
        assert hasattr(await mia.client.room_redact(offer.room_id, tick), "event_id")
        await mia.react(offer.room_id, offer.event_id, "✅")
        before = len(mia.from_user(world.bot_id, offer.room_id))
        await mia.say(offer.room_id, "help")  # Mia's messages are taken in order: answered after her tick
        await mia.wait_for(lambda _: len(mia.from_user(world.bot_id, offer.room_id)) > before, timeout=30)
        assert mia.from_user(world.bot_id, offer.room_id)[-1].body.startswith("Here is what you can do")
        notes = [s for s in mia.from_user(world.bot_id, offer.room_id) if "already answered" in s.body]
        assert len(notes) == 1
    finally:
        await mia.stop()


async def test_answers_in_shared_rooms_are_replies_and_the_council_taps_to_publish(world):
    # In the mentors room, the bot's answer is a reply to the command.
    asked = await world.bob.say(world.mentors_room, "!mentors")
    [reply] = await world.bob.replies(world.bot_id, world.mentors_room, 1)
    assert reply.content["m.relates_to"] == {"m.in_reply_to": {"event_id": asked}}
    # In the council room (not encrypted: plain reactions), the preview of an announcement is a
    # reply too, with the bot's ✅ and ❌ under it; Cy's plain tick publishes it.
    drafted = await world.cy.say(world.council_room, "!announce mentors Mentor training on 3 March | "
                                                     "Join us at 16:00 UTC for the spring training.")
    [preview] = await world.cy.replies(world.bot_id, world.council_room, 1, timeout=30)
    assert preview.body.startswith("Draft announcement #1")
    assert preview.content["m.relates_to"] == {"m.in_reply_to": {"event_id": drafted}}
    await world.cy.wait_for(lambda _: sorted(r.key for r in world.cy.reactions if r.sender == world.bot_id
                                             and r.reacts_to == preview.event_id) == ["✅", "❌"], timeout=30)
    tick = await world.cy.react(world.council_room, preview.event_id, "✅")
    assert raw_event(world.synapse, world.cy, world.council_room, tick)["type"] == "m.reaction"
    published = (await world.cy.replies(world.bot_id, world.council_room, 2, timeout=30))[1]
    assert published.body.startswith("Published announcement #1")
    assert published.content["m.relates_to"] == {"m.in_reply_to": {"event_id": preview.event_id}}
    copy = await world.bob.wait_for(lambda _: [s for s in world.bob.from_user(world.bot_id, world.mentors_room)
                                               if "Announcement #1" in s.body], timeout=30)
    assert copy
