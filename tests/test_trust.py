"""Trust on a real homeserver: which rooms count as private, who gets a role, what notifies.

Each test sets up rooms the way real people (and people who mean harm) can, on Synapse.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path

from nio import RoomPreset

from commands.framework import RoomKind

from storage.db import Database
from tests.conftest import database_url
from tests.matrix_helpers import Person, RunningBot, bot_settings, person, unique
from tests.planting import checkins_with_reminders
from tests.test_matrix import open_dm, world  # noqa: F401 - the fixture is used by name

POINTER = "I don't answer in this room"


async def public_room(someone: Person, *invite: str, name: str = "public") -> str:
    created = await someone.client.room_create(name=name, invite=list(invite), preset=RoomPreset.public_chat)
    assert hasattr(created, "room_id"), created
    return created.room_id


def answers(seen, event_id: str) -> bool:
    """Whether a message seen is the bot's answer to the event ``event_id``."""
    return seen.content.get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id") == event_id


async def test_a_public_room_with_one_person_and_the_bot_is_not_a_dm_and_reveals_nothing(world):
    # Cy, on the council, writes in a public room where only Cy and the bot are.
    await open_dm(world.ana, world.bot_id)  # Ana is known to the bot, with a profile to reveal
    room = await public_room(world.cy, world.bot_id)
    await world.cy.until_joined(room, world.bot_id)
    for line in ("export confidential", "queue", "!history", f"!audit {world.ana.user_id}", "mydata"):
        await world.cy.say(room, line)
    [pointer] = await world.cy.replies(world.bot_id, room, 1)
    await world.cy.say(room, "!help")
    await asyncio.sleep(2)  # room for any further answer to show itself
    answers = world.cy.from_user(world.bot_id, room)
    assert answers == [pointer]  # one pointer a day, whatever is asked
    assert pointer.body.startswith(f"{POINTER} (anyone can join it).")
    assert "direct message" in pointer.body and pointer.msgtype == "m.notice"
    assert world.ana.user_id not in pointer.body and "mentors" not in pointer.body.lower().replace("mentorship", "")
    # The same person in a private DM is answered as before.
    dm = await open_dm(world.cy, world.bot_id)
    await world.cy.say(dm, "queue")
    [queue] = await world.cy.replies(world.bot_id, dm, 1)
    assert queue.body.startswith("The council's queue")


async def test_an_unencrypted_dm_is_not_private_when_the_bot_encrypts(world):
    room = await open_dm(world.ana, world.bot_id, encrypted=False)
    await world.ana.say(room, "profile")
    [pointer] = await world.ana.replies(world.bot_id, room, 1)
    assert pointer.body.startswith(f"{POINTER} (it is not encrypted).")


async def test_the_trap_room_is_never_used_for_a_dm(world, tmp_path):
    eve = await person(world.synapse, "eve", tmp_path)
    zoe = await person(world.synapse, "zoe", tmp_path, encrypted=True)
    try:
        # Eve sets up rooms with the bot and Zoe in them, then leaves: a public unencrypted one,
        # and an invite-only one that she stays in (so she could read it).
        trap = await public_room(eve, world.bot_id, zoe.user_id, name="trap")
        lurking = await eve.room(world.bot_id, zoe.user_id, name="lurking", encrypted=True)
        left = await eve.room(world.bot_id, zoe.user_id, name="left behind", encrypted=True)
        for room in (trap, lurking, left):
            await eve.until_joined(room, world.bot_id)
            await eve.until_joined(room, zoe.user_id)
        await eve.client.room_leave(trap)
        await eve.client.room_leave(left)  # private and encrypted, but set up by someone else
        await asyncio.sleep(1)  # the bot's next sync carries the departure
        # The council makes Zoe a mentor: the bot must tell her in a DM.
        await world.cy.say(world.council_room, f"!mentor add {zoe.user_id}")
        await zoe.wait_for(lambda _: [s for s in zoe.from_user(world.bot_id) if "Welcome" in s.body], timeout=30)
        [welcome] = [s for s in zoe.from_user(world.bot_id) if "Welcome" in s.body]
        assert welcome.room_id not in (trap, lurking, left)
        dm = zoe.client.rooms[welcome.room_id]
        assert set(dm.users) == {zoe.user_id, world.bot_id}
        assert dm.encrypted and dm.join_rule == "invite"
        # She is told in m.text mentioning her, so her client notifies her.
        assert welcome.msgtype == "m.text" and welcome.content["m.mentions"]["user_ids"] == [zoe.user_id]
        # Nothing of the bot's ever went to the rooms Eve made.
        assert not [s for s in zoe.from_user(world.bot_id) if s.room_id in (trap, lurking, left)]
    finally:
        await eve.stop()
        await zoe.stop()


