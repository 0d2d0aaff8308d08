"""Matching: which available mentors suit a request, best first, each with what makes it fit.

The ranking is a pure function of the data: the same program gives the same
order every time (ties go to the lighter load, then the Matrix ID).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Float, and_, case, cast, func, or_
from sqlmodel import select

from commands.policy import ProgramPolicy
from commands.services import people, vocabulary
from storage.models import MentorRequest, Person, PersonTag, RequestDecline, TagKind
from storage.session import Session

# Weights of the score. Shared interests matter most; a common language is close
# behind (without one there is no mentoring); distance and load break the rest.
PER_SHARED_INTEREST = 10.0
SHARED_LANGUAGE = 6.0
NO_SHARED_LANGUAGE = -6.0
PER_HOUR_APART = -0.5
PER_CURRENT_MENTEE = -1.0
FREE_SHARE = 2.0  # times the share of places still free


@dataclass(frozen=True)
class Wishes:
    """What the mentee brings to matching, from their profile."""

    interests: tuple[str, ...]
    languages: tuple[str, ...]
    zone: str


@dataclass(frozen=True)
class MentorRef:
    """What ranking needs of a mentor; the full record is read for the best few only."""

    id: int
    matrix_id: str
    capacity: int


@dataclass(frozen=True)
class Candidate:
    mentor: Person | MentorRef
    load: int
    skills: tuple[str, ...]
    languages: tuple[str, ...]
    zone: str


@dataclass(frozen=True)
class Match:
    """A mentor who suits a request, and why: what they share with the mentee, how far apart
    they are, how many mentees they have (the message layer words it as one line)."""

    mentor: Person
    score: float
    shared: tuple[str, ...]
    languages: tuple[str, ...]
    hours_apart: int
    load: int



def hours_apart(zone_a: str, zone_b: str, at: datetime) -> int:
    """Whole hours between two zones' clocks at ``at`` (0 to 12)."""
    a = at.astimezone(ZoneInfo(zone_a)).utcoffset()
    b = at.astimezone(ZoneInfo(zone_b)).utcoffset()
    assert a is not None and b is not None
    diff = abs((a - b).total_seconds()) / 3600 % 24  # zones can be more than 24 hours apart
    return round(min(diff, 24 - diff))


def is_away(person: Person, now: datetime) -> bool:
    """Away: a date set until which they take no new mentees, not reached yet."""
    return bool(person.away_until and person.away_until > now)


def available_mentors(now: datetime):
    """The mentors who may be offered a new mentee now, as a condition on ``Person``: on the
    roster, active, and not away (see ``is_away``). Every list of available mentors (matching,
    the coach pool) reads them through this one rule."""
    return and_(Person.is_mentor.is_(True), Person.inactive.is_(False),
                or_(Person.away_until.is_(None), Person.away_until <= now))


def excluded_for(request: MentorRequest, declined: set[int]) -> set[int]:
    """The mentors a request is never offered to: its mentee themself, the mentor they are
    leaving (a change of mentor), and those who declined it (``declined``)."""
    return {i for i in declined | {request.mentee_id, request.previous_mentor_id} if i is not None}


def score(wishes: Wishes, c: Candidate, now: datetime, apart: int | None = None) -> Match:
    shared = tuple(i for i in wishes.interests if i in c.skills)
    languages = vocabulary.shared_languages(wishes.languages, c.languages)
    if apart is None:
        apart = hours_apart(wishes.zone, c.zone, now)
    value = points(len(shared), bool(languages), bool(c.languages), bool(wishes.languages), apart, c.load,
                    c.mentor.capacity)
    return Match(c.mentor, value, shared, languages, apart, c.load)


def points(shared: int, shares: bool, speaks_any: bool, wants_language: bool, apart: int, load: int,
            capacity: int) -> float:
    """The score, from plain numbers (the one formula, for every way of ranking)."""
    value = PER_SHARED_INTEREST * shared
    if shares:
        value += SHARED_LANGUAGE
    elif wants_language and speaks_any:
        value += NO_SHARED_LANGUAGE
    value += PER_HOUR_APART * apart
    value += PER_CURRENT_MENTEE * load
    if capacity:
        value += FREE_SHARE * (capacity - load) / capacity
    return round(value, 6)


