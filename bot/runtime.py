"""Wiring: settings, database, dispatcher, clock and an outbox, shared by every transport."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from typing import Callable
from datetime import datetime

from bot.config import Settings
from commands import build_registry, jobs
from commands.services import rules
from commands.services.checkins import BATCH, next_reminder_at
from commands.clock import Clock
from commands.dispatcher import Dispatcher, Result
from commands.messages import Incoming, Outbox, Rendered, SendFailed
from commands.text import Msg
from commands.services import outbox as stored
from storage.db import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pending:
    """A stored message on its way out."""

    id: int
    txn_id: str
    message: Rendered


MAX_STEPS = 200  # stops on the way when a settable clock jumps forward


class Runtime:
    """The bot's core, independent of how messages arrive and leave."""

    def __init__(self, settings: Settings, clock: Clock, outbox: Outbox, *, deliver_inline: bool = True) -> None:
        self.settings = settings
        # Inline: each message's answers are sent before the next message is read
        # (the shell, tests). Otherwise a background worker sends them (Matrix).
        self.deliver_inline = deliver_inline
        self._wake = asyncio.Event()
        self.clock = clock
        self.outbox = outbox
        self.db = Database(settings.storage.url)
        self.registry = build_registry()
        prefix = settings.matrix.command_prefix if settings.matrix else "!"
        self.dispatcher = Dispatcher(self.registry, self.db, settings.program, clock, prefix)
        self._delivering = asyncio.Lock()
        # Rows just stored by this process, handed over without reading them back;
        # the table is scanned at start and after a failed send, for anything else.
        self._fresh: list[Pending] = []

        self._scan = True
        self._sent: deque[int] = deque(maxlen=10_000)
        self.on_change: Callable[[], None] | None = None

    async def start(self) -> None:
        """Upgrade the database schema; safe to call on every start."""
        await self.db.upgrade()

    async def handle(self, incoming: Incoming) -> Result:
        """Run one message through the dispatcher, then deliver what it decided to send."""
        result = await self.dispatcher.handle(incoming)
        await self._after(result)
        if result.planned and self.on_change is not None:
            self.on_change()  # reminders were planned: the timer looks again
        return result

    async def run_reminders(self) -> list[Result]:
        """Send the reminders that have come due, a batch per transaction."""
        results = []
        while True:
            settled: list[int] = []

            async def batch(work) -> None:
                settled.append(await jobs.reminders(work))

            result = await self.dispatcher.run_job("reminders", batch)
            await self._after(result)
            results.append(result)
            if result.outcome != "ok" or not settled or settled[0] < BATCH:
                return results

    async def run_rules(self) -> Result:
        result = await self.dispatcher.run_job("program rules", jobs.program_rules)
        await self._after(result)
        return result

    async def run_due(self) -> Result:
        """Do all the program work whose time has come; returns everything it sent."""
        parts = await self.run_reminders()
        parts.append(await self.run_rules())
        outcome = "ok" if all(p.outcome == "ok" for p in parts) else "failed"
        return Result(outcome, [m for p in parts for m in p.messages], "due program work")

    async def next_rule(self) -> datetime | None:
        """When some program rule comes due next (after now)."""
        async with self.db.session() as session:
            return await rules.next_due(session, self.clock.now(), self.settings.program)

    async def next_reminder(self) -> datetime | None:
        """When the next reminder is due (possibly already)."""
        async with self.db.session() as session:
            return await next_reminder_at(session)

    async def next_due(self) -> datetime | None:
        """When some reminder or rule comes due next."""
        times = [t for t in (await self.next_rule(), await self.next_reminder()) if t is not None]
        return min(times) if times else None

    async def advance_to(self, target: datetime, clock) -> list[Result]:
        """Move a settable clock to ``target``, doing what comes due on the way, in order and on time.

        After MAX_STEPS stops on the way (a jump of years), the clock goes straight to
        the target and the rest is caught up at once, as after a long downtime.
        """
        results = [await self.run_due()]
        for _ in range(MAX_STEPS):
            when = await self.next_due()
            if when is None or when > target:
                break
            if when <= clock.now():
                break  # nothing more can be done at this time
            clock.set(when)
            results.append(await self.run_due())
        clock.set(target)
        results.append(await self.run_due())
        return results

    async def notice(self, incoming: Incoming, msg: Msg) -> Result:
        """Answer, once, a message that is not a command (one the transport could not read)."""
        result = await self.dispatcher.notice(incoming, msg)
        await self._after(result)
        return result

    async def _after(self, result: Result) -> None:
        if not result.messages:
            return
        self._fresh.extend(Pending(r.id, r.txn_id, stored.rendered(r)) for r in result.stored)
        if self.deliver_inline:
            await self.deliver()
        else:
            self._wake.set()

    async def delivery_worker(self, stopping: asyncio.Event) -> None:
        """Send stored messages as they come; while the transport is down, retry with backoff."""
        backoff = 1.0
        while not stopping.is_set():
            self._wake.clear()
            if await self.deliver():
                backoff = 1.0
                await _wait_any(self._wake, stopping)
            else:
                await _wait_any(stopping, timeout=backoff)
                backoff = min(backoff * 2, 60.0)
        await self.deliver()  # what the last commands decided, before closing

    async def deliver(self) -> bool:
        """Send every stored message not sent yet, oldest first.

        Returns False when a send must wait (the transport is unreachable); the
        message stays stored and the next call tries it again, in order.
        """
        async with self._delivering:
            while True:
                rows = await self._next_rows()
                if not rows:
                    return True
                for row in rows:
                    if row.id in self._sent:
                        continue
                    try:
                        await self.outbox.send(row.message, row.txn_id)
                    except SendFailed as exc:
                        async with self.db.session() as session:
                            await stored.mark_failed(session, row.id, str(exc), give_up=not exc.retry)
                        if exc.retry:
                            self._scan = True
                            log.warning("delivery paused: %s", exc)
                            return False
                        log.error("message %s to a %s room dropped: %s", row.id, row.message.target.room.value, exc)
                        continue
                    self._sent.append(row.id)
                    async with self.db.session() as session:
                        await stored.mark_sent(session, row.id, self.clock.now())

    async def _next_rows(self) -> list[Pending]:
        if self._scan:
            self._fresh.clear()  # everything they hold is in the table too
            async with self.db.session() as session:
                rows = [Pending(r.id, r.txn_id, stored.rendered(r)) for r in await stored.pending(session)]
            self._scan = len(rows) == stored.PAGE
            return rows
        rows = sorted(self._fresh, key=lambda r: r.id)
        self._fresh.clear()
        return rows

    def backlog(self) -> int:
        """Messages decided in this process and not handed to the transport yet."""
        return len(self._fresh)

    async def close(self) -> None:
        await self.db.close()


async def _wait_any(*events: asyncio.Event, timeout: float | None = None) -> None:
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
