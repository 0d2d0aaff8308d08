"""What the bot says about commands themselves: unknown, refused, in the wrong room, failed."""

from __future__ import annotations

from commands.text import Msg, code, join
from commands.kinds import RoomProblem
from commands.words import rooms, t


def outside(problem: RoomProblem | None) -> Msg:
    """A command in a room that is neither the program's nor a private DM."""
    why = t(" ({problem})", problem=rooms.problem(problem)) if problem else ""
    return t("I don't answer in this room{why}. What you tell me can be personal, so I answer only in a "
             "private direct message with me (just the two of us, invite-only) and in the program's own "
             "rooms. Please start a direct message with me and send {help} there.", why=why, help=code("help"))


def failed(command: Msg) -> Msg:
    return t("Sorry, something went wrong while running {command}. Nothing was changed. Please try again; "
             "if it keeps happening, tell the council.", command=command)


def hello(help_cmd: Msg) -> Msg:
    return t("Hello! Send {help} to see what I can do.", help=help_cmd)


def too_long(length: int, limit: int) -> Msg:
    return t("That message is too long for a command ({length} characters; at most {limit}). "
             "Please shorten it and send it again.", length=f"{length:,}", limit=f"{limit:,}")


def denied(command: Msg, who: str, help_cmd: Msg) -> Msg:
    return t("Sorry, {command} is only for {who}. Send {help} to see what you can do.",
             command=command, who=who, help=help_cmd)


def wrong_room(command: Msg, where: str) -> Msg:
    return t("{command} works only in {where}; please send it there.", command=command, where=where)


def did_you_mean_subcommand(typed: str, suggestion: Msg) -> Msg:
    return t("I don't know {typed}. Did you mean {suggestion}?", typed=code(typed), suggestion=suggestion)


def needs_subcommand(word: str, choices: list[Msg], help_cmd: Msg) -> Msg:
    return t("{word} needs one more word: {choices}. Send {help} for details.",
             word=code(word), choices=join(choices), help=help_cmd)


def unknown_command(word: str, suggestion: Msg | None, help_cmd: Msg) -> Msg:
    msg = t("I don't know the command {word}.", word=code(word))
    if suggestion is not None:
        msg += t(" Did you mean {suggestion}?", suggestion=suggestion)
    return msg + t(" Send {help} for the list of commands.", help=help_cmd)


def explain_first(word: str, name: Msg, help_cmd: Msg) -> Msg:
    """A typo of a command that changes something: its help is offered, never the command itself."""
    return t("I don't know the command {word}. If you meant {name}, send {help} first to read what it does.",
             word=code(word), name=name, help=help_cmd)


def family_help(word: str, help_cmd: Msg) -> Msg:
    """A family of commands followed by words that match none of its forms."""
    return t("{word} needs one more word, and I don't know the one you wrote. Send {help} to see its forms "
             "and what each does.", word=code(word), help=help_cmd)
