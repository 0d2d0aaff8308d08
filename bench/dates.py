"""What reading a date costs on the command path: English only, or English, German and Polish.

    python -m bench.dates [--calls 300]

Reads the same texts as a check-in's time (``commands.framework.Schedule``) the way the
dispatcher does for a speaker of English only and for a speaker of English, German and
Polish: each language reads the text apart (so that readings that differ can be offered
back), and the other languages' words are also translated for the guards. Printed: the
first call of each (it loads dateparser and the languages' data, once per process) and
the median of ``--calls`` calls after it. Building a dateparser parser costs next to
nothing (its languages' data is kept by dateparser itself), so no parser is kept between
calls.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=timezone.utc)
TEXTS = ("next tuesday 16:00", "2027-03-10 18:00", "nächsten Dienstag 16:00", "wtorek 16:00")
SPEAKERS = {"en": ("en",), "en+de+pl": ("en", "de", "pl")}


def measure(calls: int) -> list[tuple[str, str, float, float]]:
    from commands.framework import ArgError, ParseEnv, Schedule

    rows = []
    for name, languages in SPEAKERS.items():
        env = ParseEnv(NOW, ZoneInfo("Europe/Madrid"), languages)
        for text in TEXTS:
            schedule = Schedule()

            def once() -> float:
                started = time.perf_counter()
                try:
                    schedule.convert_in(text, env)
                except ArgError:
                    pass  # German for someone who speaks English only: refused, which costs the same
                return (time.perf_counter() - started) * 1000

            first = once()
            rows.append((name, text, first, statistics.median(once() for _ in range(calls))))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    print(f"{'speaker':10} {'text':26} {'first call':>12} {'median':>10}")
    for name, text, first, median in measure(args.calls):
        print(f"{name:10} {text:26} {first:9.1f} ms {median:7.2f} ms")


if __name__ == "__main__":
    main()
