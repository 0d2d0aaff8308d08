"""The two words every layer shares: who someone is in the program, and what kind of room."""

from __future__ import annotations

import enum


class Role(str, enum.Enum):
    ANYONE = "anyone"
    MENTEE = "mentee"
    MENTOR = "mentor"
    COUNCIL = "council"


class RoomKind(str, enum.Enum):
    DM = "dm"
    MENTORS = "mentors"
    COUNCIL = "council"
    OTHER = "other"


# Every room the bot answers commands in. In any other room (public, shared with others, or a
# DM that is not private) it runs no command at all: see the dispatcher.
EVERYWHERE = frozenset({RoomKind.DM, RoomKind.MENTORS, RoomKind.COUNCIL})
DM_ONLY = frozenset({RoomKind.DM})
