"""The program's rules that run by themselves.

Each rule asks the database what is due at ``work.now`` and records, in the same
transaction, that it has acted (a :class:`ProgramNotice` key): a rule fires once,
however often or late the bot wakes up. ``next_due`` tells the transport when to
wake up next.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any, Awaitable, Callable
from zoneinfo import ZoneInfo

from sqlalchemy import String, and_, func, insert, or_, type_coerce
from sqlmodel import select

from commands.clock import add_months
from commands.kinds import RoomKind
from commands.policy import ProgramPolicy
from commands.services import checkins, coaching, mentorships, opportunities, people, visibility
from commands.services.visibility import Reader
from commands.services.work import Event, Work
from storage.models import (
    OPEN_REQUEST_STATES,
    ChangeRequest,
    CheckIn,
    CheckInState,
    Feedback,
    MentorRequest,
    Mentorship,
    MentorshipState,
    Nomination,
    Person,
    ProgramNotice,
    RequestState,
    SessionRecord,
)
from storage.session import Session

STARTED = "rules:started"
ASK_DONE_AFTER = timedelta(days=1)  # an agreed check-in not marked done this long after its time
DIGEST_AT = time(9, 0)  # Monday morning, the program's zone
REPORT_AT = time(9, 0)  # the 1st of each month


async def once(session: Session, key: str, now: datetime) -> bool:
    """True the first time ``key`` is seen (and records it); False ever after."""
    if await session.get(ProgramNotice, key) is not None:
        return False
    session.add(ProgramNotice(key=key, sent_at=now))
    await session.flush()
    return True


async def started_at(work: Work) -> datetime:
    """When these rules first ran: periodic messages are not owed for the time before."""
    row = await work.session.get(ProgramNotice, STARTED)
    if row is None:
        row = ProgramNotice(key=STARTED, sent_at=work.now)
        work.session.add(row)
        await work.session.flush()
    return row.sent_at


async def run(work: Work) -> None:
    """Everything that has come due, in a fixed order."""
    since = await started_at(work)
    await checkins.roll_series(work)
    await mentorships.escalate_due(work)
    await coaching.settle(work)
    # Notices about many mentorships at once (thousands after a long downtime): nobody waits
    # for them this minute, so they go after replies and reminders.
    with work.in_bulk():
        await deadlines(work)
        await ask_done(work)
        await meetings_overdue(work)
        await commitment_ends(work)
        await feedback_round(work, since)
        await weekly_digest(work, since)
        await monthly_report(work, since)


# ---------------------------------------------------------------- cadence
#
# How often a mentor and a mentee must meet, written once. A mentorship is in its first
# year for ``first_year_months`` after it started; then they must meet at least every
# ``new_mentee_checkin_every_months``, later at least every ``checkin_every_months``,
# counted from the last meeting (the start, a session, or a check-in held). Everything
# else (overdue warnings, the digest, the report's count in the database, when to wake
# up) asks these functions.


def first_year_ends(started: datetime, policy: ProgramPolicy) -> datetime:
    """When a mentorship that started at ``started`` leaves its first year."""
    return add_months(started, policy.first_year_months)


def in_first_year(started: datetime, now: datetime, policy: ProgramPolicy) -> bool:
    return now < first_year_ends(started, policy)


def meeting_every_months(first_year: bool, policy: ProgramPolicy) -> int:
    """At least how often (in months) a mentorship must meet, in its first year or later."""
    return policy.new_mentee_checkin_every_months if first_year else policy.checkin_every_months


@dataclass(frozen=True)
class Cadence:
    """What the cadence asks of one mentorship at one time: when they last met, how often
    they must meet, and (``due``) by when they must meet again."""

    last_met: datetime
    every_months: int
    first_year: bool
    # The mentorship, or (from :func:`cadences`) a row of its id, people and dates.
    mentorship: Mentorship | Any | None = None

    @property
    def due(self) -> datetime:
        return add_months(self.last_met, self.every_months)

    def overdue(self, now: datetime) -> bool:
        return self.due <= now


def meetings_due(started: datetime, last_met: datetime | None, now: datetime, policy: ProgramPolicy,
                 mentorship: Mentorship | None = None) -> Cadence:
    """The cadence of a mentorship that started at ``started`` and last met at ``last_met``, at ``now``."""
    first_year = in_first_year(started, now, policy)
    last = max(t for t in (started, last_met) if t is not None)
    return Cadence(last, meeting_every_months(first_year, policy), first_year, mentorship)


async def cadences(session: Session, now: datetime, policy: ProgramPolicy) -> list[Cadence]:
    """For each active mentorship: when they last met and how often they must meet now.

    Each cadence's ``mentorship`` is a row of the columns the rules read (``id``,
    ``mentee_id``, ``mentor_id``, ``started_at``, ``last_met_at``), not a whole object: a
    large program has tens of thousands of them, read at every run of the rules."""
    rows = (await session.exec(
        select(*_CADENCE_COLUMNS).where(Mentorship.state == MentorshipState.ACTIVE).order_by(Mentorship.id)
    )).all()
    return [meetings_due(m.started_at, m.last_met_at, now, policy, m) for m in rows]


_CADENCE_COLUMNS = (Mentorship.id, Mentorship.mentee_id, Mentorship.mentor_id, Mentorship.started_at,
                    Mentorship.last_met_at)


async def overdue_cadences(session: Session, now: datetime, policy: ProgramPolicy) -> list[Cadence]:
    """The active mentorships that have not met as often as the cadence asks."""
    return [c for c in await cadences(session, now, policy) if c.overdue(now)]


async def count_overdue(session: Session, now: datetime, policy: ProgramPolicy) -> int:
    """How many active mentorships are overdue (as :func:`overdue_cadences`), counted in the database."""
    counts = _overdue_counts(now, policy)
    row = (await session.exec(select(*counts))).one()
    return sum(row) + await _overdue_at_the_edges(session, now, policy)


# The cadence in SQL. "Due <= now" is "last met <= now shifted back by the months" and "in
# the first year" is "started after now shifted back by ``first_year_months``": range counts
# along one index. The shift back and :func:`add_months` forward agree except near the end
# of a month, where ``add_months`` clamps the day; there the mentorships near a cut are
# judged one by one by :func:`meetings_due` itself.

EDGE = timedelta(days=4)  # months end on different days: near a cut, the rule itself decides


def _shift_is_exact(now: datetime, months: int) -> bool:
    """Whether "met ``months`` months before now" (a range count) and "now is ``months`` months
    after they met" (the rule) agree for every mentorship at ``now``.

    ``add_months`` only clamps a day from the 29th on, onto a last day of a month (the 28th
    or later); a shift by whole years only clamps 29 February. So on the 1st to the 27th of
    a month (in UTC, as the times are stored), and for whole years away from the end of
    February, no clamped date falls between a cut and today: nothing needs judging one by one.
    """
    now = now.astimezone(timezone.utc)
    if now.day <= 27:
        return True
    if months % 12 == 0:
        return (now.month, now.day) not in ((2, 28), (2, 29), (3, 1))
    return False


def _cuts(now: datetime, policy: ProgramPolicy):
    """Where the first year begins, and for each cohort (first year, later): who is in it, its cut, its months."""
    year_ago = add_months(now, -policy.first_year_months)
    first, later = meeting_every_months(True, policy), meeting_every_months(False, policy)
    return year_ago, ((Mentorship.started_at > year_ago, add_months(now, -first), first),
                      (Mentorship.started_at <= year_ago, add_months(now, -later), later))


def _overdue_counts(now: datetime, policy: ProgramPolicy) -> list:
    """Mentorships overdue by a clear margin, as range counts along one index (each cohort, first
    year or later, and whether they ever met). Those near a cut are left to :func:`_overdue_at_the_edges`."""
    year_ago, cohorts = _cuts(now, policy)
    clear_of_edge = or_(Mentorship.started_at < year_ago - EDGE, Mentorship.started_at > year_ago + EDGE)
    counts = []
    for in_cohort, cut, _ in cohorts:
        for not_since in (Mentorship.last_met_at <= cut,
                          and_(Mentorship.last_met_at.is_(None), Mentorship.started_at <= cut)):
            where = [Mentorship.state == MentorshipState.ACTIVE, not_since, in_cohort]
            if not _shift_is_exact(now, policy.first_year_months):  # those near the first year's end: one by one
                where.append(clear_of_edge)
            counts.append(select(func.count()).select_from(Mentorship).where(*where).scalar_subquery())
    return counts


async def _overdue_at_the_edges(session: Session, now: datetime, policy: ProgramPolicy) -> int:
    """The few mentorships the range counts leave out, judged by :func:`meetings_due`: those whose
    first year ends about now, and those that last met just after a cut (only on the days when
    adding months can clamp near the cut)."""
    year_ago, cohorts = _cuts(now, policy)
    near = ([] if _shift_is_exact(now, policy.first_year_months)
            else [Mentorship.started_at.between(year_ago - EDGE, year_ago + EDGE)])
    for in_cohort, cut, months in cohorts:
        if _shift_is_exact(now, months):
            continue
        near.append(and_(in_cohort, Mentorship.last_met_at > cut, Mentorship.last_met_at <= cut + EDGE))
        near.append(and_(in_cohort, Mentorship.last_met_at.is_(None), Mentorship.started_at > cut,
                         Mentorship.started_at <= cut + EDGE))
    if not near:
        return 0
    conn = await session.connection()
    rows: dict[int, tuple[datetime, datetime | None]] = {}
    for where in near:  # each along an index of its own; a mentorship found twice is judged once
        # The times as the driver gives them (read without per-value conversion: there may be thousands).
        for mid, started, last_met in (await conn.execute(
            select(Mentorship.id, type_coerce(Mentorship.started_at, String), type_coerce(Mentorship.last_met_at, String))
            .where(Mentorship.state == MentorshipState.ACTIVE, where)
        )).all():
            rows[mid] = (_utc(started), _utc(last_met))
    return sum(meetings_due(started, last_met, now, policy).overdue(now) for started, last_met in rows.values())


def _utc(value: str | datetime | None) -> datetime | None:
    """A time as stored (SQLite: text in UTC; PostgreSQL: an aware datetime), as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


