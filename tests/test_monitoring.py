"""What an operator watches: /health, /metrics and the log, as docs/monitoring.md describes them.

The counts and the health checks are read off a real runtime on the test's database; the
whole of it, scraped over HTTP from a bot serving commands on a real Synapse, at the end.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from bot import logs
from bot.config import DiscourseSettings, MonitoringSettings, Settings, StorageSettings
from bot.discourse import Discourse, DiscourseError
from bot.monitoring import OUTBOX_STUCK, Metrics, Monitor
from bot.runtime import Runtime
from commands.clock import ManualClock
from commands.framework import RoomKind
from commands.messages import Incoming, Rendered, RoomUnreachable, SendFailed
from tests.conftest import COUNCIL, START, RecordingOutbox, database_url, on_postgres
from tests.planting import checkins_with_reminders

ROOT = Path(__file__).resolve().parent.parent
ANA, BOB = "@ana:example.org", "@bob:example.org"
SECRET = "SECRET-NOTE-4Z"


def sample(monitor: Monitor, name: str, **labels) -> float | None:
    return monitor.metrics.registry.get_sample_value(name, labels)


def scraped(body: str) -> dict[tuple[str, tuple], float]:
    """A /metrics page as {(sample name, sorted labels): value}."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body) for s in family.samples}


def transport(*, synced_ago: float | None, timeout_ms: int = 30_000, limited_for: float = 0.0):
    """What the health check reads of the transport that syncs (``MatrixBot`` has the same three)."""
    now = time.monotonic()
    return SimpleNamespace(synced_at=None if synced_ago is None else now - synced_ago, sync_timeout_ms=timeout_ms,
                           rate_limited_until=now + limited_for if limited_for else 0.0)


async def drop_table(bot, table: str) -> None:
    async with bot.db.session() as session:
        await session.exec(text(f"DROP TABLE {table}" + (" CASCADE" if on_postgres() else "")))
        await session.commit()


@pytest.fixture
async def watched(bot):
    """The test bot's runtime, watched."""
    monitor = Monitor(bot.runtime, transport(synced_ago=1.0), version="9.8.7")
    return bot, monitor


# ---------------------------------------------------------------- counting commands


async def test_commands_are_counted_by_their_name_in_the_table_and_by_outcome(watched):
    bot, monitor = watched
    for sender, line, room in ((ANA, "help", RoomKind.DM), (ANA, "help", RoomKind.DM),
                               (BOB, f"!frobnicate {SECRET}", RoomKind.MENTORS),  # no such command
                               (ANA, "hepl", RoomKind.DM),  # a typo, answered with the command meant
                               (ANA, "mentors", RoomKind.DM),  # the council's: not allowed
                               (COUNCIL, "mentor add @bob:example.org lots", RoomKind.DM),  # a bad argument
                               (ANA, f"hello there {SECRET}", RoomKind.DM),  # words, answered with a welcome
                               (BOB, "good morning all", RoomKind.MENTORS)):  # chat in a shared room: no command
        await bot.send(sender, line, room)
    assert sample(monitor, "mentorbot_commands_total", command="help", outcome="ok") == 2
    assert sample(monitor, "mentorbot_commands_total", command="unknown", outcome="refused") == 2
    assert sample(monitor, "mentorbot_commands_total", command="mentors", outcome="refused") == 1
    assert sample(monitor, "mentorbot_commands_total", command="mentor add", outcome="refused") == 1
    assert sample(monitor, "mentorbot_commands_total", command="unknown", outcome="ok") == 1
    assert sample(monitor, "mentorbot_command_duration_seconds_count") == 7
    assert 0 < sample(monitor, "mentorbot_command_duration_seconds_sum") < 60
    page = generate_latest(monitor.metrics.registry).decode()
    assert SECRET not in page and "frobnicate" not in page and ANA not in page
    assert 'mentorbot_info{version="9.8.7"} 1.0' in page


