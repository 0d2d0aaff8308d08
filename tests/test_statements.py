"""What the commands people use most cost the database: statements and commits, counted.

Each hot command, answered and its replies delivered, runs at most the number of
statements stated here, on SQLite and on PostgreSQL. A change that adds a statement to
one of them fails here, and says which statements ran; lower the number when a change
saves one. (On SQLite every statement runs in place, so a statement is also the whole
cost of reaching the database: there is no trip to a worker thread.)
"""

from __future__ import annotations

import pytest
from sqlalchemy import event

from commands.kinds import RoomKind
from commands.messages import Incoming
from tests.conftest import COUNCIL

ANA, BOB = "@ana:example.org", "@bob:example.org"

NEWCOMER = "@new:example.org"

# (who, what they send, at most this many statements, of which at most this many commits)
HOT = {
    # In a DM, one statement more than in a room: whether the person is in a guided conversation.
    # A command that writes to others reads the languages of all of them in one statement.
    "help": (ANA, "help", 7, 2),  # a reply delivered: the conversation; read the person; store; mark sent
    "status": (ANA, "status", 12, 2),
    "request": (NEWCOMER, "request help with community building", 30, 4),
    "accept": (BOB, "accept 1", 23, 5),  # one reply, and three messages to others, each marked sent
    "checkin": (BOB, "checkin @ana:example.org tomorrow 16:00", 15, 3),
}


def _engine(db):
    return db.sync_engine if db.sync_engine is not None else db.engine.sync_engine


# The answer to words that are no command, the day's full welcome (who, what, statements, commits):
# a newcomer is read nothing but their record; a mentee their mentor and next check-in in one
# statement; a mentor the requests offered to them and their next check-ins.
WELCOMES = {
    # the conversation (is it an answer?); the day's courtesy read and noted; the person; store; mark sent
    "hi newcomer": (NEWCOMER, "hi", 9, 2),
    "hi mentee": (ANA, "hello", 10, 2),
    "hi mentor": (BOB, "hi", 11, 2),
}


@pytest.mark.parametrize("name", list(HOT))
async def test_a_hot_command_runs_no_more_statements_than_stated(demo_bot, name):
    who, text, most, commits = HOT[name]
    if name == "accept":  # an open request to accept: the demo's first
        assert "#1" in await demo_bot.reply(BOB, "requests")
    else:  # the first delivery after a start reads what an earlier process left; counted apart
        await demo_bot.send(BOB, "help")
    await _within(demo_bot, name, who, text, most, commits, "ok")


@pytest.mark.parametrize("name", list(WELCOMES))
async def test_a_welcome_runs_no_more_statements_than_stated(demo_bot, name):
    who, text, most, commits = WELCOMES[name]
    await demo_bot.send(COUNCIL, "help")  # the first delivery after a start, counted apart
    await _within(demo_bot, name, who, text, most, commits, "welcome")


async def _within(demo_bot, name: str, who: str, text: str, most: int, commits: int, outcome: str) -> None:
    ran: list[str] = []
    engine = _engine(demo_bot.db)

    def statement(conn, cursor, sql, params, context, executemany) -> None:
        ran.append(" ".join(sql.split()[:6]))

    def commit(conn) -> None:
        ran.append("COMMIT")

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        # As from Matrix: an event with its id, which is recorded as handled with the answer.
        result = await demo_bot.runtime.handle(Incoming(sender=who, room=RoomKind.DM, text=text,
                                                        room_id="!dm:test", event_id=f"$hot-{name}"))
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
    assert result.outcome == outcome, result.messages[0].msg.plain() if result.messages else result.outcome
    assert demo_bot.outbox.sent, "the reply was delivered"
    shown = "\n".join(ran)
    assert len(ran) <= most, f"{name}: {len(ran)} statements, at most {most} expected:\n{shown}"
    assert ran.count("COMMIT") <= commits, f"{name}: {ran.count('COMMIT')} commits, at most {commits}:\n{shown}"
