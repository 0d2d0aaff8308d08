"""Confidential mentoring data never leaves the people it belongs to.

Unique markers go into every confidential field: session notes (outcome, next
steps, remarks), reviews, the agreement and its follow-up, diary, goals, feedback, what
a mentee wrote in a request, and the reasons for a decline, a change of mentor and an end. Then a whole program year runs on the
shell's clock, with the program's rules, digests and reports, council
announcements on the forum and the forum relay. No marker may appear in a message
to the mentors room or the council room, in anything posted to Discourse, or in
the logs. DMs to the people concerned are where the texts belong, and the council
reads them on request (``history``, ``feedbacks``) in a DM, as the program's
rules allow.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from commands.framework import RoomKind
from commands.languages import catalog
from tests.conftest import COUNCIL
from tests.test_announcements import make_bot

MARK = "SECRET-7Q"
ANA, BOB, DANA, FINN = "@ana:example.org", "@bob:example.org", "@dana:example.org", "@finn:example.org"


@pytest.mark.parametrize("program_language,readers", [
    ("en", {}),
    # The same year in other languages: a German program, Ana reading Polish and Bob Spanish.
    ("de", {ANA: "polski", BOB: "español"}),
], ids=["english", "german-polish-spanish"])
async def test_no_confidential_text_reaches_a_shared_room_the_forum_or_the_logs_in_a_year(
    tmp_path, policy, fake, caplog, program_language, readers
):
    caplog.set_level(logging.INFO)  # the most the bot logs (`mentorbot run -v`)
    policy.language = program_language
    bot = await make_bot(tmp_path, policy, fake, seed=False)
    try:
        for who, language in readers.items():
            assert (await bot.send(who, f"profile language {language}")).outcome == "ok"
        async def step(sender, text, room=RoomKind.DM):
            result = await bot.send(sender, text, room)
            assert result.outcome == "ok", (text, [m.msg.plain() for m in result.messages])

        async def advance(days):
            await bot.runtime.advance_to(bot.clock.now() + timedelta(days=days), bot.clock)

        await bot.runtime.poll_relay()
        for line in ((COUNCIL, "mentor add @bob:example.org 3"), (COUNCIL, "mentor add @dana:example.org 2"),
                     (ANA, f"request help with events {MARK}-topic"), (BOB, "accept 1"),
                     (FINN, "request public speaking")):
            await step(*line)
        await step(BOB, f"decline 2 {MARK}-decline")
        await step(ANA, f"diary {MARK}-diary")
        await step(ANA, f"goals add {MARK}-goal")
        await step(BOB, "checkin @ana:example.org tomorrow 16:00")
        await advance(2)
        await step(BOB, f"session @ana:example.org orientation {MARK}-outcome | next: {MARK}-next | "
                        f"remarks: {MARK}-remarks")
        await step(ANA, f"agreement draft goals: {MARK}-agreed-goal | mentor: {MARK}-mentor | mentee: {MARK}-mentee "
                        f"| contact: {MARK}-contact | cancel: {MARK}-cancel | urgent: {MARK}-urgent")
        await step(BOB, "agreement confirm @ana:example.org")
        # A nomination is written for the council room, where its reason is read: not a marker.
        await step(BOB, "nominate @ana:example.org she ran her first event")
        await step(ANA, f"change {MARK}-change")
        await step(COUNCIL, "!announce all The spring training for the whole program | See you **there**, all of you.",
                   RoomKind.COUNCIL)
        await step(COUNCIL, "!confirm 1", RoomKind.COUNCIL)
        fake.add_topic("A question from a mentor here", "How do you keep notes private?", username="dana")
        await bot.runtime.poll_relay()
        await advance(30)  # a month in: does the agreement work?
        await step(ANA, f"agreement works no {MARK}-followup")
        await advance(130)  # the mid-term review
        await step(BOB, f"session @ana:example.org midterm {MARK}-review | goals: 1 reached, 2 in progress")
        await step(ANA, f"feedback {MARK}-well | {MARK}-better")
        await advance(200)
        await step(ANA, f"end {MARK}-end")
        await advance(10)
        # The council reads what the rules allow it to, on request, in a DM.
        assert MARK in (await bot.send(COUNCIL, "feedbacks")).messages[0].msg.plain()
        assert MARK in (await bot.send(COUNCIL, "history @ana:example.org")).messages[0].msg.plain()

        shared = [m for m in bot.outbox.sent if m.target.room is not RoomKind.DM]
        def said(template: str, **parts) -> str:  # a sentence as the shared rooms read it
            return catalog(program_language).gettext(template).format(**parts).split("{")[0]

        weekly = said("Weekly digest, week of {day}", day="{")
        forum = said("💬 New on the forum: {title} by {author}", title="{", author="")
        announced = said("📣 Announcement #{number} from the council, for {audience}: {title}", number=1,
                         audience="{", title="")
        assert min(len(weekly), len(forum), len(announced)) > 5, (weekly, forum, announced)
        assert len(shared) > 20 and any(weekly in m.body for m in shared)
        assert any(forum in m.body for m in shared) and any(announced in m.body for m in shared)
        leaks = [m.body for m in shared if MARK in m.body + m.html]
        assert leaks == []
        assert fake.posts and all(MARK not in p.raw and MARK not in p.topic.title for p in fake.posts)
        assert MARK not in caplog.text
        # The texts were kept, for the people they belong to.
        assert f"{MARK}-diary" in (await bot.send(ANA, "diary")).messages[0].msg.plain()
    finally:
        await bot.runtime.close()
