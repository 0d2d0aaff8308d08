"""Check-ins and their reminders.

Times are stored in UTC with the zone they were planned in; a repeating check-in
keeps its local time of day across daylight-saving changes. Each reminder is a
row, marked sent in the same transaction that queues its message, so that it is
sent once whatever restarts happen; reminders that came due while the bot was
down are sent only while they still make sense.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, update
from sqlalchemy.orm import aliased
from sqlmodel import select

from commands.clock import add_months
from commands.services import audit
from commands.services.errors import DomainError
from commands.services.work import Event, Work
from storage.models import (
    CheckIn,
    CheckInKind,
    CheckInState,
    CoachingSession,
    GroupMember,
    GroupState,
    MemberState,
    MentoringGroup,
    Mentorship,
    MentorshipState,
    Person,
    Reminder,
    ReminderState,
)
from storage.session import Session

BATCH = 500  # reminders handled in one transaction


@dataclass(frozen=True)
class ReminderDue(Event):
    """A reminder's time has come: ``to`` (the mentee or the mentor) hears of the check-in ahead.

    For a coaching session's check-in (``coaching``), ``mentee`` is its asker and ``mentor`` its coach."""

    checkin: CheckIn
    to: Person
    mentee: Person
    mentor: Person
    coaching: CoachingSession | None = None
    due_at: datetime | None = None  # when the reminder was due (it goes now, perhaps late)


def attendees():
    """Who a check-in is for, as SQL over a query of check-ins outer-joined to ``Mentorship`` and
    ``CoachingSession`` (see :func:`with_owner`): (guest, host), that is the mentee and the mentor of a
    mentorship's check-in, the asker and the coach of a coaching session's."""
    return (func.coalesce(Mentorship.mentee_id, CoachingSession.asker_id),
            func.coalesce(Mentorship.mentor_id, CoachingSession.coach_id))


def with_owner(query):
    """``query`` (over check-ins) joined to what each check-in belongs to: its mentorship or its coaching session."""
    return (query.outerjoin(Mentorship, Mentorship.id == CheckIn.mentorship_id)
            .outerjoin(CoachingSession, CoachingSession.id == CheckIn.coaching_id))


def next_time(c: CheckIn) -> datetime:
    """The next occurrence of a repeating check-in: same local time of day in its zone."""
    zone = ZoneInfo(c.timezone)
    wall = c.due_at.astimezone(zone).replace(tzinfo=None)
    wall = add_months(wall, c.every_months) if c.every_months else wall + timedelta(weeks=c.every_weeks or 0)
    # A wall time that does not exist (a spring-forward gap) is read with the offset before it.
    return wall.replace(tzinfo=zone).astimezone(ZoneInfo("UTC"))


@dataclass(frozen=True)
class GroupReminderDue(Event):
    """A group check-in's reminder time has come: ``to`` (its mentor and members) hear of it
    together, in the group's room."""

    checkin: CheckIn
    group: MentoringGroup
    to: tuple[Person, ...]
    mentor: Person
    due_at: datetime | None = None  # when the first of its reminders was due


@dataclass
class NoSuchCheckIn(DomainError):
    """No check-in with this number that the sender takes part in (as its mentor, or its mentee)."""

    number: int


@dataclass
class CheckInOfCoaching(DomainError):
    """The check-in is a single coaching session's: it is changed through that session."""

    number: int
    coaching_id: int


@dataclass
class CheckInOfEndedMentorship(DomainError):
    number: int


@dataclass
class CheckInNotScheduled(DomainError):
    """The check-in was already held or cancelled."""

    number: int
    state: CheckInState


@dataclass
class NotHeldYet(DomainError):
    """An agreed check-in cannot be marked as held before its time."""

    checkin_id: int
    due_at: datetime


@dataclass
class NothingToConfirm(DomainError):
    """The mentee has no agreed, unconfirmed check-in ahead."""


@dataclass
class OnlyMenteeConfirms(DomainError):
    checkin_id: int


@dataclass
class NoTimeAgreedYet(DomainError):
    """A program deadline with no time agreed cannot be confirmed."""

    checkin_id: int


# ---------------------------------------------------------------- lookups


def partner_id(m: Mentorship, person_id: int) -> int:
    """The other person in ``m``: the mentor for its mentee, the mentee for its mentor."""
    return m.mentor_id if m.mentee_id == person_id else m.mentee_id


