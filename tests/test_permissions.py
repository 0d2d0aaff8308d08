"""Every declared command, for every role and every room kind, does what its declaration says."""

from __future__ import annotations

import pytest

from commands import build_registry
from commands.framework import Role, RoomKind
from commands.services import membership
from tests.conftest import COUNCIL

REGISTRY = build_registry()
PEOPLE = {
    "stranger": "@stranger:example.org",
    "mentee": "@ana:example.org",
    "mentor": "@bob:example.org",
    "council": COUNCIL,
}
ROLES_OF = {
    "stranger": {Role.ANYONE},
    "mentee": {Role.ANYONE, Role.MENTEE},
    "mentor": {Role.ANYONE, Role.MENTOR},
    "council": {Role.ANYONE, Role.COUNCIL},
}


def typed(name: str, room: RoomKind) -> str:
    return name if room is RoomKind.DM else f"!{name}"


@pytest.mark.parametrize("command", REGISTRY.commands, ids=lambda c: c.name)
async def test_every_role_and_room_gets_what_the_declaration_says(demo_bot, command):
    # The demo program has Ana as a mentee, Bob as a mentor and Cy on the council.
    for who, sender in PEOPLE.items():
        for room in RoomKind:
            # A name may mean another command in another room (confirm: a check-in in a DM,
            # an announcement in the council room): the declaration for this room decides.
            declared = REGISTRY.pick(command, room, ROLES_OF[who])
            before = await demo_bot.snapshot()
            result = await demo_bot.send(sender, typed(declared.name, room), room)
            replies = [m.msg.plain() for m in result.messages]
            if room is RoomKind.OTHER:
                # No command runs outside the program's rooms and private DMs: one pointer to
                # a DM a day, then silence; nothing changes.
                assert result.outcome in ("outside", "ignored"), (who, declared.name, replies)
                assert all(r.startswith("I don't answer in this room") for r in replies), replies
                assert await demo_bot.snapshot() == before
                continue
            assert replies, f"{who} in {room.value} got no answer to {declared.name}"
            if not declared.allows_role(ROLES_OF[who]):
                assert result.outcome == "denied", (who, room, replies)
                assert f"only for {declared.who()}" in replies[0]
            elif not declared.allows_room(room):
                assert result.outcome == "wrong_room", (who, room, replies)
                assert "please send it there" in replies[0]
            else:
                assert result.outcome in ("ok", "usage", "refused"), (who, room, replies)
                if any(not a.optional for a in declared.args):
                    assert result.outcome == "usage" and "Usage:" in replies[0], replies
            if result.outcome != "ok":
                assert await demo_bot.snapshot() == before, f"refused {declared.name} changed data"
            # The answer goes back where the question was asked.
            assert result.messages[0].target.room is room


EXAMPLES = [(c, e) for c in REGISTRY.commands for e in c.examples]
# Examples that fit another person of the demo than the usual one of their role:
# Hana has no mentor yet (so she may ask for one); Finn has an open request.
EXAMPLE_SENDERS = {"request": "@hana:example.org", "withdraw": "@finn:example.org", "feedback": "@ana:example.org",
                   "extend": "@dana:example.org", "agreement draft": "@ana:example.org",
                   "agreement works": "@ana:example.org",
                   "coaching cancel": "@hana:example.org", "group join": "@finn:example.org",
                   "group decline": "@finn:example.org", "group leave": "@gia:example.org"}
# Examples that follow another command, as their help says.
EXAMPLE_AFTER = {"forget me confirm": "forget me", "council add": "council remove @ina:example.org",
                 "cohort show": "cohort", "cohort confirm": "cohort", "cohort cancel": "cohort"}
# Examples about a nomination: Bob nominates Ana (#1); answering needs the council to accept it first.
NOMINATED = [("@bob:example.org", "nominate @ana:example.org ran three workshops this month")]
ACCEPTED = NOMINATED + [(COUNCIL, "nomination accept 1 Ana ran three workshops for new Reps this month.")]
EXAMPLE_SETUP = {"nomination accept": NOMINATED, "nomination decline": NOMINATED, "recognition yes": ACCEPTED,
                 "recognition no": ACCEPTED}
# Examples about a second council member: Ina, in the council room for them.
WITH_A_SECOND_COUNCIL_MEMBER = {"council remove", "council add"}


def test_every_command_has_an_example():
    assert [c.name for c in REGISTRY.commands if not c.examples] == []


@pytest.mark.parametrize("command,example", EXAMPLES, ids=[e for _, e in EXAMPLES])
async def test_every_example_in_help_works(demo_bot, command, example):
    sender = EXAMPLE_SENDERS.get(command.name) or (PEOPLE["council"] if Role.COUNCIL in command.roles else (
        PEOPLE["mentor"] if Role.MENTOR in command.roles else PEOPLE["mentee"]
    ))
    room = RoomKind.DM if RoomKind.DM in command.rooms else sorted(command.rooms)[0]
    if command.name in WITH_A_SECOND_COUNCIL_MEMBER:
        async with demo_bot.db.session() as session:
            await membership.joined(session, RoomKind.COUNCIL, "@ina:example.org", demo_bot.clock.now(),
                                    demo_bot.runtime.settings.program)
            await session.commit()
    if command.name in EXAMPLE_AFTER:
        await demo_bot.send(sender, typed(EXAMPLE_AFTER[command.name], room), room)
    for who, line in EXAMPLE_SETUP.get(command.name, ()):
        assert (await demo_bot.send(who, line)).outcome == "ok", line
    result = await demo_bot.send(sender, typed(example, room), room)
    assert result.outcome == "ok", (example, [m.msg.plain() for m in result.messages])


@pytest.mark.parametrize(
    "command", [c for c in REGISTRY.commands if c.args and not c.args[-1].type.greedy], ids=lambda c: c.name
)
async def test_extra_words_after_the_last_argument_are_a_usage_error(demo_bot, command):
    sender = PEOPLE["council"] if Role.COUNCIL in command.roles else (
        PEOPLE["mentor"] if Role.MENTOR in command.roles else PEOPLE["mentee"])
    room = RoomKind.DM if RoomKind.DM in command.rooms else sorted(command.rooms)[0]
    example = command.examples[-1]
    result = await demo_bot.send(sender, typed(f"{example} unexpected-extra", room), room)
    assert result.outcome == "usage"
    assert "unexpected-extra" in result.messages[0].msg.plain()
