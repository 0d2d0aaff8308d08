"""Mid-term and final reviews: halfway through the first commitment the bot proposes a
mid-term review to both sides, and ``final_review_days`` before a commitment ends a final
one. A review is a session record of that kind that revisits each goal of the agreement
(reached, in progress, dropped) and the progress scale; a final review also closes the
mentorship or extends it. The mentee is shown where their goals stand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func
from sqlmodel import select

from commands.services import mentorships, people, records, rules
from commands.services.commitment import extension_opens
from commands.services.errors import DomainError
from commands.services.records import REVIEWS, TooEarlyToExtend
from commands.services.work import Event, Work
from storage.models import (
    Goal,
    GoalState,
    Mentorship,
    MentorshipState,
    Person,
    ProgramNotice,
    ReviewGoal,
    SessionKind,
    SessionRecord,
)
from storage.session import Session

# A proposal not made within this long of its day (the bot was down, or the mentorship
# began before reviews were proposed) is not made any more.
PROPOSAL_LATEST = timedelta(days=30)


class Decision:
    """What a final review decides for the mentorship."""

    END = "end"
    EXTEND = "extend"


@dataclass
class NotTheirGoal(DomainError):
    """A review named a goal number that is not one of the mentee's goals."""

    number: int


@dataclass
class GoalsOnlyInReviews(DomainError):
    """Goals are revisited in a mid-term or final review only."""

    kind: str


@dataclass
class DecisionInFinalOnly(DomainError):
    """Only a final review ends or extends the mentorship."""

    kind: str


@dataclass(frozen=True)
class ReviewProposed(Event):
    """Time for a review (``kind``): both are told; the goals still open are listed."""

    kind: SessionKind
    mentee: Person
    mentor: Person
    open_goals: tuple[Goal, ...]
    ends_at: datetime  # the end of the commitment


@dataclass(frozen=True)
class ReviewRecorded(Event):
    """A review was recorded: the mentee sees where their goals stand, and what happens next."""

    kind: SessionKind
    mentee: Person
    mentor: Person
    goals: tuple[Goal, ...]  # every goal of the mentee, as they stand now
    record: SessionRecord
    decision: str | None
    ends_at: datetime


# ---------------------------------------------------------------- proposing


def _reviewed(kind: SessionKind, since):
    """A review of ``kind`` was recorded in the mentorship since ``since`` (a column or a time)."""
    return exists().where(SessionRecord.mentorship_id == Mentorship.id, SessionRecord.kind == kind,
                          SessionRecord.held_at >= since)


async def propose(work: Work) -> int:
    """Propose the reviews that have come due; returns how many were proposed."""
    days = work.policy.final_review_days
    midterm = (await work.session.exec(select(Mentorship).where(
        Mentorship.state == MentorshipState.ACTIVE, Mentorship.midterm_at <= work.now,
        Mentorship.midterm_at > work.now - PROPOSAL_LATEST,
        ~_reviewed(SessionKind.MIDTERM, Mentorship.started_at)).order_by(Mentorship.id))).all()
    final = (await work.session.exec(select(Mentorship).where(
        Mentorship.state == MentorshipState.ACTIVE, Mentorship.commitment_ends_at > work.now,
        Mentorship.commitment_ends_at <= work.now + timedelta(days=days),
        ~_reviewed(SessionKind.FINAL, work.now - timedelta(days=days))).order_by(Mentorship.id))).all()
    keys = {(kind, m.id): (f"review:midterm:{m.id}" if kind is SessionKind.MIDTERM
                           else f"review:final:{m.id}:{m.commitment_ends_at:%Y-%m-%d}")
            for kind, due in ((SessionKind.MIDTERM, midterm), (SessionKind.FINAL, final)) for m in due}
    seen = await rules.seen_keys(work.session, list(keys.values()))
    todo = [(kind, m) for kind, due in ((SessionKind.MIDTERM, midterm), (SessionKind.FINAL, final))
            for m in due if keys[(kind, m.id)] not in seen]
    if not todo:
        return 0
    # Everyone and their goals in progress in a few statements, however many are due at once.
    who = await people.by_ids(work.session, [i for _, m in todo for i in (m.mentee_id, m.mentor_id)])
    mentee_ids = sorted({m.mentee_id for _, m in todo})
    open_goals: dict[int, list[Goal]] = {}
    for start in range(0, len(mentee_ids), 500):
        for goal in (await work.session.exec(select(Goal).where(
                Goal.person_id.in_(mentee_ids[start:start + 500]), Goal.state == GoalState.OPEN)
                .order_by(Goal.id))).all():
            open_goals.setdefault(goal.person_id, []).append(goal)
    for kind, m in todo:
        work.session.add(ProgramNotice(key=keys[(kind, m.id)], sent_at=work.now))
        work.emit(ReviewProposed(kind, who[m.mentee_id], who[m.mentor_id], tuple(open_goals.get(m.mentee_id, ())),
                                 m.commitment_ends_at))
    await work.session.flush()
    return len(todo)


async def next_proposal(session: Session, now: datetime, days: int) -> datetime | None:
    """When the next review proposal comes due, for the scheduler."""
    midterm = (await session.exec(select(func.min(Mentorship.midterm_at)).where(
        Mentorship.state == MentorshipState.ACTIVE, Mentorship.midterm_at > now))).one()
    ends = (await session.exec(select(func.min(Mentorship.commitment_ends_at)).where(
        Mentorship.state == MentorshipState.ACTIVE, Mentorship.commitment_ends_at > now + timedelta(days=days)))).one()
    times = [t for t in (midterm, ends - timedelta(days=days) if ends else None) if t is not None]
    return min(times) if times else None


# ---------------------------------------------------------------- recording


async def check(work: Work, m: Mentorship, mentee: Person, kind: SessionKind,
                goals: list[tuple[int, GoalState]], decision: str | None) -> None:
    """Refuse, before anything is written, a review the mentorship cannot take."""
    if goals and kind not in REVIEWS:
        raise GoalsOnlyInReviews(kind.value)
    if decision and kind is not SessionKind.FINAL:
        raise DecisionInFinalOnly(kind.value)
    for number, _ in goals:
        goal = await work.session.get(Goal, number)
        if goal is None or goal.person_id != mentee.id:
            raise NotTheirGoal(number)
    if decision == Decision.EXTEND and work.now < extension_opens(m):
        raise TooEarlyToExtend(m.commitment_ends_at, extension_opens(m))


async def revisit(work: Work, m: Mentorship, record: SessionRecord, mentee: Person, mentor: Person,
                  goals: list[tuple[int, GoalState]], decision: str | None) -> None:
    """Write where each goal stands as of the review ``record``, carry out a final review's
    decision, and show the mentee the outcome (after :func:`check`)."""
    for number, state in goals:
        goal = await work.session.get(Goal, number)
        goal.state = state
        goal.done_at = (goal.done_at or work.now) if state is GoalState.DONE else None
        work.session.add(ReviewGoal(session_record_id=record.id, goal_id=goal.id, state=state))
    await work.session.flush()
    if decision == Decision.EXTEND:
        records.extend_commitment(work, m, by=mentor)
    everything = await records.goals_of(work.session, mentee.id)
    work.emit(ReviewRecorded(record.kind, mentee, mentor, tuple(everything), record, decision, m.commitment_ends_at))
    if decision == Decision.END:
        await mentorships.end(work, m, by=mentor, reason=None)
