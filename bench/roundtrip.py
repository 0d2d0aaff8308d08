"""Round trips and bursts on a real Synapse: mentorbot against a raw matrix-nio echo bot.

    python -m bench.roundtrip [--rounds 250] [--burst-users 20] [--burst-each 50]

Both bots run as their own processes on one throwaway Synapse. Sequential round
trips are measured in alternating blocks (echo, mentorbot, echo, ...) so both
see the same machine load; then each bot gets the same burst. Prints latency
percentiles, the ratios mentorbot/raw, burst delivery, start-up time and peak RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from nio import AsyncClient, MessageDirection, RoomMessageNotice, SyncResponse

from tests.synapse import Synapse

ROOT = Path(__file__).resolve().parent.parent
BLOCK = 25
FILTER = {"room": {"timeline": {"limit": 100}}, "presence": {"types": []}}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Watcher:
    """A client that sees every reply, keyed by the event it answers."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self.replies: Counter[str] = Counter()
        self.arrived: dict[str, float] = {}
        self.waiters: dict[str, asyncio.Future] = {}
        self.task: asyncio.Task | None = None
        self.seen_ids: set[str] = set()

    async def start(self) -> None:
        first = await self.client.sync(timeout=0, sync_filter=FILTER)
        self.since = first.next_batch
        self.task = asyncio.create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            response = await self.client.sync(timeout=30000, since=self.since, sync_filter=FILTER)
            if not isinstance(response, SyncResponse):
                continue
            now = time.perf_counter()
            for room_id, info in response.rooms.join.items():
                events = list(info.timeline.events)
                if info.timeline.limited:  # the watcher must not miss replies either
                    events = await self._gap(room_id, info.timeline.prev_batch) + events
                for event in events:
                    if not isinstance(event, RoomMessageNotice):
                        continue
                    answered = event.source["content"].get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")
                    if not answered or event.event_id in self.seen_ids:
                        continue
                    self.seen_ids.add(event.event_id)
                    self.replies[answered] += 1
                    self.noted(answered, event.body)
                    self.arrived.setdefault(answered, now)
                    waiter = self.waiters.pop(answered, None)
                    if waiter and not waiter.done():
                        waiter.set_result(now)
            self.since = response.next_batch

    def noted(self, answered: str, body: str) -> None:
        """Called with each reply's text (for benchmarks that tell replies apart)."""

    async def _gap(self, room_id: str, token: str) -> list:
        events: list = []
        while True:
            page = await self.client.room_messages(room_id, start=token, end=self.since,
                                                   direction=MessageDirection.back, limit=100)
            events.extend(page.chunk)
            if not page.chunk or not page.end or page.end == token:
                return list(reversed(events))
            token = page.end

    async def round_trip(self, room: str, text: str) -> float:
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        sent = await self.client.room_send(room, "m.room.message", {"msgtype": "m.text", "body": text})
        if sent.event_id in self.arrived:
            return self.arrived[sent.event_id] - started
        waiter = loop.create_future()
        self.waiters[sent.event_id] = waiter
        done = await asyncio.wait_for(waiter, 30)
        return done - started


async def client_for(server: Synapse, account) -> AsyncClient:
    client = AsyncClient(server.url, account.user_id)
    client.restore_login(account.user_id, account.device_id, account.access_token)
    return client


async def start_mentorbot(workdir: Path, env: dict) -> tuple[asyncio.subprocess.Process, float]:
    exe = shutil.which("mentorbot", path=str(Path(sys.executable).parent)) or "mentorbot"
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(
        exe, "run", "-v", cwd=workdir, env=env, stderr=asyncio.subprocess.PIPE
    )
    while True:
        line = await asyncio.wait_for(process.stderr.readline(), 60)
        if not line:
            raise RuntimeError("mentorbot exited during start-up")
        if b"joined and syncing" in line:
            ready = time.perf_counter() - started
            break
    asyncio.create_task(_drain(process.stderr))
    return process, ready


async def _drain(stream) -> None:
    show = os.environ.get("MENTORBOT_BENCH_LOG")  # the bot's log, to see what it does
    while line := await stream.readline():
        if show:
            sys.stderr.write(line.decode(errors="replace"))


