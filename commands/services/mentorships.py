"""The relationship lifecycle: request, proposal, acceptance, change and end.

Every function works inside one unit of work (a command or a scheduled job): it
changes the tables, records the change in the audit trail, and emits the events
that tell each person what concerns them (``commands.words.mentoring`` words them).
A refusal is a domain error carrying the facts. Reasons people give (for a decline,
a change, an end) are stored, never sent to a shared room.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from commands.kinds import Role
from commands.services import audit, checkins, matching, people
from commands.services.commitment import commitment_end, midterm
from commands.services.errors import DomainError
from commands.services.matching import Match, Wishes
from commands.services.work import Event, Work
from storage.models import (
    OPEN_REQUEST_STATES,
    ChangeRequest,
    ChangeState,
    CheckIn,
    CheckInKind,
    CheckInState,
    MentorRequest,
    Mentorship,
    MentorshipState,
    Nomination,
    Person,
    RequestDecline,
    RequestState,
    TagKind,
)
from storage.session import Session

SUGGESTIONS = 3  # matches shown with a request


# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class MentorProposed(Event):
    """The request was offered to ``mentor`` (in a DM); ``announce``: the mentors room hears of it too."""

    request: MentorRequest
    mentee: Person
    mentor: Person
    match: Match
    wishes: Wishes
    announce: bool


@dataclass(frozen=True)
class RequestWaiting(Event):
    """No available mentor fits the request: it waits in the list mentors look at."""

    request: MentorRequest
    wishes: Wishes


@dataclass(frozen=True)
class RequestWithdrawn(Event):
    """The mentee took back their request; ``offered_to`` had it, ``staying_with`` stays their mentor."""

    request: MentorRequest
    mentee: Person
    offered_to: Person | None
    staying_with: Person | None


@dataclass(frozen=True)
class MentorshipStarted(Event):
    """A mentorship began: accepted, assigned or reassigned (``how``), from ``request`` if any.
    ``previous`` is the mentor the mentee leaves, whose planned check-ins moved over."""

    mentorship: Mentorship
    mentee: Person
    mentor: Person
    how: str
    checkins_moved: bool
    previous: Person | None
    request: MentorRequest | None


@dataclass(frozen=True)
class MentorshipEnded(Event):
    """``by`` ended the mentorship; ``other`` is the side that is told (never the reason)."""

    mentorship: Mentorship
    by: Person
    other: Person
    other_is_mentor: bool


class FreeChange(str, enum.Enum):
    """Why a mentee may change mentor without the council."""

    COMMITMENT_OVER = "commitment_over"
    MENTOR_INACTIVE = "mentor_inactive"
    MENTOR_AWAY = "mentor_away"


@dataclass(frozen=True)
class ChangeRequested(Event):
    """A mentee asked for another mentor. ``free``: why it goes ahead without the council
    (``new_request`` looks for the new mentor); None: the council decides."""

    change: ChangeRequest
    mentorship: Mentorship
    mentee: Person
    mentor: Person
    free: FreeChange | None
    new_request: MentorRequest | None
    reason_given: bool


@dataclass(frozen=True)
class ChangeApproved(Event):
    """A change of mentor may go ahead (``by`` the council, or None when the mentee was free to)."""

    change: ChangeRequest
    mentee: Person
    mentor: Person
    by: Person | None


@dataclass(frozen=True)
class RequestEscalated(Event):
    """Nobody took the request in time: it goes to the council, with the best matches."""

    request: MentorRequest
    mentee: Person
    waited_days: int
    matches: tuple[Match, ...]
    wishes: Wishes


@dataclass(frozen=True)
class MenteeNominated(Event):
    nomination: Nomination
    nominator: Person
    nominee: Person


# ---------------------------------------------------------------- refusals


@dataclass
class UnknownPerson(DomainError):
    """Nobody with this Matrix ID is known to the program (in the ``role`` asked for)."""

    matrix_id: str
    role: Role


@dataclass
class NotYourMentee(DomainError):
    """``matrix_id`` (``person``, if known) is not one of the mentor's mentees now."""

    matrix_id: str
    person: Person | None


@dataclass
class AlreadyHasMentor(DomainError):
    mentor: Person


@dataclass
class RequestStillOpen(DomainError):
    request: MentorRequest


