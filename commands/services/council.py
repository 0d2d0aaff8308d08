"""The council's work on mentorships: assign and reassign mentors, decide changes of mentor,
keep the council's membership, and read the queue and a person's history (nominations: ``recognition``).

What the council may read of the reasons people gave comes from the visibility rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import select

from commands.kinds import RoomKind
from commands.services import audit, mentorships, people, visibility
from commands.services.errors import DomainError
from commands.services.people import mentor_named
from commands.services.visibility import Reader
from commands.services.work import Event, Work
from storage.models import (
    AuditEvent,
    ChangeRequest,
    ChangeState,
    MentorRequest,
    Mentorship,
    Person,
    RequestDecline,
    RequestState,
)

HISTORY_LIMIT = 40  # events of a person's history shown at once
COUNCIL = frozenset({Reader.COUNCIL})


# ---------------------------------------------------------------- refusals


@dataclass
class AboutYourself(DomainError):
    """A council member does not decide a request, change or assignment about themselves."""


@dataclass
class AlreadyHasMentor(DomainError):
    mentee: Person
    mentor: Person  # their mentor now
    asked: Person  # the mentor the council wanted to assign


@dataclass
class NoMentorToMoveFrom(DomainError):
    mentee: str  # Matrix IDs, as typed
    mentor: str


@dataclass
class NoSuchChange(DomainError):
    number: int


@dataclass
class ChangeAlreadyDecided(DomainError):
    number: int
    state: ChangeState


@dataclass
class NotOnCouncil(DomainError):
    matrix_id: str


@dataclass
class OnlyCouncilMember(DomainError):
    matrix_id: str


@dataclass
class AlreadyOnCouncil(DomainError):
    matrix_id: str


@dataclass
class CouncilRightsFromRoom(DomainError):
    """``council add`` for someone the council never removed: the council room gives the rights."""

    matrix_id: str


@dataclass
class UnknownPerson(DomainError):
    matrix_id: str


# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class ChangeApproved(Event):
    """The mentee's change of mentor may go ahead; a new mentor is looked for (``request``)."""

    mentee: Person
    request_id: int


@dataclass(frozen=True)
class ChangeRefused(Event):
    mentee: Person
    note: str | None  # the council's note to the mentee, if any


# ---------------------------------------------------------------- assigning mentors


def check_not_about_self(by: str, *involved: Person | None) -> None:
    """A council member (``by``) does not decide a request, change or assignment about themselves."""
    if any(p is not None and p.matrix_id == by for p in involved):
        raise AboutYourself()


@dataclass(frozen=True)
class Assigned:
    mentee: Person
    mentor: Person
    closed_request_id: int | None  # the mentee's open request, closed by the assignment


async def assign(work: Work, by: str, mentee_id: str, mentor_id: str) -> Assigned:
    """Give a mentee a mentor directly; their open request, if any, is closed."""
    actor = await people.ensure(work.session, by, work.now)
    mentee = await people.ensure(work.session, mentee_id, work.now)
    mentor = await mentor_named(work.session, mentor_id)
    check_not_about_self(by, mentee, mentor)
    current = await mentorships.active_of(work.session, mentee.id)
    if current is not None:
        raise AlreadyHasMentor(mentee, await mentorships.person_by_id(work.session, current.mentor_id), mentor)
    request = await mentorships.open_request_of(work.session, mentee.id)
    await mentorships.start(work, mentee, mentor, actor=actor, request=request, how="assigned")
    return Assigned(mentee, mentor, request.id if request else None)


async def reassign(work: Work, by: str, mentee_id: str, mentor_id: str) -> Assigned:
    """Move a mentee to another mentor; a change of mentor they asked for is approved by it."""
    actor = await people.ensure(work.session, by, work.now)
    mentee = await people.find(work.session, mentee_id)
    current = await mentorships.active_of(work.session, mentee.id) if mentee else None
    if mentee is None or current is None:
        raise NoMentorToMoveFrom(mentee_id, mentor_id)
    mentor = await mentor_named(work.session, mentor_id)
    check_not_about_self(by, mentee, mentor, await mentorships.person_by_id(work.session, current.mentor_id))
    request = await mentorships.open_request_of(work.session, mentee.id)
    change = await mentorships.pending_change_of(work.session, current.id)
    if change is not None:
        _decide(work, change, ChangeState.APPROVED, actor)
    await mentorships.start(work, mentee, mentor, actor=actor, request=request, how="reassigned")
    return Assigned(mentee, mentor, request.id if request else None)


