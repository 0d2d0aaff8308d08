"""Matching: which available mentors suit a request, best first, each with a one-line reason.

The ranking is a pure function of the data: the same program gives the same
order every time (ties go to the lighter load, then the Matrix ID).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from commands.policy import ProgramPolicy
from commands.services import people
from storage.models import MentorRequest, Mentorship, MentorshipState, Person, PersonTag, RequestDecline, TagKind

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
    skills: tuple[str, ...]  # at least those the mentee is interested in
    languages: tuple[str, ...]  # at least those the mentee speaks
    zone: str
    speaks_any: bool | None = None  # has any language on their profile (None: see ``languages``)
    shares_language: bool | None = None  # speaks one of the mentee's languages (None: see ``languages``)


@dataclass(frozen=True)
class Match:
    mentor: Person
    score: float
    shared: tuple[str, ...]
    languages: tuple[str, ...]
    hours_apart: int
    load: int

    def reason(self) -> str:
        """``shares: events, l10n; speaks es; 1h apart; 2 of 4 places free``"""
        parts = [f"shares: {', '.join(self.shared)}" if self.shared else "no shared interests"]
        parts.append(f"speaks {', '.join(self.languages)}" if self.languages else "no shared language")
        parts.append("same time zone" if self.hours_apart == 0 else f"{self.hours_apart}h apart")
        free = self.mentor.capacity - self.load
        parts.append(f"{free} of {self.mentor.capacity} place{'s' if self.mentor.capacity != 1 else ''} free")
        return "; ".join(parts)


def hours_apart(zone_a: str, zone_b: str, at: datetime) -> int:
    """Whole hours between two zones' clocks at ``at`` (0 to 12)."""
    a = at.astimezone(ZoneInfo(zone_a)).utcoffset()
    b = at.astimezone(ZoneInfo(zone_b)).utcoffset()
    assert a is not None and b is not None
    diff = abs((a - b).total_seconds()) / 3600 % 24  # zones can be more than 24 hours apart
    return round(min(diff, 24 - diff))


def is_available(mentor: Person, now: datetime) -> bool:
    """On the roster, active and not away."""
    return mentor.is_mentor and not mentor.inactive and not (mentor.away_until and mentor.away_until > now)


def score(wishes: Wishes, c: Candidate, now: datetime, apart: int | None = None) -> Match:
    shared = tuple(i for i in wishes.interests if i in c.skills)
    languages = tuple(lang for lang in wishes.languages if lang in c.languages)
    if apart is None:
        apart = hours_apart(wishes.zone, c.zone, now)
    return Match(c.mentor, _value(wishes, c, len(shared), languages, apart), shared, languages, apart, c.load)


def _value(wishes: Wishes, c: Candidate, shared: int, languages: tuple[str, ...], apart: int) -> float:
    value = PER_SHARED_INTEREST * shared
    speaks_any = bool(c.languages) if c.speaks_any is None else c.speaks_any
    shares = bool(languages) if c.shares_language is None else c.shares_language
    if shares:
        value += SHARED_LANGUAGE
    elif wishes.languages and speaks_any:
        value += NO_SHARED_LANGUAGE
    value += PER_HOUR_APART * apart
    value += PER_CURRENT_MENTEE * c.load
    if c.mentor.capacity:
        value += FREE_SHARE * (c.mentor.capacity - c.load) / c.mentor.capacity
    return round(value, 6)


def rank(wishes: Wishes, candidates: list[Candidate], now: datetime, limit: int | None = None) -> list[Match]:
    """Best first (the ``limit`` best, if given); the same data always gives the same order."""
    zones: dict[str, int] = {}
    keyed = []
    for c in candidates:
        apart = zones.get(c.zone)
        if apart is None:
            apart = zones[c.zone] = hours_apart(wishes.zone, c.zone, now)
        shared = sum(1 for i in wishes.interests if i in c.skills)
        languages = tuple(lang for lang in wishes.languages if lang in c.languages)
        keyed.append((-_value(wishes, c, shared, languages, apart), c.load, c.mentor.matrix_id, apart, c))
    best = heapq.nsmallest(limit, keyed, key=lambda k: k[:3]) if limit else sorted(keyed, key=lambda k: k[:3])
    return [score(wishes, c, now, apart) for *_, apart, c in best]


