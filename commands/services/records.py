"""Confidential records of a mentorship: sessions, diary, goals, feedback; and its commitment.

A relationship is committed for a period (the policy's ``commitment_months``); in its
last month it can be extended by another period. Who may read which record is decided
in ``commands.services.visibility``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from commands.kinds import Role, RoomKind
from commands.services import audit, checkins, mentorships, people, rules, visibility
from commands.services.commitment import commitment_end, extension_opens
from commands.services.visibility import Reader
from commands.services.errors import DomainError
from commands.services.work import Work
from storage.models import (
    Agreement,
    AgreementState,
    CheckIn,
    CheckInKind,
    CheckInState,
    DiaryEntry,
    Feedback,
    Goal,
    GoalState,
    Mentorship,
    MentorshipState,
    Person,
    SessionKind,
    ReviewGoal,
    SessionRecord,
)
from storage.session import Session

HISTORY_ITEMS = 10


@dataclass
class NotYourMentee(DomainError):
    """The person named is not the sender's current mentee (see ``mentorships.mentee_of``)."""

    matrix_id: str


@dataclass
class NoMentorToExtend(DomainError):
    """A mentee with no active mentorship asked to extend (a mentor must name the mentee)."""

    is_mentor: bool


@dataclass
class TooEarlyToExtend(DomainError):
    """A commitment can be extended in its last month only."""

    ends_at: datetime
    opens_at: datetime


@dataclass
class NoMentorshipForFeedback(DomainError):
    is_mentor: bool


@dataclass
class NoSuchGoal(DomainError):
    number: int


@dataclass
class NotYourMenteesHistory(DomainError):
    """Someone asked for the history of a mentee who is not theirs."""


# ---------------------------------------------------------------- whose mentee


async def mentee_of(work: Work, mentor: Person, matrix_id: str) -> tuple[Mentorship, Person]:
    """``mentor``'s active mentorship with the mentee ``matrix_id``; ``NotYourMentee`` otherwise."""
    try:
        mentee, current = await mentorships.mentee_of(work, mentor, matrix_id)  # the rule's one home
    except mentorships.NotYourMentee:
        raise NotYourMentee(matrix_id) from None  # said with the ID as typed, in records' words
    return current, mentee


# ---------------------------------------------------------------- commitment


async def mentorship_named(work: Work, me: Person, mentee: str | None) -> Mentorship | None:
    """With a mentee named, ``me``'s mentorship with them (``NotYourMentee`` if there is none);
    else the one ``me`` has as a mentee, if any."""
    if mentee:
        m, _ = await mentee_of(work, me, mentee)
        return m
    return await mentorships.active_of(work.session, me.id)


async def mentorship_to_extend(work: Work, me: Person, mentee: str | None) -> Mentorship:
    """The mentorship ``me`` wants to extend: with the mentee named (as a mentor), or their own (as a mentee)."""
    m = await mentorship_named(work, me, mentee)
    if m is None:
        raise NoMentorToExtend(is_mentor=me.is_mentor)
    return m


def extend_commitment(work: Work, m: Mentorship, *, by: Person) -> None:
    """Go on for another commitment period, counted from the end of the current one (or now, if later)."""
    opens = extension_opens(m)
    if work.now < opens:
        raise TooEarlyToExtend(m.commitment_ends_at, opens)
    before = m.commitment_ends_at
    m.commitment_ends_at = commitment_end(max(before, work.now), work.policy)
    audit.record(work.session, at=work.now, actor=by, entity="mentorship", entity_id=m.id, action="extended",
                 from_state=f"{before:%Y-%m-%d}", to_state=f"{m.commitment_ends_at:%Y-%m-%d}")


# ---------------------------------------------------------------- sessions


async def record_session(work: Work, m: Mentorship, kind: SessionKind, parts: dict, *,
                         by: Person) -> tuple[SessionRecord, CheckIn | None]:
    """Record a session of ``m``; the planned check-in it fulfils is marked as held (returned with it)."""
    record = SessionRecord(mentorship_id=m.id, author_id=by.id, kind=kind, held_at=work.now, created_at=work.now,
                           **parts)
    work.session.add(record)
    checkins.met(m, work.now)
    await work.session.flush()
    audit.record(work.session, at=work.now, actor=by, entity="session", entity_id=record.id, action="recorded")
    held = await held_checkin(work, m, kind)
    if held is not None:
        await checkins.mark_done(work, held, by=by)
    return record, held


