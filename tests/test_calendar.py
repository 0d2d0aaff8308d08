"""`calendar`: check-ins as an iCalendar file, read back as a calendar app would read it.

The program here: Bob (mentor, Europe/Madrid) takes Ana (mentee, America/Lima) on
Monday 2027-01-04 at 09:00 UTC; Cy is on the council; Dana is another mentor.
"""

from __future__ import annotations

import io
from datetime import timedelta

from icalendar import Calendar

from bot.shell import Shell, ShellOutbox
from commands.framework import RoomKind
from tests.conftest import COUNCIL, START
from tests.test_checkins import program, utc  # noqa: F401  (the program of the check-in tests)

ANA, BOB, DANA, ZOE = "@ana:example.org", "@bob:example.org", "@dana:example.org", "@zoe:example.org"
Z = "Zqc"  # every confidential marker starts with it


async def calendar_of(bot, who: str, text: str = "calendar") -> tuple[str, Calendar]:
    """What ``who`` reads on sending ``text``, and the calendar file that came with it, parsed."""
    result = await bot.send(who, text)
    assert result.outcome == "ok", result.messages[0].msg.plain()
    [reply] = result.messages
    [f] = reply.files
    assert f.mimetype == "text/calendar" and f.name.endswith(".ics")
    return reply.msg.plain(), Calendar.from_ical(f.content())


def events(cal: Calendar) -> list:
    return list(cal.walk("VEVENT"))


async def test_the_file_holds_the_checkin_in_each_persons_own_zone_naming_the_other(program):
    said = (await program.send(BOB, "checkin @ana:example.org next tuesday 16:00")).messages
    planned_at = utc(2027, 1, 5, 15, 0)  # 16:00 in Madrid
    # Both are offered the file when the check-in is planned.
    assert "Add it to your calendar: `calendar 1`." in said[0].msg.plain()
    assert "Add it to your calendar: `calendar 1`." in said[1].msg.plain()
    for who, zone, other, local in ((ANA, "America/Lima", "Bob", "10:00"), (BOB, "Europe/Madrid", "Ana", "16:00")):
        text, cal = await calendar_of(program, who)
        assert text.startswith("Your upcoming check-in, as a calendar file")
        [event] = events(cal)
        start, end = event.start, event.end
        assert start == planned_at and end - start == timedelta(hours=1)
        assert start.tzinfo.key == zone and f"{start:%H:%M}" == local  # as they read it, in their zone
        assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == [zone]
        assert event["SUMMARY"] == f"Orientation session with {other}"
        assert event.DTSTAMP == START and event["SEQUENCE"] == 0
        assert event["UID"] == "checkin-1@localhost"


async def test_summer_time_is_written_with_the_zones_rules_so_the_app_shows_the_planned_hour(program):
    await program.send(BOB, "checkin @ana:example.org next tuesday 16:00")
    await program.send(BOB, "checkin @ana:example.org 2027-07-06 16:00")  # summer time in Madrid, none in Lima
    _, bobs = await calendar_of(program, BOB)
    summer = events(bobs)[1]
    assert summer.start == utc(2027, 7, 6, 14, 0) and f"{summer.start:%H:%M}" == "16:00"
    [madrid] = bobs.walk("VTIMEZONE")
    assert {part.name for part in madrid.subcomponents} == {"STANDARD", "DAYLIGHT"}
    _, anas = await calendar_of(program, ANA)
    assert f"{events(anas)[1].start:%H:%M}" == "09:00" and events(anas)[1].start == summer.start


