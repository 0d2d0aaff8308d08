"""Where a person stands in the program, read at once for the answer to a first "hello".

What a newcomer, a mentee, a mentor or a council member is told when they write something
that is no command depends on a few facts: their mentor and next check-in, their request
waiting for a mentor, the requests offered to them as a mentor and their next check-ins
with their mentees. They are read here in as few statements as the person's roles need
(none for someone the program does not know yet), and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import and_, select

from commands.kinds import Role
from storage.models import (
    OPEN_REQUEST_STATES,
    CheckIn,
    CheckInState,
    MentorRequest,
    Mentorship,
    MentorshipState,
    Person,
)
from storage.session import Session

SHOWN = 3  # offers and check-ins named at most; the rest are a command away


@dataclass(frozen=True)
class Standing:
    """What a person's welcome speaks of. ``mentor`` and ``next_checkin``: their own mentor and
    their next meeting with them; ``request``: their request waiting for a mentor; ``offers``:
    requests offered to them as a mentor; ``upcoming``: their next check-ins with their mentees."""

    person: Person | None
    roles: frozenset[Role]
    mentor: Person | None = None
    next_checkin: CheckIn | None = None
    request: MentorRequest | None = None
    offers: tuple[MentorRequest, ...] = ()
    upcoming: tuple[tuple[CheckIn, Person], ...] = ()

    @property
    def newcomer(self) -> bool:
        """Nobody in the program yet: no mentor, no request, not a mentor nor on the council."""
        return self.mentor is None and self.request is None and not self.roles & {Role.MENTOR, Role.COUNCIL}


async def standing(session: Session, person: Person | None, roles: frozenset[Role], now: datetime) -> Standing:
    if person is None:
        return Standing(person, roles)
    mentor = next_checkin = request = None
    offers: tuple[MentorRequest, ...] = ()
    upcoming: tuple[tuple[CheckIn, Person], ...] = ()
    if person.is_mentee:
        mentor, next_checkin = await _my_mentor(session, person.id, now)
        if mentor is None:
            request = (await session.exec(select(MentorRequest).where(
                MentorRequest.mentee_id == person.id, MentorRequest.state.in_(OPEN_REQUEST_STATES)))).first()
    if Role.MENTOR in roles:
        offers = tuple((await session.exec(
            select(MentorRequest)
            .where(MentorRequest.proposed_to_id == person.id, MentorRequest.state.in_(OPEN_REQUEST_STATES))
            .order_by(MentorRequest.id).limit(SHOWN)
        )).all())
        upcoming = tuple((c, p) for c, p in (await session.exec(
            select(CheckIn, Person)
            .join(Mentorship, Mentorship.id == CheckIn.mentorship_id)
            .join(Person, Person.id == Mentorship.mentee_id)
            .where(Mentorship.mentor_id == person.id, Mentorship.state == MentorshipState.ACTIVE,
                   CheckIn.state == CheckInState.SCHEDULED, CheckIn.due_at > now)
            .order_by(CheckIn.due_at, CheckIn.id).limit(SHOWN)
        )).all())
    return Standing(person, roles, mentor, next_checkin, request, offers, upcoming)


async def _my_mentor(session: Session, mentee_id: int, now: datetime) -> tuple[Person | None, CheckIn | None]:
    """A mentee's mentor and their next check-in still ahead, in one statement."""
    row = (await session.exec(
        select(Person, CheckIn)
        .select_from(Mentorship)
        .join(Person, Person.id == Mentorship.mentor_id)
        .outerjoin(CheckIn, and_(CheckIn.mentorship_id == Mentorship.id, CheckIn.state == CheckInState.SCHEDULED,
                                 CheckIn.due_at > now))
        .where(Mentorship.mentee_id == mentee_id, Mentorship.state == MentorshipState.ACTIVE)
        # With a check-in ahead, every row has one: the soonest comes first.
        .order_by(CheckIn.due_at, CheckIn.id).limit(1)
    )).first()
    return (None, None) if row is None else (row[0], row[1])
