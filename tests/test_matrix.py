"""The bot on a real Synapse homeserver, driven by real Matrix clients."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

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
    cy = await person(synapse, "cy", tmp_path)
    bob = await person(synapse, "bob", tmp_path)
    ana = await person(synapse, "ana", tmp_path, encrypted=True)
    mentors_room = await cy.room(bot.user_id, bob.user_id, name="mentors")
    council_room = await cy.room(bot.user_id, name="council")
    await bob.until_joined(mentors_room, bob.user_id)
    settings = bot_settings(synapse, bot, tmp_path, mentors_room=mentors_room, council_room=council_room,
                            council=[cy.user_id])
    running = RunningBot(settings)
    await running.start()
    w = World(synapse, bot, cy, bob, ana, mentors_room, council_room, running)
    try:
        yield w
    finally:
        await running.stop()
        for p in (cy, bob, ana):
            await p.stop()


async def open_dm(someone: Person, bot_id: str, *, encrypted: bool = False) -> str:
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
    assert world.bob.user_id in reply.content["m.mentions"]["user_ids"]
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
    dana = await person(world.synapse, "dana", tmp_path)
    try:
        room = await dana.room(name="a room with history")
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
    settings = bot_settings(synapse, bot, tmp_path, mentors_room=mentors, allowed_servers=["example.org"])
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
    admin = world.synapse.register(unique("admin"), admin=True)
    world.synapse.override_ratelimit(admin, world.bot_id, 1, 2)
    room = await open_dm(world.bob, world.bot_id)
    for i in range(6):
        await world.bob.say(room, f"profile name Bob {i}")
    replies = await world.bob.replies(world.bot_id, room, 6, timeout=60)
    assert [r.body for r in replies] == [f"Done: I'll call you Bob {i}." for i in range(6)]


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