# ---------------------------------------------------------------- meetings


@dataclass(frozen=True)
class MeetingOverdue(Event):
    """A mentorship has not met as often as the cadence asks: its mentor is told."""

    mentor: Person
    mentee: Person
    cadence: Cadence


@dataclass(frozen=True)
class OverdueEscalated(Event):
    """Still overdue ``days_since_told`` days after the mentor was told: the council is told."""

    mentor: Person
    mentee: Person
    cadence: Cadence
    days_since_told: int


@dataclass(frozen=True)
class OverduesEscalated(Event):
    """Many mentorships became overdue for the council at once (a first start, a long downtime):
    the council is told in one message, not one each. ``more`` are counted, not listed."""

    escalated: tuple[OverdueEscalated, ...]
    more: int


ESCALATIONS_ONE_BY_ONE = 5  # more at once than this, and the council gets one message listing them
ESCALATIONS_LISTED = 30  # at most this many are listed in it


@dataclass(frozen=True)
class DeadlinePassed(Event):
    """An orientation or follow-up whose deadline passed without a time agreed."""

    checkin: CheckIn
    mentee: Person
    mentor: Person


@dataclass(frozen=True)
class CheckInToConfirm(Event):
    """An agreed check-in a day past its time and not marked: did it take place?"""

    checkin: CheckIn
    mentee: Person
    mentor: Person


