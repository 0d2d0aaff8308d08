"""The first commands, as people use them: help, profile, the mentor roster."""

from __future__ import annotations

from commands.framework import RoomKind
from tests.conftest import COUNCIL

ANA, BOB, DANA = "@ana:example.org", "@bob:example.org", "@dana:example.org"


async def test_help_lists_only_what_you_may_use(demo_bot):
    mentee_help = await demo_bot.reply(ANA, "help")
    assert "profile timezone <zone...>" in mentee_help
    assert "mentor add" not in mentee_help and "profile capacity" not in mentee_help
    council_help = await demo_bot.reply(COUNCIL, "!help", RoomKind.COUNCIL)
    assert "mentor add <person> [capacity]" in council_help
    assert "start each command with !" in council_help


async def test_help_for_one_command_explains_it(demo_bot):
    text = await demo_bot.reply(ANA, "help mentor add")
    assert "Usage: `mentor add <person> [capacity]`" in text
    assert "Who: council members (not you, for now). Where: the council room or a direct message with me." in text
    assert "Examples: `mentor add @zoe:example.org`" in text
    assert "There is no command `flyy`" in await demo_bot.reply(ANA, "help flyy")
    assert "`mentor` has these forms: `mentor add`, `mentor remove`" in await demo_bot.reply(ANA, "help mentor")


async def test_unknown_commands_get_a_suggestion(demo_bot):
    assert "Did you mean `profile`?" in await demo_bot.reply(ANA, "profil")
    text = await demo_bot.reply(BOB, "!mentrs", RoomKind.MENTORS)
    assert "I don't know the command `mentrs`. Did you mean `!mentors`?" in text


async def test_chat_in_shared_rooms_is_ignored_but_dms_are_always_answered(demo_bot):
    assert (await demo_bot.send(BOB, "hello everyone", RoomKind.MENTORS)).messages == []
    assert (await demo_bot.send(BOB, "help", RoomKind.COUNCIL)).messages == []
    assert "Send `help`" in await demo_bot.reply(ANA, "hello?")
    assert "Here is what you can do" in await demo_bot.reply(ANA, "!help")  # a prefix out of habit


async def test_a_newcomer_builds_a_profile(bot):
    eve = "@eve:example.org"
    assert "I don't have a profile for you yet" in await bot.reply(eve, "profile")
    assert "I'll call you Eve Adams" in await bot.reply(eve, "profile name   Eve   Adams")
    text = await bot.reply(eve, "profile timezone America/Lima")
    assert "your time zone is America/Lima. Your local time now is 2027-01-04 04:00" in text
    assert "languages are now Spanish, English" in await bot.reply(eve, "profile languages es, EN, es")
    assert "interests are now event planning, localisation" in await bot.reply(
        eve, "profile interests event planning, localisation"
    )
    profile = await bot.reply(eve, "profile")
    for expected in ("Name: Eve Adams", "Time zone: America/Lima", "Languages: Spanish, English",
                     "Interests: event planning, localisation", "Roles: none yet"):
        assert expected in profile
    assert "Skills" not in profile
    denied = (await bot.send(eve, "profile skills events")).stored[0].message.body
    assert "Lo siento, `profile skills` es solo para mentores." in denied  # she reads Spanish now


async def test_profile_is_private_and_user_text_is_not_markup(demo_bot):
    text = await demo_bot.reply(ANA, "!profile", RoomKind.MENTORS)
    assert "works only in a direct message with me" in text
    result = await demo_bot.send(ANA, "profile name <b>Ana</b> **bold**")
    assert "&lt;b&gt;Ana&lt;/b&gt; **bold**" in result.messages[0].msg.html()
    assert "<b>Ana</b>" not in result.messages[0].msg.html()


async def test_bad_profile_values_explain_how_to_fix_them(demo_bot):
    text = await demo_bot.reply(ANA, "profile timezone Narnia")
    assert "I don't know a time zone called Narnia. Give your city (Berlin)" in text
    assert "`profile timezone Europe/Berlin`" in text
    text = await demo_bot.reply(BOB, "profile capacity 9")
    assert "at most 5 mentees per mentor" in text
    assert "too long" in await demo_bot.reply(ANA, "profile name " + "x" * 101)
    assert "For example" in await demo_bot.reply(ANA, "profile timezone")


async def test_a_mentor_sets_skills_and_capacity(demo_bot):
    assert "your skills are now events, mentoring" in await demo_bot.reply(BOB, "profile skills events, mentoring")
    assert "your capacity is 2 mentees" in await demo_bot.reply(BOB, "profile capacity 2")
    profile = await demo_bot.reply(BOB, "profile")
    assert "Skills: events, mentoring" in profile and "Capacity: 2 mentees (1 now)" in profile


