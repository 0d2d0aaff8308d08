"""The agreement of a mentorship: what mentor and mentee agree on in their first session.

One side writes a draft, the other confirms it; a change is a new draft, confirmed again.
It holds the mentee's goals (each becomes one of their goals, which reviews revisit),
what each side commits to, how and how often they talk, how a meeting is cancelled and
how urgent help is asked for. It is confidential to the two and the council (see
``commands.services.visibility``). About ``followup_days`` after the start, both are asked
whether it works, and their answers are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, insert
from sqlmodel import select

from commands.services import audit, mentorships, people
from commands.services.errors import DomainError
from commands.services.work import Event, Work
from storage.models import (
    Agreement,
    AgreementCheck,
    AgreementState,
    Goal,
    GoalState,
    Mentorship,
    MentorshipState,
    Person,
)
from storage.session import Session

# The parts of an agreement, in the order they are shown and asked for.
PARTS = ("goals", "mentor_part", "mentee_part", "contact", "cancelling", "urgent")
# A follow-up not asked within this long of its day (the bot was down, or the mentorship
# began before agreements were kept) is not asked any more.
FOLLOWUP_LATEST = timedelta(days=14)


@dataclass
class NoMentorship(DomainError):
    """Someone with no running mentorship (a mentor must name the mentee)."""

    is_mentor: bool


@dataclass
class NoDraft(DomainError):
    """Nothing waits to be confirmed or discarded."""

    has_agreement: bool


@dataclass
class OwnDraft(DomainError):
    """The side that wrote the draft tried to confirm it: the other side confirms."""

    other: Person


@dataclass
class DraftIncomplete(DomainError):
    """A draft with parts still to write cannot be confirmed."""

    missing: tuple[str, ...]


@dataclass
class NotAsked(DomainError):
    """An answer to the follow-up before it was asked."""

    asks_at: datetime


@dataclass(frozen=True)
class Side:
    """A mentorship seen from one of its two people."""

    mentorship: Mentorship
    me: Person
    other: Person
    mentee: Person
    mentor: Person

    @property
    def i_am_mentor(self) -> bool:
        return self.me.id == self.mentor.id


@dataclass(frozen=True)
class AgreementDrafted(Event):
    """One side wrote (part of) a draft; the other side is asked once it is complete."""

    side: Side
    draft: Agreement
    missing: tuple[str, ...]


@dataclass(frozen=True)
class AgreementConfirmed(Event):
    side: Side  # ``me`` confirmed
    agreement: Agreement
    goals: tuple[Goal, ...]


@dataclass(frozen=True)
class DraftDiscarded(Event):
    side: Side


@dataclass(frozen=True)
class AgreementFollowUp(Event):
    """About a month in: does the agreement work? Asked of ``person`` about the mentorship with ``other``."""

    person: Person
    other: Person
    mentee: Person
    agreed: bool  # whether an agreement is in force


@dataclass(frozen=True)
class FollowUpAnswered(Event):
    side: Side
    works: bool
    note: str | None


# ---------------------------------------------------------------- reading


async def side_of(work: Work, me: Person, mentee: str | None) -> Side:
    """``me``'s running mentorship: with the mentee named (as their mentor), or their own as a mentee."""
    if mentee:
        person, m = await mentorships.mentee_of(work, me, mentee)
        return Side(m, me, person, person, me)
    m = await mentorships.active_of(work.session, me.id)
    if m is None:
        raise NoMentorship(is_mentor=me.is_mentor)
    mentor = await mentorships.person_by_id(work.session, m.mentor_id)
    return Side(m, me, mentor, me, mentor)


async def versions(session: Session, mentorship_id: int) -> tuple[Agreement | None, Agreement | None]:
    """The agreement in force and the draft waiting to be confirmed, each if any."""
    rows = (await session.exec(select(Agreement).where(
        Agreement.mentorship_id == mentorship_id,
        Agreement.state.in_((AgreementState.CONFIRMED, AgreementState.DRAFT))))).all()
    confirmed = next((a for a in rows if a.state is AgreementState.CONFIRMED), None)
    draft = next((a for a in rows if a.state is AgreementState.DRAFT), None)
    return confirmed, draft


