"""`help`: generated from the command declarations."""

from __future__ import annotations

from commands.dispatcher import Context
from commands.framework import Arg, Command, Router, Text, UsageError
from commands.text import Msg, bold, code, join, lines
from commands.words import help as said
from commands.words import tx

router = Router("help", "Help")


@router.command(
    "help",
    safe=True,
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
        # One line a topic: the list stays short enough to read in a chat, however many commands
        # there are; what each one does is one `help <command>` away.
        groups.append(said.topic_line(bold(tx(r.title)), join((code(c.usage_said()) for c in usable))))
    ctx.reply(
        lines(
            said.overview_intro(ctx.cmd("help <command>")),
            *groups,
            said.prefix_note(ctx.prefix),
        )
    )


def find_or_suggest(ctx: Context, name: str) -> Command:
    name = name.strip().lstrip(ctx.prefix).strip()
    if not name:
        raise UsageError(said.how_to_ask(ctx.cmd("help"), ctx.cmd("help <command>")))
    cmd, matched, rest = ctx.registry.find(name)
    if cmd is not None and not rest.strip():
        return cmd
    subs = ctx.registry.subcommands(name.split()[0]) if name.split() else []
    if subs and cmd is None:
        raise UsageError(said.forms_of(name, [c.name for c in subs]))
    raise UsageError(said.no_such_command(name[:40], ctx.cmd("help")))


def describe(ctx: Context, c: Command) -> Msg:
    return lines(
        said.title(c.name, c.summary_said()),
        said.usage(c.usage_said()),
        c.details_said(),
        said.who_and_where(c.who(), c.allows_role(ctx.roles), c.where()),
        said.also(c.aliases) if c.aliases else None,
        said.examples(c.examples_said()) if c.examples else None,
    )
