"""The relationship lifecycle: request, proposal, acceptance, change and end.

Every function works inside one unit of work (a command or a scheduled job):
it changes the tables, records the change in the audit trail, and queues the
messages that tell each person what concerns them. Reasons people give (for a
decline, a change, an end) are stored, never sent to a shared room.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from commands import text
from commands.clock import add_months
from commands.services.work import Work
from commands.framework import CommandError, RoomKind
from commands.messages import Target
from commands.services import audit, checkins, matching, people
from commands.text import Msg, bold
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
    Person,
    RequestDecline,
    RequestState,
    TagKind,
)

SUGGESTIONS = 3  # matches shown with a request


def day(when: datetime, zone: ZoneInfo) -> str:
    return f"{when.astimezone(zone):%Y-%m-%d}"


def who(person: Person) -> text.Node:
    """A person named in a message about them (linked, not pinged)."""
    return text.person(person.matrix_id, people.name_of(person))


# ---------------------------------------------------------------- lookups


async def active_of(session: AsyncSession, mentee_id: int) -> Mentorship | None:
    result = await session.exec(
        select(Mentorship).where(Mentorship.mentee_id == mentee_id, Mentorship.state == MentorshipState.ACTIVE)
    )
    return result.one_or_none()


async def open_request_of(session: AsyncSession, mentee_id: int) -> MentorRequest | None:
    result = await session.exec(
        select(MentorRequest).where(MentorRequest.mentee_id == mentee_id, MentorRequest.state.in_(OPEN_REQUEST_STATES))
    )
    return result.one_or_none()


async def pending_change_of(session: AsyncSession, mentorship_id: int) -> ChangeRequest | None:
    result = await session.exec(
        select(ChangeRequest).where(
            ChangeRequest.mentorship_id == mentorship_id, ChangeRequest.state == ChangeState.PENDING
        )
    )
    return result.one_or_none()


async def open_requests(session: AsyncSession, limit: int = 20) -> list[MentorRequest]:
    result = await session.exec(
        select(MentorRequest).where(MentorRequest.state.in_(OPEN_REQUEST_STATES)).order_by(MentorRequest.id).limit(limit)
    )
    return list(result.all())


async def count_open_requests(session: AsyncSession) -> int:
    result = await session.exec(
        select(func.count()).select_from(MentorRequest).where(MentorRequest.state.in_(OPEN_REQUEST_STATES))
    )
    return int(result.one())


async def next_checkin(session: AsyncSession, mentorship_id: int) -> CheckIn | None:
    result = await session.exec(
        select(CheckIn)
        .where(CheckIn.mentorship_id == mentorship_id, CheckIn.state == CheckInState.SCHEDULED)
        .order_by(CheckIn.due_at, CheckIn.id)
        .limit(1)
    )
    return result.first()


async def person_by_id(session: AsyncSession, person_id: int) -> Person:
    person = await session.get(Person, person_id)
    assert person is not None
    return person


async def people_by_id(session: AsyncSession, person_ids) -> dict[int, Person]:
    """Several people at once, by id: one statement, not one per person."""
    ids = set(person_ids)
    if not ids:
        return {}
    return {p.id: p for p in (await session.exec(select(Person).where(Person.id.in_(ids)))).all()}


async def request_summary(session: AsyncSession, request: MentorRequest, mentee: Person, policy) -> Msg:
    """What a shared room may see of a request: no name, no words of the mentee's."""
    wishes = await matching.wishes_of(session, mentee, policy)
    interests = ", ".join(wishes.interests) or "not given"
    languages = ", ".join(wishes.languages) or "not given"
    return Msg(f"interests: {interests}; languages: {languages}; time zone: {wishes.zone}")


# ---------------------------------------------------------------- requests


# Requests a mentee makes in a day that mentors are told of at once. A person who asks and
# withdraws over and over does not get to send a mentor a DM each time: later requests of the
# day wait in the list mentors look at (and go to the council in time) without a notice.
REQUESTS_NOTIFIED_A_DAY = 3


