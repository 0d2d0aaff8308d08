"""Guided conversations, as people live them: `request` asked one question at a time, and a new
mentor's set-up after `mentor add`. Nothing is stored until the person says yes.

The demo program: Bob (events, public speaking, localisation; es/en; Madrid; 3 places) mentors
Ana; Eli (design, events; pt/en; Sao Paulo; 4 places) has no mentees; Finn's request #1 is
offered to Bob. Ivo is new: no profile at all.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlmodel import select

from bot.config import Settings, StorageSettings
from bot.runtime import Runtime
from commands.clock import ManualClock
from commands.framework import RoomKind
from commands.messages import Incoming
from commands.policy import ProgramPolicy
from storage.models import Conversation, MentorRequest, Person, PersonTag, TagKind
from tests.conftest import COUNCIL, START as START_CLOCK, BotHarness, RecordingOutbox, database_url

IVO, ZOE = "@ivo:example.org", "@zoe:example.org"
SECRET = "Zqx-ivo-wants-to-learn-sound-engineering"


async def say(bot, line: str) -> str:
    """What the bot sent for one shell line, all messages joined."""
    return "\n".join(await bot.say(line))


async def rows(bot, model) -> list:
    async with bot.db.session() as s:
        return list((await s.exec(select(model))).all())


async def tags_of(bot, matrix_id: str) -> dict[TagKind, list[str]]:
    async with bot.db.session() as s:
        person = (await s.exec(select(Person).where(Person.matrix_id == matrix_id))).one()
        found = (await s.exec(select(PersonTag).where(PersonTag.person_id == person.id)
                              .order_by(PersonTag.id))).all()
        out: dict[TagKind, list[str]] = {kind: [] for kind in TagKind}
        for t in found:
            out[t.kind].append(t.value)
        return out | {"timezone": person.timezone, "capacity": person.capacity}


async def test_request_alone_asks_one_question_at_a_time_and_sends_the_request_on_yes(demo_bot, caplog):
    bot = demo_bot
    caplog.set_level(logging.DEBUG)
    first = await say(bot, f"{IVO}> request")
    assert "4 short questions" in first and "Question 1 of 4:" in first and "What do you want to learn" in first
    assert "Got it: " + SECRET in await say(bot, f"{IVO}> {SECRET}")
    text = await say(bot, f"{IVO}> Portuguese, English")
    assert "Got it: Portuguese, English." in text and "Question 3 of 4:" in text and "time zone" in text
    text = await say(bot, f"{IVO}> America/Sao_Paulo")
    assert "Got it: America/Sao_Paulo." in text and "Question 4 of 4:" in text
    text = await say(bot, f"{IVO}> design, events")
    assert "Got it: design, events." in text
    for line in ("Here is your request for a mentor:", f"What you want help with: {SECRET}",
                 "Languages: Portuguese, English", "Time zone: America/Sao_Paulo", "Interests: design, events",
                 "Send `yes` to send it"):
        assert line in text
    assert await rows(bot, MentorRequest) != [] and len(await rows(bot, MentorRequest)) == 1  # only Finn's so far
    sent = len(bot.outbox.sent)
    text = await say(bot, f"{IVO}> yes")
    # The same answer, request and notices as `request <text>` typed with this profile.
    assert "Thanks! Your request #2 is in. I have asked a mentor who fits" in text
    assert "Tip:" not in text
    [request] = [r for r in await rows(bot, MentorRequest) if r.id == 2]
    assert request.topic == SECRET and request.proposed_to_id is not None
    room = [m.body for m in bot.outbox.sent[sent:] if m.target.room.value == "mentors"]
    assert room and "Request #2 needs a mentor" in room[0] and SECRET not in room[0]
    assert (await tags_of(bot, IVO))[TagKind.LANGUAGE] == ["pt", "en"]
    assert (await tags_of(bot, IVO))["timezone"] == "America/Sao_Paulo"
    assert await rows(bot, Conversation) == []
    # What Ivo wants to learn reached no shared room and no log.
    assert all(SECRET not in m.body for m in bot.outbox.sent if m.target.room.value != "dm")
    assert SECRET not in caplog.text


async def test_request_with_text_and_a_full_profile_is_made_at_once(demo_bot):
    assert "Your request #2 is in" in await say(demo_bot, "@hana:example.org> request design mentoring")
    assert await rows(demo_bot, Conversation) == []


async def test_request_with_text_asks_only_what_the_profile_lacks_when_the_program_says_so(tmp_path):
    policy = ProgramPolicy(name="Test program", timezone="Europe/Berlin", council=[COUNCIL], request_asks_profile=True)
    runtime = Runtime(Settings(storage=StorageSettings(url=database_url(tmp_path)), program=policy),
                      ManualClock(START_CLOCK), RecordingOutbox())
    await runtime.start()
    try:
        bot = BotHarness(runtime, runtime.clock, runtime.outbox)
        await say(bot, f"{IVO}> profile timezone Europe/Lisbon")
        text = await say(bot, f"{IVO}> request {SECRET}")
        assert "2 short questions" in text and "Question 1 of 2:" in text and "languages" in text
        await say(bot, f"{IVO}> pt en")
        text = await say(bot, f"{IVO}> music")
        assert f"What you want help with: {SECRET}" in text and "Time zone" not in text
        assert "Your request #1 is in" in await say(bot, f"{IVO}> Yes.")
        [request] = await rows(bot, MentorRequest)
        assert request.topic == SECRET
    finally:
        await runtime.close()


async def test_cancel_midway_stores_nothing(demo_bot):
    bot = demo_bot
    before = await bot.snapshot()
    await say(bot, f"{IVO}> request")
    await say(bot, f"{IVO}> {SECRET}")
    await say(bot, f"{IVO}> de, en")
    text = await say(bot, f"{IVO}> Stop")
    assert "Stopped: nothing was stored and no request was sent." in text
    after = await bot.snapshot()
    after["person"] = [p for p in after["person"] if IVO not in p]  # the first contact made Ivo's row
    assert {k: v for k, v in after.items() if k != "person"} == {k: v for k, v in before.items() if k != "person"}
    assert (await tags_of(bot, IVO))[TagKind.LANGUAGE] == []
    # The next text is an ordinary one again.
    assert "I understand short commands rather than sentences" in await say(bot, f"{IVO}> design please")


async def test_no_at_the_summary_stores_nothing(demo_bot):
    bot = demo_bot
    for line in ("request", SECRET, "de", "Europe/Berlin", "events"):
        await say(bot, f"{IVO}> {line}")
    assert "Please answer `yes` or `no`" in await say(bot, f"{IVO}> maybe")
    assert "Stopped: nothing was stored" in await say(bot, f"{IVO}> no")
    assert len(await rows(bot, MentorRequest)) == 1 and (await tags_of(bot, IVO))["timezone"] is None


async def test_a_bad_time_zone_is_asked_again_and_earlier_answers_are_kept(demo_bot):
    bot = demo_bot
    for line in ("request", SECRET, "es, en"):
        await say(bot, f"{IVO}> {line}")
    text = await say(bot, f"{IVO}> Atlantis/Lost_City")
    assert "I don't know a time zone called Atlantis/Lost_City" in text and "Question 3 of 4:" in text
    assert "Got it: Europe/Madrid." in await say(bot, f"{IVO}> europe/madrid")  # read leniently
    text = await say(bot, f"{IVO}> events")
    assert f"What you want help with: {SECRET}" in text and "Languages: Spanish, English" in text


async def test_a_restart_in_the_middle_goes_on_with_the_same_question(tmp_path, policy):
    url = database_url(tmp_path)
    first = Runtime(Settings(storage=StorageSettings(url=url), program=policy), ManualClock(START_CLOCK),
                    RecordingOutbox())
    await first.start()
    bot = BotHarness(first, first.clock, first.outbox)
    await say(bot, f"{IVO}> request")
    await say(bot, f"{IVO}> {SECRET}")
    await first.close()
    again = Runtime(Settings(storage=StorageSettings(url=url), program=policy),
                    ManualClock(START_CLOCK + timedelta(hours=1)), RecordingOutbox())
    await again.start()
    try:
        bot = BotHarness(again, again.clock, again.outbox)
        assert again.outbox.sent == []  # nothing asked twice at start
        text = await say(bot, f"{IVO}> fr")
        assert "Got it: French." in text and "Question 3 of 4:" in text and "What do you want to learn" not in text
        await say(bot, f"{IVO}> Europe/Paris")
        text = await say(bot, f"{IVO}> cooking")
        assert f"What you want help with: {SECRET}" in text
        assert "Your request #1 is in" in await say(bot, f"{IVO}> yes")
    finally:
        await again.close()


async def test_a_conversation_left_for_a_day_is_forgotten_quietly(demo_bot):
    bot = demo_bot
    await say(bot, f"{IVO}> request")
    await say(bot, f"{IVO}> {SECRET}")
    sent = len(bot.outbox.sent)
    await bot.runtime.advance_to(bot.clock.now() + timedelta(days=1, minutes=5), bot.clock)
    assert all(m.target.user_id != IVO for m in bot.outbox.sent[sent:])  # no message about it
    assert await rows(bot, Conversation) == []  # the clean-up erased the answers
    assert "I understand short commands rather than sentences" in await say(bot, f"{IVO}> de, en")
    assert len(await rows(bot, MentorRequest)) == 1 and (await tags_of(bot, IVO))[TagKind.LANGUAGE] == []


async def test_an_expired_conversation_is_not_answered_even_before_the_clean_up(demo_bot):
    bot = demo_bot
    await say(bot, f"{IVO}> request")
    bot.clock.advance(timedelta(days=1, seconds=1))  # no scheduled work ran
    assert "I understand short commands rather than sentences" in await say(bot, f"{IVO}> de, en")
    assert "Question 1 of 4:" in await say(bot, f"{IVO}> request")  # a new one starts afresh


async def test_a_command_typed_meanwhile_runs_and_the_conversation_stays_open(demo_bot):
    bot = demo_bot
    await say(bot, f"{IVO}> request")
    await say(bot, f"{IVO}> {SECRET}")
    text = await say(bot, f"{IVO}> profile name Ivo Ivanov")
    assert "I'll call you Ivo Ivanov" in text
    assert "Your request for a mentor is still waiting for this answer" in text and "Question 2 of 4:" in text
    text = await say(bot, f"{IVO}> status")  # said once a question: the next command is answered as usual
    assert "still waiting" not in text and "Question 2 of 4:" not in text
    assert "Got it: Italian, English." in await say(bot, f"{IVO}> it, en")  # the answer goes on where it was
    # A refused request says why at once, before any question.
    assert "You already have a mentor, Bob" in await say(bot, "@ana:example.org> request")
    assert [c for c in await rows(bot, Conversation) if c.person_id != (await ivo_id(bot))] == []


async def ivo_id(bot) -> int:
    async with bot.db.session() as s:
        return (await s.exec(select(Person.id).where(Person.matrix_id == IVO))).one()


async def test_a_new_mentor_is_guided_through_their_set_up(demo_bot):
    bot = demo_bot
    out = await bot.say(f"{COUNCIL}> mentor add {ZOE} 2")
    [welcome] = [m for m in out if m.startswith(f"[dm {ZOE}]")]
    assert "Welcome, you are now a mentor in Test program!" in welcome and "Question 1 of 4:" in welcome
    assert "skills" in welcome
    assert "Got it: events, localisation." in await say(bot, f"{ZOE}> events, localisation")
    text = await say(bot, f"{ZOE}> 9")
    assert "at most 5 mentees per mentor" in text and "Question 2 of 4:" in text
    assert "Got it: 3." in await say(bot, f"{ZOE}> 3 mentees")
    await say(bot, f"{ZOE}> de, en")
    text = await say(bot, f"{ZOE}> Europe/Vienna")
    assert "Here is your mentor profile:" in text and "Mentees at once: 3" in text
    assert (await tags_of(bot, ZOE))["capacity"] == 2  # nothing stored before yes
    assert "your mentor profile is saved" in await say(bot, f"{ZOE}> ja")
    stored = await tags_of(bot, ZOE)
    assert stored[TagKind.SKILL] == ["events", "localisation"] and stored[TagKind.LANGUAGE] == ["de", "en"]
    assert stored["timezone"] == "Europe/Vienna" and stored["capacity"] == 3
    # Existing mentors were not asked anything.
    assert not any(m.startswith("[dm @bob:example.org]") or m.startswith("[dm @eli:example.org]") for m in out)


async def test_an_answer_is_handled_once(demo_bot):
    bot = demo_bot
    await say(bot, f"{IVO}> request")
    incoming = Incoming(sender=IVO, room=RoomKind.DM, text=SECRET, event_id="$answer-1")
    assert (await bot.runtime.handle(incoming)).outcome == "ok"
    assert (await bot.runtime.handle(incoming)).outcome in ("duplicate", "ignored")
    assert "Question 3 of 4:" in await say(bot, f"{IVO}> en")




# ---------------------------------------------------------------- privacy of the answers so far


async def test_answers_so_far_are_the_persons_own_and_leave_with_them(demo_bot):
    """An open conversation's answers: in the person's `mydata`, out of the council's plain export
    (in the confidential one), in no shared room, erased by `forget me`."""
    from tests.test_privacy import export, files_to  # the privacy tests' readers of files

    bot = demo_bot
    await say(bot, f"{IVO}> request")
    await say(bot, f"{IVO}> {SECRET}")
    start = len(bot.outbox.sent)
    await say(bot, f"{IVO}> mydata")
    files = files_to(bot, IVO, start)
    assert any(SECRET in text for name, text in files.items() if name.endswith(".json"))
    assert any(SECRET in text for name, text in files.items() if name.endswith(".md"))
    plain = await export(bot, "export conversations")
    assert SECRET not in "\n".join(plain.values()) and any("conversations" in n for n in plain)
    full = await export(bot, "export conversations confidential")
    assert SECRET in "\n".join(full.values())
    for line in ("!requests", "!mentors"):
        await bot.send("@bob:example.org", line, RoomKind.MENTORS)
    assert all(SECRET not in m.body for m in bot.outbox.sent if m.target.room.value != "dm")
    assert all(SECRET not in m.body for m in bot.outbox.sent if m.target.user_id not in (None, IVO))
    await say(bot, f"{IVO}> forget me")
    assert len(await rows(bot, Conversation)) == 1  # open until the erasure
    await say(bot, f"{IVO}> forget me confirm")
    assert await rows(bot, Conversation) == []


async def test_a_crash_in_an_answer_is_an_apology_and_the_conversation_goes_on(demo_bot, monkeypatch):
    from commands import conversations as guided
    from commands.services.conversations import LANGUAGES

    bot = demo_bot
    await say(bot, f"{IVO}> request")
    await say(bot, f"{IVO}> {SECRET}")

    def broken(text: str, policy):
        raise RuntimeError("a bug in a reader")

    monkeypatch.setitem(guided.READERS, LANGUAGES, broken)
    assert "Sorry, something went wrong" in await say(bot, f"{IVO}> de")
    monkeypatch.undo()
    text = await say(bot, f"{IVO}> de")
    assert "Got it: German." in text and "Question 3 of 4:" in text


async def test_a_command_typed_at_the_summary_runs_and_the_summary_waits_for_yes(demo_bot):
    bot = demo_bot
    await say(bot, f"{IVO}> request")
    for answer in (SECRET, "Portuguese, English", "America/Sao_Paulo", "design, events"):
        await say(bot, f"{IVO}> {answer}")
    text = await say(bot, f"{IVO}> profile")  # not an answer: it runs, and the summary is said again
    assert "Your profile" in text and "Here is your request for a mentor:" in text and "Send `yes`" in text
    assert "Thanks! Your request #2 is in." in await say(bot, f"{IVO}> yes")
