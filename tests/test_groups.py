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


async def ok(bot, sender: str, line: str, room: RoomKind = RoomKind.DM) -> str:
    """Send a command that must succeed; returns the reply to the sender."""
    result = await bot.send(sender, line if room is RoomKind.DM else f"!{line}", room)
    assert result.outcome == "ok", (line, [m.msg.plain() for m in result.messages])
    replies = [m for m in result.messages if m.target.room is room and m.target.user_id in (None, sender)
               and m.target.group_id is None]
    return replies[-1].msg.plain() if replies else ""


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


MARK, DIARY = "GROUPNOTE-Q7", "DIARYNOTE-Q7"


async def test_a_group_fills_up_to_the_programs_largest_group_and_one_more_is_refused(program):
    bot = program
    assert "up to 5 mentees" in await ok(bot, BOB, "group create Writers", RoomKind.MENTORS)
    for m in MENTEES[:5]:
        await ok(bot, BOB, f"group invite 1 {m}")
    before = await bot.snapshot()
    refused = await bot.send(BOB, f"group invite 1 {IVY}")
    assert refused.outcome == "refused"
    said = refused.messages[0].msg.plain()
    assert "is full" in said and "at most 5 mentees" in said
    assert await bot.snapshot() == before and not dms(bot, IVY)
    # Those asked count until they answer: one says no, and a place is free again.
    await ok(bot, FAY, "group decline 1")
    assert "Fay said no" in dms(bot, BOB)[-1]
    await ok(bot, BOB, f"group invite 1 {IVY}")
    for m in (ANA, EVE, GUS, HAL, IVY):
        await ok(bot, m, "group join 1")
    assert "Ana, Eve, Gus, Hal, Ivy" in await ok(bot, BOB, "groups")
    # Nobody joins uninvited, nor twice.
    assert (await bot.send(FAY, "group join 1")).outcome == "refused"
    assert "already in" in (await bot.send(BOB, f"group invite 1 {ANA}")).messages[0].msg.plain()
    # The welcome in the group's room invites each new member into it.
    invited = [m.invite for m in group_room(bot) if m.invite]
    assert invited == [ANA, EVE, GUS, HAL, IVY]


async def test_every_member_and_the_mentor_are_reminded_once_in_the_groups_room_over_months(program):
    bot = program
    await a_group_of(bot, ANA, EVE, FAY)
    await ok(bot, BOB, "group checkin 1 every month from 2027-01-12 18:00")
    await ok(bot, GUS, "request help with talks")  # another mentee, not in the group
    start = await advance(bot, timedelta(days=100))
    reminders = [m for m in group_room(bot, since=start) if "Reminder" in m.body]
    # Four monthly meetings (Jan 12 .. Apr 12), each reminded 24 h and 1 h before: one message each time.
    assert len(reminders) == 8
    for m in reminders:
        assert set(m.mentions) == {BOB, ANA, EVE, FAY} and m.notify
    assert not [b for who in (BOB, ANA, EVE, FAY, GUS) for b in dms(bot, who, start) if "Reminder" in b]
    async with bot.db.session() as s:
        rows = (await s.exec(select(Reminder))).all()
    sent = [(r.checkin_id, r.person_id, r.before_minutes) for r in rows if r.state is ReminderState.SENT]
    assert len(sent) == len(set(sent)) == 8 * 4  # each person's reminder once
    # Waking up again sends nothing twice.
    again = len(bot.outbox.sent)
    await bot.runtime.run_reminders()
    assert not group_room(bot, since=again)


async def test_a_new_member_is_reminded_and_one_who_left_is_not(program):
    bot = program
    await a_group_of(bot, ANA, EVE)
    await ok(bot, BOB, "group checkin 1 2027-01-20 18:00")
    await ok(bot, ANA, "group leave 1")
    await ok(bot, BOB, f"group invite 1 {FAY}")
    await ok(bot, FAY, "group join 1")
    start = await advance(bot, timedelta(days=20))
    [day_before, hour_before] = [m for m in group_room(bot, since=start) if "Reminder" in m.body]
    assert set(day_before.mentions) == set(hour_before.mentions) == {BOB, EVE, FAY}