def rank(wishes: Wishes, candidates: list[Candidate], now: datetime) -> list[Match]:
    """Best first; the same data always gives the same order."""
    matches = [score(wishes, c, now) for c in candidates]
    return sorted(matches, key=lambda m: (-m.score, m.load, m.mentor.matrix_id))


async def wishes_of(session: Session, mentee: Person, policy: ProgramPolicy) -> Wishes:
    return wishes_from(mentee, await people.tags(session, mentee.id), policy)


def wishes_from(mentee: Person, tags: dict[TagKind, list[str]], policy: ProgramPolicy) -> Wishes:
    """The mentee's wishes, from their tags (``people.tags``), in the program's words."""
    return Wishes(
        interests=vocabulary.canonical_all(tags[TagKind.INTEREST], policy.skills),
        languages=tuple(tags[TagKind.LANGUAGE]),
        zone=mentee.timezone or policy.timezone,
    )


def candidate(mentor: Person, tags: dict[TagKind, list[str]], load: int, policy: ProgramPolicy) -> Candidate:
    """A mentor as ranking sees them, from their tags (``people.tags``), with ``load`` mentees."""
    return Candidate(mentor, load, vocabulary.canonical_all(tags[TagKind.SKILL], policy.skills),
                     tuple(tags[TagKind.LANGUAGE]),
                     mentor.timezone or policy.timezone)


async def suggest(
    session: Session, request: MentorRequest, mentee: Person, now: datetime, policy: ProgramPolicy,
    limit: int = 3,
) -> list[Match]:
    """The ``limit`` mentors who best suit the request, best first, with their full records.

    Mentors who may take it: available, with a free place, not the mentee themself, not
    the mentor they are leaving, and not one who declined it. The database orders them
    by a hopeful score (as if each spoke the mentee's language) and hands them over a
    batch at a time; each batch is scored exactly, with the languages each speaks,
    until nobody left could beat the ones found. The result is the same as scoring all.
    """
    wishes = await wishes_of(session, mentee, policy)
    declined = set(
        (await session.exec(select(RequestDecline.mentor_id).where(RequestDecline.request_id == request.id))).all()
    )
    excluded = list(excluded_for(request, declined))
    conn = await session.connection()
    available = (available_mentors(now), Person.id.not_in(excluded))
    zone_of = func.coalesce(Person.timezone, policy.timezone)
    zones = {z: hours_apart(wishes.zone, z, now) for z in await _mentor_zones(conn, zone_of, available)}
    if not zones:
        return []

    def apart(zone: str) -> int:  # a zone that appeared since the list was read is measured too
        return zones[zone] if zone in zones else hours_apart(wishes.zone, zone, now)
    n = Person.active_mentees  # kept by the database as mentorships start and end
    # A skill counts once however it was written (``l10n`` stored before the program knew it
    # for ``localization``): each word is read as the skill it means, and those are counted.
    meaning = vocabulary.terms(wishes.interests, policy.skills)
    means = case(meaning, value=PersonTag.value, else_=PersonTag.value) if len(meaning) > len(wishes.interests) \
        else PersonTag.value
    shared_sq = (select(PersonTag.person_id, func.count(func.distinct(means)).label("k"))
                 .where(PersonTag.kind == TagKind.SKILL, PersonTag.value.in_(tuple(meaning) or ("",)))
                 .group_by(PersonTag.person_id).subquery())
    shared = func.coalesce(shared_sq.c.k, 0)
    wants = bool(wishes.languages)
    hopeful = (PER_SHARED_INTEREST * shared + (SHARED_LANGUAGE if wants else 0.0)
               + PER_HOUR_APART * case(zones, value=zone_of, else_=0) + PER_CURRENT_MENTEE * n
               + case((Person.capacity > 0, FREE_SHARE * (Person.capacity - n) / cast(Person.capacity, Float)),
                      else_=0.0))
    ordered = (select(Person.id, Person.matrix_id, Person.capacity, zone_of, n, shared)
               .outerjoin(shared_sq, shared_sq.c.person_id == Person.id)
               .where(*available, n < Person.capacity)
               .order_by(hopeful.desc(), n, Person.matrix_id))
    found: list = []
    spoken: dict[int, list[str]] = {}
    spoken_done: set[int] = set()
    offset, batch = 0, max(64 * limit, 256)
    while True:
        page = (await conn.execute(ordered.limit(batch + 1).offset(offset))).all()
        chunk, following = page[:batch], page[batch:]
        offset += batch
        spoken.update(await _languages(session, [r[0] for r in chunk]) if wants else {r[0]: [] for r in chunk})
        for pid, matrix_id, capacity, zone, load_n, k in chunk:
            if pid in spoken_done:
                continue  # a page boundary moved under a concurrent change: each mentor once
            spoken_done.add(pid)
            shares = bool(vocabulary.shared_languages(wishes.languages, spoken[pid]))
            value = points(k, shares, bool(spoken[pid]), wants, apart(zone), load_n, capacity)
            found.append(((-value, load_n, matrix_id), pid, capacity, zone))
        found.sort()
        if not following:
            break  # everyone was read
        pid, matrix_id, capacity, zone, load_n, k = following[0]
        best_unread = points(k, wants, wants, wants, apart(zone), load_n, capacity)
        if len(found) >= limit and -found[limit - 1][0][0] > best_unread + 1e-5:
            break  # nobody unread can do as well as the ones found
        batch *= 4
    best = []
    skills = await _skills(session, [pid for _, pid, _, _ in found[:limit]])
    for (_, load_n, matrix_id), pid, capacity, zone in found[:limit]:
        offered = set(vocabulary.canonical_all(skills.get(pid, ()), policy.skills))
        mine = tuple(i for i in wishes.interests if i in offered)
        best.append(score(wishes, Candidate(MentorRef(pid, matrix_id, capacity), load_n, mine, tuple(spoken[pid]), zone),
                          now, apart(zone)))
    if not best:
        return []
    people_found = {p.id: p for p in (await session.exec(select(Person).where(Person.id.in_([m.mentor.id for m in best]))))
                    .all()}
    return [replace(m, mentor=people_found[m.mentor.id]) for m in best]


