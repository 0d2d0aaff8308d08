"""`mentorbot shell`: start the runtime over the terminal and read lines."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from bot import demo
from bot.app import open_database, shell_runtime
from bot.config import Settings, mask_db_url
from bot.shell import Shell
from commands.clock import ManualClock


async def run_shell(settings: Settings, *, script: str | None = None, demo_data: bool = False) -> int:
    clock = ManualClock()
    runtime = shell_runtime(settings, clock, sys.stdout)
    try:
        await open_database(runtime.db)
        await runtime.deliver()  # anything a previous run decided but did not print
        interactive = script is None and sys.stdin.isatty()
        if demo_data:
            seeded = await demo.seed(runtime.db, clock.now(), settings.program)
            if interactive or not seeded:
                note = "seeded the demo program:" if seeded else "the database already has people; demo not seeded."
                print(f"[shell] {note}", file=sys.stderr if not interactive else sys.stdout)
                if seeded:
                    print("\n".join(demo.describe()))
        shell = Shell(runtime, clock)
        if script is not None:
            try:
                text = Path(script).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                print(f"mentorbot: cannot read the script {script}: {exc}", file=sys.stderr)
                return 1
            await shell.run_lines(text.splitlines())
        elif not interactive:
            await shell.run_lines(sys.stdin.read().splitlines())
        else:
            await interact(shell, settings)
        return 0
    finally:
        await runtime.close()


async def interact(shell: Shell, settings: Settings) -> None:
    try:
        import readline  # noqa: F401  (line editing and history for input())
    except ImportError:  # pragma: no cover - not on every platform
        pass
    print(f"mentorbot shell: {settings.program.name}, database {mask_db_url(settings.storage.url)}")
    print("Type `% help` for how to type messages, `% quit` or Ctrl-D to leave.")
    print(shell.clock_line() + " (simulated)\n")
    while not shell.finished:
        try:
            line = await asyncio.to_thread(input, shell.prompt())
        except EOFError:
            print()
            break
        await shell.feed(line)