async def standing(session: Session, mentorship_ids: list[int]) -> dict[int, str]:
    """For each mentorship, where its agreement stands: ``confirmed``, ``draft`` (waiting to be
    confirmed, whether or not one is in force) or ``none``; in one query."""
    out = {i: "none" for i in mentorship_ids}
    if mentorship_ids:
        rows = (await session.exec(select(Agreement.mentorship_id, Agreement.state).where(
            Agreement.mentorship_id.in_(mentorship_ids),
            Agreement.state.in_((AgreementState.CONFIRMED, AgreementState.DRAFT))))).all()
        for mentorship_id, state in rows:
            if out[mentorship_id] != "draft":
                out[mentorship_id] = AgreementState(state).value
    return out


async def goals_agreed(session: Session, mentorship_id: int) -> list[Goal]:
    """The goals written into the agreement of a mentorship (dropped ones too), oldest first."""
    return list((await session.exec(select(Goal).where(Goal.mentorship_id == mentorship_id)
                                    .order_by(Goal.id))).all())


async def answers(session: Session, mentorship_id: int) -> list[AgreementCheck]:
    return list((await session.exec(select(AgreementCheck).where(AgreementCheck.mentorship_id == mentorship_id)
                                    .order_by(AgreementCheck.id))).all())


def missing(a: Agreement) -> tuple[str, ...]:
    return tuple(p for p in PARTS if not getattr(a, p))


def goal_items(text: str | None) -> list[str]:
    """The goals of an agreement's goals part: one per ``;`` or line, blanks and repeats left out."""
    seen: dict[str, str] = {}
    for piece in (text or "").replace("\n", ";").split(";"):
        item = " ".join(piece.split())
        if item and item.casefold() not in seen:
            seen[item.casefold()] = item
    return list(seen.values())


# ---------------------------------------------------------------- drafting and confirming


async def draft(work: Work, side: Side, changes: dict[str, str]) -> Agreement:
    """Write ``changes`` (part name to text) into the draft, begun from the agreement in force
    (or empty) if there is none. Whoever writes last is the drafter; the other side confirms."""
    confirmed, row = await versions(work.session, side.mentorship.id)
    if row is None:
        row = Agreement(mentorship_id=side.mentorship.id, state=AgreementState.DRAFT, drafted_by_id=side.me.id,
                        created_at=work.now, updated_at=work.now,
                        **{p: getattr(confirmed, p) for p in PARTS} if confirmed else {})
        work.session.add(row)
    for part, value in changes.items():
        setattr(row, part, value)
    row.drafted_by_id, row.updated_at = side.me.id, work.now
    await work.session.flush()
    audit.record(work.session, at=work.now, actor=side.me, entity="agreement", entity_id=row.id, action="drafted")
    work.emit(AgreementDrafted(side, row, missing(row)))
    return row


async def confirm(work: Work, side: Side) -> Agreement:
    """The other side confirms the draft: it comes into force, and its goals become the mentee's goals."""
    confirmed, row = await versions(work.session, side.mentorship.id)
    if row is None:
        raise NoDraft(has_agreement=confirmed is not None)
    if row.drafted_by_id == side.me.id:
        raise OwnDraft(side.other)
    if missing(row):
        raise DraftIncomplete(missing(row))
    if confirmed is not None:
        confirmed.state = AgreementState.REPLACED
        await work.session.flush()  # one agreement in force: the old one goes first
    row.state, row.confirmed_by_id, row.confirmed_at = AgreementState.CONFIRMED, side.me.id, work.now
    goals = await _sync_goals(work, side, goal_items(row.goals))
    await work.session.flush()
    audit.record(work.session, at=work.now, actor=side.me, entity="agreement", entity_id=row.id, action="confirmed",
                 to_state=AgreementState.CONFIRMED.value)
    work.emit(AgreementConfirmed(side, row, tuple(goals)))
    return row