@dataclass(frozen=True)
class CommitmentComplete(Event):
    """The commitment of a mentorship is over: both may extend it for ``months``, change, or end."""

    mentee: Person
    mentor: Person
    months: int


async def seen_keys(session: Session, keys: list[str]) -> set[str]:
    """Which of these notice keys have fired already (one query per 500 keys)."""
    seen: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        seen.update((await session.exec(select(ProgramNotice.key).where(ProgramNotice.key.in_(chunk)))).all())
    return seen


async def meetings_overdue(work: Work) -> None:
    """No meeting for longer than the program asks: tell the mentor, then the council."""
    overdue = await overdue_cadences(work.session, work.now, work.policy)
    if not overdue:
        return
    stamps = {c.mentorship.id: f"{c.mentorship.id}:{c.last_met:%Y-%m-%dT%H:%M}" for c in overdue}
    seen = await seen_keys(work.session, [f"overdue:{who_}:{s}" for s in stamps.values() for who_ in ("mentor", "council")])
    council_after = timedelta(days=work.policy.overdue_council_days)
    todo = [c for c in overdue
            if f"overdue:mentor:{stamps[c.mentorship.id]}" not in seen
            or (work.now >= c.due + council_after and f"overdue:council:{stamps[c.mentorship.id]}" not in seen)]
    if not todo:
        return
    who_is = await people.by_ids(work.session, {i for c in todo for i in (c.mentorship.mentee_id, c.mentorship.mentor_id)})
    fired: list[dict] = []
    escalated: list[OverdueEscalated] = []
    for c in todo:
        m, stamp = c.mentorship, stamps[c.mentorship.id]
        mentee, mentor = who_is[m.mentee_id], who_is[m.mentor_id]
        if f"overdue:mentor:{stamp}" not in seen:
            fired.append({"key": f"overdue:mentor:{stamp}", "sent_at": work.now})
            work.emit(MeetingOverdue(mentor, mentee, c))
        if work.now >= c.due + council_after and f"overdue:council:{stamp}" not in seen:
            fired.append({"key": f"overdue:council:{stamp}", "sent_at": work.now})
            escalated.append(OverdueEscalated(mentor, mentee, c, work.policy.overdue_council_days))
    if len(escalated) > ESCALATIONS_ONE_BY_ONE:
        work.emit(OverduesEscalated(tuple(escalated[:ESCALATIONS_LISTED]),
                                    max(0, len(escalated) - ESCALATIONS_LISTED)))
    else:
        for e in escalated:
            work.emit(e)
    if fired:  # a first start of a large program may fire thousands: one statement, not an object each
        await work.session.exec(insert(ProgramNotice.__table__), params=fired)