# ---------------------------------------------------------------- changes of mentor


def _decide(work: Work, change: ChangeRequest, state: ChangeState, by: Person) -> None:
    before = change.state.value
    change.state, change.decided_at, change.decided_by_id = state, work.now, by.id
    audit.record(work.session, at=work.now, actor=by, entity="change", entity_id=change.id,
                 action=state.value, from_state=before, to_state=state.value)


async def pending_change(work: Work, number: int) -> ChangeRequest:
    """The change request ``number``, still waiting for the council's decision."""
    change = await work.session.get(ChangeRequest, number)
    if change is None:
        raise NoSuchChange(number)
    if change.state is not ChangeState.PENDING:
        raise ChangeAlreadyDecided(number, change.state)
    return change


async def _mentee_of_change(work: Work, by: str, change: ChangeRequest) -> Person:
    m = await work.session.get(Mentorship, change.mentorship_id)
    assert m is not None
    mentee = await mentorships.person_by_id(work.session, m.mentee_id)
    check_not_about_self(by, mentee, await mentorships.person_by_id(work.session, m.mentor_id))
    return mentee


async def approve_change(work: Work, by: str, number: int) -> tuple[Person, MentorRequest]:
    """Approve a mentee's change of mentor: a new mentor is looked for. Returns the mentee and
    their new request."""
    actor = await people.ensure(work.session, by, work.now)
    change = await pending_change(work, number)
    mentee = await _mentee_of_change(work, by, change)
    request = await mentorships.approve_change(work, change, actor)
    work.emit(ChangeApproved(mentee, request.id))
    return mentee, request


async def refuse_change(work: Work, by: str, number: int, note: str | None) -> Person:
    """Refuse a mentee's change of mentor; ``note`` goes to the mentee only. Returns the mentee."""
    actor = await people.ensure(work.session, by, work.now)
    change = await pending_change(work, number)
    mentee = await _mentee_of_change(work, by, change)
    _decide(work, change, ChangeState.REFUSED, actor)
    work.emit(ChangeRefused(mentee, note))
    return mentee


# ---------------------------------------------------------------- the council's members


@dataclass(frozen=True)
class CouncilChange:
    person: Person
    named_in_config: bool  # the configuration's council list names them
    on_council: bool  # on the council now


async def remove_from_council(work: Work, by: str, matrix_id: str) -> CouncilChange:
    """Take someone off the council at once, even if the configuration names them; neither the
    configuration nor the council room gives them their rights back (``add_to_council`` does)."""
    subject = await people.find(work.session, matrix_id)
    if not people.is_council(matrix_id, subject, work.policy):
        raise NotOnCouncil(matrix_id)
    if await people.council_members(work.session, work.policy) == [matrix_id]:
        raise OnlyCouncilMember(matrix_id)
    subject = subject or await people.ensure(work.session, matrix_id, work.now)
    subject.council_removed_at, subject.updated_at = work.now, work.now
    audit.record(work.session, at=work.now, actor=await people.ensure(work.session, by, work.now), entity="person",
                 entity_id=subject.id, action="council_removed", from_state="council", to_state="member")
    return CouncilChange(subject, matrix_id in work.policy.council, on_council=False)


async def add_to_council(work: Work, by: str, matrix_id: str) -> CouncilChange:
    """End a council removal. The rights come back from the council room or the configuration."""
    subject = await people.find(work.session, matrix_id)
    if subject is None and matrix_id in work.policy.council:
        subject = await people.ensure(work.session, matrix_id, work.now)  # a removal kept past an erasure
    if people.is_council(matrix_id, subject, work.policy):
        raise AlreadyOnCouncil(matrix_id)
    if subject is None or subject.council_removed_at is None:
        raise CouncilRightsFromRoom(matrix_id)
    await people.end_council_removal(work.session, subject)
    subject.updated_at = work.now
    audit.record(work.session, at=work.now, actor=await people.ensure(work.session, by, work.now), entity="person",
                 entity_id=subject.id, action="council_added", from_state="member", to_state="council")
    return CouncilChange(subject, matrix_id in work.policy.council,
                         on_council=people.is_council(matrix_id, subject, work.policy))


# ---------------------------------------------------------------- what the council reads


@dataclass(frozen=True)
class WaitingChange:
    change: ChangeRequest
    mentee: Person
    mentor: Person
    reason: str | None  # None when not given, or not to be read where it is asked for


