"""Single coaching sessions from the coach pool, with the injected clock, over months.

The program here (from Monday 2027-01-04 09:00 UTC): Bob (mentor, Europe/Madrid) offers
public speaking and events and mentors Ana; Dana (mentor) offers public speaking too;
Zoe has never been in the program and only writes to the bot (America/Lima); Cy is on
the council.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from commands.framework import RoomKind
from commands.services import coaching
from storage.models import CheckIn, CheckInState, CoachingSession, CoachingState, Mentorship, Person, Reminder
from tests.conftest import COUNCIL

ANA, BOB, DANA, ZOE = "@ana:example.org", "@bob:example.org", "@dana:example.org", "@zoe:example.org"
MARK = "COACHING-REASON-Q7"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
async def program(bot):
    for line in (
        (COUNCIL, "mentor add @bob:example.org 3"), (COUNCIL, "mentor add @dana:example.org 2"),
        (BOB, "profile timezone Europe/Madrid"), (BOB, "profile name Bob"), (DANA, "profile name Dana"),
        (BOB, "profile skills public speaking, events"), (DANA, "profile skills public speaking, writing"),
        (ANA, "profile name Ana"), (ANA, "request help with events"), (BOB, "accept 1"),
        (ZOE, "profile timezone America/Lima"), (ZOE, "profile name Zoe"),
    ):
        result = await bot.send(*line)
        assert result.outcome == "ok", result.messages[0].msg.plain()
    bot.outbox.sent.clear()
    return bot


def dms(bot, user: str, since: int = 0) -> list[str]:
    return [m.body for m in bot.outbox.sent[since:] if m.target.room is RoomKind.DM and m.target.user_id == user]


async def advance(bot, delta: timedelta) -> int:
    """Move the clock, doing what comes due on the way; returns where the new messages start."""
    start = len(bot.outbox.sent)
    await bot.runtime.advance_to(bot.clock.now() + delta, bot.clock)
    return start


def _reply(result, sender: str) -> str:
    """The answer to the sender (the other side may be told first)."""
    return next(m.msg.plain() for m in result.messages if m.target.user_id == sender)


async def ok(bot, sender: str, line: str) -> str:
    result = await bot.send(sender, line)
    assert result.outcome == "ok", (line, [m.msg.plain() for m in result.messages])
    return _reply(result, sender)


async def refused(bot, sender: str, line: str) -> str:
    """A command that is refused: its reply, and nothing in the program changed."""
    before = await bot.snapshot()
    result = await bot.send(sender, line)
    assert result.outcome in ("refused", "usage", "denied"), (line, result.outcome)
    assert await bot.snapshot() == before
    return _reply(result, sender)


async def rows(bot, model, *where):
    async with bot.db.session() as s:
        return list((await s.exec(select(model).where(*where).order_by(model.id))).all())


# ---------------------------------------------------------------- ask, accept, reminders


async def test_anyone_asks_a_coach_and_both_are_reminded_once_without_a_mentorship(program):
    bob_before = (await rows(program, Person, Person.matrix_id == BOB))[0]
    start = len(program.outbox.sent)
    reply = await ok(program, ZOE, "coaching ask @bob:example.org public speaking friday 16:00")
    # Read in Zoe's zone (Lima), shown to Bob in his (Madrid).
    assert reply.startswith("Asked: Bob for a coaching session #1 on public speaking, Fri 2027-01-08 16:00 "
                            "(America/Lima).")
    [to_bob] = [m for m in program.outbox.sent[start:] if m.target.user_id == BOB]
    assert to_bob.notify and "Coaching asked #1: Zoe asks you for a single coaching session on public speaking, " \
        "Fri 2027-01-08 22:00 (Europe/Madrid)" in to_bob.body and "`coaching accept 1`" in to_bob.body
    [cs] = await rows(program, CoachingSession)
    assert cs.starts_at == utc(2027, 1, 8, 21) and cs.state is CoachingState.ASKED

    start = len(program.outbox.sent)
    accepted = await ok(program, BOB, "coaching accept 1")
    assert "coaching session #1 on public speaking with Zoe, Fri 2027-01-08 22:00 (Europe/Madrid)" in accepted
    assert "You both get a reminder 24h and 1h before." in accepted
    [to_zoe] = [m for m in program.outbox.sent[start:] if m.target.user_id == ZOE]
    assert to_zoe.notify and to_zoe.body.startswith("Bob accepted: coaching session #1 on public speaking, "
                                                    "Fri 2027-01-08 16:00 (America/Lima).")
    # In both people's check-ins, though Zoe is neither mentee nor mentor.
    assert "coaching session on public speaking Fri 2027-01-08 16:00 (America/Lima) with Bob" in \
        await ok(program, ZOE, "checkins")
    bobs = await ok(program, BOB, "checkins")
    assert "coaching session on public speaking Fri 2027-01-08 22:00 (Europe/Madrid) with Zoe" in bobs
    assert "orientation session to arrange" in bobs  # his mentee's check-ins are still there

    start = await advance(program, timedelta(days=10))
    assert dms(program, ZOE, start) == [
        "Reminder: coaching session on public speaking with Bob in 24 hours, Fri 2027-01-08 16:00 (America/Lima). "
        "To cancel it: `coaching cancel 1`.",
        "Reminder: coaching session on public speaking with Bob in 1 hour, Fri 2027-01-08 16:00 (America/Lima). "
        "To cancel it: `coaching cancel 1`."]
    assert [b for b in dms(program, BOB, start) if "coaching session" in b] == [
        "Reminder: coaching session on public speaking with Zoe in 24 hours, Fri 2027-01-08 22:00 (Europe/Madrid). "
        "To cancel it: `coaching cancel 1`.",
        "Reminder: coaching session on public speaking with Zoe in 1 hour, Fri 2027-01-08 22:00 (Europe/Madrid). "
        "To cancel it: `coaching cancel 1`."]
    assert not [m for m in program.outbox.sent[start:] if "public speaking" in m.body
                and m.target.room is not RoomKind.DM]
    # Once its time passed, it counts as held; nothing is sent again, however long the clock runs.
    start = await advance(program, timedelta(days=40))
    assert not [b for b in dms(program, ZOE, start) + dms(program, BOB, start) if "coaching session" in b]
    [cs] = await rows(program, CoachingSession)
    [c] = await rows(program, CheckIn, CheckIn.coaching_id == cs.id)
    assert cs.state is CoachingState.HELD and c.state is CheckInState.DONE and c.done_at == cs.starts_at
    reminders = await rows(program, Reminder, Reminder.checkin_id == c.id)
    assert sorted(r.state.value for r in reminders) == ["sent"] * 4
    # No mentorship came of it: Bob's mentees and capacity are as before, Zoe has no mentor.
    assert len(await rows(program, Mentorship)) == 1
    bob_after = (await rows(program, Person, Person.matrix_id == BOB))[0]
    assert (bob_after.active_mentees, bob_after.capacity) == (bob_before.active_mentees, bob_before.capacity) == (1, 3)


async def test_a_session_at_short_notice_says_which_reminders_will_not_come(program):
    await ok(program, ZOE, "coaching ask @bob:example.org events in 3 hours")
    accepted = await ok(program, BOB, "coaching accept 1")
    assert "You both get a reminder 1h before. (Too soon for the one 24h before.)" in accepted
    start = await advance(program, timedelta(hours=4))
    assert [b for b in dms(program, ZOE, start) if b.startswith("Reminder")] == [
        "Reminder: coaching session on events with Bob in 1 hour, Mon 2027-01-04 07:00 (America/Lima). "
        "To cancel it: `coaching cancel 1`."]


async def test_a_multi_word_skill_may_be_quoted_and_a_skill_like_the_coachs_is_theirs(program):
    await ok(program, ZOE, 'coaching ask @dana:example.org "public speaking" 2027-02-10 18:30')
    await ok(program, ANA, "coaching ask @dana:example.org speaking 2027-02-11 18:30")
    assert [cs.skill for cs in await rows(program, CoachingSession)] == ["public speaking", "public speaking"]


async def test_the_coachs_mentee_and_any_mentee_may_ask_too_and_last_met_stays(program):
    await ok(program, ANA, "coaching ask @dana:example.org public speaking tomorrow 10:00")
    await ok(program, DANA, "coaching accept 1")
    await advance(program, timedelta(days=2))
    [m] = await rows(program, Mentorship)
    assert m.last_met_at is None  # a coaching session is not a meeting with her mentor
    [cs] = await rows(program, CoachingSession)
    assert cs.state is CoachingState.HELD


# ---------------------------------------------------------------- decline, lapse


async def test_a_decline_tells_the_asker_and_its_reason_reaches_nobody_else(program):
    await ok(program, ZOE, "coaching ask @bob:example.org events friday 16:00")
    start = len(program.outbox.sent)
    reply = await ok(program, BOB, f"coaching decline 1 {MARK}")
    assert reply == "Done: you declined coaching session #1 on events; Zoe has been told."
    [to_zoe] = dms(program, ZOE, start)
    assert to_zoe == (f"Bob cannot give the coaching session #1 on events, Fri 2027-01-08 16:00 (America/Lima). "
                      f"Their reason: \u201c{MARK}\u201d Send `pool events` to find another coach.")
    await program.send(COUNCIL, "!report", RoomKind.COUNCIL)
    await program.send(BOB, "!pool", RoomKind.MENTORS)
    await advance(program, timedelta(days=40))
    leaks = [m for m in program.outbox.sent if MARK in m.body and m.target.user_id != ZOE]
    assert leaks == []
    # Declining needs no reason.
    await ok(program, ANA, "coaching ask @bob:example.org events saturday 10:00")
    start = len(program.outbox.sent)
    await ok(program, BOB, "coaching decline 2")
    assert "Their reason" not in dms(program, ANA, start)[0]


async def test_an_ask_nobody_answers_lapses_at_its_time_and_the_asker_is_told(program):
    await ok(program, ZOE, "coaching ask @bob:example.org events tomorrow 10:00")
    start = await advance(program, timedelta(days=2))
    assert dms(program, ZOE, start) == [
        "Bob did not answer in time: your ask (coaching session #1 on events, Tue 2027-01-05 10:00 (America/Lima)) "
        "has lapsed. Ask again for another time, or find another coach with `pool events`."]
    assert "has lapsed" in await refused(program, BOB, "coaching accept 1")


# ---------------------------------------------------------------- the monthly limit


async def test_a_full_coach_is_named_with_others_and_the_limit_resets_the_next_month(program):
    assert "Single coaching sessions: 2 a month" in await ok(program, BOB, "profile")  # the program's default
    assert "at most 1 single coaching sessions a month (the program's default is 2)" in \
        await ok(program, BOB, "profile coaching 1")
    assert "Single coaching sessions: 1 a month" in await ok(program, BOB, "profile")
    await ok(program, ZOE, "coaching ask @bob:example.org public speaking 2027-01-20 10:00")
    await ok(program, BOB, "coaching accept 1")
    full = await refused(program, ANA, "coaching ask @bob:example.org public speaking 2027-01-25 10:00")
    assert full == ("Bob is full for January 2027: they give 1 single sessions a month. Others in the coach pool who "
                    "offer public speaking: Dana.")
    # February is another month: the same coach may be asked, and accepts.
    await ok(program, ANA, "coaching ask @bob:example.org public speaking 2027-02-03 10:00")
    await ok(program, BOB, "coaching accept 2")
    # Two asks for the same month wait together; accepting the second would go over the limit.
    await advance(program, timedelta(days=40))  # into February; both sessions held
    await ok(program, ZOE, "coaching ask @bob:example.org events 2027-03-05 10:00")
    await ok(program, ANA, "coaching ask @bob:example.org events 2027-03-06 10:00")
    await ok(program, BOB, "coaching accept 3")
    over = await refused(program, BOB, "coaching accept 4")
    assert over.startswith("You already give 1 single sessions in March 2027, your limit. Decline it with "
                           "`coaching decline 4`")
    # Raising the limit lets it through.
    await ok(program, BOB, "profile coaching 2")
    await ok(program, BOB, "coaching accept 4")
    async with program.db.session() as s:
        bob = (await s.exec(select(Person).where(Person.matrix_id == BOB))).one()
        assert await coaching.sessions_in_month(s, bob, utc(2027, 3, 10), program.runtime.settings.program) == 2
        assert await coaching.sessions_in_month(s, bob, utc(2027, 4, 10), program.runtime.settings.program) == 0


async def test_a_coach_who_takes_none_is_out_of_the_pool_and_named_so(program):
    await ok(program, DANA, "profile coaching 0")
    pool = await ok(program, ZOE, "pool public speaking")
    assert "Bob" in pool and "Dana" not in pool
    assert await refused(program, ZOE, "coaching ask @dana:example.org public speaking friday 10:00") == (
        "Dana takes no single coaching sessions at the moment. Others in the coach pool who offer public speaking: Bob.")


# ---------------------------------------------------------------- cancel


async def test_either_side_cancels_before_and_the_other_is_told_and_no_reminder_comes(program):
    await ok(program, ZOE, "coaching ask @bob:example.org events friday 16:00")
    await ok(program, BOB, "coaching accept 1")
    start = len(program.outbox.sent)
    reply = await ok(program, ZOE, "coaching cancel 1")
    assert reply == ("Done: coaching session #1 on events on Fri 2027-01-08 16:00 (America/Lima) is cancelled; "
                     "Bob has been told.")
    assert dms(program, BOB, start) == [
        "Zoe cancelled the coaching session #1 on events, Fri 2027-01-08 22:00 (Europe/Madrid)."]
    assert "was cancelled" in await refused(program, BOB, "coaching cancel 1")
    start = await advance(program, timedelta(days=10))
    assert not [b for b in dms(program, ZOE, start) + dms(program, BOB, start) if "coaching" in b]
    # The coach cancels an accepted one just the same; an ask he answers with decline.
    await ok(program, ANA, "coaching ask @bob:example.org events 2027-01-20 10:00")
    assert "answer it with `coaching decline 2`" in await refused(program, BOB, "coaching cancel 2")
    await ok(program, BOB, "coaching accept 2")
    start = len(program.outbox.sent)
    await ok(program, BOB, "coaching cancel 2")
    assert dms(program, ANA, start)[0].startswith("Bob cancelled the coaching session #2 on events")
    # Taking back an ask.
    await ok(program, ZOE, "coaching ask @bob:example.org events 2027-01-21 10:00")
    start = len(program.outbox.sent)
    assert "your ask (coaching session #3 on events) is taken back" in await ok(program, ZOE, "coaching cancel 3")
    assert dms(program, BOB, start)[0].startswith("Zoe took back their ask")
    async with program.db.session() as s:
        states = (await s.exec(select(CoachingSession.state).order_by(CoachingSession.id))).all()
    assert states == [CoachingState.CANCELLED] * 3


async def test_a_session_cannot_be_cancelled_once_its_time_has_come(program):
    await ok(program, ZOE, "coaching ask @bob:example.org events tomorrow 10:00")
    await ok(program, BOB, "coaching accept 1")
    program.clock.advance(timedelta(days=2))  # the rules have not run yet
    assert "has come already" in await refused(program, ZOE, "coaching cancel 1")


async def test_the_check_in_commands_point_to_the_coaching_session(program):
    await ok(program, ZOE, "coaching ask @bob:example.org events friday 16:00")
    await ok(program, BOB, "coaching accept 1")
    [c] = await rows(program, CheckIn, CheckIn.coaching_id.is_not(None))
    for line in (f"checkin cancel {c.id}", f"checkin move {c.id} saturday 10:00", f"checkin done {c.id}"):
        assert f"Check-in #{c.id} is coaching session #1" in await refused(program, BOB, line)
    assert f"You have no check-in #{c.id}" in await refused(program, DANA, f"checkin cancel {c.id}")


# ---------------------------------------------------------------- friendly refusals and permissions


@pytest.mark.parametrize("sender,line,says", [
    (ZOE, "coaching ask @cy:example.org events friday 16:00", "is not in the coach pool"),
    (ZOE, "coaching ask @nobody:example.org events friday 16:00", "is not in the coach pool"),
    (BOB, "coaching ask @bob:example.org events friday 16:00", "You cannot ask yourself"),
    (ZOE, "coaching ask @bob:example.org events yesterday 10:00", "is in the past"),
    (ZOE, "coaching ask @bob:example.org events 2027-02-30 10:00", "February 2027 has no day 30"),
    (ZOE, "coaching ask @bob:example.org events", "say the skill, then the time"),
    (ZOE, 'coaching ask @bob:example.org "public speaking"', "say the skill, then the time"),
    (ZOE, "coaching ask @bob:example.org cooking friday 16:00", "Bob does not offer `cooking`; their skills: "
                                                                 "public speaking, events"),
    (ZOE, "coaching accept 1", "is only for mentors"),
    (DANA, "coaching accept 99", "You have no coaching session #99"),
])
async def test_bad_asks_and_answers_get_a_clear_error_and_change_nothing(program, sender, line, says):
    assert says in await refused(program, sender, line)


async def test_deciding_twice_or_someone_elses_ask_is_refused(program):
    await ok(program, ZOE, "coaching ask @bob:example.org events friday 16:00")
    assert "You already asked Bob (#1)" in await refused(program, ZOE, "coaching ask @bob:example.org events "
                                                                        "saturday 16:00")
    assert "You have no coaching session #1" in await refused(program, DANA, "coaching accept 1")
    assert "is only for mentors" in await refused(program, ZOE, "coaching decline 1")
    assert "You have no coaching session #1" in await refused(program, ANA, "coaching cancel 1")
    await ok(program, BOB, "coaching accept 1")
    assert "already accepted" in await refused(program, BOB, "coaching accept 1")
    assert "already accepted" in await refused(program, BOB, "coaching decline 1")


async def test_coaching_commands_are_answered_in_a_direct_message_only(program):
    result = await program.send(BOB, "!coaching", RoomKind.MENTORS)
    assert result.outcome == "wrong_room"


async def test_help_and_the_listing_explain_what_to_do(program):
    assert "coaching ask" in await ok(program, ZOE, "help coaching ask")
    assert "No coaching sessions asked or planned" in await ok(program, ZOE, "coaching")
    await ok(program, ZOE, "coaching ask @bob:example.org events friday 16:00")
    assert "#1 events with Bob, Fri 2027-01-08 16:00 (America/Lima): waiting for their answer" in \
        await ok(program, ZOE, "coaching")
    assert "#1 events for Zoe, Fri 2027-01-08 22:00 (Europe/Madrid): asked of you: answer with `coaching accept 1`" \
        in await ok(program, BOB, "coaching")


# ---------------------------------------------------------------- the monthly report


async def test_the_monthly_report_counts_sessions_held_asked_and_declined(program):
    await ok(program, ZOE, "coaching ask @bob:example.org events 2027-01-12 10:00")
    await ok(program, BOB, "coaching accept 1")
    await ok(program, ANA, "coaching ask @dana:example.org public speaking 2027-01-13 10:00")
    await ok(program, DANA, "coaching decline 2")
    await ok(program, ZOE, "coaching ask @dana:example.org public speaking 2027-01-14 10:00")
    await ok(program, DANA, "coaching accept 3")
    await ok(program, ZOE, "coaching cancel 3")  # cancelled: not held
    start = await advance(program, timedelta(days=28))  # to the report of February 1st
    [report] = [m.body for m in program.outbox.sent[start:] if m.target.room is RoomKind.COUNCIL
                and "Program report for January 2027" in m.body]
    assert "Coaching sessions from the pool: 1 held; 3 asked, 1 declined" in report
    assert "events" not in report and "Zoe" not in report  # counts only
    async with program.db.session() as s:
        assert await coaching.coaching_sessions_held(s, utc(2027, 1, 1), utc(2027, 2, 1)) == 1
        assert await coaching.coaching_sessions_held(s, utc(2027, 2, 1), utc(2027, 3, 1)) == 0


# ---------------------------------------------------------------- the database's own rule


@pytest.mark.parametrize("owners", ["none", "both"])
async def test_a_check_in_belongs_to_exactly_one_mentorship_or_coaching_session(program, owners):
    from sqlalchemy.exc import IntegrityError

    await ok(program, ZOE, "coaching ask @bob:example.org events friday 16:00")
    [m] = await rows(program, Mentorship)
    [cs] = await rows(program, CoachingSession)
    with pytest.raises(IntegrityError):
        async with program.db.session() as s:
            s.add(CheckIn(mentorship_id=m.id if owners == "both" else None,
                          coaching_id=cs.id if owners == "both" else None, due_at=utc(2027, 2, 1), timezone="UTC"))
            await s.commit()


# ---------------------------------------------------------------- privacy


async def test_mydata_shows_each_side_their_sessions_and_forget_me_cancels_and_erases(program):
    await ok(program, ZOE, "coaching ask @bob:example.org events 2027-01-20 10:00")
    await ok(program, BOB, f"coaching decline 1 {MARK}")
    await ok(program, ZOE, "coaching ask @bob:example.org public speaking 2027-01-21 10:00")
    await ok(program, BOB, "coaching accept 2")
    start = len(program.outbox.sent)
    await ok(program, ZOE, "mydata")
    [data] = [f.data for m in program.outbox.sent[start:] for f in m.files if f.name.endswith(".json")]
    assert '"your_role": "asked"' in data and MARK in data and '"skill": "public speaking"' in data
    assert '"coaching_id": ' in data  # the planned session's check-in
    await ok(program, ZOE, "forget me")
    start = len(program.outbox.sent)
    await ok(program, ZOE, "forget me confirm")
    # Her planned session is cancelled and Bob is told; no reminder of it comes.
    assert dms(program, BOB, start)[0].startswith("Zoe cancelled the coaching session #2 on public speaking")
    start = await advance(program, timedelta(days=30))
    assert not [b for b in dms(program, BOB, start) if "coaching session" in b]
    sessions = await rows(program, CoachingSession)
    assert [(cs.skill, cs.reason, cs.state) for cs in sessions] == [
        ("", None, CoachingState.DECLINED), ("", None, CoachingState.CANCELLED)]


async def test_retention_erases_the_skill_and_reason_of_sessions_long_past(program):
    from commands.policy import RetentionPolicy

    await ok(program, ZOE, "coaching ask @bob:example.org events 2027-01-20 10:00")
    await ok(program, BOB, f"coaching decline 1 {MARK}")
    await ok(program, ANA, "coaching ask @bob:example.org events 2027-06-20 10:00")
    await ok(program, BOB, "coaching accept 2")
    program.runtime.dispatcher.retention = RetentionPolicy(coaching_months=6)
    await advance(program, timedelta(days=200))  # late July: January is six months past, June is not
    sessions = await rows(program, CoachingSession)
    assert [(cs.skill, cs.reason) for cs in sessions] == [("", None), ("events", None)]
    assert [cs.state for cs in sessions] == [CoachingState.DECLINED, CoachingState.HELD]  # the counts stay


async def test_the_pool_says_how_to_ask(program):
    pool = await ok(program, ZOE, "pool events")
    assert "Bob" in pool and "`coaching ask <coach> <skill> <when>`" in pool
