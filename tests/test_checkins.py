"""Check-ins, reminders, records and the program's own rules, with the injected clock.

The program here: Bob (mentor, Europe/Madrid) takes Ana (mentee, America/Lima) on
Monday 2027-01-04 at 09:00 UTC; Cy is on the council; Dana is another mentor.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from commands.framework import RoomKind
from storage.models import CheckIn, Mentorship, Reminder, ReminderState, SessionKind, SessionRecord
from tests.conftest import COUNCIL, START

ANA, BOB, DANA = "@ana:example.org", "@bob:example.org", "@dana:example.org"
MARK = "CONFIDENTIAL-K9"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
async def program(bot):
    for line in (
        (COUNCIL, "mentor add @bob:example.org 3"), (COUNCIL, "mentor add @dana:example.org 2"),
        (BOB, "profile timezone Europe/Madrid"), (ANA, "profile timezone America/Lima"),
        (BOB, "profile name Bob"), (ANA, "profile name Ana"),
        (ANA, "request help with events"), (BOB, "accept 1"),
    ):
        result = await bot.send(*line)
        assert result.outcome == "ok", result.messages[0].msg.plain()
    bot.outbox.sent.clear()
    return bot


def dms(bot, user: str, since: int = 0) -> list[str]:
    return [m.body for m in bot.outbox.sent[since:] if m.target.room is RoomKind.DM and m.target.user_id == user]


def room(bot, kind: RoomKind, since: int = 0) -> list[str]:
    return [m.body for m in bot.outbox.sent[since:] if m.target.room is kind]


async def advance(bot, delta: timedelta) -> int:
    """Move the clock, doing what comes due on the way; returns where the new messages start."""
    start = len(bot.outbox.sent)
    await bot.runtime.advance_to(bot.clock.now() + delta, bot.clock)
    return start


# ---------------------------------------------------------------- times


async def test_times_are_read_in_the_speakers_zone_and_shown_in_each_persons(program):
    reply = (await program.send(BOB, "checkin @ana:example.org next tuesday 16:00")).messages[0].msg.plain()
    assert "on Tue 2027-01-05 16:00 (Europe/Madrid)" in reply
    assert "For Ana that is Tue 2027-01-05 10:00 (America/Lima)" in reply
    assert "Bob planned your orientation session: Tue 2027-01-05 10:00 (America/Lima)" in dms(program, ANA)[0]
    async with program.db.session() as s:
        c = (await s.exec(select(CheckIn).where(CheckIn.arranged.is_(True)))).one()
    assert c.due_at == utc(2027, 1, 5, 15, 0) and c.timezone == "Europe/Madrid"
    assert "#1 orientation session Tue 2027-01-05 10:00 (America/Lima) with Bob" in await program.reply(ANA, "checkins")


@pytest.mark.parametrize("when,problem", [
    ("yesterday 10:00", "is in the past"),
    ("03/04/2027 10:00", "could be read two ways"),
    ("whenever suits", "I can't read 'whenever suits' as a date"),
    ("2027-02-01", "has no time of day"),
    ("every 3 months", "say when the first one is"),
    ("every day from monday 10:00", "write a repeat like"),
    ("in 5 years", "more than 2 years ahead"),
])
async def test_bad_times_get_a_clear_error_with_an_example(program, when, problem):
    before = await program.snapshot()
    result = await program.send(BOB, f"checkin @ana:example.org {when}")
    assert result.outcome == "usage" and problem in result.messages[0].msg.plain()
    assert await program.snapshot() == before


async def test_only_a_mentee_of_yours_gets_a_checkin(program):
    assert "is not your mentee" in await program.reply(DANA, "checkin @ana:example.org tomorrow 10:00")
    assert "You have no check-in #1" in await program.reply(DANA, "checkin move 1 tomorrow 10:00")


async def test_a_repeating_checkin_keeps_its_local_time_across_daylight_saving(program):
    await program.send(BOB, "checkin @ana:example.org tomorrow 10:00")  # takes the orientation deadline
    await program.send(BOB, "checkin @ana:example.org every 3 months from 2027-01-10 18:00")
    await advance(program, timedelta(days=100))  # past January 10 and April 10
    async with program.db.session() as s:
        series = (await s.exec(select(CheckIn).where(CheckIn.series_id.is_not(None)).order_by(CheckIn.due_at))).all()
    # 18:00 in Madrid: 17:00 UTC in winter, 16:00 UTC in summer time.
    assert [c.due_at for c in series] == [utc(2027, 1, 10, 17), utc(2027, 4, 10, 16), utc(2027, 7, 10, 16)]


async def test_a_weekly_series_crosses_the_spring_change(program):
    await program.send(BOB, "checkin @ana:example.org every week from 2027-03-22 18:00")
    await advance(program, timedelta(days=80))  # to late March
    async with program.db.session() as s:
        times = (await s.exec(select(CheckIn.due_at).where(CheckIn.every_weeks == 1).order_by(CheckIn.due_at))).all()
    assert times[:2] == [utc(2027, 3, 22, 17), utc(2027, 3, 29, 16)]  # Europe changed clocks on March 28


# ---------------------------------------------------------------- reminders


async def test_both_people_are_reminded_before_each_checkin_and_the_mentee_can_confirm(program):
    await program.send(BOB, "checkin @ana:example.org tomorrow 16:00")  # 2027-01-05 15:00 UTC
    start = await advance(program, timedelta(hours=6))  # 15:00 UTC on the 4th: 24 hours before
    assert dms(program, ANA, start) == [
        "Reminder: orientation session with Bob in 24 hours, Tue 2027-01-05 10:00 (America/Lima). "
        "Send `confirm 1` to confirm, or `checkin move 1 <when>` to ask for another time."]
    assert dms(program, BOB, start) == [
        "Reminder: orientation session with Ana in 24 hours, Tue 2027-01-05 16:00 (Europe/Madrid). "
        "Ana has not confirmed it yet. To move it: `checkin move 1 <when>`."]
    confirmed = await program.send(ANA, "confirm")
    assert "Confirmed: orientation session #1 with Bob" in confirmed.messages[0].msg.plain()
    assert "Ana confirmed the orientation session #1 on Tue 2027-01-05 16:00 (Europe/Madrid)" in dms(program, BOB)[-1]
    start = await advance(program, timedelta(hours=23))  # one hour before
    assert "in 1 hour" in dms(program, ANA, start)[0] and "You have confirmed it" in dms(program, ANA, start)[0]
    assert "Ana has confirmed it" in dms(program, BOB, start)[0]
    start = await advance(program, timedelta(days=3))
    assert not any("Reminder" in m for m in dms(program, ANA, start) + dms(program, BOB, start))
    async with program.db.session() as s:
        states = (await s.exec(select(Reminder.state))).all()
    assert sorted(states) == [ReminderState.SENT] * 4


async def test_a_checkin_at_short_notice_promises_only_the_reminders_that_will_come(program):
    # Now: Mon 2027-01-04 10:00 in Madrid. In four hours: the 24-hour reminder's time is past.
    soon = (await program.send(BOB, "checkin @ana:example.org today 14:00")).messages[0].msg.plain()
    assert "You both get a reminder 1h before. (Too soon for the one 24h before.)" in soon
    assert "24h and 1h" not in soon
    start = await advance(program, timedelta(hours=5))
    assert len([m for m in dms(program, ANA, start) if m.startswith("Reminder")]) == 1
    assert len([m for m in dms(program, BOB, start) if m.startswith("Reminder")]) == 1
    # In twenty minutes: no reminder can come, and the bot says so.
    now = (await program.send(BOB, "checkin @ana:example.org today 15:20")).messages[0].msg.plain()
    assert "It is too soon for a reminder: none will come." in now and "You both get" not in now
    start = await advance(program, timedelta(hours=1))
    assert not any(m.startswith("Reminder") for m in dms(program, ANA, start) + dms(program, BOB, start))
    # Well ahead: both, as the program promises.
    later = (await program.send(BOB, "checkin @ana:example.org 2027-01-20 16:00")).messages[0].msg.plain()
    assert "You both get a reminder 24h and 1h before." in later and "Too soon" not in later
    # A program that sends no reminders promises none.
    program.runtime.settings.program.reminders = []
    quiet = (await program.send(BOB, "checkin @ana:example.org 2027-02-20 16:00")).messages[0].msg.plain()
    assert "reminder" not in quiet.lower() and quiet.endswith("(Europe/Madrid). For Ana that is Sat 2027-02-20 10:00 "
                                                              "(America/Lima). Add it to your calendar: `calendar 4`.")


async def test_a_past_checkin_not_marked_is_not_shown_as_the_next_one(program):
    await program.send(BOB, "checkin @ana:example.org tomorrow 16:00")  # #1, Tue 2027-01-05
    await program.send(BOB, "checkin @ana:example.org 2027-01-19 16:00")  # #2
    await advance(program, timedelta(days=3))  # #1's time has passed; nobody marked it held
    status = await program.reply(ANA, "status")
    assert "Next check-in: follow-up, due 2027-01-19 (1 past, not marked as held yet by your mentor: #1)" in status
    mentees = await program.reply(BOB, "mentees")
    assert "next: follow-up, due 2027-01-19 (1 past, not marked as held: #1; mark with `checkin done 1`)" in mentees
    await program.send(BOB, "checkin done 1")
    assert "Next check-in: follow-up, due 2027-01-19" in await program.reply(ANA, "status")
    assert "past" not in await program.reply(ANA, "status")


async def test_a_deadline_passed_with_no_time_agreed_is_not_a_meeting_to_mark(program):
    # Nothing planned: the orientation's deadline passes; it was no meeting, so nothing to mark.
    await advance(program, timedelta(days=20))
    status = await program.reply(ANA, "status")
    assert "Next check-in: follow-up, due" in status and "past" not in status, status
    assert "past" not in await program.reply(BOB, "mentees")


async def test_feedback_given_before_this_years_round_opens_says_which_round_it_is_filed_under(program):
    program.clock.set(utc(2027, 3, 10, 9))  # the program's rounds open in June
    march = await program.reply(ANA, "feedback we meet often | more practice")
    assert ("Your feedback is recorded in the 2026 feedback round (open since 2026-06-01; the next opens on "
            "2027-06-01); only the council reads it.") in march
    program.clock.set(utc(2027, 6, 2, 9))
    june = await program.reply(ANA, "feedback still good | nothing")
    assert "recorded in the 2027 feedback round (open since 2027-06-01; the next opens on 2028-06-01)" in june


async def test_moving_a_checkin_moves_its_reminders_and_tells_the_other(program):
    await program.send(BOB, "checkin @ana:example.org tomorrow 16:00")
    moved = await program.send(ANA, "checkin move 1 2027-01-08 10:00")
    assert "is now on Fri 2027-01-08 10:00 (America/Lima)" in moved.messages[0].msg.plain()
    assert "Ana moved your orientation session #1 to Fri 2027-01-08 16:00 (Europe/Madrid)" in dms(program, BOB)[-1]
    start = await advance(program, timedelta(days=2))
    assert not any("Reminder" in m for m in dms(program, ANA, start))  # the old times are gone
    start = await advance(program, timedelta(days=2))  # past 2027-01-07 15:00 UTC: 24h before the new time
    assert len([m for m in dms(program, ANA, start) if "Reminder" in m and "Fri 2027-01-08 10:00" in m]) == 1


async def test_reminders_missed_while_the_bot_was_down_are_sent_once_or_dropped(program):
    await program.send(BOB, "checkin @ana:example.org 2027-01-06 16:00")  # 15:00 UTC
    await program.send(BOB, "checkin @ana:example.org 2027-01-05 12:00")  # 11:00 UTC
    # The bot is down from now until 30 minutes before the first check-in of the 6th:
    # the check-in of the 5th has happened, the 24h reminder of the 6th is stale.
    program.clock.set(utc(2027, 1, 6, 14, 30))
    start = len(program.outbox.sent)
    await program.runtime.run_due()
    ana = [m for m in dms(program, ANA, start) if "Reminder" in m]
    assert ana == ["Reminder: orientation session with Bob in 30 minutes, Wed 2027-01-06 10:00 (America/Lima). "
                   "Send `confirm 1` to confirm, or `checkin move 1 <when>` to ask for another time."]
    assert len([m for m in dms(program, BOB, start) if "Reminder" in m]) == 1
    await program.runtime.run_due()
    assert len([m for m in dms(program, ANA, start) if "Reminder" in m]) == 1  # once, not again
    async with program.db.session() as s:
        rows = (await s.exec(select(Reminder.state, Reminder.before_minutes))).all()
    assert sorted(rows) == sorted([(ReminderState.SENT, 60)] * 2 + [(ReminderState.DROPPED, 1440)] * 2
                                  + [(ReminderState.DROPPED, 60)] * 2 + [(ReminderState.DROPPED, 1440)] * 2)


# ---------------------------------------------------------------- records


async def test_a_session_record_marks_the_checkin_held_and_stays_private(program):
    await program.send(BOB, "checkin @ana:example.org tomorrow 16:00")
    await advance(program, timedelta(days=1, hours=6, minutes=30))
    result = await program.send(
        BOB, f"session @ana:example.org orientation {MARK} agreed goals | next: draft a plan | progress: 3-5")
    text = result.messages[0].msg.plain()
    assert "Recorded: orientation session with Ana on 2027-01-05. Progress 3 \u2192 5 of 10." in text
    assert "Orientation session #1 is marked as held." in text
    async with program.db.session() as s:
        record = (await s.exec(select(SessionRecord))).one()
        follow = (await s.exec(select(CheckIn).where(CheckIn.kind == "followup"))).one()
    assert record.kind is SessionKind.ORIENTATION and record.next_steps == "draft a plan"
    assert follow.due_at == program.clock.now() + timedelta(days=30)  # follow-up from the real orientation
    assert MARK in await program.reply(BOB, "history @ana:example.org")
    assert MARK in await program.reply(ANA, "history")
    assert MARK in await program.reply(COUNCIL, "history @ana:example.org")
    assert "your own mentees only" in await program.reply(DANA, "history @ana:example.org")
    wrong = await program.send(BOB, "!history @ana:example.org", RoomKind.MENTORS)
    assert wrong.outcome == "wrong_room" and MARK not in wrong.messages[0].msg.plain()
    for bad, problem in (("session @ana:example.org weekly fine", "kind"),
                         ("session @ana:example.org regular ok | progress: 11", "1-10 scale"),
                         ("session @ana:example.org regular ok | mood: good", "I could not read 'mood: good'")):
        assert problem in await program.reply(BOB, bad)


async def test_diary_and_goals_belong_to_the_mentee(program):
    assert "Written in your diary" in await program.reply(ANA, f"diary {MARK} first talk went well")
    assert MARK in await program.reply(ANA, "diary")
    assert "Added goal #1" in await program.reply(ANA, "goals add give a talk")
    assert "Goal #1 is marked as reached" in await program.reply(ANA, "goals done 1")
    assert "\u2713 give a talk" in await program.reply(ANA, "goals")
    assert "only for mentees" in await program.reply(BOB, "goals done 1")
    history = await program.reply(BOB, "history @ana:example.org")
    assert MARK in history and "\u2713 give a talk" in history


# ---------------------------------------------------------------- program rules


async def test_program_rules_each_fire_once_over_a_year(program):
    start = await advance(program, timedelta(days=400))
    bob, ana, council = dms(program, BOB, start), dms(program, ANA, start), room(program, RoomKind.COUNCIL, start)

    def count(messages, needle):
        return len([m for m in messages if needle in m])

    assert count(bob, "The orientation session with Ana was due by 2027-01-18") == 1
    assert count(bob, "The follow-up with Ana was due by 2027-02-17") == 1
    # No meeting in the first year: every 3 months is the rule. Told once for this gap.
    assert count(bob, "A meeting is overdue: you last met Ana on 2027-01-04") == 1
    assert count(council, "Overdue relationship: Bob and Ana have not met since 2027-01-04") == 1
    assert count(ana, "Your commitment with Bob is complete") == 1
    assert count(bob, "Your commitment with Ana is complete") == 1
    assert count(ana, "Feedback round 2027") == 1 and count(bob, "Feedback round 2027") == 1
    digests = room(program, RoomKind.MENTORS, start)
    assert len(digests) == 57 and all(d.startswith("Weekly digest") for d in digests)
    reports = [m for m in council if m.startswith("Program report")]
    assert [r.split("\n")[0] for r in reports[:2]] == ["Program report for January 2027", "Program report for February 2027"]
    assert len(reports) == 13
    # Waking up again at the same moment does nothing more.
    again = len(program.outbox.sent)
    await program.runtime.run_due()
    assert program.outbox.sent[again:] == []


async def test_after_the_first_year_the_rule_is_a_yearly_meeting(program):
    async with program.db.session() as s:
        m = (await s.exec(select(Mentorship))).one()
        m.started_at = START - timedelta(days=800)
        m.commitment_ends_at = START + timedelta(days=300)
        m.last_met_at = START - timedelta(days=300)
        s.add(SessionRecord(mentorship_id=m.id, author_id=m.mentor_id, kind=SessionKind.REGULAR,
                            held_at=START - timedelta(days=300), outcome="ok"))
        await s.commit()
    start = await advance(program, timedelta(days=70))
    overdue = [m for m in dms(program, BOB, start) if "A meeting is overdue" in m]
    assert len(overdue) == 1 and "at least every 12 months" in overdue[0]
    assert "last met Ana on 2026-03-10" in overdue[0]


async def test_extending_the_commitment(program):
    early = await program.reply(ANA, "extend")
    assert "runs until 2028-01-04; it can be extended from 2027-12-04" in early
    await advance(program, timedelta(days=340))
    result = await program.send(BOB, "extend @ana:example.org")
    assert "go on together until 2029-01-04" in result.messages[0].msg.plain()
    assert "Bob extended your mentorship" in dms(program, ANA)[-1]


async def test_feedback_goes_to_the_council_only(program):
    await advance(program, timedelta(days=160))  # June: the feedback round
    assert "only the council reads it" in await program.reply(ANA, f"feedback {MARK} we meet often | more practice")
    assert "only the council reads it" in await program.reply(BOB, f"feedback @ana:example.org {MARK} good | none")
    council = await program.reply(COUNCIL, "feedbacks")
    assert "Feedback 2027 (2 answers, confidential)" in council and MARK in council
    refused = await program.send(COUNCIL, "!feedbacks", RoomKind.COUNCIL)
    assert refused.outcome == "wrong_room"
    assert "only for council members" in await program.reply(ANA, "feedbacks")


async def test_nothing_confidential_reaches_a_shared_room_in_a_year(program):
    """Markers in every confidential field; a year of digests, reports and rules later, no
    message to the mentors room or the council room carries one."""
    await program.send(ANA, f"diary {MARK}-diary")
    await program.send(ANA, f"goals add {MARK}-goal")
    await program.send(BOB, "checkin @ana:example.org tomorrow 16:00")
    await advance(program, timedelta(days=2))
    await program.send(BOB, f"session @ana:example.org orientation {MARK}-outcome | next: {MARK}-next | "
                            f"remarks: {MARK}-remarks")
    await program.send(ANA, f"change {MARK}-change")
    await advance(program, timedelta(days=160))
    await program.send(ANA, f"feedback {MARK}-well | {MARK}-better")
    await program.send("@finn:example.org", "request public speaking")
    await program.send(BOB, f"decline 2 {MARK}-decline")
    await advance(program, timedelta(days=220))
    await program.send(ANA, f"end {MARK}-end")
    await advance(program, timedelta(days=10))
    shared = [m.body + m.html for m in program.outbox.sent if m.target.room is not RoomKind.DM]
    assert shared and not [m for m in shared if MARK in m]
    digests = [m for m in shared if "Weekly digest" in m]
    # The overdue mentor is named; the mentee is not (a mentee's identity stays out of the mentors room).
    assert any("Overdue (1)" in d and "Bob with a mentee (mentorship #" in d for d in digests)
    assert not [d for d in digests if "Ana" in d or ANA in d]


# ---------------------------------------------------------------- the shell


async def test_the_shell_shows_reminders_as_the_clock_moves(program):
    out = await program.say("@bob:example.org> checkin @ana:example.org tomorrow 16:00")
    assert out[0].startswith("[dm @bob:example.org] Done: orientation session #1 with Ana on Tue 2027-01-05 16:00")
    out = await program.say("% advance 1d6h")
    assert "[dm @ana:example.org] Reminder: orientation session with Bob in 24 hours" in out[0]
    assert "[dm @bob:example.org] Reminder: orientation session with Ana in 24 hours" in out[1]
    assert len([o for o in out if "Reminder" in o]) == 4  # 24 hours and 1 hour before, to both, in order
    assert "in 1 hour" in out[2]


async def test_the_timer_is_told_only_when_reminders_were_planned(program):
    calls: list[str] = []
    program.runtime.on_change = lambda: calls.append("poke")
    await program.send(COUNCIL, "mentors")
    await program.send(ANA, "status")
    assert calls == []
    await program.send(BOB, "checkin @ana:example.org tomorrow 16:00")
    assert calls == ["poke"]
    await program.send(ANA, "checkin move 1 2027-01-08 10:00")
    assert calls == ["poke", "poke"]


async def test_a_series_goes_on_when_an_occurrence_is_recorded_early(program):
    await program.send(BOB, "checkin @ana:example.org every week from 2027-01-06 18:00")  # 17:00 UTC
    await advance(program, timedelta(days=2, hours=1))  # the 6th, 10:00 UTC: the session is recorded early
    await program.send(BOB, "session @ana:example.org regular a good talk")
    await advance(program, timedelta(days=1))
    async with program.db.session() as s:
        series = (await s.exec(select(CheckIn.due_at, CheckIn.state).where(CheckIn.every_weeks == 1)
                               .order_by(CheckIn.due_at))).all()
    assert [(d, st.value) for d, st in series] == [(utc(2027, 1, 6, 17), "done"), (utc(2027, 1, 13, 17), "scheduled")]


async def test_a_session_closes_the_follow_up_deadline(program):
    await program.send(BOB, "session @ana:example.org orientation agreed our goals")
    start = await advance(program, timedelta(days=31))
    assert len([m for m in dms(program, BOB, start) if "The follow-up with Ana was due by 2027-02-03" in m]) == 1
    text = (await program.send(BOB, "session @ana:example.org regular checked how the agreement works")).messages[0]
    assert "Follow-up #2 is marked as held." in text.msg.plain()
    assert "Next check-in: none planned" in await program.reply(ANA, "status")


async def test_the_council_report_counts_overdue_relationships_like_the_rules_do(demo_bot):
    from commands.services import rules

    bot = demo_bot
    await bot.runtime.advance_to(bot.clock.now() + timedelta(days=100), bot.clock)
    async with bot.db.session() as session:
        by_rules = [c for c in await rules.cadences(session, bot.clock.now(), bot.runtime.settings.program)
                    if c.due <= bot.clock.now()]
        counted = await rules.count_overdue(session, bot.clock.now(), bot.runtime.settings.program)
    assert counted == len(by_rules) == 1  # Ana, in her first year, last met 150 days ago
    report = await bot.reply(COUNCIL, "!report", RoomKind.COUNCIL)
    assert report.startswith("Program report for April 2027 so far")
    assert "• Mentorships: 2 active" in report and "relationships overdue now: 1" in report
    assert "Ana" not in report and "Bob" not in report  # numbers, no names
    assert "only for council members" in await bot.reply(ANA, "report")


async def test_the_overdue_count_agrees_with_the_rule_at_month_ends(demo_bot):
    """Three months after 30 November is 28 February: the count must say what the rule says,
    on every day around it (and for a mentorship that started on a 29 February)."""
    from datetime import datetime, timezone

    from commands.services import rules

    bot = demo_bot
    policy = bot.runtime.settings.program
    async with bot.db.session() as s:
        ana_bob, gia_dana = (await s.exec(select(Mentorship).order_by(Mentorship.id))).all()
        ana_bob.started_at = datetime(2026, 11, 2, 9, tzinfo=timezone.utc)
        ana_bob.last_met_at = datetime(2026, 11, 30, 10, tzinfo=timezone.utc)
        gia_dana.started_at = datetime(2024, 2, 29, 12, tzinfo=timezone.utc)
        gia_dana.last_met_at = None
        await s.commit()
    for day in range(-6, 10):
        for hour in (0, 9, 10, 11, 23):
            now = datetime(2027, 2, 28, hour, tzinfo=timezone.utc) + timedelta(days=day)
            async with bot.db.session() as s:
                by_rule = [c for c in await rules.cadences(s, now, policy) if c.due <= now]
                assert await rules.count_overdue(s, now, policy) == len(by_rule), now


async def test_the_overdue_count_agrees_with_the_rule_on_every_day_of_two_years(bot):
    """Mentorships that started and last met on the last days of months (when adding months
    clamps the day), counted for a time of day on every day of two years."""
    import calendar
    import random
    from dataclasses import replace

    from commands.services import rules
    from storage.models import Person

    policy = bot.runtime.settings.program
    rng = random.Random(7)

    def month_end(year: int, month: int) -> datetime:
        day = calendar.monthrange(year, month)[1] - rng.choice((0, 0, 1, 2, 3))
        return datetime(year, month, day, rng.randrange(24), rng.randrange(60), tzinfo=timezone.utc)

    async with bot.db.session() as s:
        mentor = Person(matrix_id="@mentor:example.org", is_mentor=True, capacity=60)
        s.add(mentor)
        await s.flush()
        for i in range(50):
            started = month_end(rng.choice((2024, 2025)), rng.randrange(1, 13))
            met = month_end(started.year + rng.choice((0, 1)), rng.randrange(1, 13)) if i % 4 else None
            mentee = Person(matrix_id=f"@mentee{i}:example.org")
            s.add(mentee)
            await s.flush()
            s.add(Mentorship(mentee_id=mentee.id, mentor_id=mentor.id, started_at=started,
                             commitment_ends_at=started, last_met_at=met if met and met > started else None))
        await s.commit()
    day = datetime(2025, 1, 1, tzinfo=timezone.utc)
    other = replace(policy, new_mentee_checkin_every_months=1, checkin_every_months=6)
    while day < datetime(2027, 1, 1, tzinfo=timezone.utc):
        now = day + timedelta(hours=rng.randrange(24), minutes=rng.randrange(60))
        async with bot.db.session() as s:
            for rules_of in (policy, other):
                by_rule = [c for c in await rules.cadences(s, now, rules_of) if c.due <= now]
                assert await rules.count_overdue(s, now, rules_of) == len(by_rule), (now, rules_of)
        day += timedelta(days=1)


async def test_many_relationships_overdue_at_once_reach_the_council_in_one_message(bot):
    """A first start (or a long downtime) of a large program: the council room gets one list,
    not a message per relationship; every mentor still hears of their own."""
    from storage.models import MentorshipState, Person

    long_ago = START - timedelta(days=400)
    async with bot.db.session() as s:
        for i in range(40):
            mentor = Person(matrix_id=f"@mentor{i}:example.org", display_name=f"Mentor {i}", is_mentor=True, capacity=1)
            mentee = Person(matrix_id=f"@mentee{i}:example.org", display_name=f"Mentee {i}", is_mentee=True)
            s.add_all([mentor, mentee])
            await s.flush()
            s.add(Mentorship(mentee_id=mentee.id, mentor_id=mentor.id, state=MentorshipState.ACTIVE,
                             started_at=long_ago, commitment_ends_at=START + timedelta(days=200)))
        await s.commit()
    await bot.runtime.run_rules()
    council = room(bot, RoomKind.COUNCIL)
    assert len(council) == 1
    listed = council[0].split("\n")
    assert listed[0].startswith("Overdue relationships: 40 mentorships have not met as the program asks")
    assert listed[1] == "• Mentor 0 and Mentee 0, last met 2025-11-30 (at least every 12 months)"
    assert len([line for line in listed if line.startswith("• ")]) == 30
    assert listed[-1] == "...and 10 more."
    assert all(len([m for m in dms(bot, f"@mentor{i}:example.org") if "A meeting is overdue" in m]) == 1
               for i in range(40))
    # Told once: the next wake-up adds nothing.
    await bot.runtime.run_rules()
    assert len(room(bot, RoomKind.COUNCIL)) == 1