async def test_a_public_mentors_room_gives_no_role_until_it_is_invite_only(synapse, tmp_path):
    bot = synapse.register(unique("openbot"))
    cy = await person(synapse, "cy", tmp_path, encrypted=True)
    mallory = await person(synapse, "mallory", tmp_path, encrypted=True)
    dana = await person(synapse, "dana", tmp_path, encrypted=True)
    mentors = await public_room(cy, bot.user_id, name="mentors")
    council = await cy.room(bot.user_id, name="council")
    running = RunningBot(bot_settings(synapse, bot, tmp_path, mentors_room=mentors, council_room=council,
                                      council=[cy.user_id]))
    await running.start()
    try:
        # The council hears of it at once.
        await cy.wait_for(lambda _: [s for s in cy.from_user(bot.user_id, council) if "not invite-only" in s.body],
                          timeout=30)
        [alert] = [s for s in cy.from_user(bot.user_id, council) if "not invite-only" in s.body]
        assert alert.body.startswith("The mentors room is not invite-only (anyone can join it).")
        assert alert.msgtype == "m.text"  # something to act on
        # Anyone can walk in, and gets no role for it; and while the room is open, nothing the bot
        # would say there is posted (it waits).
        await mallory.client.join(mentors)
        await mallory.until_joined(mentors, mallory.user_id)
        await asyncio.sleep(1)
        asked = await mallory.say(mentors, "!mentors")
        await asyncio.sleep(2)
        assert not mallory.from_user(bot.user_id, mentors)
        # Made invite-only again: what waited is posted, and the room gives roles to those invited.
        await cy.client.room_put_state(mentors, "m.room.join_rules", {"join_rule": "invite"})
        await mallory.wait_for(lambda seen: any(answers(s, asked) for s in seen), timeout=30)
        [refused] = [s for s in mallory.seen if answers(s, asked)]
        assert refused.body.startswith("Sorry, `!mentors` is only for mentors and council members.")
        await cy.client.room_invite(mentors, dana.user_id)
        await dana.until_joined(mentors, dana.user_id)
        await asyncio.sleep(1)
        asked = await dana.say(mentors, "!mentors")
        await dana.wait_for(lambda seen: any(answers(s, asked) for s in seen), timeout=20)
        [roster] = [s for s in dana.seen if answers(s, asked)]
        assert roster.body.startswith("Mentors (")
        assert dana.user_id in roster.html and mallory.user_id not in roster.html
        # A restart does not give Mallory, who walked in while it was open, the role either.
        await running.stop()
        await running.start()
        again = await mallory.say(mentors, "!mentees")
        await mallory.wait_for(lambda seen: any(answers(s, again) for s in seen), timeout=30)
        [still] = [s for s in mallory.seen if answers(s, again)]
        assert still.body.startswith("Sorry, `!mentees` is only for mentors.")
    finally:
        await running.stop()
        for someone in (cy, mallory, dana):
            await someone.stop()


def notified_events(synapse, someone: Person) -> list[dict]:
    """What the homeserver counted as notifications for this person (by their push rules)."""
    found = synapse._request("GET", "/_matrix/client/v3/notifications?limit=100",
                             token=someone.account.access_token)
    return [n["event"] for n in found["notifications"]]


