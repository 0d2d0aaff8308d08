"""A first "hi": each person is welcomed as who they are, wishes in plain words are answered
with the command to type, and nothing is ever done on a guess."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from commands.framework import RoomKind
from tests.conftest import COUNCIL

ANA, BOB, FINN, HANA = "@ana:example.org", "@bob:example.org", "@finn:example.org", "@hana:example.org"
NEW = "@new:example.org"


def one(lines: list[str], who: str) -> str:
    """The single answer in ``who``'s DM, without the shell's room label."""
    assert len(lines) == 1, lines
    label = f"[dm {who}] "
    assert lines[0].startswith(label), lines
    return lines[0][len(label):]


async def test_a_newcomer_saying_hi_learns_what_the_program_is_and_the_one_next_step(demo_bot):
    text = one(await demo_bot.say(f"{NEW}> hi"), NEW)
    assert text.startswith("Hello!")
    assert "Test program" in text  # the program's name, from its configuration
    assert "paired with an experienced mentor" in text
    assert "To ask for a mentor, type `request <a few words about what you want to learn>`." in text
    assert "I don't know the command" not in text
    assert len(text) < 450  # two or three sentences, not a manual


@pytest.mark.parametrize("greeting", ["hello", "Hey!", "good morning", "hallo", "hola", "olá", "cześć", "servus",
                                      "Hi there :)", "bom dia"])
async def test_greetings_in_several_languages_are_welcomed(demo_bot, greeting):
    text = one(await demo_bot.say(f"{NEW}> {greeting}"), NEW)
    assert text.startswith("Hello!") and "I understand short commands" not in text
    assert "`request <a few words about what you want to learn>`" in text


async def test_a_mentee_with_a_mentor_sees_their_mentor_and_next_checkin_in_their_time(demo_bot):
    text = one(await demo_bot.say(f"{ANA}> hello"), ANA)
    assert "Your mentor is Bob." in text
    # The demo's check-in in 20 days, 09:00 UTC, said in Ana's zone (America/Lima, UTC-5).
    due = demo_bot.clock.now() + timedelta(days=20)
    assert f"Your next check-in is on {due:%Y-%m-%d} 04:00 (America/Lima time)." in text
    for command in ("`status`", "`checkins`", "`goals`", "`help`"):
        assert command in text
    assert "request <" not in text  # she has a mentor: no invitation to ask for one


async def test_a_mentor_sees_the_offer_to_accept_and_their_next_checkins(demo_bot):
    text = one(await demo_bot.say(f"{BOB}> hi"), BOB)
    assert "a request waits for your answer: #1 (type `accept 1` to take it)" in text
    assert "Your next check-ins (Europe/Madrid time):" in text and "with Ana" in text
    assert "`request <" not in text


async def test_someone_whose_request_waits_sees_it_and_how_to_take_it_back(demo_bot):
    text = one(await demo_bot.say(f"{FINN}> hola"), FINN)
    assert "Your request #1 for a mentor" in text and "a mentor has been asked" in text
    assert "`status`" in text and "`withdraw`" in text


async def test_a_council_member_gets_pointers_to_their_usual_commands(demo_bot):
    text = one(await demo_bot.say(f"{COUNCIL}> good morning"), COUNCIL)
    for command in ("`queue`", "`requests`", "`report`"):
        assert command in text


async def test_thanks_gets_a_warm_answer_then_chatter_gets_one_line_a_day(demo_bot):
    first = one(await demo_bot.say(f"{ANA}> thanks!"), ANA)
    assert first.startswith("You're welcome!") and "Your mentor is Bob." in first
    assert one(await demo_bot.say(f"{ANA}> danke"), ANA) == "You're welcome! Send `help` if you need anything else."
    assert one(await demo_bot.say(f"{ANA}> hi"), ANA) == "Hello again! Send `help` to see what I can do."
    again = one(await demo_bot.say(f"{ANA}> what a lovely day it is"), ANA)
    assert again == "Sorry, I didn't understand that. I answer to short commands: send `help` to see them."
    # A day later, the full welcome again.
    await demo_bot.runtime.advance_to(demo_bot.clock.now() + timedelta(days=1, minutes=1), demo_bot.clock)
    assert "Your mentor is Bob." in one(await demo_bot.say(f"{ANA}> hi"), ANA)


async def test_i_would_like_a_mentor_is_offered_the_command_and_nothing_is_stored(demo_bot):
    before = await demo_bot.snapshot()
    text = one(await demo_bot.say(f"{NEW}> I would like a mentor please"), NEW)
    assert text.startswith("To ask for a mentor, type `request <a few words about what you want to learn>`.")
    assert "I don't know the command" not in text
    assert await demo_bot.snapshot() == before  # no request, not even a person record
    assert "no mentor and no open request" in await demo_bot.reply(NEW, "status")


@pytest.mark.parametrize("text,command", [
    ("can I get a mentor?", "`request <"), ("Help me!", "`help`"), ("what can you do", "`help`"),
    ("Who is my mentor?", "`status`"), ("when is my next check-in?", "`checkins`"),
    ("Ich brauche einen Mentor", "`request <"), ("¿Quién es mi mentor?", "`status`"),
    ("Potrzebuję mentora", "`request <"), ("preciso de um mentor", "`request <"),
])
async def test_plain_wishes_are_answered_with_the_command_to_type(demo_bot, text, command):
    before = await demo_bot.snapshot()
    answer = one(await demo_bot.say(f"{ANA}> {text}"), ANA)
    assert answer.startswith("To ") and command in answer
    assert await demo_bot.snapshot() == before


async def test_remind_me_tomorrow_never_suggests_ending_anything(demo_bot):
    before = await demo_bot.snapshot()
    text = one(await demo_bot.say(f"{ANA}> remind me tomorrow"), ANA)
    assert "`end`" not in text and "Did you mean" not in text
    assert text.startswith("Hello! I understand short commands rather than sentences.")
    assert "Your mentor is Bob." in text
    assert await demo_bot.snapshot() == before


async def test_a_clear_typo_of_a_command_that_reads_is_suggested(demo_bot):
    assert one(await demo_bot.say(f"{ANA}> stauts"), ANA) == (
        "I don't know the command `stauts`. Did you mean `status`? Send `help` for the list of commands.")
    assert "Did you mean `checkins`?" in one(await demo_bot.say(f"{ANA}> chekins"), ANA)


async def test_a_typo_of_a_command_that_changes_something_points_at_its_help(demo_bot):
    text = one(await demo_bot.say(f"{FINN}> withdrw"), FINN)
    assert text == ("I don't know the command `withdrw`. If you meant `withdraw`, send `help withdraw` first "
                    "to read what it does.")
    text = one(await demo_bot.say(f"{HANA}> coaching cancl 1"), HANA)
    assert "send `help coaching cancel` first" in text and "Did you mean" not in text


async def test_a_long_random_sentence_gets_the_welcome_and_no_guess(demo_bot):
    before = await demo_bot.snapshot()
    sentence = ("Yesterday I went to the beach with my friends and we talked for hours about "
                "cancelling our plans to end the year with a trip, forget it")
    text = one(await demo_bot.say(f"{NEW}> {sentence}"), NEW)
    assert "Did you mean" not in text and "help end" not in text
    assert not re.search(r"`(end|cancel|forget me|withdraw|decline)\b", text)
    assert "`request <a few words about what you want to learn>`" in text
    assert await demo_bot.snapshot() == before


async def test_chatter_in_shared_rooms_is_still_ignored(demo_bot):
    assert (await demo_bot.send(BOB, "hi everyone", RoomKind.MENTORS)).messages == []
    assert (await demo_bot.send(COUNCIL, "thanks all", RoomKind.COUNCIL)).messages == []
    # Addressed to the bot with the prefix, a shared room gets the short answer, not a welcome.
    text = await demo_bot.reply(BOB, "!stauts", RoomKind.MENTORS)
    assert text.startswith("I don't know the command `stauts`.") and "Your next check-ins" not in text