async def test_the_uid_is_stable_so_importing_again_updates_and_a_move_raises_the_sequence(program):
    await program.send(BOB, "checkin @ana:example.org next tuesday 16:00")
    await program.send(BOB, "checkin @ana:example.org 2027-02-01 18:00")
    _, first = await calendar_of(program, ANA)
    _, again = await calendar_of(program, ANA)
    assert [e["UID"] for e in events(first)] == [e["UID"] for e in events(again)] == ["checkin-1@localhost",
                                                                                        "checkin-2@localhost"]
    assert first["UID"] == again["UID"]  # the calendar itself too
    # Ana moves the first one: the same event, at its new time, with a higher sequence.
    moved = (await program.send(ANA, "checkin move 1 friday 17:30")).messages
    assert all("Add it to your calendar: `calendar 1`." in m.msg.plain() for m in moved)
    _, after = await calendar_of(program, ANA)
    before_1, after_1 = events(first)[0], events(after)[0]
    assert after_1["UID"] == before_1["UID"]
    assert after_1.start == utc(2027, 1, 8, 22, 30) and f"{after_1.start:%a %H:%M}" == "Fri 17:30"
    assert after_1["SEQUENCE"] > before_1["SEQUENCE"]
    assert events(after)[1]["SEQUENCE"] == events(first)[1]["SEQUENCE"] == 0  # the other did not move
    # Moved twice, higher again; Bob's file says the same.
    await program.send(BOB, "checkin move 1 2027-01-09 10:00")
    _, bobs = await calendar_of(program, BOB)
    assert events(bobs)[0]["UID"] == "checkin-1@localhost" and events(bobs)[0]["SEQUENCE"] > after_1["SEQUENCE"]
    assert events(bobs)[0].start == utc(2027, 1, 9, 9, 0)


async def test_one_checkin_alone_and_cancelled_or_past_ones_left_out(program):
    await program.send(BOB, "checkin @ana:example.org next tuesday 16:00")
    await program.send(BOB, "checkin @ana:example.org 2027-02-01 18:00")
    text, cal = await calendar_of(program, ANA, "calendar 2")
    assert "Check-in #2 as a calendar file" in text and "`calendar 2`" in text
    [event] = events(cal)
    assert event["UID"] == "checkin-2@localhost" and event["SUMMARY"] == "Follow-up with Bob"
    assert event.start == utc(2027, 2, 1, 17, 0)
    await program.send(ANA, "checkin cancel 2")
    _, cal = await calendar_of(program, ANA)
    assert [e["UID"] for e in events(cal)] == ["checkin-1@localhost"]
    assert "already cancelled" in await program.reply(ANA, "calendar 2")
    # Once it has taken place, a check-in leaves the file too; with none left, a friendly line and no file.
    await program.runtime.advance_to(utc(2027, 1, 5, 16, 30), program.clock)
    result = await program.send(ANA, "calendar")
    [reply] = result.messages
    assert reply.files == ()
    assert reply.msg.plain().startswith("You have no upcoming check-ins with a time agreed")


async def test_nobody_else_gets_someones_checkin(program):
    # The program's deadlines (the orientation, its follow-up) with no time agreed yet are no events.
    assert (await program.send(ANA, "calendar")).messages[0].files == ()
    assert "has no time agreed yet" in await program.reply(ANA, "calendar 1")
    await program.send(BOB, "checkin @ana:example.org next tuesday 16:00")
    for who in (DANA, COUNCIL, ZOE):
        result = await program.send(who, "calendar 1")
        assert [m.files for m in result.messages] == [()]
        assert "You have no check-in #1" in result.messages[0].msg.plain()
    assert (await program.send(DANA, "calendar")).messages[0].files == ()