async def test_a_flood_counts_as_skipped_and_a_crash_as_failed_and_as_a_database_error(watched):
    bot, monitor = watched
    flood = [Incoming(sender=BOB, room=RoomKind.DM, text=text, event_id=f"$flood{i}")
             for i, text in enumerate(("help", "profile", "help", "gibberish words"))]
    await bot.runtime.skip(flood)
    assert sample(monitor, "mentorbot_commands_total", command="help", outcome="skipped") == 2
    assert sample(monitor, "mentorbot_commands_total", command="profile", outcome="skipped") == 1
    assert sample(monitor, "mentorbot_commands_total", command="unknown", outcome="skipped") == 1
    assert sample(monitor, "mentorbot_command_duration_seconds_count") == 0  # those not run take no time
    # An event handled twice (a replay) breaks a key on purpose: that is no database fault.
    again = Incoming(sender=ANA, room=RoomKind.DM, text="help", event_id="$once")
    await bot.runtime.handle(again)
    assert (await bot.runtime.handle(again)).outcome == "duplicate"
    assert sample(monitor, "mentorbot_commands_total", command="help", outcome="ok") == 1  # the replay: not again
    assert sample(monitor, "mentorbot_database_errors_total") == 0
    for sender, line in ((COUNCIL, "mentor add @bob:example.org 3"), (ANA, "request help with events"),
                         (BOB, "accept 1")):
        assert (await bot.send(sender, line)).outcome == "ok"
    await drop_table(bot, "goal")  # the goals' table is gone: writing one fails
    assert (await bot.send(ANA, "goals add a first goal")).outcome == "failed"
    assert sample(monitor, "mentorbot_commands_total", command="goals add", outcome="failed") == 1
    assert sample(monitor, "mentorbot_database_errors_total") >= 1
    assert sample(monitor, "mentorbot_command_duration_seconds_count") == 5


async def test_reminders_are_counted_with_how_late_they_went_out(watched):
    bot, monitor = watched
    checkin_at = START + timedelta(hours=3)
    await checkins_with_reminders(bot.db, ANA, BOB, [checkin_at])  # both reminded an hour before
    bot.clock.set(checkin_at - timedelta(hours=1) + timedelta(seconds=90))  # the bot was busy: 90 s late
    await bot.runtime.run_reminders()
    assert sample(monitor, "mentorbot_reminders_sent_total") == 2
    assert sample(monitor, "mentorbot_reminder_lateness_seconds_count") == 2
    assert sample(monitor, "mentorbot_reminder_lateness_seconds_sum") == 180
    assert sample(monitor, "mentorbot_reminder_lateness_seconds_bucket", le="60.0") == 0
    assert sample(monitor, "mentorbot_reminder_lateness_seconds_bucket", le="120.0") == 2
    await bot.runtime.run_reminders()
    assert sample(monitor, "mentorbot_reminders_sent_total") == 2  # each once


async def test_discourse_calls_are_counted_by_outcome_with_the_waits_it_asked_for(tmp_path, policy, fake):
    settings = Settings(storage=StorageSettings(url=database_url(tmp_path)), program=policy,
                        discourse=DiscourseSettings(url=fake.url, api_username=fake.api_username, api_key=fake.api_key,
                                                    announcements_category=5, requests_per_minute=40))
    forum = Discourse(settings.discourse, timeout=(2.0, 2.0), interval=0.01)
    runtime = Runtime(settings, ManualClock(START), RecordingOutbox(), forum=forum)
    monitor = Monitor(runtime)
    try:
        await forum.latest_posts()
        fake.faults.rate_limited, fake.faults.rate_limit_wait = 1, 1
        await forum.latest_posts()  # a 429 asking for a second, waited out, then the answer
        fake.faults.down = True
        with pytest.raises(DiscourseError):
            await forum.latest_posts()
    finally:
        await runtime.close()
    assert sample(monitor, "mentorbot_discourse_calls_total", outcome="ok") == 2
    assert sample(monitor, "mentorbot_discourse_calls_total", outcome="rate_limited") == 1
    assert sample(monitor, "mentorbot_discourse_calls_total", outcome="server_error") == 1
    assert sample(monitor, "mentorbot_discourse_calls_total", outcome="timeout") == 0
    assert sample(monitor, "mentorbot_discourse_rate_limit_waits_total") == 1
    assert sample(monitor, "mentorbot_discourse_rate_limit_wait_seconds_total") == 1


# ---------------------------------------------------------------- health


