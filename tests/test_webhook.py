"""Discourse's webhook: a new topic of the relayed category reaches the mentors room within
seconds, a delivery that is not Discourse's own is refused, and a topic is relayed once
whether the webhook, the poll, or both (in any order, or at once) bring it.

The fake Discourse sends its webhooks as Discourse does (signed, from its own threads) to
the bot's real listener over HTTP."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest

from bot import config
from bot.config import ConfigError, MonitoringSettings, Settings, StorageSettings
from bot.discourse import Discourse
from bot.listener import Listener
from bot.runtime import Runtime
from bot.scheduler import Scheduler
from bot.webhook import PATH, serve_webhook
from commands.clock import ManualClock
from commands.framework import RoomKind
from tests.conftest import BotHarness, RecordingOutbox, database_url
from tests.fake_discourse import FakeDiscourse, Webhook, signature
from tests.test_announcements import forum_settings

SECRET = "the-forum-and-the-bot-share-this"
NEWS = "New on the forum"


class Hooked:
    """The bot with the fake forum, its listener serving the webhook, and the forum's webhook to it."""

    def __init__(self, harness: BotHarness, listener: Listener, hook, fake: FakeDiscourse) -> None:
        self.bot, self.listener, self.hook, self.fake = harness, listener, hook, fake
        self.url = f"http://127.0.0.1:{listener.port}{PATH}"

    @property
    def runtime(self) -> Runtime:
        return self.bot.runtime

    def subscribe(self, **options) -> Webhook:
        webhook = Webhook(self.url, **{"secret": SECRET, **options})
        self.fake.webhooks.append(webhook)
        return webhook

    def relayed(self) -> list[str]:
        """The first lines of the relay's notices, as the mentors room got them."""
        return [m.body.split("\n")[0] for m in self.bot.outbox.sent
                if NEWS in m.body and m.target.room is RoomKind.MENTORS]

    async def until_relayed(self, count: int, timeout: float = 10.0) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(self.relayed()) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self.relayed()

    async def delivered(self, count: int) -> list:
        """Waits for ``count`` answered deliveries, then for the relays they started."""
        done = await asyncio.to_thread(self.fake.delivered, count)
        await self.hook.drain()
        return done

    async def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        async with aiohttp.ClientSession() as http:
            async with http.post(self.url, data=body, headers=headers) as answer:
                return answer.status, await answer.text()

    async def close(self) -> None:
        await self.listener.stop()
        await self.runtime.close()


async def hooked_bot(tmp_path, policy, fake, *, secret: str = SECRET, **changes) -> Hooked:
    """The bot's runtime with the fake forum, and its listener serving the webhook, without Matrix:
    its clock is now (the forum's events carry the real time), and it polls when a test says so
    (or, with a scheduler, every hour)."""
    settings = Settings(storage=StorageSettings(url=database_url(tmp_path)), program=policy,
                        discourse=forum_settings(fake, webhook_secret=secret, relay_poll_seconds=3600, **changes))
    runtime = Runtime(settings, ManualClock(datetime.now(timezone.utc)), RecordingOutbox(),
                      forum=Discourse(settings.discourse, interval=0.01))
    await runtime.start()
    listener = Listener("127.0.0.1", 0)
    hook = serve_webhook(listener, runtime)
    await listener.start()
    return Hooked(BotHarness(runtime, runtime.clock, runtime.outbox), listener, hook, fake)


@pytest.fixture
async def hooked(tmp_path, policy, fake):
    bot = await hooked_bot(tmp_path, policy, fake)
    await bot.runtime.poll_relay()  # the first look: the forum's history is not news
    try:
        yield bot
    finally:
        await bot.close()


# ---------------------------------------------------------------- accepted


