"""The durable outbox: messages are stored with the decision to send them, then delivered.

Storing them in the command's own transaction means a crash can neither lose a
reply (it is in the table) nor send it twice (delivery marks it sent, and the
transaction id makes a retried send idempotent).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, case, func, insert, or_, update
from sqlmodel import select

from commands.kinds import RoomKind
from commands.languages import SOURCE
from commands.messages import Answers, File, Incoming, Outgoing, Rendered, Target
from commands.services.languages import Readers
from storage.models import HandledEvent, OutboxMessage
from storage.session import Session

async def already_handled(session: Session, event_id: str | None) -> bool:
    return event_id is not None and await session.get(HandledEvent, event_id) is not None


# Delivery lanes: what someone waits for (a reply, a reminder) goes before the program's bulk
# notices (overdue warnings, digests), which may be thousands at once.
NOW, BULK = 0, 1


@dataclass(frozen=True)
class Queued:
    """A message just stored, with what delivery needs (no reading it back)."""

    id: int
    txn_id: str
    message: Rendered
    lane: int = NOW


async def store(session: Session, messages: list[Outgoing], now: datetime,
                 handled: Incoming | None = None, readers: Readers | None = None) -> list[Queued]:
    """Store messages to send, in the caller's transaction, and (when ``handled`` is given)
    that this incoming event is answered: a replayed event breaks the key at once. Each message
    is written in its reader's language (``readers``; English when not given).

    Plain table inserts, the messages in one statement: this runs for every command.
    """
    if handled is not None and handled.event_id is not None:
        await session.exec(_HANDLE, params={"event_id": handled.event_id, "room_id": handled.room_id,
                                            "handled_at": now})
    if not messages:
        return []
    if readers is not None:
        await readers.look_up(session, (m.target for m in messages))
    rendered = [m.render(readers.of(m.target) if readers is not None else SOURCE) for m in messages]
    lanes = [BULK if m.bulk else NOW for m in messages]
    answered = handled.event_id if handled is not None else None
    txn_ids = [m.txn_id or _txn_id(answered, index) for index, m in enumerate(messages)]
    rows = [
        {"txn_id": txn_id, "created_at": now, "room_kind": r.target.room.value, "user_id": r.target.user_id,
         "room_id": r.target.room_id, "body": r.body, "html": r.html, "mentions": "\n".join(r.mentions),
         "reply_to": r.reply_to, "sent_at": None, "attempts": 0, "last_error": None, "given_up": False,
         "files": json.dumps([f.to_dict() for f in r.files], ensure_ascii=False) if r.files else "",
         "notify": r.notify, "next_attempt_at": None, "lane": lane, "invite": r.invite,
         "group_id": r.target.group_id, "answers": r.answers.to_json() if r.answers else ""}
        for r, txn_id, lane in zip(rendered, txn_ids, lanes)
    ]
    # All the messages in one statement; each id is found by its transaction id (unique), so
    # the rows may come back in any order.
    ids = dict((txn, i) for i, txn in (await session.exec(_QUEUE, params=rows)).all())
    return [Queued(ids[txn_id], txn_id, r, lane) for txn_id, r, lane in zip(txn_ids, rendered, lanes)]


async def not_handled(session: Session, events: list[Incoming]) -> list[Incoming]:
    """Those of ``events`` not recorded as handled yet, in their order."""
    ids = [e.event_id for e in events if e.event_id]
    known = set((await session.exec(
        select(HandledEvent.event_id).where(HandledEvent.event_id.in_(ids)))).all()) if ids else set()
    return [e for e in events if e.event_id not in known]


async def mark_handled(session: Session, events: list[Incoming], now: datetime) -> None:
    """Record events as handled, with no answer (in one statement)."""
    rows = [{"event_id": e.event_id, "room_id": e.room_id, "handled_at": now} for e in events if e.event_id]
    if rows:
        await session.exec(_HANDLE, params=rows)


def _txn_id(answered: str | None, index: int) -> str:
    """The transaction id of a message: for an answer, derived from the event it answers, so
    that an event handled twice (its first handling lost with the last commits) sends the same
    transaction again, which the homeserver recognises and does not post twice."""
    if answered is None:
        return uuid.uuid4().hex
    return "re" + hashlib.sha256(f"{answered}\n{index}".encode()).hexdigest()[:40]


_OUTBOX = OutboxMessage.__table__
_HANDLE = insert(HandledEvent.__table__).values(
    event_id=bindparam("event_id"), room_id=bindparam("room_id"), handled_at=bindparam("handled_at"))
_QUEUE = insert(_OUTBOX).returning(_OUTBOX.c.id, _OUTBOX.c.txn_id)


PAGE = 100


async def pending(session: Session, now: datetime, limit: int = PAGE) -> list[OutboxMessage]:
    """The next messages to send: the first lane before the bulk one, each oldest first; those
    held back for later are left out."""
    result = await session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.given_up.is_(False),
               or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now))
        .order_by(OutboxMessage.lane, OutboxMessage.id)
        .limit(limit)
    )
    return list(result.all())


def rendered(row: OutboxMessage) -> Rendered:
    target = Target(RoomKind(row.room_kind), user_id=row.user_id, room_id=row.room_id, group_id=row.group_id)
    mentions = tuple(m for m in row.mentions.split("\n") if m)
    files = tuple(File(**f) for f in json.loads(row.files)) if row.files else ()
    return Rendered(target, row.body, row.html, mentions, row.reply_to, files, row.notify, row.invite,
                    Answers.from_json(row.answers))


@dataclass(frozen=True)
class Waiting:
    """Messages not sent yet (nor given up): those due now, and those held back for a room that
    cannot be reached now; how many, and when the oldest of each was decided."""

    due: int = 0
    oldest_due: datetime | None = None
    held: int = 0
    oldest_held: datetime | None = None


async def waiting(session: Session, now: datetime) -> Waiting:
    """What waits in the outbox, in one statement over the index of pending messages."""
    held = and_(OutboxMessage.next_attempt_at.is_not(None), OutboxMessage.next_attempt_at > now)
    due = or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now)
    row = (await session.exec(
        select(func.count(case((due, 1))), func.min(case((due, OutboxMessage.created_at))),
               func.count(case((held, 1))), func.min(case((held, OutboxMessage.created_at))))
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.given_up.is_(False))
    )).one()
    return Waiting(*row)


TargetKey = tuple[str, str | None, str | None, int | None]


def target_key(target: Target) -> TargetKey:
    """Messages with the same key go to the same room, and must arrive in the order decided."""
    return target.room.value, target.user_id, target.room_id, target.group_id


async def held(session: Session, now: datetime) -> dict[TargetKey, datetime]:
    """Where messages are held back, and until when: later messages there must wait too."""
    where = (OutboxMessage.room_kind, OutboxMessage.user_id, OutboxMessage.room_id, OutboxMessage.group_id)
    result = await session.exec(
        select(*where, func.max(OutboxMessage.next_attempt_at))
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.given_up.is_(False),
               OutboxMessage.next_attempt_at > now)
        .group_by(*where)
    )
    return {(kind, user_id, room_id, group_id): until for kind, user_id, room_id, group_id, until in result.all()}


HOLD_FIRST = timedelta(minutes=1)
HOLD_LONGEST = timedelta(hours=1)


async def hold(session: Session, row_id: int, reason: str, now: datetime,
               until: datetime | None = None) -> datetime:
    """Keep a message for later: its room cannot be reached now. Tried again after a minute,
    then less and less often, up to once an hour; never dropped. Returns when."""
    row = await session.get(OutboxMessage, row_id)
    row.attempts += 1
    row.last_error = reason[:1000]
    if until is None:
        until = now + min(HOLD_FIRST * 2 ** min(row.attempts - 1, 10), HOLD_LONGEST)
    row.next_attempt_at = until
    await session.commit()
    return until


async def release(session: Session, room_kind: RoomKind) -> int:
    """Try the messages held for a room again now (the bot can reach it again)."""
    result = await session.exec(
        update(_OUTBOX)
        .where(_OUTBOX.c.room_kind == room_kind.value, _OUTBOX.c.sent_at.is_(None),
               _OUTBOX.c.given_up.is_(False), _OUTBOX.c.next_attempt_at.is_not(None))
        .values(next_attempt_at=None)
    )
    await session.commit()
    return result.rowcount or 0



async def mark_sent(session: Session, row_ids: list[int], now: datetime) -> None:
    """Note messages as sent, in one statement.

    Once sent, the text, the files and the address have no reason to stay: DMs may carry
    confidential records and exports, and a person who is forgotten leaves no trace here."""
    await session.exec(_MARK_SENT, params={"row_ids": row_ids, "now": now})
    await session.commit()


# A plain table statement, built once: it runs after the messages the bot sends.
_MARK_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id.in_(bindparam("row_ids", expanding=True)))
    .values(sent_at=bindparam("now"), attempts=_OUTBOX.c.attempts + 1, body="", html="", mentions="", files="",
            user_id=None, invite=None, answers="")
)


async def mark_failed(session: Session, row_id: int, reason: str, *, give_up: bool) -> None:
    row = await session.get(OutboxMessage, row_id)
    row.attempts += 1
    row.last_error = reason[:1000]
    row.given_up = give_up
    if give_up:  # never to be sent: nothing of it is kept
        row.body = row.html = row.mentions = row.files = row.answers = ""
        row.invite = None
    await session.commit()