async def test_a_group_session_reaches_its_members_mentor_and_council_only(program):
    bot = program
    await ok(bot, COUNCIL, f"assign {ANA} {BOB}")
    await ok(bot, COUNCIL, f"assign {HAL} {DANA}")
    await a_group_of(bot, ANA, EVE)
    await ok(bot, ANA, f"diary {DIARY} about my own goals")
    await ok(bot, ANA, f"goals add {DIARY}-goal")
    start = len(bot.outbox.sent)
    reply = await ok(bot, BOB, f"group session 1 regular {MARK} went well | next: {MARK}-next")
    assert "2 members have been sent it" in reply
    for member in (ANA, EVE):
        assert any(MARK in b and f"{MARK}-next" in b for b in dms(bot, member, start))
    assert MARK in await ok(bot, EVE, "group sessions 1")
    assert MARK in await ok(bot, COUNCIL, "group sessions 1")
    # Not a member: Hal (Dana's mentee), Dana (another mentor), Fay (asked, not joined).
    await ok(bot, BOB, f"group invite 1 {FAY}")
    for outsider in (HAL, DANA, FAY):
        result = await bot.send(outsider, "group sessions 1")
        assert result.outcome in ("refused", "denied") and MARK not in result.messages[0].msg.plain()
    for line, room in (("!requests", RoomKind.MENTORS), ("!mentors", RoomKind.MENTORS), ("!report", RoomKind.COUNCIL)):
        await bot.send(BOB, line, room) if room is RoomKind.MENTORS else await bot.send(COUNCIL, line, room)
    await advance(bot, timedelta(days=40))  # digests, reports, reminders
    for m in bot.outbox.sent:
        shown = m.body + m.html
        if m.target.room is not RoomKind.DM:
            assert MARK not in shown and DIARY not in shown, m.target  # mentors, council, group room
        elif m.target.user_id not in (ANA, EVE, BOB, COUNCIL):
            assert MARK not in shown, m.target.user_id
        if DIARY in shown:  # a member's diary: never to another member
            assert m.target.user_id in (ANA, BOB, COUNCIL), m.target.user_id
    assert DIARY not in await ok(bot, EVE, "mydata") + "".join(
        f.data for m in bot.outbox.sent if m.target.user_id == EVE for f in m.files)
    # The council's export has it only when asked for the confidential texts.
    start = len(bot.outbox.sent)
    await ok(bot, COUNCIL, "export group_sessions")
    await ok(bot, COUNCIL, "export group_sessions confidential")
    from tests.test_privacy import opened
    texts = [text for m in bot.outbox.sent[start:] for f in m.files for text in opened(f).values()]
    assert MARK not in texts[0] and MARK in texts[1]


async def test_leave_and_end_need_no_reason_and_a_reason_stays_with_the_council(program):
    bot = program
    await a_group_of(bot, ANA, EVE, FAY)
    await ok(bot, BOB, "group checkin 1 2027-02-10 18:00")
    start = len(bot.outbox.sent)
    assert "left" in await ok(bot, ANA, "group leave 1 REASON-LEAVE-Q7")
    assert any("Ana left" in b for b in dms(bot, BOB, start))
    [notice] = [m for m in group_room(bot, since=start)]
    assert "Ana left the group" in notice.body
    await ok(bot, EVE, "group leave 1")  # no reason needed
    assert (await bot.send(ANA, "group leave 1")).outcome == "refused"
    assert (await bot.send(FAY, "group end 1")).outcome in ("denied", "refused")
    await ok(bot, BOB, "group end 1 REASON-END-Q7")
    assert any("has ended group #1" in b for b in dms(bot, FAY, start))
    for m in bot.outbox.sent:
        assert "REASON-LEAVE-Q7" not in m.body and "REASON-END-Q7" not in m.body
    async with bot.db.session() as s:
        c = (await s.exec(select(CheckIn))).one()
        assert c.state.value == "cancelled"
        rows = (await s.exec(select(GroupMember))).all()
        assert {r.state for r in rows} == {MemberState.LEFT}
    assert "has ended" in (await bot.send(BOB, "group checkin 1 tomorrow 18:00")).messages[0].msg.plain()
    assert "ended 2027-01-04" in await ok(bot, FAY, "groups") or "no group" in await ok(bot, FAY, "groups")