async def test_reminders_and_offers_notify_and_replies_do_not(synapse, tmp_path):
    """Unencrypted, so that the homeserver can judge each message by its type: a reminder
    and an offer notify the person; a reply they are reading anyway does not."""
    bot = synapse.register(unique("pushbot"))
    cy = await person(synapse, "cy", tmp_path)
    bob = await person(synapse, "bob", tmp_path)
    ana = await person(synapse, "ana", tmp_path)
    carl = await person(synapse, "carl", tmp_path)
    dora = await person(synapse, "dora", tmp_path)
    mentors = await cy.room(bot.user_id, bob.user_id, name="mentors")
    council = await cy.room(bot.user_id, name="council")
    await bob.until_joined(mentors, bob.user_id)
    settings = bot_settings(synapse, bot, tmp_path, mentors_room=mentors, council_room=council,
                            council=[cy.user_id], encryption=False)
    settings.program.reminders = ["1h"]
    # Carl and Dora meet in an hour and a few seconds: their reminders fall due just after the start.
    db = Database(database_url(tmp_path))
    soon = datetime.now(timezone.utc) + timedelta(seconds=25)
    await checkins_with_reminders(db, carl.user_id, dora.user_id, [soon + timedelta(hours=1)])
    await db.close()
    running = RunningBot(settings)
    await running.start()
    try:
        # Everyone has a DM with the bot already: a homeserver notifies only the members of a
        # room, so the first message of a DM the bot opens, sent while the person is still
        # invited, does not notify (the invitation itself does).
        dms = {}
        for someone in (bob, carl, dora):
            dms[someone.user_id] = await open_dm(someone, bot.user_id, encrypted=False)
            await someone.say(dms[someone.user_id], "profile")
            await someone.replies(bot.user_id, dms[someone.user_id], 1)
        # Cy (a mentor too: he made the mentors room) is away, so Ana's request is offered to Bob.
        await cy.say(mentors, "!away in 2 weeks")
        await cy.replies(bot.user_id, mentors, 1)
        room = await open_dm(ana, bot.user_id, encrypted=False)
        await ana.say(room, "request help with my first event")
        [thanks] = await ana.replies(bot.user_id, room, 1)
        assert thanks.body.startswith("Thanks! Your request #1 is in.") and thanks.msgtype == "m.notice"
        await bob.wait_for(lambda _: [s for s in bob.from_user(bot.user_id) if "may suit you" in s.body], timeout=30)
        [offer] = [s for s in bob.from_user(bot.user_id) if "may suit you" in s.body]
        assert offer.room_id == dms[bob.user_id]
        assert offer.msgtype == "m.text" and offer.content["m.mentions"]["user_ids"] == [bob.user_id]
        for someone in (carl, dora):
            await someone.wait_for(lambda _, p=someone: [s for s in p.from_user(bot.user_id) if "Reminder" in s.body],
                                   timeout=40)
        await asyncio.sleep(1)
        # The homeserver counted the offer and both reminders as notifications...
        assert offer.event_id in [e["event_id"] for e in notified_events(synapse, bob)]
        for someone in (carl, dora):
            [reminder] = [s for s in someone.from_user(bot.user_id) if "Reminder" in s.body]
            assert reminder.room_id == dms[someone.user_id] and reminder.msgtype == "m.text"
            assert reminder.event_id in [e["event_id"] for e in notified_events(synapse, someone)]
        # ...and not the reply Ana was waiting for, nor the mentors room's ambient notice.
        assert thanks.event_id not in [e["event_id"] for e in notified_events(synapse, ana)]
        ambient = [s for s in cy.from_user(bot.user_id, mentors) if "needs a mentor" in s.body]
        assert ambient and ambient[0].msgtype == "m.notice"
        assert ambient[0].event_id not in [e["event_id"] for e in notified_events(synapse, cy)]
    finally:
        await running.stop()
        for someone in (cy, bob, ana, carl, dora):
            await someone.stop()


