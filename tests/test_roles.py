"""Roles that cannot be taken: who is on the council, and that nobody decides about themselves.

The demo program: Cy is on the council (named in the configuration); Gia, mentored by
Dana, has asked to change mentor (change request #1); Hana has no mentor.
"""

from __future__ import annotations

from commands.framework import RoomKind
from commands.services import membership, people
from tests.conftest import COUNCIL

DANA, GIA, HANA, BOB = "@dana:example.org", "@gia:example.org", "@hana:example.org", "@bob:example.org"
INA = "@ina:example.org"


async def joins_council_room(bot, user_id: str) -> None:
    async with bot.db.session() as s:
        await membership.joined(s, RoomKind.COUNCIL, user_id, bot.clock.now(), bot.runtime.settings.program)
        await s.commit()


async def test_a_council_member_does_not_decide_about_themselves(demo_bot):
    await joins_council_room(demo_bot, GIA)  # Gia, who asked to change mentor, joins the council
    await joins_council_room(demo_bot, DANA)  # and so does Dana, Gia's mentor
    before = await demo_bot.snapshot()
    for line in ("approve 1", "refuse 1", f"reassign {GIA} {BOB}", f"assign {GIA} {BOB}"):
        answer = await demo_bot.reply(GIA, line)
        assert answer.startswith("This is about you, so another council member must decide it."), (line, answer)
    assert (await demo_bot.reply(DANA, "approve 1")).startswith("This is about you")
    assert await demo_bot.snapshot() == before
    # Another council member can.
    approved = await demo_bot.send(COUNCIL, "approve 1")
    assert approved.messages[-1].msg.plain().startswith("Done: change request #1 approved.")
    # A council member cannot make themselves anyone's mentor either.
    await demo_bot.send(COUNCIL, f"mentor add {INA}")
    await joins_council_room(demo_bot, INA)
    assert (await demo_bot.reply(INA, f"assign {HANA} {INA}")).startswith("This is about you")
    assert (await demo_bot.send(COUNCIL, f"assign {HANA} {INA}")).outcome == "ok"


async def test_the_council_removes_a_member_even_one_the_configuration_names(demo_bot):
    await joins_council_room(demo_bot, INA)
    listing = await demo_bot.reply(COUNCIL, "council")
    assert listing.startswith("The council (2).")
    assert f"{COUNCIL} (named in the configuration)" in listing and INA in listing
    # Ina removes Cy, whom the configuration names: his rights end at once, for good.
    result = await demo_bot.send(INA, f"council remove {COUNCIL}")
    assert result.messages[0].msg.plain().startswith("Done: Cy is no longer on the council")
    assert "Also take them out of [program] council in the configuration." in result.messages[0].msg.plain()
    assert result.messages[1].target.user_id == COUNCIL and result.messages[1].notify
    assert (await demo_bot.reply(COUNCIL, "queue")).startswith("Sorry, `queue` is only for council members.")
    # Neither the configuration nor being in the council room gives them back.
    await joins_council_room(demo_bot, COUNCIL)
    async with demo_bot.db.session() as s:
        cy = await people.find(s, COUNCIL)
        assert not people.is_council(COUNCIL, cy, demo_bot.runtime.settings.program)
    # The last member cannot be removed: the program needs a council.
    assert (await demo_bot.reply(INA, f"council remove {INA}")).startswith(f"{INA} is the only council member")
    # Strangers and mentors cannot remove anyone.
    assert (await demo_bot.reply(BOB, f"council remove {INA}")).startswith("Sorry, `council remove` is only for")
    # `council add` lets Cy back; he is in the council room, so his rights are back at once.
    assert (await demo_bot.reply(INA, f"council add {COUNCIL}")).endswith("is on the council again.")
    assert (await demo_bot.reply(COUNCIL, "queue")).startswith("The council's queue")
    # Someone never removed is told where council rights come from.
    assert (await demo_bot.reply(COUNCIL, f"council add {HANA}")).startswith(
        "Council rights come from the council room")


async def test_council_rights_follow_the_council_room_as_it_is_at_start(demo_bot):
    await joins_council_room(demo_bot, INA)
    assert (await demo_bot.reply(INA, "queue")).startswith("The council's queue")
    # The bot starts with another council room (its configuration changed, or the room was
    # upgraded), where Ina is not: her rights from the old room go.
    async with demo_bot.db.session() as s:
        await membership.reconcile(s, RoomKind.COUNCIL, {"@jo:example.org"}, set(), demo_bot.clock.now(),
                                   demo_bot.runtime.settings.program)
        await s.commit()
    assert (await demo_bot.reply(INA, "queue")).startswith("Sorry, `queue` is only for council members.")
    assert (await demo_bot.reply("@jo:example.org", "queue")).startswith("The council's queue")
    # Cy is named in the configuration: that stays.
    assert (await demo_bot.reply(COUNCIL, "queue")).startswith("The council's queue")


async def test_a_room_open_to_anyone_gives_no_role_at_start(demo_bot):
    async with demo_bot.db.session() as s:
        await membership.reconcile(s, RoomKind.MENTORS, {"@walkin:example.org", BOB}, set(),
                                   demo_bot.clock.now(), demo_bot.runtime.settings.program, grant=False)
        await s.commit()
    assert (await demo_bot.reply("@walkin:example.org", "mentees")).startswith("Sorry, `mentees` is only for")
    assert (await demo_bot.reply(BOB, "mentees")).startswith("Your mentees")  # a mentor before stays one


async def test_a_removal_from_the_council_outlives_the_persons_erasure(demo_bot):
    await joins_council_room(demo_bot, INA)
    await demo_bot.send(INA, f"council remove {COUNCIL}")  # Cy, whom the configuration names
    await demo_bot.send(COUNCIL, "forget me")
    assert (await demo_bot.send(COUNCIL, "forget me confirm")).outcome == "ok"
    # Erased, and back under the same Matrix ID: still not on the council.
    assert (await demo_bot.reply(COUNCIL, "queue")).startswith("Sorry, `queue` is only for council members.")
    # The council can let him back.
    assert (await demo_bot.reply(INA, f"council add {COUNCIL}")).endswith("is on the council again.")
    assert (await demo_bot.reply(COUNCIL, "queue")).startswith("The council's queue")
