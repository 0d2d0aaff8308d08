"""What the council's chart costs the bot's memory: drawn in a child process, or in the bot.

    python -m bench.chart [--charts 3]

Each way runs in a fresh process of its own, as the bot: the runtime on a SQLite database
with the demo program, the clock in January 2028 after a year of it; the council sends
``report chart`` ``--charts`` times, each answered with its twelve months as text and the
PNG image. One way draws in a child process (``bot.charts.ChildProcessCharts``, as the bot
does); the other imports matplotlib in the bot's process and draws there (what the child
process avoids). Printed side by side: the bot process's resident memory (RSS) before the
first chart and after the last, its peak, the drawing process's peak (the child's, for
the child process), and the time per chart.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bot.charts import PNG_SIGNATURE, ChildProcessCharts
from commands.clock import ManualClock
from commands.framework import RoomKind
from commands.messages import Incoming
from commands.policy import ProgramPolicy

COUNCIL = "@cy:example.org"
START = datetime(2027, 1, 4, 9, 0, tzinfo=timezone.utc)
ASKED = datetime(2028, 1, 20, 10, 0, tzinfo=timezone.utc)
WAYS = ("child process", "in the bot")


class InProcessCharts:
    """The other way: matplotlib imported and drawing in the bot's own process."""

    async def draw(self, spec: dict) -> bytes:
        from bot import chart_child

        return chart_child.draw(chart_child.read_spec(json.dumps(spec).encode()))


class Kept:
    def __init__(self) -> None:
        self.images: list[bytes] = []

    async def send(self, message, txn_id: str) -> None:
        self.images.extend(f.content() for f in message.files if f.mimetype == "image/png")


def memory() -> dict[str, int]:
    """This process's resident memory now and at its peak (kB), from the kernel."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


async def one_way(way: str, charts: int) -> dict:
    from bot import demo
    from bot.config import Settings, StorageSettings
    from bot.runtime import Runtime

    folder = tempfile.mkdtemp(prefix="mentorbot-chart-bench-")
    policy = ProgramPolicy(name="Bench program", timezone="Europe/Berlin", council=[COUNCIL])
    settings = Settings(storage=StorageSettings(url=f"sqlite+aiosqlite:///{folder}/bench.db"), program=policy)
    clock = ManualClock(START)
    outbox = Kept()
    drawer = ChildProcessCharts() if way == WAYS[0] else InProcessCharts()
    runtime = Runtime(settings, clock, outbox)
    await runtime.start()
    await demo.seed(runtime.db, clock.now(), policy)
    await runtime.advance_to(ASKED, clock)  # a year of the program: digests, reports (as text), warnings
    runtime.charts = drawer
    # A first command, so that what any command loads is loaded before the measure starts.
    await runtime.handle(Incoming(COUNCIL, RoomKind.DM, "report"))
    outbox.images.clear()
    before = memory()
    times = []
    for _ in range(charts):
        started = time.perf_counter()
        await runtime.handle(Incoming(COUNCIL, RoomKind.DM, "report chart"))
        times.append(time.perf_counter() - started)
    after = memory()
    await runtime.close()
    assert len(outbox.images) == charts and all(i.startswith(PNG_SIGNATURE) for i in outbox.images)
    return {
        "way": way, "rss_before_mb": before["VmRSS"] / 1024, "rss_after_mb": after["VmRSS"] / 1024,
        "peak_before_mb": before["VmHWM"] / 1024, "peak_mb": after["VmHWM"] / 1024,
        # Linux gives ru_maxrss in kB: the largest child process waited for.
        "child_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 if way == WAYS[0] else None,
        "seconds_per_chart": sum(times) / len(times), "png_bytes": len(outbox.images[-1]),
        "matplotlib_loaded": "matplotlib" in sys.modules,
    }


def main(charts: int = 3) -> list[dict]:
    """Each way in a fresh process; their figures."""
    results = []
    for way in WAYS:
        out = subprocess.run([sys.executable, "-m", "bench.chart", "--way", way, "--charts", str(charts)],
                             check=True, capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return results


def show(results: list[dict]) -> None:
    rows = (("bot RSS before the first chart (MB)", "rss_before_mb", "{:.1f}"),
            ("bot RSS after the last chart (MB)", "rss_after_mb", "{:.1f}"),
            ("bot peak RSS before the charts (MB)", "peak_before_mb", "{:.1f}"),
            ("bot peak RSS, charts included (MB)", "peak_mb", "{:.1f}"),
            ("drawing child's peak RSS (MB)", "child_peak_mb", "{:.1f}"),
            ("matplotlib loaded in the bot", "matplotlib_loaded", "{}"),
            ("seconds per report chart", "seconds_per_chart", "{:.2f}"),
            ("PNG size (bytes)", "png_bytes", "{}"))
    print(f"{'':40}" + "".join(f"{r['way']:>16}" for r in results))
    for label, key, form in rows:
        print(f"{label:40}" + "".join(f"{'-' if r[key] is None else form.format(r[key]):>16}" for r in results))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charts", type=int, default=3)
    parser.add_argument("--way", choices=WAYS)
    args = parser.parse_args()
    if args.way:
        print(json.dumps(asyncio.run(one_way(args.way, args.charts))))
    else:
        show(main(args.charts))
