"""Recognition: a mentor nominates, the council accepts (with a citation it writes) or declines,
the mentee consents or not, and with their yes the celebration goes to the mentors room and
the forum. The nomination's reason is the council's alone: it never reaches the mentors room,
the forum or the nominee.

The program here: Bob mentors Ana and Gia; Dana is another mentor; Cy is on the council.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from commands.framework import RoomKind
from storage.models import Announcement, Nomination, NominationState
from tests.conftest import COUNCIL, START
from tests.test_announcements import make_bot
from tests.fake_discourse import FakeDiscourse  # noqa: F401 - the type of the `fake` fixture

ANA, BOB, DANA, GIA = (f"@{n}:example.org" for n in ("ana", "bob", "dana", "gia"))
REASON = "Rk4-secret-reason"  # the nomination's reason: a marker only the council may read
CITATION = "Ana ran **three** localisation sprints this spring and welcomed twelve new translators."
TITLE = "Celebrating Ana (recognition #1)"


async def setup(bot) -> None:
    for sender, line in (
        (COUNCIL, "mentor add @bob:example.org 3"), (COUNCIL, "mentor add @dana:example.org 2"),
        (BOB, "profile name Bob"), (ANA, "profile name Ana"), (GIA, "profile name Gia"),
        (ANA, "request help with events"), (BOB, "accept 1"), (GIA, "request help with design"), (BOB, "accept 2"),
        (BOB, f"nominate {ANA} {REASON}: she carried the spring sprints"),
    ):
        result = await bot.send(sender, line)
        assert result.outcome == "ok", (line, result.messages[0].msg.plain())


@pytest.fixture
async def program(bot):
    await setup(bot)
    return bot


@pytest.fixture
async def forum_program(tmp_path, policy, fake):
    bot = await make_bot(tmp_path, policy, fake, seed=False)
    try:
        await setup(bot)
        yield bot
    finally:
        await bot.runtime.close()


def dms(bot, user: str, since: int = 0) -> list:
    return [m for m in bot.outbox.sent[since:] if m.target.room is RoomKind.DM and m.target.user_id == user]


def room(bot, kind: RoomKind, since: int = 0) -> list:
    return [m for m in bot.outbox.sent[since:] if m.target.room is kind]


async def run(bot, sender: str, line: str, where: RoomKind = RoomKind.DM) -> str:
    """A command that must succeed; the reply to its sender (messages to others go first)."""
    result = await bot.send(sender, line, where)
    assert result.outcome == "ok", (line, [m.msg.plain() for m in result.messages])
    [reply] = [m.msg.plain() for m in result.messages
               if m.target.room is where and (where is not RoomKind.DM or m.target.user_id == sender)]
    return reply


async def nomination(bot, number: int = 1) -> Nomination:
    async with bot.db.session() as s:
        return await s.get(Nomination, number)


def never_outside_the_council(bot, fake=None) -> None:
    """The reason reached no room but the council's, no person but the council member, and no forum."""
    for m in bot.outbox.sent:
        if REASON in m.body or REASON in m.html:
            assert m.target.room is RoomKind.COUNCIL or m.target.user_id == COUNCIL, m.target
    if fake is not None:
        assert [p for p in fake.posts if REASON in p.raw] == [] and [t for t in fake.topics if REASON in t.title] == []


# ---------------------------------------------------------------- accepted, and celebrated