async def checkin_of(work: Work, me: Person, number: int, *, mentor_only: bool = False) -> tuple[CheckIn, Mentorship]:
    """Check-in ``number``, still planned, if ``me`` is its mentor (or, unless ``mentor_only``, its mentee)."""
    c = await work.session.get(CheckIn, number)
    if c is not None and c.coaching_id is not None:
        cs = await work.session.get(CoachingSession, c.coaching_id)
        if cs is not None and me.id in (cs.asker_id, cs.coach_id):
            raise CheckInOfCoaching(number, cs.id)
    m = await work.session.get(Mentorship, c.mentorship_id) if c and c.mentorship_id else None
    # A group's check-in is planned with ``group checkin``, not here.
    m = await work.session.get(Mentorship, c.mentorship_id) if c and c.mentorship_id is not None else None
    allowed = m is not None and (m.mentor_id == me.id or (not mentor_only and m.mentee_id == me.id))
    if c is None or m is None or not allowed:
        raise NoSuchCheckIn(number)
    if m.state is not MentorshipState.ACTIVE:
        raise CheckInOfEndedMentorship(number)
    if c.state is not CheckInState.SCHEDULED:
        raise CheckInNotScheduled(number, c.state)
    return c, m


async def active_mentorships_of(session: Session, person_id: int, *, as_mentee: bool = False) -> list[Mentorship]:
    """The active mentorships ``person_id`` is in, as a mentor or as a mentee (only as a mentee: ``as_mentee``)."""
    sides = (Mentorship.mentee_id,) if as_mentee else (Mentorship.mentor_id, Mentorship.mentee_id)
    # Two lookups, each along its own index (one query with OR would read every mentorship).
    return [m for side in sides for m in (await session.exec(
        select(Mentorship).where(Mentorship.state == MentorshipState.ACTIVE, side == person_id)
    )).all()]


async def upcoming(session: Session, mentorship_ids: list[int], limit: int = 30) -> list[CheckIn]:
    if not mentorship_ids:
        return []
    result = await session.exec(
        select(CheckIn)
        .where(CheckIn.mentorship_id.in_(mentorship_ids), CheckIn.state == CheckInState.SCHEDULED)
        .order_by(CheckIn.due_at, CheckIn.id)
        .limit(limit)
    )
    return list(result.all())


async def open_deadline(session: Session, mentorship_id: int) -> CheckIn | None:
    """The program's earliest deadline (orientation, follow-up) with no time agreed yet."""
    result = await session.exec(
        select(CheckIn)
        .where(CheckIn.mentorship_id == mentorship_id, CheckIn.state == CheckInState.SCHEDULED,
               CheckIn.arranged.is_(False))
        .order_by(CheckIn.due_at, CheckIn.id)
        .limit(1)
    )
    return result.first()


# ---------------------------------------------------------------- changes


def reminder_times(work: Work, c: CheckIn) -> list[tuple[int, datetime]]:
    """(minutes before, when) of each configured reminder of an agreed check-in still ahead."""
    if not c.arranged:
        return []
    work.planned = True
    times = [(minutes, c.due_at - timedelta(minutes=minutes)) for minutes in work.policy.reminder_offsets()]
    return [(minutes, due) for minutes, due in times if due > work.now]


async def plan_reminders(work: Work, c: CheckIn, m: Mentorship) -> None:
    """Reminders for mentee and mentor, at each configured time before the check-in still ahead."""
    await remind(work, c, (m.mentee_id, m.mentor_id))


async def remind(work: Work, c: CheckIn, person_ids: Sequence[int]) -> None:
    """Reminders for each of ``person_ids``, at each configured time before the check-in still ahead."""
    rows = [{"checkin_id": c.id, "person_id": person_id, "before_minutes": minutes, "due_at": due}
            for minutes, due in reminder_times(work, c) for person_id in person_ids]
    if rows:  # one statement for all of them
        await work.session.exec(insert(Reminder.__table__), params=rows)


async def hand_over(work: Work, c: CheckIn, m: Mentorship, old_mentor_id: int) -> None:
    """A check-in moved to a new mentorship (a change of mentor): the old mentor's reminders
    go, the new mentor's are planned; the mentee's stay as they are."""
    await work.session.exec(
        delete(Reminder).where(Reminder.checkin_id == c.id, Reminder.person_id == old_mentor_id)
    )
    c.mentorship_id = m.id
    for minutes, due in reminder_times(work, c):
        work.session.add(Reminder(checkin_id=c.id, person_id=m.mentor_id, before_minutes=minutes, due_at=due))


