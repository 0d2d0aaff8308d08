"""The command reference (docs/commands.md), generated from the command declarations.

    python -m bot.docs            print the reference
    python -m bot.docs --write    update it in docs/commands.md
"""

from __future__ import annotations

import sys
from pathlib import Path

from commands import build_registry

START, END = "<!-- commands:start -->", "<!-- commands:end -->"
COMMANDS = Path(__file__).resolve().parent.parent / "docs" / "commands.md"


def reference() -> str:
    registry = build_registry()
    out: list[str] = []
    for router in registry.routers:
        out.append(f"## {router.title}\n")
        out.append("| Command | What it does | Who | Where | Example |")
        out.append("| --- | --- | --- | --- | --- |")
        for c in router.commands:
            usage = c.usage().replace("|", "\\|")
            aliases = f" (also `{'`, `'.join(c.aliases)}`)" if c.aliases else ""
            what = (c.summary + (" " + c.details if c.details else "")).replace("|", "\\|")
            example = f"`{c.examples[0]}`".replace("|", "\\|") if c.examples else ""
            out.append(f"| `{usage}`{aliases} | {what} | {c.who()} | {c.where(short=True)} | {example} |")
        out.append("")
    return "\n".join(out).strip() + "\n"


def updated(page: str) -> str:
    """The page with the text between the markers replaced by the current reference."""
    if START not in page or END not in page:
        raise ValueError(f"the page has no {START} ... {END} markers")
    before, _, rest = page.partition(START)
    _, _, after = rest.partition(END)
    return f"{before}{START}\n{reference()}{END}{after}"


def main(argv: list[str]) -> int:
    if "--write" in argv:
        COMMANDS.write_text(updated(COMMANDS.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        sys.stdout.write(reference())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