@dataclass
class AlreadyRequested(DomainError):
    """An open request was made a moment ago (the database keeps one per mentee)."""


@dataclass
class NoOpenRequest(DomainError):
    pass


@dataclass
class NoMentorToChange(DomainError):
    pass


@dataclass
class ChangeAlreadyPending(DomainError):
    pass


@dataclass
class AlreadyLookingForMentor(DomainError):
    """A change was asked while a request for a new mentor is open."""

    request: MentorRequest


@dataclass
class NoMentorToEnd(DomainError):
    request: MentorRequest | None  # the request still open, if any


@dataclass
class NoSuchRequest(DomainError):
    number: int


@dataclass
class RequestClosed(DomainError):
    request: MentorRequest


@dataclass
class LeavingYou(DomainError):
    """The request is from a mentee moving on from this very mentor."""

    request: MentorRequest


@dataclass
class AlreadyDeclined(DomainError):
    request: MentorRequest


@dataclass
class MentorsThemself(DomainError):
    pass


@dataclass
class NotAMentor(DomainError):
    person: Person


@dataclass
class MentorInactive(DomainError):
    mentor: Person


@dataclass
class NoFreePlace(DomainError):
    mentor: Person
    load: int


@dataclass
class AlreadyTheirMentor(DomainError):
    mentor: Person
    mentee: Person


@dataclass
class RequestTaken(DomainError):
    """Someone else took the request a moment ago."""

    request: MentorRequest


@dataclass
class MentorshipRace(DomainError):
    """The mentor's last place or the mentee went a moment ago."""

    mentor: Person
    mentee: Person


@dataclass
class NotAMentee(DomainError):
    person: Person


@dataclass
class SelfNomination(DomainError):
    pass


# ---------------------------------------------------------------- lookups


async def active_of(session: Session, mentee_id: int) -> Mentorship | None:
    result = await session.exec(
        select(Mentorship).where(Mentorship.mentee_id == mentee_id, Mentorship.state == MentorshipState.ACTIVE)
    )
    return result.one_or_none()


async def active_with_mentor(session: Session, mentee_id: int) -> tuple[Mentorship, Person] | None:
    """The mentee's running mentorship and its mentor, in one statement; None if they have none."""
    row = (await session.exec(
        select(Mentorship, Person).join(Person, Person.id == Mentorship.mentor_id)
        .where(Mentorship.mentee_id == mentee_id, Mentorship.state == MentorshipState.ACTIVE)
    )).one_or_none()
    return None if row is None else (row[0], row[1])


async def open_request_of(session: Session, mentee_id: int) -> MentorRequest | None:
    result = await session.exec(
        select(MentorRequest).where(MentorRequest.mentee_id == mentee_id, MentorRequest.state.in_(OPEN_REQUEST_STATES))
    )
    return result.one_or_none()


async def pending_change_of(session: Session, mentorship_id: int) -> ChangeRequest | None:
    result = await session.exec(
        select(ChangeRequest).where(
            ChangeRequest.mentorship_id == mentorship_id, ChangeRequest.state == ChangeState.PENDING
        )
    )
    return result.one_or_none()


async def open_requests(session: Session, limit: int = 20) -> list[MentorRequest]:
    result = await session.exec(
        select(MentorRequest).where(MentorRequest.state.in_(OPEN_REQUEST_STATES)).order_by(MentorRequest.id).limit(limit)
    )
    return list(result.all())


async def count_open_requests(session: Session) -> int:
    result = await session.exec(
        select(func.count()).select_from(MentorRequest).where(MentorRequest.state.in_(OPEN_REQUEST_STATES))
    )
    return int(result.one())


@dataclass(frozen=True)
class Upcoming:
    """A mentorship's next check-in still ahead, and those whose time has passed without being
    marked (held or cancelled): a past one is not the next."""

    next: CheckIn | None
    unmarked: tuple[CheckIn, ...] = ()


async def next_checkin(session: Session, mentorship_id: int, now: datetime) -> Upcoming:
    planned = (await session.exec(
        select(CheckIn)
        .where(CheckIn.mentorship_id == mentorship_id, CheckIn.state == CheckInState.SCHEDULED)
        .order_by(CheckIn.due_at, CheckIn.id)
    )).all()
    # A past deadline with no time agreed (an orientation, a follow-up) was no meeting: the
    # program's rules tell the mentor of it; it is neither next nor waiting to be marked.
    return Upcoming(next((c for c in planned if c.due_at > now), None),
                    tuple(c for c in planned if c.due_at <= now and c.arranged))


