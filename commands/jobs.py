"""Program work that runs by itself when its time comes, not because someone typed a command.

``run_due`` is called by the transport's timer (and by the shell when its clock
moves). The database says what is due, so running it twice, late, or after a
restart does the right thing: each item is handled once, in the transaction
that records it as handled.
"""

from __future__ import annotations

from commands.dispatcher import Work
from commands.services import mentorships


async def run_due(work: Work) -> None:
    await mentorships.escalate_due(work)
