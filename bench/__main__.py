"""Every benchmark at once.

    python -m bench --quick

Runs each benchmark at small sizes (round trips, a flood, reminders falling due, a
program at scale on SQLite and PostgreSQL, a cohort of open requests) and checks what
they got right: every command answered exactly once, every reminder handed over with no
back-off in its delay, every command of the large program answered, a cohort proposal
matching as many requests as one-at-a-time matching with no lower total fit. Times are printed, never judged:
on a shared machine they are noise at these sizes. Exits 1 if a check fails. The full
benchmarks, with their targets, are ``python -m bench.<name>`` (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import traceback
from pathlib import Path

from bot.scheduler import RETRY_AFTER

# A reminder later than this was held back (the pause after a failed run is RETRY_AFTER),
# not merely delayed by a busy machine.
NO_BACK_OFF = RETRY_AFTER.total_seconds() / 3


async def roundtrip() -> list[tuple[str, bool, str]]:
    from bench import roundtrip as bench

    r = await bench.main(rounds=20, burst_users=4, burst_each=10)
    return [
        ("round trips: every command answered", r["rounds"] >= 20, f"{r['rounds']} answered"),
        ("burst: every command answered exactly once", r["answered"] == r["burst"] and r["twice"] == 0,
         f"{r['answered']} of {r['burst']}, {r['twice']} twice"),
        ("burst, program speaking German: every command answered exactly once",
         r["german answered"] == r["burst"] and r["german twice"] == 0,
         f"{r['german answered']} of {r['burst']}, {r['german twice']} twice"),
    ]


async def fairness() -> list[tuple[str, bool, str]]:
    from bench import fairness as bench

    _, runs = await bench.main(flood=60, probes=4)
    lifted, default = runs["budget lifted"], runs["default budget"]
    return [
        ("flood: nothing answered twice", all(r["twice"] == 0 for r in runs.values()),
         ", ".join(f"{name}: {r['twice']}" for name, r in runs.items())),
        ("flood, budget lifted: every command answered", lifted["answered"] == 60, f"{lifted['answered']} of 60"),
        ("flood, default budget: the rest skipped with a notice", default["notices"] >= 1,
         f"{default['answered']} answered, {default['notices']} notices"),
    ]


async def scheduler() -> list[tuple[str, bool, str]]:
    from bench import scheduler as bench

    r = await bench.main(mentorships=2_000, checkins=10_000, burst=100, spread=10.0)
    late = max(r["lateness"], default=float("inf"))
    return [
        ("reminders: every one handed over", r["sent"] == r["expected"], f"{r['sent']} of {r['expected']}"),
        ("reminders: none held back", late < NO_BACK_OFF, f"the latest {late:.3f} s after it was due"),
    ]


async def scale() -> list[tuple[str, bool, str]]:
    from bench import scale as bench

    # measure() raises if any command is not answered as it should be.
    await bench.main(bench.parse(["--mentors", "60", "--mentees", "600", "--sessions", "3000", "--runs", "5",
                                  "--cohort-requests", "0"]))  # the cohort, below, checked
    checks = [("large program: every command answered, on SQLite and PostgreSQL", True, "")]
    with tempfile.TemporaryDirectory(prefix="mentorbot-cohort-") as tmp:
        f = await bench.cohort(f"sqlite+aiosqlite:///{Path(tmp) / 'cohort.db'}", requests=60, mentors=20)
    bench.print_cohort(f, 20)
    as_many = f["requests"] - f["unmatched"] >= f["requests"] - f["alone_unmatched"]
    return checks + [("cohort: as many matched as one at a time, with no lower total",
                      as_many and (f["total"] >= f["alone"] or f["unmatched"] < f["alone_unmatched"]),
                      f"total fit {f['total']:.1f} against {f['alone']:.1f}; unmatched {f['unmatched']} "
                      f"against {f['alone_unmatched']}")]


async def languages() -> list[tuple[str, bool, str]]:
    from bench import languages as bench

    r = bench.main(repeat=2)
    return [("languages: every sentence rendered in every language", r["sentences"] > 0,
             f"{r['sentences']} sentences, {len(r['timing'])} languages")]


QUICK = {"roundtrip": roundtrip, "fairness": fairness, "scheduler": scheduler, "scale": scale,
         "languages": languages}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", required=True,
                        help="every benchmark at small sizes, checking results, not times")
    parser.add_argument("--only", choices=list(QUICK), action="append", help="run only these (repeatable)")
    args = parser.parse_args(argv)
    checks: list[tuple[str, bool, str]] = []
    for name, run in QUICK.items():
        if args.only and name not in args.only:
            continue
        print(f"\n=== {name} (quick)", flush=True)
        try:
            checks += asyncio.run(run())
        except Exception:  # noqa: BLE001 - reported as a failed check; the others still run
            traceback.print_exc()
            checks.append((f"{name}: ran to the end", False, "it raised (above)"))
    print("\nQuick benchmark checks")
    for label, ok, detail in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {label}" + (f" ({detail})" if detail else ""))
    return 0 if checks and all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