async def _checkins_due(work: Work, *, arranged: bool, due_by: datetime) -> list[tuple[CheckIn, Person, Person]]:
    """Planned check-ins of active mentorships due by ``due_by``, with their mentee and mentor."""
    due = (await work.session.exec(
        select(CheckIn, Mentorship)
        .join(Mentorship, Mentorship.id == CheckIn.mentorship_id)
        .where(CheckIn.state == CheckInState.SCHEDULED, CheckIn.arranged.is_(arranged), CheckIn.due_at <= due_by,
               Mentorship.state == MentorshipState.ACTIVE)
        .order_by(CheckIn.due_at, CheckIn.id)
    )).all()
    who_is = await people.by_ids(work.session, {i for _, m in due for i in (m.mentee_id, m.mentor_id)})
    return [(c, who_is[m.mentee_id], who_is[m.mentor_id]) for c, m in due]


async def deadlines(work: Work) -> None:
    """An orientation or follow-up whose deadline passed without a time agreed: tell the mentor."""
    for c, mentee, mentor in await _checkins_due(work, arranged=False, due_by=work.now):
        if await once(work.session, f"deadline:{c.id}:{c.due_at:%Y-%m-%d}", work.now):
            work.emit(DeadlinePassed(c, mentee, mentor))


async def ask_done(work: Work) -> None:
    """An agreed check-in a day past its time and not marked: ask the mentor how it went."""
    for c, mentee, mentor in await _checkins_due(work, arranged=True, due_by=work.now - ASK_DONE_AFTER):
        if await once(work.session, f"ask-done:{c.id}:{c.due_at:%Y-%m-%dT%H:%M}", work.now):
            work.emit(CheckInToConfirm(c, mentee, mentor))


async def commitment_ends(work: Work) -> None:
    """The commitment is over: ask both whether to extend, or change."""
    due = (await work.session.exec(
        select(Mentorship).where(Mentorship.state == MentorshipState.ACTIVE,
                                 Mentorship.commitment_ends_at <= work.now).order_by(Mentorship.id)
    )).all()
    for m in due:
        if not await once(work.session, f"commitment:{m.id}:{m.commitment_ends_at:%Y-%m-%d}", work.now):
            continue
        mentee = await mentorships.person_by_id(work.session, m.mentee_id)
        mentor = await mentorships.person_by_id(work.session, m.mentor_id)
        work.emit(CommitmentComplete(mentee, mentor, work.policy.commitment_months))


