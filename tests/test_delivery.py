"""Replies are stored with the command that decided them, then delivered once, in order."""

from __future__ import annotations

from datetime import timedelta

from commands.framework import RoomKind
from commands.messages import Incoming, Rendered, RoomUnreachable, SendFailed
from tests.conftest import COUNCIL, START

ANA = "@ana:example.org"


class FlakyOutbox:
    """A transport that is down until told otherwise, or refuses one room for good."""

    def __init__(self) -> None:
        self.down = False
        self.refuse_user: str | None = None
        self.sent: list[tuple[str, str]] = []

    async def send(self, message: Rendered, txn_id: str) -> None:
        if self.down:
            raise SendFailed("homeserver unreachable", retry=True)
        if self.refuse_user is not None and message.target.user_id == self.refuse_user:
            raise SendFailed("M_FORBIDDEN: not in room", retry=False)
        self.sent.append((message.body, txn_id))


async def test_the_same_event_is_answered_once(demo_bot):
    msg = Incoming(sender=ANA, room=RoomKind.DM, text="profile", event_id="$abc")
    first = await demo_bot.runtime.handle(msg)
    second = await demo_bot.runtime.handle(msg)
    assert first.outcome == "ok" and second.outcome == "duplicate"
    assert len(demo_bot.outbox.sent) == 1
    # Refusals and unknown commands count as answered too.
    wrong = Incoming(sender=ANA, room=RoomKind.DM, text="mentors", event_id="$def")
    assert (await demo_bot.runtime.handle(wrong)).outcome == "denied"
    assert (await demo_bot.runtime.handle(wrong)).outcome == "duplicate"
    assert len(demo_bot.outbox.sent) == 2


async def test_messages_wait_while_the_transport_is_down_and_go_out_in_order(demo_bot):
    flaky = FlakyOutbox()
    demo_bot.runtime.outbox = flaky
    flaky.down = True
    await demo_bot.send(ANA, "profile name Ana One")
    await demo_bot.send(ANA, "profile name Ana Two")
    await demo_bot.send(COUNCIL, "mentor add @zoe:example.org")
    assert flaky.sent == []
    flaky.down = False
    assert await demo_bot.runtime.deliver() is True
    bodies = [b for b, _ in flaky.sent]
    assert bodies[:2] == ["Done: I'll call you Ana One.", "Done: I'll call you Ana Two."]
    assert bodies[2].startswith("Done: @zoe:example.org is now a mentor")
    assert bodies[3].startswith("Welcome, you are now a mentor")
    assert bodies[4] == "Please welcome @zoe:example.org, who joins the mentors!"
    assert len({t for _, t in flaky.sent}) == 5  # one transaction id per message
    assert await demo_bot.runtime.deliver() is True
    assert len(flaky.sent) == 5  # nothing sent twice


async def test_a_message_that_can_never_be_sent_does_not_block_the_others(demo_bot):
    flaky = FlakyOutbox()
    demo_bot.runtime.outbox = flaky
    flaky.refuse_user = "@zoe:example.org"
    await demo_bot.send(COUNCIL, "mentor add @zoe:example.org")
    await demo_bot.send(ANA, "profile name Ana")
    assert [b for b, _ in flaky.sent][-1] == "Done: I'll call you Ana."
    assert not any("Welcome" in b for b, _ in flaky.sent)


async def test_a_restart_delivers_what_was_decided_but_not_sent(demo_bot, tmp_path):
    from bot.runtime import Runtime

    flaky = FlakyOutbox()
    flaky.down = True
    demo_bot.runtime.outbox = flaky
    await demo_bot.send(ANA, "profile name Ana Again")
    await demo_bot.runtime.close()
    # A new process on the same database.
    after = FlakyOutbox()
    runtime = Runtime(demo_bot.runtime.settings, demo_bot.clock, after)
    await runtime.start()
    await runtime.deliver()
    assert [b for b, _ in after.sent] == ["Done: I'll call you Ana Again."]
    await runtime.close()


class OneRoomUnreachable(FlakyOutbox):
    """A transport on which the bot is not (yet) in the council room."""

    def __init__(self) -> None:
        super().__init__()
        self.council_reachable = False

    async def send(self, message: Rendered, txn_id: str) -> None:
        if message.target.room is RoomKind.COUNCIL and not self.council_reachable:
            raise RoomUnreachable("M_FORBIDDEN: the bot is not in the room")
        await super().send(message, txn_id)


