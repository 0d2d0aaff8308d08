"""The program's rules that run by themselves.

Each rule asks the database what is due at ``work.now`` and records, in the same
transaction, that it has acted (a :class:`ProgramNotice` key): a rule fires once,
however often or late the bot wakes up. ``next_due`` tells the transport when to
wake up next.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import String, and_, func, or_, type_coerce
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from commands.clock import add_months
from commands.services.work import Work
from commands.framework import RoomKind
from commands.messages import Target
from commands.policy import ProgramPolicy
from commands.services import checkins, mentorships, people, visibility
from commands.services.visibility import Reader
from commands.words.checkins import KIND_NAMES, shown
from commands.text import Msg, bold, lines
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

STARTED = "rules:started"
ASK_DONE_AFTER = timedelta(days=1)  # an agreed check-in not marked done this long after its time
DIGEST_AT = time(9, 0)  # Monday morning, the program's zone
REPORT_AT = time(9, 0)  # the 1st of each month


async def once(session: AsyncSession, key: str, now: datetime) -> bool:
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
    await deadlines(work)
    await ask_done(work)
    await meetings_overdue(work)
    await commitment_ends(work)
    await feedback_round(work, since)
    await weekly_digest(work, since)
    await monthly_report(work, since)


# ---------------------------------------------------------------- meetings


@dataclass(frozen=True)
class Cadence:
    mentorship: Mentorship
    last_met: datetime
    every_months: int
    first_year: bool

    @property
    def due(self) -> datetime:
        return add_months(self.last_met, self.every_months)


async def cadences(session: AsyncSession, now: datetime, policy: ProgramPolicy) -> list[Cadence]:
    """For each active mentorship: when they last met and how often they must meet now."""
    rows = (await session.exec(
        select(Mentorship).where(Mentorship.state == MentorshipState.ACTIVE).order_by(Mentorship.id)
    )).all()
    out = []
    for m in rows:
        last = max(t for t in (m.started_at, m.last_met_at) if t is not None)
        first_year = now < add_months(m.started_at, 12)
        every = policy.new_mentee_checkin_every_months if first_year else policy.checkin_every_months
        out.append(Cadence(m, last, every, first_year))
    return out


async def seen_keys(session: AsyncSession, keys: list[str]) -> set[str]:
    """Which of these notice keys have fired already (one query per 500 keys)."""
    seen: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        seen.update((await session.exec(select(ProgramNotice.key).where(ProgramNotice.key.in_(chunk)))).all())
    return seen


async def people_by_id(session: AsyncSession, ids: set[int]) -> dict[int, Person]:
    found: dict[int, Person] = {}
    listed = sorted(ids)
    for start in range(0, len(listed), 500):
        rows = (await session.exec(select(Person).where(Person.id.in_(listed[start:start + 500])))).all()
        found.update((p.id, p) for p in rows)
    return found


async def meetings_overdue(work: Work) -> None:
    """No meeting for longer than the program asks: tell the mentor, then the council."""
    overdue = [c for c in await cadences(work.session, work.now, work.policy) if work.now >= c.due]
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
    who_is = await people_by_id(work.session, {i for c in todo for i in (c.mentorship.mentee_id, c.mentorship.mentor_id)})
    council_zone = ZoneInfo(work.policy.timezone)
    for c in todo:
        m, stamp = c.mentorship, stamps[c.mentorship.id]
        rule = (f"at least every {c.every_months} months in their first year" if c.first_year
                else f"at least every {c.every_months} months")
        mentee, mentor = who_is[m.mentee_id], who_is[m.mentor_id]
        if f"overdue:mentor:{stamp}" not in seen:
            work.session.add(ProgramNotice(key=f"overdue:mentor:{stamp}", sent_at=work.now))
            zone = people.zone_of(mentor, work.policy)
            work.send(Target.dm(mentor.matrix_id), Msg(
                bold("A meeting is overdue: "), "you last met ", mentorships.who(mentee),
                f" on {c.last_met.astimezone(zone):%Y-%m-%d}, and mentees meet their mentor {rule}. "
                "Plan one with ", work.typed(f"checkin {mentee.matrix_id} <when>", RoomKind.DM),
                "; after a meeting, record it with ",
                work.typed(f"session {mentee.matrix_id} <kind> <outcome>", RoomKind.DM), ".",
            ))
        if work.now >= c.due + council_after and f"overdue:council:{stamp}" not in seen:
            work.session.add(ProgramNotice(key=f"overdue:council:{stamp}", sent_at=work.now))
            work.send(Target.council(), Msg(
                bold("Overdue relationship: "), mentorships.who(mentor), " and ", mentorships.who(mentee),
                f" have not met since {c.last_met.astimezone(council_zone):%Y-%m-%d} ({rule}); ",
                f"the mentor was told {work.policy.overdue_council_days} days ago.",
            ), notify=True)
    await work.session.flush()


async def _checkins_due(work: Work, *, arranged: bool, due_by: datetime) -> list[tuple[CheckIn, Person, Person]]:
    """Planned check-ins of active mentorships due by ``due_by``, with their mentee and mentor."""
    due = (await work.session.exec(
        select(CheckIn, Mentorship)
        .join(Mentorship, Mentorship.id == CheckIn.mentorship_id)
        .where(CheckIn.state == CheckInState.SCHEDULED, CheckIn.arranged.is_(arranged), CheckIn.due_at <= due_by,
               Mentorship.state == MentorshipState.ACTIVE)
        .order_by(CheckIn.due_at, CheckIn.id)
    )).all()
    who_is = await people_by_id(work.session, {i for _, m in due for i in (m.mentee_id, m.mentor_id)})
    return [(c, who_is[m.mentee_id], who_is[m.mentor_id]) for c, m in due]


async def deadlines(work: Work) -> None:
    """An orientation or follow-up whose deadline passed without a time agreed: tell the mentor."""
    for c, mentee, mentor in await _checkins_due(work, arranged=False, due_by=work.now):
        if not await once(work.session, f"deadline:{c.id}:{c.due_at:%Y-%m-%d}", work.now):
            continue
        zone = people.zone_of(mentor, work.policy)
        work.send(Target.dm(mentor.matrix_id), Msg(
            bold(f"The {KIND_NAMES[c.kind]} with "), mentorships.who(mentee),
            bold(f" was due by {c.due_at.astimezone(zone):%Y-%m-%d}."), " Agree a time with ",
            work.typed(f"checkin {mentee.matrix_id} <when>", RoomKind.DM), ", or if it took place, record it with ",
            work.typed(f"session {mentee.matrix_id} {c.kind.value if c.kind.value != 'followup' else 'regular'} <outcome>",
                       RoomKind.DM), ".",
        ))


async def ask_done(work: Work) -> None:
    """An agreed check-in a day past its time and not marked: ask the mentor how it went."""
    for c, mentee, mentor in await _checkins_due(work, arranged=True, due_by=work.now - ASK_DONE_AFTER):
        if not await once(work.session, f"ask-done:{c.id}:{c.due_at:%Y-%m-%dT%H:%M}", work.now):
            continue
        zone = people.zone_of(mentor, work.policy)
        work.send(Target.dm(mentor.matrix_id), Msg(
            f"Did the {KIND_NAMES[c.kind]} with ", mentorships.who(mentee), f" on {shown(c.due_at, zone)} ",
            "take place? Record it with ", work.typed(f"session {mentee.matrix_id} <kind> <outcome>", RoomKind.DM),
            " (or ", work.typed(f"checkin done {c.id}", RoomKind.DM), "); if not, ",
            work.typed(f"checkin move {c.id} <when>", RoomKind.DM), ".",
        ))


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
        months = work.policy.commitment_months
        work.send(Target.dm(mentee.matrix_id), Msg(
            bold("Your commitment with "), mentorships.who(mentor), bold(" is complete."),
            f" To go on together for another {months} months, send ", work.typed("extend", RoomKind.DM),
            "; to change mentor, ", work.typed("change", RoomKind.DM), " (no approval needed now); to close the "
            "mentorship, ", work.typed("end", RoomKind.DM), ".",
        ))
        work.send(Target.dm(mentor.matrix_id), Msg(
            bold("Your commitment with "), mentorships.who(mentee), bold(" is complete."),
            f" To go on together for another {months} months, send ",
            work.typed(f"extend {mentee.matrix_id}", RoomKind.DM), "; they may also change mentor or end it now. ",
            "A final session to look back on what was reached is a good moment: record it as ",
            work.typed(f"session {mentee.matrix_id} final <outcome>", RoomKind.DM), ".",
        ))


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


async def feedback_round(work: Work, since: datetime) -> None:
    """Once a year every mentee and mentor in an active mentorship is asked for feedback."""
    slot = feedback_slot(work.now, ZoneInfo(work.policy.timezone), work.policy.feedback_month)
    if slot < since or not await once(work.session, f"feedback:{slot.year}", work.now):
        return
    rows = (await work.session.exec(select(Mentorship).where(Mentorship.state == MentorshipState.ACTIVE))).all()
    who_is = await people_by_id(work.session, {i for m in rows for i in (m.mentee_id, m.mentor_id)})
    for m in rows:
        mentee, mentor = who_is[m.mentee_id], who_is[m.mentor_id]
        for asked, other, form in ((mentee, mentor, "feedback"), (mentor, mentee, f"feedback {mentee.matrix_id}")):
            work.send(Target.dm(asked.matrix_id), Msg(
                bold(f"Feedback round {slot.year}: "), "how is your mentorship with ", mentorships.who(other),
                " going? Answer with ", work.typed(f"{form} <what goes well> | <what could be better>", RoomKind.DM),
                ". Only the council reads it.",
            ))


async def weekly_digest(work: Work, since: datetime) -> None:
    """Monday morning in the mentors room: counts, and who is overdue. Never any notes."""
    slot = digest_slot(work.now, ZoneInfo(work.policy.timezone))
    if slot < since or not await once(work.session, f"digest:{slot:%G-W%V}", work.now):
        return
    overdue = [c for c in await cadences(work.session, work.now, work.policy) if c.due <= work.now]
    active = await _count(work.session, select(func.count()).select_from(Mentorship)
                          .where(Mentorship.state == MentorshipState.ACTIVE))
    waiting = await mentorships.count_open_requests(work.session)
    zone = ZoneInfo(work.policy.timezone)
    rows: list[Msg | None] = [
        Msg(bold(f"Weekly digest, week of {slot:%Y-%m-%d}"), f": {active} active mentorship{'s' if active != 1 else ''}, "
            f"{waiting} open request{'s' if waiting != 1 else ''}", "" if not waiting else Msg(" (", work.typed("requests", RoomKind.MENTORS), ")"), "."),
    ]
    if overdue:
        rows.append(Msg(bold(f"Overdue ({len(overdue)})"), ", no meeting recorded for longer than the program asks:"))
        who_is = await people_by_id(work.session, {i for c in overdue[:30]
                                                   for i in (c.mentorship.mentee_id, c.mentorship.mentor_id)})
        # Mentees are not named in the mentors room: each mentor knows who they mean.
        named = visibility.may_read("identity.mentee", {Reader.MENTORS}, RoomKind.MENTORS)
        for c in overdue[:30]:
            mentee, mentor = who_is[c.mentorship.mentee_id], who_is[c.mentorship.mentor_id]
            rows.append(Msg("• ", mentorships.who(mentor), " with ",
                            mentorships.who(mentee) if named else f"a mentee (mentorship #{c.mentorship.id})",
                            f", last met {c.last_met.astimezone(zone):%Y-%m-%d}"))
        if len(overdue) > 30:
            rows.append(Msg(f"...and {len(overdue) - 30} more."))
    else:
        rows.append(Msg("No relationship is overdue. Thank you all!"))
    work.send(Target.mentors(), lines(*rows))


async def monthly_report(work: Work, since: datetime) -> None:
    """The 1st of each month in the council room: how the program did last month, in numbers."""
    zone = ZoneInfo(work.policy.timezone)
    slot = report_slot(work.now, zone)
    if slot < since or not await once(work.session, f"report:{slot:%Y-%m}", work.now):
        return
    start = add_months(slot, -1)
    title = f"Program report for {start.astimezone(zone):%B %Y}"
    work.send(Target.council(), await program_figures(work.session, work.now, work.policy, start, slot, title))


async def program_figures(session: AsyncSession, now: datetime, policy: ProgramPolicy, start: datetime,
                          end: datetime, title: str) -> Msg:
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
        *_overdue_counts(now, policy),
    ]
    row = (await session.exec(select(*figures))).one()  # every figure in one round trip
    (active, started, ended, asked, escalated, waiting, with_council, changes, sessions, feedback, nominations,
     mentors) = row[:12]
    overdue = sum(row[12:]) + await _overdue_at_the_edges(session, now, policy)
    return lines(
        bold(title),
        Msg(f"• Mentorships: {active} active ({started} started, {ended} ended in the month); {mentors} mentors"),
        Msg(f"• Requests: {asked} new, {escalated} escalated; {waiting} open now ({with_council} with the council)"),
        Msg(f"• Changes of mentor asked: {changes}"),
        Msg(f"• Sessions recorded: {sessions}; relationships overdue now: {overdue}"),
        Msg(f"• Feedback answers: {feedback}; nominations: {nominations}"),
    )


async def count_overdue(session: AsyncSession, now: datetime, policy: ProgramPolicy) -> int:
    """How many active mentorships have not met as often as the program asks, counted in the database
    (the same rule as :func:`cadences`: the last meeting is the start, a session or a check-in held)."""
    counts = _overdue_counts(now, policy)
    row = (await session.exec(select(*counts))).one()
    return sum(row) + await _overdue_at_the_edges(session, now, policy)


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
    """A year ago, and for each cohort (first year, later): who is in it, its cut, its months."""
    year_ago = add_months(now, -12)
    first, later = policy.new_mentee_checkin_every_months, policy.checkin_every_months
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
            if not _shift_is_exact(now, 12):  # those that started about a year ago are judged one by one
                where.append(clear_of_edge)
            counts.append(select(func.count()).select_from(Mentorship).where(*where).scalar_subquery())
    return counts


async def _overdue_at_the_edges(session: AsyncSession, now: datetime, policy: ProgramPolicy) -> int:
    """The few mentorships the range counts leave out, judged by the rule itself (as :func:`cadences`):
    those that started about a year ago, and those that last met just after a cut (only on the
    days when adding months can clamp near the cut)."""
    year_ago, cohorts = _cuts(now, policy)
    near = [] if _shift_is_exact(now, 12) else [Mentorship.started_at.between(year_ago - EDGE, year_ago + EDGE)]
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
    total = 0
    for started, last_met in rows.values():
        last = max(t for t in (started, last_met) if t is not None)
        first_year = now < add_months(started, 12)
        every = policy.new_mentee_checkin_every_months if first_year else policy.checkin_every_months
        total += add_months(last, every) <= now
    return total


def _utc(value: str | datetime | None) -> datetime | None:
    """A time as stored (SQLite: text in UTC; PostgreSQL: an aware datetime), as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


async def _count(session: AsyncSession, query) -> int:
    return int((await session.exec(query)).one())


# ---------------------------------------------------------------- when to wake up


async def next_due(session: AsyncSession, now: datetime, policy: ProgramPolicy) -> datetime | None:
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
            times.append(add_months(c.mentorship.started_at, 12))  # the cadence changes
    ahead = [t for t in times if t is not None and t > now]
    return min(ahead) if ahead else None
