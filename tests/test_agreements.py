"""The agreement of a mentorship and its reviews, over a program year, through the shell.

Bob (mentor) takes Ana (mentee) on Monday 2027-01-04; the commitment runs a year. Cy is
on the council; Dana is another mentor. What each person reads is what the shell prints.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from commands.framework import RoomKind
from storage.models import Agreement, AgreementCheck, AgreementState, Goal, GoalState, Mentorship, MentorshipState
from tests.conftest import COUNCIL

ANA, BOB, DANA = "@ana:example.org", "@bob:example.org", "@dana:example.org"
MARK = "Qv7-agreement"
DRAFT = (f"agreement draft goals: give a talk; grow the local team; {MARK}-goal | mentor: a call a month | "
         f"mentee: come with an agenda | contact: video call monthly | cancel: a day ahead | urgent: {MARK}-urgent")


@pytest.fixture
async def program(bot):
    for line in (f"{COUNCIL}> mentor add {BOB} 3", f"{COUNCIL}> mentor add {DANA} 2",
                 f"{BOB}> profile name Bob", f"{ANA}> profile name Ana",
                 f"{ANA}> request help with events"):
        await bot.say(line)
    bot.welcome = await bot.say(f"{BOB}> accept 1")
    return bot


def to(said: list[str], who: str) -> list[str]:
    return [m for m in said if m.startswith(f"[dm {who}]")]


def answer(said: list[str], who: str) -> str:
    """The bot's answer to ``who`` (sent after what it tells the others)."""
    return to(said, who)[-1]


async def agree(bot) -> None:
    await bot.say(f"{ANA}> {DRAFT}")
    await bot.say(f"{BOB}> agreement confirm {ANA}")


async def test_after_a_match_both_are_guided_to_write_the_agreement(program):
    [to_ana] = [m for m in to(program.welcome, ANA) if "Welcome" in m]
    [to_bob] = [m for m in to(program.welcome, BOB) if "Welcome your new mentee" in m]
    for welcome in (to_ana, to_bob):
        assert "agree on the mentee's goals, what each of you commits to, how and how often you talk" in welcome
    assert "`agreement draft ...`" in to_ana
    assert f"`agreement draft {ANA} ...`" in to_bob  # the mentor names the mentee


async def test_one_side_drafts_the_other_confirms_and_its_goals_become_the_mentees(program):
    said = await program.say(f"{ANA}> agreement draft goals: give a talk; grow the local team | urgent: phone")
    assert "Still to write: `mentor:`, `mentee:`, `contact:`, `cancel:`" in said[0]
    assert to(said, BOB) == []  # asked only once it is complete
    said = await program.say(f"{ANA}> agreement draft mentor: a call a month | mentee: an agenda | "
                             "contact: video call monthly | cancel: a day ahead")
    assert "I have asked Bob to confirm it" in answer(said, ANA)
    [ask] = to(said, BOB)
    assert "Ana wrote down your agreement" in ask and "give a talk" in ask and "phone" in ask
    assert f"agreement confirm {ANA}" in ask
    # The one who wrote it cannot confirm it.
    refused = await program.say(f"{ANA}> agreement confirm")
    assert "You wrote this draft, so Bob confirms it" in refused[0]
    said = await program.say(f"{BOB}> agreement confirm {ANA}")
    assert "Your agreement with Ana is confirmed" in answer(said, BOB)
    assert "Bob confirmed your agreement" in to(said, ANA)[0]
    goals = await program.say(f"{ANA}> goals")
    assert "give a talk" in goals[0] and "grow the local team" in goals[0]
    shown = (await program.say(f"{ANA}> agreement"))[0]
    assert "Agreement with Bob, confirmed on 2027-01-04" in shown
    assert "How and how often you talk: video call monthly" in shown
    assert "(in progress)" in shown


async def test_a_change_needs_both_again_and_the_old_agreement_stays_until_then(program):
    await agree(program)
    said = await program.say(f"{BOB}> agreement draft {ANA} contact: a call every two weeks | "
                             "goals: give a talk; mentor a newcomer")
    [ask] = to(said, ANA)
    assert "a call every two weeks" in ask and "agreement confirm" in ask
    shown = (await program.say(f"{ANA}> agreement"))[0]
    assert "video call monthly" in shown and "New draft (waiting to be confirmed)" in shown
    await program.say(f"{ANA}> agreement confirm")
    async with program.db.session() as s:
        states = [a.state for a in (await s.exec(select(Agreement).order_by(Agreement.id))).all()]
        goals = {g.text: g.state for g in (await s.exec(select(Goal))).all()}
    assert states == [AgreementState.REPLACED, AgreementState.CONFIRMED]
    # A goal left out of the new version is dropped; a new one is added; the kept one stays.
    assert goals == {"give a talk": GoalState.OPEN, "grow the local team": GoalState.DROPPED,
                     f"{MARK}-goal": GoalState.DROPPED, "mentor a newcomer": GoalState.OPEN}
    shown = (await program.say(f"{ANA}> agreement"))[0]
    assert "a call every two weeks" in shown and "video call monthly" not in shown


