"""Roles that come from room membership: the mentors room makes mentors, the council room council."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from commands.kinds import RoomKind
from commands.policy import ProgramPolicy
from commands.services import audit, people
from storage.models import Person
from storage.session import Session


async def joined(session: Session, room: RoomKind, user_id: str, now: datetime, policy: ProgramPolicy) -> None:
    """Someone joined the mentors or the council room."""
    person = await people.ensure(session, user_id, now)
    if room is RoomKind.MENTORS:
        if person.is_mentor and not person.inactive:
            return
        before = "inactive" if person.is_mentor else "member"
        if not person.is_mentor:
            person.capacity = person.capacity or policy.default_capacity
        person.is_mentor, person.inactive = True, False
        audit.record(session, at=now, actor=None, entity="person", entity_id=person.id,
                     action="joined_mentors_room", from_state=before, to_state="mentor")
    elif room is RoomKind.COUNCIL and not person.is_council:
        person.is_council = True
        audit.record(session, at=now, actor=None, entity="person", entity_id=person.id,
                     action="joined_council_room", from_state="member", to_state="council")
    person.updated_at = now


async def left(session: Session, room: RoomKind, user_id: str, now: datetime) -> None:
    """Someone left (or was removed from) the mentors or the council room.

    A mentor who leaves with mentees still in their care stays on the roster as
    inactive, so that their mentees can change mentor without waiting for the council.
    """
    person = await people.find(session, user_id)
    if person is None:
        return
    if room is RoomKind.MENTORS and person.is_mentor and not person.inactive:
        if await people.active_mentee_count(session, person.id):
            person.inactive = True
            to_state = "inactive"
        else:
            person.is_mentor = False
            to_state = "member"
        audit.record(session, at=now, actor=None, entity="person", entity_id=person.id,
                     action="left_mentors_room", from_state="mentor", to_state=to_state)
    elif room is RoomKind.COUNCIL and person.is_council:
        person.is_council = False
        audit.record(session, at=now, actor=None, entity="person", entity_id=person.id,
                     action="left_council_room", from_state="council", to_state="member")
    person.updated_at = now


async def reconcile(
    session: Session,
    room: RoomKind,
    members: set[str],
    departed: set[str],
    now: datetime,
    policy: ProgramPolicy,
    *,
    grant: bool = True,
) -> None:
    """Catch up with the room's membership as it is now (at start-up, after downtime).

    ``departed`` are those whose membership is leave or ban. Someone the council
    added as a mentor who has not joined yet is neither, and keeps their role.
    ``grant`` is False while the room is open to anyone: being in it then gives no role.
    Council rights come from the council room as it is now: whoever holds them from an
    earlier room (before an upgrade or a change of ``council_room``) and is not in this
    one loses them.
    """
    if grant:
        for user_id in sorted(members):
            await joined(session, room, user_id, now, policy)
    for user_id in sorted(departed - members):
        await left(session, room, user_id, now)
    if room is RoomKind.COUNCIL:
        holders = (await session.exec(select(Person.matrix_id).where(Person.is_council.is_(True)))).all()
        for user_id in sorted(set(holders) - members):
            await left(session, room, user_id, now)