async def wishes_of(session: AsyncSession, mentee: Person, policy: ProgramPolicy) -> Wishes:
    tags = await people.tags(session, mentee.id)
    return Wishes(
        interests=tuple(tags[TagKind.INTEREST]),
        languages=tuple(tags[TagKind.LANGUAGE]),
        zone=mentee.timezone or policy.timezone,
    )


async def candidates_for(
    session: AsyncSession, request: MentorRequest, now: datetime, policy: ProgramPolicy, wishes: Wishes
) -> list[Candidate]:
    """Mentors who may take this request: available, with a free place, not the mentee
    themself, not the mentor they are leaving, and not one who declined it.

    Read as plain rows, with only the tags that can count for this mentee (a program
    with ten thousand mentors is ranked in milliseconds).
    """
    declined = set(
        (await session.exec(select(RequestDecline.mentor_id).where(RequestDecline.request_id == request.id))).all()
    )
    excluded = declined | {request.mentee_id, request.previous_mentor_id}
    load = (
        select(Mentorship.mentor_id, func.count().label("n"))
        .where(Mentorship.state == MentorshipState.ACTIVE)
        .group_by(Mentorship.mentor_id)
        .subquery()
    )
    speaks = (select(PersonTag.id).where(PersonTag.person_id == Person.id, PersonTag.kind == TagKind.LANGUAGE)
              .exists())
    shares = (select(PersonTag.id).where(PersonTag.person_id == Person.id, PersonTag.kind == TagKind.LANGUAGE,
                                         PersonTag.value.in_(wishes.languages or ("",))).exists())
    rows = (await session.exec(
        select(Person.id, Person.matrix_id, Person.capacity, Person.timezone, func.coalesce(load.c.n, 0), speaks,
               shares)
        .outerjoin(load, load.c.mentor_id == Person.id)
        .where(Person.is_mentor.is_(True), Person.inactive.is_(False),
               or_(Person.away_until.is_(None), Person.away_until <= now))
    )).all()
    eligible = [r for r in rows if r[0] not in excluded and r[4] < r[2]]
    if not eligible:
        return []
    skills: dict[int, list[str]] = {}
    if wishes.interests:  # only mentors have skills
        for person_id, value in (await session.exec(
            select(PersonTag.person_id, PersonTag.value)
            .where(PersonTag.kind == TagKind.SKILL, PersonTag.value.in_(wishes.interests))
        )).all():
            skills.setdefault(person_id, []).append(value)
    return [
        Candidate(MentorRef(pid, matrix_id, capacity), n, tuple(skills.get(pid, ())), (), zone or policy.timezone,
                  speaks_any=bool(speaks_any), shares_language=bool(shares_language))
        for pid, matrix_id, capacity, zone, n, speaks_any, shares_language in eligible
    ]


async def suggest(
    session: AsyncSession, request: MentorRequest, mentee: Person, now: datetime, policy: ProgramPolicy,
    limit: int = 3,
) -> list[Match]:
    """The ``limit`` mentors who best suit the request, best first, with their full records."""
    wishes = await wishes_of(session, mentee, policy)
    best = rank(wishes, await candidates_for(session, request, now, policy, wishes), now, limit)
    if not best:
        return []
    ids = [m.mentor.id for m in best]
    found = {p.id: p for p in (await session.exec(select(Person).where(Person.id.in_(ids)))).all()}
    spoken: dict[int, set[str]] = {}
    for person_id, value in (await session.exec(
        select(PersonTag.person_id, PersonTag.value).where(PersonTag.person_id.in_(ids), PersonTag.kind == TagKind.LANGUAGE)
    )).all():
        spoken.setdefault(person_id, set()).add(value)
    return [replace(m, mentor=found[m.mentor.id],
                    languages=tuple(lang for lang in wishes.languages if lang in spoken.get(m.mentor.id, ())))
            for m in best]