async def cancel_reminders(session: Session, checkin_id: int) -> None:
    await session.exec(
        update(Reminder)
        .where(Reminder.checkin_id == checkin_id, Reminder.state == ReminderState.PENDING)
        .values(state=ReminderState.CANCELLED)
    )


async def schedule(
    work: Work,
    m: Mentorship,
    when: datetime,
    zone: str,
    *,
    by: Person,
    every_months: int | None = None,
    every_weeks: int | None = None,
) -> CheckIn:
    """Plan a check-in. The first one agreed after a program deadline (the orientation,
    its follow-up) fulfils that deadline instead of adding another meeting."""
    deadline = None if (every_months or every_weeks) else await open_deadline(work.session, m.id)
    if deadline is not None:
        c = deadline
        c.due_at, c.timezone, c.arranged, c.created_by_id = when, zone, True, by.id
    else:
        c = CheckIn(mentorship_id=m.id, kind=CheckInKind.REGULAR, due_at=when, timezone=zone,
                    every_months=every_months, every_weeks=every_weeks, created_by_id=by.id, created_at=work.now)
        work.session.add(c)
    await work.session.flush()
    if c.series_id is None and (every_months or every_weeks):
        c.series_id = c.id
    audit.record(work.session, at=work.now, actor=by, entity="checkin", entity_id=c.id, action="scheduled",
                 to_state=CheckInState.SCHEDULED.value)
    await plan_reminders(work, c, m)
    await work.session.flush()
    return c


async def move(work: Work, c: CheckIn, m: Mentorship, when: datetime, zone: str, *, by: Person) -> None:
    c.due_at, c.timezone, c.arranged, c.confirmed_at = when, zone, True, None
    await cancel_reminders(work.session, c.id)
    await work.session.flush()
    # One reminder row per person and time-before: rows of the old time (sent or not) are
    # set to the new time and pending again, so the new time is reminded too.
    existing = set((await work.session.exec(
        select(Reminder.person_id, Reminder.before_minutes).where(Reminder.checkin_id == c.id)
    )).all())
    for minutes, due in reminder_times(work, c):
        for person_id in (m.mentee_id, m.mentor_id):
            if (person_id, minutes) in existing:
                await work.session.exec(
                    update(Reminder)
                    .where(Reminder.checkin_id == c.id, Reminder.person_id == person_id,
                           Reminder.before_minutes == minutes)
                    .values(due_at=due, state=ReminderState.PENDING, sent_at=None)
                )
            else:
                work.session.add(Reminder(checkin_id=c.id, person_id=person_id, before_minutes=minutes, due_at=due))
    audit.record(work.session, at=work.now, actor=by, entity="checkin", entity_id=c.id, action="moved",
                 from_state=CheckInState.SCHEDULED.value, to_state=CheckInState.SCHEDULED.value)


async def cancel(work: Work, c: CheckIn, *, by: Person) -> list[CheckIn]:
    """Cancel a check-in; for a repeating one, the rest of its series too. Returns those cancelled."""
    if c.series_id is not None:
        gone = list((await work.session.exec(
            select(CheckIn).where(CheckIn.series_id == c.series_id, CheckIn.state == CheckInState.SCHEDULED,
                                  CheckIn.due_at >= c.due_at)
        )).all())
    else:
        gone = [c]
    for item in gone:
        item.state = CheckInState.CANCELLED
        await cancel_reminders(work.session, item.id)
        audit.record(work.session, at=work.now, actor=by, entity="checkin", entity_id=item.id, action="cancelled",
                     from_state=CheckInState.SCHEDULED.value, to_state=CheckInState.CANCELLED.value)
    return gone


def met(m: Mentorship, at: datetime) -> None:
    """Mentor and mentee met at ``at`` (a session recorded, a check-in done)."""
    if m.last_met_at is None or at > m.last_met_at:
        m.last_met_at = at


