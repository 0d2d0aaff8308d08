"""Matching: which available mentors suit a request, best first, each with a one-line reason.

The ranking is a pure function of the data: the same program gives the same
order every time (ties go to the lighter load, then the Matrix ID).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from commands.policy import ProgramPolicy
from commands.services import people
from storage.models import MentorRequest, Person, PersonTag, RequestDecline, TagKind

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
class Candidate:
    mentor: Person
    load: int
    skills: tuple[str, ...]
    languages: tuple[str, ...]
    zone: str


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


def score(wishes: Wishes, c: Candidate, now: datetime) -> Match:
    shared = tuple(i for i in wishes.interests if i in c.skills)
    languages = tuple(lang for lang in wishes.languages if lang in c.languages)
    apart = hours_apart(wishes.zone, c.zone, now)
    value = PER_SHARED_INTEREST * len(shared)
    if languages:
        value += SHARED_LANGUAGE
    elif wishes.languages and c.languages:
        value += NO_SHARED_LANGUAGE
    value += PER_HOUR_APART * apart
    value += PER_CURRENT_MENTEE * c.load
    if c.mentor.capacity:
        value += FREE_SHARE * (c.mentor.capacity - c.load) / c.mentor.capacity
    return Match(c.mentor, round(value, 6), shared, languages, apart, c.load)


def rank(wishes: Wishes, candidates: list[Candidate], now: datetime) -> list[Match]:
    """Best first; the same data always gives the same order."""
    matches = [score(wishes, c, now) for c in candidates]
    return sorted(matches, key=lambda m: (-m.score, m.load, m.mentor.matrix_id))


async def wishes_of(session: AsyncSession, mentee: Person, policy: ProgramPolicy) -> Wishes:
    tags = await people.tags(session, mentee.id)
    return Wishes(
        interests=tuple(tags[TagKind.INTEREST]),
        languages=tuple(tags[TagKind.LANGUAGE]),
        zone=mentee.timezone or policy.timezone,
    )


async def candidates_for(
    session: AsyncSession, request: MentorRequest, now: datetime, policy: ProgramPolicy
) -> list[Candidate]:
    """Mentors who may take this request: available, with a free place, not the mentee
    themself, not the mentor they are leaving, and not one who declined it."""
    declined = set(
        (await session.exec(select(RequestDecline.mentor_id).where(RequestDecline.request_id == request.id))).all()
    )
    excluded = declined | {request.mentee_id, request.previous_mentor_id}
    eligible = [
        (m, load)
        for m, load in await people.mentors_with_load(session)
        if m.id not in excluded and is_available(m, now) and load < m.capacity
    ]
    if not eligible:
        return []
    ids = [m.id for m, _ in eligible]
    rows = (
        await session.exec(
            select(PersonTag.person_id, PersonTag.kind, PersonTag.value)
            .where(PersonTag.person_id.in_(ids), PersonTag.kind.in_([TagKind.SKILL, TagKind.LANGUAGE]))
            .order_by(PersonTag.id)
        )
    ).all()
    skills: dict[int, list[str]] = {i: [] for i in ids}
    languages: dict[int, list[str]] = {i: [] for i in ids}
    for person_id, kind, value in rows:
        (skills if kind == TagKind.SKILL else languages)[person_id].append(value)
    return [
        Candidate(m, load, tuple(skills[m.id]), tuple(languages[m.id]), m.timezone or policy.timezone)
        for m, load in eligible
    ]


async def suggest(
    session: AsyncSession, request: MentorRequest, mentee: Person, now: datetime, policy: ProgramPolicy
) -> list[Match]:
    """Every mentor who may take the request, best first."""
    wishes = await wishes_of(session, mentee, policy)
    return rank(wishes, await candidates_for(session, request, now, policy), now)
