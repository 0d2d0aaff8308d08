"""Council announcements to Discourse and Matrix, and the Discourse relay, against a faithful fake Discourse."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlmodel import select

from bot import demo
from bot.config import DiscourseSettings, Settings, StorageSettings
from bot.discourse import Discourse
from bot.runtime import Runtime
from commands.clock import ManualClock
from commands.framework import RoomKind
from commands.messages import Target
from storage.models import AnnouncementCopy, CopyChannel, CopyState, OutboxMessage
from tests.conftest import COUNCIL, START, BotHarness, RecordingOutbox, database_url, storage_toml
from tests.fake_discourse import FakeDiscourse  # noqa: F401 - the type of the `fake` fixture

ANA, BOB, DANA, GIA = "@ana:example.org", "@bob:example.org", "@dana:example.org", "@gia:example.org"
TITLE = "Mentor training on 3 March"
BODY = "Join us at **16:00 UTC** for the <b>spring</b> training. [Agenda](https://example.org/agenda)"
ANNOUNCE = f"!announce all {TITLE} | {BODY}"


def forum_settings(fake: FakeDiscourse, **changes) -> DiscourseSettings:
    values = dict(url=fake.url, api_username=fake.api_username, api_key=fake.api_key, announcements_category=5,
                  relay_category=6, requests_per_minute=40)  # the fastest pace the configuration allows
    values.update(changes)
    return DiscourseSettings(**values)


async def make_bot(tmp_path, policy, fake, *, seed=True, timeout=(2.0, 1.0), paced=False, **changes) -> BotHarness:
    """A bot with the fake forum. Calls go out as fast as the fake takes them, unless ``paced``
    (the configured pace, which only the test of the pace needs to wait for)."""
    settings = Settings(storage=StorageSettings(url=database_url(tmp_path)), program=policy,
                        discourse=forum_settings(fake, **changes))
    clock = ManualClock(START)
    outbox = RecordingOutbox()
    runtime = Runtime(settings, clock, outbox, forum=Discourse(settings.discourse, timeout=timeout,
                                                                        interval=None if paced else 0.01))
    await runtime.start()
    if seed:
        await demo.seed(runtime.db, clock.now(), policy)
    return BotHarness(runtime, clock, outbox)


@pytest.fixture
async def forum_bot(tmp_path, policy, fake):
    harness = await make_bot(tmp_path, policy, fake)
    try:
        yield harness
    finally:
        await harness.runtime.close()


def sent_to(bot: BotHarness, target: Target) -> list:
    return [m for m in bot.outbox.sent if m.target.room is target.room and m.target.user_id == target.user_id]


def copies_of(bot: BotHarness, announcement: int) -> list:
    """The copies of an announcement sent to the mentors room and to DMs (not the council's preview)."""
    marker = f"Announcement #{announcement} from the council"
    return [m for m in bot.outbox.sent if marker in m.body and m.target.room is not RoomKind.COUNCIL]


async def announce_and_confirm(bot: BotHarness, command: str = ANNOUNCE) -> int:
    draft = await bot.reply(COUNCIL, command, RoomKind.COUNCIL)
    number = int(draft.split("Draft announcement #")[1].split(".")[0])
    await bot.send(COUNCIL, f"!confirm {number}", RoomKind.COUNCIL)
    return number


async def test_announce_previews_then_confirm_posts_the_topic_and_sends_each_matrix_copy_once(forum_bot, fake):
    bot = forum_bot
    preview = await bot.send(COUNCIL, ANNOUNCE, RoomKind.COUNCIL)
    text = preview.messages[0].msg.plain()
    assert "Draft announcement #3" in text and TITLE in text
    assert "the forum (category 5), the mentors room, 2 mentees by DM" in text
    assert "`!confirm 3`" in text and "`!cancel 3`" in text
    assert fake.topics == [] and copies_of(bot, 3) == []  # nothing is sent before the confirmation

    confirmed = await bot.send(COUNCIL, "!confirm 3", RoomKind.COUNCIL)
    assert "Publishing announcement #3" in confirmed.messages[0].msg.plain()
    [topic] = fake.topics_titled(TITLE)
    assert topic.category_id == 5 and topic.username == "mentorbot" and topic.external_id.startswith("mentorbot-")
    raw = fake.first_post(topic).raw
    assert raw.startswith(BODY) and "Announcement from the council of Test program, for everyone" in raw
    link = f"{fake.url}/t/{topic.slug}/{topic.id}"

    room = [m for m in copies_of(bot, 3) if m.target.room is RoomKind.MENTORS]
    dms = sorted(m.target.user_id for m in copies_of(bot, 3) if m.target.room is RoomKind.DM)
    assert len(room) == 1 and dms == [ANA, GIA]
    for copy in copies_of(bot, 3):
        assert link in copy.body and TITLE in copy.body
        # The council's Markdown is rendered; HTML it contains is shown as text, never passed through.
        assert "<strong>16:00 UTC</strong>" in copy.html and '<a href="https://example.org/agenda">' in copy.html
        assert "&lt;b&gt;spring&lt;/b&gt;" in copy.html and "<b>" not in copy.html
    told = [m.body for m in sent_to(bot, Target.council()) if "is on the forum" in m.body]
    assert told == [f"Cy: announcement #3 is on the forum: {link}. Sent to the mentors room and to 2 mentees by DM."]

    # Nothing is posted or sent twice, however often the bot looks again.
    before = len(bot.outbox.sent)
    await bot.runtime.advance_to(START + timedelta(days=1), bot.clock)
    await bot.send(COUNCIL, "!confirm 3", RoomKind.COUNCIL)
    assert len(fake.topics_titled(TITLE)) == 1
    assert copies_of(bot, 3) == room + [m for m in copies_of(bot, 3) if m.target.room is RoomKind.DM]
    assert len([m for m in bot.outbox.sent[before:] if "Announcement #3 from the council" in m.body]) == 0

    listing = await bot.reply(COUNCIL, "!announcements", RoomKind.COUNCIL)
    assert f"#3 {TITLE} (for everyone): published" in listing
    assert f"forum: posted {link}" in listing and "mentors room: sent; DMs: 2 sent" in listing
    assert "#2 The yearly program survey is open (for everyone): draft, not sent." in listing


async def test_cancel_drops_a_draft_and_a_cancelled_or_published_one_cannot_change(forum_bot, fake):
    bot = forum_bot
    assert "Cancelled announcement #2" in await bot.reply(COUNCIL, "!cancel 2", RoomKind.COUNCIL)
    assert "was cancelled" in await bot.reply(COUNCIL, "!confirm 2", RoomKind.COUNCIL)
    assert "already published" in await bot.reply(COUNCIL, "!cancel 1", RoomKind.COUNCIL)
    assert "There is no announcement #99" in await bot.reply(COUNCIL, "!confirm 99", RoomKind.COUNCIL)
    assert fake.topics == [] and fake.requests == []


@pytest.mark.parametrize("command,problem", [
    ("!announce all Too short | A body that is long enough.", "the forum needs at least 15"),
    (f"!announce all {TITLE} | Too short", "the forum needs at least 20"),
    (f"!announce all {TITLE} without a bar", "Put a | between the title and the text"),
    (f"!announce everyone {TITLE} | {BODY}", "'everyone' is not one of: mentors, mentees, all"),
])
async def test_a_bad_announcement_is_explained_and_nothing_is_stored(forum_bot, command, problem):
    before = await forum_bot.snapshot()
    assert problem in await forum_bot.reply(COUNCIL, command, RoomKind.COUNCIL)
    assert await forum_bot.snapshot() == before


async def test_only_the_council_announces_and_only_in_the_council_room(forum_bot):
    assert "only for council members" in await forum_bot.reply(BOB, ANNOUNCE, RoomKind.MENTORS)
    assert "works only in the council room" in await forum_bot.reply(COUNCIL, ANNOUNCE, RoomKind.MENTORS)
    # In a DM, confirm stays the mentee's confirmation of a check-in.
    result = await forum_bot.send(ANA, "confirm 2")
    assert result.messages[0].msg.plain().startswith("Confirmed: check-in #2")


async def test_an_answer_lost_after_the_topic_was_created_does_not_post_it_twice(forum_bot, fake):
    bot = forum_bot
    fake.faults.slow_after_create, fake.faults.slow_seconds = 1, 3.0  # created, then the answer comes too late
    await announce_and_confirm(bot)
    assert len(fake.topics_titled(TITLE)) == 1 and copies_of(bot, 3) == []
    await bot.runtime.advance_to(START + timedelta(minutes=5), bot.clock)
    assert len(fake.topics_titled(TITLE)) == 1
    lookups = [r for r in fake.requests if r[2].startswith("/t/external_id/")]
    assert [r[3] for r in lookups] == [301]  # looked up by its external id, found, not posted again
    assert len([m for m in copies_of(bot, 3) if m.target.room is RoomKind.MENTORS]) == 1


async def test_discourse_down_for_an_hour_then_everything_is_delivered_once(forum_bot, fake):
    bot = forum_bot
    fake.faults.down = True
    await announce_and_confirm(bot)
    [waiting] = [m.body for m in sent_to(bot, Target.council()) if "not taking" in m.body]
    assert "Discourse answered 503" in waiting and "read-only mode" in waiting
    await bot.runtime.advance_to(START + timedelta(hours=1), bot.clock)
    listing = await bot.reply(COUNCIL, "!announcements", RoomKind.COUNCIL)
    assert "forum: waiting (Discourse answered 503" in listing and "mentors room: waiting: for the forum topic" in listing
    tries = len(fake.requests)  # the first try posts; later ones look the topic up first
    assert 5 <= tries <= 12  # backing off over the hour, not hammering
    assert copies_of(bot, 3) == [] and fake.topics == []

    fake.faults.down = False
    await bot.runtime.advance_to(START + timedelta(hours=2), bot.clock)
    assert len(fake.topics_titled(TITLE)) == 1
    assert len([m for m in copies_of(bot, 3) if m.target.room is RoomKind.MENTORS]) == 1
    assert sorted(m.target.user_id for m in copies_of(bot, 3) if m.target.room is RoomKind.DM) == [ANA, GIA]
    assert len([m for m in sent_to(bot, Target.council()) if "not taking" in m.body]) == 1  # told once


async def test_discourse_down_for_a_day_sends_the_matrix_copies_without_a_link(forum_bot, fake):
    bot = forum_bot
    fake.faults.down = True
    await announce_and_confirm(bot)
    await bot.runtime.advance_to(START + timedelta(hours=2), bot.clock)
    assert copies_of(bot, 3) == []
    bot.clock.set(START + timedelta(hours=24, minutes=1))  # the bot was down meanwhile: the next try is the last
    await bot.runtime.run_due()
    [room] = [m for m in copies_of(bot, 3) if m.target.room is RoomKind.MENTORS]
    assert "forum" not in room.body.split("\n")[-1]
    [gave_up] = [m.body for m in sent_to(bot, Target.council()) if "without a forum link" in m.body]
    assert "look for the topic first" in gave_up and "its external id is mentorbot-" in gave_up


async def test_rate_limit_storms_are_waited_out_without_blocking_other_commands(forum_bot, fake):
    bot = forum_bot
    fake.faults.rate_limited, fake.faults.rate_limited_plain, fake.faults.rate_limit_wait = 4, 3, 1
    draft = await bot.reply(COUNCIL, ANNOUNCE, RoomKind.COUNCIL)
    assert "Draft announcement #3" in draft
    publishing = asyncio.create_task(bot.send(COUNCIL, "!confirm 3", RoomKind.COUNCIL))
    await asyncio.sleep(0.3)
    # Meanwhile, commands in other rooms are answered.
    answered = await asyncio.wait_for(bot.send(BOB, "!requests", RoomKind.MENTORS), timeout=5)
    assert answered.outcome == "ok" and not publishing.done()
    await publishing
    # Seven 429s in a row outlast one call's patience: the topic waits for its next try.
    await bot.runtime.advance_to(START + timedelta(minutes=2), bot.clock)
    assert len(fake.topics_titled(TITLE)) == 1
    assert len([m for m in copies_of(bot, 3) if m.target.room is RoomKind.MENTORS]) == 1
    assert [r[3] for r in fake.requests].count(429) == 7


@pytest.mark.parametrize("setup,expected,hint", [
    ("duplicate", "Title has already been used", None),
    ("short_title", "Title is too short (minimum is 30 characters)", None),
    ("category", "You supplied invalid parameters to the request: category", "announcements_category"),
    ("key", "The API username or key is invalid.", "api_key and api_username"),
])
async def test_discourse_refusals_are_told_to_the_council_member_and_nothing_reaches_matrix(
    tmp_path, policy, fake, caplog, setup, expected, hint
):
    caplog.set_level(logging.DEBUG)
    changes = {"announcements_category": 99} if setup == "category" else {}
    if setup == "key":
        changes["api_key"] = "a-wrong-secret-key-42"
    if setup == "duplicate":
        fake.add_topic(TITLE, "Somebody else wrote about the training already.", category_id=7)
    if setup == "short_title":
        fake.min_title = 30  # a site with stricter settings than the defaults
    bot = await make_bot(tmp_path, policy, fake, **changes)
    try:
        await announce_and_confirm(bot)
        [refused] = [m for m in sent_to(bot, Target.council()) if "refused" in m.body]
        assert refused.body.startswith("Cy: Discourse refused announcement #3")
        assert expected in refused.body and "Nothing was sent to Matrix" in refused.body
        assert COUNCIL in refused.mentions
        if hint:
            assert hint in refused.body
        assert copies_of(bot, 3) == []
        await bot.runtime.advance_to(START + timedelta(hours=3), bot.clock)
        assert copies_of(bot, 3) == [] and len([r for r in fake.requests if r[1] == "POST"]) == 1  # not retried
        listing = await bot.reply(COUNCIL, "!announcements", RoomKind.COUNCIL)
        assert f"forum: failed: {expected}" in listing
        assert "mentors room: failed: not sent: Discourse refused the topic" in listing
        for secret in (fake.api_key, "a-wrong-secret-key-42"):
            assert secret not in caplog.text
            assert all(secret not in m.body for m in bot.outbox.sent)
    finally:
        await bot.runtime.close()


async def test_a_topic_held_for_moderation_is_reported_and_matrix_copies_go_out_without_a_link(forum_bot, fake):
    bot = forum_bot
    fake.faults.enqueue = True
    await announce_and_confirm(bot)
    [held] = [m.body for m in sent_to(bot, Target.council()) if "holding" in m.body]
    assert "for a moderator's approval" in held
    [room] = [m for m in copies_of(bot, 3) if m.target.room is RoomKind.MENTORS]
    assert "waiting for a moderator's approval" in room.body and fake.url not in room.body
    assert "forum: held for a moderator" in await bot.reply(COUNCIL, "!announcements", RoomKind.COUNCIL)


async def test_a_mentor_passes_an_announcement_on_to_their_mentees_once(forum_bot, fake):
    bot = forum_bot
    number = await announce_and_confirm(
        bot, f"!announce mentors {TITLE} | Mentors: please tell your mentees about the spring training.")
    [room] = [m for m in copies_of(bot, number) if m.target.room is RoomKind.MENTORS]
    assert f"`!relay {number}`" in room.body
    assert [m for m in copies_of(bot, number) if m.target.room is RoomKind.DM] == []

    result = await bot.send(BOB, f"!relay {number}", RoomKind.MENTORS)
    [answer] = [m.msg.plain() for m in result.messages if m.target.room is RoomKind.MENTORS]
    assert answer == f"Passed announcement #{number} on to 1 mentee by DM."
    [dm] = [m for m in bot.outbox.sent if m.target.user_id == ANA and "passes on announcement" in m.body]
    assert dm.body.startswith(f"Your mentor Bob passes on announcement #{number}") and fake.url in dm.body
    again = await bot.reply(BOB, f"!relay {number}", RoomKind.MENTORS)
    assert again == f"Your mentees already have announcement #{number}; nothing more was sent."
    assert "has not been published yet" in await bot.reply(BOB, "!relay 2", RoomKind.MENTORS)


async def test_the_relay_sends_each_new_forum_topic_once_across_pages_and_restarts(tmp_path, policy, fake):
    for i in range(30):  # the forum's history: not news
        fake.add_topic(f"An older topic number {i:03d}", "Written before the bot was installed.")
    bot = await make_bot(tmp_path, policy, fake)
    try:
        await bot.runtime.poll_relay()
        assert [m for m in bot.outbox.sent if "New on the forum" in m.body] == []

        expected = []
        for i in range(120):
            post = fake.add_topic(f"Mentors' question number {i:03d}", f"How do you handle case {i}? " * 3,
                                  username=f"mentor{i % 7}")
            expected.append(post.topic.title)
            if i % 10 == 0:
                fake.add_reply(post.topic, "A reply is not a new topic.")
                fake.add_topic(f"Elsewhere on the forum {i:03d}", "In another category.", category_id=7)
        fake.add_topic("Posted by the bot itself here", "The bot's own posts are not relayed.", username="mentorbot")
        await bot.runtime.poll_relay()
        # A flood is listed ten topics a message, each topic once, oldest first.
        relayed = [m for m in bot.outbox.sent if "new topics on the forum" in m.body]
        assert len(relayed) == 12 and all(m.target.room is RoomKind.MENTORS for m in relayed)
        assert relayed[0].body.startswith("💬 120 new topics on the forum (1 of 12):\n• Mentors' question number 000 by mentor0: ")
        listed = [line[2:].split(" by ")[0] for m in relayed for line in m.body.split("\n")[1:]]
        assert listed == expected
        assert f"{fake.url}/t/mentors-question-number-000/" in relayed[0].body
        pages = [r for r in fake.requests if r[2] == "/posts.json"]
        assert len(pages) == 1 + 3  # the first look, then three pages of 50 back over 145 new posts

        await bot.runtime.poll_relay()
        assert len([m for m in bot.outbox.sent if "on the forum" in m.body]) == 12
    finally:
        await bot.runtime.close()

    restarted = await make_bot(tmp_path, policy, fake, seed=False)
    try:
        fake.add_topic("One more after the restart", "Only this one is new, and shown with an excerpt.")
        await restarted.runtime.poll_relay()
        assert [m.body for m in restarted.outbox.sent if "New on the forum" in m.body] == [
            "💬 New on the forum: One more after the restart by ana\n"
            "Only this one is new, and shown with an excerpt.\n"
            f"{fake.url}/t/one-more-after-the-restart/{fake.topics[-1].id}"]
    finally:
        await restarted.runtime.close()


async def test_the_relay_never_brings_the_bots_own_announcements_back(tmp_path, policy, fake):
    # Even when the announcements and relay categories were set the same by mistake elsewhere.
    bot = await make_bot(tmp_path, policy, fake)
    try:
        await bot.runtime.poll_relay()
        bot.runtime.settings.discourse.relay_category = 5
        await announce_and_confirm(bot)
        await bot.runtime.poll_relay()
        assert [m for m in bot.outbox.sent if "New on the forum" in m.body] == []
    finally:
        await bot.runtime.close()


async def test_a_failed_relay_poll_loses_nothing(forum_bot, fake):
    bot = forum_bot
    await bot.runtime.poll_relay()
    fake.add_topic("Posted while the forum was failing", "The next poll must still relay it.")
    fake.faults.server_errors = 1
    assert (await bot.runtime.poll_relay()).outcome == "failed"
    await bot.runtime.poll_relay()
    assert len([m for m in bot.outbox.sent if "Posted while the forum was failing" in m.body]) == 1


async def test_without_discourse_announcements_reach_matrix_and_the_shell_prints_the_topic(tmp_path, policy):
    import io

    from bot.shell import ShellForum, ShellOutbox

    out = io.StringIO()
    settings = Settings(storage=StorageSettings(url=database_url(tmp_path)), program=policy)
    clock = ManualClock(START)
    runtime = Runtime(settings, clock, ShellOutbox(out), forum=ShellForum(out))
    await runtime.start()
    await demo.seed(runtime.db, clock.now(), policy)
    bot = BotHarness(runtime, clock, RecordingOutbox())
    try:
        await bot.say(f"council {COUNCIL}> {ANNOUNCE}")
        await bot.say(f"council {COUNCIL}> !confirm 3")
        text = out.getvalue()
        assert f"[discourse announcements] {TITLE}\n  {BODY}" in text
        assert "(not posted: no [discourse] in the configuration)" in text
        assert f"[mentors] 📣 Announcement #3 from the council, for everyone: {TITLE}" in text
        assert f"[dm {ANA}] 📣 Announcement #3" in text and f"[dm {GIA}] 📣 Announcement #3" in text
    finally:
        await runtime.close()


async def test_without_any_forum_the_copies_go_out_at_once(demo_bot):
    bot = demo_bot  # a bot run on Matrix without [discourse]
    await announce_and_confirm(bot)
    assert sorted(m.target.user_id or "room" for m in copies_of(bot, 3)) == [ANA, GIA, "room"]
    listing = await bot.reply(COUNCIL, "!announcements", RoomKind.COUNCIL)
    assert "forum: none configured; mentors room: sent; DMs: 2 sent" in listing


async def test_matrix_copies_are_stored_in_the_outbox_with_their_copy(forum_bot, fake):
    bot = forum_bot
    await announce_and_confirm(bot)
    async with bot.db.session() as session:
        copies = (await session.exec(select(AnnouncementCopy).where(AnnouncementCopy.announcement_id == 3))).all()
        rows = {r.txn_id: r for r in (await session.exec(select(OutboxMessage))).all()}
    matrix = [c for c in copies if c.channel is not CopyChannel.DISCOURSE]
    assert len(matrix) == 3 and all(c.state is CopyState.SENT and rows[c.remote_id].sent_at for c in matrix)


async def test_a_bot_killed_between_the_post_and_its_record_posts_the_topic_once(tmp_path, fake):
    """A real `mentorbot shell` process posting for real, killed with SIGKILL as Discourse creates the topic."""
    import os
    import shutil
    import signal
    import sys
    from pathlib import Path

    (tmp_path / "config.toml").write_text(
        f'[discourse]\nurl = "{fake.url}"\napi_username = "{fake.api_username}"\n'
        'announcements_category = 5\nrelay_category = 6\n'
        '[program]\ntimezone = "Europe/Berlin"\n' + storage_toml(tmp_path)
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORBOT_")}
    env["MENTORBOT_DISCOURSE_API_KEY"] = fake.api_key
    exe = shutil.which("mentorbot", path=str(Path(sys.executable).parent))
    running: list[asyncio.subprocess.Process] = []
    fake.faults.on_create = lambda topic: os.kill(running[-1].pid, signal.SIGKILL)

    async def shell(lines: list[str], *extra: str) -> str:
        script = tmp_path / "script.txt"
        script.write_text("\n".join(lines) + "\n")
        process = await asyncio.create_subprocess_exec(
            exe, "shell", "--script", str(script), *extra, cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        running.append(process)
        out, _ = await asyncio.wait_for(process.communicate(), 60)
        return out.decode()

    first = await shell([f"council {COUNCIL}> {ANNOUNCE}", f"council {COUNCIL}> !confirm 3"], "--demo")
    assert running[0].returncode == -signal.SIGKILL and "Publishing announcement #3" in first
    assert len(fake.topics_titled(TITLE)) == 1 and "Announcement #3 from the council" not in first.split("Publishing")[1]

    fake.faults.on_create = None
    second = await shell(["% advance 2m", f"council {COUNCIL}> !announcements"])
    assert running[1].returncode == 0
    [topic] = fake.topics_titled(TITLE)
    assert second.count("[mentors] 📣 Announcement #3 from the council") == 1
    assert f"{fake.url}/t/{topic.slug}/{topic.id}" in second
    assert "forum: posted" in second
    assert [r[3] for r in fake.requests if r[2].startswith("/t/external_id/")] == [301]


async def test_announcements_and_the_relay_on_a_real_homeserver(synapse, tmp_path, fake):
    from tests.matrix_helpers import RunningBot, bot_settings, person, unique

    bot = synapse.register(unique("announcebot"))
    cy = await person(synapse, "cy", tmp_path)
    bob = await person(synapse, "bob", tmp_path)
    ana = await person(synapse, "ana", tmp_path, encrypted=True)
    running = RunningBot(None)
    try:
        mentors_room = await cy.room(bot.user_id, bob.user_id, name="mentors")
        council_room = await cy.room(bot.user_id, name="council")
        await bob.until_joined(mentors_room, bob.user_id)
        settings = bot_settings(synapse, bot, tmp_path, mentors_room=mentors_room, council_room=council_room,
                                council=[cy.user_id])
        settings.discourse = forum_settings(fake, relay_poll_seconds=10)
        running.settings = settings
        await running.start()
        await cy.say(council_room, f"!assign {ana.user_id} {bob.user_id}")
        await cy.replies(bot.user_id, council_room, 1)

        await cy.say(council_room, ANNOUNCE)
        preview = (await cy.replies(bot.user_id, council_room, 2))[1]
        number = int(preview.body.split("Draft announcement #")[1].split(".")[0])
        assert "&lt;b&gt;spring&lt;/b&gt;" in preview.html and "<strong>16:00 UTC</strong>" in preview.html
        await cy.say(council_room, f"!confirm {number}")

        def posted(_):
            return [s for s in cy.from_user(bot.user_id, council_room) if "is on the forum" in s.body]

        await cy.wait_for(posted, timeout=60)
        [topic] = fake.topics_titled(TITLE)
        link = f"{fake.url}/t/{topic.slug}/{topic.id}"

        def copies(someone, room=None):
            return [s for s in someone.from_user(bot.user_id, room) if f"Announcement #{number}" in s.body]

        await bob.wait_for(lambda _: copies(bob, mentors_room), timeout=30)
        await ana.wait_for(lambda _: copies(ana), timeout=30)
        [in_room] = copies(bob, mentors_room)
        [dm] = copies(ana)
        assert link in in_room.body and link in dm.body and in_room.msgtype == "m.notice"
        assert ana.client.rooms[dm.room_id].encrypted and dm.room_id != mentors_room

        # The relay: a mentor's new topic on the forum shows in the mentors room.
        await cy.wait_for(lambda _: any(r[2] == "/posts.json" for r in fake.requests), timeout=30)
        fake.add_topic("How do you plan a first meeting?", "Looking for tips on the very first session.",
                       username="dana")
        await bob.wait_for(lambda _: [s for s in bob.from_user(bot.user_id, mentors_room)
                                      if "New on the forum" in s.body], timeout=40)
        [notice] = [s for s in bob.from_user(bot.user_id, mentors_room) if "New on the forum" in s.body]
        assert "How do you plan a first meeting?" in notice.body and "by dana" in notice.body
        await asyncio.sleep(2)
        assert len(copies(bob, mentors_room)) == 1 and len(copies(ana)) == 1
    finally:
        await running.stop()
        for p in (cy, bob, ana):
            await p.stop()


async def test_calls_to_discourse_keep_the_configured_pace(tmp_path, policy, fake):
    bot = await make_bot(tmp_path, policy, fake, paced=True, requests_per_minute=40)
    try:
        for i in range(4):
            await announce_and_confirm(bot, f"!announce mentors {TITLE} part {i} | {BODY}")
        await bot.runtime.poll_relay()
        times = [t for t, *_ in fake.requests]
        assert len(times) == 5
        gaps = [b - a for a, b in zip(times, times[1:])]
        assert min(gaps) >= 60 / 40 - 0.05, gaps  # never closer than 1.5 s apart
    finally:
        await bot.runtime.close()


def test_the_fake_answers_with_the_shapes_of_a_real_discourse(fake):
    import requests

    headers = {"Api-Key": fake.api_key, "Api-Username": fake.api_username}
    ok = requests.post(f"{fake.url}/posts", headers=headers, timeout=5,
                       data={"title": "A title long enough here", "raw": "A body long enough to be accepted.",
                             "category": 5, "external_id": "abc-1"})
    assert ok.status_code == 200 and ok.headers["Content-Type"] == "application/json; charset=utf-8"
    assert ok.json()["post_number"] == 1
    again = requests.post(f"{fake.url}/posts", headers=headers, timeout=5,
                          data={"title": "a TITLE long enough here", "raw": "short", "category": 5})
    assert again.status_code == 422 and again.json() == {
        "action": "create_post",
        "errors": ["Title has already been used", "Body is too short (minimum is 20 characters)"]}
    bad_key = requests.get(f"{fake.url}/posts.json", headers={**headers, "Api-Key": "nope"}, timeout=5)
    assert bad_key.status_code == 403 and bad_key.json()["error_type"] == "invalid_access"
    category = requests.post(f"{fake.url}/posts", headers=headers, timeout=5,
                             data={"title": "Another title long enough", "raw": "A body long enough to be accepted.",
                                   "category": 42})
    assert category.status_code == 400 and category.json()["error_type"] == "invalid_parameters"
    found = requests.get(f"{fake.url}/t/external_id/abc-1.json", headers=headers, timeout=5, allow_redirects=False)
    assert found.status_code == 301 and found.content == b"" and found.headers["Location"].endswith(".json")
    fake.faults.rate_limited = 1
    limited = requests.get(f"{fake.url}/posts.json", headers=headers, timeout=5)
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"
    assert limited.json()["extras"]["wait_seconds"] == 1 and "error_type" in limited.json()
    assert limited.headers["Discourse-Rate-Limit-Error-Code"] == "admin_api_key_rate_limit"
    # The site-wide limit: 60 API requests a minute, all keys together.
    for _ in range(60):
        last = requests.get(f"{fake.url}/posts.json", headers=headers, timeout=5)
    assert last.status_code == 429 and int(last.headers["Retry-After"]) > 1


async def test_a_topic_that_shows_late_below_the_mark_is_still_relayed_once(forum_bot, fake):
    bot = forum_bot
    await bot.runtime.poll_relay()
    late = fake.add_topic("Written first, committed last", "This post shows after a newer one.", visible=False)
    fake.add_topic("Written second, shown first", "This one shows at once.")
    await bot.runtime.poll_relay()
    fake.reveal(late)
    await bot.runtime.poll_relay()
    await bot.runtime.poll_relay()
    relayed = [m.body.split("\n")[0] for m in bot.outbox.sent if "New on the forum" in m.body]
    assert relayed == ["💬 New on the forum: Written second, shown first by ana",
                       "💬 New on the forum: Written first, committed last by ana"]


async def test_the_relay_skips_topics_that_are_the_bots_own_announcements(forum_bot, fake):
    from commands.services import announcements
    from commands.services.announcements import ForumTopic

    bot = forum_bot
    await bot.runtime.poll_relay()
    await announce_and_confirm(bot)
    [topic] = fake.topics_titled(TITLE)

    async def relay(work):
        # Seen in the relayed category under another name (a renamed API user, say): still ours.
        await announcements.relay_topics(work, 10_000, [
            ForumTopic(9_000, topic.id, TITLE, "someone", "", "https://forum.example.org/t/x/1"),
            ForumTopic(9_001, 424242, "A topic of someone else", "dana", "", "https://forum.example.org/t/y/2"),
        ])

    await bot.runtime.dispatcher.run_job("relay", relay)
    async with bot.db.session() as session:
        from storage.models import ProgramNotice
        keys = (await session.exec(select(ProgramNotice.key).where(ProgramNotice.key.like("forum-topic:%")))).all()
    assert keys == ["forum-topic:424242"]


async def test_our_own_topic_refused_as_a_duplicate_in_any_words_counts_as_posted(forum_bot, fake):
    from bot.discourse import Discourse
    from commands.services.announcements import Posted

    forum: Discourse = forum_bot.runtime.forum
    first = await forum.publish(title=TITLE, raw=BODY, external_id="mentorbot-own-1", maybe_posted=False)
    assert isinstance(first, Posted)
    fake.topics[-1].title = "A moderator renamed this topic"  # the title no longer clashes; the external id does
    again = await forum.publish(title=TITLE, raw=BODY, external_id="mentorbot-own-1", maybe_posted=False)
    assert again == first and len(fake.topics) == 1
    assert [r[3] for r in fake.requests] == [200, 422, 301]


async def test_topics_left_waiting_when_the_forum_is_removed_go_to_matrix_without_a_link(tmp_path, policy, fake):
    bot = await make_bot(tmp_path, policy, fake)
    fake.faults.down = True
    await announce_and_confirm(bot)
    await bot.runtime.close()
    settings = Settings(storage=StorageSettings(url=database_url(tmp_path)), program=policy)
    outbox = RecordingOutbox()
    runtime = Runtime(settings, ManualClock(START + timedelta(hours=1)), outbox)
    await runtime.start()
    try:
        rooms = sorted(m.target.user_id or m.target.room.value for m in outbox.sent
                       if "Announcement #3 from the council" in m.body)
        assert rooms == [ANA, GIA, "mentors"]
        [told] = [m.body for m in outbox.sent if m.target.room is RoomKind.COUNCIL]
        assert "no longer configured" in told
    finally:
        await runtime.close()