async def test_accepted_with_consent_the_celebration_reaches_the_mentors_room_and_one_forum_topic(forum_program,
                                                                                                 fake):
    bot = forum_program
    listing = await bot.reply(COUNCIL, "!nominations", RoomKind.COUNCIL)
    assert f"#1 2027-01-04: Ana by Bob: \u201c{REASON}: she carried the spring sprints\u201d" in listing
    assert "waiting for the council's decision: `!nomination accept 1 <citation>` or `!nomination decline 1`" in listing

    start = len(bot.outbox.sent)
    reply = await run(bot, COUNCIL, f"!nomination accept 1 {CITATION}", RoomKind.COUNCIL)
    assert reply.startswith("Accepted nomination #1. I asked Ana by DM whether they may be celebrated publicly")
    # Ana is asked, and shown exactly what would be published; nothing is published yet.
    [asked] = dms(bot, ANA, start)
    assert asked.notify and asked.body == (
        "🎉 Good news: the council of Test program would like to celebrate you publicly for your work in the "
        "program.\nThis is exactly what would be published in the mentors room and as a topic on the forum:\n"
        f"{TITLE}\n{CITATION}\n"
        "Send `recognition yes 1` to agree, or `recognition no 1` to keep it private. Either answer is fine: "
        "nothing is published without your yes.")
    assert "<strong>three</strong>" in asked.html
    assert room(bot, RoomKind.MENTORS, start) == [] and fake.topics == []
    assert dms(bot, BOB, start) == []  # the mentor hears how it ends, not while the mentee decides
    assert "accepted; waiting for Ana's answer; citation: \u201cAna ran" in await bot.reply(
        COUNCIL, "!nominations", RoomKind.COUNCIL)

    start = len(bot.outbox.sent)
    assert await run(bot, ANA, "recognition yes") == (
        "Thank you! Your celebration goes to the mentors room and the forum now. Congratulations!")
    [topic] = fake.topics_titled(TITLE)
    assert topic.category_id == 5 and fake.first_post(topic).raw.startswith(CITATION)
    link = f"{fake.url}/t/{topic.slug}/{topic.id}"
    [celebration] = room(bot, RoomKind.MENTORS, start)
    assert TITLE in celebration.body and CITATION in celebration.body and "<strong>three</strong>" in celebration.html
    assert link in celebration.body
    # She agreed to the mentors room and the forum: mentors are not offered to pass it on to mentees.
    assert "relay" not in celebration.body
    relayed = await bot.send(BOB, "!relay 1", RoomKind.MENTORS)
    assert relayed.outcome == "refused" and "it is not passed on to mentees" in relayed.messages[0].msg.plain()
    assert [m for m in dms(bot, GIA) if TITLE in m.body] == []
    [told] = dms(bot, BOB, start)
    assert told.notify and told.body.startswith(
        "🎉 Your nomination of Ana (#1) was accepted by the council, and Ana agreed to be celebrated")
    listing = await bot.reply(COUNCIL, "!nominations", RoomKind.COUNCIL)
    assert "accepted, and celebrated with Ana's consent (announcement #1)" in listing

    # Final and idempotent: nothing is published or sent twice, whatever is tried again.
    start = len(bot.outbox.sent)
    again = await bot.send(ANA, "recognition yes 1")
    assert again.outcome == "refused" and again.messages[0].msg.plain() == (
        "You already said yes to recognition #1, and it was published. Your answer is final.")
    decided = await bot.reply(COUNCIL, f"!nomination accept 1 {CITATION}", RoomKind.COUNCIL)
    assert decided == ("Nomination #1 was decided already on 2027-01-04: accepted, and celebrated with Ana's "
                       "consent (announcement #1). A decision is final.")
    await bot.runtime.advance_to(START + timedelta(days=2), bot.clock)
    assert len(fake.topics_titled(TITLE)) == 1
    assert [m for m in bot.outbox.sent[start:] if TITLE in m.body] == []
    never_outside_the_council(bot, fake)


async def test_the_forum_down_delays_the_celebration_and_it_is_posted_once_later(forum_program, fake):
    bot = forum_program
    fake.faults.down = True
    await run(bot, COUNCIL, f"!nomination accept 1 {CITATION}", RoomKind.COUNCIL)
    await run(bot, ANA, "recognition yes")
    assert fake.topics == [] and [m for m in room(bot, RoomKind.MENTORS) if TITLE in m.body] == []  # it waits
    await bot.runtime.advance_to(START + timedelta(hours=1), bot.clock)
    fake.faults.down = False
    await bot.runtime.advance_to(START + timedelta(hours=2), bot.clock)
    assert len(fake.topics_titled(TITLE)) == 1
    assert len([m for m in room(bot, RoomKind.MENTORS) if TITLE in m.body]) == 1
    never_outside_the_council(bot, fake)


async def test_without_a_forum_the_celebration_goes_to_the_mentors_room(program):
    bot = program
    await run(bot, COUNCIL, f"!nomination accept 1 {CITATION}", RoomKind.COUNCIL)
    assert "published in the mentors room:" in dms(bot, ANA)[-1].body  # no forum is promised
    assert await run(bot, ANA, "recognition yes 1") == (
        "Thank you! Your celebration goes to the mentors room now. Congratulations!")
    [celebration] = [m for m in room(bot, RoomKind.MENTORS) if TITLE in m.body]
    assert CITATION in celebration.body
    async with bot.db.session() as s:
        ann = (await s.exec(select(Announcement))).one()
    assert (ann.title, ann.body) == (TITLE, CITATION)
    never_outside_the_council(bot)


# ---------------------------------------------------------------- declined, or kept private


