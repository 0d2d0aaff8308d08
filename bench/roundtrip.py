"""Round trips and bursts on a real Synapse: mentorbot against a raw matrix-nio echo bot.

    python -m bench.roundtrip [--rounds 250] [--burst-users 20] [--burst-each 50] [--peer PATH]

Both bots run as their own processes on one throwaway Synapse. A second mentorbot whose
program speaks German answers the same command beside them, so that the cost of a reader of
another language (a catalog to read, dates and numbers written by Babel) shows as a ratio. Sequential round
trips are measured in alternating blocks (echo, mentorbot, echo, ...) so both
see the same machine load; then each bot gets the same burst. Prints latency
percentiles, the ratios mentorbot/raw, burst delivery, start-up time and peak RSS.
With ``--peer PATH`` (a ``matrix-reminder-bot`` executable, installed on its own), that
bot runs beside them and answers ``!list``, measured the same way. With ``--monitoring``,
the mentorbots serve ``/health`` and ``/metrics`` (``[monitoring] listen``), scraped every
few seconds as Prometheus would, so that what counting costs shows in the same figures.
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
from collections import Counter, deque
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
        # Rooms of a bot whose answers do not say which message they answer (by room: the
        # bot's user id, and the commands sent there not answered yet, oldest first).
        self.in_turn: dict[str, tuple[str, deque[str]]] = {}
        # Answers there that came before the command they answer was known (its send had not
        # returned yet): when each came, to be given to the next command sent.
        self.early: dict[str, deque[float]] = {}

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
                    if not answered and room_id in self.in_turn and event.event_id not in self.seen_ids:
                        bot, unanswered = self.in_turn[room_id]
                        if event.sender == bot and unanswered:
                            answered = unanswered.popleft()
                        elif event.sender == bot:
                            self.seen_ids.add(event.event_id)
                            self.early.setdefault(room_id, deque()).append(now)
                            continue
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

    def sent_to(self, room: str, event_id: str) -> None:
        if room not in self.in_turn:
            return
        early = self.early.get(room)
        if early:  # its answer came first
            self.replies[event_id] += 1
            self.arrived.setdefault(event_id, early.popleft())
        else:
            self.in_turn[room][1].append(event_id)

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
        self.sent_to(room, sent.event_id)
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


def config(homeserver: str, user_id: str, mentors_room: str, council_room: str, language: str,
           listen: str | None = None) -> str:
    return (
        f'[matrix]\nhomeserver = "{homeserver}"\nuser_id = "{user_id}"\n'
        f'mentors_room = "{mentors_room}"\ncouncil_room = "{council_room}"\nstore_path = "store"\n'
        f'[program]\nlanguage = "{language}"\n'
        # The burst is a load test: each sender's commands go far beyond a person's budget
        # (bench.fairness measures the budget and serving people in turn).
        '[limits]\ncommand_burst = 100000\ncommands_per_minute = 1000000\n'
        + (f'[monitoring]\nlisten = "{listen}"\n' if listen else "")
    )


SCRAPE_EVERY = 5.0  # seconds between two scrapes of /metrics (Prometheus scrapes every 15 to 60)


async def scrape(urls: list[str], seconds: list[float]) -> None:
    """Fetch each ``/metrics`` every few seconds, noting how long each took, until cancelled."""
    import aiohttp

    async with aiohttp.ClientSession() as http:
        while True:
            for url in urls:
                started = time.perf_counter()
                async with http.get(url) as response:
                    await response.read()
                    assert response.status == 200, response.status
                seconds.append(time.perf_counter() - started)
            await asyncio.sleep(SCRAPE_EVERY)


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
    """Every sender sends ``each`` commands at once; returns (answered once, duplicates, seconds).
    A bot that may drop commands (one answering in turn, without saying which it answers) is
    waited for until 20 s pass with no new answer; mentorbot and the echo bot, until all are."""
    sent: list[str] = []
    started = time.perf_counter()

    async def send_all(client: AsyncClient) -> None:
        for _ in range(each):
            response = await client.room_send(room, "m.room.message", {"msgtype": "m.text", "body": text})
            watcher.sent_to(room, response.event_id)
            sent.append(response.event_id)

    await asyncio.gather(*(send_all(c) for c in senders))
    deadline = time.perf_counter() + 300
    answered, progress = 0, time.perf_counter()
    while time.perf_counter() < deadline and answered < len(sent):
        await asyncio.sleep(0.05)
        now_answered = sum(1 for e in sent if watcher.replies[e])
        if now_answered > answered:
            answered, progress = now_answered, time.perf_counter()
        elif room in watcher.in_turn and time.perf_counter() - progress > 20:  # the rest is not coming
            break
    await asyncio.sleep(2)  # let any duplicate show itself
    answered = [e for e in sent if watcher.replies[e]]
    last = max((watcher.arrived[e] for e in answered), default=time.perf_counter())
    duplicates = sum(watcher.replies[e] - 1 for e in answered)
    return len(answered), duplicates, last - started


PEER_CONFIG = """command_prefix: "!"
matrix:
  user_id: "{user_id}"
  user_password: "{password}"
  homeserver_url: "{url}"
  device_id: BENCHPEER
  device_name: bench
