"""Group mentoring: a mentor with a small group of mentees who meet together.

A group holds at most the program's largest group (``people.largest_group``, the policy's
``max_group_size``), counting those asked and not answered yet. Every member is asked in
their DM and joins only by agreeing, even a mentee the mentor already mentors alone: being
in a group shows who they are to the other members, which a mentor may not do on their own.

Leaving, ending and changing the group's mentor follow the rules of a mentorship
(``mentorships.change_is_free``): anyone leaves or ends at any time, with no reason
required, and a reason given is kept for the council only; before the commitment is over
the council changes the group's mentor, unless the mentor is inactive or away for long.

The group's room is made by the transport for the group (``room_key`` names it, so that it
is made once); messages for it go to ``Target.group``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from commands.kinds import Role
from commands.services import audit, checkins, mentorships, people
from commands.services.commitment import commitment_end
from commands.services.errors import DomainError
from commands.services.mentorships import FreeChange, MentorInactive, NotAMentor
from commands.services.work import Event, Work
from storage.models import (
    CURRENT_MEMBER_STATES,
    CheckIn,
    CheckInKind,
    CheckInState,
    GroupMember,
    GroupSession,
    GroupState,
    MemberState,
    MentoringGroup,
    Person,
    Reminder,
    ReminderState,
    SessionKind,
)
from storage.session import Session

# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class GroupCreated(Event):
    group: MentoringGroup
    mentor: Person


@dataclass(frozen=True)
class GroupInvited(Event):
    """``mentee`` is asked in their DM to join; ``places`` are left after them."""

    group: MentoringGroup
    mentor: Person
    mentee: Person
    places: int


@dataclass(frozen=True)
class GroupAnswered(Event):
    """The mentee agreed (``joined``) or said no; the mentor is told, the group's room welcomes them."""

    group: MentoringGroup
    mentor: Person
    mentee: Person
    joined: bool


@dataclass(frozen=True)
class GroupLeft(Event):
    """A member left (never the reason): the mentor and the group's room are told."""

    group: MentoringGroup
    mentor: Person
    mentee: Person


@dataclass(frozen=True)
class GroupEnded(Event):
    """``by`` ended the group; each of ``members`` is told (never the reason)."""

    group: MentoringGroup
    by: Person
    mentor: Person
    members: tuple[Person, ...]


@dataclass(frozen=True)
class GroupMentorChanged(Event):
    group: MentoringGroup
    old: Person
    new: Person
    by: Person
    members: tuple[Person, ...]


@dataclass(frozen=True)
class GroupCheckInPlanned(Event):
    group: MentoringGroup
    checkin: CheckIn
    mentor: Person
    members: tuple[Person, ...]


@dataclass(frozen=True)
class GroupCheckInCancelled(Event):
    """The mentor cancelled a group check-in (``series``: and the rest of its repeats)."""

    group: MentoringGroup
    checkin: CheckIn
    series: bool
    mentor: Person
    members: tuple[Person, ...]


@dataclass(frozen=True)
class GroupSessionRecorded(Event):
    """A group session was recorded: each member hears of it in their DM (never in a shared room)."""

    group: MentoringGroup
    record: GroupSession
    mentor: Person
    members: tuple[Person, ...]


# ---------------------------------------------------------------- refusals


@dataclass
class NoSuchGroup(DomainError):
    """No group with this number that the sender runs or is in (the council sees every group)."""

    number: int


@dataclass
class GroupOver(DomainError):
    """The group has ended."""

    group: MentoringGroup


@dataclass
class NotGroupMentor(DomainError):
    """Only the group's mentor does this."""

    group: MentoringGroup


@dataclass
class GroupFull(DomainError):
    """The group has as many members (and people asked) as the program allows."""

    group: MentoringGroup
    limit: int


@dataclass
class AlreadyInGroup(DomainError):
    group: MentoringGroup
    person: Person
    asked: bool  # asked and not answered yet (else a member)


@dataclass
class MentorOfGroup(DomainError):
    """The group's own mentor cannot be one of its members."""

    group: MentoringGroup