async def test_a_declined_nomination_is_told_to_its_mentor_only_and_is_final(program):
    bot = program
    start = len(bot.outbox.sent)
    assert await run(bot, COUNCIL, "!nomination decline 1", RoomKind.COUNCIL) == (
        "Declined nomination #1 of Ana. The mentor who nominated them is told; the mentee is not.")
    [told] = dms(bot, BOB, start)
    assert told.notify and told.body.startswith(
        "The council has decided not to take your nomination of Ana (#1) further this time.")
    assert dms(bot, ANA, start) == [] and room(bot, RoomKind.MENTORS, start) == []
    for line in ("!nomination decline 1", f"!nomination accept 1 {CITATION}"):
        again = await bot.send(COUNCIL, line, RoomKind.COUNCIL)
        assert again.outcome == "refused"
        assert again.messages[0].msg.plain() == (
            "Nomination #1 was decided already on 2027-01-04: declined by the council. A decision is final.")
    nothing = await bot.send(ANA, "recognition yes")
    assert nothing.outcome == "refused" and nothing.messages[0].msg.plain().startswith("Nothing waits for your answer")
    assert "#1 2027-01-04: Ana by Bob" in (listing := await bot.reply(COUNCIL, "!nominations", RoomKind.COUNCIL))
    assert "declined by the council" in listing
    assert (await nomination(bot)).state is NominationState.DECLINED
    never_outside_the_council(bot)


async def test_a_mentee_who_says_no_is_not_celebrated_and_the_mentor_is_told_without_pressure(program):
    bot = program
    await run(bot, COUNCIL, f"!nomination accept 1 {CITATION}", RoomKind.COUNCIL)
    start = len(bot.outbox.sent)
    assert await run(bot, ANA, "recognition no") == (
        "Understood: nothing is published. The council's recognition stands all the same. Congratulations!")
    [told] = dms(bot, BOB, start)
    assert told.body == (
        "The council accepted your nomination of Ana (#1). Ana chose not to be celebrated publicly, so nothing is "
        "published. That choice is theirs alone, and needs no discussion; the recognition reached them. Thank you "
        "for nominating!")
    assert CITATION not in told.body  # the citation was for publishing, and is not published
    assert room(bot, RoomKind.MENTORS, start) == []
    async with bot.db.session() as s:
        assert (await s.exec(select(Announcement))).all() == []
    changed = await bot.send(ANA, "recognition yes 1")
    assert changed.outcome == "refused" and changed.messages[0].msg.plain() == (
        "You already chose to keep recognition #1 private, and nothing was published. Your answer is final.")
    assert "accepted; Ana chose to keep it private" in await bot.reply(COUNCIL, "!nominations", RoomKind.COUNCIL)
    never_outside_the_council(bot)


async def test_several_celebrations_waiting_ask_which_one(program):
    bot = program
    await run(bot, DANA, f"nominate {ANA} she helped Dana's mentees too")
    await run(bot, COUNCIL, f"!nomination accept 1 {CITATION}", RoomKind.COUNCIL)
    await run(bot, COUNCIL, "!nomination accept 2 Ana helped the mentees of other mentors all spring.",
              RoomKind.COUNCIL)
    which = await bot.send(ANA, "recognition no")
    assert which.outcome == "usage" and which.messages[0].msg.plain() == (
        "Several celebrations wait for your answer (#1, #2): say which, like `recognition yes 1`.")
    await run(bot, ANA, "recognition no 2")
    await run(bot, ANA, "recognition yes")  # only #1 waits now
    assert (await nomination(bot, 1)).state is NominationState.CELEBRATED
    assert (await nomination(bot, 2)).state is NominationState.PRIVATE
    # Dana hears of hers, Bob of his.
    assert any("chose not to be celebrated" in m.body for m in dms(bot, DANA))
    assert any("agreed to be celebrated" in m.body for m in dms(bot, BOB))


# ---------------------------------------------------------------- who may do what, and bad input


async def test_only_the_council_decides_and_only_the_nominee_answers(program):
    bot = program
    before = await bot.snapshot()
    for sender, line, where, outcome in (
        (BOB, f"nomination accept 1 {CITATION}", RoomKind.DM, "denied"),
        (ANA, f"nomination accept 1 {CITATION}", RoomKind.DM, "denied"),
        (BOB, "!nomination decline 1", RoomKind.MENTORS, "denied"),
        (COUNCIL, "!nomination accept 1", RoomKind.MENTORS, "wrong_room"),
        (COUNCIL, "!nominations", RoomKind.MENTORS, "wrong_room"),
        (ANA, "!recognition yes", RoomKind.MENTORS, "wrong_room"),
    ):
        result = await bot.send(sender, line, where)
        assert result.outcome == outcome, (sender, line, [m.msg.plain() for m in result.messages])
    await run(bot, COUNCIL, f"!nomination accept 1 {CITATION}", RoomKind.COUNCIL)
    for who in (GIA, BOB, "@stranger:example.org"):
        for line in ("recognition yes 1", "recognition yes", "recognition no 1"):
            result = await bot.send(who, line)
            assert result.outcome == "refused", (who, line)
            assert "wait" in result.messages[0].msg.plain()
            assert CITATION not in result.messages[0].msg.plain()
    assert (await nomination(bot)).state is NominationState.ACCEPTED
    after = await bot.snapshot()
    assert after["person"] == before["person"]  # a stranger's question stores nobody