async def mark_done(work: Work, c: CheckIn, *, by: Person | None) -> None:
    c.state, c.done_at = CheckInState.DONE, work.now
    m = await work.session.get(Mentorship, c.mentorship_id) if c.mentorship_id is not None else None
    if m is not None:
        met(m, work.now)
    await cancel_reminders(work.session, c.id)
    audit.record(work.session, at=work.now, actor=by, entity="checkin", entity_id=c.id, action="done",
                 from_state=CheckInState.SCHEDULED.value, to_state=CheckInState.DONE.value)
    if c.kind is CheckInKind.ORIENTATION:
        # The follow-up comes followup_days after the orientation actually took place.
        follow = (await work.session.exec(
            select(CheckIn).where(CheckIn.mentorship_id == c.mentorship_id, CheckIn.kind == CheckInKind.FOLLOWUP,
                                  CheckIn.state == CheckInState.SCHEDULED, CheckIn.arranged.is_(False))
        )).first()
        if follow is not None:
            follow.due_at = work.now + timedelta(days=work.policy.followup_days)


async def hold(work: Work, c: CheckIn, *, by: Person) -> None:
    """The mentor marks a check-in as held: an agreed one only once its time has come."""
    if c.due_at > work.now and c.arranged:
        raise NotHeldYet(c.id, c.due_at)
    await mark_done(work, c, by=by)


async def confirm(work: Work, mentee: Person, number: int | None) -> tuple[CheckIn, Mentorship, bool]:
    """The mentee confirms check-in ``number``, or their next agreed one still unconfirmed.
    Returns it, its mentorship, and whether it was confirmed already."""
    if number is None:
        current = next(iter(await active_mentorships_of(work.session, mentee.id, as_mentee=True)), None)
        planned = [c for c in await upcoming(work.session, [current.id] if current else [])
                   if c.arranged and not c.confirmed_at and c.due_at > work.now]
        if not planned:
            raise NothingToConfirm()
        c, m = planned[0], current
    else:
        c, m = await checkin_of(work, mentee, number)
        if m.mentee_id != mentee.id:
            raise OnlyMenteeConfirms(c.id)
        if not c.arranged:
            raise NoTimeAgreedYet(c.id)
    if c.confirmed_at:
        return c, m, True
    c.confirmed_at = work.now
    return c, m, False


async def roll_series(work: Work) -> int:
    """A repeating check-in whose time has come gets its next occurrence (with reminders)."""
    # Held early or not, an occurrence whose time has come carries the series on; a
    # cancelled one ends it.
    due = list((await work.session.exec(
        select(CheckIn).where(CheckIn.state != CheckInState.CANCELLED, CheckIn.series_id.is_not(None),
                              CheckIn.due_at <= work.now)
    )).all())
    made = 0
    for c in due:
        later = (await work.session.exec(
            select(CheckIn.id).where(CheckIn.series_id == c.series_id, CheckIn.due_at > c.due_at)
        )).first()
        if later is not None:
            continue
        if c.group_id is not None:
            group = await work.session.get(MentoringGroup, c.group_id)
            if group is None or group.state is not GroupState.ACTIVE:
                continue
            m = None
        else:
            m = await work.session.get(Mentorship, c.mentorship_id)
            if m is None or m.state.value != "active":
                continue
        nxt = CheckIn(mentorship_id=c.mentorship_id, group_id=c.group_id, kind=c.kind, due_at=next_time(c),
                      timezone=c.timezone,
                      every_months=c.every_months, every_weeks=c.every_weeks, series_id=c.series_id,
                      created_by_id=c.created_by_id, created_at=work.now)
        while nxt.due_at <= work.now:  # the bot was down for several periods: go to the next one ahead
            nxt.due_at = next_time(nxt)
        work.session.add(nxt)
        await work.session.flush()
        if m is not None:
            await plan_reminders(work, nxt, m)
        else:
            await remind(work, nxt, await group_people(work.session, group))
        made += 1
    return made


# ---------------------------------------------------------------- reminders


