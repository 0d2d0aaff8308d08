"""A small demo program, so every command can be tried in the shell at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import select

from commands.services import people
from storage.db import Database
from storage.models import Person, TagKind


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
)


async def seed(db: Database, now: datetime) -> bool:
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
        await session.commit()
    return True


def describe() -> list[str]:
    return [f"  {d.matrix_id:<20} {d.name:<5} {d.role}" for d in DEMO_PEOPLE]