async def test_health_says_connecting_before_the_first_sync_and_stale_when_syncs_stop(watched):
    bot, monitor = watched
    monitor.transport = transport(synced_ago=None)
    health = await monitor.check()
    assert not health.ok and health.failing == ("sync",)
    assert "sync: connecting (no sync with the homeserver yet)" in health.body()
    assert health.body().startswith("unhealthy\n")
    monitor.transport = transport(synced_ago=5.0)
    health = await monitor.check()
    assert health.ok and health.body().startswith("ok\n") and "sync: ok" in health.body()
    assert 4 <= sample(monitor, "mentorbot_seconds_since_last_sync") < 60
    monitor.transport = transport(synced_ago=95.0)  # three long-polls of 30 s: too long
    health = await monitor.check()
    assert health.failing == ("sync",) and "the last good sync was 95 s ago (more than 90 s)" in health.body()
    assert sample(monitor, "mentorbot_health_ok", check="sync") == 0
    assert sample(monitor, "mentorbot_health_ok", check="database") == 1


class Homeserver:
    """A transport that can be down (what waits is due), refuse a room (what waits is held), or be up."""

    def __init__(self) -> None:
        self.down, self.refusing, self.sent = False, False, []

    async def send(self, message: Rendered, txn_id: str):
        if self.down:
            raise SendFailed("the homeserver is not answering", retry=True)
        if self.refusing and message.target.room is RoomKind.MENTORS:
            raise RoomUnreachable("the bot is not in the mentors room; invite it")
        self.sent.append(message)


async def test_an_outbox_that_stops_moving_fails_health_unless_a_rate_limit_or_a_room_explains_it(watched):
    bot, monitor = watched
    homeserver = bot.runtime.outbox = Homeserver()
    homeserver.down = True
    await bot.send(ANA, "help")
    await bot.send(ANA, "profile")
    health = await monitor.check()
    assert health.ok and "outbox: ok (2 due, the oldest for 0 s)" in health.body()
    assert sample(monitor, "mentorbot_outbox_messages", state="due") == 2
    bot.clock.set(bot.clock.now() + OUTBOX_STUCK + timedelta(minutes=2))
    monitor.transport.synced_at = time.monotonic()
    health = await monitor.check()
    assert health.failing == ("outbox",)
    assert "outbox: stuck: 2 messages due, the oldest for 12 min, and none sent for 12 min" in health.body()
    assert sample(monitor, "mentorbot_outbox_oldest_message_age_seconds", state="due") == 12 * 60
    assert sample(monitor, "mentorbot_health_ok", check="outbox") == 0
    assert "help" not in health.body() and ANA not in health.body()
    # The homeserver asked the bot to wait: the messages wait for a known reason.
    monitor.transport.rate_limited_until = time.monotonic() + 120
    health = await monitor.check()
    assert health.ok and "the homeserver asked the bot to wait (rate limit)" in health.body()
    monitor.transport.rate_limited_until = 0.0
    # Back up: delivered, nothing waits.
    homeserver.down = False
    await bot.runtime.deliver()
    health = await monitor.check()
    assert health.ok and "outbox: ok (nothing due)" in health.body()
    assert sample(monitor, "mentorbot_outbox_messages", state="due") == 0
    # A room the bot cannot reach holds its messages back, for a known time: not stuck.
    homeserver.refusing = True
    await bot.send(BOB, "!mentors", RoomKind.MENTORS)
    bot.clock.set(bot.clock.now() + OUTBOX_STUCK * 2)
    await bot.runtime.deliver()  # tried again at its time, still refused: held for longer
    health = await monitor.check()
    assert health.ok and "outbox: ok (nothing due, 1 held for a room the bot cannot reach now)" in health.body()
    assert sample(monitor, "mentorbot_outbox_messages", state="held") == 1
    assert sample(monitor, "mentorbot_outbox_oldest_message_age_seconds", state="held") == 20 * 60


