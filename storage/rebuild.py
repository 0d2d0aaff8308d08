"""What a migration needs when SQLite rebuilds a table to change it.

SQLite cannot alter a column or a constraint in place: Alembic's batch mode copies the
table, drops the old one and renames the copy. Dropping ``checkin`` deletes its reminders
with it (they cascade, and foreign keys are enforced), so a migration that changes
``checkin`` keeps them aside while it does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

REMINDER_COLUMNS = "id, checkin_id, person_id, before_minutes, due_at, state, sent_at"


@contextmanager
def reminders_kept(op) -> Iterator[None]:
    """Around a batch change of ``checkin``: on SQLite, the reminders are copied aside and put back."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute(f"CREATE TEMPORARY TABLE reminder_kept AS SELECT {REMINDER_COLUMNS} FROM reminder")
    yield
    if sqlite:
        op.execute(f"INSERT INTO reminder ({REMINDER_COLUMNS}) SELECT {REMINDER_COLUMNS} FROM reminder_kept "
                   "WHERE NOT EXISTS (SELECT 1 FROM reminder WHERE reminder.id = reminder_kept.id)")
        op.execute("DROP TABLE reminder_kept")
