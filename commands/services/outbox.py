"""The durable outbox: messages are stored with the decision to send them, then delivered.

Storing them in the command's own transaction means a crash can neither lose a
reply (it is in the table) nor send it twice (delivery marks it sent, and the
transaction id makes a retried send idempotent).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, insert, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from commands.framework import RoomKind
from commands.messages import File, Incoming, Outgoing, Rendered, Target
from storage.models import HandledEvent, OutboxMessage

async def already_handled(session: AsyncSession, event_id: str | None) -> bool:
    return event_id is not None and await session.get(HandledEvent, event_id) is not None


@dataclass(frozen=True)
class Queued:
    """A message just stored, with what delivery needs (no reading it back)."""

    id: int
    txn_id: str
    message: Rendered


async def store(session: AsyncSession, messages: list[Outgoing], now: datetime,
                 handled: Incoming | None = None) -> list[Queued]:
    """Store messages to send, in the caller's transaction, and (when ``handled`` is given)
    that this incoming event is answered: a replayed event breaks the key at once.

    Plain table inserts, the messages in one statement: this runs for every command.
    """
    if handled is not None and handled.event_id is not None:
        await session.exec(_HANDLE, params={"event_id": handled.event_id, "room_id": handled.room_id,
                                            "handled_at": now})
    if not messages:
        return []
    rendered = [m.render() for m in messages]
    txn_ids = [m.txn_id or uuid.uuid4().hex for m in messages]
    rows = [
        {"txn_id": txn_id, "created_at": now, "room_kind": r.target.room.value, "user_id": r.target.user_id,
         "room_id": r.target.room_id, "body": r.body, "html": r.html, "mentions": "\n".join(r.mentions),
         "reply_to": r.reply_to, "sent_at": None, "attempts": 0, "last_error": None, "given_up": False,
         "files": json.dumps([f.to_dict() for f in r.files], ensure_ascii=False) if r.files else ""}
        for r, txn_id in zip(rendered, txn_ids)
    ]
    ids = (await session.exec(_QUEUE, params=rows)).scalars().all()
    return [Queued(i, txn_id, r) for i, txn_id, r in zip(ids, txn_ids, rendered)]


_OUTBOX = OutboxMessage.__table__
_HANDLE = insert(HandledEvent.__table__).values(
    event_id=bindparam("event_id"), room_id=bindparam("room_id"), handled_at=bindparam("handled_at"))
_QUEUE = insert(_OUTBOX).returning(_OUTBOX.c.id, sort_by_parameter_order=True)


PAGE = 100


async def pending(session: AsyncSession, limit: int = PAGE) -> list[OutboxMessage]:
    result = await session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.given_up.is_(False))
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    return list(result.all())


def rendered(row: OutboxMessage) -> Rendered:
    target = Target(RoomKind(row.room_kind), user_id=row.user_id, room_id=row.room_id)
    mentions = tuple(m for m in row.mentions.split("\n") if m)
    files = tuple(File(**f) for f in json.loads(row.files)) if row.files else ()
    return Rendered(target, row.body, row.html, mentions, row.reply_to, files)



async def mark_sent(session: AsyncSession, row_id: int, now: datetime) -> None:
    # Once sent, the text, the files and the address have no reason to stay: DMs may carry
    # confidential records and exports, and a person who is forgotten leaves no trace here.
    await session.exec(_MARK_SENT, params={"row_id": row_id, "now": now})
    await session.commit()


# A plain table statement, built once: it runs after every message the bot sends.
_MARK_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("row_id"))
    .values(sent_at=bindparam("now"), attempts=_OUTBOX.c.attempts + 1, body="", html="", mentions="", files="",
            user_id=None)
)


async def mark_failed(session: AsyncSession, row_id: int, reason: str, *, give_up: bool) -> None:
    row = await session.get(OutboxMessage, row_id)
    row.attempts += 1
    row.last_error = reason[:1000]
    row.given_up = give_up
    if give_up:  # never to be sent: nothing of it is kept
        row.body = row.html = row.mentions = row.files = ""
    await session.commit()