@pytest.mark.sqlite_only  # no database of the pass is used: one that is down
async def test_a_database_that_does_not_answer_fails_health_with_the_reason(tmp_path, policy):
    from tests.synapse import free_port

    down = f"postgresql+asyncpg://mentorbot@127.0.0.1:{free_port()}/mentorbot"  # nothing listens there
    runtime = Runtime(Settings(storage=StorageSettings(url=down), program=policy), ManualClock(START), None)
    monitor = Monitor(runtime, transport(synced_ago=1.0))
    try:
        health = await monitor.check()
        assert health.failing == ("database",)
        assert re.search(r"^database: not answering \(\w+; the bot's log says more\)$", health.body(), re.M)
        assert "mentorbot@" not in health.body()
        page = scraped(generate_latest(monitor.metrics.registry).decode())
        assert page[("mentorbot_health_ok", (("check", "database"),))] == 0
        due = page[("mentorbot_outbox_messages", (("state", "due"),))]
        assert due != due  # NaN: not known while the database does not answer
    finally:
        await runtime.close()


# ---------------------------------------------------------------- the log


@pytest.fixture
def log_to():
    """Configure the log as `mentorbot run` does, into a buffer; put pytest's back afterwards."""
    root = logging.getLogger()
    kept = (list(root.handlers), root.level)
    buffers = []

    def configure(fmt: str) -> io.StringIO:
        buffer = io.StringIO()
        logs.configure("info", fmt, buffer)
        buffers.append(buffer)
        return buffer

    try:
        yield configure
    finally:
        root.handlers[:] = kept[0]
        root.setLevel(kept[1])


@pytest.mark.parametrize("fmt", ["text", "json"])
async def test_the_log_has_a_line_per_command_and_never_what_was_typed_nor_who(bot, log_to, fmt):
    out = log_to(fmt)
    commands = [(COUNCIL, "mentor add @bob:example.org 3"), (ANA, "request help with events"), (BOB, "accept 1"),
                (BOB, "checkin @ana:example.org tomorrow 16:00")]
    for sender, line in commands:
        assert (await bot.send(sender, line)).outcome == "ok"
    bot.clock.set(bot.clock.now() + timedelta(days=2))
    assert (await bot.send(BOB, f"session @ana:example.org orientation {SECRET} | next: {SECRET}-next")).outcome == "ok"
    assert (await bot.send(ANA, f"diary {SECRET}-diary")).outcome == "ok"
    assert (await bot.send(BOB, f"!frobnicate {SECRET}-typo", RoomKind.MENTORS)).outcome == "unknown"
    await drop_table(bot, "goal")  # a command that crashes on what was typed
    assert (await bot.send(ANA, f"goals add {SECRET}-goal")).outcome == "failed"
    logged = out.getvalue()
    assert SECRET not in logged
    for who in (ANA, BOB, COUNCIL, "@ana", "@bob"):
        assert who not in logged
    lines = [line for line in logged.splitlines() if "command handled" in line]
    expected = [("mentor add", "ok", "dm"), ("request", "ok", "dm"), ("accept", "ok", "dm"), ("checkin", "ok", "dm"),
                ("session", "ok", "dm"), ("diary", "ok", "dm"), ("unknown", "refused", "mentors"),
                ("goals add", "failed", "dm")]
    if fmt == "json":
        entries = [json.loads(line) for line in logged.splitlines()]
        assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
        handled = [e for e in entries if e["message"] == "command handled"]
        assert [(e["command"], e["outcome"], e["room"]) for e in handled] == expected
        assert all(e["level"] == "info" and e["logger"] == "commands.dispatcher" for e in handled)
        assert all(isinstance(e["duration_ms"], float) and e["duration_ms"] >= 0 for e in handled)
        [crash] = [e for e in entries if e["level"] == "error"]
        assert crash["message"].startswith("command goals add failed: OperationalError") or \
            crash["message"].startswith("command goals add failed: ProgrammingError")
    else:
        shown = [re.search(r"INFO commands\.dispatcher: command handled command=(\"[^\"]+\"|\S+) outcome=(\w+) "
                           r"duration_ms=[\d.]+ room=(\w+)$", line) for line in lines]
        assert all(shown), lines
        assert [(m[1].strip('"'), m[2], m[3]) for m in shown] == expected
        assert "ERROR commands.dispatcher: command goals add failed:" in logged


