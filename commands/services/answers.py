"""One-tap answers: messages a ✅ or ❌ reaction answers, found again by the event a reaction names.

A message that asks one person to decide (an offer to a mentor, a check-in the mentee confirms,
the preview of an announcement for the council member who drafted it) carries ``Answers``. Once
the transport has posted it, it is remembered here by its room and event id; a reaction under it
is then the command it stands for, typed by that person (see ``commands.reactions``). Whether
the item is still undecided is read from the item itself, so a typed answer counts as well.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, delete, exists, insert
from sqlmodel import select

from commands.messages import Answers, Sent
from commands.services import people
from storage.models import (
    OPEN_REQUEST_STATES,
    Announcement,
    AnnouncementState,
    AnswerableMessage,
    CheckIn,
    CheckInState,
    MentorRequest,
    RequestDecline,
)
from storage.session import Session

OFFER, CHECKIN, ANNOUNCEMENT = "offer", "checkin", "announcement"
_TABLE = AnswerableMessage.__table__
_COLUMNS = ("room_id", "event_id", "kind", "number", "yes", "no", "answerer", "sent_at")
# Built once: it runs after every batch of messages sent that a reaction answers.
_REMEMBER = insert(_TABLE).from_select(
    _COLUMNS,
    select(*(bindparam(c, type_=_TABLE.c[c].type) for c in _COLUMNS)).where(~exists().where(
        _TABLE.c.room_id == bindparam("room_id"), _TABLE.c.event_id == bindparam("event_id"))),
)


def offer(request_id: int, mentor: str) -> Answers:
    return Answers(OFFER, request_id, f"accept {request_id}", f"decline {request_id}", mentor)


def checkin(checkin_id: int, mentee: str) -> Answers:
    """A check-in the mentee confirms: ✅ confirms it; there is no ❌ (moving it needs a time)."""
    return Answers(CHECKIN, checkin_id, f"confirm {checkin_id}", None, mentee)


def announcement(announcement_id: int, author: str) -> Answers:
    return Answers(ANNOUNCEMENT, announcement_id, f"confirm {announcement_id}", f"cancel {announcement_id}", author)


async def remember(session: Session, posted: list[tuple[Sent, Answers]], now: datetime) -> None:
    """Note where messages with answers were posted, in one statement. A message posted again
    after a crash (the same transaction, so the same event) is noted once."""
    await session.exec(_REMEMBER, params=[
        {"room_id": sent.room_id, "event_id": sent.event_id, "kind": a.kind, "number": a.number, "yes": a.yes,
         "no": a.no, "answerer": a.answerer, "sent_at": now} for sent, a in posted])


async def find(session: Session, room_id: str, event_id: str) -> AnswerableMessage | None:
    return (await session.exec(select(AnswerableMessage).where(
        AnswerableMessage.room_id == room_id, AnswerableMessage.event_id == event_id))).first()


async def latest_for(session: Session, answerer: str, room_id: str) -> AnswerableMessage | None:
    """The newest message in a room that ``answerer`` may answer with a reaction."""
    return (await session.exec(
        select(AnswerableMessage).where(AnswerableMessage.answerer == answerer, AnswerableMessage.room_id == room_id)
        .order_by(AnswerableMessage.id.desc()).limit(1))).first()


async def undecided(session: Session, row: AnswerableMessage, sender: str) -> bool:
    """Whether what the message asks is still to be decided by ``sender``: an offer still open
    that they have not declined, a check-in not confirmed (nor held or cancelled), a draft."""
    if row.kind == OFFER:
        request = await session.get(MentorRequest, row.number)
        if request is None or request.state not in OPEN_REQUEST_STATES:
            return False
        mentor = await people.find(session, sender)
        if mentor is None:
            return True  # the command itself says why not
        declined = await session.exec(select(RequestDecline.id).where(
            RequestDecline.request_id == row.number, RequestDecline.mentor_id == mentor.id).limit(1))
        return declined.first() is None
    if row.kind == CHECKIN:
        c = await session.get(CheckIn, row.number)
        return c is not None and c.state is CheckInState.SCHEDULED and c.confirmed_at is None
    if row.kind == ANNOUNCEMENT:
        ann = await session.get(Announcement, row.number)
        return ann is not None and ann.state is AnnouncementState.DRAFT
    return False


async def forget(session: Session, matrix_id: str) -> None:
    """No reaction of a forgotten person is looked for any more (nor their Matrix ID kept)."""
    await session.exec(delete(AnswerableMessage).where(AnswerableMessage.answerer == matrix_id))