async def test_a_reminder_in_an_encrypted_dm_is_text_that_mentions_the_person(world, tmp_path):
    await world.running.stop()
    db = Database(database_url(tmp_path))
    soon = datetime.now(timezone.utc) + timedelta(seconds=6)
    await checkins_with_reminders(db, world.ana.user_id, "@dora:localhost", [soon + timedelta(hours=24)],
                                  before=timedelta(hours=24))
    await db.close()
    await world.running.start()
    await world.ana.wait_for(lambda _: [s for s in world.ana.from_user(world.bot_id) if "Reminder" in s.body],
                             timeout=40)
    [reminder] = [s for s in world.ana.from_user(world.bot_id) if "Reminder" in s.body]
    assert world.ana.client.rooms[reminder.room_id].encrypted
    assert reminder.msgtype == "m.text"
    assert world.ana.user_id in reminder.content["m.mentions"]["user_ids"]


async def test_a_damaged_encryption_store_stops_the_bot_with_what_to_do_and_no_restart(synapse, tmp_path):
    import os
    import shutil
    import sys
    from pathlib import Path

    from tests.conftest import storage_toml

    bot = synapse.register(unique("storebot"))
    cy = await person(synapse, "cy", tmp_path)
    mentors = await cy.room(bot.user_id, name="mentors")
    council = await cy.room(bot.user_id, name="council")
    await cy.stop()
    (tmp_path / "config.toml").write_text(
        f'[matrix]\nhomeserver = "{synapse.url}"\nuser_id = "{bot.user_id}"\n'
        f'mentors_room = "{mentors}"\ncouncil_room = "{council}"\nstore_path = "store"\n' + storage_toml(tmp_path))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORBOT_")}
    env["MENTORBOT_MATRIX_PASSWORD"] = bot.password
    exe = shutil.which("mentorbot", path=str(Path(sys.executable).parent))
    # A first run makes the device and its store; then the store's database is damaged.
    first = await asyncio.create_subprocess_exec(exe, "run", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE)
    store = tmp_path / "store"
    for _ in range(300):
        if (store / "credentials.json").exists() and any(store.glob("*.db")):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(2)
    first.terminate()
    await asyncio.wait_for(first.wait(), 30)
    [keys] = list(store.glob("*.db"))
    keys.write_bytes(b"this is not a database any more " * 64)
    second = await asyncio.create_subprocess_exec(exe, "run", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE)
    _, stderr = await asyncio.wait_for(second.communicate(), 60)
    message = stderr.decode()
    assert second.returncode == 78, message  # the systemd unit does not restart on 78
    assert f"the encryption store in {store.name}" in message or f"the encryption store in {store}" in message
    assert "it is damaged" in message and "move the folder" in message and "Traceback" not in message
    assert bot.password not in message


def check_online(tmp_path, config: str, env: dict):
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    (tmp_path / "config.toml").write_text(config)
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORBOT_")} | env
    exe = shutil.which("mentorbot", path=str(Path(sys.executable).parent))
    return subprocess.run([exe, "check-config", "--online"], cwd=tmp_path, env=full_env, capture_output=True,
                          text=True, timeout=120)


