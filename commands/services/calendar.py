"""A person's check-ins as an iCalendar file (RFC 5545), to import into their own calendar.

Each check-in is one event whose UID is the check-in's number at the bot's server
(``checkin-12@example.org``), so that importing a newer file updates the events already
imported instead of adding them twice. Its SEQUENCE is how many times the check-in was
moved (the audit trail records each move), so a calendar app takes a moved time over the
one it has. Times are written in the person's own time zone, with that zone's definition
(VTIMEZONE) in the file.

An event holds only what the person sees in their check-in list: when, what kind, and
with whom (a group: its name). Never an agreement, a session note, a coaching session's
skill or anything else confidential: a calendar is often synced to other services.

Only check-ins still planned, with a time agreed, are in the file. A cancelled check-in is
left out: the file is a snapshot, and the cancellation message tells the person to remove
it. A repeating check-in's next time is in it; each later time gets its own number, and
its own event, once the one before has come.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlalchemy import func, or_
from sqlmodel import select

from commands.messages import File
from commands.services.checkins import CheckInNotScheduled, NoSuchCheckIn, NoTimeAgreedYet
from storage.models import (
    AuditEvent,
    CheckIn,
    CheckInState,
    CoachingSession,
    GroupMember,
    GroupState,
    MemberState,
    MentoringGroup,
    Mentorship,
    MentorshipState,
    Person,
)
from storage.session import Session

MEETING = timedelta(minutes=60)  # how long an event lasts in the calendar: the program's meetings take about an hour
MIMETYPE = "text/calendar"
PRODID = "-//mentorbot//check-ins//EN"
DEFAULT_HOST = "localhost"  # the UIDs' host when the bot has no Matrix account (the shell)


@dataclass(frozen=True)
class Meeting:
    """A check-in as it goes into someone's calendar: with whom (``other``, for a mentorship's
    or a coaching session's) or of which group, and how many times it was moved."""

    checkin: CheckIn
    other: Person | None = None
    group: MentoringGroup | None = None
    coaching: CoachingSession | None = None
    moves: int = 0


def uid(checkin_id: int, host: str) -> str:
    """The event's UID: the same for a check-in whoever asks and however often."""
    return f"checkin-{checkin_id}@{host or DEFAULT_HOST}"


def _mentorship_queries(pid: int, conditions: list) -> list:
    # One query along each side's index (an OR over both would read every mentorship).
    return [select(CheckIn, Mentorship).join(Mentorship, Mentorship.id == CheckIn.mentorship_id)
            .where(Mentorship.state == MentorshipState.ACTIVE, side == pid, *conditions)
            for side in (Mentorship.mentor_id, Mentorship.mentee_id)]


async def _meetings(session: Session, person: Person, conditions: list) -> list[Meeting]:
    """The check-ins ``person`` takes part in (as mentor or mentee of an active mentorship, asker
    or coach of a coaching session, mentor or member of a running group) meeting ``conditions``."""
    pid = person.id
    found: list[tuple[CheckIn, int | None, MentoringGroup | None, CoachingSession | None]] = []
    for query in _mentorship_queries(pid, conditions):
        for c, m in (await session.exec(query)).all():
            found.append((c, m.mentor_id if m.mentee_id == pid else m.mentee_id, None, None))
    for c, cs in (await session.exec(
        select(CheckIn, CoachingSession).join(CoachingSession, CoachingSession.id == CheckIn.coaching_id)
        .where(or_(CoachingSession.asker_id == pid, CoachingSession.coach_id == pid), *conditions)
    )).all():
        found.append((c, cs.coach_id if cs.asker_id == pid else cs.asker_id, None, cs))
    member_of = select(GroupMember.group_id).where(GroupMember.person_id == pid,
                                                   GroupMember.state == MemberState.MEMBER)
    for c, group in (await session.exec(
        select(CheckIn, MentoringGroup).join(MentoringGroup, MentoringGroup.id == CheckIn.group_id)
        .where(MentoringGroup.state == GroupState.ACTIVE,
               or_(MentoringGroup.mentor_id == pid, MentoringGroup.id.in_(member_of)), *conditions)
    )).all():
        found.append((c, None, group, None))
    if not found:
        return []
    others = await _people(session, [other for _, other, _, _ in found if other is not None])
    moves = await moves_of(session, [c.id for c, *_ in found])
    meetings = [Meeting(c, others.get(other) if other is not None else None, group, cs, moves[c.id])
                for c, other, group, cs in found]
    return sorted(meetings, key=lambda mt: (mt.checkin.due_at, mt.checkin.id))


async def _people(session: Session, ids: list[int]) -> dict[int, Person]:
    if not ids:
        return {}
    return {p.id: p for p in (await session.exec(select(Person).where(Person.id.in_(sorted(set(ids)))))).all()}


async def moves_of(session: Session, checkin_ids: list[int]) -> Counter[int]:
    """How many times each check-in was moved, from the audit trail (one statement)."""
    rows = (await session.exec(
        select(AuditEvent.entity_id, func.count()).where(AuditEvent.entity == "checkin", AuditEvent.action == "moved",
                                                         AuditEvent.entity_id.in_(checkin_ids))
        .group_by(AuditEvent.entity_id)
    )).all()
    return Counter(dict(rows))


async def upcoming(session: Session, person: Person, now: datetime) -> list[Meeting]:
    """``person``'s check-ins with a time agreed that have not ended yet, soonest first."""
    return await _meetings(session, person, [CheckIn.state == CheckInState.SCHEDULED, CheckIn.arranged.is_(True),
                                             CheckIn.due_at > now - MEETING])


async def one(session: Session, person: Person, number: int) -> Meeting:
    """Check-in ``number``, if ``person`` takes part in it and it is planned with a time agreed."""
    found = await _meetings(session, person, [CheckIn.id == number])
    if not found:
        raise NoSuchCheckIn(number)
    c = found[0].checkin
    if c.state is not CheckInState.SCHEDULED:
        raise CheckInNotScheduled(number, c.state)
    if not c.arranged:
        raise NoTimeAgreedYet(number)
    return found[0]


def ics(entries: list[tuple[Meeting, str]], zone: ZoneInfo, *, owner: int, host: str, now: datetime,
        name: str) -> bytes:
    """The iCalendar file of ``entries`` (each meeting with its summary), its times in ``zone``, for person ``owner``
    (the calendar too keeps its UID from one file to the next)."""
    cal = Calendar.new(prodid=PRODID, method="PUBLISH", name=name, uid=f"checkins-of-{owner}@{host or DEFAULT_HOST}")
    for meeting, summary in entries:
        c = meeting.checkin
        start = c.due_at.astimezone(zone)
        cal.add_component(Event.new(uid=uid(c.id, host), summary=summary, start=start, end=start + MEETING,
                                    stamp=now, sequence=meeting.moves))
    starts = [m.checkin.due_at.astimezone(zone).date() for m, _ in entries]
    # The zone's rules around the events' dates only: a few hundred bytes, not decades of changes.
    cal.add_missing_timezones(first_date=min(starts) - timedelta(days=366), last_date=max(starts) + timedelta(days=366))
    return cal.to_ical()


def ics_file(name: str, content: bytes) -> File:
    return File(name, MIMETYPE, content.decode("utf-8"))