@dataclass
class NotAskedToGroup(DomainError):
    number: int


@dataclass
class NotInGroup(DomainError):
    group: MentoringGroup


@dataclass
class AlreadyGroupMentor(DomainError):
    group: MentoringGroup
    mentor: Person


@dataclass
class GroupChangeNeedsCouncil(DomainError):
    """Before the group's commitment is over, the council changes its mentor."""

    group: MentoringGroup


# ---------------------------------------------------------------- lookups


async def members_of(session: Session, group_id: int,
                     states: tuple[MemberState, ...] = (MemberState.MEMBER,)) -> list[tuple[GroupMember, Person]]:
    """A group's members (or those in ``states``), in the order they were asked."""
    return list((await session.exec(
        select(GroupMember, Person).join(Person, Person.id == GroupMember.person_id)
        .where(GroupMember.group_id == group_id, GroupMember.state.in_(states))
        .order_by(GroupMember.id)
    )).all())


async def member_people(session: Session, group_id: int) -> tuple[Person, ...]:
    return tuple(p for _, p in await members_of(session, group_id))


async def groups_of(session: Session, person: Person, *, everyone: bool = False) -> list[MentoringGroup]:
    """The groups ``person`` runs or is in (or asked to), running first; every group for the council."""
    query = select(MentoringGroup)
    if not everyone:
        mine = select(GroupMember.group_id).where(GroupMember.person_id == person.id,
                                                  GroupMember.state.in_(CURRENT_MEMBER_STATES))
        query = query.where((MentoringGroup.mentor_id == person.id) | MentoringGroup.id.in_(mine))
    return list((await session.exec(query.order_by(MentoringGroup.state, MentoringGroup.id))).all())


async def sizes(session: Session, group_ids: list[int]) -> dict[int, int]:
    """How many members each group has now."""
    if not group_ids:
        return {}
    rows = (await session.exec(
        select(GroupMember.group_id, func.count()).where(GroupMember.group_id.in_(group_ids),
                                                         GroupMember.state == MemberState.MEMBER)
        .group_by(GroupMember.group_id))).all()
    return {group_id: int(n) for group_id, n in rows}


async def _current(session: Session, group_id: int, person_id: int) -> GroupMember | None:
    return (await session.exec(select(GroupMember).where(
        GroupMember.group_id == group_id, GroupMember.person_id == person_id,
        GroupMember.state.in_(CURRENT_MEMBER_STATES)))).one_or_none()


async def group_of(work: Work, me: Person, number: int, *, council: bool = False,
                   running: bool = True) -> MentoringGroup:
    """Group ``number``, if ``me`` runs it, is in it, or is on the ``council``; still running unless not ``running``."""
    group = await work.session.get(MentoringGroup, number)
    if group is None:
        raise NoSuchGroup(number)
    if not council and group.mentor_id != me.id:
        row = await _current(work.session, group.id, me.id)
        if row is None or row.state is not MemberState.MEMBER:
            raise NoSuchGroup(number)
    if running and group.state is not GroupState.ACTIVE:
        raise GroupOver(group)
    return group


def check_group_mentor(group: MentoringGroup, me: Person) -> None:
    if group.mentor_id != me.id:
        raise NotGroupMentor(group)


async def reader_ids(session: Session, group: MentoringGroup) -> set[int]:
    """Who may read the group's records besides the council: its mentor and its members now."""
    return {group.mentor_id, *(p.id for p in await member_people(session, group.id))}


# ---------------------------------------------------------------- the group and its members


def _check_can_lead(mentor: Person) -> None:
    if not mentor.is_mentor:
        raise NotAMentor(mentor)
    if mentor.inactive:
        raise MentorInactive(mentor)


async def create(work: Work, mentor: Person, name: str) -> MentoringGroup:
    """A mentor starts a group; its room is made by the transport with the first message to it."""
    _check_can_lead(mentor)
    group = MentoringGroup(name=people.clean_name(name), mentor_id=mentor.id, started_at=work.now,
                           commitment_ends_at=commitment_end(work.now, work.policy),
                           room_key=secrets.token_hex(16))
    work.session.add(group)
    await work.session.flush()
    audit.record(work.session, at=work.now, actor=mentor, entity="group", entity_id=group.id, action="created",
                 to_state=GroupState.ACTIVE.value)
    work.emit(GroupCreated(group, mentor))
    return group