async def test_a_draft_can_be_thrown_away_by_either_side(program):
    await agree(program)
    await program.say(f"{ANA}> agreement draft urgent: call me")
    said = await program.say(f"{BOB}> agreement discard {ANA}")
    assert "The draft is thrown away" in answer(said, BOB) and "Bob threw away the draft" in to(said, ANA)[0]
    assert "No draft waits to be confirmed" in (await program.say(f"{BOB}> agreement confirm {ANA}"))[0]
    assert f"{MARK}-urgent" in (await program.say(f"{ANA}> agreement"))[0]


@pytest.mark.parametrize("line,answer", [
    (f"{ANA}> agreement draft", "Parts is missing"),
    (f"{ANA}> agreement draft |", "Write at least one part"),
    (f"{ANA}> agreement draft we will meet monthly", "I could not read 'we will meet monthly'"),
    (f"{ANA}> agreement draft goals:", "I could not read 'goals:'"),
    (f"{ANA}> agreement confirm", "There is no draft yet"),
    (f"{BOB}> agreement draft goals: x", "Name your mentee"),
    (f"{DANA}> agreement draft {ANA} goals: x", "is not your mentee"),
    (f"{ANA}> agreement works maybe", "Answer with yes or no"),
    (f"{ANA}> agreement works yes", "I ask you both whether your agreement works on 2027-02-03"),
    (f"mentors {BOB}> !agreement {ANA}", "direct message"),
])
async def test_bad_agreement_commands_are_refused_clearly_and_change_nothing(program, line, answer):
    before = await program.snapshot()
    said = await program.say(line)
    assert answer in said[0], said
    after = await program.snapshot()
    assert {k: v for k, v in after.items() if k != "audit_event"} == {k: v for k, v in before.items()
                                                                      if k != "audit_event"}


async def test_a_month_in_both_are_asked_whether_it_works_and_the_answers_are_kept(program):
    await agree(program)
    said = await program.say("% advance 29d")
    assert not [m for m in said if "does your agreement work" in m]
    said = await program.say("% advance 2d")
    assert len(to(said, ANA)) == 1 and "does your agreement work for you?" in to(said, ANA)[0]
    assert "does your agreement work for you?" in to(said, BOB)[0] and f"agreement works {ANA} yes" in to(said, BOB)[0]
    assert not [m for m in said if not m.startswith("[dm")] or all(MARK not in m for m in said)
    assert "noted: your agreement works" in (await program.say(f"{BOB}> agreement works {ANA} yes"))[0]
    said = await program.say(f"{ANA}> agreement works no we should meet more often")
    assert "Thank you, noted" in answer(said, ANA) and "Ana feels your agreement needs a change: we should meet more often" in to(said, BOB)[0]
    shown = (await program.say(f"{COUNCIL}> agreement {ANA}"))[0]
    assert "the mentee: it needs a change (we should meet more often)" in shown and "the mentor: it works" in shown
    # Asked once: a later wake-up asks nothing again.
    said = await program.say("% advance 7d")
    assert not [m for m in said if "does your agreement work" in m]
    async with program.db.session() as s:
        rows = (await s.exec(select(AgreementCheck).order_by(AgreementCheck.id))).all()
    assert [(r.works, r.note) for r in rows] == [(False, "we should meet more often"), (True, None)]


async def test_status_mentees_and_history_show_the_agreement(program):
    assert "Agreement: none yet" in (await program.say(f"{ANA}> status"))[0]
    assert "no agreement yet" in (await program.say(f"{BOB}> mentees"))[0]
    await program.say(f"{ANA}> {DRAFT}")
    assert "Agreement: a draft waits to be confirmed" in (await program.say(f"{ANA}> status"))[0]
    assert "agreement draft to confirm" in (await program.say(f"{BOB}> mentees"))[0]
    await program.say(f"{BOB}> agreement confirm {ANA}")
    assert "Agreement: confirmed on 2027-01-04" in (await program.say(f"{ANA}> status"))[0]
    history = (await program.say(f"{BOB}> history {ANA}"))[0]
    assert "Agreement, confirmed 2027-01-04" in history and f"{MARK}-urgent" in history


