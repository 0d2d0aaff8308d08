"""One-tap answers: a ✅ or ❌ reaction under a message that asks a question is the command it
stands for, typed by the person who reacted, in that room.

The reaction goes through the dispatcher as that command (with the reaction's event id, so that
it is handled once however often a sync brings it): the same permissions, the same records, the
same replies as typing it. Only the person the question is for counts; a reaction under a
question already decided gets one short note (at most once a day), anything else is ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from commands.dispatcher import Dispatcher, Result
from commands.kinds import RoomKind, RoomProblem
from commands.messages import Incoming
from commands.services import answers, courtesy, outbox
from commands.words import answers as said

YES, NO = "✅", "❌"
# What a reaction's key means; clients may add an emoji variation selector.
CHOICES = {YES: True, NO: False}


def choice_of(key: str) -> bool | None:
    """True for ✅, False for ❌, None for any other reaction."""
    return CHOICES.get(key.replace("\ufe0f", "").strip())


@dataclass(frozen=True)
class Reaction:
    """Someone reacted to a message with ``key``."""

    sender: str
    room: RoomKind
    room_id: str
    event_id: str | None  # the reaction's own event
    reacts_to: str  # the message reacted to
    key: str
    room_problem: RoomProblem | None = None


async def react(dispatcher: Dispatcher, reaction: Reaction) -> Result:
    choice = choice_of(reaction.key)
    if choice is None:
        return Result("ignored", [])
    async with dispatcher.db.session() as session:
        if await outbox.already_handled(session, reaction.event_id):
            return Result("duplicate", [])
        row = await answers.find(session, reaction.room_id, reaction.reacts_to)
        if row is None or row.answerer != reaction.sender:
            return Result("ignored", [])  # not a question, or not theirs to answer
        command = row.yes if choice else row.no
        if command is None:
            return Result("ignored", [])
        undecided = await answers.undecided(session, row, reaction.sender)
        kind = row.kind
    text = command if reaction.room is RoomKind.DM else f"{dispatcher.prefix}{command}"
    incoming = Incoming(reaction.sender, reaction.room, text, room_id=reaction.room_id, event_id=reaction.event_id,
                        room_problem=reaction.room_problem, reacts_to=reaction.reacts_to)
    if not undecided:
        return await dispatcher.notice(incoming, said.already_answered(kind), once_per=courtesy.LATE_ANSWER)
    return await dispatcher.handle(incoming)