async def may_notify_mentors(session: AsyncSession, mentee: Person, now: datetime) -> bool:
    """Whether a new request of this mentee is offered to mentors at once (see above)."""
    made = (await session.exec(select(func.count()).select_from(MentorRequest).where(
        MentorRequest.mentee_id == mentee.id, MentorRequest.created_at > now - timedelta(days=1)))).one()
    return made < REQUESTS_NOTIFIED_A_DAY


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
        raise CommandError(Msg("You already have an open request for a mentor. Send ", work.typed("status", RoomKind.DM),
                               " to see it.")) from None
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
    summary = await request_summary(work.session, request, mentee, work.policy)
    before = request.state.value
    if not matches:
        request.proposed_to_id, request.proposed_at = None, None
        if request.state is not RequestState.ESCALATED:  # the council keeps what it has
            request.state = RequestState.OPEN
        if before != request.state.value:
            audit.record(work.session, at=work.now, actor=None, entity="request", entity_id=request.id,
                         action="unproposed", from_state=before, to_state=request.state.value)
        if announce:
            work.send(Target.mentors(), Msg(
                bold(f"Request #{request.id} needs a mentor"), f": {summary.plain()}. No mentor with a free place "
                "fits right now. Any mentor can take it with ", work.typed(f"accept {request.id}", RoomKind.MENTORS), ".",
            ))
        return None
    best = matches[0].mentor
    if request.state is RequestState.ESCALATED:
        # The council has it; a new proposal does not take it back.
        pass
    else:
        request.state = RequestState.PROPOSED
    request.proposed_to_id, request.proposed_at = best.id, work.now
    audit.record(work.session, at=work.now, actor=None, entity="request", entity_id=request.id,
                 action="proposed", from_state=before, to_state=request.state.value)
    zone = people.zone_of(best, work.policy)
    work.send(Target.dm(best.matrix_id), Msg(
        text.lines(
            Msg(bold(f"Request #{request.id}"), " from ", who(mentee), " may suit you (",
                matches[0].reason(), ")."),
            _their_words(request),
            Msg(summary.plain()[0].upper(), summary.plain()[1:], "."),
            Msg("Take it with ", work.typed(f"accept {request.id}", RoomKind.DM), ", or pass with ",
                work.typed(f"decline {request.id}", RoomKind.DM), " (a reason is optional and stays with the council). ",
                f"If nobody takes it by {day(request.escalate_at or work.now, zone)}, it goes to the council."),
        )
    ))
    if announce:
        work.send(Target.mentors(), Msg(
            bold(f"Request #{request.id} needs a mentor"), f": {summary.plain()}. I have asked ", who(best),
            "; any mentor with a free place can take it with ", work.typed(f"accept {request.id}", RoomKind.MENTORS), ".",
        ))
    return best


def _their_words(request: MentorRequest) -> Msg:
    if not request.previous_mentor_id:
        return Msg("They wrote: ", request.topic)
    if request.topic:
        return Msg("They are changing mentor. When they first asked, they wrote: ", request.topic)
    return Msg("They are changing mentor.")


async def withdraw(work: Work, request: MentorRequest, mentee: Person) -> None:
    before = request.state.value
    request.state, request.closed_at = RequestState.WITHDRAWN, work.now
    audit.record(work.session, at=work.now, actor=mentee, entity="request", entity_id=request.id,
                 action="withdrawn", from_state=before, to_state=RequestState.WITHDRAWN.value)
    if request.proposed_to_id:
        mentor = await person_by_id(work.session, request.proposed_to_id)
        work.send(Target.dm(mentor.matrix_id), Msg(f"Request #{request.id} was withdrawn; nothing to do."))
    if request.previous_mentor_id:  # a change of mentor called off: the mentor they stay with is told
        current = await person_by_id(work.session, request.previous_mentor_id)
        work.send(Target.dm(current.matrix_id), Msg(
            who(mentee), " no longer looks for another mentor: you remain their mentor."))


async def decline(work: Work, request: MentorRequest, mentor: Person, reason: str | None) -> Person | None:
    """A mentor passes on a request; the next match is asked. Returns who was asked next."""
    work.session.add(RequestDecline(request_id=request.id, mentor_id=mentor.id, reason=reason, created_at=work.now))
    audit.record(work.session, at=work.now, actor=mentor, entity="request", entity_id=request.id,
                 action="declined", from_state=request.state.value, to_state=request.state.value)
    await work.session.flush()
    if request.proposed_to_id != mentor.id:
        return None
    mentee = await person_by_id(work.session, request.mentee_id)
    return await propose_next(work, request, mentee, announce=False)