async def _sync_goals(work: Work, side: Side, items: list[str]) -> list[Goal]:
    """The mentee's goals of this agreement become ``items``: new ones added, those no longer
    in it and not reached dropped, the rest kept as they stand (reached stays reached)."""
    existing = await goals_agreed(work.session, side.mentorship.id)
    by_text = {g.text.casefold(): g for g in existing}
    kept: list[Goal] = []
    for item in items:
        goal = by_text.pop(item.casefold(), None)
        if goal is None:
            goal = Goal(person_id=side.mentee.id, mentorship_id=side.mentorship.id, text=item, created_at=work.now)
            work.session.add(goal)
        elif goal.state is GoalState.DROPPED:
            goal.state = GoalState.OPEN
        kept.append(goal)
    for goal in by_text.values():
        if goal.state is GoalState.OPEN:
            goal.state = GoalState.DROPPED
    await work.session.flush()
    return kept


async def discard(work: Work, side: Side) -> None:
    """Either side throws the waiting draft away; the agreement in force (if any) stays."""
    confirmed, row = await versions(work.session, side.mentorship.id)
    if row is None:
        raise NoDraft(has_agreement=confirmed is not None)
    row.state, row.updated_at = AgreementState.REPLACED, work.now
    audit.record(work.session, at=work.now, actor=side.me, entity="agreement", entity_id=row.id, action="discarded",
                 from_state=AgreementState.DRAFT.value, to_state=AgreementState.REPLACED.value)
    work.emit(DraftDiscarded(side))


# ---------------------------------------------------------------- the follow-up


def followup_at(m: Mentorship, days: int) -> datetime:
    """When both are asked whether the agreement of ``m`` works."""
    return m.started_at + timedelta(days=days)


async def ask_followups(work: Work) -> int:
    """Ask both sides of each mentorship that began ``followup_days`` ago whether their
    agreement works (once: the question is kept, with its answer when it comes)."""
    days = work.policy.followup_days
    due = (await work.session.exec(select(Mentorship).where(
        Mentorship.state == MentorshipState.ACTIVE,
        Mentorship.started_at <= work.now - timedelta(days=days),
        Mentorship.started_at > work.now - timedelta(days=days) - FOLLOWUP_LATEST,
        ~exists().where(AgreementCheck.mentorship_id == Mentorship.id),
    ).order_by(Mentorship.id))).all()
    ids = [m.id for m in due]
    agreed: set[int] = set()
    for start in range(0, len(ids), 500):  # whether each has an agreement: one statement per 500
        agreed.update((await work.session.exec(select(Agreement.mentorship_id).where(
            Agreement.mentorship_id.in_(ids[start:start + 500]),
            Agreement.state == AgreementState.CONFIRMED))).all())
    who = await people.by_ids(work.session, [i for m in due for i in (m.mentee_id, m.mentor_id)])
    rows = []
    for m in due:
        mentee, mentor = who[m.mentee_id], who[m.mentor_id]
        for person, other in ((mentee, mentor), (mentor, mentee)):
            rows.append({"mentorship_id": m.id, "person_id": person.id, "asked_at": work.now})
            work.emit(AgreementFollowUp(person, other, mentee, m.id in agreed))
    if rows:  # the questions asked, in one statement
        await work.session.exec(insert(AgreementCheck.__table__), params=rows)
    return len(due)


async def next_followup(session: Session, now: datetime, days: int) -> datetime | None:
    """When the next follow-up comes due, for the scheduler."""
    first = (await session.exec(select(func.min(Mentorship.started_at)).where(
        Mentorship.state == MentorshipState.ACTIVE, Mentorship.started_at > now - timedelta(days=days),
        ~exists().where(AgreementCheck.mentorship_id == Mentorship.id)))).one()
    return None if first is None else first + timedelta(days=days)


async def answer(work: Work, side: Side, works: bool, note: str | None) -> AgreementCheck:
    """``side.me`` answers the follow-up (again, if they change their mind)."""
    row = (await work.session.exec(select(AgreementCheck).where(
        AgreementCheck.mentorship_id == side.mentorship.id, AgreementCheck.person_id == side.me.id))).first()
    if row is None:
        raise NotAsked(followup_at(side.mentorship, work.policy.followup_days))
    row.works, row.note, row.answered_at = works, note or None, work.now
    audit.record(work.session, at=work.now, actor=side.me, entity="agreement", entity_id=side.mentorship.id,
                 action="followup_answered", to_state="works" if works else "needs_change")
    work.emit(FollowUpAnswered(side, works, note or None))
    return row
