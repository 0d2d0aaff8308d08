"""How people and rooms are named in sentences: who may use a command, and where."""

from __future__ import annotations

from typing import Iterable

from commands.kinds import Role, RoomKind
from commands.words import N_, t

ROLE_NOUNS = {
    Role.ANYONE: N_("anyone"),
    Role.MENTEE: N_("mentees"),
    Role.MENTOR: N_("mentors"),
    Role.COUNCIL: N_("council members"),
}


ROOM_NOUNS = {
    RoomKind.DM: N_("a direct message with me"),
    RoomKind.MENTORS: N_("the mentors room"),
    RoomKind.COUNCIL: N_("the council room"),
    RoomKind.OTHER: N_("any other room"),
}
ROOM_SHORT = {RoomKind.DM: N_("DM"), RoomKind.MENTORS: N_("mentors room"), RoomKind.COUNCIL: N_("council room"), RoomKind.OTHER: N_("other rooms")}


def who(roles: Iterable[Role]) -> str:
    """Who may use something: "anyone", or the roles, like "mentors and council members"."""
    roles = set(roles)
    if Role.ANYONE in roles:
        return t("anyone").plain()
    return t(" and ").plain().join(t(ROLE_NOUNS[r]).plain() for r in Role if r in roles)


def where(rooms: Iterable[RoomKind], *, short: bool = False) -> str:
    """Where something works: one room, or "the mentors room, the council room or a direct message with me"."""
    rooms = set(rooms)
    order = (RoomKind.MENTORS, RoomKind.COUNCIL, RoomKind.OTHER, RoomKind.DM)
    names = [t((ROOM_SHORT if short else ROOM_NOUNS)[r]).plain() for r in order if r in rooms]
    if len(names) == 1:
        return names[0]
    return t("{some} or {last}", some=", ".join(names[:-1]), last=names[-1]).plain()