async def held_checkin(work: Work, m: Mentorship, kind: SessionKind) -> CheckIn | None:
    """The planned check-in a session fulfils: the orientation for an orientation
    session, else the agreed one whose time has come (or is today)."""
    planned = (await work.session.exec(
        select(CheckIn).where(CheckIn.mentorship_id == m.id, CheckIn.state == CheckInState.SCHEDULED)
        .order_by(CheckIn.due_at, CheckIn.id)
    )).all()
    if kind is SessionKind.ORIENTATION:
        return next((c for c in planned if c.kind is CheckInKind.ORIENTATION), None)
    soon = work.now + timedelta(hours=12)
    held = [c for c in planned if c.arranged and c.due_at <= soon]
    if held:
        return held[-1]  # the latest agreed one whose time has come
    # No time was agreed: the session fulfils a deadline that is due (the follow-up).
    return next((c for c in planned if not c.arranged and c.kind is not CheckInKind.ORIENTATION
                 and c.due_at <= work.now + timedelta(days=7)), None)


# ---------------------------------------------------------------- diary and goals


async def write_diary(work: Work, me: Person, entry: str) -> None:
    current = await mentorships.active_of(work.session, me.id)
    work.session.add(DiaryEntry(person_id=me.id, mentorship_id=current.id if current else None, text=entry,
                                created_at=work.now))


async def diary_of(session: Session, person_id: int, limit: int = HISTORY_ITEMS) -> list[DiaryEntry]:
    """The latest diary entries of ``person_id``, newest first."""
    return list((await session.exec(
        select(DiaryEntry).where(DiaryEntry.person_id == person_id)
        .order_by(DiaryEntry.created_at.desc(), DiaryEntry.id.desc()).limit(limit)
    )).all())


async def goals_of(session: Session, person_id: int) -> list[Goal]:
    return list((await session.exec(select(Goal).where(Goal.person_id == person_id).order_by(Goal.id))).all())


async def add_goal(work: Work, me: Person, goal: str) -> Goal:
    row = Goal(person_id=me.id, text=" ".join(goal.split()), created_at=work.now)
    work.session.add(row)
    await work.session.flush()
    return row


async def reach_goal(work: Work, me: Person, number: int) -> bool:
    """Mark goal ``number`` of ``me`` as reached; False if it was reached already."""
    row = await work.session.get(Goal, number)
    if row is None or row.person_id != me.id:
        raise NoSuchGoal(number)
    if row.state is GoalState.DONE:
        return False
    row.state, row.done_at = GoalState.DONE, work.now
    return True


# ---------------------------------------------------------------- history


@dataclass
class History:
    """What one reader may see of a mentee's record, newest first."""

    subject: Person
    readers: set[Reader]
    room: RoomKind
    mentorships: list[tuple[Mentorship, Person]]  # with the mentor
    sessions: list[SessionRecord]
    planned: list[CheckIn]
    goals: list[Goal]
    diary: list[DiaryEntry]
    agreements: dict[int, Agreement]  # the agreement in force of each mentorship shown, by mentorship
    reviewed: dict[int, list[tuple[Goal, GoalState]]]  # goals revisited by each review, by session record

    def may(self, field: str) -> bool:
        return visibility.may_read(field, self.readers, self.room)


