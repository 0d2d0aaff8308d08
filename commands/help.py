"""`help`: generated from the command declarations."""

from __future__ import annotations

from commands.dispatcher import Context
from commands.framework import EVERYWHERE, Arg, Command, Router, Text, UsageError
from commands.text import Msg, bold, code, join, lines

router = Router("help", "Help")


@router.command(
    "help",
    args=[Arg("command", Text("command", max_length=100), optional=True)],
    aliases=("?",),
    examples=("help", "help profile timezone"),
)
async def help_command(ctx: Context, command: str | None) -> None:
    """List the commands you can use, or explain one command.

    Without a command name, lists what you may use and where. With one, shows its
    arguments, who may use it, where, and examples.
    """
    if command:
        found = find_or_suggest(ctx, command)
        variants = ctx.registry.variants(found)
        ctx.reply(lines(*(Msg(describe(ctx, c), "\n" if i < len(variants) - 1 else "") for i, c in enumerate(variants))))
        return
    groups = []
    for r in ctx.registry.routers:
        usable = [c for c in r.commands if c.allows_role(ctx.roles)]
        if not usable:
            continue
        groups.append(lines(bold(r.title), *(_line(ctx, c) for c in usable)))
    ctx.reply(
        lines(
            Msg("Here is what you can do. Send ", ctx.cmd("help <command>"), " for details on one."),
            *groups,
            Msg(
                f"In the mentors and council rooms, start each command with {ctx.prefix} (like ",
                code(f"{ctx.prefix}help"), "). In a direct message with me, no prefix is needed.",
            ),
        )
    )


def _line(ctx: Context, c: Command) -> Msg:
    where = "" if c.rooms == EVERYWHERE else f" ({c.where(short=True)})"
    return Msg("• ", code(c.usage()), f": {c.summary}{where}")


def find_or_suggest(ctx: Context, name: str) -> Command:
    name = name.strip().lstrip(ctx.prefix).strip()
    if not name:
        raise UsageError(Msg("Send ", ctx.cmd("help"), " for the list of commands, or ", ctx.cmd("help <command>"), "."))
    cmd, matched, rest = ctx.registry.find(name)
    if cmd is not None and not rest.strip():
        return cmd
    subs = ctx.registry.subcommands(name.split()[0]) if name.split() else []
    if subs and cmd is None:
        raise UsageError(Msg(code(name), " has these forms: ", join(code(c.name) for c in subs), "."))
    raise UsageError(
        Msg("There is no command ", code(name[:40]), ". Send ", ctx.cmd("help"), " for the list of commands.")
    )


def describe(ctx: Context, c: Command) -> Msg:
    aliases = Msg("Also: ", join(code(a) for a in c.aliases)) if c.aliases else None
    examples = Msg("Examples: ", join(code(e) for e in c.examples)) if c.examples else None
    allowed = c.allows_role(ctx.roles)
    return lines(
        Msg(bold(c.name), f": {c.summary}"),
        Msg("Usage: ", code(c.usage())),
        Msg(c.details) if c.details else None,
        Msg(f"Who: {c.who()}" + ("" if allowed else " (not you, for now)") + f". Where: {c.where()}."),
        aliases,
        examples,
    )
