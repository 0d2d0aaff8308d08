"""What an operator watches: ``/health`` and ``/metrics`` on the bot's listener.

``/health`` answers 200 when the bot is syncing, its database answers and its outbox is
moving, and 503 with the reasons otherwise; ``/metrics`` is the Prometheus text format,
from a registry of this bot's own (several bots in one process do not mix). The counts
come from the runtime's observer hooks (``commands.observer``), which this module
implements; what is waiting in the outbox is read from the database when scraped.

Nothing here carries what people typed or who they are: commands are counted by their
name in the command table, everything else by kind. docs/monitoring.md describes it all.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    ProcessCollector,
    generate_latest,
)
from sqlalchemy.exc import IntegrityError

from bot import __version__
from bot.listener import Listener
from bot.runtime import Runtime
from commands.observer import Observer
from commands.services import outbox as stored

log = logging.getLogger("mentorbot.monitoring")

SYNC_STALE_FACTOR = 3  # no sync for this many times its long-poll timeout: the bot is not syncing
OUTBOX_STUCK = timedelta(minutes=10)  # a message due this long, with nothing sent meanwhile: delivery is stuck
RATE_LIMIT_GRACE = 30.0  # seconds after a homeserver's rate limit ends during which it still explains a wait
DATABASE_TIMEOUT = 3.0  # seconds the database has to answer a health check
# From 1 ms (a command answered from memory) to 10 s (one that waited for a busy database).
COMMAND_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Reminders go on time to the second; a minute late is the sweep that caught one up, hours a downtime.
LATENESS_BUCKETS = (0.5, 1.0, 5.0, 15.0, 60.0, 120.0, 300.0, 900.0, 1800.0, 3600.0, 3 * 3600.0, 12 * 3600.0,
                    86400.0)
FORUM_OUTCOMES = ("ok", "rate_limited", "refused", "server_error", "timeout", "unreachable", "bad_answer")
CHECKS = ("sync", "database", "outbox")


class Metrics(Observer):
    """The bot's metrics, in a registry of its own, fed by the runtime as it works."""

    def __init__(self, version: str = __version__) -> None:
        self.registry = r = CollectorRegistry()
        self.commands = Counter("mentorbot_commands", "Messages for the bot handled, by command (its name in the "
                                "command table; unknown for none) and outcome (ok, refused, failed, skipped).",
                                ["command", "outcome"], registry=r)
        self.command_seconds = Histogram("mentorbot_command_duration_seconds", "Time from taking a command to its "
                                         "answer being stored for delivery.", buckets=COMMAND_BUCKETS, registry=r)
        self.queued = Gauge("mentorbot_queued_work", "Commands and other work people caused, waiting for their turn.",
                            registry=r)
        self.outbox_messages = Gauge("mentorbot_outbox_messages", "Messages decided and not sent yet: due now, or "
                                     "held back for a room the bot cannot reach now.", ["state"], registry=r)
        self.outbox_age = Gauge("mentorbot_outbox_oldest_message_age_seconds", "How long the oldest message not sent "
                                "yet has waited (0 when none waits).", ["state"], registry=r)
        self.since_sync = Gauge("mentorbot_seconds_since_last_sync", "Seconds since the last sync with the homeserver "
                                "was taken in (before the first, since the bot started).", registry=r)
        self.health_ok = Gauge("mentorbot_health_ok", "1 when a check of /health passes, 0 when it fails.", ["check"],
                               registry=r)
        self.reminders = Counter("mentorbot_reminders_sent", "Check-in reminders sent.", registry=r)
        self.lateness = Histogram("mentorbot_reminder_lateness_seconds", "How long after its due time a reminder was "
                                  "sent.", buckets=LATENESS_BUCKETS, registry=r)
        self.forum_calls = Counter("mentorbot_discourse_calls", "Calls to Discourse, by outcome.", ["outcome"],
                                   registry=r)
        self.forum_waits = Counter("mentorbot_discourse_rate_limit_waits", "Times Discourse asked the bot to wait.",
                                   registry=r)
        self.forum_waited = Counter("mentorbot_discourse_rate_limit_wait_seconds", "Seconds Discourse asked the bot "
                                    "to wait, in all.", registry=r)
        self.homeserver_waits = Counter("mentorbot_matrix_rate_limit_waits", "Times the homeserver asked the bot to "
                                        "wait (429).", registry=r)
        self.homeserver_waited = Counter("mentorbot_matrix_rate_limit_wait_seconds", "Seconds the homeserver asked the "
                                         "bot to wait, in all.", registry=r)
        self.database_errors = Counter("mentorbot_database_errors", "Statements or connections the database refused "
                                       "(locked, gone, full, unreadable).", registry=r)
        Info("mentorbot", "The bot's version.", registry=r).info({"version": version})
        ProcessCollector(registry=r)  # the process's CPU, memory and open files
        for outcome in FORUM_OUTCOMES:  # every series there from the start, at 0
            self.forum_calls.labels(outcome)
        for state in ("due", "held"):
            self.outbox_messages.labels(state)
            self.outbox_age.labels(state)
        for check in CHECKS:  # set by each look (every scrape makes one)
            self.health_ok.labels(check)
        self._counted: dict[tuple[str, str], Any] = {}

    # ---------------------------------------------------------------- the observer's hooks

    def command(self, name: str, outcome: str, seconds: float | None) -> None:
        counter = self._counted.get((name, outcome))
        if counter is None:  # the labelled series, looked up once
            counter = self._counted[(name, outcome)] = self.commands.labels(name, outcome)
        counter.inc()
        if seconds is not None:
            self.command_seconds.observe(seconds)

    def reminders_sent(self, lateness: Sequence[float]) -> None:
        self.reminders.inc(len(lateness))
        for seconds in lateness:
            self.lateness.observe(max(seconds, 0.0))

    def forum_call(self, outcome: str) -> None:
        self.forum_calls.labels(outcome if outcome in FORUM_OUTCOMES else "bad_answer").inc()

    def forum_rate_limited(self, seconds: float) -> None:
        self.forum_waits.inc()
        self.forum_waited.inc(seconds)

    def homeserver_rate_limited(self, seconds: float) -> None:
        self.homeserver_waits.inc()
        self.homeserver_waited.inc(seconds)

    def database_refused(self, exc: BaseException) -> None:
        """An error from the database; a key that says an event was handled already is no fault."""
        if not isinstance(exc, IntegrityError):
            self.database_errors.inc()