def test_the_shell_keeps_its_terminal_for_the_conversation_unless_asked(tmp_path):
    from bot import config
    from bot.cli import log_level

    plain = config.parse({}, "config.toml")
    named = config.parse({"logging": {"level": "info"}}, "config.toml")
    quiet = config.parse({"logging": {"level": "error"}}, "config.toml")
    assert log_level(plain, False) == "info"  # `mentorbot run`: a line per command
    assert log_level(plain, False, shell=True) == "warning"
    assert log_level(plain, True, shell=True) == "info"
    assert log_level(named, False, shell=True) == "info"
    assert log_level(quiet, False) == "error" and log_level(quiet, True) == "info"  # -v: at least info
    assert log_level(config.parse({"logging": {"level": "debug"}}, "c.toml"), True) == "debug"


# ---------------------------------------------------------------- the docs and the alert rules


def every_metric() -> set[str]:
    """Every sample name /metrics exports once each kind of event has happened."""
    metrics = Metrics()
    metrics.command("help", "ok", 0.01)
    metrics.reminders_sent([1.0])
    metrics.forum_call("ok")
    metrics.forum_rate_limited(1.0)
    metrics.homeserver_rate_limited(1.0)
    metrics.database_refused(OSError())
    return {name for name, _ in scraped(generate_latest(metrics.registry).decode())}


def test_every_metric_is_documented_and_every_metric_an_alert_uses_is_exported():
    exported = every_metric()
    ours = {re.sub(r"_(bucket|count|sum|created|total)$", "", n) for n in exported if n.startswith("mentorbot_")}
    doc = (ROOT / "docs" / "monitoring.md").read_text(encoding="utf-8")
    assert sorted(m for m in ours if m not in doc) == []
    # The rule file as Prometheus reads it: groups of rules, each alert with its expression, how
    # long it must hold, a severity and the words a person is paged with.
    import yaml

    rules = yaml.safe_load((ROOT / "docs" / "prometheus-alerts.yml").read_text(encoding="utf-8"))
    [group] = rules["groups"]
    alerts = group["rules"]
    names = [alert["alert"] for alert in alerts]
    assert len(names) >= 6 and len(names) == len(set(names))
    for alert in alerts:
        assert {"alert", "expr", "labels", "annotations"} <= set(alert) <= {"alert", "expr", "for", "labels",
                                                                              "annotations"}, alert["alert"]
        assert re.fullmatch(r"\d+[smh]", alert.get("for", "0s")) and alert["labels"]["severity"] in ("warning",
                                                                                                      "critical")
        assert alert["annotations"]["summary"] and alert["annotations"]["description"]
    used = {name for alert in alerts for name in re.findall(r"\bmentorbot_\w+", alert["expr"])}
    assert len(used) >= 6 and sorted(used - exported) == []


# ---------------------------------------------------------------- a running bot, scraped