async def person_by_id(session: Session, person_id: int) -> Person:
    person = await session.get(Person, person_id)
    assert person is not None
    return person



async def known_person(work: Work, matrix_id: str, role: Role) -> Person:
    """The person with this Matrix ID; refused (UnknownPerson) if the program does not know them."""
    person = await people.find(work.session, matrix_id)
    if person is None:
        raise UnknownPerson(matrix_id, role)
    return person


async def mentee_of(work: Work, mentor: Person, matrix_id: str) -> tuple[Person, Mentorship]:
    """One of ``mentor``'s mentees now, and their mentorship; refused (NotYourMentee) otherwise."""
    person = await people.find(work.session, matrix_id)
    current = await active_of(work.session, person.id) if person is not None else None
    if person is None or current is None or current.mentor_id != mentor.id:
        raise NotYourMentee(matrix_id, person)
    return person, current


async def mentees_of(session: Session, mentor_id: int) -> list[tuple[Mentorship, Person]]:
    """A mentor's active mentorships with their mentees, oldest first."""
    return list((await session.exec(
        select(Mentorship, Person)
        .join(Person, Person.id == Mentorship.mentee_id)
        .where(Mentorship.mentor_id == mentor_id, Mentorship.state == MentorshipState.ACTIVE)
        .order_by(Mentorship.started_at, Mentorship.id)
    )).all())


async def open_request(work: Work, number: int) -> MentorRequest:
    """Request ``number``, still waiting for a mentor; refused if there is none or it is closed."""
    request = await work.session.get(MentorRequest, number)
    if request is None:
        raise NoSuchRequest(number)
    if request.state not in (RequestState.OPEN, RequestState.PROPOSED, RequestState.ESCALATED):
        raise RequestClosed(request)
    return request


# What of a mentee's profile makes a better match, by the name of its profile field.
MATCHING_PROFILE = ("interests", "languages", "timezone")


async def missing_for_matching(session: Session, person: Person) -> list[str]:
    """The profile fields (``MATCHING_PROFILE``) this person has not filled in."""
    tags = await people.tags(session, person.id)
    present = {"interests": tags[TagKind.INTEREST], "languages": tags[TagKind.LANGUAGE], "timezone": person.timezone}
    return [name for name in MATCHING_PROFILE if not present[name]]


# ---------------------------------------------------------------- requests


# Requests a mentee makes in a day that mentors are told of at once. A person who asks and
# withdraws over and over does not get to send a mentor a DM each time: later requests of the
# day wait in the list mentors look at (and go to the council in time) without a notice.
REQUESTS_NOTIFIED_A_DAY = 3


async def may_notify_mentors(session: Session, mentee: Person, now: datetime) -> bool:
    """Whether a new request of this mentee is offered to mentors at once (see above)."""
    made = (await session.exec(select(func.count()).select_from(MentorRequest).where(
        MentorRequest.mentee_id == mentee.id, MentorRequest.created_at > now - timedelta(days=1)))).one()
    return made < REQUESTS_NOTIFIED_A_DAY


async def ask_for_mentor(work: Work, mentee: Person, topic: str) -> tuple[MentorRequest, bool]:
    """A mentee asks for a mentor. Returns the request and whether it was offered to mentors at
    once (see ``may_notify_mentors``). Refused while they have a mentor or an open request."""
    await check_may_ask(work.session, mentee)
    propose = await may_notify_mentors(work.session, mentee, work.now)
    return await create_request(work, mentee, topic, propose=propose), propose


async def check_may_ask(session: Session, mentee: Person) -> None:
    """Refuse a mentee who has a mentor (AlreadyHasMentor) or an open request (RequestStillOpen)."""
    current = await active_of(session, mentee.id)
    if current is not None:
        raise AlreadyHasMentor(await person_by_id(session, current.mentor_id))
    waiting = await open_request_of(session, mentee.id)
    if waiting is not None:
        raise RequestStillOpen(waiting)


