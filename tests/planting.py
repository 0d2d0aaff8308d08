"""Planting a program straight into the database, for tests that start the bot on it."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.db import Database
from storage.models import CheckIn, Mentorship, Person, Reminder


async def checkins_with_reminders(db: Database, mentee: str, mentor: str, times: list[datetime],
                                  before: timedelta = timedelta(hours=1)) -> None:
    """A mentorship between two people and check-ins at ``times``, each with one reminder
    ``before`` it for both of them."""
    async with db.session() as s:
        ana = Person(matrix_id=mentee, display_name="Ana", is_mentee=True)
        bob = Person(matrix_id=mentor, display_name="Bob", is_mentor=True, capacity=3)
        s.add_all([ana, bob])
        await s.flush()
        m = Mentorship(mentee_id=ana.id, mentor_id=bob.id, started_at=min(times) - before,
                       commitment_ends_at=min(times) + timedelta(days=365))
        s.add(m)
        await s.flush()
        for at in times:
            c = CheckIn(mentorship_id=m.id, due_at=at, timezone="Europe/Berlin")
            s.add(c)
            await s.flush()
            for person in (ana, bob):
                s.add(Reminder(checkin_id=c.id, person_id=person.id, before_minutes=int(before.total_seconds() // 60),
                               due_at=at - before))
        await s.commit()