# ---------------------------------------------------------------- periodic


def digest_slot(now: datetime, zone: ZoneInfo) -> datetime:
    local = now.astimezone(zone)
    monday = local.date() - timedelta(days=local.weekday())
    slot = datetime.combine(monday, DIGEST_AT, tzinfo=zone)
    return slot if slot <= now else slot - timedelta(weeks=1)


def report_slot(now: datetime, zone: ZoneInfo) -> datetime:
    local = now.astimezone(zone)
    slot = datetime.combine(local.date().replace(day=1), REPORT_AT, tzinfo=zone)
    return slot if slot <= now else add_months(slot, -1)


def feedback_slot(now: datetime, zone: ZoneInfo, month: int) -> datetime:
    local = now.astimezone(zone)
    slot = datetime.combine(local.date().replace(month=month, day=1), REPORT_AT, tzinfo=zone)
    return slot if slot <= now else slot.replace(year=slot.year - 1)


@dataclass(frozen=True)
class FeedbackAsked(Event):
    """The yearly feedback round: the mentee and the mentor of one active mentorship are asked."""

    year: int
    mentee: Person
    mentor: Person


@dataclass(frozen=True)
class OverdueInDigest:
    mentorship_id: int
    mentor: Person
    mentee: Person | None  # None: the mentee may not be named where the digest goes
    last_met: datetime


@dataclass(frozen=True)
class DigestDue(Event):
    """Monday morning's digest for the mentors room: counts, and who is overdue. Never any notes."""

    week_of: datetime
    active: int
    waiting: int
    overdue: tuple[OverdueInDigest, ...]
    more: int  # overdue mentorships beyond those listed


DIGEST_LISTS = 30  # at most this many overdue mentorships are listed in the digest


@dataclass(frozen=True)
class ProgramFigures:
    """The program in numbers, for what happened between ``start`` and ``end``; counts only, no names."""

    active: int
    started: int
    ended: int
    asked: int
    escalated: int
    waiting: int
    with_council: int
    changes: int
    sessions: int
    feedback: int
    nominations: int
    mentors: int
    opportunities: int  # opportunities sent to mentees (each mentee counted once per opportunity)
    overdue: int
    coaching_held: int = 0  # single coaching sessions held (see ``coaching.settle``)
    coaching_asked: int = 0
    coaching_declined: int = 0