async def test_the_council_changes_a_groups_mentor_before_its_commitment_ends(program):
    bot = program
    await a_group_of(bot, ANA, EVE)
    await ok(bot, BOB, "group checkin 1 2027-03-10 18:00")
    refused = await bot.send(BOB, f"group mentor 1 {DANA}")
    assert refused.outcome == "refused" and "the council changes its mentor" in refused.messages[0].msg.plain()
    start = len(bot.outbox.sent)
    assert "Dana is now the mentor" in await ok(bot, COUNCIL, f"group mentor 1 {DANA}", RoomKind.COUNCIL)
    for who in (BOB, ANA, EVE, DANA):
        assert any("mentor of group #1" in b for b in dms(bot, who, start)), who
    assert [m.invite for m in group_room(bot, since=start)] == [DANA]
    start = await advance(bot, timedelta(days=70))
    reminders = [m for m in group_room(bot, since=start) if "Reminder" in m.body]
    assert len(reminders) == 2 and all(set(m.mentions) == {DANA, ANA, EVE} for m in reminders)
    # A year on, the commitment is over: the mentor hands the group on without the council.
    await advance(bot, timedelta(days=300))
    assert "Bob is now the mentor" in await ok(bot, DANA, f"group mentor 1 {BOB}")


async def test_upgrading_from_0011_keeps_check_ins_and_their_reminders(tmp_path):
    from alembic import command
    from sqlalchemy import text

    from storage.db import Database, alembic_config
    from tests.conftest import database_url

    db = Database(database_url(tmp_path, empty=True))

    def to_0011(connection) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0011")

    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(to_0011)
            for sql in (
                "INSERT INTO person (id, matrix_id, is_mentee, is_mentor, is_council, capacity, inactive, created_at, "
                "updated_at) VALUES (1, '@ana:x.org', true, false, false, 0, false, '2027-01-01', '2027-01-01'), "
                "(2, '@bob:x.org', false, true, false, 3, false, '2027-01-01', '2027-01-01')",
                "INSERT INTO mentorship (id, mentee_id, mentor_id, state, started_at, commitment_ends_at) VALUES "
                "(1, 1, 2, 'active', '2026-06-01', '2027-06-01')",
                "INSERT INTO checkin (id, mentorship_id, kind, due_at, timezone, arranged, state, created_at) VALUES "
                "(1, 1, 'regular', '2027-02-01', 'UTC', true, 'scheduled', '2027-01-01')",
                "INSERT INTO reminder (checkin_id, person_id, before_minutes, due_at, state) VALUES "
                "(1, 1, 60, '2027-02-01', 'pending'), (1, 2, 60, '2027-02-01', 'pending')",
            ):
                await conn.execute(text(sql))
        await db.upgrade()
        async with db.session() as s:
            assert len((await s.exec(select(Reminder))).all()) == 2
            assert (await s.exec(select(CheckIn))).one().mentorship_id == 1
            # A check-in belongs to a mentorship or a group: neither, or both, is refused.
            from sqlalchemy.exc import IntegrityError
            with pytest.raises(IntegrityError):
                await s.exec(text("INSERT INTO checkin (kind, due_at, timezone, arranged, state, created_at) "
                                  "VALUES ('regular', '2027-02-01', 'UTC', true, 'scheduled', '2027-01-01')"))
    finally:
        await db.close()


async def test_a_group_check_in_is_listed_cancelled_with_its_repeats_and_held_by_a_session(program):
    bot = program
    await a_group_of(bot, ANA, EVE)
    await ok(bot, BOB, "group checkin 1 2027-01-08 18:00")
    await ok(bot, BOB, "group checkin 1 every week from 2027-01-20 18:00")
    listed = await ok(bot, ANA, "groups")
    assert "next: #1 check-in Fri 2027-01-08 18:00 (Europe/Berlin)" in listed
    # Past its time, a session recorded marks it as held.
    await advance(bot, timedelta(days=5))
    await ok(bot, BOB, "group session 1 regular we met")
    async with bot.db.session() as s:
        held = await s.get(CheckIn, 1)
        assert held.state.value == "done" and held.mentorship_id is None and held.group_id == 1
    # A member cannot cancel, nor can the mentor's individual command.
    assert (await bot.send(ANA, "group checkin cancel 2")).outcome in ("denied", "refused")
    assert (await bot.send(BOB, "checkin cancel 2")).outcome == "refused"
    start = len(bot.outbox.sent)
    reply = await ok(bot, BOB, "group checkin cancel 2")
    assert "is cancelled and the ones after it" in reply
    for member in (ANA, EVE):
        assert any("cancelled the check-in of group #1" in b for b in dms(bot, member, start))
    start = await advance(bot, timedelta(days=30))
    assert not [m for m in group_room(bot, since=start) if "Reminder" in m.body]
    assert "next:" not in await ok(bot, ANA, "groups")


