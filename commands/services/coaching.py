"""Single coaching sessions: anyone asks a mentor from the coach pool for one session on a skill.

No mentorship comes of it: the coach's mentees and capacity stay as they are. An accepted
session is one check-in (``CheckIn.coaching_id``) with the reminders every check-in gets,
for both people. Each coach gives at most their own number of sessions a month
(``Person.coaching_per_month``, else the program's ``coaching_sessions_per_month``), counted
in the month the session takes place, in the coach's time zone.

The honest rule for "held": a session counts as held once its time has passed and neither
side cancelled it (:func:`settle`, run with the program's rules); nobody is asked to mark it.
An ask its coach has not answered by the time asked lapses then, and the asker is told.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_
from sqlmodel import select

from commands.clock import add_months
from commands.policy import ProgramPolicy
from commands.services import audit, checkins, matching, mentorships, people
from commands.services.errors import DomainError
from commands.services.work import Event, Work
from storage.models import (
    OPEN_COACHING_STATES,
    CheckIn,
    CheckInKind,
    CheckInState,
    CoachingSession,
    CoachingState,
    Person,
    TagKind,
)
from storage.session import Session

# Sessions that take up a place in the coach's month.
TAKING_A_PLACE = (CoachingState.ACCEPTED, CoachingState.HELD)


# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class CoachingAsked(Event):
    """``asker`` asks ``coach`` for a session: the coach must notice and answer."""

    coaching: CoachingSession
    asker: Person
    coach: Person


@dataclass(frozen=True)
class CoachingAccepted(Event):
    """The coach said yes: the asker hears of the session planned, and of its reminders."""

    coaching: CoachingSession
    checkin: CheckIn
    asker: Person
    coach: Person


@dataclass(frozen=True)
class CoachingDeclined(Event):
    """The coach said no (``reason``, if given, is for the asker alone)."""

    coaching: CoachingSession
    asker: Person
    coach: Person


@dataclass(frozen=True)
class CoachingCancelled(Event):
    """``by`` cancelled the session (or took back the ask): ``other`` is told."""

    coaching: CoachingSession
    by: Person
    other: Person


@dataclass(frozen=True)
class CoachingLapsed(Event):
    """The time asked came before the coach answered: the asker is told."""

    coaching: CoachingSession
    asker: Person
    coach: Person


# ---------------------------------------------------------------- refusals


@dataclass
class NotInCoachPool(DomainError):
    """The person asked is not an available mentor with skills listed."""

    matrix_id: str


@dataclass
class CoachingYourself(DomainError):
    """Asking oneself for a session."""


@dataclass
class SkillNotOffered(DomainError):
    """The coach does not list a skill like the one asked."""

    coach: Person
    skill: str
    skills: tuple[str, ...]


@dataclass
class NotTakingSessions(DomainError):
    """The coach takes no single sessions (their limit is 0); ``others`` offer the skill."""

    coach: Person
    skill: str
    others: tuple[Person, ...]


@dataclass
class CoachFull(DomainError):
    """The coach gives no more sessions in the month of the time asked; ``others`` offer the skill."""

    coach: Person
    skill: str
    month: datetime  # the first of that month, in the coach's zone
    limit: int
    others: tuple[Person, ...]


@dataclass
class AlreadyAsked(DomainError):
    """An ask to this coach still waits for their answer."""

    coaching_id: int
    coach: Person


@dataclass
class NoSuchCoaching(DomainError):
    """No coaching session with this number that the sender takes part in (on that side)."""

    number: int


@dataclass
class CoachingAlreadyDecided(DomainError):
    """The ask was answered (or taken back, or lapsed) already."""

    number: int
    state: CoachingState


@dataclass
class CoachingTimePassed(DomainError):
    """The time asked has come: too late to accept (or to cancel)."""

    number: int
    starts_at: datetime


@dataclass
class MonthFull(DomainError):
    """Accepting would take the coach over their own limit for that month."""

    number: int
    month: datetime
    limit: int


@dataclass
class CoachDeclinesAnAsk(DomainError):
    """A coach answers an ask with decline, not cancel."""

    number: int


# ---------------------------------------------------------------- the rules


def set_monthly_limit(work: Work, coach: Person, sessions: int) -> None:
    """``coach`` gives at most ``sessions`` single sessions a month from now (0: none, out of the pool)."""
    before = people.coaching_limit(coach, work.policy)
    coach.coaching_per_month, coach.updated_at = sessions, work.now
    audit.record(work.session, at=work.now, actor=coach, entity="person", entity_id=coach.id,
                 action="coaching_limit", from_state=str(before), to_state=str(sessions))


def month_around(when: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The calendar month (in ``zone``) that ``when`` falls in: its first instant, and the next month's."""
    local = when.astimezone(zone)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return start, add_months(start, 1)