# ---------------------------------------------------------------- mentorships


async def check_can_take(session: AsyncSession, mentor: Person, mentee: Person, now: datetime) -> None:
    """Refuse, in plain words, a mentor who may not take this mentee now."""
    if mentor.id == mentee.id:
        raise CommandError("A mentor cannot mentor themselves.")
    if not mentor.is_mentor:
        raise CommandError(Msg(who(mentor), " is not a mentor. The council adds mentors with ", text.code("mentor add"), "."))
    if mentor.inactive:
        raise CommandError(Msg(who(mentor), " is inactive and takes no new mentees."))
    load = await people.active_mentee_count(session, mentor.id)
    if load >= mentor.capacity:
        raise CommandError(Msg(
            who(mentor), f" has no free place ({load} of {mentor.capacity} mentees). "
            "A mentor can raise their capacity with ", text.code("profile capacity <number>"), ".",
        ))


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
        raise CommandError(Msg(who(mentor), " is already ", who(mentee), "'s mentor."))
    if request is not None:
        before = request.state.value
        # Only one taker: the state moves once, whoever comes second sees it gone.
        result = await work.session.exec(
            update(MentorRequest)
            .where(MentorRequest.id == request.id, MentorRequest.state.in_(OPEN_REQUEST_STATES))
            .values(state=RequestState.ACCEPTED if how == "accepted" else RequestState.ASSIGNED, closed_at=work.now)
        )
        if result.rowcount != 1:
            raise CommandError(f"Request #{request.id} was taken a moment ago; nothing changed.")
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
        commitment_ends_at=add_months(work.now, work.policy.commitment_months),
    )
    work.session.add(mentorship)
    try:
        await work.session.flush()
    except IntegrityError:
        raise CommandError(Msg(
            "That did not go through: ", who(mentor), " has no free place, or ", who(mentee),
            " got a mentor a moment ago. Nothing changed; send ", text.code("status"), " or ",
            text.code("requests"), " to see where things stand.",
        )) from None
    if not mentee.is_mentee:
        mentee.is_mentee = True
    audit.record(work.session, at=work.now, actor=actor, entity="mentorship", entity_id=mentorship.id,
                 action=how, to_state=MentorshipState.ACTIVE.value)
    for checkin in moved:
        await checkins.hand_over(work, checkin, mentorship, old.mentor_id)
    if not moved:
        _schedule_orientation(work, mentorship, mentee)
    await work.session.flush()
    _welcome(work, mentorship, mentee, mentor, how, checkins_moved=bool(moved), previous=old_mentor)
    if request is not None:
        work.send(Target.mentors(), Msg(f"Request #{request.id} is taken: ", who(mentor), " is the mentor now. Thank you!"))
    return mentorship


def _schedule_orientation(work: Work, mentorship: Mentorship, mentee: Person) -> None:
    zone = mentee.timezone or work.policy.timezone
    orientation_due = work.now + timedelta(days=work.policy.orientation_within_days)
    # Deadlines, not appointments: the first check-in the mentor plans takes the orientation's place.
    work.session.add(CheckIn(mentorship_id=mentorship.id, kind=CheckInKind.ORIENTATION, due_at=orientation_due,
                             timezone=zone, arranged=False, created_at=work.now))
    work.session.add(CheckIn(mentorship_id=mentorship.id, kind=CheckInKind.FOLLOWUP,
                             due_at=orientation_due + timedelta(days=work.policy.followup_days),
                             timezone=zone, arranged=False, created_at=work.now))