ZONES_FOR = 300.0  # seconds the list of the mentors' time zones is reused
_zones: tuple[float, tuple[str, ...]] = (0.0, ())


async def _mentor_zones(conn, zone_of, available) -> tuple[str, ...]:
    """The time zones the available mentors are in, read at most every few minutes.

    A zone missing from the list only makes the database's hopeful score more hopeful
    for the mentors in it (0 hours apart), never less: the ranking stays exact.
    """
    global _zones
    read_at, zones = _zones
    if not zones or time.monotonic() - read_at > ZONES_FOR:
        zones = tuple((await conn.execute(select(zone_of).where(*available).distinct())).scalars().all())
        _zones = (time.monotonic(), zones)
    return zones


async def _skills(session: Session, ids: list[int]) -> dict[int, list[str]]:
    """The skills each of these (few) people offers, in one statement."""
    found: dict[int, list[str]] = {}
    if ids:
        for person_id, value in (await session.exec(
                select(PersonTag.person_id, PersonTag.value)
                .where(PersonTag.person_id.in_(ids), PersonTag.kind == TagKind.SKILL))).all():
            found.setdefault(person_id, []).append(value)
    return found


async def _languages(session: Session, ids: list[int]) -> dict[int, list[str]]:
    spoken: dict[int, list[str]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):
        for person_id, value in (await (await session.connection()).execute(
            select(PersonTag.person_id, PersonTag.value)
            .where(PersonTag.person_id.in_(ids[start:start + 500]), PersonTag.kind == TagKind.LANGUAGE)
        )).all():
            spoken[person_id].append(value)
    return spoken


async def coach_pool(session: Session, now: datetime, policy: ProgramPolicy,
                     wanted: str = "") -> dict[str, list[Person]]:
    """The coach pool: available mentors who take single sessions, by the skills they list (those
    like ``wanted``, if given), skills in order, mentors by Matrix ID."""
    takes_sessions = func.coalesce(Person.coaching_per_month, policy.coaching_sessions_per_month) > 0
    rows = (await session.exec(
        select(Person, PersonTag.value)
        .join(PersonTag, PersonTag.person_id == Person.id)
        .where(available_mentors(now), takes_sessions, PersonTag.kind == TagKind.SKILL)
        .order_by(PersonTag.value, Person.matrix_id)
    )).all()
    by_skill: dict[str, list[Person]] = {}
    for mentor, value in rows:
        if not wanted or wanted in value:
            by_skill.setdefault(value, []).append(mentor)
    return by_skill
