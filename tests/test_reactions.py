"""One-tap answers: a ✅ or ❌ reaction under what the bot asks is the typed answer, in the shell.

Bob and Dana are mentors, Ana asks for a mentor, Cy is on the council.
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from sqlmodel import select

from commands.framework import RoomKind
from commands.messages import Sent
from commands.reactions import Reaction
from commands.services import answers
from bot.config import Settings, StorageSettings
from bot.runtime import Runtime
from bot.shell import room_id_of
from commands.clock import ManualClock
from storage.models import metadata, AnswerableMessage, CheckIn, OutboxMessage, HandledEvent, MentorRequest, RequestState
from tests.conftest import COUNCIL, START, BotHarness, RecordingOutbox, database_url

ANA, BOB, DANA, EVE = "@ana:example.org", "@bob:example.org", "@dana:example.org", "@eve:example.org"
REACTIONS = "  [✅ ❌ react to answer]"


SETUP = (
    (COUNCIL, "mentor add @bob:example.org 3"), (COUNCIL, "mentor add @dana:example.org 2"),
    (BOB, "profile name Bob"), (DANA, "profile name Dana"), (ANA, "profile name Ana"),
    (DANA, "away in 2 weeks"),  # the offer goes to Bob
)


async def set_up(bot: BotHarness) -> BotHarness:
    for line in SETUP:
        result = await bot.send(*line)
        assert result.outcome == "ok", result.messages[0].msg.plain()
    return bot


@pytest.fixture
async def program(bot):
    return await set_up(bot)


@pytest.fixture
async def typed(tmp_path, policy):
    """The same program in a bot of its own, where people type their answers."""
    folder = tmp_path / "typed"
    folder.mkdir()
    settings = Settings(storage=StorageSettings(url=database_url(folder)), program=policy)
    clock = ManualClock(START)
    outbox = RecordingOutbox()
    runtime = Runtime(settings, clock, outbox)
    await runtime.start()
    try:
        yield await set_up(BotHarness(runtime, clock, outbox))
    finally:
        await runtime.close()


async def offer_to_bob(bot) -> list[str]:
    said = await bot.say(f"{ANA}> request help with events")
    [offer] = [s for s in said if s.startswith(f"[dm {BOB}]")]
    return offer.splitlines()


async def request(bot) -> MentorRequest:
    async with bot.db.session() as s:
        return (await s.exec(select(MentorRequest))).one()


# Made up afresh in each program (keys for the forum, the transport's ids of a message).
RANDOM = {"announcement": "external_id", "announcement_copy": "remote_id"}


async def same_records(tapped: BotHarness, typed: BotHarness) -> None:
    """Both programs hold the same records (where the bot's own messages went aside)."""
    a, b = await tapped.snapshot(), await typed.snapshot()
    a.pop("answerable_message"), b.pop("answerable_message")
    for table, column in RANDOM.items():
        at = list(metadata.tables[table].columns.keys()).index(column)
        for snapshot in (a, b):
            snapshot[table] = [row[:at] + row[at + 1:] for row in snapshot[table]]
    assert a == b


async def test_a_tick_under_an_offer_accepts_it_exactly_as_typing_accept_does(program, typed):
    offer = await offer_to_bob(program)
    assert "`accept 1`" in "\n".join(offer) and "`decline 1`" in "\n".join(offer) and offer[-1] == REACTIONS
    await offer_to_bob(typed)
    tapped = await program.say(f"% react {BOB} ✅")
    assert tapped == await typed.say(f"{BOB}> accept 1")
    assert f"[dm {BOB}] Done: you are Ana's mentor now. I have sent you both a welcome." in tapped
    assert any(s.startswith(f"[dm {ANA}] Welcome! Bob is your mentor now.") for s in tapped)
    await same_records(program, typed)
    async with program.db.session() as s:
        handled = (await s.exec(select(HandledEvent.event_id))).all()
    assert any(h.startswith("$react-") for h in handled)  # handled once, like a typed command
    # More reactions under the decided offer change nothing: one short note, once.
    assert await program.say(f"% react {BOB} ✅") == [f"[dm {BOB}] That offer was already answered."]
    assert await program.say(f"% react {BOB} ❌") == []
    assert await program.say(f"% react {BOB} ✅") == []
    await same_records(program, typed)


async def test_a_cross_under_an_offer_declines_it_exactly_as_typing_decline_does(program, typed):
    await offer_to_bob(program)
    await offer_to_bob(typed)
    tapped = await program.say(f"% react {BOB} ❌")
    assert tapped == await typed.say(f"{BOB}> decline 1")
    assert tapped[0] == (f"[dm {BOB}] Done: you passed on request #1; I am asking the next mentor who fits. "
                         "Thank you for saying so.")
    await same_records(program, typed)
    # Bob changes his mind with a tick under the same offer: it was answered, he is told once.
    assert await program.say(f"% react {BOB} ✅") == [f"[dm {BOB}] That offer was already answered."]
    await same_records(program, typed)


async def test_a_reaction_from_anyone_else_or_any_other_emoji_is_ignored_and_a_replayed_one_counts_once(program):
    await offer_to_bob(program)
    async with program.db.session() as s:
        row = await answers.latest_for(s, BOB, room_id_of(RoomKind.DM, BOB))
    for who, key in ((ANA, "✅"), (EVE, "❌"), (COUNCIL, "✅"), (BOB, "👍")):
        result = await program.runtime.react(Reaction(who, RoomKind.DM, row.room_id, f"$r-{who}-{key}", row.event_id,
                                                      key))
        assert result.outcome == "ignored" and result.messages == []
    assert (await request(program)).state is RequestState.PROPOSED
    # A reaction under a message that asks nothing is nobody's answer.
    result = await program.runtime.react(Reaction(BOB, RoomKind.DM, row.room_id, "$r-other", "$not-a-question", "✅"))
    assert result.outcome == "ignored"
    # The same reaction brought twice (a sync taken again) is handled once; with the emoji's
    # variation selector, as some clients send it, it is the same tick.
    reaction = Reaction(BOB, RoomKind.DM, row.room_id, "$r-bob-once", row.event_id, "✅\ufe0f")
    assert (await program.runtime.react(reaction)).outcome == "ok"
    assert (await program.runtime.react(reaction)).outcome == "duplicate"
    assert (await request(program)).state is RequestState.ACCEPTED


async def planned_checkin(bot) -> tuple[str, CheckIn]:
    await offer_to_bob(bot)
    await bot.say(f"{BOB}> accept 1")
    said = await bot.say(f"{BOB}> checkin {ANA} next tuesday 16:00")
    [asked] = [s for s in said if s.startswith(f"[dm {ANA}]")]
    async with bot.db.session() as s:
        c = (await s.exec(select(CheckIn).where(CheckIn.arranged.is_(True)))).one()
    return asked, c


async def test_a_tick_confirms_a_check_in_the_mentee_was_asked_to_confirm(program, typed):
    asked, c = await planned_checkin(program)
    await planned_checkin(typed)
    assert f"`confirm {c.id}`" in asked and asked.endswith("\n  [✅ react to answer]")  # nothing to decline: no ❌
    await program.say(f"% as {ANA}")
    assert await program.say("% react ❌") == []
    tapped = await program.say("% react ✅")
    assert tapped == await typed.say(f"{ANA}> confirm {c.id}")
    assert tapped[0].startswith(f"[dm {ANA}] Confirmed: orientation session #{c.id} with Bob")
    assert tapped[1].startswith(f"[dm {BOB}] Ana confirmed the orientation session #{c.id}")
    await same_records(program, typed)
    # The reminder before it asks nothing more: she has confirmed.
    start = len(program.outbox.sent)
    await program.runtime.advance_to(c.due_at - timedelta(hours=1), program.clock)
    to_ana = [m for m in program.outbox.sent[start:] if m.target.user_id == ANA and "Reminder" in m.body]
    assert to_ana and all(m.answers is None for m in to_ana)
    assert await program.say("% react ✅") == [f"[dm {ANA}] That check-in is already confirmed or no longer planned."]


async def test_a_reminder_of_an_unconfirmed_check_in_takes_a_tick_and_a_move_asks_again(program):
    _, c = await planned_checkin(program)
    start = len(program.outbox.sent)
    await program.runtime.advance_to(c.due_at - timedelta(hours=2), program.clock)
    reminders = [m for m in program.outbox.sent[start:] if m.target.user_id == ANA and "Reminder" in m.body]
    assert reminders and all(m.answers is not None and f"confirm {c.id}" in m.body for m in reminders)
    to_bob = [m for m in program.outbox.sent[start:] if m.target.user_id == BOB and "Reminder" in m.body]
    assert to_bob and all(m.answers is None for m in to_bob)  # the mentor has nothing to confirm
    # Bob moves it: the mentee is asked to confirm the new time, and a tick does it.
    said = await program.say(f"{BOB}> checkin move {c.id} wednesday 17:00")
    [moved] = [s for s in said if s.startswith(f"[dm {ANA}]")]
    assert f"`confirm {c.id}`" in moved and moved.endswith("  [✅ react to answer]")
    [to_mentor] = [s for s in said if s.startswith(f"[dm {BOB}]")]
    assert "react to answer" not in to_mentor
    said = await program.say(f"% react {ANA} ✅")
    assert said[0].startswith(f"[dm {ANA}] Confirmed: orientation session #{c.id} with Bob on Wed")


ANNOUNCE = f"council {COUNCIL}> !announce all Mentor training on 3 March | Join us at 16:00 UTC."


async def test_the_council_publishes_an_announcement_with_a_tick_and_drops_one_with_a_cross(program, typed):
    [preview] = await program.say(ANNOUNCE)
    assert preview.startswith("[council] Draft announcement #1") and preview.endswith("\n" + REACTIONS)
    assert await typed.say(ANNOUNCE) == [preview]
    # Bob is not on the council, and the preview was not his to answer: nothing he can tap.
    program.shell.err = StringIO()
    await program.shell.feed(f"% react council {BOB} ✅")
    assert "the bot has asked @bob:example.org nothing in the council room" in program.shell.err.getvalue()
    tapped = await program.say(f"% react council {COUNCIL} ✅")
    assert tapped == await typed.say(f"council {COUNCIL}> !confirm 1")
    assert tapped[-1].startswith("[council] Published announcement #1 to the mentors room")
    await same_records(program, typed)

    second = f"council {COUNCIL}> !announce mentors Spring meetup in Bonn | Bring a friend along to the meetup."
    assert (await program.say(second))[0].startswith("[council] Draft announcement #2")
    await typed.say(second)
    tapped = await program.say(f"% react council {COUNCIL} ❌")
    assert tapped == await typed.say(f"council {COUNCIL}> !cancel 2")
    assert tapped[0].startswith("[council] Cancelled announcement #2")
    # A late tick under the dropped draft publishes nothing.
    assert await program.say(f"% react council {COUNCIL} ✅") == [
        "[council] That announcement was already confirmed or cancelled."]
    await same_records(program, typed)


async def test_react_in_the_shell_says_who_reacts_and_needs_something_to_react_to(program):
    shell = program.shell
    shell.err = StringIO()
    await shell.feed("% react ✅")
    await shell.feed(f"% react {EVE} ✅")
    await shell.feed("% react eve ✅")
    errors = shell.err.getvalue()
    assert "say who reacts" in errors
    assert f"the bot has asked {EVE} nothing in a DM that a reaction answers" in errors
    assert "write it like `% react @ana:example.org ✅`" in errors


async def test_a_forgotten_mentee_leaves_no_question_behind_and_her_reaction_answers_nothing(program):
    _, c = await planned_checkin(program)
    async with program.db.session() as s:
        row = await answers.latest_for(s, ANA, room_id_of(RoomKind.DM, ANA))
    assert row is not None and row.yes == f"confirm {c.id}"
    await program.say(f"{ANA}> forget me")
    await program.say(f"{ANA}> forget me confirm")
    async with program.db.session() as s:
        left = (await s.exec(select(AnswerableMessage).where(AnswerableMessage.answerer == ANA))).all()
        outbox = (await s.exec(select(OutboxMessage.answers).where(OutboxMessage.answers.contains(ANA)))).all()
    assert left == [] and outbox == []
    result = await program.runtime.react(Reaction(ANA, RoomKind.DM, row.room_id, "$late", row.event_id, "✅"))
    assert result.outcome == "ignored"


async def test_a_tick_after_the_offer_was_answered_by_typing_gets_one_short_note(program):
    await offer_to_bob(program)
    await program.say(f"{BOB}> accept 1")
    before = await program.snapshot()
    assert await program.say(f"% react {BOB} ✅") == [f"[dm {BOB}] That offer was already answered."]
    assert await program.say(f"% react {BOB} ❌") == []
    assert await program.snapshot() == before


async def test_a_message_posted_again_after_a_crash_is_remembered_once(bot):
    # The same transaction sent again is the same event: a reaction under it still finds one question.
    posted = (Sent("!dm:test", "$offer"), answers.offer(7, BOB))
    for _ in range(2):
        async with bot.db.session() as s:
            await answers.remember(s, [posted], bot.clock.now())
            await s.commit()
    async with bot.db.session() as s:
        rows = (await s.exec(select(AnswerableMessage))).all()
    assert [(r.room_id, r.event_id, r.yes, r.no, r.answerer) for r in rows] == [
        ("!dm:test", "$offer", "accept 7", "decline 7", BOB)]