async def invite(work: Work, group: MentoringGroup, mentor: Person, matrix_id: str) -> tuple[Person, int]:
    """The group's mentor asks a mentee to join; refused beyond the program's largest group.
    Returns who was asked and how many places are left after them."""
    check_group_mentor(group, mentor)
    person = await mentorships.known_person(work, matrix_id, Role.MENTEE)
    if person.id == group.mentor_id:
        raise MentorOfGroup(group)
    existing = await _current(work.session, group.id, person.id)
    if existing is not None:
        raise AlreadyInGroup(group, person, asked=existing.state is MemberState.INVITED)
    taken = len(await members_of(work.session, group.id, CURRENT_MEMBER_STATES))
    limit = people.largest_group(work.policy)
    if taken >= limit:
        raise GroupFull(group, limit)
    row = GroupMember(group_id=group.id, person_id=person.id, invited_at=work.now)
    work.session.add(row)
    try:
        await work.session.flush()
    except IntegrityError:
        raise AlreadyInGroup(group, person, asked=True) from None
    audit.record(work.session, at=work.now, actor=mentor, entity="group_member", entity_id=row.id, action="invited",
                 to_state=MemberState.INVITED.value)
    work.emit(GroupInvited(group, mentor, person, limit - taken - 1))
    return person, limit - taken - 1


async def answer(work: Work, mentee: Person, number: int, *, join: bool) -> MentoringGroup:
    """The mentee agrees to join group ``number`` (or says no), as they were asked."""
    group = await work.session.get(MentoringGroup, number)
    row = await _current(work.session, number, mentee.id) if group is not None else None
    if group is None or row is None or row.state is not MemberState.INVITED:
        raise NotAskedToGroup(number)
    if group.state is not GroupState.ACTIVE:
        raise GroupOver(group)
    row.state = MemberState.MEMBER if join else MemberState.DECLINED
    if join:
        row.joined_at = work.now
        if not mentee.is_mentee:
            mentee.is_mentee = True
        for c in await planned_checkins(work.session, group.id):
            await checkins.remind(work, c, [mentee.id])
    audit.record(work.session, at=work.now, actor=mentee, entity="group_member", entity_id=row.id,
                 action="joined" if join else "declined", from_state=MemberState.INVITED.value,
                 to_state=row.state.value)
    mentor = await mentorships.person_by_id(work.session, group.mentor_id)
    work.emit(GroupAnswered(group, mentor, mentee, join))
    return group


async def _cancel_reminders_of(session: Session, group_id: int, person_id: int) -> None:
    """The reminders still to come of the group's check-ins, for one person."""
    await session.exec(
        update(Reminder)
        .where(Reminder.person_id == person_id, Reminder.state == ReminderState.PENDING,
               Reminder.checkin_id.in_(select(CheckIn.id).where(CheckIn.group_id == group_id)))
        .values(state=ReminderState.CANCELLED)
    )


async def leave(work: Work, mentee: Person, number: int, reason: str | None) -> MentoringGroup:
    """A member leaves, at any time, a reason optional (kept for the council only)."""
    group = await group_of(work, mentee, number)
    row = await _current(work.session, group.id, mentee.id)
    if row is None or row.state is not MemberState.MEMBER:
        raise NotInGroup(group)
    row.state, row.left_at, row.leave_reason = MemberState.LEFT, work.now, reason or None
    await _cancel_reminders_of(work.session, group.id, mentee.id)
    audit.record(work.session, at=work.now, actor=mentee, entity="group_member", entity_id=row.id, action="left",
                 from_state=MemberState.MEMBER.value, to_state=MemberState.LEFT.value)
    mentor = await mentorships.person_by_id(work.session, group.mentor_id)
    work.emit(GroupLeft(group, mentor, mentee))
    return group