async def test_a_signed_new_topic_reaches_the_mentors_room_within_seconds_not_at_the_next_poll(
        tmp_path, policy, fake, caplog):
    bot = await hooked_bot(tmp_path, policy, fake)
    scheduler = Scheduler(bot.runtime)
    try:
        await scheduler.start()  # polls once now, then every hour
        await asyncio.to_thread(lambda: _until(lambda: any(r[2] == "/posts.json" for r in fake.requests)))
        bot.subscribe(events=("post_created",))
        caplog.set_level(logging.INFO)

        started = time.monotonic()
        post = fake.add_topic("How do you plan a first meeting?", "Looking for tips on the very first session.",
                              username="dana")
        relayed = await bot.until_relayed(1)
        took = time.monotonic() - started

        assert took < 3, f"relayed after {took:.1f} s"  # the next poll is an hour away
        [notice] = [m for m in bot.bot.outbox.sent if NEWS in m.body]
        assert notice.body == ("💬 New on the forum: How do you plan a first meeting? by dana\n"
                               "Looking for tips on the very first session.\n"
                               f"{fake.url}/t/how-do-you-plan-a-first-meeting/{post.topic.id}")
        assert relayed == ["💬 New on the forum: How do you plan a first meeting? by dana"]
        assert len([r for r in fake.requests if r[2] == "/posts.json"]) == 1  # the webhook brought it, no poll
        [delivery] = await bot.delivered(1)
        assert (delivery.status, delivery.answer) == (200, "relaying")
        # The log names the event and what became of it; never the secret, the signature or the text.
        assert f"post_created (event {delivery.event_id}): relayed topic {post.topic.id}" in caplog.text
        for secret in (SECRET, delivery.headers["X-Discourse-Event-Signature"].split("=")[1],
                       "How do you plan", "Looking for tips"):
            assert secret not in caplog.text
    finally:
        scheduler.stop()
        await scheduler.drain(timeout=5)
        await bot.close()


async def test_a_topic_event_alone_relays_the_topic_without_an_excerpt_and_a_ping_is_answered(hooked, fake):
    webhook = hooked.subscribe(events=("topic_created",))
    assert (await asyncio.to_thread(fake.ping, webhook)) is not None
    post = fake.add_topic("Which tools do you use for notes?", "Paper, apps, something else?", username="eli")
    [ping, topic] = await hooked.delivered(2)
    assert (ping.event, ping.status, ping.answer, json.loads(ping.body)) == ("ping", 200, "pong", {"ping": "OK"})
    assert (topic.event, topic.status, topic.answer) == ("topic_created", 200, "relaying")
    assert [m.body for m in hooked.bot.outbox.sent] == [
        "💬 New on the forum: Which tools do you use for notes? by eli\n"
        f"{fake.url}/t/which-tools-do-you-use-for-notes/{post.topic.id}"]


# ---------------------------------------------------------------- refused


async def test_deliveries_not_signed_with_the_secret_or_stale_are_refused_and_relay_nothing(hooked, fake):
    unsigned = hooked.subscribe(secret="", events=("topic_created",))
    fake.add_topic("Sent without a signature here", "The webhook has no secret.")
    [refused] = await hooked.delivered(1)
    assert "X-Discourse-Event-Signature" not in refused.headers
    assert (refused.status, refused.answer) == (403, "bad signature")

    unsigned.secret = "another-secret-entirely"
    fake.add_topic("Signed with another secret", "Not the secret the bot knows.")
    [_, wrong] = await hooked.delivered(2)
    assert (wrong.status, wrong.answer) == (403, "bad signature")

    unsigned.active = False
    signed = hooked.subscribe(events=("topic_created",), held=True)
    fake.add_topic("A fine topic from the forum", "Signed as Discourse signs it.")
    [original] = [d for d in fake.deliveries if d.webhook is signed]
    tampered = original.body.replace(b"A fine topic", b"A forged topic")
    assert await hooked.post(tampered, original.headers) == (403, "bad signature")

    # Signed, but not what Discourse sends.
    def signed_headers(body: bytes) -> dict[str, str]:
        return {**original.headers, "Content-Length": str(len(body)), "X-Discourse-Event-Signature": signature(
            SECRET, body)}

    for body, answer in ((b"<html>not json</html>", (400, "the body is not a JSON object")),
                         (b'["a", "list"]', (400, "the body is not a JSON object")),
                         (b'{"topic": {"id": 5}}', (400, "no topic with its created_at"))):
        assert await hooked.post(body, signed_headers(body)) == answer
    huge = json.dumps({"topic": {"title": "x" * 1_100_000}}).encode()
    assert (await hooked.post(huge, signed_headers(huge)))[0] == 413

    # Stale: the event is older than the window (a replay, or a delivery held up), or dated ahead.
    hooked.bot.clock.advance(timedelta(minutes=20))
    fake.release_webhooks()
    [*_, stale] = await hooked.delivered(3)
    assert (stale.status, stale.answer) == (409, "too old")
    hooked.bot.clock.advance(timedelta(minutes=-30))
    assert (await asyncio.to_thread(fake.redeliver, original)) is not None
    [*_, early] = await hooked.delivered(4)
    assert (early.status, early.answer) == (409, "dated in the future")

    assert hooked.relayed() == []
    # The poll catches up what the webhook refused, each topic once.
    await hooked.runtime.poll_relay()
    assert hooked.relayed() == [f"💬 New on the forum: {title} by ana" for title in (
        "Sent without a signature here", "Signed with another secret", "A fine topic from the forum")]