async def send_due_reminders(work: Work, limit: int = BATCH) -> int:
    """Send the reminders whose time has come; returns how many rows were settled.

    A reminder for a check-in that already began (the bot was down) is dropped;
    of several reminders due for the same check-in and person, only the latest is
    sent (one message, not a late burst).
    """
    mentee, mentor, recipient = aliased(Person), aliased(Person), aliased(Person)
    guest, host = attendees()
    rows = (await work.session.exec(
        with_owner(select(Reminder, CheckIn, recipient, mentee, mentor, CoachingSession)
                   .join(CheckIn, CheckIn.id == Reminder.checkin_id))
        .join(recipient, recipient.id == Reminder.person_id)
        .join(mentee, mentee.id == guest)
        .join(mentor, mentor.id == host)
        .where(Reminder.state == ReminderState.PENDING, Reminder.due_at <= work.now)
        .order_by(Reminder.due_at, Reminder.id)
        .limit(limit)
    )).all()
    settled = await _send_due_group_reminders(work, limit - len(rows)) if len(rows) < limit else 0
    if not rows:
        return settled
    groups: dict[tuple[int, int], list] = defaultdict(list)
    for row in rows:
        groups[(row[0].checkin_id, row[0].person_id)].append(row)
    sent_ids: list[int] = []
    dropped_ids: list[int] = []
    for items in groups.values():
        reminder, c, to_whom, mentee_p, mentor_p, coaching = min(items, key=lambda r: r[0].before_minutes)
        others = [r[0].id for r in items if r[0].id != reminder.id]
        dropped_ids.extend(others)
        if c.state is not CheckInState.SCHEDULED or c.due_at <= work.now:
            dropped_ids.append(reminder.id)
            continue
        sent_ids.append(reminder.id)
        work.emit(ReminderDue(checkin=c, to=to_whom, mentee=mentee_p, mentor=mentor_p, coaching=coaching,
                              due_at=reminder.due_at))
    await _settle(work, sent_ids, dropped_ids)
    return len(rows) + settled


async def _settle(work: Work, sent_ids: list[int], dropped_ids: list[int]) -> None:
    """Mark reminders sent or dropped, in one statement each."""
    for ids, state in ((sent_ids, ReminderState.SENT), (dropped_ids, ReminderState.DROPPED)):
        if ids:
            await work.session.exec(
                update(Reminder).where(Reminder.id.in_(ids), Reminder.state == ReminderState.PENDING)
                .values(state=state, sent_at=work.now if state is ReminderState.SENT else None)
            )


async def group_people(session: Session, group: MentoringGroup) -> list[int]:
    """Who a group check-in reminds: its mentor and its members now."""
    members = (await session.exec(select(GroupMember.person_id).where(
        GroupMember.group_id == group.id, GroupMember.state == MemberState.MEMBER))).all()
    return [group.mentor_id, *members]


async def _send_due_group_reminders(work: Work, limit: int) -> int:
    """The reminders of group check-ins that have come due, as ``send_due_reminders`` does them,
    each person's once; those due together for one check-in go out as one message to the group."""
    mentor, recipient = aliased(Person), aliased(Person)
    rows = (await work.session.exec(
        select(Reminder, CheckIn, recipient, MentoringGroup, mentor)
        .join(CheckIn, CheckIn.id == Reminder.checkin_id)
        .join(MentoringGroup, MentoringGroup.id == CheckIn.group_id)
        .join(recipient, recipient.id == Reminder.person_id)
        .join(mentor, mentor.id == MentoringGroup.mentor_id)
        .where(Reminder.state == ReminderState.PENDING, Reminder.due_at <= work.now)
        .order_by(Reminder.due_at, Reminder.id)
        .limit(limit)
    )).all()
    latest: dict[tuple[int, int], tuple] = {}
    dropped_ids: list[int] = []
    for row in rows:  # of several due for one check-in and person, only the latest is sent
        key = (row[0].checkin_id, row[0].person_id)
        if key in latest and latest[key][0].before_minutes <= row[0].before_minutes:
            dropped_ids.append(row[0].id)
            continue
        if key in latest:
            dropped_ids.append(latest[key][0].id)
        latest[key] = row
    due: dict[int, list] = defaultdict(list)
    for row in latest.values():
        reminder, c = row[0], row[1]
        if c.state is not CheckInState.SCHEDULED or c.due_at <= work.now:
            dropped_ids.append(reminder.id)
        else:
            due[c.id].append(row)
    sent_ids = [row[0].id for items in due.values() for row in items]
    for items in due.values():
        _, c, _, group, mentor_p = items[0]
        work.emit(GroupReminderDue(checkin=c, group=group, to=tuple(row[2] for row in items), mentor=mentor_p,
                                   due_at=min(row[0].due_at for row in items)))
    await _settle(work, sent_ids, dropped_ids)
    return len(rows)


async def next_reminder_at(session: Session) -> datetime | None:
    result = await session.exec(
        select(Reminder.due_at).where(Reminder.state == ReminderState.PENDING).order_by(Reminder.due_at).limit(1)
    )
    return result.first()
