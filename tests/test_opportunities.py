"""Opportunities: a mentor shares a training, an event or an introduction with their mentees,
the council with every mentee who lists an interest; each mentee gets it once, lists the open
ones, and they expire after their day.

The program here: Bob (mentor, Europe/Madrid) mentors Ana (America/Lima) and Gia; Dana
(mentor) mentors Hana. Ana and Hana list the interest localisation. Cy is on the council.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from commands.framework import RoomKind
from storage.models import Opportunity, OpportunityRecipient, Person
from tests.conftest import COUNCIL, START

ANA, BOB, DANA, GIA, HANA = (f"@{n}:example.org" for n in ("ana", "bob", "dana", "gia", "hana"))
ANA_NAME = "Ana Qv7-name"  # a marker: who received what never reaches a shared room
WORKSHOP = "https://example.org/workshop"
SHARE = f"opportunity {ANA} training 2027-03-10 18:00 | {WORKSHOP} | Facilitation workshop"
SPRINT = "opportunity interest localisation event 2027-02-12 | https://example.org/sprint | Translation sprint"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
async def program(bot):
    for sender, line in (
        (COUNCIL, "mentor add @bob:example.org 3"), (COUNCIL, "mentor add @dana:example.org 2"),
        (BOB, "profile timezone Europe/Madrid"), (BOB, "profile name Bob"),
        (ANA, "profile timezone America/Lima"), (ANA, f"profile name {ANA_NAME}"),
        (ANA, "profile interests Localisation, events"), (HANA, "profile interests localisation"),
        (GIA, "profile interests design"),
        (ANA, "request help with events"), (BOB, "accept 1"),
        (GIA, "request help with design"), (BOB, "accept 2"),
        (HANA, "request help with translation"), (DANA, "accept 3"),
    ):
        result = await bot.send(sender, line)
        assert result.outcome == "ok", (line, result.messages[0].msg.plain())
    bot.outbox.sent.clear()
    return bot


def dms(bot, user: str, since: int = 0) -> list:
    return [m for m in bot.outbox.sent[since:] if m.target.room is RoomKind.DM and m.target.user_id == user]


def shared_rooms(bot, since: int = 0) -> str:
    return "\n".join(m.body + m.html for m in bot.outbox.sent[since:] if m.target.room is not RoomKind.DM)


async def run(bot, sender: str, line: str, room: RoomKind = RoomKind.DM) -> str:
    """Send a command that must succeed; returns the reply to the sender (the messages it sends to
    others go first)."""
    result = await bot.send(sender, line, room)
    assert result.outcome == "ok", (line, [m.msg.plain() for m in result.messages])
    [reply] = [m.msg.plain() for m in result.messages
               if m.target.room is room and (room is not RoomKind.DM or m.target.user_id == sender)]
    return reply


async def recipients(bot) -> list[tuple[int, str]]:
    async with bot.db.session() as s:
        rows = (await s.exec(select(OpportunityRecipient.opportunity_id, Person.matrix_id)
                             .join(Person, Person.id == OpportunityRecipient.person_id)
                             .order_by(OpportunityRecipient.id))).all()
    return [tuple(r) for r in rows]


# ---------------------------------------------------------------- a mentor shares


async def test_a_mentor_shares_with_a_mentee_who_notices_it_and_lists_it(program):
    bot = program
    start = len(bot.outbox.sent)
    reply = await run(bot, BOB, SHARE)
    assert reply.startswith("Shared opportunity #1 (training Facilitation workshop on Wed 2027-03-10 18:00 "
                            f"(Europe/Madrid)) with {ANA_NAME} by DM.")
    [dm] = dms(bot, ANA, start)
    # A DM she notices, read in her own zone: 18:00 in Madrid is 12:00 in Lima.
    assert dm.notify and dm.body.startswith(
        "🎓 Your mentor Bob shares an opportunity with you: training Facilitation workshop on "
        "Wed 2027-03-10 12:00 (America/Lima)")
    assert f"Link: {WORKSHOP}" in dm.body and f'href="{WORKSHOP}"' in dm.html
    assert dms(bot, GIA, start) == [] and shared_rooms(bot, start) == ""
    async with bot.db.session() as s:
        o = (await s.exec(select(Opportunity))).one()
    assert o.happens_at == utc(2027, 3, 10, 17, 0) and o.timezone == "Europe/Madrid" and not o.all_day
    assert o.expires_at == utc(2027, 3, 10, 23, 0)  # the end of that day in Madrid
    listing = await bot.reply(ANA, "opportunities")
    assert listing.startswith("1 open opportunity (soonest first)")
    assert f"#1 training Facilitation workshop on Wed 2027-03-10 12:00 (America/Lima), from Bob: {WORKSHOP}" in listing
    assert await bot.reply(GIA, "opportunities") == (
        "You have no open opportunities. Your mentor or the council shares them with you by DM.")


async def test_each_mentee_gets_an_opportunity_once_whatever_is_retried_or_shared_again(program):
    bot = program
    await run(bot, BOB, SHARE)
    start = len(bot.outbox.sent)
    again = await run(bot, BOB, SHARE)  # the same command, sent again
    assert again.startswith("Nothing was sent: everyone you named has opportunity #1 already")
    # All his mentees: only Gia is new; a second description does not make a second opportunity.
    wider = await run(bot, BOB, f"opportunity mentees training 2027-03-10 18:00 | {WORKSHOP} | The workshop")
    assert wider.startswith("Shared opportunity #1 (training Facilitation workshop on Wed 2027-03-10 18:00 "
                            "(Europe/Madrid)) with @gia:example.org by DM. 1 had it already.")
    assert "It was shared before with another description, which is kept." in wider
    assert [len(dms(bot, who, start)) for who in (ANA, GIA)] == [0, 1]
    assert "Facilitation workshop" in dms(bot, GIA, start)[0].body
    assert await recipients(bot) == [(1, ANA), (1, GIA)]
    # The council shares the same event with everyone interested in it: Ana has it, Hana is new.
    # Mentees list interests as they like: the council's word is compared as profiles store it.
    start = len(bot.outbox.sent)
    by_interest = await run(bot, COUNCIL, f"!opportunity interest LOCALISATION training 2027-03-10 18:00 | "
                                          f"{WORKSHOP} | Workshop", RoomKind.COUNCIL)
    assert by_interest.startswith("Shared opportunity #1") and "with 1 mentee by DM. 1 had it already." in by_interest
    assert [len(dms(bot, who, start)) for who in (ANA, GIA, HANA)] == [0, 0, 1]
    assert await recipients(bot) == [(1, ANA), (1, GIA), (1, HANA)]


async def test_the_database_itself_refuses_a_second_delivery_to_the_same_mentee(program):
    bot = program
    await run(bot, BOB, SHARE)
    async with bot.db.session() as s:
        row = (await s.exec(select(OpportunityRecipient))).one()
        s.add(OpportunityRecipient(opportunity_id=row.opportunity_id, person_id=row.person_id,
                                   shared_by_id=row.shared_by_id, created_at=START))
        with pytest.raises(IntegrityError):
            await s.commit()


# ---------------------------------------------------------------- the council, by interest


async def test_the_council_shares_by_interest_and_no_room_learns_who_received_it(program):
    bot = program
    start = len(bot.outbox.sent)
    reply = await run(bot, COUNCIL, f"!{SPRINT}", RoomKind.COUNCIL)
    assert reply.startswith("Shared opportunity #1 (event Translation sprint on Fri 2027-02-12) with 2 mentees by DM.")
    assert [len(dms(bot, who, start)) for who in (ANA, HANA, GIA)] == [1, 1, 0]
    assert dms(bot, ANA, start)[0].body.startswith(
        "🎓 An opportunity from the council of Test program, for mentees interested in it: event Translation sprint "
        "on Fri 2027-02-12")
    # The council room hears a count; no room hears a name, and the mentors room nothing at all.
    shared = shared_rooms(bot, start)
    assert [w for w in (ANA_NAME, ANA, HANA, "hana", "Ana") if w in shared] == []
    assert [m for m in bot.outbox.sent[start:] if m.target.room is RoomKind.MENTORS] == []
    # In a DM the council is told no more.
    other = await run(bot, COUNCIL, "opportunity interest events introduction 2027-02-20 | https://example.org/intro"
                                    " | Meet the events team")
    assert "with 1 mentee by DM" in other and ANA_NAME not in other and ANA not in other


async def test_an_interest_nobody_lists_is_explained_and_nothing_is_stored(program):
    before = await program.snapshot()
    reply = await program.reply(COUNCIL, "!opportunity interest locali event 2027-02-12 | https://example.org/s | "
                                         "Sprint", RoomKind.COUNCIL)
    assert reply.startswith("No mentee lists the interest 'locali'; nothing was sent. Interests mentees list that "
                            "look like it: localisation.")
    assert "For example: `opportunity interest localisation event" in reply
    assert await program.snapshot() == before


# ---------------------------------------------------------------- expiry


async def test_opportunities_expire_after_their_day_over_months(program):
    bot = program
    await run(bot, BOB, f"opportunity {ANA} event 2027-03-01 | https://example.org/march | Spring meetup")
    await run(bot, BOB, f"opportunity {ANA} training 2027-07-15 | https://example.org/july | Summer school")
    await run(bot, BOB, f"opportunity {ANA} introduction today | https://example.org/today | Meet Lea, a translator")
    listing = await bot.reply(ANA, "opportunities")
    assert listing.startswith("3 open opportunities")
    # A bare date is its whole day, as the one who shared it reads it (Madrid): today is not past.
    assert listing.index("Meet Lea") < listing.index("Spring meetup") < listing.index("Summer school")
    await bot.runtime.advance_to(utc(2027, 1, 4, 23, 30), bot.clock)  # past midnight in Madrid
    assert "Meet Lea" not in await bot.reply(ANA, "opportunities")
    await bot.runtime.advance_to(utc(2027, 3, 1, 12, 0), bot.clock)  # two months on: its day has come
    assert "Spring meetup" in await bot.reply(ANA, "opportunities")
    await bot.runtime.advance_to(utc(2027, 4, 1, 9, 0), bot.clock)
    listing = await bot.reply(ANA, "opportunities")
    assert listing.startswith("1 open opportunity") and "Spring meetup" not in listing and "Summer school" in listing
    # Nothing over is sent again: its date is in the past now.
    before = await bot.snapshot()
    late = await bot.send(BOB, f"opportunity mentees event 2027-03-01 | https://example.org/march | Spring meetup")
    assert late.outcome == "usage" and "is in the past" in late.messages[0].msg.plain()
    assert await bot.snapshot() == before
    await bot.runtime.advance_to(utc(2027, 8, 1, 9, 0), bot.clock)
    assert (await bot.reply(ANA, "opportunities")).startswith("You have no open opportunities.")


# ---------------------------------------------------------------- permissions and bad input


async def test_a_mentor_shares_only_with_their_own_mentees_and_only_in_a_direct_message(program):
    bot = program
    before = await bot.snapshot()
    other = await bot.send(DANA, SHARE)
    assert other.outcome == "refused"
    assert other.messages[0].msg.plain() == f"{ANA_NAME} is not your mentee. Send `mentees` to see yours."
    stranger = await bot.send(BOB, SHARE.replace(ANA, "@nobody:example.org"))
    assert stranger.outcome == "refused" and "is not your mentee" in stranger.messages[0].msg.plain()
    assert (await bot.send(ANA, SHARE.replace(ANA, GIA))).outcome == "denied"  # a mentee shares nothing
    assert (await bot.send(BOB, f"!{SHARE}", RoomKind.MENTORS)).outcome == "wrong_room"
    assert (await bot.send(BOB, f"!{SPRINT}", RoomKind.MENTORS)).outcome == "denied"  # by interest: the council's
    nobody = await bot.send(DANA, "opportunity mentees event 2027-02-12 | https://example.org/x | Call")
    assert nobody.outcome == "ok"  # Dana has Hana
    assert await recipients(bot) == [(1, HANA)]
    await run(bot, COUNCIL, "mentor add @ivo:example.org 1")
    empty = await bot.send("@ivo:example.org", "opportunity mentees event 2027-02-12 | https://example.org/x | Call")
    assert empty.outcome == "refused"
    assert empty.messages[0].msg.plain() == "You have no mentees now, so there is nobody to share it with."
    after = await bot.snapshot()
    # `mentor add` wrote Ivo's row, its audit and his set-up conversation; nothing else changed.
    added = ("opportunity", "opportunity_recipient", "audit_event", "person", "conversation")
    assert {k: v for k, v in after.items() if k not in added} == {k: v for k, v in before.items() if k not in added}


@pytest.mark.parametrize("line,problem", [
    (f"opportunity {ANA} training 2027-03-10 | ftp://example.org/w | Workshop", "'ftp://example.org/w' is not a web link"),
    (f"opportunity {ANA} training 2027-03-10 | example.org/w | Workshop", "give one that starts with https://"),
    (f"opportunity {ANA} training 2027-03-10 | https://localhost/w | Workshop", "is not a web link"),
    (f"opportunity {ANA} training 2027-03-10 | https://exa mple.org | Workshop", "is not a web link"),
    (f"opportunity {ANA} training 2027-03-10 | {WORKSHOP}", "give the date, the link and what it is"),
    (f"opportunity {ANA} training 2027-03-10 | {WORKSHOP} |", "say in a few words what it is"),
    (f"opportunity {ANA} training yesterday | {WORKSHOP} | Workshop", "is in the past"),
    (f"opportunity {ANA} training 03/04/2027 | {WORKSHOP} | Workshop", "could be read two ways"),
    (f"opportunity {ANA} training someday soon | {WORKSHOP} | Workshop", "I can't read 'someday soon' as a date"),
    (f"opportunity {ANA} training 2027-02-30 | {WORKSHOP} | Workshop", "2027-02-30"),
    (f"opportunity {ANA} training in 5 years | {WORKSHOP} | Workshop", "more than 2 years ahead"),
    (f"opportunity {ANA} training {WORKSHOP} | 2027-03-10 | Workshop", "date | link | what"),
    (f"opportunity {ANA} webinar 2027-03-10 | {WORKSHOP} | Workshop", "'webinar' is not one of: training, event"),
    (f"opportunity ana training 2027-03-10 | {WORKSHOP} | Workshop", "'ana' is neither a mentee's Matrix ID"),
    (f"opportunity {ANA} training 2027-03-10 | https://example.org/{'x' * 1000} | Workshop", "the link is longer"),
    (f"opportunity {ANA} training 2027-03-10 | {WORKSHOP} | {'w' * 301}", "say it in at most 300"),
])
async def test_bad_input_gets_a_friendly_error_with_an_example_and_nothing_is_stored(program, line, problem):
    before = await program.snapshot()
    result = await program.send(BOB, line)
    reply = result.messages[0].msg.plain()
    assert result.outcome == "usage", reply
    assert problem in reply
    assert "For example: `opportunity @ana:example.org training 2027-03-10 | https://example.org/workshop" in reply
    assert await program.snapshot() == before
    assert dms(program, ANA) == []


async def test_the_same_link_and_day_shared_as_another_kind_is_refused(program):
    await run(program, BOB, SHARE)
    reply = await program.reply(BOB, SHARE.replace("training", "event", 1))
    assert reply == "That link on that day is opportunity #1 already, shared as `training`; share it as `training` too."


# ---------------------------------------------------------------- what the council sees, and the person's data


async def test_the_council_sees_how_many_were_shared_in_its_report(program):
    bot = program
    bot.clock.advance(timedelta(hours=1))
    await run(bot, BOB, "opportunity mentees training 2027-03-10 | https://example.org/a | Workshop")
    await run(bot, COUNCIL, f"!{SPRINT}", RoomKind.COUNCIL)
    bot.clock.advance(timedelta(minutes=1))
    report = await bot.reply(COUNCIL, "!report", RoomKind.COUNCIL)
    assert "• Opportunities shared with mentees: 4" in report  # Ana and Gia; then Ana and Hana
    for name in (ANA_NAME, "Hana", "Gia", ANA):
        assert name not in report
    start = await _to_next_month(bot)
    [monthly] = [m.body for m in bot.outbox.sent[start:] if m.target.room is RoomKind.COUNCIL]
    assert "Program report for January 2027" in monthly and "• Opportunities shared with mentees: 4" in monthly
    later = await bot.reply(COUNCIL, "!report", RoomKind.COUNCIL)
    assert "• Opportunities shared with mentees: 0" in later  # February so far


async def _to_next_month(bot) -> int:
    start = len(bot.outbox.sent)
    await bot.runtime.advance_to(utc(2027, 2, 1, 12, 0), bot.clock)
    return start


async def test_mydata_holds_the_opportunities_shared_with_and_by_a_person(program):
    import json

    bot = program
    await run(bot, BOB, SHARE)
    start = len(bot.outbox.sent)
    await run(bot, ANA, "mydata")
    [message] = dms(bot, ANA, start)
    data = json.loads(next(f.data for f in message.files if f.name.endswith(".json")))
    [got] = data["opportunities_for_you"]
    assert (got["kind"], got["what"], got["url"]) == ("training", "Facilitation workshop", WORKSHOP)
    start = len(bot.outbox.sent)
    await run(bot, BOB, "mydata")
    [message] = dms(bot, BOB, start)
    data = json.loads(next(f.data for f in message.files if f.name.endswith(".json")))
    assert [o["what"] for o in data["opportunities_you_shared"]] == ["Facilitation workshop"]
    assert data["opportunities_for_you"] == []
