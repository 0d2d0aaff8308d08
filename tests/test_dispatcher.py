"""The dispatcher's promises: all or nothing per command, and chat is left alone."""

from __future__ import annotations

import pytest

from commands.clock import ManualClock
from commands.dispatcher import Dispatcher
from commands.framework import Arg, CommandError, Registry, RoomKind, Router, Text
from commands.messages import Incoming
from commands.policy import ProgramPolicy
from commands.services import people
from commands.services.errors import DomainError
from tests.conftest import START

ANA = "@ana:example.org"


class Unworded(DomainError):
    """A refusal the message layer has no words for."""


def writing_then_failing_registry() -> Registry:
    router = Router("test", "Test")

    @router.command("rename", args=[Arg("name", Text())], examples=("rename Ana",))
    async def rename(ctx, name: str) -> None:
        """Rename yourself, then fail in the way the name says."""
        person = await ctx.me()
        person.display_name = name
        await ctx.session.flush()  # the change is in the database's transaction now
        ctx.reply("renamed")
        if name == "refuse":
            raise CommandError("refused after writing")
        if name == "crash":
            raise RuntimeError("crashed after writing")
        if name == "unworded":
            raise Unworded()

    registry = Registry()
    registry.include(router)
    return registry


@pytest.mark.parametrize("how,outcome", [("refuse", "refused"), ("crash", "failed"), ("unworded", "failed")])
async def test_a_command_that_fails_after_writing_leaves_no_trace(bot, how, outcome):
    dispatcher = Dispatcher(writing_then_failing_registry(), bot.db, ProgramPolicy(), ManualClock(START))
    assert (await dispatcher.handle(Incoming(ANA, RoomKind.DM, "rename Ana"))).outcome == "ok"
    result = await dispatcher.handle(Incoming(ANA, RoomKind.DM, f"rename {how}"))
    assert result.outcome == outcome
    assert [m.msg.plain() for m in result.messages] != ["renamed"]  # only the refusal or apology is sent
    async with bot.db.session() as session:
        assert (await people.find(session, ANA)).display_name == "Ana"


@pytest.mark.parametrize("text", ["!!! great news", "!", "! ", "!?", "!123 is the room number"])
async def test_chat_that_starts_with_the_prefix_is_not_a_command(demo_bot, text):
    assert (await demo_bot.send("@bob:example.org", text, RoomKind.MENTORS)).outcome == "ignored"


async def test_a_mistyped_subcommand_gets_a_suggestion(demo_bot):
    text = await demo_bot.reply(ANA, "profile languges en")
    assert text == "I don't know `profile languges`. Did you mean `profile languages`?"


async def test_quoted_phrases_in_lists(demo_bot):
    text = await demo_bot.reply(ANA, 'profile interests "event planning" "public speaking"')
    assert "your interests are now event planning, public speaking." in text


@pytest.mark.parametrize("who", ["@Zoë:example.org", "@<b>x</b>:example.org", "@" + "a" * 300 + ":example.org"])
async def test_malformed_matrix_ids_are_refused_and_nobody_is_created(demo_bot, who):
    before = await demo_bot.snapshot()
    text = await demo_bot.reply("@cy:example.org", f"mentor add {who}")
    assert "is not a Matrix ID; write it in full, like @ana:example.org" in text
    assert await demo_bot.snapshot() == before