async def test_check_config_online_says_what_the_bot_can_rely_on(synapse, tmp_path, fake):
    from tests.conftest import storage_toml

    bot = synapse.register(unique("checkbot"))
    cy = await person(synapse, "cy", tmp_path)
    try:
        mentors = await public_room(cy, bot.user_id, name="mentors")
        council = await cy.room(bot.user_id, name="council")
        synapse._request("POST", f"/_matrix/client/v3/join/{mentors}", {}, token=bot.access_token)
        base = f'[matrix]\nhomeserver = "{synapse.url}"\nuser_id = "{bot.user_id}"\nstore_path = "store"\n'
        env = {"MENTORBOT_MATRIX_PASSWORD": bot.password}
        result = check_online(tmp_path, base + f'mentors_room = "{mentors}"\ncouncil_room = "#nowhere:localhost"\n'
                              + storage_toml(tmp_path), env)
        out = result.stdout
        assert result.returncode == 1, result.stderr
        assert f"✔ the homeserver {synapse.url} answers (Matrix v" in out
        assert f"✔ the password is accepted for {bot.user_id}" in out
        assert f"✔ the mentors room {mentors} resolves and the bot is in it" in out
        assert "✘ the mentors room is not invite-only (anyone can join it)" in out
        assert ("✘ the council room #nowhere:localhost does not resolve (Room alias #nowhere:localhost not found): "
                "check [matrix] council_room") in out
        assert "2 checks failed" in out and bot.password not in out + result.stderr
        # Put right, every check passes; a room the bot is only invited to, it joins at start.
        cy_token = cy.account.access_token
        synapse._request("PUT", f"/_matrix/client/v3/rooms/{mentors}/state/m.room.join_rules/",
                         {"join_rule": "invite"}, token=cy_token)
        result = check_online(tmp_path, base + f'mentors_room = "{mentors}"\ncouncil_room = "{council}"\n'
                              + storage_toml(tmp_path), env)
        assert result.returncode == 0, result.stdout
        assert f"✔ the council room {council} resolves; the bot is invited and joins at start" in result.stdout
        assert "✔ the council room is invite-only" in result.stdout and "✘" not in result.stdout
        assert "Everything the bot relies on is in place." in result.stdout
        # Nothing the check did made the bot join, or acknowledged the invitation.
        members = synapse._request("GET", f"/_matrix/client/v3/rooms/{council}/members", token=cy_token)["chunk"]
        assert {m["state_key"]: m["content"]["membership"] for m in members}[bot.user_id] == "invite"
    finally:
        await cy.stop()


async def test_the_bots_device_is_cross_signed_by_its_own_keys(world):
    from signedjson.key import decode_verify_key_base64
    from signedjson.sign import verify_signed_json

    bot, device = world.bot_id, world.running.bot.client.device_id
    # What anyone else sees of the bot's keys.
    keys = world.synapse._request("POST", "/_matrix/client/v3/keys/query", {"device_keys": {bot: []}},
                                  token=world.cy.account.access_token)

    def verify_key(key_object: dict):
        [(key_id, public)] = key_object["keys"].items()
        algorithm, version = key_id.split(":", 1)
        return key_id, decode_verify_key_base64(algorithm, version, public)

    master_id, master = verify_key(keys["master_keys"][bot])
    self_signing_id, self_signing = verify_key(keys["self_signing_keys"][bot])
    assert keys["master_keys"][bot]["usage"] == ["master"]
    assert keys["self_signing_keys"][bot]["usage"] == ["self_signing"]
    # The self-signing key is signed by the master key, and the device by the self-signing key;
    # a signature that does not verify raises.
    verify_signed_json(keys["self_signing_keys"][bot], bot, master)
    signed_device = keys["device_keys"][bot][device]
    assert self_signing_id in signed_device["signatures"][bot]
    verify_signed_json(signed_device, bot, self_signing)
    # The private keys are kept in the store, for the bot's user only.
    kept = Path(world.running.settings.matrix.store_path) / "cross_signing.json"
    assert oct(kept.stat().st_mode & 0o777) == "0o600"
    # A restart signs nothing again and keeps the same identity.
    await world.running.stop()
    await world.running.start()
    again = world.synapse._request("POST", "/_matrix/client/v3/keys/query", {"device_keys": {bot: []}},
                                   token=world.cy.account.access_token)
    assert verify_key(again["master_keys"][bot])[0] == master_id
    # A new device (its store lost, the cross-signing keys kept) is signed by the same identity.
    await world.running.stop()
    store = kept.parent
    for old in store.iterdir():
        if old.name != "cross_signing.json":
            old.unlink()
    await world.running.start()
    new_device = world.running.bot.client.device_id
    assert new_device != device
    after = world.synapse._request("POST", "/_matrix/client/v3/keys/query", {"device_keys": {bot: []}},
                                   token=world.cy.account.access_token)
    assert verify_key(after["master_keys"][bot])[0] == master_id
    verify_signed_json(after["device_keys"][bot][new_device], bot, self_signing)