async def create_request(
    work: Work, mentee: Person, topic: str, *, previous_mentor_id: int | None = None, actor: Person | None = None,
    propose: bool = True,
) -> MentorRequest:
    """A mentee asks for a mentor: store the request, then (unless ``propose`` is False) propose
    it to the best match."""
    request = MentorRequest(
        mentee_id=mentee.id,
        topic=topic,
        previous_mentor_id=previous_mentor_id,
        created_at=work.now,
        escalate_at=work.now + timedelta(days=work.policy.request_escalation_days),
    )
    work.session.add(request)
    try:
        await work.session.flush()
    except IntegrityError:
        raise AlreadyRequested() from None
    if not mentee.is_mentee:
        mentee.is_mentee = True
        mentee.updated_at = work.now
    audit.record(work.session, at=work.now, actor=actor or mentee, entity="request", entity_id=request.id,
                 action="requested", to_state=RequestState.OPEN.value)
    if propose:
        await propose_next(work, request, mentee)
    return request


async def propose_next(work: Work, request: MentorRequest, mentee: Person, *, announce: bool = True) -> Person | None:
    """Offer the request to the best available mentor (in a DM); the mentors room sees it
    without the mentee's name or words. Returns the mentor asked, or None if nobody fits."""
    matches = await matching.suggest(work.session, request, mentee, work.now, work.policy)
    wishes = await matching.wishes_of(work.session, mentee, work.policy)
    before = request.state.value
    if not matches:
        request.proposed_to_id, request.proposed_at = None, None
        if request.state is not RequestState.ESCALATED:  # the council keeps what it has
            request.state = RequestState.OPEN
        if before != request.state.value:
            audit.record(work.session, at=work.now, actor=None, entity="request", entity_id=request.id,
                         action="unproposed", from_state=before, to_state=request.state.value)
        if announce:
            work.emit(RequestWaiting(request, wishes))
        return None
    offer(work, request, mentee, matches[0], wishes, announce=announce)
    return matches[0].mentor


def offer(work: Work, request: MentorRequest, mentee: Person, match: Match, wishes: Wishes, *,
          announce: bool, actor: Person | None = None) -> None:
    """Offer the request to ``match.mentor`` (in a DM; ``announce``: the mentors room hears of it
    too, without the mentee's name or words). The mentor accepts or declines as usual."""
    before = request.state.value
    if request.state is not RequestState.ESCALATED:  # the council has it; an offer does not take it back
        request.state = RequestState.PROPOSED
    request.proposed_to_id, request.proposed_at = match.mentor.id, work.now
    audit.record(work.session, at=work.now, actor=actor, entity="request", entity_id=request.id,
                 action="proposed", from_state=before, to_state=request.state.value)
    work.emit(MentorProposed(request, mentee, match.mentor, match, wishes, announce))


async def withdraw(work: Work, mentee: Person) -> MentorRequest:
    """The mentee takes back their open request; refused (NoOpenRequest) if there is none."""
    request = await open_request_of(work.session, mentee.id)
    if request is None:
        raise NoOpenRequest()
    before = request.state.value
    request.state, request.closed_at = RequestState.WITHDRAWN, work.now
    audit.record(work.session, at=work.now, actor=mentee, entity="request", entity_id=request.id,
                 action="withdrawn", from_state=before, to_state=RequestState.WITHDRAWN.value)
    offered_to = await person_by_id(work.session, request.proposed_to_id) if request.proposed_to_id else None
    # A change of mentor called off: the mentor they stay with is told.
    staying = await person_by_id(work.session, request.previous_mentor_id) if request.previous_mentor_id else None
    work.emit(RequestWithdrawn(request, mentee, offered_to, staying))
    return request


async def decline(work: Work, request: MentorRequest, mentor: Person, reason: str | None) -> Person | None:
    """A mentor passes on a request; the next match is asked. Returns who was asked next.
    Refused (AlreadyDeclined) if this mentor passed on it before."""
    already = (await work.session.exec(
        select(func.count()).select_from(RequestDecline)
        .where(RequestDecline.request_id == request.id, RequestDecline.mentor_id == mentor.id)
    )).one()
    if already:
        raise AlreadyDeclined(request)
    work.session.add(RequestDecline(request_id=request.id, mentor_id=mentor.id, reason=reason, created_at=work.now))
    audit.record(work.session, at=work.now, actor=mentor, entity="request", entity_id=request.id,
                 action="declined", from_state=request.state.value, to_state=request.state.value)
    await work.session.flush()
    if request.proposed_to_id != mentor.id:
        return None
    mentee = await person_by_id(work.session, request.mentee_id)
    return await propose_next(work, request, mentee, announce=False)


