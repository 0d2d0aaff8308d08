"""Things the bot tells a person at most once in a while, whatever they send meanwhile.

A stranger writing in a room the bot does not answer in, a client whose messages the
bot cannot decrypt, a flood of commands: each gets one short notice, then silence until
the period has passed. A reaction under a question already decided gets one short note too.
Chatter in a DM gets the full welcome once a day, then one line. The last time is stored,
so a restart does not repeat it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete

from storage.models import CourtesyNotice
from storage.session import Session

# The kinds, and how long each stays quiet after it was said.
OTHER_ROOM = "other_room"
UNDECRYPTABLE = "undecryptable"
SLOW_DOWN = "slow_down"
LATE_ANSWER = "late_answer"  # a ✅ or ❌ under a message whose question was decided already
WELCOME = "welcome"  # the full answer to words in a DM that are no command; later ones get a line
QUIET_FOR = {
    OTHER_ROOM: timedelta(days=1),
    UNDECRYPTABLE: timedelta(hours=1),
    SLOW_DOWN: timedelta(minutes=10),
    LATE_ANSWER: timedelta(days=1),
    WELCOME: timedelta(days=1),
}


async def due(session: Session, user_id: str, kind: str, now: datetime) -> bool:
    """Whether ``user_id`` may be told ``kind`` now; if so, it is noted as told (in the caller's
    transaction, so a notice that is not stored is not noted either)."""
    row = await session.get(CourtesyNotice, (user_id, kind))
    if row is not None and row.sent_at > now - QUIET_FOR[kind]:
        return False
    if row is None:
        session.add(CourtesyNotice(user_id=user_id, kind=kind, sent_at=now))
    else:
        row.sent_at = now
    return True


async def forget(session: Session, user_id: str) -> None:
    """Erase what was noted about a person (they asked to be forgotten)."""
    await session.exec(delete(CourtesyNotice).where(CourtesyNotice.user_id == user_id))
