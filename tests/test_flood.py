"""Floods: one person's burst never holds up another's answer, and beyond a budget nothing runs.

How long the second person waits on a real homeserver is measured in bench/fairness.py.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from bot.flood import Budget, FairQueue, Item
from commands.framework import RoomKind
from commands.messages import Incoming
from commands.policy import FloodPolicy
from storage.models import DiaryEntry, HandledEvent

ANA, HANA, BOB = "@ana:example.org", "@hana:example.org", "@bob:example.org"


async def test_people_are_served_in_turn_and_each_in_their_own_order():
    queue = FairQueue()
    done: list[str] = []

    def item(label: str) -> Item:
        async def run() -> None:
            done.append(label)
        return Item(run)

    for n in range(5):
        queue.put("flood", item(f"flood {n}"))
    queue.put("ana", item("ana 0"))
    queue.put("ana", item("ana 1"))
    queue.put("bob", item("bob 0"))
    while queue.size:
        _, [taken] = await queue.get()
        await taken.run()
    assert done == ["flood 0", "ana 0", "bob 0", "flood 1", "ana 1", "flood 2", "flood 3", "flood 4"]


def test_the_budget_allows_a_burst_then_a_steady_pace():
    now = [0.0]
    budget = Budget(FloodPolicy(commands_per_minute=60, command_burst=3), clock=lambda: now[0])
    assert [budget.take("ana") for _ in range(4)] == [True, True, True, False]
    assert budget.take("bob")  # everyone has their own
    now[0] += 1.0  # a second later: one more
    assert budget.take("ana") and not budget.take("ana")
    now[0] += 60.0  # a quiet minute fills it again, no further than the burst
    assert [budget.take("ana") for _ in range(4)] == [True, True, True, False]


async def test_a_flood_is_skipped_with_one_notice_and_does_not_delay_anyone_else(demo_bot):
    runtime = demo_bot.runtime
    runtime.settings.limits = FloodPolicy(commands_per_minute=1, command_burst=5)
    runtime.budget = Budget(runtime.settings.limits)
    flood = [Incoming(ANA, RoomKind.DM, f"diary flood {n}", event_id=f"$flood{n}") for n in range(30)]
    for incoming in flood:
        assert runtime.submit_message(incoming)
    assert runtime.submit_message(Incoming(HANA, RoomKind.DM, "profile", event_id="$hana"))
    # Chat in a shared room is not for the bot: nothing is queued, no budget is spent.
    assert not runtime.submit_message(Incoming(BOB, RoomKind.MENTORS, "good morning", event_id="$chat"))
    before = len(demo_bot.outbox.sent)
    stopping = asyncio.Event()
    serving = asyncio.create_task(runtime.serve_queue(stopping))
    while runtime.queue.size:
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    stopping.set()
    await serving
    sent = demo_bot.outbox.sent[before:]
    # Hana's answer came second: after Ana's first command, not after Ana's thirty.
    assert sent[1].target.user_id == HANA and sent[1].body.startswith("Your profile")
    to_ana = [m.body for m in sent if m.target.user_id == ANA]
    assert [b for b in to_ana if b.startswith("Written in your diary")] == to_ana[:5]
    assert len(to_ana) == 6 and to_ana[5].startswith("You are sending me commands faster than I can take them")
    async with demo_bot.db.session() as s:
        diary = (await s.exec(select(DiaryEntry.text).where(DiaryEntry.text.like("flood%")))).all()
        handled = (await s.exec(select(HandledEvent.event_id).where(HandledEvent.event_id.like("$flood%")))).all()
    assert sorted(diary) == [f"flood {n}" for n in range(5)]  # what was skipped never ran
    assert len(handled) == 30  # and never will: each is recorded as handled
    # The same events again (a sync taken twice, a restart) change nothing and say nothing.
    assert (await runtime.handle(flood[20])).outcome == "duplicate"
    assert (await runtime.skip(flood[10:15])).outcome == "duplicate"
    # Another flood within minutes is skipped without a second notice.
    runtime.budget = Budget(FloodPolicy(commands_per_minute=1, command_burst=1))
    more = [Incoming(ANA, RoomKind.DM, f"diary again {n}", event_id=f"$again{n}") for n in range(3)]
    assert (await runtime.skip(more)).messages == []


async def test_asking_and_withdrawing_over_and_over_stops_notifying_mentors(demo_bot):
    offers = 0
    for round_ in range(5):
        result = await demo_bot.send(HANA, f"request help with design, round {round_}")
        offered = [m for m in result.messages if m.target.room is RoomKind.DM and m.target.user_id != HANA]
        shared = [m for m in result.messages if m.target.room is RoomKind.MENTORS]
        offers += len(offered)
        if round_ >= 3:  # the fourth request of the day waits quietly in the list
            assert not offered and not shared
            assert "several times today" in result.messages[0].msg.plain()
        if round_ < 4:
            withdrawn = await demo_bot.send(HANA, "withdraw")
            # A mentor who was asked hears of the withdrawal; after the third, nobody was asked.
            assert len(withdrawn.messages) == (2 if round_ < 3 else 1)
    assert offers == 3
    # The last one is still in the list mentors look at (and goes to the council in time).
    number = result.messages[0].msg.plain().split("#")[1].split(" ")[0]
    assert f"#{number}" in await demo_bot.reply(BOB, "requests")
    # A day later, a request is offered at once again.
    await demo_bot.send(HANA, "withdraw")
    demo_bot.clock.advance(timedelta(days=1, minutes=1))
    result = await demo_bot.send(HANA, "request help with design, the next day")
    assert any(m.target.room is RoomKind.DM and m.target.user_id != HANA for m in result.messages)
