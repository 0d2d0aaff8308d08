"""People, their roles and their profile, and the council's roster of mentors."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, func
from sqlmodel import select

from commands.kinds import Role
from commands.languages import reader_language
from commands.policy import ProgramPolicy
from commands.services import audit
from commands.services.errors import DomainError
from commands.services.work import Work
from storage.models import BotState, Person, PersonTag, TagKind
from storage.session import Session


async def by_ids(session: Session, ids: Iterable[int]) -> dict[int, Person]:
    """Several people at once, by id: one statement for up to 500 (not one per person)."""
    found: dict[int, Person] = {}
    listed = sorted(set(ids))
    for start in range(0, len(listed), 500):
        rows = (await session.exec(select(Person).where(Person.id.in_(listed[start:start + 500])))).all()
        found.update((p.id, p) for p in rows)
    return found


async def find(session: Session, matrix_id: str) -> Person | None:
    result = await session.exec(select(Person).where(Person.matrix_id == matrix_id))
    return result.one_or_none()


async def find_with_languages(session: Session, matrix_id: str) -> tuple[Person | None, list[str]]:
    """The person with this Matrix ID and the languages of their profile, in their order: one
    statement, the one that reads the person (and so their time zone) for every command."""
    rows = (await session.exec(
        select(Person, PersonTag.value)
        .outerjoin(PersonTag, and_(PersonTag.person_id == Person.id, PersonTag.kind == TagKind.LANGUAGE))
        .where(Person.matrix_id == matrix_id).order_by(PersonTag.id)
    )).all()
    if not rows:
        return None, []
    return rows[0][0], [value for _, value in rows if value is not None]


async def ensure(session: Session, matrix_id: str, now: datetime) -> Person:
    """The person with this Matrix ID, created on first contact."""
    person = await find(session, matrix_id)
    if person is None:
        person = Person(matrix_id=matrix_id, created_at=now, updated_at=now)
        # Someone the council removed and who then had themselves forgotten stays removed.
        removed = await session.get(BotState, removal_key(matrix_id))
        if removed is not None:
            person.council_removed_at = datetime.fromisoformat(removed.value)
        session.add(person)
        await session.flush()
    return person


def removal_key(matrix_id: str) -> str:
    """Where a council removal outlives the person's erasure: under a hash of their Matrix ID,
    which names nobody but lets the bot recognise them if they come back."""
    return "council.removed." + hashlib.sha256(matrix_id.encode()).hexdigest()[:40]


async def removal_kept(session: Session, matrix_id: str) -> bool:
    """Whether a council removal was kept for this Matrix ID past the person's erasure."""
    return await session.get(BotState, removal_key(matrix_id)) is not None


async def keep_council_removal(session: Session, person: Person) -> None:
    """Before a person removed from the council is erased: their removal must stay."""
    if person.council_removed_at is not None and await session.get(BotState, removal_key(person.matrix_id)) is None:
        session.add(BotState(key=removal_key(person.matrix_id), value=person.council_removed_at.isoformat()))


async def end_council_removal(session: Session, person: Person) -> None:
    """``council add``: the removal ends, kept one included."""
    person.council_removed_at = None
    await session.exec(delete(BotState).where(BotState.key == removal_key(person.matrix_id)))


def roles_of(matrix_id: str, person: Person | None, policy: ProgramPolicy) -> frozenset[Role]:
    roles = {Role.ANYONE}
    if is_council(matrix_id, person, policy):
        roles.add(Role.COUNCIL)
    if person is not None and person.is_mentor:
        roles.add(Role.MENTOR)
    if person is not None and person.is_mentee:
        roles.add(Role.MENTEE)
    return frozenset(roles)


def is_council(matrix_id: str, person: Person | None, policy: ProgramPolicy) -> bool:
    """On the council: listed in the configuration or joined to the council room, unless the
    council removed them (which neither the list nor the room undoes; ``council add`` does)."""
    if person is not None and person.council_removed_at is not None:
        return False
    return matrix_id in policy.council or (person is not None and person.is_council)


async def council_members(session: Session, policy: ProgramPolicy) -> list[str]:
    """Everyone on the council now, by Matrix ID, sorted."""
    joined = (await session.exec(select(Person.matrix_id).where(Person.is_council.is_(True)))).all()
    removed = set((await session.exec(
        select(Person.matrix_id).where(Person.council_removed_at.is_not(None)))).all())
    return sorted((set(joined) | set(policy.council)) - removed)


MAX_NAME = 64  # characters of a display name
# Words a name may not carry: a name must not pass for a role, the bot, or the program's staff.
ROLE_WORDS = frozenset({"council", "councillor", "mentor", "mentors", "mentorbot", "bot", "admin", "administrator",
                        "moderator", "mod", "staff", "official", "system", "support"})
LOOKS_LIKE_ID = re.compile(r"[@!#+][^\s:]*:[^\s]+")