async def test_nothing_confidential_goes_into_the_file(program):
    """Markers in the agreement, the diary, goals, session notes and a coaching session's skill:
    none reaches either person's calendar file."""
    await program.send(ANA, f"agreement draft goals: {Z}-goal | mentor: {Z}-mentor | mentee: {Z}-mentee | "
                            f"contact: {Z}-contact | cancel: {Z}-cancel | urgent: {Z}-urgent")
    await program.send(BOB, "agreement confirm @ana:example.org")
    await program.send(ANA, f"diary {Z}-diary")
    await program.send(ANA, f"goals add {Z}-goals")
    await program.send(BOB, "checkin @ana:example.org tomorrow 16:00")
    await program.runtime.advance_to(START + timedelta(days=2), program.clock)
    await program.send(BOB, "checkin done 1")
    await program.send(BOB, f"session @ana:example.org orientation {Z}-outcome | next: {Z}-next | remarks: {Z}-remarks")
    await program.send(BOB, "checkin @ana:example.org 2027-02-01 18:00")
    await program.send(BOB, "profile skills zqcskill")
    await program.send(ANA, "coaching ask @bob:example.org zqcskill 2027-02-03 12:00")
    assert (await program.send(BOB, "coaching accept 1")).outcome == "ok"
    for who, other in ((ANA, "Bob"), (BOB, "Ana")):
        result = await program.send(who, "calendar")
        [f] = result.messages[0].files
        assert Z.lower() not in f.data.lower()
        cal = Calendar.from_ical(f.content())
        assert [e["SUMMARY"] for e in events(cal)] == [f"Follow-up with {other}", f"Coaching session with {other}"]
        assert all("DESCRIPTION" not in e and "LOCATION" not in e for e in events(cal))


async def test_a_group_checkin_is_in_its_members_and_mentors_calendar(program):
    await program.send(BOB, "group create Writers")
    await program.send(BOB, "group invite 1 @ana:example.org")
    await program.send(ANA, "group join 1")
    said = (await program.send(BOB, "group checkin 1 2027-01-12 18:00")).messages
    assert all("`calendar " in m.msg.plain() for m in said)
    for who in (ANA, BOB):
        _, cal = await calendar_of(program, who)
        group = [e for e in events(cal) if e["SUMMARY"] == "Group check-in of Writers"]
        assert len(group) == 1 and group[0].start == utc(2027, 1, 12, 17, 0)
    result = await program.send(DANA, "calendar")
    assert result.messages[0].files == ()


# ---------------------------------------------------------------- in the shell


async def test_in_the_shell_calendar_shows_the_file_and_prints_it(program, tmp_path):
    await program.say(f"{BOB}> checkin {ANA} next tuesday 16:00")
    out = await program.say(f"{ANA}> calendar")
    assert out == [f"[dm {ANA}] Your upcoming check-in, as a calendar file: open it to add it to your calendar. "
                   "Importing a newer file updates it rather than adding it twice.\n"
                   f"  (file checkins.ics, text/calendar, {len(program.outbox.sent[-1].files[0].content()):,} bytes)"]
    [one] = await program.say(f"{ANA}> calendar 1")
    assert "\n  (file checkin-1.ics, text/calendar, " in one
    # The terminal shell saves it, and `% show` prints it to read.
    printed = io.StringIO()
    program.runtime.outbox = ShellOutbox(printed, tmp_path / "files")
    shell = Shell(program.runtime, program.clock, out=printed, err=printed)
    await shell.feed(f"{BOB}> calendar 1")
    saved = tmp_path / "files" / "checkin-1.ics"
    assert f"(file checkin-1.ics, text/calendar, {saved.stat().st_size:,} bytes, saved as {saved})" in printed.getvalue()
    assert Calendar.from_ical(saved.read_bytes()).walk("VEVENT")[0]["SUMMARY"] == "Orientation session with Ana"
    await shell.feed("% show")
    shown = printed.getvalue().split("(file checkin-1.ics)\n", 1)[1]
    assert shown.startswith("BEGIN:VCALENDAR") and "SUMMARY:Orientation session with Ana" in shown
    assert "DTSTART;TZID=Europe/Madrid:20270105T160000" in shown


async def test_the_shell_says_when_there_is_no_file_to_show(bot):
    printed = io.StringIO()
    bot.runtime.outbox = ShellOutbox(printed)
    shell = Shell(bot.runtime, bot.clock, out=printed, err=printed)
    await shell.feed("% show")
    assert "error: the bot has sent no file yet" in printed.getvalue()


async def test_the_calendar_file_is_only_sent_in_a_dm(program):
    await program.send(BOB, "checkin @ana:example.org next tuesday 16:00")
    result = await program.send(BOB, "!calendar", RoomKind.MENTORS)
    assert result.outcome == "wrong_room" and all(m.files == () for m in result.messages)