class Cable:
    """A TCP cable from the bot to the homeserver that a test can cut and mend: the homeserver
    unreachable from the bot, as a network fault makes it, while people's clients still reach it."""

    def __init__(self, target: str) -> None:
        from urllib.parse import urlsplit

        parts = urlsplit(target)
        self.target = (parts.hostname, parts.port)
        self.port = 0
        self.server: asyncio.base_events.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def mend(self) -> None:
        self.server = await asyncio.start_server(self._connect, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        self.server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        await self.server.wait_closed()

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort()
                self.writers.discard(dst)

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def until(predicate, timeout: float, every: float = 0.2):
    """Ask ``predicate`` (async) until it gives something true; returns it."""
    deadline = time.monotonic() + timeout
    while True:
        got = await predicate()
        if got or time.monotonic() > deadline:
            return got
        await asyncio.sleep(every)


@pytest.mark.sqlite_only  # the counts and checks on PostgreSQL are the tests above; this is the wiring
async def test_health_and_metrics_scraped_while_the_bot_serves_commands_on_synapse(synapse, tmp_path):
    from bot.app import matrix_bot
    from tests.matrix_helpers import bot_settings, person, unique
    from tests.synapse import free_port

    account = synapse.register(unique("watchedbot"))
    bob = await person(synapse, "bob", tmp_path)
    cable = Cable(synapse.url)
    await cable.mend()
    bot = task = None
    try:
        mentors = await bob.room(account.user_id, name="mentors")
        council = await bob.room(account.user_id, name="council")
        settings = bot_settings(synapse, account, tmp_path, mentors_room=mentors, council_room=council,
                                council=[bob.user_id], encryption=False)
        settings.matrix.homeserver = cable.url
        settings.monitoring = MonitoringSettings(listen=f"127.0.0.1:{free_port()}")
        bot = matrix_bot(settings)
        bot.sync_timeout_ms = 2000  # short long-polls, so that a sync that stops shows within seconds
        task = asyncio.create_task(bot.run())
        async with aiohttp.ClientSession() as http:
            async def get(path: str) -> tuple[int, str]:
                async with http.get(f"http://127.0.0.1:{bot.listener.port}{path}") as response:
                    return response.status, await response.text()

            async def answered():
                try:
                    return await get("/health")
                except aiohttp.ClientConnectionError:  # not listening yet
                    return None

            # Up before the bot has synced: it says so.
            status, body = await until(answered, 10, every=0.02)
            assert status == 503 and "sync: connecting (no sync with the homeserver yet)" in body, body
            await asyncio.wait_for(bot.ready.wait(), 30)
            await bob.until_joined(mentors, account.user_id)
            for line in ("!help", "!mentors", "!help"):
                await bob.say(mentors, line)
            await bob.replies(account.user_id, mentors, 3)

            async def healthy():
                status, body = await get("/health")
                return (status, body) if status == 200 else None

            status, body = await until(healthy, 20)
            assert status == 200 and body.startswith("ok\n") and "database: ok" in body and "outbox: ok" in body, body
            status, page = await get("/metrics")
            assert status == 200
            metrics = scraped(page)
            assert metrics[("mentorbot_commands_total", (("command", "help"), ("outcome", "ok")))] == 2
            assert metrics[("mentorbot_commands_total", (("command", "mentors"), ("outcome", "ok")))] == 1
            assert metrics[("mentorbot_command_duration_seconds_count", ())] == 3
            assert metrics[("mentorbot_outbox_messages", (("state", "due"),))] == 0
            assert metrics[("mentorbot_outbox_messages", (("state", "held"),))] == 0
            assert ("mentorbot_outbox_oldest_message_age_seconds", (("state", "due"),)) in metrics
            assert 0 <= metrics[("mentorbot_seconds_since_last_sync", ())] < 6
            assert all(metrics[("mentorbot_health_ok", (("check", c),))] == 1 for c in ("sync", "database", "outbox"))
            assert ("mentorbot_info", (("version", __import__("bot").__version__),)) in metrics
            assert bob.user_id not in page and "!help" not in page

            # The homeserver out of the bot's reach: what people say goes unanswered, and /health says why.
            await cable.cut()
            asked = await bob.say(mentors, "!help")

            async def failing():
                status, body = await get("/health")
                return (status, body) if status == 503 else None

            status, body = await until(failing, 30)
            assert status == 503 and body.startswith("unhealthy\n"), body
            assert re.search(r"^sync: the last good sync was \d+ s ago \(more than 6 s\)$", body, re.M), body
            assert len(bob.from_user(account.user_id, mentors)) == 3  # no answer meanwhile
            metrics = scraped((await get("/metrics"))[1])
            assert metrics[("mentorbot_health_ok", (("check", "sync"),))] == 0
            assert metrics[("mentorbot_seconds_since_last_sync", ())] > 6

            # Mended: the bot takes up where it was, answers, and is healthy again.
            await cable.mend()
            replies = await bob.replies(account.user_id, mentors, 4, timeout=60)
            assert replies[3].content["m.relates_to"]["m.in_reply_to"]["event_id"] == asked
            status, body = await until(healthy, 20)
            assert status == 200, body
    finally:
        if bot is not None and task is not None:
            bot.stop()
            await asyncio.wait_for(task, 30)
        if cable.server is not None:
            cable.server.close()
        await bob.stop()


def test_the_program_and_its_storage_know_nothing_of_metrics():
    """Commands report to a neutral observer; only ``bot/`` knows Prometheus."""
    from tests.test_architecture import imported_modules

    found = sorted({(p.relative_to(ROOT).as_posix(), m) for package in ("commands", "storage")
                    for p, m in imported_modules(package) if m.split(".")[0] == "prometheus_client"})
    assert found == []
    assert any(m == "prometheus_client" for _, m in imported_modules("bot"))  # the check sees imports