@dataclass
class BadName(DomainError):
    """A display name that cannot be used. ``problem`` says why: ``empty``, ``too_long``
    (``length`` characters of at most ``limit``), ``looks_like_id`` or ``role_word``."""

    problem: str
    length: int = 0
    limit: int = MAX_NAME


def invisible_free(text: str) -> str:
    """``text`` without Unicode format characters (right-to-left overrides, zero-width joiners
    and spaces...): what a reader cannot see must not change what they read."""
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


def clean_name(text: str) -> str:
    """A display name as it is stored: invisible characters removed, spaces collapsed, at most
    MAX_NAME characters; refused (BadName) if it imitates a Matrix ID or a role."""
    name = " ".join(invisible_free(text).split())
    if not name:
        raise BadName("empty")
    if len(name) > MAX_NAME:
        raise BadName("too_long", length=len(name))
    if LOOKS_LIKE_ID.search(name) or name.startswith("@"):
        raise BadName("looks_like_id")
    words = {w for w in re.split(r"[^\w]+", unicodedata.normalize("NFKC", name).casefold()) if w}
    if words & ROLE_WORDS:
        raise BadName("role_word")
    return name


def name_of(person: Person | None, matrix_id: str | None = None) -> str:
    """How a person is called in messages: their display name, else their Matrix ID."""
    if person is not None and person.display_name:
        return invisible_free(person.display_name)
    return person.matrix_id if person is not None else (matrix_id or "someone")


def zone_of(person: Person | None, policy: ProgramPolicy) -> ZoneInfo:
    return ZoneInfo(person.timezone if person is not None and person.timezone else policy.timezone)


async def tags(session: Session, person_id: int) -> dict[TagKind, list[str]]:
    return (await tags_of(session, [person_id]))[person_id]


async def tags_of(session: Session, ids: list[int]) -> dict[int, dict[TagKind, list[str]]]:
    """The languages, skills and interests of each of these people, in the order they gave them."""
    out: dict[int, dict[TagKind, list[str]]] = {i: {kind: [] for kind in TagKind} for i in ids}
    for start in range(0, len(ids), 500):
        result = await session.exec(
            select(PersonTag.person_id, PersonTag.kind, PersonTag.value)
            .where(PersonTag.person_id.in_(ids[start:start + 500])).order_by(PersonTag.id)
        )
        for person_id, kind, value in result.all():
            out[person_id][kind].append(value)
    return out


async def words_in_use(session: Session, limit: int = 5000) -> tuple[str, ...]:
    """The interests and skills people have given (each once): what a new word is compared with
    for a suggestion when the program keeps no vocabulary of its own."""
    rows = await session.exec(select(PersonTag.value).where(PersonTag.kind.in_((TagKind.SKILL, TagKind.INTEREST)))
                              .distinct().limit(limit))
    return tuple(rows.all())


async def set_tags(session: Session, person: Person, kind: TagKind, values: list[str]) -> None:
    await session.exec(delete(PersonTag).where(PersonTag.person_id == person.id, PersonTag.kind == kind))
    for value in values:
        session.add(PersonTag(person_id=person.id, kind=kind, value=value))


async def active_mentee_count(session: Session, mentor_id: int) -> int:
    """How many active mentees a mentor has, as the database keeps it on their row."""
    result = await session.exec(select(Person.active_mentees).where(Person.id == mentor_id))
    return int(result.one_or_none() or 0)


# The program's active mentorships: each is counted on its mentor's row (by the database),
# so this sums the mentors who have some, over a partial index.
ACTIVE_MENTORSHIPS = select(func.coalesce(func.sum(Person.active_mentees), 0)).where(Person.active_mentees > 0)


# Built once: the roster is read on many commands. Each mentor's load is kept on their
# row by the database (triggers on mentorship), so no mentorship is read.
MENTORS_WITH_LOAD = (
    select(Person.id, Person.matrix_id, Person.display_name, Person.capacity, Person.inactive, Person.away_until,
           Person.active_mentees)
    .where(Person.is_mentor.is_(True)).order_by(Person.matrix_id)
)


async def mentors_with_load(session: Session) -> list[tuple[Any, int]]:
    """Every mentor (the fields a roster shows, as a row) with how many active mentees they have."""
    result = await session.exec(MENTORS_WITH_LOAD)
    return [(row, int(row.active_mentees)) for row in result.all()]


def is_away(mentor, now: datetime) -> bool:
    """A mentor is away while the date they gave (``away``) is still ahead."""
    return bool(mentor.away_until and mentor.away_until > now)


# ---------------------------------------------------------------- the largest group


def largest_group(policy: ProgramPolicy) -> int:
    """The most mentees one mentor may have at once (group mentoring stays small)."""
    return policy.max_group_size


@dataclass
class GroupTooLarge(DomainError):
    """A capacity above the program's largest group."""

    asked: int
    limit: int