async def sessions_in_month(session: Session, coach: Person, when: datetime, policy: ProgramPolicy) -> int:
    """How many sessions (accepted or held) ``coach`` gives in the month of ``when``, in their zone."""
    start, end = month_around(when, people.zone_of(coach, policy))
    return int((await session.exec(
        select(func.count()).select_from(CoachingSession).where(
            CoachingSession.coach_id == coach.id, CoachingSession.starts_at >= start,
            CoachingSession.starts_at < end, CoachingSession.state.in_(TAKING_A_PLACE))
    )).one())


def held_query(start: datetime, end: datetime):
    """The count of coaching sessions held between ``start`` and ``end``, as SQL (for one-query reports)."""
    return select(func.count()).select_from(CoachingSession).where(
        CoachingSession.state == CoachingState.HELD, CoachingSession.starts_at >= start,
        CoachingSession.starts_at < end)


async def coaching_sessions_held(session: Session, start: datetime, end: datetime) -> int:
    """How many single coaching sessions were held between ``start`` and ``end`` (by their time)."""
    return int((await session.exec(held_query(start, end))).one())


def asked_query(start: datetime, end: datetime, *, declined: bool = False):
    """The count of sessions asked (or of those declined) between ``start`` and ``end``, as SQL."""
    where = [CoachingSession.asked_at >= start, CoachingSession.asked_at < end]
    if declined:
        where.append(CoachingSession.state == CoachingState.DECLINED)
    return select(func.count()).select_from(CoachingSession).where(*where)


async def others_offering(session: Session, now: datetime, policy: ProgramPolicy, skill: str,
                          coach: Person, asker: Person) -> tuple[Person, ...]:
    """Who else in the coach pool offers ``skill`` (and takes single sessions), by Matrix ID."""
    pool = await matching.coach_pool(session, now, policy, skill)
    seen: dict[int, Person] = {}
    for mentors in pool.values():
        for m in mentors:
            if m.id not in (coach.id, asker.id):
                seen.setdefault(m.id, m)
    return tuple(sorted(seen.values(), key=lambda p: p.matrix_id))


def normal_skill(text: str) -> str:
    """A skill as asked, in its stored form: lower case, single spaces."""
    return " ".join(text.lower().split())


# ---------------------------------------------------------------- asking and answering


async def ask(work: Work, asker: Person, coach_id: str, skill: str, when: datetime, zone: str) -> CoachingSession:
    """``asker`` asks the mentor ``coach_id`` for a session on ``skill`` at ``when``."""
    coach = await people.find(work.session, coach_id)
    if coach is not None and coach.id == asker.id:
        raise CoachingYourself()
    offered = (await people.tags(work.session, coach.id))[TagKind.SKILL] if coach is not None else []
    if coach is None or not offered or not (await work.session.exec(
            select(Person.id).where(Person.id == coach.id, matching.available_mentors(work.now)))).first():
        raise NotInCoachPool(coach_id)
    wanted = normal_skill(skill)
    fits = [s for s in offered if s == wanted] or [s for s in offered if wanted and wanted in s]
    if not fits:
        raise SkillNotOffered(coach, wanted, tuple(offered))
    skill = fits[0]
    limit = people.coaching_limit(coach, work.policy)
    if limit == 0:
        raise NotTakingSessions(coach, skill, await others_offering(work.session, work.now, work.policy, skill,
                                                                    coach, asker))
    if await sessions_in_month(work.session, coach, when, work.policy) >= limit:
        month, _ = month_around(when, people.zone_of(coach, work.policy))
        raise CoachFull(coach, skill, month, limit,
                        await others_offering(work.session, work.now, work.policy, skill, coach, asker))
    waiting = (await work.session.exec(select(CoachingSession.id).where(
        CoachingSession.asker_id == asker.id, CoachingSession.coach_id == coach.id,
        CoachingSession.state == CoachingState.ASKED))).first()
    if waiting is not None:
        raise AlreadyAsked(waiting, coach)
    cs = CoachingSession(asker_id=asker.id, coach_id=coach.id, skill=skill, starts_at=when, timezone=zone,
                         asked_at=work.now)
    work.session.add(cs)
    await work.session.flush()
    audit.record(work.session, at=work.now, actor=asker, entity="coaching", entity_id=cs.id, action="asked",
                 to_state=CoachingState.ASKED.value)
    work.emit(CoachingAsked(cs, asker, coach))
    return cs