async def end(work: Work, group: MentoringGroup, *, by: Person, reason: str | None) -> tuple[Person, ...]:
    """The mentor ends the group (a reason optional, for the council only): its members leave it,
    its planned check-ins are cancelled. Returns the members it had."""
    check_group_mentor(group, by)
    return await close(work, group, by=by, reason=reason)


async def close(work: Work, group: MentoringGroup, *, by: Person | None, reason: str | None) -> tuple[Person, ...]:
    """End ``group`` (see ``end``); also when its mentor is forgotten."""
    members = await members_of(work.session, group.id, CURRENT_MEMBER_STATES)
    group.state, group.ended_at, group.ended_by_id, group.end_reason = (
        GroupState.ENDED, work.now, by.id if by else None, reason or None)
    for row, _ in members:
        row.state, row.left_at = MemberState.LEFT if row.state is MemberState.MEMBER else MemberState.DECLINED, work.now
    for c in await planned_checkins(work.session, group.id):
        c.state = CheckInState.CANCELLED
        await checkins.cancel_reminders(work.session, c.id)
    audit.record(work.session, at=work.now, actor=by, entity="group", entity_id=group.id, action="ended",
                 from_state=GroupState.ACTIVE.value, to_state=GroupState.ENDED.value)
    joined = tuple(p for row, p in members if row.joined_at is not None)
    mentor = await mentorships.person_by_id(work.session, group.mentor_id)
    if by is not None:
        work.emit(GroupEnded(group, by, mentor, joined))
    return joined


def change_is_free(group: MentoringGroup, mentor: Person, now: datetime, policy) -> FreeChange | None:
    """Whether the group's mentor may hand it on without the council: the rule of a mentorship."""
    return mentorships.change_is_free(group, mentor, now, policy)


async def change_mentor(work: Work, group: MentoringGroup, new: Person, *, by: Person, council: bool) -> Person:
    """Give the group another mentor: the council at any time; its mentor when free to
    (``change_is_free``). Returns the mentor before."""
    old = await mentorships.person_by_id(work.session, group.mentor_id)
    if not council:
        check_group_mentor(group, by)
        if change_is_free(group, old, work.now, work.policy) is None:
            raise GroupChangeNeedsCouncil(group)
    _check_can_lead(new)
    if new.id == old.id:
        raise AlreadyGroupMentor(group, new)
    if await _current(work.session, group.id, new.id) is not None:
        raise MentorOfGroup(group)
    group.mentor_id = new.id
    for c in await planned_checkins(work.session, group.id):
        await work.session.exec(update(Reminder).where(
            Reminder.checkin_id == c.id, Reminder.person_id == old.id, Reminder.state == ReminderState.PENDING
        ).values(state=ReminderState.CANCELLED))
        await checkins.remind(work, c, [new.id])
    audit.record(work.session, at=work.now, actor=by, entity="group", entity_id=group.id, action="mentor_changed")
    work.emit(GroupMentorChanged(group, old, new, by, await member_people(work.session, group.id)))
    return old


# ---------------------------------------------------------------- check-ins and sessions


async def planned_checkins(session: Session, group_id: int) -> list[CheckIn]:
    return list((await session.exec(
        select(CheckIn).where(CheckIn.group_id == group_id, CheckIn.state == CheckInState.SCHEDULED)
        .order_by(CheckIn.due_at, CheckIn.id))).all())


async def schedule(work: Work, group: MentoringGroup, when: datetime, zone: str, *, by: Person,
                   every_months: int | None = None, every_weeks: int | None = None) -> CheckIn:
    """The mentor plans a group check-in: the mentor and every member get the program's reminders."""
    check_group_mentor(group, by)
    c = CheckIn(group_id=group.id, kind=CheckInKind.REGULAR, due_at=when, timezone=zone, every_months=every_months,
                every_weeks=every_weeks, created_by_id=by.id, created_at=work.now)
    work.session.add(c)
    await work.session.flush()
    if every_months or every_weeks:
        c.series_id = c.id
    audit.record(work.session, at=work.now, actor=by, entity="checkin", entity_id=c.id, action="scheduled",
                 to_state=CheckInState.SCHEDULED.value)
    members = await member_people(work.session, group.id)
    await checkins.remind(work, c, [group.mentor_id, *(p.id for p in members)])
    await work.session.flush()
    work.emit(GroupCheckInPlanned(group, c, by, members))
    return c