@dataclass(frozen=True)
class Health:
    failing: tuple[str, ...]  # the checks that fail
    lines: tuple[str, ...]  # one a check, what it found

    @property
    def ok(self) -> bool:
        return not self.failing

    def body(self) -> str:
        return "\n".join(("ok" if self.ok else "unhealthy", *self.lines)) + "\n"


class Monitor:
    """Watches one bot: its runtime, and the transport that syncs (``bot.matrix.MatrixBot``;
    any object with ``synced_at``, ``sync_timeout_ms`` and ``rate_limited_until``)."""

    def __init__(self, runtime: Runtime, transport: Any = None, *, version: str = __version__) -> None:
        self.runtime, self.transport = runtime, transport
        self.metrics = Metrics(version)
        self.started = time.monotonic()
        runtime.observe(self.metrics)
        if hasattr(runtime.forum, "observer"):  # Discourse counts its calls
            runtime.forum.observer = self.metrics
        runtime.db.on_error(self.metrics.database_refused)
        self._looking = asyncio.Lock()
        self._last: Health | None = None

    def serve_on(self, listener: Listener) -> None:
        listener.add("GET", "/health", self._health)
        listener.add("GET", "/metrics", self._metrics)

    async def _health(self, request: web.Request) -> web.Response:
        health = await self.check()
        return web.Response(status=200 if health.ok else 503, text=health.body(),
                            headers={"Cache-Control": "no-store"})

    async def _metrics(self, request: web.Request) -> web.Response:
        await self.check()
        return web.Response(body=generate_latest(self.metrics.registry),
                            headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"})

    async def check(self) -> Health:
        """Look at the sync, the database and the outbox now; the gauges follow what is found."""
        async with self._looking:  # scrapes that come together take turns, never piling up on the database
            failing: list[str] = []
            lines: list[str] = []
            m = self.metrics
            m.queued.set(self.runtime.queue.size)
            if self.transport is not None:
                ok, line = self._sync()
                lines.append(line)
                if not ok:
                    failing.append("sync")
            now = self.runtime.clock.now()
            try:
                waiting = await asyncio.wait_for(self._look(now), DATABASE_TIMEOUT)
            except asyncio.TimeoutError:
                waiting = None
                lines.append(f"database: no answer within {DATABASE_TIMEOUT:.0f} s")
            except Exception as exc:  # noqa: BLE001 - whatever the database says, the check fails
                waiting = None
                reason = type(getattr(exc, "orig", None) or exc).__name__
                lines.append(f"database: not answering ({reason}; the bot's log says more)")
                if self._last is None or "database" not in self._last.failing:  # once, not at every scrape
                    log.warning("health check: the database did not answer: %s", getattr(exc, "orig", None) or exc)
            if waiting is None:
                failing.append("database")
                for state in ("due", "held"):
                    m.outbox_messages.labels(state).set(float("nan"))
                    m.outbox_age.labels(state).set(float("nan"))
            else:
                lines.append("database: ok")
                ok, line = self._outbox(waiting, now)
                lines.append(line)
                if not ok:
                    failing.append("outbox")
            for check in CHECKS:
                m.health_ok.labels(check).set(0 if check in failing else 1)
            health = Health(tuple(failing), tuple(lines))
            self._note(health)
            return health

    async def _look(self, now: datetime) -> stored.Waiting:
        async with self.runtime.db.outside_session() as session:  # its answer is also the database's
            return await stored.waiting(session, now)

    def _sync(self) -> tuple[bool, str]:
        t = self.transport
        now = time.monotonic()
        limit = SYNC_STALE_FACTOR * t.sync_timeout_ms / 1000
        self.metrics.since_sync.set(now - (t.synced_at if t.synced_at is not None else self.started))
        if t.synced_at is None:
            return False, "sync: connecting (no sync with the homeserver yet)"
        age = now - t.synced_at
        if age > limit:
            return False, f"sync: the last good sync was {age:.0f} s ago (more than {limit:.0f} s)"
        return True, f"sync: ok (the last one {age:.0f} s ago)"

    def _outbox(self, w: stored.Waiting, now: datetime) -> tuple[bool, str]:
        m = self.metrics
        for state, count, oldest in (("due", w.due, w.oldest_due), ("held", w.held, w.oldest_held)):
            m.outbox_messages.labels(state).set(count)
            m.outbox_age.labels(state).set(max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0)
        held = f", {w.held} held for a room the bot cannot reach now" if w.held else ""
        if not w.due or w.oldest_due is None:
            return True, f"outbox: ok (nothing due{held})"
        waited = now - w.oldest_due
        quiet = now - self.runtime.delivered_at
        if waited <= OUTBOX_STUCK or quiet <= OUTBOX_STUCK:
            return True, f"outbox: ok ({w.due} due, the oldest for {_minutes(waited)}{held})"
        limited = self.transport is not None and time.monotonic() < self.transport.rate_limited_until + RATE_LIMIT_GRACE
        if limited:
            return True, (f"outbox: {w.due} due, the oldest for {_minutes(waited)}: the homeserver asked the bot "
                          f"to wait (rate limit){held}")
        return False, (f"outbox: stuck: {w.due} message{'s' if w.due != 1 else ''} due, the oldest for "
                       f"{_minutes(waited)}, and none sent for {_minutes(quiet)}{held}")

    def _note(self, health: Health) -> None:
        """A change of health goes to the log as well, once."""
        before, self._last = self._last, health
        if before is not None and before.failing == health.failing:
            return
        if health.ok:
            if before is not None:
                log.info("healthy again")
        else:
            log.warning("unhealthy: %s", "; ".join(line for line in health.lines
                                                   if line.split(":", 1)[0] in health.failing))


def _minutes(span: timedelta) -> str:
    seconds = span.total_seconds()
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def watch(bot, listener: Listener) -> Monitor:
    """Count what ``bot`` (a ``bot.matrix.MatrixBot``) does and serve ``/health`` and ``/metrics``
    on ``listener``, before it starts."""
    monitor = Monitor(bot.runtime, bot)
    monitor.serve_on(listener)
    return monitor
