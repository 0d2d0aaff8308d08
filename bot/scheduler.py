"""Waking the bot up on time: APScheduler decides *when*, the database decides *what*.

The database is the truth for what is due (reminders, escalations, overdue
meetings, digests). APScheduler only wakes the bot: one job armed at the next due
time (re-armed after each run and whenever a command plans something sooner),
plus sweeps that catch up whatever a wake-up missed. Every job has a stable id
and ``replace_existing``, coalesces missed runs into one, and has a real
``misfire_grace_time``; running one late or twice does no harm, because the work
itself is idempotent (each reminder is marked sent in the transaction that
sends it).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.runtime import Runtime

log = logging.getLogger("mentorbot.scheduler")

REMINDER_JOB = "mentorbot-next-reminder"  # the next reminder, exactly on time
RULES_JOB = "mentorbot-next-rule"  # the next time a program rule comes due
REMINDER_SWEEP_JOB = "mentorbot-reminder-sweep"
RULES_SWEEP_JOB = "mentorbot-rules-sweep"
ANNOUNCE_JOB = "mentorbot-next-announcement"  # the next try of a forum topic
ANNOUNCE_SWEEP_JOB = "mentorbot-announcement-sweep"
RELAY_JOB = "mentorbot-forum-relay"
REMINDER_SWEEP = timedelta(seconds=60)
RULES_SWEEP = timedelta(minutes=15)
RETRY_AFTER = timedelta(seconds=30)


class Scheduler:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.aps = AsyncIOScheduler(timezone=timezone.utc)
        self._lock = asyncio.Lock()
        self._armed: datetime | None = None
        self._due_after_run: dict[str, datetime] = {}  # what was already due again after a job's last run
        self._poked: asyncio.Task | None = None
        self._pending_reminders: asyncio.Task | None = None
        self._pending_rules: asyncio.Task | None = None
        self._pending_announcements: asyncio.Task | None = None
        self._announce_again = False
        self._pending_relay: asyncio.Task | None = None

    async def start(self) -> None:
        """Catch up with everything that came due while the bot was down, then keep time."""
        self.aps.start()
        common = {"replace_existing": True, "coalesce": True, "max_instances": 1}
        self.aps.add_job(self._wake_reminders, IntervalTrigger(seconds=REMINDER_SWEEP.total_seconds()),
                         id=REMINDER_SWEEP_JOB, misfire_grace_time=int(REMINDER_SWEEP.total_seconds()), **common)
        self.aps.add_job(self._wake_rules, IntervalTrigger(seconds=RULES_SWEEP.total_seconds()),
                         id=RULES_SWEEP_JOB, misfire_grace_time=int(RULES_SWEEP.total_seconds()), **common)
        if self.runtime.forum is not None:
            self.aps.add_job(self._wake_announcements, IntervalTrigger(seconds=REMINDER_SWEEP.total_seconds()),
                             id=ANNOUNCE_SWEEP_JOB, misfire_grace_time=int(REMINDER_SWEEP.total_seconds()), **common)
            self.announce()
            d = self.runtime.settings.discourse
            if d is not None and d.relay_category:
                self.aps.add_job(self._wake_relay, IntervalTrigger(seconds=d.relay_poll_seconds), id=RELAY_JOB,
                                 next_run_time=datetime.now(timezone.utc), misfire_grace_time=d.relay_poll_seconds,
                                 **common)
        await self._reminders()
        await self._rules()

    def stop(self) -> None:
        if self.aps.running:
            self.aps.shutdown(wait=False)

    async def drain(self, timeout: float) -> None:
        """Let work in flight (a forum post, a relay poll) finish, for at most ``timeout`` seconds."""
        tasks = [t for t in (self._pending_announcements, self._pending_relay, self._pending_reminders,
                             self._pending_rules) if t is not None and not t.done()]
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    def announce(self) -> None:
        """A topic waits to be posted: post it now (or right after the post in progress)."""
        self._announce_again = True
        if self._pending_announcements is None or self._pending_announcements.done():
            self._pending_announcements = asyncio.get_running_loop().create_task(self._announcements())

    async def _wake_announcements(self) -> None:
        self.announce()

    async def _announcements(self) -> None:
        try:
            while self._announce_again:
                self._announce_again = False
                results = await self.runtime.run_announcements()
                if not self._announce_again:  # nothing confirmed meanwhile: wake up for the next try
                    soonest = await self.runtime.next_announcement()
                    failed = any(r.outcome != "ok" for r in results)
                    self._arm(ANNOUNCE_JOB, self._wake_announcements, self._again_at(ANNOUNCE_JOB, soonest, failed))
        except Exception:  # noqa: BLE001 - the sweep tries again
            log.exception("posting announcements failed")

    async def _wake_relay(self) -> None:
        if self._pending_relay is None or self._pending_relay.done():
            self._pending_relay = asyncio.get_running_loop().create_task(self._relay())

    async def _relay(self) -> None:
        try:
            await self.runtime.poll_relay()
        except Exception:  # noqa: BLE001 - the next poll tries again
            log.exception("the forum relay failed")

    def poke(self) -> None:
        """Something was planned: make sure the reminder wake-up is not later than its first reminder."""
        if self._poked is None or self._poked.done():
            self._poked = asyncio.get_running_loop().create_task(self._rearm_reminders())

    async def _wake_reminders(self) -> None:
        """What APScheduler runs: hand over to a task and return at once, so that a wake-up
        that comes while reminders are being sent is never skipped as an instance already running."""
        if self._pending_reminders is None or self._pending_reminders.done():
            self._pending_reminders = asyncio.get_running_loop().create_task(self._reminders())

    async def _wake_rules(self) -> None:
        if self._pending_rules is None or self._pending_rules.done():
            self._pending_rules = asyncio.get_running_loop().create_task(self._rules())

    async def _reminders(self) -> None:
        async with self._lock:
            try:
                results = await self.runtime.run_reminders()
                failed = any(r.outcome != "ok" for r in results)
                self._arm(REMINDER_JOB, self._wake_reminders,
                          self._again_at(REMINDER_JOB, await self.runtime.next_reminder(), failed))
            except Exception:  # noqa: BLE001 - the schedule goes on; the sweep tries again
                log.exception("sending reminders failed")

    async def _rules(self) -> None:
        async with self._lock:
            try:
                result = await self.runtime.run_rules()
                self._arm(RULES_JOB, self._wake_rules,
                          self._again_at(RULES_JOB, await self.runtime.next_rule(), result.outcome != "ok"))
                # Rules may plan check-ins (a repeating series): their reminders need a wake-up too.
                await self._rearm_reminders()
            except Exception:  # noqa: BLE001
                log.exception("program rules failed")

    def _again_at(self, job_id: str, when: datetime | None, failed: bool) -> datetime | None:
        """When to run a job again, after a run, given the next due time ``when``.

        Something already due again is usually what came due while the run went on (many
        reminders in one minute): it goes at once. Only a run that failed, or one after
        which the very same thing is still the first due (no progress), waits
        ``RETRY_AFTER`` before the next try, not in a tight loop."""
        now = self.runtime.clock.now()
        if when is None or when > now:
            self._due_after_run.pop(job_id, None)
            return when
        if failed or self._due_after_run.get(job_id) == when:
            return now + RETRY_AFTER
        self._due_after_run[job_id] = when
        return now

    async def _rearm_reminders(self) -> None:
        soonest = await self.runtime.next_reminder()
        if soonest is not None and (self._armed is None or soonest < self._armed):
            self._arm(REMINDER_JOB, self._wake_reminders, soonest)

    def _arm(self, job_id: str, func, when: datetime | None) -> None:
        if job_id == REMINDER_JOB:
            self._armed = when
        if when is None:
            if self.aps.get_job(job_id):
                self.aps.remove_job(job_id)
            return
        self.aps.add_job(func, DateTrigger(run_date=when), id=job_id, replace_existing=True,
                         coalesce=True, max_instances=1, misfire_grace_time=3600)