@dataclass(frozen=True)
class Queue:
    escalated: list[tuple[MentorRequest, Person]]  # requests nobody took, with their mentee
    changes: list[WaitingChange]
    reasons_shown: bool  # the reasons may be read where the queue was asked for
    open_requests: int  # requests still in matching


async def queue(work: Work, room: RoomKind) -> Queue:
    """What waits for the council: escalated requests and changes of mentor to decide."""
    shown = visibility.may_read("change_request.reason", COUNCIL, room)
    escalated = (await work.session.exec(
        select(MentorRequest).where(MentorRequest.state == RequestState.ESCALATED).order_by(MentorRequest.id)
    )).all()
    changes = (await work.session.exec(
        select(ChangeRequest).where(ChangeRequest.state == ChangeState.PENDING).order_by(ChangeRequest.id)
    )).all()
    waiting = await mentorships.count_open_requests(work.session)
    requests = [(r, await mentorships.person_by_id(work.session, r.mentee_id)) for r in escalated]
    decide = []
    for c in changes:
        m = await work.session.get(Mentorship, c.mentorship_id)
        assert m is not None
        decide.append(WaitingChange(c, await mentorships.person_by_id(work.session, m.mentee_id),
                                    await mentorships.person_by_id(work.session, m.mentor_id),
                                    c.reason if shown else None))
    return Queue(requests, decide, shown, waiting)


@dataclass(frozen=True)
class Reason:
    """A reason someone gave: ``kind`` is ``ended`` (a mentorship), ``change`` or ``declined`` (a request)."""

    kind: str
    number: int
    text: str


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    entity: str
    entity_id: int
    action: str
    from_state: str | None
    to_state: str | None
    actor: Person | None  # None: the bot


@dataclass(frozen=True)
class History:
    subject: Person
    entries: list[HistoryEntry]  # the last HISTORY_LIMIT, oldest first
    total: int  # how many events there are in all
    reasons: list[Reason]  # those that may be read where the history was asked for
    reasons_withheld: bool  # some kinds of reason may not be read there


REASON_FIELDS = {"ended": "mentorship.end_reason", "change": "change_request.reason",
                 "declined": "request_decline.reason"}


async def history(work: Work, matrix_id: str, room: RoomKind) -> History:
    """A person's requests and mentorships: every change, who made it and when, and the reasons
    given, as far as the council may read them in ``room``."""
    subject = await people.find(work.session, matrix_id)
    if subject is None:
        raise UnknownPerson(matrix_id)
    readable = {kind: visibility.may_read(f, COUNCIL, room) for kind, f in REASON_FIELDS.items()}
    session = work.session
    requests = (await session.exec(select(MentorRequest).where(MentorRequest.mentee_id == subject.id))).all()
    ships = (await session.exec(
        select(Mentorship).where(or_(Mentorship.mentee_id == subject.id, Mentorship.mentor_id == subject.id))
    )).all()
    ship_ids = [m.id for m in ships]
    changes = (await session.exec(select(ChangeRequest).where(ChangeRequest.mentorship_id.in_(ship_ids)))).all() \
        if ship_ids else []
    wanted = (
        [("request", r.id) for r in requests] + [("mentorship", i) for i in ship_ids]
        + [("change", c.id) for c in changes] + [("person", subject.id)]
    )
    conditions = [(AuditEvent.entity == e) & (AuditEvent.entity_id == i) for e, i in wanted]
    events = (await session.exec(
        select(AuditEvent).where(or_(*conditions)).order_by(AuditEvent.at, AuditEvent.id)
    )).all()
    actors = {p.id: p for p in (await session.exec(
        select(Person).where(Person.id.in_({e.actor_id for e in events if e.actor_id}))
    )).all()} if events else {}
    entries = [HistoryEntry(e.at, e.entity, e.entity_id, e.action, e.from_state, e.to_state, actors.get(e.actor_id))
               for e in events[-HISTORY_LIMIT:]]
    reasons: list[Reason] = []
    if readable["ended"]:
        reasons += [Reason("ended", m.id, m.end_reason) for m in ships if m.end_reason]
    if readable["change"]:
        reasons += [Reason("change", c.id, c.reason) for c in changes if c.reason]
    if readable["declined"] and requests:
        declines = (await session.exec(
            select(RequestDecline).where(RequestDecline.request_id.in_([r.id for r in requests]),
                                         RequestDecline.reason.is_not(None))
        )).all()
        reasons += [Reason("declined", d.request_id, d.reason) for d in declines]
    return History(subject, entries, len(events), reasons, reasons_withheld=not all(readable.values()))