def check_group_size(policy: ProgramPolicy, capacity: int) -> None:
    """Refuse a mentor's capacity larger than the program's largest group."""
    if capacity > largest_group(policy):
        raise GroupTooLarge(capacity, largest_group(policy))


# ---------------------------------------------------------------- the roster of mentors


@dataclass
class NotAMentor(DomainError):
    """Someone named as a mentor who is not on the roster."""

    matrix_id: str


@dataclass
class AlreadyMentor(DomainError):
    """``mentor add`` for someone on the roster already; ``other_capacity`` when it asked for a
    capacity other than theirs (which only they change)."""

    mentor: Person
    other_capacity: bool


@dataclass
class StillMentoring(DomainError):
    """A mentor cannot leave the roster while they have mentees."""

    mentor: Person
    mentees: int


async def mentor_named(session: Session, matrix_id: str) -> Person:
    """The mentor with this Matrix ID; NotAMentor if nobody on the roster has it."""
    mentor = await find(session, matrix_id)
    if mentor is None or not mentor.is_mentor:
        raise NotAMentor(matrix_id)
    return mentor


async def add_mentor(work: Work, by: str, matrix_id: str, capacity: int | None) -> Person:
    """Put someone on the roster, taking up to ``capacity`` mentees (else the program's default).
    ``by`` is the council member who decides."""
    if capacity is not None:
        check_group_size(work.policy, capacity)
    mentor = await ensure(work.session, matrix_id, work.now)
    if mentor.is_mentor:
        raise AlreadyMentor(mentor, other_capacity=capacity is not None and capacity != mentor.capacity)
    mentor.is_mentor = True
    mentor.inactive = False
    mentor.capacity = min(capacity if capacity is not None else work.policy.default_capacity,
                          largest_group(work.policy))
    mentor.updated_at = work.now
    audit.record(
        work.session, at=work.now, actor=await ensure(work.session, by, work.now), entity="person",
        entity_id=mentor.id, action="mentor_added", from_state="member", to_state="mentor",
    )
    return mentor


async def remove_mentor(work: Work, by: str, matrix_id: str) -> Person:
    """Take someone off the roster; refused while they have active mentees."""
    mentor = await mentor_named(work.session, matrix_id)
    load = await active_mentee_count(work.session, mentor.id)
    if load:
        raise StillMentoring(mentor, load)
    mentor.is_mentor = False
    mentor.updated_at = work.now
    audit.record(
        work.session, at=work.now, actor=await ensure(work.session, by, work.now), entity="person",
        entity_id=mentor.id, action="mentor_removed", from_state="mentor", to_state="member",
    )
    return mentor


# ---------------------------------------------------------------- one's own profile


@dataclass(frozen=True)
class Profile:
    person: Person
    tags: dict[TagKind, list[str]]
    mentees: int | None  # a mentor's active mentees now; None for others
    coaching_per_month: int | None = None  # a mentor's single coaching sessions a month; None for others
    reads: str = "en"  # the language the bot writes to them in


def coaching_limit(person: Person, policy: ProgramPolicy) -> int:
    """How many single coaching sessions ``person`` gives a month: their own setting, else the program's default."""
    return policy.coaching_sessions_per_month if person.coaching_per_month is None else person.coaching_per_month


async def profile(work: Work, person: Person) -> Profile:
    load = await active_mentee_count(work.session, person.id) if person.is_mentor else None
    found = await tags(work.session, person.id)
    return Profile(person, found, load, coaching_limit(person, work.policy) if person.is_mentor else None,
                   reader_language(person.language, found[TagKind.LANGUAGE], work.policy.language))


async def set_name(work: Work, person: Person, name: str) -> str:
    """Set the name people see; returns it as stored (BadName if it cannot be used)."""
    name = clean_name(name)
    person.display_name = name
    person.updated_at = work.now
    return name


async def set_timezone(work: Work, person: Person, zone: str) -> datetime:
    """Set the time zone; returns the person's local time now."""
    person.timezone = zone
    person.updated_at = work.now
    return work.now.astimezone(zone_of(person, work.policy))


def set_language(work: Work, person: Person, language: str | None) -> None:
    """Set the language of the bot's messages to ``person`` (None: chosen from their languages)."""
    person.language = language
    person.updated_at = work.now


async def set_list(work: Work, person: Person, kind: TagKind, values: list[str]) -> None:
    """Replace the person's languages, interests or skills."""
    await set_tags(work.session, person, kind, values)
    person.updated_at = work.now


async def set_capacity(work: Work, mentor: Person, capacity: int) -> int:
    """Set how many mentees a mentor takes; returns how many they have now (they keep them all)."""
    check_group_size(work.policy, capacity)
    load = await active_mentee_count(work.session, mentor.id)
    before = mentor.capacity
    mentor.capacity = capacity
    mentor.updated_at = work.now
    audit.record(
        work.session, at=work.now, actor=mentor, entity="person", entity_id=mentor.id,
        action="capacity", from_state=str(before), to_state=str(capacity),
    )
    return load