storage:
  database: "sqlite://{dir}/peer.db"
  store_path: "{dir}/store"
reminders:
  timezone: "Etc/UTC"
allowlist:
  enabled: false
  regexes: []
blocklist:
  enabled: false
  regexes: []
logging:
  level: INFO
  console_logging:
    enabled: true
  file_logging:
    enabled: false
"""


async def start_peer(exe: str, workdir: Path, server: Synapse, account, room: str) -> asyncio.subprocess.Process:
    """matrix-reminder-bot, configured for this Synapse, once it has joined ``room``."""
    workdir.mkdir()
    (workdir / "store").mkdir()
    (workdir / "config.yaml").write_text(PEER_CONFIG.format(
        user_id=account.user_id, password=account.password, url=server.url, dir=workdir))
    process = await asyncio.create_subprocess_exec(
        exe, str(workdir / "config.yaml"), cwd=workdir, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    said: deque[str] = deque(maxlen=10)
    while True:
        line = await asyncio.wait_for(process.stdout.readline(), 120)
        if not line:
            raise RuntimeError("matrix-reminder-bot exited during start-up:\n" + "".join(said))
        said.append(line.decode(errors="replace"))
        if f"Joined {room}".encode() in line:
            break
    asyncio.create_task(_drain(process.stdout))
    return process


async def main(rounds: int, burst_users: int, burst_each: int, peer: str | None = None,
               monitoring: bool = False) -> dict:
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
        german_account = server.register("mentorbotde")
        runner_account = server.register("runner")
        runner = await client_for(server, runner_account)
        clients.append(runner)
        echo_room = (await runner.room_create(name="echo", invite=[echo_account.user_id])).room_id
        mentors_room = (await runner.room_create(name="mentors", invite=[bot_account.user_id])).room_id
        council_room = (await runner.room_create(name="council", invite=[bot_account.user_id])).room_id
        german_mentors = (await runner.room_create(name="mentoren", invite=[german_account.user_id])).room_id
        german_council = (await runner.room_create(name="rat", invite=[german_account.user_id])).room_id
        rooms = [echo_room, mentors_room, german_mentors]
        if peer:
            peer_account = server.register("reminders")
            peer_room = (await runner.room_create(name="reminders", invite=[peer_account.user_id])).room_id
            rooms.append(peer_room)
        senders = []
        for i in range(burst_users):
            account = server.register(f"user{i}")
            client = await client_for(server, account)
            for room in rooms:
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

        from tests.synapse import free_port

        listens = [f"127.0.0.1:{free_port()}" for _ in range(2)] if monitoring else [None, None]
        botdir = workdir / "mentorbot"
        botdir.mkdir()
        (botdir / "config.toml").write_text(
            config(server.url, bot_account.user_id, mentors_room, council_room, "en", listens[0]))
        env["MENTORBOT_MATRIX_PASSWORD"] = bot_account.password
        first, cold = await start_mentorbot(botdir, env)
        await stop(first)
        bot, warm = await start_mentorbot(botdir, env)
        processes.append(bot)
        germandir = workdir / "mentorbot-de"
        germandir.mkdir()
        (germandir / "config.toml").write_text(
            config(server.url, german_account.user_id, german_mentors, german_council, "de", listens[1]))
        first, _ = await start_mentorbot(germandir, {**env, "MENTORBOT_MATRIX_PASSWORD": german_account.password})
        await stop(first)
        german, german_warm = await start_mentorbot(
            germandir, {**env, "MENTORBOT_MATRIX_PASSWORD": german_account.password})
        processes.append(german)

        watcher = Watcher(runner)
        # (name, process, room, command): the floor first, then each bot measured against it.
        contenders = [("raw echo", echo, echo_room, "!ping"), ("mentorbot", bot, mentors_room, "!mentors"),
                      ("mentorbot de", german, german_mentors, "!mentors")]
        if peer:
            started = time.perf_counter()
            peer_process = await start_peer(peer, workdir / "peer", server, peer_account, peer_room)
            peer_ready = time.perf_counter() - started
            processes.append(peer_process)
            watcher.in_turn[peer_room] = (peer_account.user_id, deque())
            contenders.append(("reminder-bot", peer_process, peer_room, "!list"))
        await watcher.start()
        scrapes: list[float] = []
        if monitoring:
            scraper = asyncio.create_task(scrape([f"http://{listen}/metrics" for listen in listens], scrapes))
        for _, _, room, text in contenders:
            for _ in range(5):  # warm up every path
                await watcher.round_trip(room, text)

        times: dict[str, list[float]] = {name: [] for name, *_ in contenders}
        cpu: dict[str, float] = {name: 0.0 for name, *_ in contenders}
        while len(times["mentorbot"]) < rounds:
            for name, process, room, text in contenders:
                before = cpu_seconds(process.pid)
                for _ in range(BLOCK):
                    times[name].append(await watcher.round_trip(room, text))
                cpu[name] += cpu_seconds(process.pid) - before
        bursts: dict[str, tuple[int, int, float]] = {}
        burst_cpu: dict[str, float] = {}
        for name, process, room, text in contenders:
            before = cpu_seconds(process.pid)
            bursts[name] = await burst(server, senders, watcher, room, text, burst_each)
            burst_cpu[name] = cpu_seconds(process.pid) - before
        rss = peak_rss_mb(bot.pid)
        german_rss = peak_rss_mb(german.pid)
        if monitoring:
            scraper.cancel()

        raw, ours = times["raw echo"], times["mentorbot"]
        ms = lambda v: f"{v * 1000:6.1f} ms"  # noqa: E731
        print()
        print(f"Sequential round trips ({len(ours)} each, alternating blocks of {BLOCK})")
        print(f"{'':14}{'p50':>10}{'p95':>10}{'p99':>10}{'mean':>10}")
        for name, values in times.items():
            print(f"{name:14}" + "".join(f"{ms(percentile(values, p)):>10}" for p in (50, 95, 99))
                  + f"{ms(statistics.mean(values)):>10}")
        all_ratios = {name: {p: percentile(values, p) / percentile(raw, p) for p in (50, 95, 99)}
                      for name, values in times.items() if name != "raw echo"}
        for name, r in all_ratios.items():
            label = {"mentorbot": "mentorbot", "mentorbot de": "ours de", "reminder-bot": "peer"}.get(name, name)
            print(f"{'ratio ' + label[:8]:14}" + "".join(f"{r[p]:>9.2f}x" for p in (50, 95, 99)))
        ratios = all_ratios["mentorbot"]
        german_ratios = {p: percentile(times["mentorbot de"], p) / percentile(ours, p) for p in (50, 95, 99)}
        print(f"{'ratio de/en':14}" + "".join(f"{german_ratios[p]:>9.2f}x" for p in (50, 95, 99))
              + "   (a German reader against an English one)")
        total = burst_users * burst_each
        print()
        print(f"Burst: {burst_users} users x {burst_each} commands sent at once ({total})")
        for name, (answered, dupes, seconds) in bursts.items():
            print(f"{name:14}answered {answered}/{total}, duplicates {dupes}, {seconds:.1f} s, "
                  f"{answered / seconds:.1f} commands/s")
        raw_burst, our_burst = bursts["raw echo"], bursts["mentorbot"]
        throughput = (our_burst[0] / our_burst[2]) / (raw_burst[0] / raw_burst[2])
        print(f"{'ratio':14}throughput mentorbot/raw {throughput:.2f}x")
        print()
        per = {name: cpu[name] * 1000 / len(times[name]) for name in cpu}
        per_burst = {name: burst_cpu[name] * 1000 / max(bursts[name][0], 1) for name in burst_cpu}
        print("CPU per command answered (from /proc/<pid>/stat): "
              + "; ".join(f"{name} {per[name]:.1f} ms sequential, {per_burst[name]:.1f} ms in the burst"
                          for name in per))
        print(f"  mentorbot/raw: {per['mentorbot'] / max(per['raw echo'], 1e-9):.2f}x sequential, "
              f"{per_burst['mentorbot'] / max(per_burst['raw echo'], 1e-9):.2f}x in the burst")
        print(f"  mentorbot de/en: {per['mentorbot de'] / max(per['mentorbot'], 1e-9):.2f}x sequential, "
              f"{per_burst['mentorbot de'] / max(per_burst['mentorbot'], 1e-9):.2f}x in the burst")
        print(f"mentorbot start-up to joined and syncing: {warm:.2f} s (first start, new device: {cold:.2f} s)")
        print(f"mentorbot peak RSS: {rss:.0f} MB; speaking German: {german_rss:.0f} MB, "
              f"start-up {german_warm:.2f} s")
        if monitoring:
            print(f"/metrics scraped {len(scrapes)} times, every {SCRAPE_EVERY:.0f} s: p50 "
                  f"{percentile(scrapes, 50) * 1000:.1f} ms, max {max(scrapes) * 1000:.1f} ms")
        if peer:
            print(f"reminder-bot start-up to joined (first start): {peer_ready:.2f} s; "
                  f"peak RSS {peak_rss_mb(peer_process.pid):.0f} MB")
        print()
        checks = [
            ("p50 <= 1.05x raw", ratios[50] <= 1.05),
            ("p99 <= 1.15x raw", ratios[99] <= 1.15),
            ("burst answered 100%, exactly once", our_burst[0] == total and our_burst[1] == 0),
            ("burst throughput >= 0.95x raw", throughput >= 0.95),
            ("CPU per command <= 1.5x raw, sequential and in the burst",
             per["mentorbot"] <= 1.5 * per["raw echo"] and per_burst["mentorbot"] <= 1.5 * per_burst["raw echo"]),
            ("peak RSS <= 80 MB", rss <= 80),
            ("start-up <= 1.0 s", warm <= 1.0),
        ]
        for name, ok in checks:
            print(f"{'PASS' if ok else 'MISS'}  {name}")
        german_burst = bursts["mentorbot de"]
        return {"rounds": len(ours), "burst": total, "answered": our_burst[0], "twice": our_burst[1],
                "german answered": german_burst[0], "german twice": german_burst[1]}
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
    parser.add_argument("--peer", metavar="PATH", help="a matrix-reminder-bot executable, to measure beside them")
    parser.add_argument("--monitoring", action="store_true",
                        help="the mentorbots serve /metrics, scraped every few seconds meanwhile")
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.burst_users, args.burst_each, args.peer, args.monitoring))