async def test_the_council_adds_and_removes_mentors(demo_bot):
    result = await demo_bot.send(COUNCIL, "!mentor add @zoe:example.org 2", RoomKind.COUNCIL)
    council, welcome, mentors = result.messages
    assert council.target.room is RoomKind.COUNCIL
    assert council.msg.plain() == "Done: @zoe:example.org is now a mentor, taking up to 2 mentees."
    assert welcome.target.user_id == "@zoe:example.org"
    assert "Welcome, you are now a mentor in Test program" in welcome.msg.plain()
    # The new mentor is invited into the mentors room, where the others are told.
    assert mentors.target.room is RoomKind.MENTORS and mentors.invite == "@zoe:example.org"
    assert mentors.msg.plain() == "Please welcome @zoe:example.org, who joins the mentors!"
    assert "already a mentor" in await demo_bot.reply(COUNCIL, "!mentor add @zoe:example.org", RoomKind.COUNCIL)
    roster = await demo_bot.reply(BOB, "!mentors", RoomKind.MENTORS)
    assert "Mentors (4)" in roster and "• @zoe:example.org: 0 of 2" in roster and "• Bob: 1 of 3" in roster
    # The new mentor can use mentor commands at once.
    assert "your capacity is 1 mentee." in await demo_bot.reply("@zoe:example.org", "profile capacity 1")
    result = await demo_bot.send(COUNCIL, "mentor remove @zoe:example.org")
    assert result.messages[0].msg.plain() == "Done: @zoe:example.org is no longer a mentor."
    assert "no longer a mentor in Test program" in result.messages[1].msg.plain()
    assert "is not a mentor" in await demo_bot.reply(COUNCIL, "mentor remove @zoe:example.org")


async def test_a_mentor_with_mentees_cannot_be_removed(demo_bot):
    # In the demo, Bob mentors Ana.
    text = await demo_bot.reply(COUNCIL, "mentor remove @bob:example.org")
    assert text == "Bob still mentors 1 mentee. Reassign them first, then remove."
    assert "• Bob: 1 of 3" in await demo_bot.reply(COUNCIL, "mentors")


async def test_a_huge_message_gets_a_clear_answer(demo_bot):
    text = await demo_bot.reply(ANA, "profile name " + "x" * 5000)
    assert "too long for a command (5,013 characters; at most 4,000)" in text


async def test_a_crashing_command_apologises_and_the_bot_goes_on(demo_bot, monkeypatch):
    from commands import profile

    async def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(profile.people, "set_tags", broken)
    before = await demo_bot.snapshot()
    text = await demo_bot.reply(ANA, "profile languages fr")
    assert text.startswith("Sorry, something went wrong while running `profile languages`. Nothing was changed.")
    assert await demo_bot.snapshot() == before
    assert "Name: Ana" in await demo_bot.reply(ANA, "profile")


async def test_a_display_name_cannot_hide_text_or_pass_for_someone_else(bot):
    ana = "@ana:example.org"
    # Invisible characters (a right-to-left override, zero-width spaces) are taken out.
    assert await bot.reply(ana, "profile name Ana\u202e Garc\u200bía") == "Done: I'll call you Ana García."
    refused = {
        "@cy:example.org": "A name cannot look like a Matrix ID",
        "Cy @cy:example.org": "A name cannot look like a Matrix ID",
        "Cy (council)": "A name cannot carry a role or title",
        "Mentor Bob": "A name cannot carry a role or title",
        "ＡＤＭＩＮ": "A name cannot carry a role or title",  # full-width letters are the same word
        "A" * 65: "That name is 65 characters long; keep it to 64",
        "\u200b\u202e": "Your name cannot be empty",
    }
    for name, message in refused.items():
        answer = await bot.reply(ana, f"profile name {name}")
        assert answer.startswith(message), (name, answer)
        assert "For example: `profile name Ana García`" in answer
    assert "Name: Ana García" in await bot.reply(ana, "profile")  # unchanged by the refused ones


async def test_the_list_of_commands_stays_short_enough_to_read_in_a_chat(demo_bot):
    """One line a topic, however many commands there are: what each does is in `help <command>`."""
    for who, room in ((ANA, RoomKind.DM), (BOB, RoomKind.DM), (COUNCIL, RoomKind.COUNCIL)):
        text = await demo_bot.reply(who, "!help" if room is RoomKind.COUNCIL else "help", room)
        assert len(text) < 4000, (who, len(text))
        assert "help <command>` to see what one does" in text
    council = await demo_bot.reply(COUNCIL, "!help", RoomKind.COUNCIL)
    for name in ("cohort", "report chart", "nomination accept", "mentor add"):
        assert f"`{name}" in council
