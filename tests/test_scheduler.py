"""The scheduler with the real clock: APScheduler wakes the bot when reminders come due."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from bot.config import Settings, StorageSettings
from bot.runtime import Runtime
from bot.scheduler import REMINDER_JOB, Scheduler
from commands.clock import SystemClock
from commands.policy import ProgramPolicy
from tests.conftest import RecordingOutbox, database_url
from tests.planting import checkins_with_reminders


async def test_reminders_are_sent_when_they_come_due_and_only_once(tmp_path):
    settings = Settings(storage=StorageSettings(url=database_url(tmp_path)),
                        program=ProgramPolicy(timezone="Europe/Berlin", reminders=["1h"]))
    outbox = RecordingOutbox()
    runtime = Runtime(settings, SystemClock(), outbox, deliver_inline=False)
    await runtime.start()
    now = datetime.now(timezone.utc)
    at = now + timedelta(hours=1, seconds=2)
    await checkins_with_reminders(runtime.db, "@ana:example.org", "@bob:example.org", [at])
    stopping = asyncio.Event()
    worker = asyncio.create_task(runtime.delivery_worker(stopping))
    scheduler = Scheduler(runtime)
    try:
        await scheduler.start()
        # Nothing is due yet; the next wake-up is armed at the reminders' time.
        assert outbox.sent == []
        assert scheduler.aps.get_job(REMINDER_JOB).next_run_time == at - timedelta(hours=1)
        for _ in range(100):
            if len(outbox.sent) >= 2:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.5)  # room for a duplicate to show itself
        assert sorted(m.target.user_id for m in outbox.sent) == ["@ana:example.org", "@bob:example.org"]
        assert all(m.body.startswith("Reminder: check-in with") for m in outbox.sent)
    finally:
        scheduler.stop()
        stopping.set()
        await worker
        await runtime.close()


class TimedOutbox(RecordingOutbox):
    """Records when each message went out."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[datetime] = []

    async def send(self, message, txn_id: str) -> None:
        await super().send(message, txn_id)
        self.times.append(datetime.now(timezone.utc))


async def test_reminders_that_fall_due_while_others_go_out_are_not_held_back(tmp_path):
    """Many reminders in a short span: those that fall due while a run sends the others go
    out right after it, not after the pause that follows a failed run."""
    settings = Settings(storage=StorageSettings(url=database_url(tmp_path)),
                        program=ProgramPolicy(timezone="Europe/Berlin", reminders=["1h"]))
    outbox = TimedOutbox()
    runtime = Runtime(settings, SystemClock(), outbox, deliver_inline=False)
    await runtime.start()
    first = datetime.now(timezone.utc) + timedelta(hours=1, seconds=2)
    times = [first + timedelta(milliseconds=3 * i) for i in range(200)]  # 400 reminders over 0.6 s
    await checkins_with_reminders(runtime.db, "@ana:example.org", "@bob:example.org", times)
    stopping = asyncio.Event()
    worker = asyncio.create_task(runtime.delivery_worker(stopping))
    scheduler = Scheduler(runtime)
    try:
        await scheduler.start()
        for _ in range(200):
            if len(outbox.sent) >= 400:
                break
            await asyncio.sleep(0.1)
        assert len(outbox.sent) == 400, f"{len(outbox.sent)} of 400 reminders sent in 20 s"
        last_due = times[-1] - timedelta(hours=1)
        late = (max(outbox.times) - last_due).total_seconds()
        assert late < 10, f"the last reminder went out {late:.1f} s after it was due"
        await asyncio.sleep(1)  # room for a duplicate to show itself
        assert len(outbox.sent) == 400
    finally:
        scheduler.stop()
        stopping.set()
        await worker
        await runtime.close()