@dataclass(frozen=True)
class Month:
    """One calendar month in the program's time zone, from ``start`` (its 1st, midnight) to
    ``end`` (the next month's start, or ``now`` for the month under way), stored as UTC."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class ProgramYear:
    """The program month by month: for each of :data:`SERIES` (by its key), one figure a month."""

    months: tuple[Month, ...]
    figures: tuple[tuple[str, tuple[int, ...]], ...]
    so_far: bool  # the last month is under way: its figures are to ``now``

    def of(self, key: str) -> tuple[int, ...]:
        return dict(self.figures)[key]


@dataclass(frozen=True)
class ReportDue(Event):
    """The 1st of each month: last month's figures (from ``start``) for the council room, and the
    twelve months to its end (drawn as a chart)."""

    start: datetime
    figures: ProgramFigures
    year: ProgramYear


async def feedback_round(work: Work, since: datetime) -> None:
    """Once a year every mentee and mentor in an active mentorship is asked for feedback."""
    slot = feedback_slot(work.now, ZoneInfo(work.policy.timezone), work.policy.feedback_month)
    if slot < since or not await once(work.session, f"feedback:{slot.year}", work.now):
        return
    rows = (await work.session.exec(select(Mentorship).where(Mentorship.state == MentorshipState.ACTIVE))).all()
    who_is = await people.by_ids(work.session, {i for m in rows for i in (m.mentee_id, m.mentor_id)})
    for m in rows:
        work.emit(FeedbackAsked(slot.year, who_is[m.mentee_id], who_is[m.mentor_id]))


async def weekly_digest(work: Work, since: datetime) -> None:
    """Monday morning in the mentors room: counts, and who is overdue. Never any notes."""
    slot = digest_slot(work.now, ZoneInfo(work.policy.timezone))
    if slot < since or not await once(work.session, f"digest:{slot:%G-W%V}", work.now):
        return
    overdue = await overdue_cadences(work.session, work.now, work.policy)
    active = await _count(work.session, select(func.count()).select_from(Mentorship)
                          .where(Mentorship.state == MentorshipState.ACTIVE))
    waiting = await mentorships.count_open_requests(work.session)
    listed = overdue[:DIGEST_LISTS]
    who_is = await people.by_ids(work.session, {i for c in listed
                                               for i in (c.mentorship.mentee_id, c.mentorship.mentor_id)})
    # Mentees are not named in the mentors room: each mentor knows who they mean.
    named = visibility.may_read("identity.mentee", {Reader.MENTORS}, RoomKind.MENTORS)
    work.emit(DigestDue(slot, active, waiting, tuple(
        OverdueInDigest(c.mentorship.id, who_is[c.mentorship.mentor_id],
                        who_is[c.mentorship.mentee_id] if named else None, c.last_met)
        for c in listed), max(len(overdue) - DIGEST_LISTS, 0)))


async def monthly_report(work: Work, since: datetime) -> None:
    """The 1st of each month in the council room: how the program did last month, in numbers."""
    zone = ZoneInfo(work.policy.timezone)
    slot = report_slot(work.now, zone)
    if slot < since or not await once(work.session, f"report:{slot:%Y-%m}", work.now):
        return
    start = add_months(slot, -1)
    year = await program_year(work.session, work.now, work.policy, last=start)
    work.emit(ReportDue(start, await program_figures(work.session, work.now, work.policy, start, slot), year))


async def program_figures(session: Session, now: datetime, policy: ProgramPolicy, start: datetime,
                          end: datetime) -> ProgramFigures:
    """The program in numbers, for what happened between ``start`` and ``end``; counts only, no names."""
    def count(model, *where):
        return select(func.count()).select_from(model).where(*where).scalar_subquery()

    figures = [
        people.ACTIVE_MENTORSHIPS.scalar_subquery(),
        count(Mentorship, Mentorship.started_at >= start, Mentorship.started_at < end),
        count(Mentorship, Mentorship.ended_at >= start, Mentorship.ended_at < end),
        count(MentorRequest, MentorRequest.created_at >= start, MentorRequest.created_at < end),
        count(MentorRequest, MentorRequest.escalated_at >= start, MentorRequest.escalated_at < end),
        count(MentorRequest, MentorRequest.state.in_(OPEN_REQUEST_STATES)),
        count(MentorRequest, MentorRequest.state == RequestState.ESCALATED),
        count(ChangeRequest, ChangeRequest.created_at >= start, ChangeRequest.created_at < end),
        count(SessionRecord, SessionRecord.held_at >= start, SessionRecord.held_at < end),
        count(Feedback, Feedback.created_at >= start, Feedback.created_at < end),
        count(Nomination, Nomination.created_at >= start, Nomination.created_at < end),
        count(Person, Person.is_mentor.is_(True)),
        opportunities.shared_count(start, end).scalar_subquery(),
        coaching.held_query(start, end).scalar_subquery(),
        coaching.asked_query(start, end).scalar_subquery(),
        coaching.asked_query(start, end, declined=True).scalar_subquery(),
        *_overdue_counts(now, policy),
    ]
    row = (await session.exec(select(*figures))).one()  # every figure in one round trip
    overdue = sum(row[16:]) + await _overdue_at_the_edges(session, now, policy)
    return ProgramFigures(*row[:13], overdue=overdue, coaching_held=row[13], coaching_asked=row[14],
                          coaching_declined=row[15])


async def _count(session: Session, query) -> int:
    return int((await session.exec(query)).one())


# ---------------------------------------------------------------- the program year (the council's chart)
#
# Twelve calendar months in the program's time zone, each a figure per series. A series that
# counts what happened (requests opened...) counts it within the month; one that counts a state
# (active, overdue) counts it at the month's end, or at ``now`` for the month under way. Counted
# from the tables as they stand: what was erased (a person forgotten) is no longer counted.

YEAR_MONTHS = 12


@dataclass(frozen=True)
class Series:
    """One line of the council's chart: ``key`` names it (its label is in the message layer,
    ``commands.words.rules.SERIES_LABELS``) and ``count`` gives its figure for each month."""

    key: str
    count: Callable[[Session, tuple[Month, ...], ProgramPolicy], Awaitable[list[int]]]


def months_to(last: datetime, now: datetime, zone: ZoneInfo, count: int = YEAR_MONTHS) -> tuple[Month, ...]:
    """The ``count`` calendar months (in ``zone``) that end with the month containing ``last``;
    a month still under way at ``now`` ends at ``now``."""
    local = last.astimezone(zone)
    starts = []
    for back in range(count, -1, -1):  # one more: where the last month ends
        index = local.year * 12 + local.month - 1 - back + 1
        starts.append(datetime(index // 12, index % 12 + 1, 1, tzinfo=zone).astimezone(timezone.utc))
    return tuple(Month(start, min(end, now)) for start, end in zip(starts, starts[1:]))


def _in_month(model, column, *where) -> Callable:
    """A series: the rows of ``model`` whose ``column`` falls within each month."""
    async def count(session: Session, months: tuple[Month, ...], policy: ProgramPolicy) -> list[int]:
        figures = [select(func.count()).select_from(model).where(column >= m.start, column < m.end, *where)
                   .scalar_subquery() for m in months]
        return [int(n) for n in (await session.exec(select(*figures))).one()]  # all months in one round trip
    return count


async def _coaching_held(session: Session, months: tuple[Month, ...], policy: ProgramPolicy) -> list[int]:
    figures = [coaching.held_query(m.start, m.end).scalar_subquery() for m in months]
    return [int(n) for n in (await session.exec(select(*figures))).one()]  # all months in one round trip


def _alive_at(end: datetime):
    """Mentorships active at ``end``: started before it, not ended by then."""
    return and_(Mentorship.started_at < end, or_(Mentorship.ended_at.is_(None), Mentorship.ended_at >= end))


async def _active_at_ends(session: Session, months: tuple[Month, ...], policy: ProgramPolicy) -> list[int]:
    figures = [select(func.count()).select_from(Mentorship).where(_alive_at(m.end)).scalar_subquery()
               for m in months]
    return [int(n) for n in (await session.exec(select(*figures))).one()]


async def _overdue_at_ends(session: Session, months: tuple[Month, ...], policy: ProgramPolicy) -> list[int]:
    """At each month's end, how many active mentorships had not met as often as the cadence asks
    (:func:`meetings_due`, judged at that time, from the meetings held before it: the start, a
    session recorded as held, a check-in done)."""
    first, last = months[0].start, months[-1].end
    in_window = and_(Mentorship.started_at < last, or_(Mentorship.ended_at.is_(None), Mentorship.ended_at > first))
    alive = (await session.exec(
        select(Mentorship.id, Mentorship.started_at, Mentorship.ended_at, Mentorship.last_met_at).where(in_window)
    )).all()
    met: dict[int, list[datetime]] = {}
    for model, when, *where in ((SessionRecord, SessionRecord.held_at),
                                (CheckIn, CheckIn.done_at, CheckIn.state == CheckInState.DONE)):
        joined = (Mentorship, Mentorship.id == model.mentorship_id)
        before = select(model.mentorship_id, func.max(when)).join(*joined).where(
            in_window, when < first, *where).group_by(model.mentorship_id)
        during = select(model.mentorship_id, when).join(*joined).where(in_window, when >= first, when < last, *where)
        for query in (before, during):
            for mid, at in (await session.exec(query)).all():
                met.setdefault(mid, []).append(at)
    for times in met.values():
        times.sort()
    figures = []
    for month in months:
        end, overdue = month.end, 0
        judge = _overdue_judge(end, policy)
        for mid, started, ended, last_met_at in alive:
            if not (started < end and (ended is None or ended >= end)):
                continue
            times = met.get(mid, ())
            held = bisect_left(times, end)  # meetings before the end
            last_met = times[held - 1] if held else None
            # The latest meeting ever, when it came before the end, counts even if its record is gone.
            if last_met_at is not None and last_met_at < end and (last_met is None or last_met_at > last_met):
                last_met = last_met_at
            overdue += judge(started, last_met)
        figures.append(overdue)
    return figures


def _overdue_judge(now: datetime, policy: ProgramPolicy) -> Callable[[datetime, datetime | None], bool]:
    """Whether a mentorship is overdue at ``now`` (as :func:`meetings_due` says), for many at one
    time: compared with the cuts of :func:`_cuts`, and by the rule itself near a cut (``EDGE``),
    where adding months may clamp a day (thousands of mentorships, twelve times)."""
    year_ago, ((_, first_cut, _), (_, later_cut, _)) = _cuts(now, policy)

    def overdue(started: datetime, last_met: datetime | None) -> bool:
        last = started if last_met is None or last_met < started else last_met
        if abs(started - year_ago) > EDGE:
            cut = first_cut if started > year_ago else later_cut
            if last <= cut - EDGE:
                return True
            if last > cut + EDGE:
                return False
        return meetings_due(started, last_met, now, policy).overdue(now)
    return overdue


# The chart's series, in the order drawn: one entry each (and its label in the message layer).
SERIES: tuple[Series, ...] = (
    Series("requests_opened", _in_month(MentorRequest, MentorRequest.created_at)),
    Series("requests_matched", _in_month(MentorRequest, MentorRequest.closed_at, MentorRequest.state.in_(
        (RequestState.ACCEPTED, RequestState.ASSIGNED)))),
    Series("requests_escalated", _in_month(MentorRequest, MentorRequest.escalated_at)),
    Series("mentorships_active", _active_at_ends),
    Series("relationships_overdue", _overdue_at_ends),
    # Check-ins of mentorships (and groups) held; a single coaching session is its own line.
    Series("checkins_held", _in_month(CheckIn, CheckIn.done_at, CheckIn.state == CheckInState.DONE,
                                      CheckIn.coaching_id.is_(None))),
    Series("coaching_held", _coaching_held),
)


async def program_year(session: Session, now: datetime, policy: ProgramPolicy, *, last: datetime) -> ProgramYear:
    """The program over the twelve months that end with the month containing ``last`` (this
    month, to ``now``, or the last whole month for the monthly report); counts only, no names."""
    months = months_to(last, now, ZoneInfo(policy.timezone))
    figures = []
    for series in SERIES:
        figures.append((series.key, tuple(await series.count(session, months, policy))))
    return ProgramYear(months, tuple(figures), so_far=months[-1].end == now)


# ---------------------------------------------------------------- when to wake up


async def next_due(session: Session, now: datetime, policy: ProgramPolicy) -> datetime | None:
    """The earliest time after ``now`` at which some rule comes due (reminders: ``checkins.next_reminder_at``)."""
    zone = ZoneInfo(policy.timezone)
    times: list[datetime | None] = [
        (await session.exec(select(func.min(MentorRequest.escalate_at)).where(
            MentorRequest.state.in_((RequestState.OPEN, RequestState.PROPOSED))))).one(),
        (await session.exec(select(func.min(CheckIn.due_at)).where(
            CheckIn.state == CheckInState.SCHEDULED, CheckIn.due_at > now))).one(),
        (await session.exec(select(func.min(Mentorship.commitment_ends_at)).where(
            Mentorship.state == MentorshipState.ACTIVE, Mentorship.commitment_ends_at > now))).one(),
        digest_slot(now, zone) + timedelta(weeks=1),
        add_months(report_slot(now, zone), 1),
        feedback_slot(now, zone, policy.feedback_month).replace(year=feedback_slot(now, zone, policy.feedback_month).year + 1),
        await coaching.next_due(session, now),
    ]
    asked = (await session.exec(select(func.min(CheckIn.due_at)).where(
        CheckIn.state == CheckInState.SCHEDULED, CheckIn.arranged.is_(True), CheckIn.due_at > now - ASK_DONE_AFTER))).one()
    if asked is not None:
        times.append(asked + ASK_DONE_AFTER)
    for c in await cadences(session, now, policy):
        for t in (c.due, c.due + timedelta(days=policy.overdue_council_days)):
            if t > now:
                times.append(t)
        if c.first_year:
            times.append(first_year_ends(c.mentorship.started_at, policy))  # the cadence changes
    ahead = [t for t in times if t is not None and t > now]
    return min(ahead) if ahead else None