# ---------------------------------------------------------------- mentorships


async def check_can_take(session: Session, mentor: Person, mentee: Person, now: datetime) -> None:
    """Refuse a mentor who may not take this mentee now."""
    if mentor.id == mentee.id:
        raise MentorsThemself()
    if not mentor.is_mentor:
        raise NotAMentor(mentor)
    if mentor.inactive:
        raise MentorInactive(mentor)
    load = await people.active_mentee_count(session, mentor.id)
    if load >= mentor.capacity:
        raise NoFreePlace(mentor, load)


async def accept(work: Work, request: MentorRequest, mentor: Person) -> Mentorship:
    """A mentor takes a request and becomes the mentee's mentor; not a request of a mentee
    who is moving on from them."""
    if request.previous_mentor_id == mentor.id:
        raise LeavingYou(request)
    mentee = await person_by_id(work.session, request.mentee_id)
    return await start(work, mentee, mentor, actor=mentor, request=request, how="accepted")


async def start(
    work: Work,
    mentee: Person,
    mentor: Person,
    *,
    actor: Person,
    request: MentorRequest | None,
    how: str,
) -> Mentorship:
    """Start a mentorship (accepted by the mentor, or assigned by the council).

    If the mentee already has one (a change of mentor), it ends here and its open
    check-ins move to the new mentor. The orientation session and its follow-up
    are scheduled.
    """
    await check_can_take(work.session, mentor, mentee, work.now)
    old = await active_of(work.session, mentee.id)
    if old is not None and old.mentor_id == mentor.id:
        raise AlreadyTheirMentor(mentor, mentee)
    if request is not None:
        before = request.state.value
        # Only one taker: the state moves once, whoever comes second sees it gone.
        result = await work.session.exec(
            update(MentorRequest)
            .where(MentorRequest.id == request.id, MentorRequest.state.in_(OPEN_REQUEST_STATES))
            .values(state=RequestState.ACCEPTED if how == "accepted" else RequestState.ASSIGNED, closed_at=work.now)
        )
        if result.rowcount != 1:
            raise RequestTaken(request)
        await work.session.refresh(request)
        audit.record(work.session, at=work.now, actor=actor, entity="request", entity_id=request.id,
                     action=how, from_state=before, to_state=request.state.value)
    moved: list[CheckIn] = []
    old_mentor: Person | None = None
    if old is not None:
        old_mentor = await person_by_id(work.session, old.mentor_id)
        moved = await _end(work, old, by=actor, reason=None, action="reassigned" if how == "reassigned" else "changed",
                           cancel_checkins=False)
    mentorship = Mentorship(
        mentee_id=mentee.id,
        mentor_id=mentor.id,
        request_id=request.id if request else None,
        started_at=work.now,
        commitment_ends_at=commitment_end(work.now, work.policy),
        midterm_at=midterm(work.now, work.policy),
    )
    work.session.add(mentorship)
    try:
        await work.session.flush()
    except IntegrityError:
        raise MentorshipRace(mentor, mentee) from None
    if not mentee.is_mentee:
        mentee.is_mentee = True
    audit.record(work.session, at=work.now, actor=actor, entity="mentorship", entity_id=mentorship.id,
                 action=how, to_state=MentorshipState.ACTIVE.value)
    for checkin in moved:
        await checkins.hand_over(work, checkin, mentorship, old.mentor_id)
    if not moved:
        _schedule_orientation(work, mentorship, mentee)
    await work.session.flush()
    work.emit(MentorshipStarted(mentorship, mentee, mentor, how, bool(moved), old_mentor, request))
    return mentorship


def orientation_due(work: Work) -> datetime:
    """By when a mentorship starting now holds its orientation session."""
    return work.now + timedelta(days=work.policy.orientation_within_days)


def _schedule_orientation(work: Work, mentorship: Mentorship, mentee: Person) -> None:
    zone = mentee.timezone or work.policy.timezone
    due = orientation_due(work)
    # Deadlines, not appointments: the first check-in the mentor plans takes the orientation's place.
    work.session.add(CheckIn(mentorship_id=mentorship.id, kind=CheckInKind.ORIENTATION, due_at=due,
                             timezone=zone, arranged=False, created_at=work.now))
    work.session.add(CheckIn(mentorship_id=mentorship.id, kind=CheckInKind.FOLLOWUP,
                             due_at=due + timedelta(days=work.policy.followup_days),
                             timezone=zone, arranged=False, created_at=work.now))