async def test_messages_for_a_room_that_cannot_be_reached_are_kept_in_order_and_go_later(demo_bot):
    transport = OneRoomUnreachable()
    demo_bot.runtime.outbox = transport
    await demo_bot.send(COUNCIL, "!report", RoomKind.COUNCIL)
    await demo_bot.send(ANA, "profile name Ana Meanwhile")
    await demo_bot.send(COUNCIL, "!queue", RoomKind.COUNCIL)
    # The DM went; the council room's answers wait, neither dropped nor blocking the DM.
    assert [b for b, _ in transport.sent] == ["Done: I'll call you Ana Meanwhile."]
    # Not before their time, even when delivery runs again...
    assert await demo_bot.runtime.deliver() is True
    assert len(transport.sent) == 1
    # ...but once the bot is in the room, in the order they were decided.
    transport.council_reachable = True
    await demo_bot.runtime.release(RoomKind.COUNCIL)
    await demo_bot.runtime.deliver()
    bodies = [b for b, _ in transport.sent]
    assert bodies[1].startswith("Program report") and bodies[2].startswith("The council's queue")


async def test_held_messages_are_tried_again_by_themselves_later(demo_bot):
    transport = OneRoomUnreachable()
    demo_bot.runtime.outbox = transport
    await demo_bot.send(COUNCIL, "!report", RoomKind.COUNCIL)
    transport.council_reachable = True
    demo_bot.clock.advance(timedelta(minutes=2))  # past the first wait of a held message
    await demo_bot.runtime.deliver()
    assert [b.split(" ")[0] for b, _ in transport.sent] == ["Program"]
    # A restart knows what is held, and keeps the order behind it.
    transport.council_reachable = False
    await demo_bot.send(COUNCIL, "!queue", RoomKind.COUNCIL)
    from bot.runtime import Runtime

    await demo_bot.runtime.close()
    after = OneRoomUnreachable()
    after.council_reachable = True
    runtime = Runtime(demo_bot.runtime.settings, demo_bot.clock, after)
    await runtime.start()
    await runtime.deliver()
    assert after.sent == []  # its time has not come
    demo_bot.clock.advance(timedelta(hours=1))
    await runtime.deliver()
    assert [b for b, _ in after.sent][0].startswith("The council's queue")
    await runtime.close()


async def test_an_answer_handled_again_is_sent_with_the_same_transaction_id(demo_bot):
    """If the last commits were lost (a power cut before they reached the disk), the same event
    is handled again after the restart: its answer goes out under the same transaction id,
    which the homeserver recognises, so it is not posted twice."""
    from sqlalchemy import delete

    from storage.models import HandledEvent, OutboxMessage

    msg = Incoming(sender=ANA, room=RoomKind.DM, text="profile", event_id="$lost")
    await demo_bot.runtime.handle(msg)
    first = demo_bot.outbox.txn_ids[-1]
    async with demo_bot.db.session() as s:  # as if that commit never reached the disk
        await s.exec(delete(HandledEvent).where(HandledEvent.event_id == "$lost"))
        await s.exec(delete(OutboxMessage).where(OutboxMessage.txn_id == first))
        await s.commit()
    await demo_bot.runtime.handle(msg)
    assert demo_bot.outbox.txn_ids[-1] == first
    other = Incoming(sender=ANA, room=RoomKind.DM, text="profile", event_id="$other")
    await demo_bot.runtime.handle(other)
    assert demo_bot.outbox.txn_ids[-1] != first  # another event, another id


# ---------------------------------------------------------------- lanes: what someone waits for first


async def _overdue_program(bot, count: int) -> None:
    """``count`` mentorships whose mentees never met their mentor in over a year: the program's
    rules owe each mentor a warning, and the council a list of them (bulk notices)."""
    from storage.models import Mentorship, MentorshipState, Person

    long_ago = START - timedelta(days=400)
    async with bot.db.session() as s:
        mentor = Person(matrix_id="@mo:example.org", display_name="Mo", is_mentor=True, capacity=count)
        s.add(mentor)
        await s.flush()
        for i in range(count):
            mentee = Person(matrix_id=f"@mentee{i}:example.org", display_name=f"Mentee {i}", is_mentee=True)
            s.add(mentee)
            await s.flush()
            s.add(Mentorship(mentee_id=mentee.id, mentor_id=mentor.id, state=MentorshipState.ACTIVE,
                             started_at=long_ago, commitment_ends_at=START + timedelta(days=200)))
        await s.commit()