async def coaching_of(work: Work, me: Person, number: int, *, as_coach: bool = False) -> CoachingSession:
    """Coaching session ``number`` if ``me`` is its coach (or, unless ``as_coach``, its asker)."""
    cs = await work.session.get(CoachingSession, number)
    if cs is None or not (cs.coach_id == me.id or (not as_coach and cs.asker_id == me.id)):
        raise NoSuchCoaching(number)
    return cs


def _to_decide(cs: CoachingSession) -> None:
    if cs.state is not CoachingState.ASKED:
        raise CoachingAlreadyDecided(cs.id, cs.state)


def _close(work: Work, cs: CoachingSession, state: CoachingState, *, by: Person | None) -> None:
    before = cs.state
    cs.state, cs.closed_at = state, work.now
    audit.record(work.session, at=work.now, actor=by, entity="coaching", entity_id=cs.id, action=state.value,
                 from_state=before.value, to_state=state.value)


async def accept(work: Work, coach: Person, number: int) -> tuple[CoachingSession, CheckIn, Person]:
    """The coach says yes: a check-in at the time asked, with reminders for both. Returns it and the asker."""
    cs = await coaching_of(work, coach, number, as_coach=True)
    _to_decide(cs)
    if cs.starts_at <= work.now:
        raise CoachingTimePassed(cs.id, cs.starts_at)
    limit = people.coaching_limit(coach, work.policy)
    if await sessions_in_month(work.session, coach, cs.starts_at, work.policy) >= limit:
        month, _ = month_around(cs.starts_at, people.zone_of(coach, work.policy))
        raise MonthFull(cs.id, month, limit)
    cs.state, cs.decided_at = CoachingState.ACCEPTED, work.now
    c = CheckIn(coaching_id=cs.id, kind=CheckInKind.REGULAR, due_at=cs.starts_at, timezone=cs.timezone,
                created_by_id=coach.id, created_at=work.now)
    work.session.add(c)
    await work.session.flush()
    await checkins.remind(work, c, (cs.asker_id, cs.coach_id))
    audit.record(work.session, at=work.now, actor=coach, entity="coaching", entity_id=cs.id, action="accepted",
                 from_state=CoachingState.ASKED.value, to_state=CoachingState.ACCEPTED.value)
    asker = await mentorships.person_by_id(work.session, cs.asker_id)
    work.emit(CoachingAccepted(cs, c, asker, coach))
    return cs, c, asker


async def decline(work: Work, coach: Person, number: int, reason: str | None) -> tuple[CoachingSession, Person]:
    """The coach says no, with a reason or without; the asker is told. Returns it and the asker."""
    cs = await coaching_of(work, coach, number, as_coach=True)
    _to_decide(cs)
    cs.decided_at, cs.reason = work.now, (reason or None)
    _close(work, cs, CoachingState.DECLINED, by=coach)
    asker = await mentorships.person_by_id(work.session, cs.asker_id)
    work.emit(CoachingDeclined(cs, asker, coach))
    return cs, asker


async def checkin_of_session(session: Session, cs: CoachingSession) -> CheckIn | None:
    return (await session.exec(select(CheckIn).where(CheckIn.coaching_id == cs.id))).first()


