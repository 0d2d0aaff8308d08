"""Reminders at scale: start-up, memory, and how late reminders go out when many fall due at once.

    python -m bench.scheduler [--mentorships 20000] [--checkins 100000] [--burst 1000]

Builds a program in a fresh SQLite database (mentorships, check-ins over the next
three months, each with reminders 24 hours and 1 hour before, for both people),
plus ``--burst`` check-ins whose 1-hour reminders all fall due within the same
minute, starting 20 seconds after the bot is up. Then it runs the bot's runtime
and scheduler (APScheduler, the real clock) as its own process, with an outbox
that notes when each reminder is handed over for sending, and prints: start-up
time (process start to scheduler running, with everything due caught up), peak
resident memory, and the lateness of the burst's reminders (handed over minus
due), p50/p95/p99/max, against the targets.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BURST_START = 20.0  # seconds from placing the burst (just before the bot starts) to its first reminder
ZONES = ["Europe/Berlin", "America/Lima", "Asia/Kolkata", "Africa/Lagos", "America/Sao_Paulo", "Europe/Madrid"]


async def build(url: str, mentorships: int, checkins: int) -> None:
    from sqlalchemy import insert

    from storage.db import Database
    from storage.models import Mentorship, Person, SessionRecord

    db = Database(url)
    await db.upgrade()
    now = datetime.now(timezone.utc)
    rng = random.Random(7)
    mentors = max(1, mentorships // 5)
    async with db.engine.begin() as conn:
        await conn.execute(insert(Person), [
            {"matrix_id": f"@mentor{i}:example.org", "display_name": f"Mentor {i}", "is_mentor": True, "capacity": 5,
             "timezone": ZONES[i % len(ZONES)], "created_at": now, "updated_at": now}
            for i in range(mentors)
        ])
        await conn.execute(insert(Person), [
            {"matrix_id": f"@mentee{i}:example.org", "display_name": f"Mentee {i}", "is_mentee": True,
             "timezone": ZONES[(i * 7) % len(ZONES)], "created_at": now, "updated_at": now}
            for i in range(mentorships)
        ])
        await conn.execute(insert(Mentorship), [
            {"mentee_id": mentors + 1 + i, "mentor_id": 1 + i % mentors, "state": "active",
             "started_at": now - timedelta(days=rng.randint(1, 300)),
             "commitment_ends_at": now + timedelta(days=rng.randint(70, 360))}
            for i in range(mentorships)
        ])
        # Everyone met in the last two months, as in a program that works.
        await conn.execute(insert(SessionRecord), [
            {"mentorship_id": 1 + i, "author_id": 1 + i % mentors, "kind": "regular", "outcome": "regular talk",
             "held_at": now - timedelta(days=rng.randint(0, 60)), "created_at": now}
            for i in range(mentorships)
        ])
    await db.close()
    await add_checkins(url, [now + timedelta(hours=2, seconds=rng.randint(0, 90 * 86400)) for _ in range(checkins)],
                       mentorships, mentors)


async def add_checkins(url: str, times: list[datetime], mentorships: int, mentors: int) -> list[int]:
    """Check-ins at ``times``, spread over the mentorships, with reminders (24h and 1h before)
    for both people where still ahead. Returns their ids."""
    from sqlalchemy import func, insert, select

    from storage.db import Database
    from storage.models import CheckIn, Reminder

    db = Database(url)
    now = datetime.now(timezone.utc)
    async with db.engine.begin() as conn:
        first = ((await conn.execute(select(func.max(CheckIn.id)))).scalar() or 0) + 1
        rows, reminders = [], []
        for n, due in enumerate(times):
            cid, m = first + n, 1 + (first + n) % mentorships
            rows.append({"id": cid, "mentorship_id": m, "kind": "regular", "due_at": due,
                         "timezone": "Europe/Berlin", "arranged": True, "state": "scheduled", "created_at": now})
            for minutes in (1440, 60):
                if due - timedelta(minutes=minutes) > now:
                    for person in (1 + (m - 1) % mentors, mentors + m):
                        reminders.append({"checkin_id": cid, "person_id": person, "before_minutes": minutes,
                                          "due_at": due - timedelta(minutes=minutes), "state": "pending"})
        for chunk in range(0, len(rows), 5000):
            await conn.execute(insert(CheckIn), rows[chunk:chunk + 5000])
        for chunk in range(0, len(reminders), 5000):
            await conn.execute(insert(Reminder), reminders[chunk:chunk + 5000])
    await db.close()
    return [r["id"] for r in rows]


# ---------------------------------------------------------------- the bot's side, in its own process


class TimingOutbox:
    """Notes when each reminder is handed over: time and check-in number."""

    NUMBER = re.compile(r"(?:confirm|checkin move) (\d+)")

    async def send(self, message, txn_id: str) -> None:
        match = self.NUMBER.search(message.body)
        if match and message.body.startswith("Reminder"):
            print(f"sent {time.time():.4f} {match.group(1)}", flush=True)


async def serve(url: str) -> None:
    from bot.config import Settings, StorageSettings
    from bot.runtime import Runtime
    from bot.scheduler import Scheduler
    from commands.clock import SystemClock
    from commands.policy import ProgramPolicy

    settings = Settings(storage=StorageSettings(url=url), program=ProgramPolicy(timezone="Europe/Berlin"))
    runtime = Runtime(settings, SystemClock(), TimingOutbox(), deliver_inline=False)
    await runtime.start()
    stopping = asyncio.Event()
    worker = asyncio.create_task(runtime.delivery_worker(stopping))
    scheduler = Scheduler(runtime)
    runtime.on_change = scheduler.poke
    await scheduler.start()
    print(f"ready {time.time():.4f}", flush=True)
    await asyncio.Event().wait()  # until killed
    worker.cancel()


# ---------------------------------------------------------------- the benchmark


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def main(mentorships: int, checkins: int, burst: int, spread: float = 60.0) -> dict:
    """Runs the bot on a built program and prints the figures; returns the facts measured."""
    workdir = Path(tempfile.mkdtemp(prefix="mentorbot-scheduler-"))
    url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    print(f"building a program: {mentorships:,} mentorships, {checkins:,} check-ins, burst of {burst:,}...", flush=True)
    started = time.perf_counter()
    await build(url, mentorships, checkins)
    print(f"built in {time.perf_counter() - started:.1f} s", flush=True)
    # The burst: 1-hour reminders due within one minute, starting a little after the bot is up.
    rng = random.Random(11)
    burst_at = datetime.now(timezone.utc) + timedelta(seconds=BURST_START)
    burst_ids = set(await add_checkins(
        url, [burst_at + timedelta(hours=1, seconds=rng.random() * spread) for _ in range(burst)],
        mentorships, max(1, mentorships // 5)))

    launched = time.time()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.scheduler", "--serve", url, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    ready_line = (await asyncio.wait_for(process.stdout.readline(), 120)).decode().split()
    assert ready_line and ready_line[0] == "ready", ready_line
    startup = float(ready_line[1]) - launched
    rss_ready = peak_rss_mb(process.pid)
    due_of = {}
    from storage.db import Database
    from storage.models import CheckIn
    from sqlmodel import select

    db = Database(url)
    async with db.session() as s:
        for cid, due in (await s.exec(select(CheckIn.id, CheckIn.due_at).where(CheckIn.id.in_(burst_ids)))).all():
            due_of[cid] = (due - timedelta(hours=1)).timestamp()
    await db.close()
    lateness: list[float] = []
    deadline = max(due_of.values()) + 60
    sent_total = 0
    while time.time() < deadline and len(lateness) < 2 * burst:
        try:
            line = await asyncio.wait_for(process.stdout.readline(), max(1.0, deadline - time.time()))
        except asyncio.TimeoutError:
            break
        parts = line.decode().split()
        if len(parts) == 3 and parts[0] == "sent":
            sent_total += 1
            cid = int(parts[2])
            if cid in due_of:
                lateness.append(float(parts[1]) - due_of[cid])
    rss = peak_rss_mb(process.pid)
    process.kill()
    await process.wait()

    print()
    print(f"Program: {mentorships:,} mentorships, {checkins:,} pending check-ins (+{burst:,} in the burst)")
    print(f"Start-up (process start to scheduler running, due work caught up): {startup:.2f} s   target <= 5 s")
    print(f"Peak RSS: {rss:.0f} MB (at ready {rss_ready:.0f} MB)   target <= 250 MB")
    if lateness:
        print(f"Burst: {len(lateness):,} of {2 * burst:,} reminders due within {spread:.0f} s were handed over")
        print("Lateness (handed over - due): p50 {:.3f} s, p95 {:.3f} s, p99 {:.3f} s, max {:.3f} s   target p99 <= 1 s".format(
            percentile(lateness, 50), percentile(lateness, 95), percentile(lateness, 99), max(lateness)))
        print(f"  mean {statistics.mean(lateness):.3f} s; early: {sum(1 for x in lateness if x < 0)}")
    checks = [
        ("start-up <= 5 s", startup <= 5),
        ("peak RSS <= 250 MB", rss <= 250),
        ("every burst reminder sent", len(lateness) == 2 * burst),
        ("lateness p99 <= 1 s", bool(lateness) and percentile(lateness, 99) <= 1.0),
    ]
    print()
    for name, ok in checks:
        print(f"{'PASS' if ok else 'MISS'}  {name}")
    import shutil

    shutil.rmtree(workdir, ignore_errors=True)
    return {"expected": 2 * burst, "sent": len(lateness), "lateness": lateness, "startup": startup, "rss": rss}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mentorships", type=int, default=20_000)
    parser.add_argument("--checkins", type=int, default=100_000)
    parser.add_argument("--burst", type=int, default=1_000, help="check-ins whose reminders fall due in one minute")
    parser.add_argument("--spread", type=float, default=60.0, help="seconds the burst is spread over (default 60)")
    parser.add_argument("--serve", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve))
    else:
        asyncio.run(main(args.mentorships, args.checkins, args.burst, args.spread))
