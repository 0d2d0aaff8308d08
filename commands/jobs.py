"""Program work that runs by itself when its time comes, not because someone typed a command.

The database says what is due, so running a job twice, late, or after a restart
does the right thing: each item is handled once, in the transaction that records
it as handled.
"""

from __future__ import annotations

from commands.services.work import Work
from commands.services import checkins, privacy, rules


async def reminders(work: Work) -> int:
    """One batch of the reminders that have come due; returns how many were settled."""
    return await checkins.send_due_reminders(work)


async def program_rules(work: Work) -> None:
    """Escalations, overdue meetings, deadlines, the end of commitments, feedback rounds,
    the weekly digest, the monthly report, and once a day the retention policy."""
    await rules.run(work)
    await privacy.expire_daily(work)