async def cancel(work: Work, me: Person, number: int) -> tuple[CoachingSession, Person]:
    """Either side cancels before the time (the asker may also take back an ask); the other is told."""
    cs = await coaching_of(work, me, number)
    if cs.state is CoachingState.ASKED and me.id == cs.coach_id:
        raise CoachDeclinesAnAsk(cs.id)
    if cs.state not in OPEN_COACHING_STATES:
        raise CoachingAlreadyDecided(cs.id, cs.state)
    if cs.starts_at <= work.now:
        raise CoachingTimePassed(cs.id, cs.starts_at)
    return cs, await _cancel(work, cs, me)


async def _cancel(work: Work, cs: CoachingSession, by: Person) -> Person:
    """``by`` cancels ``cs`` (and its check-in with its reminders); the other side is told, and returned."""
    c = await checkin_of_session(work.session, cs)
    if c is not None and c.state is CheckInState.SCHEDULED:
        await checkins.cancel(work, c, by=by)
    cs.cancelled_by_id = by.id
    _close(work, cs, CoachingState.CANCELLED, by=by)
    other = await mentorships.person_by_id(work.session, other_side(cs, by.id))
    work.emit(CoachingCancelled(cs, by, other))
    return other


async def cancel_all_of(work: Work, person: Person) -> int:
    """Cancel every session of ``person`` still asked or planned (they are leaving the program):
    each other side is told. Returns how many."""
    rows = await open_sessions_of(work.session, person.id)
    for cs in rows:
        await _cancel(work, cs, person)
    return len(rows)


# ---------------------------------------------------------------- listings


async def open_sessions_of(session: Session, person_id: int) -> list[CoachingSession]:
    """``person_id``'s sessions still asked or planned, as asker or coach, soonest first."""
    return list((await session.exec(
        select(CoachingSession).where(or_(CoachingSession.asker_id == person_id, CoachingSession.coach_id == person_id),
                                      CoachingSession.state.in_(OPEN_COACHING_STATES))
        .order_by(CoachingSession.starts_at, CoachingSession.id)
    )).all())


async def upcoming_checkins(session: Session, person_id: int) -> list[tuple[CheckIn, CoachingSession]]:
    """The planned check-ins of ``person_id``'s accepted sessions (as asker or coach), soonest first."""
    return list((await session.exec(
        select(CheckIn, CoachingSession).join(CoachingSession, CoachingSession.id == CheckIn.coaching_id)
        .where(or_(CoachingSession.asker_id == person_id, CoachingSession.coach_id == person_id),
               CheckIn.state == CheckInState.SCHEDULED)
        .order_by(CheckIn.due_at, CheckIn.id)
    )).all())


def other_side(cs: CoachingSession, person_id: int) -> int:
    """The other person of a session: the coach for its asker, the asker for its coach."""
    return cs.coach_id if cs.asker_id == person_id else cs.asker_id


# ---------------------------------------------------------------- the rule that runs by itself


async def settle(work: Work) -> None:
    """Sessions whose time has come: an accepted one counts as held (its check-in done); an
    ask not answered lapses, and its asker is told."""
    due = (await work.session.exec(
        select(CoachingSession).where(CoachingSession.state.in_(OPEN_COACHING_STATES),
                                      CoachingSession.starts_at <= work.now)
        .order_by(CoachingSession.starts_at, CoachingSession.id)
    )).all()
    for cs in due:
        if cs.state is CoachingState.ACCEPTED:
            c = await checkin_of_session(work.session, cs)
            if c is not None and c.state is CheckInState.SCHEDULED:
                c.state, c.done_at = CheckInState.DONE, cs.starts_at
                await checkins.cancel_reminders(work.session, c.id)
            _close(work, cs, CoachingState.HELD, by=None)
        else:
            _close(work, cs, CoachingState.LAPSED, by=None)
            who = await people.by_ids(work.session, (cs.asker_id, cs.coach_id))
            work.emit(CoachingLapsed(cs, who[cs.asker_id], who[cs.coach_id]))


async def next_due(session: Session, now: datetime) -> datetime | None:
    """When the next session (asked or accepted) comes to its time, for :func:`settle`."""
    return (await session.exec(select(func.min(CoachingSession.starts_at)).where(
        CoachingSession.state.in_(OPEN_COACHING_STATES), CoachingSession.starts_at > now))).one()