async def _end(
    work: Work, m: Mentorship, *, by: Person | None, reason: str | None, action: str, cancel_checkins: bool = True
) -> list[CheckIn]:
    """End a mentorship; returns its check-ins still planned (cancelled unless they move on)."""
    m.state, m.ended_at, m.ended_by_id, m.end_reason = MentorshipState.ENDED, work.now, by.id if by else None, reason
    audit.record(work.session, at=work.now, actor=by, entity="mentorship", entity_id=m.id,
                 action=action, from_state=MentorshipState.ACTIVE.value, to_state=MentorshipState.ENDED.value)
    change = await pending_change_of(work.session, m.id)
    if change is not None:
        change.state, change.decided_at = ChangeState.WITHDRAWN, work.now
        audit.record(work.session, at=work.now, actor=by, entity="change", entity_id=change.id,
                     action="withdrawn", from_state=ChangeState.PENDING.value, to_state=ChangeState.WITHDRAWN.value)
    planned = list((await work.session.exec(
        select(CheckIn).where(CheckIn.mentorship_id == m.id, CheckIn.state == CheckInState.SCHEDULED)
    )).all())
    if cancel_checkins:
        for checkin in planned:
            checkin.state = CheckInState.CANCELLED
    await work.session.flush()
    return planned


async def end(work: Work, m: Mentorship, *, by: Person, reason: str | None) -> None:
    """Either side ends the relationship; the other side is told, never the reason."""
    mentee = await person_by_id(work.session, m.mentee_id)
    mentor = await person_by_id(work.session, m.mentor_id)
    await _end(work, m, by=by, reason=reason, action="ended")
    by_mentee = by.id == mentee.id
    work.emit(MentorshipEnded(m, by, mentor if by_mentee else mentee, other_is_mentor=by_mentee))


async def end_as_mentee(work: Work, mentee: Person, reason: str | None) -> Person:
    """The mentee ends the relationship with their mentor; returns that mentor."""
    current = await active_of(work.session, mentee.id)
    if current is None:
        raise NoMentorToEnd(await open_request_of(work.session, mentee.id))
    mentor = await person_by_id(work.session, current.mentor_id)
    await end(work, current, by=mentee, reason=reason)
    return mentor


# ---------------------------------------------------------------- change of mentor


def change_is_free(m: Mentorship, mentor: Person, now: datetime, policy) -> FreeChange | None:
    """Why this mentee may change mentor without the council, or None if the council decides."""
    if now >= m.commitment_ends_at:
        return FreeChange.COMMITMENT_OVER
    if mentor.inactive or not mentor.is_mentor:
        return FreeChange.MENTOR_INACTIVE
    if mentor.away_until and mentor.away_until - now > timedelta(days=policy.away_change_days):
        return FreeChange.MENTOR_AWAY
    return None


async def ask_change(work: Work, mentee: Person, reason: str | None) -> ChangeRequest:
    """A mentee asks for another mentor. Free to (``change_is_free``): a new mentor is looked
    for at once; otherwise the council decides."""
    current = await active_of(work.session, mentee.id)
    if current is None:
        raise NoMentorToChange()
    if await pending_change_of(work.session, current.id) is not None:
        raise ChangeAlreadyPending()
    waiting = await open_request_of(work.session, mentee.id)
    if waiting is not None:
        raise AlreadyLookingForMentor(waiting)
    mentor = await person_by_id(work.session, current.mentor_id)
    free = change_is_free(current, mentor, work.now, work.policy)
    change = ChangeRequest(mentorship_id=current.id, reason=reason or None, created_at=work.now)
    work.session.add(change)
    await work.session.flush()
    audit.record(work.session, at=work.now, actor=mentee, entity="change", entity_id=change.id,
                 action="requested", to_state=ChangeState.PENDING.value)
    new_request = await approve_change(work, change, None) if free else None
    work.emit(ChangeRequested(change, current, mentee, mentor, free, new_request, reason_given=bool(reason)))
    return change