def cpu_seconds(pid: int) -> float:
    """CPU time a process has used so far (user and system), from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)


async def burst(server: Synapse, senders: list[AsyncClient], watcher: Watcher, room: str, text: str,
                each: int) -> tuple[int, int, float]:
    """Every sender sends ``each`` commands at once; returns (answered once, duplicates, seconds)."""
    sent: list[str] = []
    started = time.perf_counter()

    async def send_all(client: AsyncClient) -> None:
        for _ in range(each):
            response = await client.room_send(room, "m.room.message", {"msgtype": "m.text", "body": text})
            sent.append(response.event_id)

    await asyncio.gather(*(send_all(c) for c in senders))
    deadline = time.perf_counter() + 300
    while time.perf_counter() < deadline and not all(watcher.replies[e] for e in sent):
        await asyncio.sleep(0.05)
    await asyncio.sleep(2)  # let any duplicate show itself
    answered = [e for e in sent if watcher.replies[e]]
    last = max((watcher.arrived[e] for e in answered), default=time.perf_counter())
    duplicates = sum(watcher.replies[e] - 1 for e in answered)
    return len(answered), duplicates, last - started


async def main(rounds: int, burst_users: int, burst_each: int) -> dict:
    """Runs the comparison and prints it; returns what mentorbot got right or wrong."""
    workdir = Path(tempfile.mkdtemp(prefix="mentorbot-bench-"))
    server = Synapse(workdir / "synapse")
    print("starting a throwaway Synapse...", flush=True)
    server.start()
    processes: list[asyncio.subprocess.Process] = []
    clients: list[AsyncClient] = []
    try:
        echo_account = server.register("echo")
        bot_account = server.register("mentorbot")
        runner_account = server.register("runner")
        runner = await client_for(server, runner_account)
        clients.append(runner)
        echo_room = (await runner.room_create(name="echo", invite=[echo_account.user_id])).room_id
        mentors_room = (await runner.room_create(name="mentors", invite=[bot_account.user_id])).room_id
        council_room = (await runner.room_create(name="council", invite=[bot_account.user_id])).room_id
        senders = []
        for i in range(burst_users):
            account = server.register(f"user{i}")
            client = await client_for(server, account)
            for room in (echo_room, mentors_room):
                await runner.room_invite(room, account.user_id)
                await client.join(room)
            senders.append(client)
            clients.append(client)

        env = {k: v for k, v in os.environ.items() if not k.startswith("MENTORBOT_")}
        echo = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.echo_bot", server.url, echo_account.user_id, echo_account.password,
            cwd=ROOT, stdout=asyncio.subprocess.PIPE,
        )
        processes.append(echo)
        await asyncio.wait_for(echo.stdout.readline(), 60)

        botdir = workdir / "mentorbot"
        botdir.mkdir()
        (botdir / "config.toml").write_text(
            f'[matrix]\nhomeserver = "{server.url}"\nuser_id = "{bot_account.user_id}"\n'
            f'mentors_room = "{mentors_room}"\ncouncil_room = "{council_room}"\nstore_path = "store"\n'
            # The burst is a load test: each sender's commands go far beyond a person's budget
            # (bench.fairness measures the budget and serving people in turn).
            '[limits]\ncommand_burst = 100000\ncommands_per_minute = 1000000\n'
        )
        env["MENTORBOT_MATRIX_PASSWORD"] = bot_account.password
        first, cold = await start_mentorbot(botdir, env)
        await stop(first)
        bot, warm = await start_mentorbot(botdir, env)
        processes.append(bot)

        watcher = Watcher(runner)
        await watcher.start()
        for room, text in ((echo_room, "!ping"), (mentors_room, "!mentors")):
            for _ in range(5):  # warm up both paths
                await watcher.round_trip(room, text)

        raw, ours = [], []
        cpu = {"raw": 0.0, "ours": 0.0, "raw burst": 0.0, "ours burst": 0.0}
        while len(ours) < rounds:
            before = cpu_seconds(echo.pid)
            for _ in range(BLOCK):
                raw.append(await watcher.round_trip(echo_room, "!ping"))
            cpu["raw"] += cpu_seconds(echo.pid) - before
            before = cpu_seconds(bot.pid)
            for _ in range(BLOCK):
                ours.append(await watcher.round_trip(mentors_room, "!mentors"))
            cpu["ours"] += cpu_seconds(bot.pid) - before

        before = cpu_seconds(echo.pid)
        raw_burst = await burst(server, senders, watcher, echo_room, "!ping", burst_each)
        cpu["raw burst"] = cpu_seconds(echo.pid) - before
        before = cpu_seconds(bot.pid)
        our_burst = await burst(server, senders, watcher, mentors_room, "!mentors", burst_each)
        cpu["ours burst"] = cpu_seconds(bot.pid) - before
        rss = peak_rss_mb(bot.pid)

        ms = lambda v: f"{v * 1000:6.1f} ms"  # noqa: E731
        print()
        print(f"Sequential round trips ({len(ours)} each, alternating blocks of {BLOCK})")
        print(f"{'':12}{'p50':>10}{'p95':>10}{'p99':>10}{'mean':>10}")
        for name, values in (("raw echo", raw), ("mentorbot", ours)):
            print(f"{name:12}" + "".join(f"{ms(percentile(values, p)):>10}" for p in (50, 95, 99))
                  + f"{ms(statistics.mean(values)):>10}")
        ratios = {p: percentile(ours, p) / percentile(raw, p) for p in (50, 95, 99)}
        print(f"{'ratio':12}" + "".join(f"{ratios[p]:>9.2f}x" for p in (50, 95, 99)))
        total = burst_users * burst_each
        print()
        print(f"Burst: {burst_users} users x {burst_each} commands sent at once ({total})")
        for name, (answered, dupes, seconds) in (("raw echo", raw_burst), ("mentorbot", our_burst)):
            print(f"{name:12}answered {answered}/{total}, duplicates {dupes}, {seconds:.1f} s, "
                  f"{answered / seconds:.1f} commands/s")
        print(f"{'ratio':12}throughput mentorbot/raw {(our_burst[0] / our_burst[2]) / (raw_burst[0] / raw_burst[2]):.2f}x")
        print()
        total_burst = burst_users * burst_each
        per = {k: v * 1000 / (len(ours) if k in ("raw", "ours") else total_burst) for k, v in cpu.items()}
        print(f"CPU per command (from /proc/<pid>/stat): sequential raw {per['raw']:.1f} ms, mentorbot "
              f"{per['ours']:.1f} ms ({per['ours'] / max(per['raw'], 1e-9):.2f}x); burst raw {per['raw burst']:.1f} ms, "
              f"mentorbot {per['ours burst']:.1f} ms ({per['ours burst'] / max(per['raw burst'], 1e-9):.2f}x)")
        print(f"mentorbot start-up to joined and syncing: {warm:.2f} s (first start, new device: {cold:.2f} s)")
        print(f"mentorbot peak RSS: {rss:.0f} MB")
        print()
        throughput = (our_burst[0] / our_burst[2]) / (raw_burst[0] / raw_burst[2])
        checks = [
            ("p50 <= 1.05x raw", ratios[50] <= 1.05),
            ("p99 <= 1.15x raw", ratios[99] <= 1.15),
            ("burst answered 100%, exactly once", our_burst[0] == total and our_burst[1] == 0),
            ("burst throughput >= 0.95x raw", throughput >= 0.95),
            ("CPU per command <= 1.5x raw, sequential and in the burst",
             per["ours"] <= 1.5 * per["raw"] and per["ours burst"] <= 1.5 * per["raw burst"]),
            ("peak RSS <= 80 MB", rss <= 80),
            ("start-up <= 1.0 s", warm <= 1.0),
        ]
        for name, ok in checks:
            print(f"{'PASS' if ok else 'MISS'}  {name}")
        return {"rounds": len(ours), "burst": total, "answered": our_burst[0], "twice": our_burst[1]}
    finally:
        if "watcher" in locals() and watcher.task is not None:
            watcher.task.cancel()
        for client in clients:
            await client.close()
        for process in processes:
            await stop(process)
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=250, help="round trips per bot (default 250)")
    parser.add_argument("--burst-users", type=int, default=20)
    parser.add_argument("--burst-each", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.burst_users, args.burst_each))