async def group_checkin_of(work: Work, mentor: Person, number: int) -> tuple[CheckIn, MentoringGroup]:
    """Check-in ``number`` of a running group ``mentor`` leads, still planned."""
    c = await work.session.get(CheckIn, number)
    group = await work.session.get(MentoringGroup, c.group_id) if c is not None and c.group_id is not None else None
    if c is None or group is None or group.mentor_id != mentor.id:
        raise checkins.NoSuchCheckIn(number)
    if group.state is not GroupState.ACTIVE:
        raise GroupOver(group)
    if c.state is not CheckInState.SCHEDULED:
        raise checkins.CheckInNotScheduled(number, c.state)
    return c, group


async def cancel_checkin(work: Work, mentor: Person, number: int) -> tuple[CheckIn, MentoringGroup, bool]:
    """The mentor cancels a group check-in (a repeating one: the rest of its series too); the
    members are told. Returns it, its group, and whether a series ended."""
    c, group = await group_checkin_of(work, mentor, number)
    gone = await checkins.cancel(work, c, by=mentor)
    series = len(gone) > 1 or c.series_id is not None
    work.emit(GroupCheckInCancelled(group, c, series, mentor, await member_people(work.session, group.id)))
    return c, group, series


async def record_session(work: Work, group: MentoringGroup, kind: SessionKind, outcome: str,
                         next_steps: str | None, *, by: Person) -> GroupSession:
    """The mentor records a group session; a group check-in whose time has come is marked as held."""
    check_group_mentor(group, by)
    record = GroupSession(group_id=group.id, author_id=by.id, kind=kind, held_at=work.now, outcome=outcome,
                          next_steps=next_steps or None, created_at=work.now)
    work.session.add(record)
    await work.session.flush()
    audit.record(work.session, at=work.now, actor=by, entity="group_session", entity_id=record.id,
                 action="recorded")
    held = next((c for c in await planned_checkins(work.session, group.id) if c.due_at <= work.now), None)
    if held is not None:
        await checkins.mark_done(work, held, by=by)
    work.emit(GroupSessionRecorded(group, record, by, await member_people(work.session, group.id)))
    return record


async def sessions_of(session: Session, group_id: int, limit: int = 10) -> list[GroupSession]:
    """A group's latest recorded sessions, newest first."""
    return list((await session.exec(
        select(GroupSession).where(GroupSession.group_id == group_id)
        .order_by(GroupSession.held_at.desc(), GroupSession.id.desc()).limit(limit))).all())


# ---------------------------------------------------------------- the group's room


@dataclass(frozen=True)
class GroupRoom:
    """What the transport needs to find, make and keep the group's room: who belongs in it."""

    group_id: int
    name: str
    room_key: str
    room_id: str | None
    running: bool
    people: frozenset[str]  # Matrix IDs of the mentor and the members


async def room_of(session: Session, group_id: int) -> GroupRoom | None:
    group = await session.get(MentoringGroup, group_id)
    if group is None:
        return None
    mentor = await session.get(Person, group.mentor_id)
    members = await member_people(session, group.id)
    return GroupRoom(group.id, group.name, group.room_key, group.room_id, group.state is GroupState.ACTIVE,
                     frozenset({mentor.matrix_id, *(p.matrix_id for p in members)}))


async def remember_room(session: Session, group_id: int, room_id: str) -> None:
    """The group's room, once made (or found again by its key)."""
    group = await session.get(MentoringGroup, group_id)
    if group is not None and group.room_id != room_id:
        group.room_id = room_id


async def known_rooms(session: Session) -> dict[str, int]:
    """Every group room made so far: room id -> group."""
    return {room_id: group_id for group_id, room_id in (await session.exec(
        select(MentoringGroup.id, MentoringGroup.room_id).where(MentoringGroup.room_id.is_not(None)))).all()}