def _welcome(work: Work, m: Mentorship, mentee: Person, mentor: Person, how: str, *,
             checkins_moved: bool, previous: Person | None) -> None:
    """Tell the mentee, the new mentor and (on a change) the previous mentor what concerns them."""
    mentee_zone, mentor_zone = people.zone_of(mentee, work.policy), people.zone_of(mentor, work.policy)
    orientation = work.now + timedelta(days=work.policy.orientation_within_days)
    by = " (assigned by the council)" if how in ("assigned", "reassigned") else ""
    if not checkins_moved:
        plan = (f" First comes an orientation session of about an hour, by {day(orientation, mentee_zone)}, "
                "to agree your goals and how you keep in touch; a follow-up comes "
                f"{work.policy.followup_days} days after it.")
    else:
        plan = " Your planned check-ins move to your new mentor."
    work.send(Target.dm(mentee.matrix_id), Msg(
        "Welcome! ", text.mention(mentor.matrix_id, people.name_of(mentor)), f" is your mentor now{by}. ",
        f"You are committed to each other until {day(m.commitment_ends_at, mentee_zone)}.", plan,
        " Send ", work.typed("status", RoomKind.DM), " any time to see where things stand.",
    ))
    work.send(Target.dm(mentor.matrix_id), Msg(
        "Welcome your new mentee ", text.mention(mentee.matrix_id, people.name_of(mentee)), f"{by}! ",
        f"The commitment runs until {day(m.commitment_ends_at, mentor_zone)}. ",
        (f"Please arrange the orientation session by {day(orientation, mentor_zone)}." if not checkins_moved
         else "They are changing mentor, so their planned check-ins are yours now."),
        " Send ", work.typed("mentees", RoomKind.DM), " to see everyone you mentor.",
    ))
    if previous is not None:
        work.send(Target.dm(previous.matrix_id), Msg(
            who(mentee), " has moved to a new mentor, so your mentorship with them has ended. "
            "Thank you for the time you gave them!",
        ))


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
    other, other_role = (mentor, "mentor") if by.id == mentee.id else (mentee, "mentee")
    work.send(Target.dm(other.matrix_id), Msg(
        who(by), " has ended your mentorship", " with you" if other_role == "mentor" else "",
        ". Their planned check-ins are cancelled. Thank you for the time you spent together.",
        "" if other_role == "mentor" else Msg(
            " If you want another mentor, send ", work.typed("request <what you want help with>", RoomKind.DM), "."),
    ))


# ---------------------------------------------------------------- change of mentor


def change_is_free(m: Mentorship, mentor: Person, now: datetime, policy) -> str | None:
    """Why this mentee may change mentor without the council, or None if the council decides."""
    if now >= m.commitment_ends_at:
        return "the commitment is over"
    if mentor.inactive or not mentor.is_mentor:
        return "your mentor is inactive"
    if mentor.away_until and mentor.away_until - now > timedelta(days=policy.away_change_days):
        return f"your mentor is away for more than {policy.away_change_days} days"
    return None


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
    if by is not None:
        work.send(Target.dm(mentor.matrix_id), Msg(
            who(mentee), " will move to another mentor. You remain their mentor until a new one takes over; "
            "I will tell you when that happens.",
        ))
    first = await work.session.get(MentorRequest, m.request_id) if m.request_id else None
    topic = first.topic if first is not None else ""
    return await create_request(work, mentee, topic, previous_mentor_id=mentor.id, actor=by or mentee)


def tags_line(tags: dict[TagKind, list[str]], kind: TagKind) -> str:
    return ", ".join(tags[kind]) or "(not set)"


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
        waited = (work.now - request.created_at).days
        suggestion = (Msg(" Best available: ", text.join(Msg(who(x.mentor), f" ({x.reason()})") for x in matches[:SUGGESTIONS]), ".")
                      if matches else Msg(" No mentor has a free place right now."))
        work.send(Target.council(), Msg(
            bold(f"Request #{request.id} has waited {waited} days"), " and nobody took it: ", who(mentee), " asked for a mentor (",
            (await request_summary(work.session, request, mentee, work.policy)).plain(), ").", suggestion,
            " Assign one with ", work.typed(f"assign {mentee.matrix_id} <mentor>", RoomKind.COUNCIL), ".",
        ), notify=True)
        work.send(Target.dm(mentee.matrix_id), Msg(
            f"Your request #{request.id} has not found a mentor yet, so I have passed it to the council, "
            "who will find you one. Thank you for your patience.",
        ))
    return len(due)
