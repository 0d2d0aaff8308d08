"""What ``help`` says: the list of commands and one command's description."""

from __future__ import annotations

from commands.text import Msg, bold, code, join
from commands.words import t


def overview_intro(help_cmd: Msg) -> Msg:
    return t("Here is what you can do. Send {help} to see what one does, where, and examples.", help=help_cmd)


def topic_line(title: Msg | str, commands: Msg) -> Msg:
    return t("{title}: {commands}", title=title, commands=commands)


def prefix_note(prefix: str) -> Msg:
    return t("In the mentors and council rooms, start each command with {prefix} (like {example}). "
             "In a direct message with me, no prefix is needed.", prefix=prefix, example=code(f"{prefix}help"))


def how_to_ask(help_cmd: Msg, help_one: Msg) -> Msg:
    return t("Send {help} for the list of commands, or {help_one}.", help=help_cmd, help_one=help_one)


def forms_of(name: str, forms: list[str]) -> Msg:
    return t("{name} has these forms: {forms}.", name=code(name), forms=join(code(f) for f in forms))


def no_such_command(name: str, help_cmd: Msg) -> Msg:
    return t("There is no command {name}. Send {help} for the list of commands.", name=code(name), help=help_cmd)


def title(name: str, summary: Msg) -> Msg:
    return t("{name}: {summary}", name=bold(name), summary=summary)


def usage(line: Msg) -> Msg:
    return t("Usage: {usage}", usage=code(line))


def who_and_where(who: str, allowed: bool, where: str) -> Msg:
    if allowed:
        return t("Who: {who}. Where: {where}.", who=who, where=where)
    return t("Who: {who} (not you, for now). Where: {where}.", who=who, where=where)


def also(aliases: tuple[str, ...]) -> Msg:
    return t("Also: {aliases}", aliases=join(code(a) for a in aliases))


def examples(items: list[Msg]) -> Msg:
    return t("Examples: {examples}", examples=join(code(e) for e in items))