@pytest.mark.parametrize("line,outcome,problem", [
    ("!nomination accept 1 Well done.", "usage", "The citation is 10 characters; the forum needs at least 20"),
    (f"!nomination accept 1 {'x' * 1801}", "usage", "at most 1800"),
    ("!nomination accept 1", "usage", "Usage: `nomination accept <nomination> <citation...>`"),
    ("!nomination accept one Ana ran three sprints this spring.", "usage", "'one' is not a whole number"),
    (f"!nomination accept 7 {CITATION}", "refused", "There is no nomination #7. Send `!nominations`"),
    ("!nomination decline", "usage", "For example: `nomination decline 1`"),
    ("!nomination", "unknown", "`!nomination accept`"),
])
async def test_bad_input_is_explained_and_nothing_is_stored(program, line, outcome, problem):
    before = await program.snapshot()
    result = await program.send(COUNCIL, line, RoomKind.COUNCIL)
    assert result.outcome == outcome, [m.msg.plain() for m in result.messages]
    assert problem in result.messages[0].msg.plain()
    assert await program.snapshot() == before


# ---------------------------------------------------------------- forgotten, and one's own data


async def test_a_forgotten_mentee_cannot_be_celebrated(program):
    bot = program
    await run(bot, ANA, "forget me")
    await run(bot, ANA, "forget me confirm")
    refused = await bot.send(COUNCIL, f"!nomination accept 1 {CITATION}", RoomKind.COUNCIL)
    assert refused.outcome == "refused" and refused.messages[0].msg.plain().endswith(
        "withdrawn: the mentee asked to be forgotten. A decision is final.")
    assert (await nomination(bot)).state is NominationState.WITHDRAWN
    assert (await nomination(bot)).reason == ""


async def test_forgetting_after_the_council_accepted_withdraws_the_question(program):
    bot = program
    await run(bot, COUNCIL, f"!nomination accept 1 {CITATION}", RoomKind.COUNCIL)
    await run(bot, ANA, "forget me")
    await run(bot, ANA, "forget me confirm")
    n = await nomination(bot)
    assert (n.state, n.citation, n.reason) == (NominationState.WITHDRAWN, None, "")
    # Whoever writes from her address now is someone new, with nothing to answer.
    again = await bot.send(ANA, "recognition yes 1")
    assert again.outcome == "refused"
    assert [m for m in room(bot, RoomKind.MENTORS) if TITLE in m.body] == []


async def test_consent_and_citation_are_in_mydata_and_forget_me_erases_the_celebration(program):
    bot = program
    await run(bot, COUNCIL, f"!nomination accept 1 {CITATION}", RoomKind.COUNCIL)
    await run(bot, ANA, "recognition yes")
    start = len(bot.outbox.sent)
    await run(bot, ANA, "mydata")
    [message] = dms(bot, ANA, start)
    data = json.loads(next(f.data for f in message.files if f.name.endswith(".json")))
    [mine] = data["nominations_of_you"]
    assert (mine["state"], mine["citation"]) == ("celebrated", CITATION) and mine["answered_at"]
    start = len(bot.outbox.sent)
    await run(bot, BOB, "mydata")
    [message] = dms(bot, BOB, start)
    made = json.loads(next(f.data for f in message.files if f.name.endswith(".json")))["nominations_you_made"]
    assert made == [{"id": 1, "created_at": made[0]["created_at"], "state": "celebrated"}]
    assert CITATION not in json.dumps(made)
    await run(bot, ANA, "forget me")
    await run(bot, ANA, "forget me confirm")
    n = await nomination(bot)
    async with bot.db.session() as s:
        ann = await s.get(Announcement, n.announcement_id)
    assert (n.citation, ann.title, ann.body) == (None, "", "")


async def test_the_export_holds_each_nominations_state_and_citation(program):
    import csv
    import io
    import zipfile

    bot = program
    await run(bot, COUNCIL, f"!nomination accept 1 {CITATION}", RoomKind.COUNCIL)
    start = len(bot.outbox.sent)
    await run(bot, COUNCIL, "export nominations")
    [archive] = [f for m in dms(bot, COUNCIL, start) for f in m.files]
    with zipfile.ZipFile(io.BytesIO(archive.content())) as z:
        [name] = z.namelist()
        [row] = list(csv.DictReader(io.StringIO(z.read(name).decode())))
    assert (row["state"], row["citation"]) == ("accepted", CITATION)