async def test_a_room_alias_is_resolved_once_and_a_later_change_is_reported_not_followed(synapse, tmp_path):
    bot = synapse.register(unique("aliasbot"))
    cy = await person(synapse, "cy", tmp_path)
    mallory = await person(synapse, "mallory", tmp_path)
    alias = f"#{unique('council')}:localhost"
    mentors = await cy.room(bot.user_id, name="mentors")
    council = await cy.room(bot.user_id, name="council")
    synapse._request("PUT", f"/_matrix/client/v3/directory/room/{alias.replace('#', '%23')}",
                     {"room_id": council}, token=cy.account.access_token)
    running = RunningBot(bot_settings(synapse, bot, tmp_path, mentors_room=mentors, council_room=alias,
                                      council=[cy.user_id]))
    await running.start()
    try:
        assert running.bot.rooms[RoomKind.COUNCIL] == council
        await running.stop()
        # Whoever controls the alias points it at a room of their own.
        trap = await mallory.room(bot.user_id, name="not the council")
        synapse._request("DELETE", f"/_matrix/client/v3/directory/room/{alias.replace('#', '%23')}",
                         token=cy.account.access_token)
        synapse._request("PUT", f"/_matrix/client/v3/directory/room/{alias.replace('#', '%23')}",
                         {"room_id": trap}, token=mallory.account.access_token)
        await running.start()
        assert running.bot.rooms[RoomKind.COUNCIL] == council  # not followed
        await cy.wait_for(lambda _: [s for s in cy.from_user(bot.user_id, council) if "alias changed" in s.body],
                          timeout=30)
        [alert] = [s for s in cy.from_user(bot.user_id, council) if "alias changed" in s.body]
        assert alias in alert.body and trap in alert.body and "I stay in the room it named before" in alert.body
        await cy.say(council, "!queue")
        await cy.wait_for(lambda _: [s for s in cy.from_user(bot.user_id, council) if "queue" in s.body], timeout=30)
        assert not mallory.from_user(bot.user_id, trap)
    finally:
        await running.stop()
        await cy.stop()
        await mallory.stop()


async def test_a_council_room_that_does_not_resolve_stops_the_bot_at_start(synapse, tmp_path):
    from bot.matrix import FatalMatrixError

    bot = synapse.register(unique("nowherebot"))
    cy = await person(synapse, "cy", tmp_path)
    try:
        mentors = await cy.room(bot.user_id, name="mentors")
        running = RunningBot(bot_settings(synapse, bot, tmp_path, mentors_room=mentors,
                                          council_room="#no-such-council:localhost"))
        try:
            await running.start()
        except FatalMatrixError as exc:
            assert "the council room #no-such-council:localhost does not resolve" in str(exc)
            assert "check [matrix] council_room" in str(exc)
        else:
            raise AssertionError("the bot started without its council room")
    finally:
        await cy.stop()


async def test_a_store_that_does_not_match_the_device_stops_the_bot_with_what_to_do(synapse, tmp_path):
    from bot.matrix import FatalMatrixError

    bot = synapse.register(unique("lostbot"))
    cy = await person(synapse, "cy", tmp_path)
    try:
        mentors = await cy.room(bot.user_id, name="mentors")
        council = await cy.room(bot.user_id, name="council")
        running = RunningBot(bot_settings(synapse, bot, tmp_path, mentors_room=mentors, council_room=council))
        await running.start()
        device = running.bot.client.device_id
        await running.stop()
        store = Path(running.settings.matrix.store_path)
        for keys in store.glob("*.db"):  # the device's keys are lost; its token is still there
            keys.unlink()
        try:
            await running.start()
        except FatalMatrixError as exc:
            said = str(exc)
            assert f"does not match the device {device} on the homeserver" in said
            assert "move" in said and "start again with [matrix] password set" in said
            assert "Old key" not in said
        else:
            raise AssertionError("the bot started with keys that do not match its device")
        # `check-config --online` says it too, with the same advice: the store now keeps keys made
        # at that start, which the homeserver did not take.
        from bot import online

        found = [c.what for c in await online.check(running.settings) if not c.ok]
        assert found == [said.replace(said[said.index("(") + 1:said.index("): the store")],
                                      "the store's keys were made after the device's first ones, and the homeserver "
                                      "refuses them")]
    finally:
        await cy.stop()
