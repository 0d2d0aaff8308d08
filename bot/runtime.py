"""The bot's core at work: the dispatcher over one database, people served in turn, scheduled
work, and delivery through an outbox. Every transport runs the same runtime; ``bot.app`` builds it."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from typing import Callable
from datetime import datetime

from bot.charts import Charts, drawn
from bot.config import Settings
from bot.flood import Budget, FairQueue, Item
from commands import build_registry, jobs
from commands.services import announcements
from commands.services.checkins import BATCH, next_reminder_at
from commands.services.forum import Forum, ForumTopic
from commands.clock import Clock
from commands.dispatcher import PASSING_FAULTS, Dispatcher, Result
from commands.framework import RoomKind
from commands import reactions
from commands.messages import Answers, Incoming, Outbox, Rendered, RoomUnreachable, SendFailed, Sent, Target
from commands.observer import Observer
from commands.reactions import Reaction
from commands.text import reading
from commands.services import answers as answerable
from commands.text import Msg
from commands.words import rooms as rooms_said
from commands.services import outbox as stored
from storage.db import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pending:
    """A stored message on its way out."""

    id: int
    txn_id: str
    message: Rendered
    lane: int = stored.NOW


MAX_STEPS = 200  # stops on the way when a settable clock jumps forward
MAX_BACKLOG = 20  # replies decided but not sent, before handling more commands
BULK_STEP = 10  # bulk notices sent between two looks for a reply or reminder that came meanwhile
MARK_EVERY = 20  # messages sent before they are noted as sent (one statement for them all)
REMEMBER_SENT = 10_000
KEEP_DRAWN = 8  # messages whose charts are drawn, kept while sending them waits
TRANSIENT = PASSING_FAULTS  # the database locked or gone, the network: the same work is tried again


class Runtime:
    """The bot's core, independent of how messages arrive and leave."""

    def __init__(
        self, settings: Settings, clock: Clock, outbox: Outbox | None, *, deliver_inline: bool = True,
        forum: Forum | None = None, db: Database | None = None, charts: Charts | None = None,
    ) -> None:
        self.settings = settings
        # Inline: each message's answers are sent before the next message is read
        # (the shell, tests). Otherwise a background worker sends them (Matrix).
        self.deliver_inline = deliver_inline
        self._wake = asyncio.Event()
        self.clock = clock
        self.outbox = outbox
        self.db = db or Database(settings.storage.url)
        self.registry = build_registry()
        prefix = settings.matrix.command_prefix if settings.matrix else "!"
        self.forum = forum  # None: no forum (see ``bot.app.forum_for``)
        # Draws the charts messages carry, when they are sent (None: they go as text only).
        self.charts = charts
        self._drawn: dict[int, Rendered] = {}  # charts drawn for a message not sent yet (a retry draws none again)
        self.dispatcher = Dispatcher(self.registry, self.db, settings.program, clock, prefix,
                                     forum=forum.label if forum else None, retention=settings.retention,
                                     host=settings.matrix.user_id.partition(":")[2] if settings.matrix else "")
        self._announcing = asyncio.Lock()
        self._relaying = asyncio.Lock()
        self.on_announce: Callable[[], None] | None = None
        self._delivering = asyncio.Lock()
        # Rows just stored by this process, handed over without reading them back, in two
        # lanes (replies and reminders; bulk notices, oldest first); the table is scanned at
        # start and after a failed send, for anything else.
        self._fresh: list[Pending] = []
        self._fresh_bulk: deque[Pending] = deque()

        # Commands and what else people cause, in a queue per person, served in turn.
        self.queue = FairQueue()
        self.budget = Budget(settings.limits)

        self._scan = True
        # Messages sent lately (a row read from the table may also be among the fresh ones),
        # and those of them not noted as sent in the table yet.
        self._sent: dict[int, None] = {}
        self._unnoted: set[int] = set()
        # Of those, the messages a reaction answers, and where they were posted.
        self._answerable: list[tuple[Sent, Answers]] = []
        # The table may hold more to send than its last page read (of the first lane too).
        self._more = self._more_now = False
        self._reading: list[Pending] | None = None  # rows handed over while the table is read
        # Rooms that cannot be reached now (by target), and until when their messages wait.
        self._held: dict[stored.TargetKey, datetime] = {}
        self.on_change: Callable[[], None] | None = None
        # When a message last went out (or the runtime was made): delivery that waits with
        # nothing going out for long is stuck (``bot.monitoring``).
        self.delivered_at = clock.now()
        self.observer = Observer()  # who watches: nobody, until ``observe``

    def observe(self, observer: Observer) -> None:
        """Report commands, reminders and the rest to ``observer`` (``bot.monitoring``)."""
        self.observer = self.dispatcher.observer = observer

    async def start(self) -> None:
        """Upgrade the database schema; safe to call on every start."""
        # What the transport says on its own (a file too large, a room not private) is in the
        # program's language: the tasks started from here on inherit it.
        reading.set(self.settings.program.language)
        await self.db.upgrade()
        if self.forum is None:
            # Topics confirmed while a forum was configured, and not posted: send the rest without it.
            result = await self.dispatcher.run_job("announcements without a forum", announcements.without_forum)
            await self._after(result)

    async def handle(self, incoming: Incoming) -> Result:
        """Run one message through the dispatcher, then deliver what it decided to send."""
        return await self._handled(await self.dispatcher.handle(incoming))

    async def react(self, reaction: Reaction) -> Result:
        """A ✅ or ❌ reaction: the answer it stands for, when it is one (``commands.reactions``)."""
        return await self._handled(await reactions.react(self.dispatcher, reaction))

    async def _handled(self, result: Result) -> Result:
        await self._after(result)
        if result.planned and self.on_change is not None:
            self.on_change()  # reminders were planned: the timer looks again
        if result.announced:
            if self.deliver_inline:
                await self.run_announcements()
            elif self.on_announce is not None:
                self.on_announce()  # a topic waits: the forum worker wakes up
        return result

    # ------------------------------------------------------------------ people in turn

    def submit(self, who: str, run, *, done=lambda: None) -> None:
        """Queue work caused by one person (a membership change, a message the bot could not
        read), to be done in their turn, after what they sent before."""
        self.queue.put(who, Item(run, done))

    def submit_message(self, incoming: Incoming, *, done=lambda: None) -> bool:
        """Queue a message for the dispatcher in its sender's turn; False (nothing queued) when
        it is not for the bot. A command beyond the sender's budget is queued to be skipped."""
        if not self.dispatcher.is_for_me(incoming):
            return False
        if self.budget.take(incoming.sender):
            self.queue.put(incoming.sender, Item(lambda: self.handle(incoming), done))
        else:
            self.queue.put(incoming.sender, Item(lambda: None, done, skipped=incoming))
        return True

    async def serve_queue(self, stopping: asyncio.Event) -> None:
        """Do the queued work, one item at a time, taking people in turn, until ``stopping``."""
        while not stopping.is_set():
            taken = asyncio.ensure_future(self.queue.get())
            await _wait_any(stopping, futures=[taken])
            if not taken.done():
                taken.cancel()
                return
            who, items = taken.result()
            while self.backlog() > MAX_BACKLOG and not stopping.is_set():
                # Replies wait to be sent: let delivery catch up rather than hold hundreds of them.
                await asyncio.sleep(0.05)
            if await self._do(items, stopping):
                for item in items:
                    item.done()

    async def _do(self, items: list[Item], stopping: asyncio.Event) -> bool:
        """Do one item (or record a run of skipped commands); True once done. A passing fault
        (the database locked or gone) is waited out; the same item is tried again."""
        wait = 1.0
        while True:
            try:
                if items[0].skipped is not None:
                    await self.skip([item.skipped for item in items])
                else:
                    await items[0].run()
                return True
            except TRANSIENT as exc:
                if stopping.is_set():
                    return False  # taken again after the restart
                log.warning("could not do it now (%s); trying again in %.0f s", type(exc).__name__, wait)
                await _wait_any(stopping, timeout=wait)
                wait = min(wait * 2, 30.0)
            except Exception:  # noqa: BLE001 - one item that cannot be done must not stop the others
                log.exception("work for someone could not be done; it is skipped")
                return True

    async def skip(self, skipped: list[Incoming]) -> Result:
        """Commands beyond their sender's budget: recorded as handled, never run; the sender
        is told once in a while to slow down."""
        limits = self.settings.limits
        msg = rooms_said.slow_down(limits.command_burst, limits.commands_per_minute)
        result = await self.dispatcher.skipped(skipped, msg)
        await self._after(result)
        return result

    async def run_reminders(self) -> list[Result]:
        """Send the reminders that have come due, a batch per transaction."""
        results = []
        while True:
            settled: list[int] = []
            late: list[float] = []

            async def batch(work) -> None:
                settled.append(await jobs.reminders(work))
                late[:] = jobs.lateness(work)

            result = await self.dispatcher.run_job("reminders", batch)
            await self._after(result)
            results.append(result)
            if result.outcome == "ok" and late:
                self.observer.reminders_sent(late)
            if result.outcome != "ok" or not settled or settled[0] < BATCH:
                return results

    async def run_rules(self) -> Result:
        result = await self.dispatcher.run_job("program rules", jobs.program_rules)
        await self._after(result)
        return result

    async def run_announcements(self) -> list[Result]:
        """Post the announcement topics that are due, and record each outcome."""
        if self.forum is None:
            return []
        async with self._announcing:
            return await jobs.publish_announcements(self.forum, self._transact)

    async def next_announcement(self) -> datetime | None:
        if self.forum is None:
            return None
        async with self.db.session() as session:
            return await announcements.next_attempt_at(session)

    async def poll_relay(self) -> Result | None:
        """Relay the forum's new topics in the relayed category to the mentors room, each once."""
        d = self.settings.discourse
        if self.forum is None or d is None or not d.relay_category:
            return None
        async with self._relaying:
            return await jobs.relay_forum(self.forum, self._transact, category=d.relay_category,
                                          own_username=d.api_username)

    async def relay_pushed(self, topic: ForumTopic) -> Result:
        """Relay a new topic the forum told the bot of at once (a webhook), unless the poll (or
        the same news told before) relayed it already: then nothing is sent. It does not wait for
        a poll in progress: the two take turns only for their transactions."""
        return await jobs.relay_pushed(topic, self._transact)

    async def _transact(self, name: str, job: jobs.Job) -> Result:
        """One unit of work for a job that spans several: committed, then what it sends is delivered."""
        result = await self.dispatcher.run_job(name, job)
        await self._after(result)
        return result

    async def run_due(self) -> Result:
        """Do all the program work whose time has come; returns everything it sent."""
        parts = await self.run_reminders()
        parts += await self.run_announcements()
        parts.append(await self.run_rules())
        outcome = "ok" if all(p.outcome == "ok" for p in parts) else "failed"
        return Result(outcome, [m for p in parts for m in p.messages], "due program work")

    async def next_rule(self) -> datetime | None:
        """When some program rule comes due next (after now)."""
        async with self.db.session() as session:
            return await jobs.next_due(session, self.clock.now(), self.settings.program)

    async def next_reminder(self) -> datetime | None:
        """When the next reminder is due (possibly already)."""
        async with self.db.session() as session:
            return await next_reminder_at(session)

    async def next_due(self) -> datetime | None:
        """When some reminder or rule comes due next."""
        times = [t for t in (await self.next_rule(), await self.next_reminder(), await self.next_announcement())
                 if t is not None]
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

    async def run(self, name: str, job, *, durable: bool = True) -> Result:
        """Run work the transport noticed (someone joined a room, a room changed) like any other:
        in its turn, in one transaction, with what it sends stored and delivered. ``durable``:
        as for ``Database.session``."""
        result = await self.dispatcher.run_job(name, job, raise_passing=True, durable=durable)
        await self._after(result)
        return result

    async def read(self, query):
        """Answer a question of the program's data (``query(session)``) outside any command's turn:
        reading changes nothing, so it need not wait."""
        async with self.db.session() as session:
            return await query(session)

    async def tell(self, name: str, target: Target, msg: Msg, *, notify: bool = True) -> Result:
        """Send one message the transport decided on (an alert for the council)."""
        async def job(work) -> None:
            work.send(target, msg, notify=notify)

        return await self.run(name, job)

    async def notice(self, incoming: Incoming, msg: Msg, *, once_per: str | None = None) -> Result:
        """Answer, once, a message that is not a command (one the transport could not read)."""
        result = await self.dispatcher.notice(incoming, msg, once_per=once_per)
        await self._after(result)
        return result

    async def _after(self, result: Result) -> None:
        if not result.messages:
            return
        for q in sorted(result.stored, key=lambda q: q.id):
            self._hand_over(Pending(q.id, q.txn_id, q.message, q.lane))
        if self.deliver_inline:
            await self.deliver()
        else:
            self._wake.set()

    def _hand_over(self, row: Pending) -> None:
        """A row just stored, for delivery. While the table holds older rows of its lane not
        read yet, it is read from there too, in order, after them."""
        if self._reading is not None:  # the table is being read: sorted out once it is
            self._reading.append(row)
        elif row.lane == stored.BULK and not self._more:
            self._fresh_bulk.append(row)
        elif row.lane != stored.BULK and not self._more_now:
            self._fresh.append(row)

    async def delivery_worker(self, stopping: asyncio.Event) -> None:
        """Send stored messages as they come; while the transport is down, retry with backoff."""
        backoff = 1.0
        # Stopping wakes the worker too, so that between messages it waits on one event:
        # a reply decided is picked up on the loop's next turn.
        stop_watch = asyncio.ensure_future(stopping.wait())
        stop_watch.add_done_callback(lambda _: self._wake.set())
        while not stopping.is_set():
            self._wake.clear()
            try:
                delivered = await self.deliver()
            except Exception:  # noqa: BLE001 - the database is busy or gone: try again later
                # A message sent but not marked sent goes again with the same transaction id,
                # which the homeserver recognises: nothing is doubled.
                log.warning("delivery paused; trying again in %.0f s", backoff, exc_info=True)
                self._scan, delivered = True, False
            if delivered:
                backoff = 1.0
                # Messages held back for a room wait for their time, or for news.
                until = min(self._held.values(), default=None)
                wait = None if until is None else max((until - self.clock.now()).total_seconds(), 0.0)
                await _wait_any(self._wake, timeout=wait)
            else:
                await _wait_any(stopping, timeout=backoff)
                backoff = min(backoff * 2, 60.0)
        stop_watch.cancel()
        await self.deliver()  # what the last commands decided, before closing

    async def deliver(self) -> bool:
        """Send every stored message not sent yet, oldest first.

        Returns False when a send must wait (the transport is unreachable); the
        message stays stored and the next call tries it again, in order. A message
        whose room cannot be reached now is held back, with every later message for
        the same room, and the others go on; it is tried again later, never dropped.
        """
        async with self._delivering:
            now = self.clock.now()
            if any(until <= now for until in self._held.values()):
                self._held = {key: until for key, until in self._held.items() if until > now}
                self._scan = True  # held messages whose time has come
            while True:
                rows = await self._next_rows()
                if not rows:
                    return True
                try:
                    if not await self._send_rows(rows):
                        return False
                finally:
                    await self._note_sent()

    async def _send_rows(self, rows: list[Pending]) -> bool:
        """Send ``rows`` in order; False when sending must wait (the transport is unreachable)."""
        for row in rows:
            if row.id in self._sent or row.id in self._unnoted:  # sent already (and noted, or about to be)
                continue
            key = stored.target_key(row.message.target)
            if key in self._held:  # an earlier message there waits: this one waits behind it
                async with self.db.session() as session:
                    await stored.hold(session, row.id, "waits behind an earlier message", self.clock.now(),
                                      until=self._held[key])
                continue
            try:
                sent = await self.outbox.send(await self._with_charts(row), row.txn_id)
            except RoomUnreachable as exc:
                async with self.db.session() as session:
                    self._held[key] = await stored.hold(session, row.id, str(exc), self.clock.now())
                log.warning("a message to a %s room is held until %s: %s", row.message.target.room.value,
                            f"{self._held[key]:%H:%M:%S}", exc)
                continue
            except SendFailed as exc:
                async with self.db.session() as session:
                    await stored.mark_failed(session, row.id, str(exc), give_up=not exc.retry)
                if exc.retry:
                    self._scan = True
                    log.warning("delivery paused: %s", exc)
                    return False
                log.error("message %s to a %s room dropped: %s", row.id, row.message.target.room.value, exc)
                continue
            self._drawn.pop(row.id, None)
            self.delivered_at = self.clock.now()
            if row.message.answers is not None and sent is not None:  # noted with it: a reaction finds it
                self._answerable.append((sent, row.message.answers))
            self._sent[row.id] = None
            if len(self._sent) > REMEMBER_SENT:
                del self._sent[next(iter(self._sent))]
            self._unnoted.add(row.id)
            if len(self._unnoted) >= MARK_EVERY:
                await self._note_sent()
        return True

    async def _with_charts(self, row: Pending) -> Rendered:
        """The row's message with its charts drawn (once, even if sending it is tried again)."""
        if row.id not in self._drawn:
            message = await drawn(row.message, self.charts)
            if message is row.message:
                return message
            if len(self._drawn) >= KEEP_DRAWN:
                del self._drawn[next(iter(self._drawn))]
            self._drawn[row.id] = message
        return self._drawn[row.id]

    async def _note_sent(self) -> None:
        """Note what was sent as sent, in one statement. Until then a crash sends it again, with
        the same transaction id, which the homeserver recognises: nothing is doubled."""
        if self._unnoted:
            async with self.db.session(durable=False) as session:  # lost in a power cut: sent again, once
                if self._answerable:  # where the messages a reaction answers were posted
                    await answerable.remember(session, self._answerable, self.clock.now())
                await stored.mark_sent(session, sorted(self._unnoted), self.clock.now())
            self._unnoted.clear()
            self._answerable.clear()

    async def release(self, room: RoomKind) -> None:
        """The bot can reach a room again (it joined it): what was held for it goes now."""
        async with self._delivering:
            async with self.db.session() as session:
                released = await stored.release(session, room)
            self._held = {key: until for key, until in self._held.items() if key[0] != room.value}
            self._scan = True
        if released:
            log.info("%d held messages for the %s room go now", released, room.value)
        self._wake.set()

    async def _next_rows(self) -> list[Pending]:
        """The next messages to send: every reply and reminder waiting, or else a few bulk
        notices, so that what someone waits for never queues behind thousands of them."""
        for _ in range(2):
            if self._scan:
                await self._read_table()
            if self._fresh:
                rows = sorted(self._fresh, key=lambda r: r.id)
                self._fresh.clear()
                return rows
            if self._fresh_bulk:
                return [self._fresh_bulk.popleft() for _ in range(min(BULK_STEP, len(self._fresh_bulk)))]
            if not self._more:
                return []
            self._scan = True  # the last page read is done: read the next one
        return []

    async def _read_table(self) -> None:
        """Read a page of what waits to be sent, in lane order, into the fresh lists."""
        self._fresh.clear()  # everything they hold is in the table too
        self._fresh_bulk.clear()
        now = self.clock.now()
        self._reading = []
        try:
            async with self.db.session() as session:
                rows = [Pending(r.id, r.txn_id, stored.rendered(r), r.lane)
                        for r in await stored.pending(session, now)]
                # The table knows what waits for later (kept by an earlier process too).
                self._held = await stored.held(session, now)
        finally:
            came, self._reading = self._reading, None
        for row in rows:
            (self._fresh_bulk if row.lane == stored.BULK else self._fresh).append(row)
        self._more = len(rows) == stored.PAGE
        self._more_now = self._more and rows[-1].lane != stored.BULK
        self._scan = False
        read = {row.id for row in rows}
        for row in came:  # stored while the page was read: those it missed
            if row.id not in read:
                self._hand_over(row)

    def backlog(self) -> int:
        """Replies and reminders decided in this process and not handed to the transport yet
        (bulk notices wait behind what people send, and do not hold it back)."""
        return len(self._fresh)

    async def close(self) -> None:
        if self.forum is not None:
            await self.forum.close()
        await self.db.close()


def settle() -> None:
    """After start-up: what start-up made (modules, the ORM's mappings, caches) lives as long
    as the process, so it is moved out of the garbage collector's way. A full collection then
    walks only what commands create: shorter pauses under load."""
    import gc

    gc.collect()
    gc.freeze()


async def _wait_any(*events: asyncio.Event, timeout: float | None = None, futures: list | None = None) -> None:
    """Until one of ``events`` is set or one of ``futures`` is done (which are left running)."""
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters + list(futures or []), timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
