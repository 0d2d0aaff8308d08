"""What flows in and out of the dispatcher, whatever the transport."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from commands.framework import RoomKind
from commands.text import Msg


@dataclass(frozen=True)
class Incoming:
    """A message someone sent to the bot."""

    sender: str  # Matrix ID
    room: RoomKind
    text: str
    room_id: str | None = None  # the transport's room, when it has one
    event_id: str | None = None


@dataclass(frozen=True)
class Target:
    """Where a message goes: a person's DM, the mentors or council room, or a given room."""

    room: RoomKind
    user_id: str | None = None
    room_id: str | None = None

    @classmethod
    def dm(cls, user_id: str) -> Target:
        return cls(RoomKind.DM, user_id=user_id)

    @classmethod
    def mentors(cls) -> Target:
        return cls(RoomKind.MENTORS)

    @classmethod
    def council(cls) -> Target:
        return cls(RoomKind.COUNCIL)

    @classmethod
    def reply_to(cls, incoming: Incoming) -> Target:
        if incoming.room is RoomKind.DM:
            return cls(RoomKind.DM, user_id=incoming.sender, room_id=incoming.room_id)
        return cls(incoming.room, room_id=incoming.room_id)

    @property
    def shared(self) -> bool:
        """A room that people other than the bot and one person can read."""
        return self.room is not RoomKind.DM


@dataclass(frozen=True)
class Outgoing:
    target: Target
    msg: Msg
    reply_to: str | None = None  # event id of the message answered, if any


class Outbox(Protocol):
    """Where the bot's messages go: Matrix, the terminal shell, or a test."""

    async def send(self, message: Outgoing) -> None: ...
