"""A person's own data: gathering it (``mydata``), erasing it (``forget me``), expiring it
(the retention policy) and the council's export. Every choice of field follows the rules
in :mod:`commands.services.visibility`.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, or_, update
from sqlmodel import select

from commands.clock import add_months
from commands.kinds import RoomKind
from commands.messages import File
from commands.policy import RetentionPolicy
from commands.services import answers, audit, coaching, conversations, courtesy, groups, mentorships, people, rules
from commands.services.agreements import PARTS as AGREEMENT_PARTS
from commands.services.errors import DomainError
from commands.services.visibility import RETENTION_SETTINGS, Reader, confidential_columns, may_read
from commands.services.work import Event, Work
from storage.models import (
    OPEN_COACHING_STATES,
    Agreement,
    AgreementCheck,
    Announcement,
    AuditEvent,
    BotState,
    ChangeRequest,
    CheckIn,
    CoachingSession,
    Conversation,
    DiaryEntry,
    Feedback,
    Goal,
    GroupMember,
    GroupSession,
    GroupState,
    MentorRequest,
    MentoringGroup,
    Mentorship,
    MemberState,
    MentorshipState,
    Nomination,
    NominationState,
    Opportunity,
    OpportunityRecipient,
    OutboxMessage,
    Person,
    PersonTag,
    Reminder,
    ReminderState,
    RequestDecline,
    RequestState,
    ReviewGoal,
    SessionRecord,
    TagKind,
)
from storage.session import Session

OPPORTUNITY_COLUMNS = ("id", "kind", "what", "url", "happens_at", "expires_at")
RETENTION_RUN = "retention.last_run"  # bot_state: when the daily run last happened
FORGOTTEN = "forgotten:{}"  # what replaces the Matrix ID of a person who asked to be forgotten
AUTHOR, SUBJECT = {Reader.AUTHOR}, {Reader.SUBJECT}  # how the person relates to a row of theirs


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _pick(table: str, row: Any, readers: set[Reader], columns: Iterable[str]) -> dict[str, Any]:
    """The columns of ``row`` that a reader related to it as ``readers`` may see (in a DM)."""
    out: dict[str, Any] = {}
    for column in columns:
        name = f"{table}.{column}"
        value = getattr(row, column)
        try:
            allowed = may_read(name, readers, RoomKind.DM)
        except KeyError:  # not personal text: dates, states, numbers
            allowed = True
        if allowed:
            out[column] = _when(value) if isinstance(value, datetime) else getattr(value, "value", value)
    return out


# ---------------------------------------------------------------- mydata


async def collect(session: Session, person: Person, now: datetime, program: str) -> dict[str, Any]:
    """Everything stored about ``person``, and what they wrote that is not about someone else.

    Other people appear only as the Matrix ID of the other side of a mentorship; their
    names, profiles and texts are theirs, not this person's.
    """
    pid = person.id
    tags: dict[str, list[str]] = {k.value: [] for k in TagKind}
    for t in (await session.exec(select(PersonTag).where(PersonTag.person_id == pid).order_by(PersonTag.id))).all():
        tags[t.kind.value].append(t.value)
    roles = [r for r, on in (("mentee", person.is_mentee), ("mentor", person.is_mentor),
                             ("council", person.is_council)) if on]
    data: dict[str, Any] = {
        "program": program,
        "exported_at": _when(now),
        "profile": {
            **_pick("person", person, {Reader.SUBJECT}, (
                "matrix_id", "display_name", "timezone", "language", "capacity", "away_until", "inactive", "created_at")),
            "roles": roles,
            "languages": tags[TagKind.LANGUAGE.value],
            "skills": tags[TagKind.SKILL.value],
            "interests": tags[TagKind.INTEREST.value],
        },
    }
    requests = (await session.exec(
        select(MentorRequest).where(MentorRequest.mentee_id == pid).order_by(MentorRequest.id))).all()
    data["requests"] = [_pick("mentor_request", r, SUBJECT, ("id", "topic", "state", "created_at", "closed_at"))
                        for r in requests]
    talk = await conversations.of(session, pid)
    # A guided conversation still open: its question waiting, and each answer so far (theirs to read).
    data["conversation"] = [] if talk is None else [{
        **_pick("conversation", talk, AUTHOR, ("kind", "pending", "started_at", "expires_at")),
        **(conversations.answers_of(talk) if may_read("conversation.answers", AUTHOR, RoomKind.DM) else {}),
    }]
    ships = (await session.exec(select(Mentorship).where(
        or_(Mentorship.mentee_id == pid, Mentorship.mentor_id == pid)).order_by(Mentorship.id))).all()
    others = {p.id: p.matrix_id for p in (await session.exec(select(Person).where(
        Person.id.in_({m.mentor_id for m in ships} | {m.mentee_id for m in ships} - {pid})))).all()} if ships else {}
    data["mentorships"] = []
    for m in ships:
        as_mentee = m.mentee_id == pid
        row = _pick("mentorship", m, AUTHOR if m.ended_by_id == pid else set(),
                    ("id", "state", "started_at", "commitment_ends_at", "ended_at", "end_reason"))
        row["your_role"] = "mentee" if as_mentee else "mentor"
        row["with"] = others.get(m.mentor_id if as_mentee else m.mentee_id)
        row["ended_by"] = None if m.ended_by_id is None else "you" if m.ended_by_id == pid else "the other side"
        data["mentorships"].append(row)
    mentee_ships = [m.id for m in ships if m.mentee_id == pid]
    ship_ids = [m.id for m in ships]
    changes = (await session.exec(select(ChangeRequest).where(ChangeRequest.mentorship_id.in_(mentee_ships))
                                  .order_by(ChangeRequest.id))).all() if mentee_ships else []
    data["changes_of_mentor"] = [_pick("change_request", c, AUTHOR, ("id", "mentorship_id", "state", "reason",
                                                                       "created_at", "decided_at")) for c in changes]
    sessions_coached = (await session.exec(select(CoachingSession).where(
        or_(CoachingSession.asker_id == pid, CoachingSession.coach_id == pid)).order_by(CoachingSession.id))).all()
    coached_ids = [cs.id for cs in sessions_coached]
    checkins = (await session.exec(select(CheckIn).where(or_(CheckIn.mentorship_id.in_(ship_ids),
                                                             CheckIn.coaching_id.in_(coached_ids)))
                                   .order_by(CheckIn.due_at, CheckIn.id))).all() if ship_ids or coached_ids else []
    data["checkins"] = [_pick("checkin", c, set(), ("id", "mentorship_id", "coaching_id", "kind", "due_at", "state",
                                                    "done_at")) for c in checkins]
    data["coaching_sessions"] = await _coaching_sessions(session, pid, sessions_coached)
    sessions = (await session.exec(select(SessionRecord).where(SessionRecord.mentorship_id.in_(mentee_ships))
                                   .order_by(SessionRecord.held_at, SessionRecord.id))).all() if mentee_ships else []
    data["sessions_about_you"] = [_pick("session_record", r, SUBJECT, (
        "id", "mentorship_id", "kind", "held_at", "outcome", "next_steps", "progress_start", "progress_now",
        "remarks")) for r in sessions]
    diary = (await session.exec(select(DiaryEntry).where(DiaryEntry.person_id == pid)
                                .order_by(DiaryEntry.created_at, DiaryEntry.id))).all()
    data["diary"] = [_pick("diary_entry", e, SUBJECT, ("created_at", "text")) for e in diary]
    goals = (await session.exec(select(Goal).where(Goal.person_id == pid).order_by(Goal.id))).all()
    data["goals"] = [_pick("goal", g, SUBJECT, ("id", "mentorship_id", "text", "state", "created_at", "done_at"))
                     for g in goals]
    agreed = (await session.exec(select(Agreement).where(Agreement.mentorship_id.in_(ship_ids))
                                 .order_by(Agreement.id))).all() if ship_ids else []
    data["agreements"] = [
        {**_pick("agreement", a, SUBJECT if a.mentorship_id in mentee_ships else {Reader.MENTOR}, (
            "id", "mentorship_id", "state", *AGREEMENT_PARTS, "created_at", "confirmed_at")),
         "written_by": "you" if a.drafted_by_id == pid else "the other side"} for a in agreed]
    answered = (await session.exec(select(AgreementCheck).where(AgreementCheck.person_id == pid)
                                   .order_by(AgreementCheck.id))).all()
    data["agreement_follow_ups"] = [_pick("agreement_check", c, AUTHOR, (
        "mentorship_id", "asked_at", "answered_at", "works", "note")) for c in answered]
    await _collect_groups(session, pid, data)
    given = (await session.exec(select(Feedback).where(Feedback.author_id == pid).order_by(Feedback.id))).all()
    data["feedback_you_gave"] = [_pick("feedback", f, AUTHOR, ("round", "mentorship_id", "strengths", "improve",
                                                                  "created_at")) for f in given]
    declines = (await session.exec(select(RequestDecline).where(RequestDecline.mentor_id == pid)
                                   .order_by(RequestDecline.id))).all()
    data["requests_you_declined"] = [_pick("request_decline", d, AUTHOR, ("request_id", "reason", "created_at"))
                                     for d in declines]
    nominated = (await session.exec(select(Nomination).where(Nomination.nominee_id == pid)
                                    .order_by(Nomination.id))).all()
    data["nominations_of_you"] = [_pick("nomination", n, SUBJECT, ("id", "reason", "created_at", "state", "citation",
                                                                   "answered_at")) for n in nominated]
    made = (await session.exec(select(Nomination).where(Nomination.nominator_id == pid).order_by(Nomination.id))).all()
    data["nominations_you_made"] = [_pick("nomination", n, set(), ("id", "created_at", "state")) for n in made]
    received = (await session.exec(select(Opportunity, OpportunityRecipient.created_at).join(
        OpportunityRecipient, OpportunityRecipient.opportunity_id == Opportunity.id)
        .where(OpportunityRecipient.person_id == pid).order_by(OpportunityRecipient.id))).all()
    data["opportunities_for_you"] = [{**_pick("opportunity", o, SUBJECT, OPPORTUNITY_COLUMNS), "sent_at": _when(at)}
                                     for o, at in received]
    shared = (await session.exec(select(Opportunity).where(Opportunity.author_id == pid)
                                 .order_by(Opportunity.id))).all()
    data["opportunities_you_shared"] = [_pick("opportunity", o, AUTHOR, OPPORTUNITY_COLUMNS) for o in shared]
    written = (await session.exec(select(Announcement).where(Announcement.author_id == pid)
                                  .order_by(Announcement.id))).all()
    data["announcements_you_wrote"] = [_pick("announcement", a, set(), ("id", "title", "state", "created_at"))
                                       for a in written]
    events = (await session.exec(select(AuditEvent).where(AuditEvent.actor_id == pid)
                                 .order_by(AuditEvent.at, AuditEvent.id))).all()
    data["your_actions"] = [_pick("audit_event", e, set(), ("at", "entity", "entity_id", "action", "from_state",
                                                            "to_state")) for e in events]
    return data


async def _coaching_sessions(session: Session, pid: int, rows: list[CoachingSession]) -> list[dict[str, Any]]:
    """Their single coaching sessions, as asker (who wrote the skill, and whom a reason is about)
    or as coach (whom the skill is asked of, who wrote a reason)."""
    others = {p.id: p.matrix_id for p in (await people.by_ids(
        session, {coaching.other_side(cs, pid) for cs in rows})).values()}
    out = []
    for cs in rows:
        asked = cs.asker_id == pid
        row = _pick("coaching_session", cs, {Reader.AUTHOR, Reader.SUBJECT} if asked else {Reader.MENTOR, Reader.AUTHOR},
                    ("id", "skill", "starts_at", "state", "reason", "asked_at", "closed_at"))
        row["your_role"] = "asked" if asked else "coach"
        row["with"] = others.get(coaching.other_side(cs, pid))
        out.append(row)
    return out


async def _collect_groups(session: Session, pid: int, data: dict[str, Any]) -> None:
    """The groups a person led or was in, and the sessions of those they joined or led."""
    led = (await session.exec(select(MentoringGroup).where(MentoringGroup.mentor_id == pid)
                              .order_by(MentoringGroup.id))).all()
    rows = (await session.exec(select(GroupMember, MentoringGroup)
                               .join(MentoringGroup, MentoringGroup.id == GroupMember.group_id)
                               .where(GroupMember.person_id == pid).order_by(GroupMember.id))).all()
    data["groups"] = [
        {**_pick("mentoring_group", g, AUTHOR if g.ended_by_id == pid else set(),
                 ("id", "name", "state", "started_at", "ended_at", "end_reason")), "your_role": "mentor"}
        for g in led
    ] + [
        {**_pick("mentoring_group", g, {Reader.GROUP}, ("id", "name")),
         **_pick("group_member", row, AUTHOR, ("state", "invited_at", "joined_at", "left_at", "leave_reason")),
         "your_role": "member"}
        for row, g in rows
    ]
    readable = {g.id: AUTHOR for g in led} | {g.id: {Reader.GROUP} for row, g in rows if row.joined_at}
    records = (await session.exec(select(GroupSession).where(GroupSession.group_id.in_(readable))
                                  .order_by(GroupSession.held_at, GroupSession.id))).all() if readable else []
    data["group_sessions"] = [_pick("group_session", r, readable[r.group_id], (
        "id", "group_id", "kind", "held_at", "outcome", "next_steps")) for r in records]


# The sections of a person's data besides their profile, in the order they are shown.
SECTIONS = (
    "requests", "conversation", "mentorships", "changes_of_mentor", "checkins", "coaching_sessions", "sessions_about_you", "diary",
    "goals", "agreements", "agreement_follow_ups", "groups", "group_sessions", "feedback_you_gave",
    "requests_you_declined", "nominations_of_you", "nominations_you_made", "opportunities_for_you",
    "opportunities_you_shared", "announcements_you_wrote", "your_actions",
)


def count(data: dict[str, Any]) -> int:
    """How many records ``data`` holds besides the profile."""
    return sum(len(data[key]) for key in SECTIONS)


async def export_own_data(work: Work, person: Person) -> dict[str, Any]:
    """Everything stored about ``person`` (:func:`collect`), for them; the export is in their audit trail."""
    data = await collect(work.session, person, work.now, work.policy.name)
    audit.record(work.session, at=work.now, actor=person, entity="person", entity_id=person.id,
                 action="data_exported")
    return data


# ---------------------------------------------------------------- forget me


FORGET_KEY = "forget.armed.{}"  # when a person asked what `forget me` would erase
FORGET_WINDOW = timedelta(minutes=15)  # how long after that they may confirm


@dataclass(frozen=True)
class OfferWithdrawn(Event):
    """A request offered to ``mentor`` was withdrawn (its mentee asked to be forgotten)."""

    request_id: int
    mentor: Person


@dataclass
class ForgetNotAsked(DomainError):
    """``forget me confirm`` without a ``forget me`` in the last ``window_minutes``."""

    window_minutes: int


@dataclass(frozen=True)
class ForgetPreview:
    """What forgetting a person would do: their texts counted, the mentorships it ends, the request it withdraws."""

    diary_entries: int
    goals: int
    sessions_about_them: int
    feedback_answers: int
    ends_with: tuple[Person, ...]  # the other side of each running mentorship
    withdraws_request: bool
    window_minutes: int


def _minutes(window: timedelta) -> int:
    return int(window.total_seconds() // 60)


async def preview_forget(work: Work, person: Person) -> ForgetPreview:
    """What :func:`forget` would do to ``person``; from now, they may confirm within :data:`FORGET_WINDOW`."""
    s, pid = work.session, person.id

    async def number(query) -> int:
        return int((await s.exec(query)).one())

    diary = await number(select(func.count()).select_from(DiaryEntry).where(DiaryEntry.person_id == pid))
    goals = await number(select(func.count()).select_from(Goal).where(Goal.person_id == pid))
    sessions = await number(select(func.count()).select_from(SessionRecord).join(
        Mentorship, Mentorship.id == SessionRecord.mentorship_id).where(Mentorship.mentee_id == pid))
    feedback = await number(select(func.count()).select_from(Feedback).where(Feedback.author_id == pid))
    active = (await s.exec(select(Mentorship).where(
        Mentorship.state == MentorshipState.ACTIVE,
        (Mentorship.mentee_id == pid) | (Mentorship.mentor_id == pid)).order_by(Mentorship.id))).all()
    others = tuple([await mentorships.person_by_id(s, m.mentor_id if m.mentee_id == pid else m.mentee_id)
                    for m in active])
    request = await mentorships.open_request_of(s, pid)
    key = FORGET_KEY.format(pid)
    row = await s.get(BotState, key)
    if row is None:
        s.add(BotState(key=key, value=work.now.isoformat()))
    else:
        row.value = work.now.isoformat()
    return ForgetPreview(diary, goals, sessions, feedback, others, bool(request), _minutes(FORGET_WINDOW))


async def confirm_forget(work: Work, person: Person) -> dict[str, int]:
    """Forget ``person``, who asked what that does within :data:`FORGET_WINDOW`; see :func:`forget`."""
    armed = await work.session.get(BotState, FORGET_KEY.format(person.id))
    if armed is None or work.now - datetime.fromisoformat(armed.value) > FORGET_WINDOW:
        raise ForgetNotAsked(_minutes(FORGET_WINDOW))
    await work.session.delete(armed)
    return await forget(work, person)


async def forget(work: Work, person: Person) -> dict[str, int]:
    """Erase a person: end what is running, erase their profile and texts, and keep only
    what the program must keep, under a pseudonym. Returns what was done, counted."""
    session, now, pid = work.session, work.now, person.id
    work.erased = True
    done = {"mentorships_ended": 0, "requests_withdrawn": 0, "texts_erased": 0, "rows_deleted": 0}
    # What is running ends first, while the other side can still be told who it was.
    active = (await session.exec(select(Mentorship).where(
        Mentorship.state == MentorshipState.ACTIVE,
        or_(Mentorship.mentee_id == pid, Mentorship.mentor_id == pid)).order_by(Mentorship.id))).all()
    for m in active:
        await mentorships.end(work, m, by=person, reason=None)
        done["mentorships_ended"] += 1
    for group in (await session.exec(select(MentoringGroup).where(
            MentoringGroup.mentor_id == pid, MentoringGroup.state == GroupState.ACTIVE))).all():
        await groups.close(work, group, by=person, reason=None)
    for row in (await session.exec(select(GroupMember).where(
            GroupMember.person_id == pid, GroupMember.state == MemberState.MEMBER))).all():
        await groups.leave(work, person, row.group_id, None)
    await session.exec(update(GroupMember).where(GroupMember.person_id == pid, GroupMember.state == MemberState.INVITED)
                       .values(state=MemberState.DECLINED, left_at=now))
    request = await mentorships.open_request_of(session, pid)
    if request is not None:
        before = request.state.value
        request.state, request.closed_at = RequestState.WITHDRAWN, now
        audit.record(session, at=now, actor=person, entity="request", entity_id=request.id, action="withdrawn",
                     from_state=before, to_state=RequestState.WITHDRAWN.value)
        if request.proposed_to_id:
            work.emit(OfferWithdrawn(request.id, await mentorships.person_by_id(session, request.proposed_to_id)))
        done["requests_withdrawn"] += 1
    offered = (await session.exec(select(MentorRequest).where(
        MentorRequest.proposed_to_id == pid, MentorRequest.state == RequestState.PROPOSED))).all()
    await coaching.cancel_all_of(work, person)  # their single sessions still ahead: the other side is told
    person.is_mentor = False  # matching passes them over from now on
    for r in offered:  # offered to them and not answered: the next mentor is asked
        r.state, r.proposed_to_id, r.proposed_at = RequestState.OPEN, None, None
        await session.flush()
        await mentorships.propose_next(work, r, await mentorships.person_by_id(session, r.mentee_id),
                                       announce=False)

    # Then the erasing.
    ships = (await session.exec(select(Mentorship.id, Mentorship.mentee_id).where(
        or_(Mentorship.mentee_id == pid, Mentorship.mentor_id == pid)))).all()
    ship_ids = [i for i, _ in ships]
    as_mentee = [i for i, mentee in ships if mentee == pid]

    async def run(statement) -> int:
        result = await session.exec(statement.execution_options(synchronize_session=False))
        return max(result.rowcount or 0, 0)

    for table in (PersonTag, DiaryEntry, Goal):
        done["rows_deleted"] += await run(delete(table).where(table.person_id == pid))
    done["rows_deleted"] += await conversations.forget(session, pid)
    erased = [
        update(MentorRequest).where(MentorRequest.mentee_id == pid, MentorRequest.topic != "").values(topic=""),
        update(RequestDecline).where(RequestDecline.mentor_id == pid, RequestDecline.reason.is_not(None))
        .values(reason=None),
        update(Feedback).where(Feedback.author_id == pid).values(strengths=None, improve=None),
        update(Nomination).where(Nomination.nominee_id == pid).values(reason="", citation=None),
        # Their celebration, if there was one: the bot's copy of it (what was posted stays posted).
        update(Announcement).where(Announcement.id.in_(
            select(Nomination.announcement_id).where(Nomination.nominee_id == pid))).values(title="", body=""),
        # What was asked in their single coaching sessions, and why one was declined, on either side.
        update(CoachingSession).where(or_(CoachingSession.asker_id == pid, CoachingSession.coach_id == pid),
                                      or_(CoachingSession.skill != "", CoachingSession.reason.is_not(None)))
        .values(skill="", reason=None),
        update(GroupMember).where(GroupMember.person_id == pid, GroupMember.leave_reason.is_not(None))
        .values(leave_reason=None),
        update(MentoringGroup).where(MentoringGroup.ended_by_id == pid, MentoringGroup.end_reason.is_not(None))
        .values(end_reason=None),
    ]
    # A forgotten person cannot be celebrated: what was not decided or answered yet is withdrawn.
    await run(update(Nomination).where(
        Nomination.nominee_id == pid, Nomination.state.in_((NominationState.PENDING, NominationState.ACCEPTED)))
        .values(state=NominationState.WITHDRAWN))
    if ship_ids:  # reasons given on either side of their mentorships are about them
        erased += [
            update(Mentorship).where(Mentorship.id.in_(ship_ids), Mentorship.end_reason.is_not(None))
            .values(end_reason=None),
            update(ChangeRequest).where(ChangeRequest.mentorship_id.in_(ship_ids), ChangeRequest.reason.is_not(None))
            .values(reason=None),
        ]
    if as_mentee:
        erased.append(update(SessionRecord).where(SessionRecord.mentorship_id.in_(as_mentee)).values(
            outcome="", next_steps=None, remarks=None, progress_start=None, progress_now=None))
        # Their agreements, and what either side said at its follow-up, are about them.
        erased.append(update(Agreement).where(Agreement.mentorship_id.in_(as_mentee))
                      .values(**dict.fromkeys(AGREEMENT_PARTS)))
        erased.append(update(AgreementCheck).where(AgreementCheck.mentorship_id.in_(as_mentee),
                                                   AgreementCheck.note.is_not(None)).values(note=None))
    erased.append(update(AgreementCheck).where(AgreementCheck.person_id == pid, AgreementCheck.note.is_not(None))
                  .values(note=None))
    for statement in erased:
        done["texts_erased"] += await run(statement)
    await run(update(Reminder).where(Reminder.person_id == pid, Reminder.state == ReminderState.PENDING)
              .values(state=ReminderState.CANCELLED))
    # Messages to them not sent yet are dropped; those sent keep no address.
    await run(update(OutboxMessage).where(OutboxMessage.user_id == person.matrix_id, OutboxMessage.sent_at.is_(None))
              .values(given_up=True, body="", html="", mentions="", files="", answers="",
                      last_error="the person asked to be forgotten"))
    await run(update(OutboxMessage).where(OutboxMessage.user_id == person.matrix_id).values(user_id=None))
    # Nor are they invited anywhere, nor welcomed in a room (a message sent keeps no invite).
    await run(update(OutboxMessage).where(OutboxMessage.invite == person.matrix_id, OutboxMessage.sent_at.is_(None))
              .values(given_up=True, body="", html="", mentions="", files="", invite=None, answers="",
                      last_error="the person asked to be forgotten"))
    await run(update(OutboxMessage).where(OutboxMessage.mentions.contains(person.matrix_id),
                                          OutboxMessage.sent_at.is_not(None)).values(mentions=""))
    await courtesy.forget(session, person.matrix_id)
    await answers.forget(session, person.matrix_id)  # no reaction of theirs is looked for any more
    await people.keep_council_removal(session, person)
    # The row stays, under a pseudonym: the audit trail and the program's counts refer to it.
    person.matrix_id = FORGOTTEN.format(pid)
    person.display_name = person.timezone = person.dm_room_id = person.away_until = person.language = None
    person.is_mentee = person.is_mentor = person.is_council = False
    person.capacity, person.inactive, person.updated_at, person.forgotten_at = 0, True, now, now
    audit.record(session, at=now, actor=None, entity="person", entity_id=pid, action="forgotten")
    await session.flush()
    return done


# ---------------------------------------------------------------- retention


@dataclass(frozen=True)
class Expiry:
    """What one retention setting erases: rows of ``table`` matching ``where``, whose
    texts are blanked with ``values`` (or the rows deleted, without values)."""

    what: str
    table: Any
    where: tuple
    values: dict[str, Any] | None = None


def _ended_before(when: datetime):
    return select(Mentorship.id).where(Mentorship.state == MentorshipState.ENDED, Mentorship.ended_at < when)


def expiries(policy: RetentionPolicy, now: datetime) -> list[Expiry]:
    """The texts the policy lets expire at ``now``."""
    out: list[Expiry] = []
    if policy.session_notes_months:
        cut = add_months(now, -policy.session_notes_months)
        ended = _ended_before(cut)
        out.append(Expiry("session notes", SessionRecord, (
            SessionRecord.mentorship_id.in_(ended),
            or_(SessionRecord.outcome != "", SessionRecord.next_steps.is_not(None), SessionRecord.remarks.is_not(None),
                SessionRecord.progress_start.is_not(None), SessionRecord.progress_now.is_not(None)),
        ), {"outcome": "", "next_steps": None, "remarks": None, "progress_start": None, "progress_now": None}))
        out.append(Expiry("agreements", Agreement, (
            Agreement.mentorship_id.in_(ended), or_(*(getattr(Agreement, p).is_not(None) for p in AGREEMENT_PARTS)),
        ), dict.fromkeys(AGREEMENT_PARTS)))
        out.append(Expiry("follow-up answers", AgreementCheck, (
            AgreementCheck.mentorship_id.in_(ended), AgreementCheck.note.is_not(None)), {"note": None}))
        out.append(Expiry("group session notes", GroupSession, (
            GroupSession.group_id.in_(select(MentoringGroup.id).where(MentoringGroup.state == GroupState.ENDED,
                                                                      MentoringGroup.ended_at < cut)),
            or_(GroupSession.outcome != "", GroupSession.next_steps.is_not(None)),
        ), {"outcome": "", "next_steps": None}))
    if policy.diary_months:
        before = add_months(now, -policy.diary_months)
        out.append(Expiry("diary entries", DiaryEntry, (DiaryEntry.mentorship_id.in_(_ended_before(before)),)))
        # Goals belong to the mentee, not to one mentorship: they go once no mentorship of
        # theirs is running or ended within the period.
        recent = select(Mentorship.mentee_id).where(
            or_(Mentorship.state == MentorshipState.ACTIVE, Mentorship.ended_at >= before))
        had = select(Mentorship.mentee_id).where(Mentorship.id.in_(_ended_before(before)))
        out.append(Expiry("goals", Goal, (Goal.person_id.in_(had), Goal.person_id.not_in(recent))))
    if policy.feedback_months:
        out.append(Expiry("feedback answers", Feedback, (
            Feedback.created_at < add_months(now, -policy.feedback_months),
            or_(Feedback.strengths.is_not(None), Feedback.improve.is_not(None)),
        ), {"strengths": None, "improve": None}))
    if policy.reasons_months:
        before = add_months(now, -policy.reasons_months)
        out += [
            Expiry("end reasons", Mentorship, (Mentorship.ended_at < before, Mentorship.end_reason.is_not(None)),
                   {"end_reason": None}),
            Expiry("change reasons", ChangeRequest,
                   (ChangeRequest.created_at < before, ChangeRequest.reason.is_not(None)), {"reason": None}),
            Expiry("decline reasons", RequestDecline,
                   (RequestDecline.created_at < before, RequestDecline.reason.is_not(None)), {"reason": None}),
            Expiry("group end reasons", MentoringGroup,
                   (MentoringGroup.ended_at < before, MentoringGroup.end_reason.is_not(None)), {"end_reason": None}),
            Expiry("group leave reasons", GroupMember,
                   (GroupMember.left_at < before, GroupMember.leave_reason.is_not(None)), {"leave_reason": None}),
        ]
    if policy.coaching_months:
        before = add_months(now, -policy.coaching_months)
        out.append(Expiry("coaching asks", CoachingSession, (
            CoachingSession.starts_at < before, CoachingSession.asked_at < before,
            CoachingSession.state.not_in(OPEN_COACHING_STATES),
            or_(CoachingSession.skill != "", CoachingSession.reason.is_not(None)),
        ), {"skill": "", "reason": None}))
    return out


async def expire(work: Work, policy: RetentionPolicy) -> dict[str, int]:
    """Apply the retention policy: erase the texts it has let expire. Returns the counts."""
    counts: dict[str, int] = {}
    for e in expiries(policy, work.now):
        statement = delete(e.table) if e.values is None else update(e.table).values(**e.values)
        result = await work.session.exec(statement.where(*e.where).execution_options(synchronize_session=False))
        counts[e.what] = max(result.rowcount or 0, 0)
    erased = sum(counts.values())
    if erased:
        audit.record(work.session, at=work.now, actor=None, entity="retention", entity_id=0, action="expired",
                     to_state=str(erased))
    return counts


async def expire_daily(work: Work) -> dict[str, int] | None:
    """The scheduled run: once a day (in the program's time zone), when a policy is set."""
    policy = work.retention
    if not any(getattr(policy, setting) for setting in RETENTION_SETTINGS):
        return None
    day = work.now.astimezone(ZoneInfo(work.policy.timezone)).date()
    if not await rules.once(work.session, f"retention:{day.isoformat()}", work.now):
        return None
    counts = await expire(work, policy)
    row = await work.session.get(BotState, RETENTION_RUN)
    if row is None:
        work.session.add(BotState(key=RETENTION_RUN, value=work.now.isoformat()))
    else:
        row.value = work.now.isoformat()
    erased = {k: n for k, n in counts.items() if n}
    work.erased = work.erased or bool(erased)
    if erased:  # counts only: what expired, never what it said
        work.emit(RetentionApplied(tuple(erased.items())))
    return counts


@dataclass(frozen=True)
class RetentionApplied(Event):
    """The daily run erased expired texts: how many of each kind (an :class:`Expiry`'s ``what``)."""

    erased: tuple[tuple[str, int], ...]


async def last_retention_run(session: Session) -> datetime | None:
    """When the retention policy was last applied, if ever."""
    row = await session.get(BotState, RETENTION_RUN)
    return None if row is None else datetime.fromisoformat(row.value)


async def expiring(session: Session, policy: RetentionPolicy, now: datetime) -> dict[str, int]:
    """What :func:`expire` would erase at ``now``, counted without erasing."""
    counts: dict[str, int] = {}
    for e in expiries(policy, now):
        counts[e.what] = int((await session.exec(select(func.count()).select_from(e.table).where(*e.where))).one())
    return counts


# ---------------------------------------------------------------- the council's export

EXPORTS: dict[str, tuple[type, tuple[str, ...]]] = {
    "people": (Person, ("id", "matrix_id", "display_name", "timezone", "language", "is_mentee", "is_mentor", "is_council",
                        "capacity", "away_until", "inactive", "created_at", "forgotten_at")),
    "requests": (MentorRequest, ("id", "mentee_id", "topic", "state", "proposed_to_id", "previous_mentor_id",
                                 "created_at", "escalated_at", "closed_at")),
    "mentorships": (Mentorship, ("id", "mentee_id", "mentor_id", "request_id", "state", "started_at",
                                 "commitment_ends_at", "last_met_at", "ended_at", "ended_by_id", "end_reason")),
    "changes": (ChangeRequest, ("id", "mentorship_id", "state", "reason", "created_at", "decided_by_id",
                                "decided_at")),
    "checkins": (CheckIn, ("id", "mentorship_id", "coaching_id", "group_id", "kind", "due_at", "state", "arranged",
                           "done_at")),
    "coaching": (CoachingSession, ("id", "asker_id", "coach_id", "skill", "starts_at", "state", "reason", "asked_at",
                                   "decided_at", "cancelled_by_id", "closed_at")),
    "sessions": (SessionRecord, ("id", "mentorship_id", "author_id", "kind", "held_at", "outcome", "next_steps",
                                 "progress_start", "progress_now", "remarks")),
    "feedback": (Feedback, ("id", "author_id", "mentorship_id", "round", "strengths", "improve", "created_at")),
    "declines": (RequestDecline, ("id", "request_id", "mentor_id", "reason", "created_at")),
    "nominations": (Nomination, ("id", "nominator_id", "nominee_id", "reason", "created_at", "state", "citation",
                                 "decided_at", "decided_by_id", "answered_at", "announcement_id")),
    "opportunities": (Opportunity, ("id", "author_id", "kind", "what", "url", "happens_at", "all_day", "timezone",
                                    "expires_at", "created_at")),
    "opportunity_recipients": (OpportunityRecipient, ("id", "opportunity_id", "person_id", "shared_by_id",
                                                      "created_at")),
    "tags": (PersonTag, ("id", "person_id", "kind", "value")),
    "diary": (DiaryEntry, ("id", "person_id", "mentorship_id", "text", "created_at")),
    "goals": (Goal, ("id", "person_id", "mentorship_id", "text", "state", "created_at", "done_at")),
    "agreements": (Agreement, ("id", "mentorship_id", "state", *AGREEMENT_PARTS, "drafted_by_id", "created_at",
                               "confirmed_by_id", "confirmed_at")),
    "agreement_follow_ups": (AgreementCheck, ("id", "mentorship_id", "person_id", "asked_at", "answered_at", "works",
                                              "note")),
    "reviewed_goals": (ReviewGoal, ("id", "session_record_id", "goal_id", "state")),
    "groups": (MentoringGroup, ("id", "name", "mentor_id", "state", "started_at", "commitment_ends_at", "ended_at",
                                "ended_by_id", "end_reason")),
    "group_members": (GroupMember, ("id", "group_id", "person_id", "state", "invited_at", "joined_at", "left_at",
                                    "leave_reason")),
    "conversations": (Conversation, ("id", "person_id", "kind", "pending", "answers", "started_at", "updated_at",
                                     "expires_at")),
    "group_sessions": (GroupSession, ("id", "group_id", "author_id", "kind", "held_at", "outcome", "next_steps")),
}


def export_columns(kind: str, confidential: bool) -> list[str]:
    """The columns of an export: the confidential ones (by the rule set) only when asked for."""
    model, columns = EXPORTS[kind]
    secret = set() if confidential else confidential_columns(model.__tablename__)
    return [c for c in columns if c not in secret]


def _cell(value: Any, column: str) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    value = getattr(value, "value", value)
    if isinstance(value, str) and column != "matrix_id" and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        # A spreadsheet would run it as a formula: shown as text instead.
        return "'" + value
    return value


@dataclass
class UnknownExport(DomainError):
    """An export of a kind of data there is none of."""

    outcome = "usage"
    kind: str


@dataclass(frozen=True)
class Exported:
    """The council's export: one ZIP archive of CSV files, and what is in it."""

    archive: File
    files: int  # CSV files in it
    rows: int
    size: int  # bytes, compressed
    uncompressed: int  # bytes of CSV


async def export_program(work: Work, actor: Callable[[], Awaitable[Person]], kinds: list[str], *,
                         confidential: bool, zone: ZoneInfo) -> Exported:
    """The council's export of ``kinds`` (see :data:`EXPORTS`), confidential texts only when asked for.
    Who took it (``actor``, looked up once the files are made) and whether with the confidential
    texts goes in their own audit trail."""
    unknown = [k for k in kinds if k not in EXPORTS]
    if unknown:
        raise UnknownExport(unknown[0])
    exported = await export(work.session, kinds, confidential=confidential,
                            stamp=f"{work.now.astimezone(zone):%Y-%m-%d}")
    actor = await actor()
    audit.record(work.session, at=work.now, actor=actor, entity="person", entity_id=actor.id,
                 action="exported_confidential" if confidential else "exported",
                 to_state="all" if len(kinds) == len(EXPORTS) else ",".join(kinds)[:40])
    return exported


EXPORT_PAGE = 5000  # rows read at a time: a large program's tables are never all in memory
EXPORT_NAME = "mentorbot-export-"  # the archive's name, before its date


async def export(session: Session, kinds: Iterable[str], *, confidential: bool, stamp: str) -> Exported:
    """The CSV file of each kind, written row by row (a page at a time) into one compressed
    ZIP archive, so that neither a whole table nor a whole CSV file is ever held in memory."""
    suffix = "-confidential" if confidential else ""
    archive = io.BytesIO()
    count = rows = 0
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for kind in kinds:
            model, _ = EXPORTS[kind]
            columns = export_columns(kind, confidential)
            with zipped.open(f"{kind}-{stamp}{suffix}.csv", "w") as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
                writer = csv.writer(text)
                writer.writerow(columns)
                last = None
                while True:
                    query = select(model.id, *(getattr(model, c) for c in columns)).order_by(model.id)
                    if last is not None:
                        query = query.where(model.id > last)
                    page = (await session.exec(query.limit(EXPORT_PAGE))).all()
                    for row in page:
                        writer.writerow([_cell(v, c) for v, c in zip(row[1:], columns)])
                    rows += len(page)
                    if len(page) < EXPORT_PAGE:
                        break
                    last = page[-1][0]
                text.flush()
                text.detach()
            count += 1
        uncompressed = sum(info.file_size for info in zipped.infolist())
    content = archive.getvalue()
    return Exported(File.binary(f"{EXPORT_NAME}{stamp}{suffix}.zip", "application/zip", content),
                    count, rows, len(content), uncompressed)
