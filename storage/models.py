"""The program's tables.

Invariants that must hold under concurrency are enforced by the database itself
(partial unique indexes, check constraints), not only by the code that writes.

Columns marked *confidential* hold what mentors and mentees say to each other
or to the council; they must never be shown in a shared room.
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Optional

from sqlalchemy import CheckConstraint, Enum as SAEnum, Index, MetaData, SmallInteger, Text, UniqueConstraint, false, true, text as sql_text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime

# Stable constraint names, so that migrations can refer to them on every database.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _enum(enum_cls: type[enum.Enum]) -> SAEnum:
    """A portable enum column: a VARCHAR with a CHECK constraint of its values."""
    return SAEnum(
        enum_cls,
        native_enum=False,
        create_constraint=True,
        length=20,
        name=enum_cls.__name__.lower(),
        values_callable=lambda members: [m.value for m in members],
    )


_PARTIAL: list[tuple[Index, str]] = []


def _partial(name: str, *columns: str, where: str, unique: bool = False) -> Index:
    """An index of only the rows that match ``where``: the same condition on SQLite and PostgreSQL.

    The PostgreSQL form is added by :func:`use_postgresql` (naming a dialect's option loads
    that dialect: a bot on SQLite does not need PostgreSQL's in memory)."""
    index = Index(name, *columns, unique=unique, sqlite_where=sql_text(where))
    _PARTIAL.append((index, where))
    return index


def use_postgresql() -> None:
    """Give the partial indexes their PostgreSQL condition (once; for a PostgreSQL database)."""
    while _PARTIAL:
        index, where = _PARTIAL.pop()
        index.dialect_kwargs["postgresql_where"] = sql_text(where)


def _when(nullable: bool = False, **kwargs):
    return Field(sa_type=UTCDateTime(), nullable=nullable, **kwargs)


class TagKind(str, enum.Enum):
    LANGUAGE = "language"
    SKILL = "skill"  # what a mentor offers
    INTEREST = "interest"  # what a mentee wants to grow


class RequestState(str, enum.Enum):
    OPEN = "open"  # waiting for a match
    PROPOSED = "proposed"  # offered to one mentor, waiting for their answer
    ESCALATED = "escalated"  # nobody took it in time; the council decides
    ACCEPTED = "accepted"
    ASSIGNED = "assigned"  # by the council
    WITHDRAWN = "withdrawn"  # by the mentee


OPEN_REQUEST_STATES = (RequestState.OPEN, RequestState.PROPOSED, RequestState.ESCALATED)


class MentorshipState(str, enum.Enum):
    ACTIVE = "active"
    ENDED = "ended"


class ChangeState(str, enum.Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class GroupState(str, enum.Enum):
    ACTIVE = "active"
    ENDED = "ended"


class MemberState(str, enum.Enum):
    INVITED = "invited"  # asked in their DM, not answered yet
    MEMBER = "member"
    DECLINED = "declined"
    LEFT = "left"  # left, or removed when the group ended


CURRENT_MEMBER_STATES = (MemberState.INVITED, MemberState.MEMBER)


class CheckInKind(str, enum.Enum):
    ORIENTATION = "orientation"
    FOLLOWUP = "followup"
    REGULAR = "regular"
    MIDTERM = "midterm"
    FINAL = "final"


class CheckInState(str, enum.Enum):
    SCHEDULED = "scheduled"
    DONE = "done"
    CANCELLED = "cancelled"


class ReminderState(str, enum.Enum):
    PENDING = "pending"
    SENT = "sent"
    DROPPED = "dropped"  # came due while the bot was down and became pointless, or superseded
    CANCELLED = "cancelled"  # the check-in moved or was cancelled


class CoachingState(str, enum.Enum):
    ASKED = "asked"  # waiting for the coach's answer
    ACCEPTED = "accepted"  # planned: a check-in with reminders for both
    DECLINED = "declined"
    LAPSED = "lapsed"  # its time came before the coach answered
    CANCELLED = "cancelled"  # by either side, before its time
    HELD = "held"  # its time passed and nobody cancelled it


OPEN_COACHING_STATES = (CoachingState.ASKED, CoachingState.ACCEPTED)


class SessionKind(str, enum.Enum):
    ORIENTATION = "orientation"
    REGULAR = "regular"
    MIDTERM = "midterm"
    FINAL = "final"


class GoalState(str, enum.Enum):
    OPEN = "open"  # in progress
    DONE = "done"  # reached
    DROPPED = "dropped"  # given up, in a review or a new agreement


class AgreementState(str, enum.Enum):
    DRAFT = "draft"  # written by one side, waiting for the other to confirm
    CONFIRMED = "confirmed"  # agreed by both: the one in force
    REPLACED = "replaced"  # a later version was confirmed, or the draft was discarded


class NominationState(str, enum.Enum):
    PENDING = "pending"  # with the council
    DECLINED = "declined"  # by the council
    ACCEPTED = "accepted"  # by the council; the mentee is asked whether it may be celebrated publicly
    CELEBRATED = "celebrated"  # the mentee said yes: published
    PRIVATE = "private"  # the mentee said no: nothing is published
    WITHDRAWN = "withdrawn"  # the mentee asked to be forgotten before it was celebrated


class OpportunityKind(str, enum.Enum):
    TRAINING = "training"
    EVENT = "event"
    INTRODUCTION = "introduction"


class Audience(str, enum.Enum):
    MENTORS = "mentors"
    MENTEES = "mentees"
    ALL = "all"


class AnnouncementState(str, enum.Enum):
    DRAFT = "draft"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class CopyChannel(str, enum.Enum):
    DISCOURSE = "discourse"
    MENTORS_ROOM = "mentors_room"
    DM = "dm"


class CopyState(str, enum.Enum):
    PENDING = "pending"
    SENT = "sent"
    ENQUEUED = "enqueued"  # held for moderation by Discourse
    FAILED = "failed"


class Person(SQLModel, table=True):
    """Anyone the program knows: mentee, mentor, council member, or several."""

    id: Optional[int] = Field(default=None, primary_key=True)
    matrix_id: str = Field(max_length=255, unique=True, index=True)
    display_name: Optional[str] = Field(default=None, max_length=100)
    timezone: Optional[str] = Field(default=None, max_length=64)
    is_mentee: bool = False
    is_mentor: bool = False
    is_council: bool = False
    capacity: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # How many active mentorships they mentor now. Kept by the database itself (triggers on
    # mentorship): read it in queries, never set it.
    active_mentees: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    away_until: Optional[datetime] = _when(nullable=True, default=None)
    inactive: bool = False
    dm_room_id: Optional[str] = Field(default=None, max_length=255)
    created_at: datetime = _when(default_factory=utcnow)
    updated_at: datetime = _when(default_factory=utcnow)
    # Set when the person asked to be forgotten: the row stays, under a pseudonym, for the
    # audit trail and the program's counts; everything personal in it is erased.
    forgotten_at: Optional[datetime] = _when(nullable=True, default=None)
    # Set when the council removed them from the council: neither the configuration's
    # council list nor the council room gives them the rights back, until the council adds them.
    council_removed_at: Optional[datetime] = _when(nullable=True, default=None)
    # How many single coaching sessions a mentor gives a month; None: the program's default.
    coaching_per_month: Optional[int] = None
    # The language they chose for the bot's messages (``profile language``); None: the first of
    # their profile languages the bot speaks, else the program's (``commands.languages``).
    language: Optional[str] = Field(default=None, max_length=16)

    __table_args__ = (
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        Index("ix_person_is_mentor", "is_mentor", "id"),  # the roster and matching, without reading everyone
        # The program's active mentorships, summed over the mentors who have some.
        _partial("ix_person_active_mentees", "active_mentees", where="active_mentees > 0"),
    )


class PersonTag(SQLModel, table=True):
    """Languages, skills and interests, one row each, so they can be searched."""

    __tablename__ = "person_tag"

    id: Optional[int] = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    kind: TagKind = Field(sa_type=_enum(TagKind))
    value: str = Field(max_length=50)

    __table_args__ = (
        UniqueConstraint("person_id", "kind", "value", name="uq_person_tag_person_kind_value"),
        Index("ix_person_tag_kind_value", "kind", "value"),
    )


class MentorRequest(SQLModel, table=True):
    """A mentee asking for a mentor; waits in the queue until someone takes it."""

    __tablename__ = "mentor_request"

    id: Optional[int] = Field(default=None, primary_key=True)
    mentee_id: int = Field(foreign_key="person.id", index=True)
    topic: str = Field(sa_type=Text)  # what they want help with; shown to mentors
    state: RequestState = Field(sa_type=_enum(RequestState), default=RequestState.OPEN)
    proposed_to_id: Optional[int] = Field(default=None, foreign_key="person.id")
    proposed_at: Optional[datetime] = _when(nullable=True, default=None)
    previous_mentor_id: Optional[int] = Field(default=None, foreign_key="person.id")
    created_at: datetime = _when(default_factory=utcnow)
    escalate_at: Optional[datetime] = _when(nullable=True, default=None)
    escalated_at: Optional[datetime] = _when(nullable=True, default=None)
    closed_at: Optional[datetime] = _when(nullable=True, default=None)

    __table_args__ = (
        CheckConstraint("proposed_to_id IS NULL OR proposed_to_id <> mentee_id", name="not_proposed_to_self"),
        # At most one open request per mentee, whatever races the code has.
        _partial(
            "uq_mentor_request_one_open_per_mentee",
            "mentee_id",
            unique=True,
            where="state IN ('open', 'proposed', 'escalated')",
        ),
    )


class RequestDecline(SQLModel, table=True):
    """A mentor saying no to a proposed request."""

    __tablename__ = "request_decline"

    id: Optional[int] = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="mentor_request.id", index=True)
    mentor_id: int = Field(foreign_key="person.id")
    reason: Optional[str] = Field(default=None, sa_type=Text)  # confidential
    created_at: datetime = _when(default_factory=utcnow)


class Mentorship(SQLModel, table=True):
    """A relationship between one mentor and one mentee."""

    id: Optional[int] = Field(default=None, primary_key=True)
    mentee_id: int = Field(foreign_key="person.id", index=True)
    mentor_id: int = Field(foreign_key="person.id", index=True)
    request_id: Optional[int] = Field(default=None, foreign_key="mentor_request.id")
    state: MentorshipState = Field(sa_type=_enum(MentorshipState), default=MentorshipState.ACTIVE)
    started_at: datetime = _when(default_factory=utcnow, index=True)
    commitment_ends_at: datetime = _when()
    # The latest meeting (a session held, a check-in done); None until they first meet.
    # Kept with every record, so overdue relationships are found without reading them all.
    last_met_at: Optional[datetime] = _when(nullable=True, default=None)
    # Halfway through the first commitment period: when a mid-term review is proposed.
    midterm_at: Optional[datetime] = _when(nullable=True, default=None)
    ended_at: Optional[datetime] = _when(nullable=True, default=None, index=True)
    ended_by_id: Optional[int] = Field(default=None, foreign_key="person.id")
    end_reason: Optional[str] = Field(default=None, sa_type=Text)  # confidential

    __table_args__ = (
        CheckConstraint("mentor_id <> mentee_id", name="not_self"),
        Index("ix_mentorship_state_mentor", "state", "mentor_id"),  # each mentor's load, from the index alone
        Index("ix_mentorship_state_last_met", "state", "last_met_at", "started_at"),
        # At most one active mentorship per mentee.
        _partial(
            "uq_mentorship_one_active_per_mentee",
            "mentee_id",
            unique=True,
            where="state = 'active'",
        ),
    )


class ChangeRequest(SQLModel, table=True):
    """A mentee asking for another mentor during the commitment."""

    __tablename__ = "change_request"

    id: Optional[int] = Field(default=None, primary_key=True)
    mentorship_id: int = Field(foreign_key="mentorship.id", index=True)
    reason: Optional[str] = Field(default=None, sa_type=Text)  # confidential
    state: ChangeState = Field(sa_type=_enum(ChangeState), default=ChangeState.PENDING)
    created_at: datetime = _when(default_factory=utcnow)
    decided_by_id: Optional[int] = Field(default=None, foreign_key="person.id")
    decided_at: Optional[datetime] = _when(nullable=True, default=None)

    __table_args__ = (
        _partial(
            "uq_change_request_one_pending",
            "mentorship_id",
            unique=True,
            where="state = 'pending'",
        ),
    )


class CoachingSession(SQLModel, table=True):
    """A single coaching session asked of a mentor from the coach pool, outside any mentorship.

    Once accepted, its meeting is a check-in of its own (``CheckIn.coaching_id``)."""

    __tablename__ = "coaching_session"

    id: Optional[int] = Field(default=None, primary_key=True)
    asker_id: int = Field(foreign_key="person.id", index=True)
    coach_id: int = Field(foreign_key="person.id")
    skill: str = Field(max_length=50)  # personal: what the asker wants coaching on
    starts_at: datetime = _when()  # the time asked
    timezone: str = Field(max_length=64)  # the asker's zone when they asked
    state: CoachingState = Field(sa_type=_enum(CoachingState), default=CoachingState.ASKED)
    reason: Optional[str] = Field(default=None, sa_type=Text)  # confidential: why the coach declined
    asked_at: datetime = _when(default_factory=utcnow)
    decided_at: Optional[datetime] = _when(nullable=True, default=None)
    cancelled_by_id: Optional[int] = Field(default=None, foreign_key="person.id")
    closed_at: Optional[datetime] = _when(nullable=True, default=None)  # declined, lapsed, cancelled or held

    __table_args__ = (
        CheckConstraint("asker_id <> coach_id", name="not_self"),
        # A coach's sessions in a month, for their limit and the monthly report.
        Index("ix_coaching_session_coach_starts", "coach_id", "starts_at"),
        Index("ix_coaching_session_state_starts", "state", "starts_at"),
        # One unanswered ask at a time from one person to one coach.
        _partial(
            "uq_coaching_session_one_ask_per_coach",
            "asker_id",
            "coach_id",
            unique=True,
            where="state = 'asked'",
        ),
    )


class MentoringGroup(SQLModel, table=True):
    """A mentor with a small group of mentees (at most the policy's ``max_group_size``), who
    meet together and share a private room."""

    __tablename__ = "mentoring_group"

    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    mentor_id: int = Field(foreign_key="person.id", index=True)
    state: GroupState = Field(sa_type=_enum(GroupState), default=GroupState.ACTIVE)
    started_at: datetime = _when(default_factory=utcnow)
    commitment_ends_at: datetime = _when()
    ended_at: Optional[datetime] = _when(nullable=True, default=None)
    ended_by_id: Optional[int] = Field(default=None, foreign_key="person.id")
    end_reason: Optional[str] = Field(default=None, sa_type=Text)  # confidential
    # The group's private room: ``room_key`` is chosen with the group, before the room exists, and
    # names it on the homeserver (its alias), so that making the room again finds the one made.
    room_key: str = Field(max_length=40, unique=True)
    room_id: Optional[str] = Field(default=None, max_length=255)


class GroupMember(SQLModel, table=True):
    """A mentee in a group: asked, then a member until they leave (or the group ends)."""

    __tablename__ = "group_member"

    id: Optional[int] = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="mentoring_group.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    state: MemberState = Field(sa_type=_enum(MemberState), default=MemberState.INVITED)
    invited_at: datetime = _when(default_factory=utcnow)
    joined_at: Optional[datetime] = _when(nullable=True, default=None)
    left_at: Optional[datetime] = _when(nullable=True, default=None)
    leave_reason: Optional[str] = Field(default=None, sa_type=Text)  # confidential

    __table_args__ = (
        # Asked or in it once at a time, whatever races the code has.
        _partial("uq_group_member_current", "group_id", "person_id", unique=True,
                 where="state IN ('invited', 'member')"),
    )


class GroupSession(SQLModel, table=True):
    """What a mentor records after a group session: for the group's members, its mentor and the council."""

    __tablename__ = "group_session"

    id: Optional[int] = Field(default=None, primary_key=True)
    group_id: int = Field(foreign_key="mentoring_group.id", index=True)
    author_id: int = Field(foreign_key="person.id")
    kind: SessionKind = Field(sa_type=_enum(SessionKind))
    held_at: datetime = _when()
    outcome: str = Field(sa_type=Text)  # confidential
    next_steps: Optional[str] = Field(default=None, sa_type=Text)  # confidential
    created_at: datetime = _when(default_factory=utcnow)


CHECKIN_ONE_OWNER = ("(CASE WHEN mentorship_id IS NULL THEN 0 ELSE 1 END) + "
                     "(CASE WHEN coaching_id IS NULL THEN 0 ELSE 1 END) + "
                     "(CASE WHEN group_id IS NULL THEN 0 ELSE 1 END) = 1")


class CheckIn(SQLModel, table=True):
    """A meeting: between mentor and mentee (``mentorship_id``), of a single coaching session
    (``coaching_id``), or of a group (``group_id``); exactly one of the three. An agreed time
    (``arranged``), or a deadline the program sets (the orientation and its follow-up) until
    a time is agreed."""

    __tablename__ = "checkin"

    id: Optional[int] = Field(default=None, primary_key=True)
    mentorship_id: Optional[int] = Field(default=None, foreign_key="mentorship.id", index=True)
    coaching_id: Optional[int] = Field(default=None, foreign_key="coaching_session.id", index=True)
    group_id: Optional[int] = Field(default=None, foreign_key="mentoring_group.id", index=True)
    kind: CheckInKind = Field(sa_type=_enum(CheckInKind), default=CheckInKind.REGULAR)
    due_at: datetime = _when(index=True)
    timezone: str = Field(max_length=64)  # the zone it was planned in, for recurrence
    every_months: Optional[int] = None
    every_weeks: Optional[int] = None
    series_id: Optional[int] = Field(default=None, foreign_key="checkin.id")  # the first of a recurring series
    arranged: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
    state: CheckInState = Field(sa_type=_enum(CheckInState), default=CheckInState.SCHEDULED)
    created_by_id: Optional[int] = Field(default=None, foreign_key="person.id")
    confirmed_at: Optional[datetime] = _when(nullable=True, default=None)
    done_at: Optional[datetime] = _when(nullable=True, default=None)
    created_at: datetime = _when(default_factory=utcnow)

    __table_args__ = (
        CheckConstraint("every_months IS NULL OR every_months > 0", name="every_months_positive"),
        CheckConstraint("every_weeks IS NULL OR every_weeks > 0", name="every_weeks_positive"),
        # A check-in belongs to exactly one thing: a mentorship, a coaching session or a group.
        CheckConstraint(CHECKIN_ONE_OWNER, name="one_owner"),
        _partial("ix_checkin_scheduled_due", "due_at", where="state = 'scheduled'"),
    )


class Reminder(SQLModel, table=True):
    """One reminder of a check-in to one person, marked sent in the transaction that sends it."""

    id: Optional[int] = Field(default=None, primary_key=True)
    checkin_id: int = Field(foreign_key="checkin.id", index=True, ondelete="CASCADE")
    person_id: int = Field(foreign_key="person.id")
    before_minutes: int
    due_at: datetime = _when()
    state: ReminderState = Field(sa_type=_enum(ReminderState), default=ReminderState.PENDING)
    sent_at: Optional[datetime] = _when(nullable=True, default=None)

    __table_args__ = (
        UniqueConstraint("checkin_id", "person_id", "before_minutes", name="uq_reminder_checkin_person_before"),
        _partial("ix_reminder_pending_due", "due_at", where="state = 'pending'"),
    )


class ProgramNotice(SQLModel, table=True):
    """A program rule that has fired (an overdue warning, a digest, a feedback round...),
    keyed so that it fires once whatever restarts and repeated wake-ups happen."""

    __tablename__ = "program_notice"

    key: str = Field(primary_key=True, max_length=200)
    sent_at: datetime = _when()


class SessionRecord(SQLModel, table=True):
    """What a mentor records after a session. Confidential as a whole."""

    __tablename__ = "session_record"

    id: Optional[int] = Field(default=None, primary_key=True)
    mentorship_id: int = Field(foreign_key="mentorship.id", index=True)
    author_id: int = Field(foreign_key="person.id")
    kind: SessionKind = Field(sa_type=_enum(SessionKind))
    held_at: datetime = _when(index=True)
    outcome: str = Field(sa_type=Text)  # confidential
    next_steps: Optional[str] = Field(default=None, sa_type=Text)  # confidential
    progress_start: Optional[int] = None
    progress_now: Optional[int] = None
    remarks: Optional[str] = Field(default=None, sa_type=Text)  # confidential
    created_at: datetime = _when(default_factory=utcnow)

    __table_args__ = (
        CheckConstraint("progress_start IS NULL OR progress_start BETWEEN 1 AND 10", name="progress_start_scale"),
        CheckConstraint("progress_now IS NULL OR progress_now BETWEEN 1 AND 10", name="progress_now_scale"),
    )


class DiaryEntry(SQLModel, table=True):
    """A mentee's own diary. Confidential."""

    __tablename__ = "diary_entry"

    id: Optional[int] = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    mentorship_id: Optional[int] = Field(default=None, foreign_key="mentorship.id")
    text: str = Field(sa_type=Text)  # confidential
    created_at: datetime = _when(default_factory=utcnow)


class Goal(SQLModel, table=True):
    """A mentee's goal. Confidential."""

    id: Optional[int] = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    # Set for a goal written into the agreement of this mentorship (reviews revisit those).
    mentorship_id: Optional[int] = Field(default=None, foreign_key="mentorship.id")
    text: str = Field(sa_type=Text)  # confidential
    state: GoalState = Field(sa_type=_enum(GoalState), default=GoalState.OPEN)
    created_at: datetime = _when(default_factory=utcnow)
    done_at: Optional[datetime] = _when(nullable=True, default=None)


class Agreement(SQLModel, table=True):
    """What a mentor and a mentee agree on in their first session: a draft written by one
    side, confirmed by the other. A change is a new draft, confirmed again. Confidential."""

    id: Optional[int] = Field(default=None, primary_key=True)
    mentorship_id: int = Field(foreign_key="mentorship.id", index=True)
    state: AgreementState = Field(sa_type=_enum(AgreementState), default=AgreementState.DRAFT)
    goals: Optional[str] = Field(default=None, sa_type=Text)  # confidential; one goal per "; "
    mentor_part: Optional[str] = Field(default=None, sa_type=Text)  # confidential: what the mentor commits to
    mentee_part: Optional[str] = Field(default=None, sa_type=Text)  # confidential: what the mentee commits to
    contact: Optional[str] = Field(default=None, sa_type=Text)  # confidential: how and how often they talk
    cancelling: Optional[str] = Field(default=None, sa_type=Text)  # confidential: how a meeting is cancelled
    urgent: Optional[str] = Field(default=None, sa_type=Text)  # confidential: how urgent help is asked for
    drafted_by_id: int = Field(foreign_key="person.id")
    created_at: datetime = _when(default_factory=utcnow)
    updated_at: datetime = _when(default_factory=utcnow)
    confirmed_by_id: Optional[int] = Field(default=None, foreign_key="person.id")
    confirmed_at: Optional[datetime] = _when(nullable=True, default=None)

    __table_args__ = (
        # One draft and one agreement in force per mentorship, whatever races the code has.
        _partial("uq_agreement_one_draft", "mentorship_id", unique=True, where="state = 'draft'"),
        _partial("uq_agreement_one_confirmed", "mentorship_id", unique=True, where="state = 'confirmed'"),
    )


class AgreementCheck(SQLModel, table=True):
    """The follow-up about a month after the start: does the agreement work? One per side."""

    __tablename__ = "agreement_check"

    id: Optional[int] = Field(default=None, primary_key=True)
    mentorship_id: int = Field(foreign_key="mentorship.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    asked_at: datetime = _when()
    answered_at: Optional[datetime] = _when(nullable=True, default=None)
    works: Optional[bool] = None
    note: Optional[str] = Field(default=None, sa_type=Text)  # confidential

    __table_args__ = (UniqueConstraint("mentorship_id", "person_id"),)


class ReviewGoal(SQLModel, table=True):
    """Where one goal of the agreement stood at a mid-term or final review."""

    __tablename__ = "review_goal"

    id: Optional[int] = Field(default=None, primary_key=True)
    session_record_id: int = Field(foreign_key="session_record.id", index=True, ondelete="CASCADE")
    goal_id: int = Field(foreign_key="goal.id", ondelete="CASCADE")
    state: GoalState = Field(sa_type=_enum(GoalState))


class Feedback(SQLModel, table=True):
    """Yearly feedback on a relationship. Visible to the council only."""

    id: Optional[int] = Field(default=None, primary_key=True)
    author_id: int = Field(foreign_key="person.id", index=True)
    mentorship_id: Optional[int] = Field(default=None, foreign_key="mentorship.id")
    round: str = Field(max_length=20)  # e.g. "2027"
    strengths: Optional[str] = Field(default=None, sa_type=Text)  # confidential
    improve: Optional[str] = Field(default=None, sa_type=Text)  # confidential
    created_at: datetime = _when(default_factory=utcnow)


class Nomination(SQLModel, table=True):
    """A mentor nominating a mentee for recognition; seen by the council, which decides it.

    The reason is for the council; what may be published is the council's own ``citation``,
    and only once the mentee said yes (``state`` celebrated)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    nominator_id: int = Field(foreign_key="person.id")
    nominee_id: int = Field(foreign_key="person.id", index=True)
    reason: str = Field(sa_type=Text)
    created_at: datetime = _when(default_factory=utcnow)
    state: NominationState = Field(sa_type=_enum(NominationState), default=NominationState.PENDING,
                                   sa_column_kwargs={"server_default": NominationState.PENDING.value})
    citation: Optional[str] = Field(default=None, sa_type=Text)  # written by the council to be published
    decided_at: Optional[datetime] = _when(nullable=True, default=None)
    decided_by_id: Optional[int] = Field(default=None, foreign_key="person.id")
    answered_at: Optional[datetime] = _when(nullable=True, default=None)  # the mentee's yes or no
    announcement_id: Optional[int] = Field(default=None, foreign_key="announcement.id")  # the celebration


class Opportunity(SQLModel, table=True):
    """A training, event or introduction shared with mentees. The same link on the same day is
    the same opportunity, whoever shares it: each mentee gets it once (``OpportunityRecipient``)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    author_id: int = Field(foreign_key="person.id", index=True)
    kind: OpportunityKind = Field(sa_type=_enum(OpportunityKind))
    what: str = Field(sa_type=Text)
    url: str = Field(max_length=1000)
    happens_at: datetime = _when()  # the time given, or the first moment of its day
    all_day: bool = True
    timezone: str = Field(max_length=64)  # the zone its date was read in
    expires_at: datetime = _when(index=True)  # the end of its day: no longer listed nor sent
    created_at: datetime = _when(default_factory=utcnow)

    __table_args__ = (UniqueConstraint("url", "happens_at", name="uq_opportunity_url_happens_at"),)


class OpportunityRecipient(SQLModel, table=True):
    """One mentee who was sent an opportunity: at most one row (and one message) per mentee."""

    __tablename__ = "opportunity_recipient"

    id: Optional[int] = Field(default=None, primary_key=True)
    opportunity_id: int = Field(foreign_key="opportunity.id", ondelete="CASCADE")
    person_id: int = Field(foreign_key="person.id", index=True)
    shared_by_id: int = Field(foreign_key="person.id")
    created_at: datetime = _when(default_factory=utcnow, index=True)

    __table_args__ = (
        UniqueConstraint("opportunity_id", "person_id", name="uq_opportunity_recipient_opportunity_person"),
    )


class Announcement(SQLModel, table=True):
    """A council announcement; stored before any copy of it is sent."""

    id: Optional[int] = Field(default=None, primary_key=True)
    author_id: int = Field(foreign_key="person.id")
    audience: Audience = Field(sa_type=_enum(Audience))
    title: str = Field(max_length=255)
    body: str = Field(sa_type=Text)
    state: AnnouncementState = Field(sa_type=_enum(AnnouncementState), default=AnnouncementState.DRAFT)
    external_id: str = Field(max_length=50, unique=True)  # idempotency key on Discourse
    created_at: datetime = _when(default_factory=utcnow)
    confirmed_at: Optional[datetime] = _when(nullable=True, default=None)
    confirmed_by_id: Optional[int] = Field(default=None, foreign_key="person.id")


class AnnouncementCopy(SQLModel, table=True):
    """One delivery of an announcement: the Discourse topic, the room, or a DM."""

    __tablename__ = "announcement_copy"

    id: Optional[int] = Field(default=None, primary_key=True)
    announcement_id: int = Field(foreign_key="announcement.id", index=True)
    channel: CopyChannel = Field(sa_type=_enum(CopyChannel))
    recipient_id: Optional[int] = Field(default=None, foreign_key="person.id")
    state: CopyState = Field(sa_type=_enum(CopyState), default=CopyState.PENDING)
    attempts: int = 0
    next_attempt_at: Optional[datetime] = _when(nullable=True, default=None)
    sent_at: Optional[datetime] = _when(nullable=True, default=None)
    error: Optional[str] = Field(default=None, sa_type=Text)
    remote_id: Optional[str] = Field(default=None, max_length=255)
    url: Optional[str] = Field(default=None, max_length=1000)

    __table_args__ = (
        UniqueConstraint("announcement_id", "channel", "recipient_id", name="uq_announcement_copy_target"),
        # NULLs are distinct in a unique constraint: the copies for no one in
        # particular (the topic, the room) need their own index.
        _partial(
            "uq_announcement_copy_shared_target",
            "announcement_id",
            "channel",
            unique=True,
            where="recipient_id IS NULL",
        ),
    )


class CohortState(str, enum.Enum):
    PROPOSED = "proposed"  # waiting for the council to confirm it
    CONFIRMED = "confirmed"  # its offers were sent
    CANCELLED = "cancelled"
    REPLACED = "replaced"  # a newer proposal took its place


class CohortProposal(SQLModel, table=True):
    """The council's proposal assigning all open requests at once, kept until it is confirmed."""

    __tablename__ = "cohort_proposal"

    id: Optional[int] = Field(default=None, primary_key=True)
    state: CohortState = Field(sa_type=_enum(CohortState), default=CohortState.PROPOSED)
    made_by_id: int = Field(foreign_key="person.id")
    made_at: datetime = _when()
    requests: int  # the open requests it covers
    places: int  # the free places of available mentors when it was made
    total_fit: float
    unmatched: int
    one_at_a_time_fit: float  # the same requests matched one at a time, in queue order
    one_at_a_time_unmatched: int
    decided_by_id: Optional[int] = Field(default=None, foreign_key="person.id")
    decided_at: Optional[datetime] = _when(nullable=True, default=None)

    __table_args__ = (
        # One proposal waits for the council at a time: a new one replaces it.
        _partial("uq_cohort_proposal_one_proposed", "state", unique=True, where="state = 'proposed'"),
    )


class CohortPair(SQLModel, table=True):
    """One request of a cohort proposal and the mentor proposed for it (none: left unmatched),
    and what came of it when the council confirmed."""

    __tablename__ = "cohort_pair"

    id: Optional[int] = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort_proposal.id", index=True)
    request_id: int = Field(foreign_key="mentor_request.id", index=True)
    mentor_id: Optional[int] = Field(default=None, foreign_key="person.id")
    fit: Optional[float] = None  # the score of the pair, with the mentor's load at that place
    load: Optional[int] = None  # the mentees the mentor has or is promised, before this one
    outcome: Optional[str] = Field(default=None, max_length=20)  # offered, kept, or why it was skipped


class AuditEvent(SQLModel, table=True):
    """Every state change: who, when, what, from, to. Never holds confidential text."""

    __tablename__ = "audit_event"

    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = _when(default_factory=utcnow, index=True)
    actor_id: Optional[int] = Field(default=None, foreign_key="person.id")
    entity: str = Field(max_length=40)
    entity_id: int
    action: str = Field(max_length=40)
    from_state: Optional[str] = Field(default=None, max_length=40)
    to_state: Optional[str] = Field(default=None, max_length=40)

    __table_args__ = (Index("ix_audit_event_entity", "entity", "entity_id"),)


class BotState(SQLModel, table=True):
    """Small key/value facts the bot keeps across restarts (sync token, relay mark)."""

    __tablename__ = "bot_state"

    key: str = Field(primary_key=True, max_length=100)
    value: str = Field(sa_type=Text)


class HandledEvent(SQLModel, table=True):
    """A chat event the bot has answered, so a replayed or re-fetched event is answered once."""

    __tablename__ = "handled_event"

    event_id: str = Field(primary_key=True, max_length=255)
    room_id: Optional[str] = Field(default=None, max_length=255)
    handled_at: datetime = _when(default_factory=utcnow)


class OutboxMessage(SQLModel, table=True):
    """A message the bot has decided to send, stored in the same transaction as the decision.

    A delivery worker sends pending rows in order and marks them sent; ``txn_id``
    makes a retried send idempotent on the homeserver.
    """

    __tablename__ = "outbox_message"

    id: Optional[int] = Field(default=None, primary_key=True)
    txn_id: str = Field(max_length=64, unique=True)
    created_at: datetime = _when(default_factory=utcnow)
    room_kind: str = Field(max_length=20)  # dm, mentors, council, other
    user_id: Optional[str] = Field(default=None, max_length=255)
    room_id: Optional[str] = Field(default=None, max_length=255)
    body: str = Field(sa_type=Text)
    html: str = Field(sa_type=Text)
    mentions: str = Field(default="", sa_type=Text)  # Matrix IDs, one per line
    files: str = Field(default="", sa_type=Text, sa_column_kwargs={"server_default": ""})  # JSON list, until sent
    reply_to: Optional[str] = Field(default=None, max_length=255)
    sent_at: Optional[datetime] = _when(nullable=True, default=None)
    attempts: int = 0
    last_error: Optional[str] = Field(default=None, sa_type=Text)
    given_up: bool = False
    # Someone must notice it (a reminder, an offer, a decision): sent so that it notifies.
    notify: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # Held back until then: its room cannot be reached now (the bot is not in it, or was refused).
    next_attempt_at: Optional[datetime] = _when(nullable=True, default=None)
    # 0: someone waits for it (a reply, a reminder); 1: the program's bulk notices, sent after.
    lane: int = Field(default=0, sa_type=SmallInteger, sa_column_kwargs={"server_default": "0"})
    # Someone the transport invites into the room before posting (a new mentor, to the mentors room).
    invite: Optional[str] = Field(default=None, max_length=255)
    # For a group's room (room_kind ``group``): the group, whose room the transport finds or makes.
    group_id: Optional[int] = Field(default=None)
    # What a ✅ or ❌ reaction under it answers (``commands.messages.Answers`` as JSON), until sent.
    answers: str = Field(default="", sa_type=Text, sa_column_kwargs={"server_default": ""})

    __table_args__ = (
        _partial(
            "ix_outbox_message_pending",
            "lane",
            "id",
            where="sent_at IS NULL AND NOT given_up",
        ),
    )


class AnswerableMessage(SQLModel, table=True):
    """A message the bot sent that a ✅ or ❌ reaction answers (an offer, a check-in to confirm, an
    announcement's preview), found again by the room and event id a reaction names."""

    __tablename__ = "answerable_message"

    id: Optional[int] = Field(default=None, primary_key=True)  # in the order they were sent
    room_id: str = Field(max_length=255)
    event_id: str = Field(max_length=255)
    kind: str = Field(max_length=20)  # offer, checkin, announcement
    number: int  # the request, check-in or announcement it is about
    yes: str = Field(max_length=100)  # the command a ✅ stands for, as typed in a DM
    no: Optional[str] = Field(default=None, max_length=100)  # the command a ❌ stands for, if any
    answerer: str = Field(max_length=255, index=True)  # the only person whose reaction counts
    sent_at: datetime = _when()

    __table_args__ = (UniqueConstraint("room_id", "event_id"),)


class CourtesyNotice(SQLModel, table=True):
    """When a person was last told something the bot says at most once a day or an hour:
    that it does not answer in some room, that it could not decrypt a message, to slow down."""

    __tablename__ = "courtesy_notice"

    user_id: str = Field(primary_key=True, max_length=255)
    kind: str = Field(primary_key=True, max_length=40)
    sent_at: datetime = _when()


class ConversationKind(str, enum.Enum):
    REQUEST = "request"  # a mentee asking for a mentor, question by question
    MENTOR_SETUP = "mentor_setup"  # a new mentor's first profile


class Conversation(SQLModel, table=True):
    """A guided conversation in a person's DM: which question waits for an answer and the
    answers so far (JSON), nothing applied until the person confirms. One per person.
    The answers may hold what a mentee wants help with, in their own words: confidential."""

    __tablename__ = "conversation"

    id: Optional[int] = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", unique=True)  # one conversation per person
    kind: ConversationKind = Field(sa_type=_enum(ConversationKind))
    pending: str = Field(max_length=20)  # the question waiting for its answer, or ``confirm``
    answers: str = Field(default="{}", sa_type=Text)
    started_at: datetime = _when()
    updated_at: datetime = _when()
    expires_at: datetime = _when(index=True)  # forgotten then, unanswered
