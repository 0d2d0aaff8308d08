"""What flows in and out of the dispatcher, whatever the transport."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Protocol

from commands.kinds import RoomKind, RoomProblem
from commands.text import Msg


@dataclass(frozen=True)
class Incoming:
    """A message someone sent to the bot."""

    sender: str  # Matrix ID
    room: RoomKind
    text: str
    room_id: str | None = None  # the transport's room, when it has one
    event_id: str | None = None
    # Set when the room would be a direct message with the sender but is not private
    # enough to be one (public, unencrypted, others invited): why, in a few words.
    room_problem: RoomProblem | None = None
    # A reaction taken as a command: the message reacted to, under which the answer goes.
    reacts_to: str | None = None

    @property
    def answered_event(self) -> str | None:
        """The event an answer to this is a reply to."""
        return self.reacts_to or self.event_id


@dataclass(frozen=True)
class Target:
    """Where a message goes: a person's DM, the mentors or council room, a group's room, or a given room."""

    room: RoomKind
    user_id: str | None = None
    room_id: str | None = None
    group_id: int | None = None  # a group's room: the transport finds or makes it

    @classmethod
    def group(cls, group_id: int) -> Target:
        return cls(RoomKind.GROUP, group_id=group_id)

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


CHART = "chart"  # a File's encoding: its data is a chart to draw (JSON), drawn as a PNG image when sent


@dataclass(frozen=True)
class File:
    """A file sent with a message (an export, a chart): its name, type and content, as text, or
    for a binary file (a ZIP archive, an image) as base64 (``encoding``).

    A chart is stored as what to draw (``encoding`` CHART: its months and series as JSON, a few
    hundred bytes); the runtime has it drawn as a PNG image just before it is sent. ``alt``
    describes an image in words, for those who cannot see it."""

    name: str
    mimetype: str
    data: str
    encoding: str = "text"  # or "base64", or CHART
    alt: str = ""

    @classmethod
    def binary(cls, name: str, mimetype: str, content: bytes, alt: str = "") -> File:
        return cls(name, mimetype, base64.b64encode(content).decode("ascii"), "base64", alt)

    @classmethod
    def chart(cls, name: str, spec: dict, alt: str) -> File:
        """A chart to draw as a PNG image named ``name`` (see ``bot.chart_child`` for ``spec``)."""
        return cls(name, "image/png", json.dumps(spec, ensure_ascii=False), CHART, alt)

    @property
    def to_draw(self) -> bool:
        return self.encoding == CHART

    def spec(self) -> dict:
        """What a chart file draws."""
        return json.loads(self.data)

    def content(self) -> bytes:
        return base64.b64decode(self.data) if self.encoding == "base64" else self.data.encode("utf-8")

    def to_dict(self) -> dict[str, str]:
        kept = {"name": self.name, "mimetype": self.mimetype, "data": self.data}
        if self.alt:
            kept["alt"] = self.alt
        return kept if self.encoding == "text" else {**kept, "encoding": self.encoding}


@dataclass(frozen=True)
class Answers:
    """What a ✅ or ❌ reaction under a message answers: the command each stands for, exactly as
    the person would type it in a DM, and the one person whose reaction counts. ``kind`` and
    ``number`` name what is decided (an ``offer`` of request N, a ``checkin`` N to confirm, an
    ``announcement`` N), so that a reaction once it is decided is not taken as an answer."""

    kind: str
    number: int
    yes: str
    no: str | None
    answerer: str

    def to_json(self) -> str:
        return json.dumps([self.kind, self.number, self.yes, self.no, self.answerer], ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Answers | None:
        return cls(*json.loads(text)) if text else None


@dataclass(frozen=True)
class Sent:
    """Where a transport posted a message: its room and event id (a reaction names them)."""

    room_id: str
    event_id: str


@dataclass(frozen=True)
class Outgoing:
    target: Target
    msg: Msg
    reply_to: str | None = None  # event id of the message answered, if any
    txn_id: str | None = None  # set when the sender must know the stored message (an announcement copy)
    files: tuple[File, ...] = ()  # sent after the message, in the same room
    # Someone must notice it (a reminder, an offer, a decision, an escalation): it is sent so
    # that clients notify, mentioning the person of a DM. A reply nobody waits for does not.
    notify: bool = False
    # One of the program's bulk notices (an overdue warning, a digest): nobody waits for it this
    # minute, so replies and reminders are delivered before it (see ``bot.runtime``).
    bulk: bool = False
    # Someone to invite into the target room (a shared one) before the message is posted.
    invite: str | None = None
    # What a ✅ or ❌ reaction under it answers: the transport adds both reactions for a tap.
    answers: Answers | None = None

    def render(self, language: str = "en") -> Rendered:
        """The message as its reader reads it, in ``language``."""
        mentions = self.msg.mentions()
        if self.notify and self.target.user_id and self.target.user_id not in mentions:
            mentions.append(self.target.user_id)
        msg = self.msg.resolve(language)
        return Rendered(self.target, msg.plain(), msg.html(), tuple(mentions), self.reply_to,
                        self.files, self.notify, self.invite, self.answers)


@dataclass(frozen=True)
class Rendered:
    """A message ready for a transport: plain body, HTML body and the people it mentions."""

    target: Target
    body: str
    html: str
    mentions: tuple[str, ...] = ()
    reply_to: str | None = None
    files: tuple[File, ...] = ()
    notify: bool = False  # sent so that it notifies (Matrix: m.text, not m.notice)
    invite: str | None = None  # invited into the room before the message is posted
    answers: Answers | None = None  # answered by a ✅ or ❌ reaction: the transport adds both


class SendFailed(Exception):
    """A transport could not send a message.

    ``retry`` tells whether trying again later may work (the network, the server)
    or not (the room is gone, the bot was banned).
    """

    def __init__(self, reason: str, *, retry: bool) -> None:
        super().__init__(reason)
        self.retry = retry


class RoomUnreachable(SendFailed):
    """The message's room cannot be reached now: the bot is not in it or was refused, the
    person cannot be invited. The message is kept and tried again later, while messages for
    other rooms go on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, retry=True)


class Outbox(Protocol):
    """Where the bot's messages go: Matrix, the terminal shell, or a test.

    ``txn_id`` is unique per message and stays the same when a send is retried,
    so a transport can make retries idempotent. Raise ``SendFailed`` on failure. Returns where
    the message was posted (``Sent``) when the transport knows; a message with ``answers`` is
    then found again by a reaction under it.
    """

    async def send(self, message: Rendered, txn_id: str) -> Sent | None: ...
