"""What a transport keeps between runs in the program's database: its own notes (where the
sync got to, which rooms an alias named), and which room is each person's DM with the bot.

These run like any other work (``Runtime.run`` and ``Runtime.read``): in their turn and in
one transaction with the rest of the program's data.
"""

from __future__ import annotations

from commands.services import people
from storage.models import BotState
from storage.session import Session


async def kept(session: Session, key: str) -> str | None:
    """The note kept under ``key``, or None."""
    row = await session.get(BotState, key)
    return row.value if row else None


async def keep(session: Session, key: str, value: str) -> None:
    """Keep ``value`` under ``key``, replacing what was there."""
    row = await session.get(BotState, key)
    if row is None:
        session.add(BotState(key=key, value=value))
    else:
        row.value = value


async def dm_room_of(session: Session, user_id: str) -> str | None:
    """The room last known as ``user_id``'s DM with the bot (it must still pass the trust test)."""
    person = await people.find(session, user_id)
    return person.dm_room_id if person is not None else None


async def remember_dm(session: Session, user_id: str, room_id: str) -> None:
    """Note ``room_id`` as the DM of ``user_id``, if the program knows them."""
    person = await people.find(session, user_id)
    if person is not None and person.dm_room_id != room_id:
        person.dm_room_id = room_id
