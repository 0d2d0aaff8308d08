"""A small demo program, so every command can be tried in the shell at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import select

from commands.clock import add_months
from commands.policy import ProgramPolicy
from commands.services import people
from storage.db import Database
from storage.models import (
    ChangeRequest,
    CheckIn,
    CheckInKind,
    MentorRequest,
    Mentorship,
    Person,
    RequestState,
    TagKind,
)


@dataclass(frozen=True)
class DemoPerson:
    matrix_id: str
    name: str
    timezone: str
    languages: tuple[str, ...]
    role: str  # council, mentor, mentee
    tags: tuple[str, ...] = ()  # skills for mentors, interests for mentees
    capacity: int = 0


DEMO_PEOPLE = (
    DemoPerson("@cy:example.org", "Cy", "Europe/Berlin", ("en", "de"), "council"),
    DemoPerson("@bob:example.org", "Bob", "Europe/Madrid", ("en", "es"), "mentor",
               ("events", "public speaking", "localisation"), 3),
    DemoPerson("@dana:example.org", "Dana", "Europe/Berlin", ("en", "de"), "mentor",
               ("community building", "localisation"), 2),
    DemoPerson("@eli:example.org", "Eli", "America/Sao_Paulo", ("pt", "en"), "mentor",
               ("design", "events"), 4),
    DemoPerson("@ana:example.org", "Ana", "America/Lima", ("es", "en"), "mentee",
               ("events", "localisation")),
    DemoPerson("@finn:example.org", "Finn", "Europe/Dublin", ("en",), "mentee", ("public speaking",)),
    DemoPerson("@gia:example.org", "Gia", "Europe/Rome", ("it", "en"), "mentee", ("community building",)),
    DemoPerson("@hana:example.org", "Hana", "America/Sao_Paulo", ("pt", "en"), "volunteer", ("design",)),
)

# Where the demo program stands: Ana is mentored by Bob; Finn's request #1 waits
# for Bob's answer; Gia (mentored by Dana) asked the council to change mentor
# (change request #1); Hana has no mentor yet.
SITUATION = (
    "Ana is mentored by Bob, Gia by Dana; Finn's request #1 is offered to Bob;",
    "Gia's change of mentor (#1) waits for the council; Hana has no mentor yet.",
)


async def seed(db: Database, now: datetime, policy: ProgramPolicy | None = None) -> bool:
    """Add the demo people to an empty database; returns False if it already has people."""
    async with db.session() as session:
        count = (await session.exec(select(func.count()).select_from(Person))).one()
        if count:
            return False
        for demo in DEMO_PEOPLE:
            person = Person(
                matrix_id=demo.matrix_id,
                display_name=demo.name,
                timezone=demo.timezone,
                is_council=demo.role == "council",
                is_mentor=demo.role == "mentor",
                is_mentee=demo.role == "mentee",
                capacity=demo.capacity,
                created_at=now,
                updated_at=now,
            )
            session.add(person)
            await session.flush()
            await people.set_tags(session, person, TagKind.LANGUAGE, list(demo.languages))
            kind = TagKind.SKILL if demo.role == "mentor" else TagKind.INTEREST
            await people.set_tags(session, person, kind, list(demo.tags))
        await _situation(session, now, policy or ProgramPolicy())
        await session.commit()
    return True


async def _situation(session, now: datetime, policy: ProgramPolicy) -> None:
    by_id = {p.matrix_id: p for p in (await session.exec(select(Person))).all()}
    ana, bob, dana = by_id["@ana:example.org"], by_id["@bob:example.org"], by_id["@dana:example.org"]
    finn, gia = by_id["@finn:example.org"], by_id["@gia:example.org"]
    ana_since, gia_since = now - timedelta(days=60), now - timedelta(days=30)
    ana_bob = Mentorship(mentee_id=ana.id, mentor_id=bob.id, started_at=ana_since,
                         commitment_ends_at=add_months(ana_since, policy.commitment_months))
    gia_dana = Mentorship(mentee_id=gia.id, mentor_id=dana.id, started_at=gia_since,
                          commitment_ends_at=add_months(gia_since, policy.commitment_months))
    session.add_all([ana_bob, gia_dana])
    await session.flush()
    session.add(CheckIn(mentorship_id=ana_bob.id, kind=CheckInKind.REGULAR, due_at=now + timedelta(days=20),
                        timezone=ana.timezone or policy.timezone, created_at=ana_since))
    session.add(MentorRequest(mentee_id=finn.id, topic="I want to speak at my first conference",
                              state=RequestState.PROPOSED, proposed_to_id=bob.id, proposed_at=now,
                              created_at=now, escalate_at=now + timedelta(days=policy.request_escalation_days)))
    session.add(ChangeRequest(mentorship_id=gia_dana.id, reason="we rarely find a time to meet", created_at=now))


def describe() -> list[str]:
    return [f"  {d.matrix_id:<20} {d.name:<5} {d.role}" for d in DEMO_PEOPLE] + [f"  {line}" for line in SITUATION]
