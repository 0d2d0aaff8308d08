"""The whole test suite, twice at once: on SQLite and on a throwaway PostgreSQL; then
every benchmark at small sizes.

    python -m tests [pytest options]

Both passes run side by side, each printing its lines with its name in front; the
command fails if either pass fails, or collects no tests. When both pass and no pytest
option was given (the whole suite), ``python -m bench --quick`` follows: every benchmark
at small sizes, failing on a wrong result (a command unanswered or answered twice, a
reminder held back), never on a time.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

PASSES = {"sqlite": [], "postgres": ["--postgres"]}


def main(argv: list[str]) -> int:
    processes = {
        name: subprocess.Popen([sys.executable, "-m", "pytest", *extra, *argv], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, bufsize=1,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
        for name, extra in PASSES.items()
    }
    printing = threading.Lock()

    def relay(name: str, process: subprocess.Popen) -> None:
        for line in process.stdout:
            with printing:
                sys.stdout.write(f"[{name}] {line}")
                sys.stdout.flush()

    threads = [threading.Thread(target=relay, args=item) for item in processes.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = {name: p.wait() for name, p in processes.items()}
    for name, code in codes.items():
        verdict = "passed" if code == 0 else ("collected no tests" if code == 5 else f"failed (exit {code})")
        print(f"{name} pass: {verdict}")
    if not all(code == 0 for code in codes.values()):
        return 1
    if argv:  # a chosen part of the suite: the benchmarks are not part of it
        return 0
    bench = subprocess.run([sys.executable, "-m", "bench", "--quick"], env={**os.environ, "PYTHONUNBUFFERED": "1"})
    print(f"benchmarks, quick run: {'passed' if bench.returncode == 0 else f'failed (exit {bench.returncode})'}")
    return bench.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
