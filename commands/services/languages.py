"""Which language each reader of the bot's messages gets (see ``commands.languages``).

A DM is written in its person's language: the one they chose (``profile language``), else the
first of their profile's languages the bot speaks, else the program's. A shared room (mentors,
council, a group's room) and the forum get the program's language.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_
from sqlmodel import select

from commands.kinds import RoomKind
from commands.languages import reader_language
from commands.messages import Target
from storage.models import Person, PersonTag, TagKind
from storage.session import Session


CHUNK = 500  # people looked up in one statement


def of_person(person: Person | None, profile_languages: Iterable[str], program: str) -> str:
    """The language ``person`` reads (the program's for someone the program does not know)."""
    if person is None:
        return program
    return reader_language(person.language, profile_languages, program)


class Readers:
    """The language of each target of a batch of messages, looked up together."""

    def __init__(self, program: str, known: dict[str, str] | None = None) -> None:
        self.program = program
        self.known = dict(known or {})

    async def look_up(self, session: Session, targets: Iterable[Target]) -> None:
        """Read the languages of the DM targets not known yet (one statement for up to 500 of them)."""
        wanted = {t.user_id for t in targets if t.room is RoomKind.DM and t.user_id} - self.known.keys()
        if not wanted:
            return
        ordered = sorted(wanted)
        rows = []
        for start in range(0, len(ordered), CHUNK):  # thousands of readers, after a long downtime
            rows += (await session.exec(
                select(Person.matrix_id, Person.language, PersonTag.value)
                .outerjoin(PersonTag, and_(PersonTag.person_id == Person.id, PersonTag.kind == TagKind.LANGUAGE))
                .where(Person.matrix_id.in_(ordered[start:start + CHUNK])).order_by(Person.id, PersonTag.id)
            )).all()
        chosen: dict[str, str | None] = {}
        spoken: dict[str, list[str]] = {}
        for matrix_id, language, tag in rows:
            chosen[matrix_id] = language
            if tag is not None:
                spoken.setdefault(matrix_id, []).append(tag)
        for matrix_id in wanted:
            self.known[matrix_id] = reader_language(chosen.get(matrix_id), spoken.get(matrix_id, ()), self.program)

    def of(self, target: Target) -> str:
        """The language a message to ``target`` is written in (after ``look_up``)."""
        if target.room is RoomKind.DM and target.user_id:
            return self.known.get(target.user_id, self.program)
        return self.program