async def approve_change(work: Work, change: ChangeRequest, by: Person | None) -> MentorRequest:
    """The change may go ahead: look for a new mentor (the current one stays until then)."""
    m = await work.session.get(Mentorship, change.mentorship_id)
    assert m is not None
    mentee = await person_by_id(work.session, m.mentee_id)
    mentor = await person_by_id(work.session, m.mentor_id)
    before = change.state.value
    change.state, change.decided_at, change.decided_by_id = ChangeState.APPROVED, work.now, by.id if by else None
    audit.record(work.session, at=work.now, actor=by, entity="change", entity_id=change.id,
                 action="approved", from_state=before, to_state=ChangeState.APPROVED.value)
    work.emit(ChangeApproved(change, mentee, mentor, by))
    first = await work.session.get(MentorRequest, m.request_id) if m.request_id else None
    topic = first.topic if first is not None else ""
    return await create_request(work, mentee, topic, previous_mentor_id=mentor.id, actor=by or mentee)


# ---------------------------------------------------------------- mentors' availability


async def go_away(work: Work, mentor: Person, until: datetime) -> list[MentorRequest]:
    """A mentor takes no new mentees until ``until``; the requests offered to them go to the
    next mentor (returned). Their mentees stay with them."""
    mentor.away_until, mentor.updated_at = until, work.now
    audit.record(work.session, at=work.now, actor=mentor, entity="person", entity_id=mentor.id,
                 action="away", from_state="available", to_state="away")
    waiting = list((await work.session.exec(
        select(MentorRequest).where(MentorRequest.proposed_to_id == mentor.id,
                                    MentorRequest.state.in_((RequestState.PROPOSED, RequestState.ESCALATED)))
        .order_by(MentorRequest.id)
    )).all())
    for request in waiting:
        mentee = await person_by_id(work.session, request.mentee_id)
        await propose_next(work, request, mentee, announce=False)
    return waiting


def come_back(work: Work, mentor: Person) -> bool:
    """A mentor is back before their date; False if they were not away."""
    if not matching.is_away(mentor, work.now):
        return False
    mentor.away_until, mentor.updated_at = None, work.now
    audit.record(work.session, at=work.now, actor=mentor, entity="person", entity_id=mentor.id,
                 action="back", from_state="away", to_state="available")
    return True


# ---------------------------------------------------------------- recognition


async def nominee(work: Work, nominator: Person, matrix_id: str) -> Person:
    """Who a mentor may nominate for recognition: a mentee of the program, not themself."""
    person = await known_person(work, matrix_id, Role.MENTEE)
    if not person.is_mentee:
        raise NotAMentee(person)
    if person.id == nominator.id:
        raise SelfNomination()
    return person


async def nominate(work: Work, nominator: Person, person: Person, reason: str) -> Nomination:
    """A mentor nominates a mentee (see ``nominee``) for recognition; the council hears of it."""
    nomination = Nomination(nominator_id=nominator.id, nominee_id=person.id, reason=" ".join(reason.split()),
                            created_at=work.now)
    work.session.add(nomination)
    await work.session.flush()
    audit.record(work.session, at=work.now, actor=nominator, entity="nomination", entity_id=nomination.id,
                 action="nominated")
    work.emit(MenteeNominated(nomination, nominator, person))
    return nomination


# ---------------------------------------------------------------- escalation


async def escalate_due(work: Work) -> int:
    """Requests nobody took in time go to the council room. Returns how many."""
    due = (await work.session.exec(
        select(MentorRequest)
        .where(MentorRequest.state.in_((RequestState.OPEN, RequestState.PROPOSED)),
               MentorRequest.escalate_at <= work.now)
        .order_by(MentorRequest.id)
    )).all()
    for request in due:
        mentee = await person_by_id(work.session, request.mentee_id)
        before = request.state.value
        request.state, request.escalated_at = RequestState.ESCALATED, work.now
        audit.record(work.session, at=work.now, actor=None, entity="request", entity_id=request.id,
                     action="escalated", from_state=before, to_state=RequestState.ESCALATED.value)
        matches = await matching.suggest(work.session, request, mentee, work.now, work.policy)
        wishes = await matching.wishes_of(work.session, mentee, work.policy)
        work.emit(RequestEscalated(request, mentee, (work.now - request.created_at).days,
                                   tuple(matches[:SUGGESTIONS]), wishes))
    return len(due)