# ---------------------------------------------------------------- relayed once


async def test_a_topic_the_webhook_relayed_is_not_relayed_again_by_the_poll_or_a_redelivery(hooked, fake):
    hooked.subscribe()  # topic_created and post_created: the same topic told twice
    fake.add_topic("Both events tell of this topic", "A topic event and a post event, then the poll.")
    deliveries = await hooked.delivered(2)
    assert sorted((d.event, d.status, d.answer) for d in deliveries) == [
        ("post_created", 200, "relaying"), ("topic_created", 200, "relaying")]
    await hooked.runtime.poll_relay()
    for delivery in deliveries:  # Discourse's Redeliver: the same event id, body and signature
        await asyncio.to_thread(fake.redeliver, delivery)
    await hooked.delivered(4)
    await hooked.runtime.poll_relay()
    assert hooked.relayed() == ["💬 New on the forum: Both events tell of this topic by ana"]


async def test_a_topic_the_poll_relayed_is_not_relayed_again_by_a_late_webhook(hooked, fake):
    hooked.subscribe(held=True)  # Discourse's job queue is busy
    fake.add_topic("The poll sees this one first", "Its webhook comes after the poll.")
    await hooked.runtime.poll_relay()
    assert hooked.relayed() == ["💬 New on the forum: The poll sees this one first by ana"]
    fake.release_webhooks()
    assert [d.answer for d in await hooked.delivered(2)] == ["relaying", "relaying"]
    assert len(hooked.relayed()) == 1


async def test_a_webhook_ahead_of_the_poll_makes_it_skip_nothing(hooked, fake):
    # Topic A shows on the forum with no webhook; B's webhook comes before any poll has seen A.
    first = fake.add_topic("Written first, no webhook for it", "Only the poll can bring this one.")
    hooked.subscribe()
    second = fake.add_topic("Written second, told at once", "The webhook brings this one.")
    assert first.id < second.id
    await hooked.delivered(2)
    assert hooked.relayed() == ["💬 New on the forum: Written second, told at once by ana"]
    await hooked.runtime.poll_relay()
    await hooked.runtime.poll_relay()
    assert hooked.relayed() == ["💬 New on the forum: Written second, told at once by ana",
                                "💬 New on the forum: Written first, no webhook for it by ana"]


async def test_the_webhook_twice_and_the_poll_at_the_same_moment_relay_a_topic_once(hooked, fake):
    hooked.subscribe(held=True)
    fake.add_topic("Told three ways at once", "Two events, their redeliveries and a poll, together.")
    held = list(fake.deliveries)

    def all_at_once() -> None:
        fake.release_webhooks()
        for delivery in held:
            fake.redeliver(delivery)

    await asyncio.gather(asyncio.to_thread(all_at_once), hooked.runtime.poll_relay())
    deliveries = await hooked.delivered(4)
    assert [d.status for d in deliveries] == [200] * 4
    assert hooked.relayed() == ["💬 New on the forum: Told three ways at once by ana"]


# ---------------------------------------------------------------- ignored


async def test_replies_other_categories_personal_messages_and_the_bots_own_topics_are_ignored(hooked, fake):
    hooked.subscribe()
    topic = fake.add_topic("Elsewhere on the forum today", "In the general category.", category_id=7).topic
    fake.add_reply(topic, "A reply is not a new topic, anywhere.")
    fake.add_private_message("A personal message to the bot", "Private messages are never relayed.")
    fake.add_topic("Posted by the bot itself here", "The bot's own topics are not relayed.",
                   username=fake.api_username)
    other = "ignored: not someone else's new topic in the relayed category"
    answers = sorted((d.event, d.answer) for d in await hooked.delivered(7))
    assert answers == sorted([("topic_created", other), ("post_created", other),  # another category
                              ("post_created", other),  # the reply
                              ("topic_created", "ignored: not a public topic"),
                              ("post_created", "ignored: not a public topic"),  # the personal message
                              ("topic_created", other), ("post_created", other)])  # the bot's own
    assert hooked.relayed() == []


# ---------------------------------------------------------------- without a secret


