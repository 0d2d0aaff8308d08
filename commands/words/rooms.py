"""What the bot says about rooms: why one is not private, and what the council must fix."""

from __future__ import annotations

from commands.kinds import RoomProblem
from commands.text import Msg, bold, code
from commands.words import N_, t

_PROBLEMS = {
    RoomProblem.PUBLIC: N_("anyone can join it"),
    RoomProblem.JOINABLE: N_("people can join it without an invitation (join rule {detail})"),
    RoomProblem.WORLD_READABLE: N_("anyone can read its history"),
    RoomProblem.OTHERS_IN_IT: N_("others are in it"),
    RoomProblem.NOT_IN_IT: N_("you are not in it"),
    RoomProblem.OUTSIDER_POWER: N_("someone who is not in it holds power in it"),
    RoomProblem.NOT_ENCRYPTED: N_("it is not encrypted"),
    RoomProblem.ENCRYPTED: N_("it is encrypted, and I run without encryption"),
    RoomProblem.NOT_SEEN: N_("the bot cannot see its settings yet"),
}


def problem(p: RoomProblem) -> str:
    """Why the room is not private, in a few words ("anyone can join it")."""
    return t(_PROBLEMS[p.code], detail=p.detail).plain()



def alias_changed(kind: str, ref: str, target: str, kept: str) -> Msg:
    """For the council: a configured room's alias now names another room."""
    head = t("The mentors room's alias changed") if kind == "mentors" else t("The council room's alias changed")
    return Msg(bold(head), t(": {ref} now names another room ({target}). I stay in the room it named before "
                              "({kept}). If the room really moved, the operator puts the new room's ID in "
                              "[matrix] {kind}_room; if not, someone took the alias.",
                              ref=ref, target=target, kept=kept, kind=kind))


def not_invite_only(kind: str, why: RoomProblem) -> Msg:
    """For the council: a configured room is open, so joining it gives no role."""
    head = t("The mentors room is not invite-only") if kind == "mentors" else t("The council room is not invite-only")
    return Msg(bold(head), t(" ({problem}). Anyone could join it and read what the program shares there, so "
                              "joining it gives nobody a role until it is invite-only again. Please change its "
                              "settings: Room settings, Security & Privacy, Private (invite only).",
                              problem=problem(why)))


def undecryptable(help_cmd: str) -> Msg:
    return t("I could not decrypt your last message: my device did not get its key. Please send it again. If this "
             "keeps happening, make sure your client shares keys with unverified devices, or start a new direct "
             "message with me. Send {help} to see what I can do. (I say this at most once an hour.)",
             help=code(help_cmd))


def slow_down(burst: int, per_minute: int) -> Msg:
    return t("You are sending me commands faster than I can take them, so I am skipping some, starting with this "
             "one. Please wait a minute, then send again only what you still need. (I take up to {burst} commands "
             "at once and {per_minute} a minute from each person.)", burst=str(burst), per_minute=str(per_minute))