def test_a_groups_room_is_trusted_as_the_groups_own_never_as_a_dm():
    from nio import MatrixRoom

    from bot import rooms as trust
    from commands.kinds import RoomProblem

    bot_id, mentor, member, outsider = "@bot:x.org", "@bob:x.org", "@ana:x.org", "@zed:x.org"
    room = MatrixRoom("!group:x.org", bot_id, encrypted=True)
    room.join_rule = "invite"
    for user in (bot_id, mentor):
        room.add_member(user, None, None)
    # Only the bot and the mentor in it: it would pass for their DM, but it is the group's room.
    assert trust.dm_problem(room, mentor, bot_id, encryption=True) is None
    found = trust.classify(room.room_id, room, mentor, bot_id, {}, encryption=True, group_rooms={room.room_id: 1})
    assert found.kind is RoomKind.GROUP
    people = frozenset({mentor, member})
    room.add_member(member, None, None, invited=True)
    assert trust.group_problem(room, people, bot_id, encryption=True) is None
    room.add_member(outsider, None, None)
    assert trust.group_problem(room, people, bot_id, encryption=True) == RoomProblem(RoomProblem.OTHERS_IN_IT)
    assert trust.group_problem(room, people, bot_id, encryption=True, gone={outsider}) is None
    room.remove_member(outsider)
    room.power_levels.users[mentor] = 50  # someone besides the bot could invite
    assert trust.group_problem(room, people, bot_id, encryption=True) == RoomProblem(RoomProblem.OUTSIDER_POWER)
    room.power_levels.users.pop(mentor)
    room.join_rule = "public"
    assert trust.group_problem(room, people, bot_id, encryption=True) == RoomProblem(RoomProblem.PUBLIC)
    room.join_rule = "invite"
    plain = MatrixRoom("!plain:x.org", bot_id, encrypted=False)
    plain.join_rule = "invite"
    plain.add_member(mentor, None, None)
    assert trust.group_problem(plain, people, bot_id, encryption=True) == RoomProblem(RoomProblem.NOT_ENCRYPTED)


async def test_retention_and_forget_me_erase_a_groups_confidential_texts(program):
    from commands.policy import RetentionPolicy
    from storage.models import GroupSession

    bot = program
    bot.runtime.dispatcher.retention = RetentionPolicy(session_notes_months=6, reasons_months=6)
    await a_group_of(bot, ANA, EVE, FAY)
    await ok(bot, BOB, f"group session 1 regular {MARK}-old | next: {MARK}-next")
    await ok(bot, FAY, "group leave 1 REASON-FAY-Q7")
    await ok(bot, BOB, "group end 1 REASON-BOB-Q7")
    await ok(bot, BOB, "group create Readers")  # still running: its notes stay
    for m in (ANA, GUS):
        await ok(bot, BOB, f"group invite 2 {m}")
        await ok(bot, m, "group join 2")
    await ok(bot, BOB, f"group session 2 regular {MARK}-running")
    await ok(bot, GUS, "group leave 2 REASON-GUS-Q7")
    # Ana asks to be forgotten: she leaves group 2; the rest of its record stays.
    await ok(bot, ANA, "forget me")
    await ok(bot, ANA, "forget me confirm")
    async with bot.db.session() as s:
        members = {(r.group_id, r.person_id): r for r in (await s.exec(select(GroupMember))).all()}
        assert [r.state for (g, _), r in members.items() if g == 2] == [MemberState.LEFT, MemberState.LEFT]
    await advance(bot, timedelta(days=190))
    async with bot.db.session() as s:
        notes = {r.group_id: (r.outcome, r.next_steps) for r in (await s.exec(select(GroupSession))).all()}
        assert notes == {1: ("", None), 2: (f"{MARK}-running", None)}
        assert {r.leave_reason for r in (await s.exec(select(GroupMember))).all()} == {None}
        assert [g.end_reason for g in (await s.exec(select(MentoringGroup))).all()] == [None, None]


def test_every_text_retention_erases_is_worded_for_the_council():
    from datetime import datetime, timezone

    from commands.policy import RetentionPolicy
    from commands.services import privacy
    from commands.words import privacy as privacy_words

    from commands.services.visibility import RETENTION_SETTINGS

    every = RetentionPolicy(**dict.fromkeys(RETENTION_SETTINGS, 1))
    kinds = {e.what for e in privacy.expiries(every, datetime(2027, 1, 1, tzinfo=timezone.utc))}
    assert kinds <= set(privacy_words.EXPIRED)
