"""The two words every layer shares: who someone is in the program, and what kind of room."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Role(str, enum.Enum):
    ANYONE = "anyone"
    MENTEE = "mentee"
    MENTOR = "mentor"
    COUNCIL = "council"


class RoomKind(str, enum.Enum):
    DM = "dm"
    MENTORS = "mentors"
    COUNCIL = "council"
    # A group's own room, private to its mentor and members (see bot/rooms.py): the bot posts
    # there and takes no command there.
    GROUP = "group"
    OTHER = "other"


# Every room the bot answers commands in. In any other room (public, shared with others, or a
# DM that is not private) it runs no command at all: see the dispatcher.
EVERYWHERE = frozenset({RoomKind.DM, RoomKind.MENTORS, RoomKind.COUNCIL})
DM_ONLY = frozenset({RoomKind.DM})


@dataclass(frozen=True)
class RoomProblem:
    """Why a room is not private enough for what the bot would say there, as data; the message
    layer says it in words (``commands.words.rooms.problem``)."""

    PUBLIC = "public"  # anyone can join it
    JOINABLE = "joinable"  # people can join without an invitation (``detail``: the join rule)
    WORLD_READABLE = "world_readable"  # anyone can read its history
    OTHERS_IN_IT = "others_in_it"
    NOT_IN_IT = "not_in_it"  # the person is not in it
    OUTSIDER_POWER = "outsider_power"  # someone who is not in it holds power in it
    NOT_ENCRYPTED = "not_encrypted"
    ENCRYPTED = "encrypted"  # encrypted, while the bot runs without encryption
    NOT_SEEN = "not_seen"  # the bot cannot see its settings yet

    code: str
    detail: str = ""