async def test_without_a_secret_no_webhook_is_served_and_the_poll_alone_relays(tmp_path, policy, fake):
    bot = await hooked_bot(tmp_path, policy, fake, secret="")
    try:
        assert bot.hook is None
        await bot.runtime.poll_relay()
        bot.subscribe()
        fake.add_topic("Only the poll brings this one", "No webhook is served without a secret.")
        assert {d.status for d in await asyncio.to_thread(fake.delivered, 2)} == {404}
        assert bot.relayed() == []
        await bot.runtime.poll_relay()
        assert bot.relayed() == ["💬 New on the forum: Only the poll brings this one by ana"]
    finally:
        await bot.close()


@pytest.mark.sqlite_only
def test_a_webhook_secret_needs_the_listener():
    file = {"discourse": {"url": "https://forum.example.org", "api_username": "mentorbot", "api_key": "k" * 20,
                          "announcements_category": 5, "relay_category": 6, "webhook_secret": SECRET}}
    with pytest.raises(ConfigError) as refused:
        config.parse(file, "config.toml", env={})
    assert refused.value.problems == [
        "config.toml: [discourse] webhook_secret: Discourse's webhook is served on the bot's HTTP listener, which "
        "is off: set [monitoring] listen (like 127.0.0.1:9108), or leave webhook_secret empty to poll only"]
    del file["discourse"]["webhook_secret"]
    with pytest.raises(ConfigError) as from_env:
        config.parse(file | {"monitoring": {"listen": "nonsense"}}, "config.toml",
                     env={"MENTORBOT_DISCOURSE_WEBHOOK_SECRET": SECRET})
    assert from_env.value.problems[0] == (
        "config.toml: [monitoring] listen: bad address 'nonsense': expected host:port, like 127.0.0.1:9108")
    with pytest.raises(ConfigError) as both:
        config.parse(file, "config.toml", env={"MENTORBOT_DISCOURSE_WEBHOOK_SECRET": SECRET})
    assert both.value.problems[0].startswith(
        "environment MENTORBOT_DISCOURSE_WEBHOOK_SECRET: Discourse's webhook is served on the bot's HTTP listener")
    assert SECRET not in "\n".join(refused.value.problems + both.value.problems)
    settings = config.parse(file | {"monitoring": {"listen": "127.0.0.1:9108"}}, "config.toml",
                            env={"MENTORBOT_DISCOURSE_WEBHOOK_SECRET": SECRET})
    assert settings.discourse.webhook_secret == SECRET and settings.monitoring.address == ("127.0.0.1", 9108)
    assert config.parse(file, "config.toml", env={}).discourse.webhook_secret == ""  # no secret: polling only


# ---------------------------------------------------------------- the whole bot


async def test_the_bot_on_a_real_homeserver_relays_a_webhooks_topic_at_once(synapse, tmp_path, fake):
    from tests.matrix_helpers import RunningBot, bot_settings, person, unique

    bot = synapse.register(unique("hookbot"))
    bob = await person(synapse, "bob", tmp_path)
    running = RunningBot(None)
    try:
        mentors_room = await bob.room(bot.user_id, name="mentors")
        council_room = await bob.room(bot.user_id, name="council")
        settings = bot_settings(synapse, bot, tmp_path, mentors_room=mentors_room, council_room=council_room,
                                council=[bob.user_id])
        settings.discourse = forum_settings(fake, webhook_secret=SECRET, relay_poll_seconds=3600)
        settings.monitoring = MonitoringSettings(listen=f"127.0.0.1:{_spare_port()}")
        running.settings = settings
        await running.start()  # `mentorbot run`'s bot: the webhook is served on its listener
        await asyncio.to_thread(_until, lambda: any(r[2] == "/posts.json" for r in fake.requests))
        fake.webhooks.append(Webhook(f"http://{settings.monitoring.listen}{PATH}", secret=SECRET))

        started = time.monotonic()
        fake.add_topic("How do you plan a first meeting?", "Looking for tips on the very first session.",
                       username="dana")
        await bob.wait_for(lambda _: [s for s in bob.from_user(bot.user_id, mentors_room) if NEWS in s.body])
        took = time.monotonic() - started
        assert took < 10, f"relayed after {took:.1f} s"  # the next poll is an hour away
        [notice] = [s for s in bob.from_user(bot.user_id, mentors_room) if NEWS in s.body]
        assert "How do you plan a first meeting? by dana" in notice.body
        assert len([r for r in fake.requests if r[2] == "/posts.json"]) == 1
        assert sorted(d.answer for d in await asyncio.to_thread(fake.delivered, 2)) == ["relaying", "relaying"]
    finally:
        await running.stop()
        await bob.stop()


def _spare_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.02)