async def test_the_year_reviews_goals_and_the_final_review_closes_or_extends(program):
    """Mid-term review proposed at half the commitment, the goals revisited; the final review
    proposed a month before the end; it extends the mentorship; a year on, it closes it."""
    await agree(program)
    async with program.db.session() as s:
        talk, team, marked = [g.id for g in (await s.exec(select(Goal).order_by(Goal.id))).all()]
    said = await program.say("% advance 183d")  # 2027-07-06: half of the year is behind them
    [to_bob] = [m for m in to(said, BOB) if "mid-term review" in m]
    [to_ana] = [m for m in to(said, ANA) if "mid-term review" in m]
    assert "Half of your commitment with Ana is behind you" in to_bob and f"#{talk} give a talk (in progress)" in to_bob
    assert "your mentor will plan a mid-term review with you" in to_ana
    assert not [m for m in said if not m.startswith("[dm") and MARK in m]
    said = await program.say(f"{BOB}> session {ANA} midterm halfway | goals: {talk} reached, {marked} dropped | "
                             "progress: 3-6 | next: book a venue")
    assert f"Goals: #{talk} reached, #{marked} dropped." in answer(said, BOB)
    [shown] = to(said, ANA)
    assert "Bob recorded your mid-term review" in shown and "Reached:\n• give a talk" in shown
    assert "In progress:\n• grow the local team" in shown and f"Dropped:\n• {MARK}-goal" in shown
    assert "Progress: 3 \u2192 6 of 10" in shown and "Next steps: book a venue" in shown
    history = (await program.say(f"{ANA}> history"))[0]
    assert f"goal #{talk} give a talk: reached" in history
    # Asked once, even as the days go by.
    assert not [m for m in await program.say("% advance 20d") if "mid-term review" in m]

    said = await program.say("% advance 135d")  # 2027-12-08: less than 30 days to the end
    [final] = [m for m in to(said, BOB) if "final review" in m]
    assert "Your commitment with Ana ends on 2028-01-04" in final and "| then: extend" in final
    assert any("final review" in m for m in to(said, ANA))
    said = await program.say(f"{BOB}> session {ANA} final a good year | goals: {team} reached | then: extend")
    assert "The commitment goes on; your mentee is told." in answer(said, BOB)
    assert "You go on together until 2029-01-04" in to(said, ANA)[0]
    async with program.db.session() as s:
        m = (await s.exec(select(Mentorship))).one()
    assert m.state is MentorshipState.ACTIVE and f"{m.commitment_ends_at:%Y-%m-%d}" == "2029-01-04"

    said = await program.say("% advance 365d")  # 2028-12-07: less than 30 days to the new end
    assert [m for m in to(said, BOB) if "final review" in m and "2029-01-04" in m]
    assert not [m for m in said if "mid-term review" in m]  # the mid-term is for the first year only
    said = await program.say(f"{BOB}> session {ANA} final all done | then: end")
    assert "The mentorship is complete; your mentee is told." in answer(said, BOB)
    [shown] = [m for m in to(said, ANA) if "final review" in m]
    assert "Reached:\n• give a talk\n• grow the local team" in shown and "your mentorship is complete" in shown
    async with program.db.session() as s:
        m = (await s.exec(select(Mentorship))).one()
    assert m.state is MentorshipState.ENDED


@pytest.mark.parametrize("line,answer", [
    ("session @ana:example.org regular fine | goals: 1 reached", "Goals are revisited in a mid-term or final review"),
    ("session @ana:example.org midterm fine | goals: 99 reached", "Goal #99 is not one of your mentee's goals"),
    ("session @ana:example.org midterm fine | goals: 1 finished", "reached, in progress or dropped"),
    ("session @ana:example.org midterm fine | then: end", "Only a final review ends or extends"),
    ("session @ana:example.org final fine | then: maybe", "`| then: end` to close the mentorship"),
    ("session @ana:example.org final fine | then: extend", "it can be extended from 2027-12-04"),
])
async def test_a_review_that_cannot_be_taken_is_refused_before_anything_is_written(program, line, answer):
    await agree(program)
    before = await program.snapshot()
    said = await program.say(f"{BOB}> {line}")
    assert answer in said[0], said
    after = await program.snapshot()
    assert {k: v for k, v in after.items() if k != "audit_event"} == {k: v for k, v in before.items()
                                                                      if k != "audit_event"}


async def test_the_agreement_is_never_said_outside_the_two_and_the_council(program):
    await agree(program)
    await program.say(f"{ANA}> agreement works no {MARK}-followup")  # not asked yet: refused
    await program.say("% advance 31d")
    await program.say(f"{ANA}> agreement works no {MARK}-followup")
    for line in (f"{DANA}> agreement {ANA}", f"{DANA}> history {ANA}", f"mentors {BOB}> !mentees",
                 f"council {COUNCIL}> !report", f"mentors {BOB}> !agreement {ANA}"):
        await program.say(line)
    await program.say("% advance 190d")  # digests, reports, the mid-term review
    for m in program.outbox.sent:
        if m.target.room is RoomKind.DM and m.target.user_id in (ANA, BOB, COUNCIL):
            continue
        assert MARK not in m.body and MARK not in m.html, (m.target, m.body)
