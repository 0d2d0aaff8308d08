"""Group mentoring: a mentor with a small group, its members, room, check-ins and sessions,
over months of the simulated clock.

The program: Bob (mentor) leads a group; Ana, Eve, Fay, Gus, Hal and Ivy are mentees; Dana
is another mentor; Cy is on the council. The program's largest group is 5 (the default).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from commands.framework import RoomKind
from storage.models import CheckIn, GroupMember, MemberState, MentoringGroup, Reminder, ReminderState
from tests.conftest import COUNCIL

BOB, DANA = "@bob:example.org", "@dana:example.org"
ANA, EVE, FAY, GUS, HAL, IVY = (f"@{n}:example.org" for n in ("ana", "eve", "fay", "gus", "hal", "ivy"))
MENTEES = [ANA, EVE, FAY, GUS, HAL, IVY]


async def ok(bot, sender: str, line: str, room: RoomKind = RoomKind.DM):
    result = await bot.send(sender, line, room)
    assert result.outcome == "ok", (line, [m.msg.plain() for m in result.messages])
    return result.messages[0].msg.plain() if result.messages else ""


def dms(bot, user: str, since: int = 0) -> list[str]:
    return [m.body for m in bot.outbox.sent[since:] if m.target.room is RoomKind.DM and m.target.user_id == user]


def group_room(bot, group_id: int = 1, since: int = 0):
    return [m for m in bot.outbox.sent[since:] if m.target.room is RoomKind.GROUP and m.target.group_id == group_id]


async def advance(bot, delta: timedelta) -> int:
    start = len(bot.outbox.sent)
    await bot.runtime.advance_to(bot.clock.now() + delta, bot.clock)
    return start


@pytest.fixture
async def program(bot):
    for line in ((COUNCIL, f"mentor add {BOB} 3"), (COUNCIL, f"mentor add {DANA} 2"), (BOB, "profile name Bob"),
                 (DANA, "profile name Dana")):
        await ok(bot, *line)
    for mentee in MENTEES:
        await ok(bot, mentee, f"profile name {mentee[1:4].title()}")
    bot.outbox.sent.clear()
    return bot


async def a_group_of(bot, *members: str) -> None:
    await ok(bot, BOB, "group create Writers")
    for m in members:
        await ok(bot, BOB, f"group invite 1 {m}")
        await ok(bot, m, "group join 1")


async def test_smoke(program):
    bot = program
    await a_group_of(bot, ANA, EVE)
    print(await ok(bot, BOB, "groups"))
    print(await ok(bot, BOB, "group checkin 1 next tuesday 18:00"))
    start = await advance(bot, timedelta(days=2))
    for m in bot.outbox.sent: print(m.target, m.body)