async def history(work: Work, me: Person, mentee: str | None, *, council: bool, room: RoomKind) -> History:
    """The record of a mentee (``me`` if no one is named): the mentee their own, their current
    mentor their own mentorship's, the council everything."""
    subject = await mentorships.known_person(work, mentee, Role.MENTEE) if mentee else me
    session = work.session
    # Every mentorship of the mentee, newest first, in one statement; the active one is among them.
    ships = (await session.exec(select(Mentorship).where(Mentorship.mentee_id == subject.id)
                                .order_by(Mentorship.started_at.desc()))).all()
    current = next((m for m in ships if m.state is MentorshipState.ACTIVE), None)
    readers = set()  # how the reader relates to this mentee, for the rule set
    if subject.id == me.id:
        readers.add(Reader.SUBJECT)
    if current is not None and current.mentor_id == me.id:
        readers.add(Reader.MENTOR)
    if council:
        readers.add(Reader.COUNCIL)
    if not readers:
        raise NotYourMenteesHistory()
    if not council and subject.id != me.id:
        ships = [m for m in ships if m.id == current.id]  # a mentor sees their own mentorship only
    ids = [m.id for m in ships]
    records = (await session.exec(select(SessionRecord).where(SessionRecord.mentorship_id.in_(ids))
                                  .order_by(SessionRecord.held_at.desc()).limit(HISTORY_ITEMS))).all() if ids else []
    planned = await checkins.upcoming(session, [m.id for m in ships if m.state is MentorshipState.ACTIVE], limit=5)
    entries = (await session.exec(
        select(DiaryEntry).where(DiaryEntry.person_id == subject.id,
                                 *([] if council or subject.id == me.id else [DiaryEntry.mentorship_id.in_(ids)]))
        .order_by(DiaryEntry.created_at.desc()).limit(HISTORY_ITEMS)
    )).all()
    mentors = await people.by_ids(session, (m.mentor_id for m in ships))
    agreed = (await session.exec(select(Agreement).where(
        Agreement.mentorship_id.in_(ids), Agreement.state == AgreementState.CONFIRMED))).all() if ids else []
    return History(subject=subject, readers=readers, room=room,
                   mentorships=[(m, mentors[m.mentor_id]) for m in ships],
                   sessions=list(records), planned=planned, goals=await goals_of(session, subject.id),
                   diary=list(entries), agreements={a.mentorship_id: a for a in agreed},
                   reviewed=await revisited(session, [r.id for r in records if r.kind in REVIEWS]))


REVIEWS = (SessionKind.MIDTERM, SessionKind.FINAL)


async def revisited(session: Session, record_ids: list[int]) -> dict[int, list[tuple[Goal, GoalState]]]:
    """For each review record, the goals it revisited and where they stood then."""
    if not record_ids:
        return {}
    rows = (await session.exec(select(ReviewGoal, Goal).join(Goal, Goal.id == ReviewGoal.goal_id)
                               .where(ReviewGoal.session_record_id.in_(record_ids)).order_by(ReviewGoal.id))).all()
    out: dict[int, list[tuple[Goal, GoalState]]] = {}
    for review, goal in rows:
        out.setdefault(review.session_record_id, []).append((goal, review.state))
    return out


# ---------------------------------------------------------------- feedback


def feedback_round(work: Work) -> str:
    """The feedback round open now: the year of the program's feedback month."""
    return str(rules.feedback_slot(work.now, ZoneInfo(work.policy.timezone), work.policy.feedback_month).year)


async def mentorship_for_feedback(work: Work, me: Person, mentee: str | None) -> Mentorship:
    """The mentorship ``me`` gives feedback on: with the mentee named (as a mentor), or their own."""
    m = await mentorship_named(work, me, mentee)
    if m is None:
        raise NoMentorshipForFeedback(is_mentor=me.is_mentor)
    return m


async def give_feedback(work: Work, me: Person, m: Mentorship, well: str, better: str | None) -> str:
    """Record ``me``'s feedback on ``m`` for this round, replacing an earlier answer; returns the round."""
    year = feedback_round(work)
    row = (await work.session.exec(select(Feedback).where(
        Feedback.author_id == me.id, Feedback.mentorship_id == m.id, Feedback.round == year))).first()
    if row is None:
        row = Feedback(author_id=me.id, mentorship_id=m.id, round=year, created_at=work.now)
        work.session.add(row)
    row.strengths, row.improve = well, better
    return year


async def feedback_answers(session: Session, year: str) -> list[tuple[Feedback, Person]]:
    return list((await session.exec(select(Feedback, Person).join(Person, Person.id == Feedback.author_id)
                                    .where(Feedback.round == year).order_by(Feedback.id))).all())