class Transport(FlakyOutbox):
    """Records what is sent; the first time a bulk notice goes, someone sends a command."""

    def __init__(self, on_first_notice=None) -> None:
        super().__init__()
        self.on_first_notice = on_first_notice

    async def send(self, message: Rendered, txn_id: str) -> None:
        await super().send(message, txn_id)
        if self.on_first_notice is not None and "overdue" in message.body.lower():
            hook, self.on_first_notice = self.on_first_notice, None
            await hook()


async def test_a_reply_does_not_wait_behind_the_programs_bulk_notices(bot):
    from bot.runtime import Runtime

    await _overdue_program(bot, 40)
    runtime = Runtime(bot.runtime.settings, bot.clock, None, deliver_inline=False, db=bot.db)

    async def someone_asks() -> None:
        await runtime.handle(Incoming(sender=ANA, room=RoomKind.DM, text="help", event_id="$help"))

    transport = Transport(someone_asks)
    runtime.outbox = transport
    rules = await runtime.run_rules()
    assert len(rules.messages) == 41  # a warning to the mentor for each, and one to the council
    assert await runtime.deliver() is True
    bodies = [b for b, _ in transport.sent]
    assert len(bodies) == 42
    # The help came while the first notices went out: it is sent next but a few, not 42nd.
    answered = next(i for i, b in enumerate(bodies) if "help" in b.lower() and "overdue" not in b.lower())
    assert answered <= 11, answered
    assert await runtime.deliver() is True and len(transport.sent) == 42  # nothing twice


async def test_after_a_restart_replies_go_before_the_bulk_notices_left_unsent(bot):
    from bot.runtime import Runtime

    await _overdue_program(bot, 60)
    down = FlakyOutbox()
    down.down = True
    bot.runtime.outbox = down
    await bot.runtime.run_rules()  # 61 notices decided, none sent
    await bot.send(ANA, "profile name Ana Waiting")
    await bot.runtime.close()
    after = FlakyOutbox()
    runtime = Runtime(bot.runtime.settings, bot.clock, after)
    await runtime.start()
    assert await runtime.deliver() is True
    bodies = [b for b, _ in after.sent]
    assert bodies[0] == "Done: I'll call you Ana Waiting."
    assert len(bodies) == 62 and len({t for _, t in after.sent}) == 62
    # Every one is noted as sent, with its text gone: nothing goes again, nothing stays.
    from sqlmodel import select

    from storage.models import OutboxMessage

    async with runtime.db.session() as s:
        rows = (await s.exec(select(OutboxMessage))).all()
    assert rows and all(r.sent_at is not None and r.body == "" for r in rows)
    assert await runtime.deliver() is True and len(after.sent) == 62
    await runtime.close()


async def test_a_notice_stored_while_the_table_is_read_is_not_left_behind(bot, monkeypatch):
    """The table is read a page at a time; what is stored while a page is read (another task's
    work, on a database that lets it commit meanwhile) is sent too, not left for a restart."""
    from bot.runtime import Runtime
    from commands.messages import Target
    from commands.services import outbox as stored
    from commands.text import Msg

    await _overdue_program(bot, 120)
    down = FlakyOutbox()
    down.down = True
    bot.runtime.outbox = down
    await bot.runtime.run_rules()  # 121 bulk notices, more than a page of the table
    await bot.runtime.close()
    after = FlakyOutbox()
    runtime = Runtime(bot.runtime.settings, bot.clock, after, deliver_inline=False)
    await runtime.start()
    real, reads = stored.held, []

    async def meanwhile(session, now):
        reads.append(now)
        if len(reads) == 2:  # while the second page is read, more program work is done
            async def job(work) -> None:
                with work.in_bulk():
                    work.send(Target.council(), Msg("A notice decided while the table was read."))
            await runtime.run("more work", job)
        return await real(session, now)

    monkeypatch.setattr(stored, "held", meanwhile)
    assert await runtime.deliver() is True
    bodies = [b for b, _ in after.sent]
    assert len(reads) >= 2 and "A notice decided while the table was read." in bodies
    assert len(bodies) == 122 == len(set(t for _, t in after.sent))
    await runtime.close()
