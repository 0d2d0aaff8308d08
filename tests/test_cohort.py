"""Cohort matching: the council assigns all open requests at once, for the best total fit.

The program here: Bob (skills events, design, writing) and Dana (skill design) are mentors
with one place each; everyone speaks English and lives in the program's time zone. Ana asks
first (events, design), then Eve (events, writing). One at a time, Ana gets Bob (fit 28)
and Eve is left with Dana (fit 8): 36 in all. Together, Ana goes to Dana (18) and Eve to
Bob (28): 46.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from commands.framework import RoomKind
from storage.models import CohortPair, CohortProposal, CohortState, MentorRequest, Mentorship, MentorshipState
from bot.runtime import Runtime
from tests.conftest import COUNCIL, BotHarness, RecordingOutbox

ANA, BOB, DANA, EVE, FINN, GIL = (f"@{n}:example.org" for n in ("ana", "bob", "dana", "eve", "finn", "gil"))


def dms(bot, user: str, since: int = 0) -> list[str]:
    return [m.body for m in bot.outbox.sent[since:] if m.target.room is RoomKind.DM and m.target.user_id == user]


def room(bot, kind: RoomKind, since: int = 0) -> list[str]:
    return [m.body for m in bot.outbox.sent[since:] if m.target.room is kind]


async def answer(bot, sender: str, text: str, where: RoomKind = RoomKind.DM) -> str:
    """The reply to a command that also sends messages elsewhere (offers in mentors' DMs)."""
    result = await bot.send(sender, text, where)
    replies = [m.msg.plain() for m in result.messages
               if m.target.room is where and (where is not RoomKind.DM or m.target.user_id == sender)]
    assert len(replies) == 1, [m.msg.plain() for m in result.messages]
    return replies[0]


async def run(bot, *lines: tuple) -> None:
    for line in lines:
        result = await bot.send(*line)
        assert result.outcome == "ok", (line, result.messages[0].msg.plain() if result.messages else "")


@pytest.fixture
async def program(bot):
    await run(bot,
              (COUNCIL, "mentor add @bob:example.org 1"), (COUNCIL, "mentor add @dana:example.org 1"),
              (BOB, "profile name Bob"), (BOB, "profile skills events, design, writing"),
              (BOB, "profile languages en"),
              (DANA, "profile name Dana"), (DANA, "profile skills design"), (DANA, "profile languages en"),
              (ANA, "profile name Ana"), (ANA, "profile interests events, design"), (ANA, "profile languages en"),
              (EVE, "profile name Eve"), (EVE, "profile interests events, writing"), (EVE, "profile languages en"),
              (ANA, "request help with my first event"), (EVE, "request help with writing a blog"))
    bot.outbox.sent.clear()
    return bot


async def proposal_pairs(bot) -> dict[int, int | None]:
    async with bot.db.session() as s:
        waiting = (await s.exec(select(CohortProposal).where(CohortProposal.state == CohortState.PROPOSED))).one()
        pairs = (await s.exec(select(CohortPair).where(CohortPair.cohort_id == waiting.id))).all()
        return {p.request_id: p.mentor_id for p in pairs}


async def person_id(bot, matrix_id: str) -> int:
    from storage.models import Person

    async with bot.db.session() as s:
        return (await s.exec(select(Person.id).where(Person.matrix_id == matrix_id))).one()


async def test_the_proposal_beats_first_come_first_served_and_shows_both_totals(program):
    shown = await program.reply(COUNCIL, "!cohort", RoomKind.COUNCIL)
    assert "Cohort proposal #1: 2 open requests, 2 free places." in shown
    assert ("Total fit 46.0 with 0 unmatched; one at a time in queue order: 36.0 with 0 unmatched "
            "(+10.0 for the proposal).") in shown
    # The better assignment, each pair with the reasons matching gives.
    assert "#1 Ana \u2192 Dana (shares: design; speaks English; same time zone; 1 of 1 place free), fit 18.0" in shown
    assert "#2 Eve \u2192 Bob (shares: events, writing; speaks English; same time zone; 1 of 1 place free), fit 28.0" in shown
    assert await proposal_pairs(program) == {1: await person_id(program, DANA), 2: await person_id(program, BOB)}
    # Nothing is sent until the council confirms.
    assert [m for m in program.outbox.sent if m.target.room is not RoomKind.COUNCIL] == []
    assert "cohort confirm" in shown


async def test_confirm_sends_the_offers_as_one_at_a_time_does_and_mentors_accept(program):
    await run(program, (COUNCIL, "!cohort", RoomKind.COUNCIL))
    start = len(program.outbox.sent)
    done = await answer(program, COUNCIL, "!cohort confirm", RoomKind.COUNCIL)
    assert "Done: cohort #1 is confirmed. I have offered 1 request to its mentor." in done
    # Eve's request had gone to Bob on arrival: nothing is sent to him again.
    assert "Already offered to the same mentor, so nothing was sent again: #2." in done
    dana = dms(program, DANA, start)
    assert len(dana) == 1 and "Request #1 from Ana may suit you (shares: design; speaks English" in dana[0]
    assert "accept 1" in dana[0] and "They wrote: help with my first event" in dana[0]
    assert dms(program, BOB, start) == ["Request #1 has gone to another mentor, in the council's matching of all "
                                        "open requests; nothing to do."]
    await run(program, (DANA, "accept 1"), (BOB, "accept 2"))
    async with program.db.session() as s:
        ships = {(m.mentee_id, m.mentor_id) for m in (await s.exec(
            select(Mentorship).where(Mentorship.state == MentorshipState.ACTIVE))).all()}
    assert ships == {(await person_id(program, ANA), await person_id(program, DANA)),
                     (await person_id(program, EVE), await person_id(program, BOB))}
    assert "Dana" in dms(program, ANA)[-1] and "Bob" in dms(program, EVE)[-1]


async def test_a_second_confirm_sends_nothing_and_says_why(program):
    await run(program, (COUNCIL, "!cohort", RoomKind.COUNCIL), (COUNCIL, "!cohort confirm", RoomKind.COUNCIL))
    start = len(program.outbox.sent)
    result = await program.send(COUNCIL, "!cohort confirm", RoomKind.COUNCIL)
    assert result.outcome == "refused"
    assert "Cohort #1 was confirmed on 2027-01-04" in result.messages[0].msg.plain()
    assert "nothing is sent twice" in result.messages[0].msg.plain()
    assert len(program.outbox.sent) == start + 1  # the refusal only


async def test_stale_pairs_are_skipped_and_named(program):
    await run(program, (COUNCIL, "!cohort", RoomKind.COUNCIL))
    # Meanwhile Ana withdraws, and Bob's only place is taken by the council.
    await run(program, (ANA, "withdraw"), (FINN, "profile name Finn"), (COUNCIL, f"assign {FINN} {BOB}"))
    start = len(program.outbox.sent)
    done = await answer(program, COUNCIL, "!cohort confirm", RoomKind.COUNCIL)
    assert "I have offered 0 requests to their mentors." in done
    assert "Skipped 2 pairs, as things changed since the proposal:" in done
    assert "#1 \u2192 Dana: withdrawn meanwhile" in done
    assert "#2 \u2192 Bob: the mentor has no free place left" in done
    assert dms(program, DANA, start) == [] and dms(program, BOB, start) == []
    async with program.db.session() as s:
        eve_request = await s.get(MentorRequest, 2)
        assert eve_request.state.value == "proposed"  # untouched by the stale pair


async def test_a_mentor_gone_away_or_who_declined_is_skipped(program):
    await run(program, (COUNCIL, "!cohort", RoomKind.COUNCIL), (DANA, "away in 2 weeks"),
              (BOB, "decline 2"))
    done = await answer(program, COUNCIL, "!cohort confirm", RoomKind.COUNCIL)
    assert "#1 \u2192 Dana: the mentor is away, inactive or off the roster now" in done
    assert "#2 \u2192 Bob: the mentor declined it meanwhile" in done


async def test_capacities_are_respected_and_the_rest_left_unmatched(program):
    await run(program, (FINN, "profile interests design"), (FINN, "request help with posters"),
              (COUNCIL, "mentor add @gil:example.org 2"), (GIL, "profile skills video"))
    shown = await program.reply(COUNCIL, "!cohort", RoomKind.COUNCIL)
    assert "3 open requests, 4 free places" in shown and "0 unmatched" in shown
    pairs = await proposal_pairs(program)
    taken = list(pairs.values())
    assert None not in taken
    for mentor, capacity in ((BOB, 1), (DANA, 1), (GIL, 2)):
        assert taken.count(await person_id(program, mentor)) <= capacity
    # Gil's places go; with Bob full and one place fewer, one request is left over.
    await run(program, (COUNCIL, "mentor remove @gil:example.org"))
    shown = await program.reply(COUNCIL, "!cohort", RoomKind.COUNCIL)
    assert "Cohort proposal #2: 3 open requests, 2 free places." in shown
    assert "with 1 unmatched; one at a time in queue order:" in shown
    assert "Left unmatched (no free place left that may take them): #" in shown
    taken = [m for m in (await proposal_pairs(program)).values() if m is not None]
    assert sorted(taken) == sorted([await person_id(program, BOB), await person_id(program, DANA)])
    async with program.db.session() as s:
        states = [p.state for p in (await s.exec(select(CohortProposal).order_by(CohortProposal.id))).all()]
    assert states == [CohortState.REPLACED, CohortState.PROPOSED]


async def test_offers_a_confirmed_cohort_sent_hold_their_places(program):
    await run(program, (COUNCIL, "!cohort", RoomKind.COUNCIL), (COUNCIL, "!cohort confirm", RoomKind.COUNCIL),
              (FINN, "profile interests design"), (FINN, "request help with posters"))
    result = await program.send(COUNCIL, "!cohort", RoomKind.COUNCIL)
    # Bob and Dana's places are promised to the unanswered offers: nobody is free for Finn.
    assert result.outcome == "refused"
    assert "1 open request waits, but no available mentor has a free place." in result.messages[0].msg.plain()


async def test_cancel_and_friendly_errors(bot):
    assert "There is no cohort proposal yet. Make one with `!cohort`." in await bot.reply(
        COUNCIL, "!cohort confirm", RoomKind.COUNCIL)
    assert "There is no cohort proposal yet." in await bot.reply(COUNCIL, "cohort cancel")
    assert await bot.reply(COUNCIL, "cohort") == ("No open request waits for a mentor, so there is nothing to "
                                                  "propose.")
    await run(bot, (ANA, "request help with events"))
    assert "1 open request waits, but no available mentor has a free place." in await bot.reply(COUNCIL, "cohort")
    await run(bot, (COUNCIL, "mentor add @bob:example.org 2"), (COUNCIL, "cohort"))
    assert "Cohort proposal #1" in await bot.reply(COUNCIL, "cohort show")
    start = len(bot.outbox.sent)
    assert await bot.reply(COUNCIL, "cohort cancel") == "Done: cohort proposal #1 is cancelled; nothing was sent."
    assert len(bot.outbox.sent) == start + 1
    assert "the last, #1, was cancelled" in await bot.reply(COUNCIL, "cohort confirm")


async def test_only_the_council_may_run_a_cohort(program):
    for sender, where in ((BOB, RoomKind.MENTORS), (BOB, RoomKind.DM), (ANA, RoomKind.DM)):
        for text in ("cohort", "cohort confirm", "cohort cancel", "cohort show"):
            result = await program.send(sender, ("!" if where is not RoomKind.DM else "") + text, where)
            assert result.outcome in ("denied", "wrong_room"), (sender, text, result.outcome)
    result = await program.send(COUNCIL, "!cohort", RoomKind.MENTORS)
    assert result.outcome == "wrong_room"
    async with program.db.session() as s:
        assert (await s.exec(select(CohortProposal))).all() == []


async def test_no_mentee_is_named_in_the_mentors_room(program):
    start = len(program.outbox.sent)
    await run(program, (COUNCIL, "!cohort", RoomKind.COUNCIL), (COUNCIL, "!cohort confirm", RoomKind.COUNCIL),
              (DANA, "!accept 1", RoomKind.MENTORS))
    shared = "\n".join(room(program, RoomKind.MENTORS, start))
    for mentee in ("Ana", ANA, "Eve", EVE, "help with my first event", "writing a blog"):
        assert mentee not in shared
    # The council room may see who asked (the rule set's call).
    assert "Ana" in "\n".join(room(program, RoomKind.COUNCIL, start))


async def test_a_proposal_survives_a_restart_and_is_confirmed_later(program):
    await run(program, (COUNCIL, "!cohort", RoomKind.COUNCIL))
    # A bot started afresh on the same database finds the proposal and confirms it.
    outbox = RecordingOutbox()
    later = Runtime(program.runtime.settings, program.clock, outbox)
    await later.start()
    try:
        await later.advance_to(program.clock.now() + timedelta(hours=3), program.clock)
        restarted = BotHarness(later, program.clock, outbox)
        done = await answer(restarted, COUNCIL, "!cohort confirm", RoomKind.COUNCIL)
        assert "Done: cohort #1 is confirmed. I have offered 1 request to its mentor." in done
        assert len(dms(restarted, DANA)) == 1
    finally:
        await later.close()


async def test_a_change_of_mentor_never_goes_back_to_the_mentor_left(program):
    await run(program, (BOB, "accept 2"), (BOB, "profile capacity 2"), (EVE, "change"),
              (COUNCIL, "approve 1"))
    async with program.db.session() as s:
        change = (await s.exec(select(MentorRequest).where(MentorRequest.previous_mentor_id.is_not(None)))).one()
    # Bob fits Eve best and has a free place, but she is moving on from him.
    await run(program, (COUNCIL, "cohort"))
    pairs = await proposal_pairs(program)
    assert pairs[change.id] == await person_id(program, DANA)
    assert pairs[1] == await person_id(program, BOB)


# ---------------------------------------------------------------- the solver against the rule itself


def random_cohort(rng):
    from commands.services.cohort import Giver, Seeker
    from commands.services.matching import Wishes
    from storage.models import Person

    topics, languages, zones = ["events", "design", "code", "video"], ["en", "es", "de"], \
        ["UTC", "America/Lima", "Asia/Kolkata", "Europe/Berlin"]
    givers = []
    for j in range(rng.randint(1, 4)):
        capacity = rng.randint(1, 3)
        load = rng.randint(0, capacity - 1)
        mentor = Person(id=100 + j, matrix_id=f"@m{rng.randint(0, 9)}{j}:example.org", capacity=capacity,
                        active_mentees=load, is_mentor=True)
        givers.append(Giver(mentor, frozenset(rng.sample(topics, rng.randint(0, 3))),
                            tuple(rng.sample(languages, rng.randint(0, 2))), rng.choice(zones), load,
                            capacity - load))
    givers.sort(key=lambda g: g.mentor.matrix_id)
    seekers = []
    for i in range(rng.randint(1, 6)):
        request = MentorRequest(id=i + 1, mentee_id=i + 1, topic="")
        mentee = Person(id=i + 1, matrix_id=f"@e{i}:example.org")
        wishes = Wishes(tuple(rng.sample(topics, rng.randint(0, 2))), tuple(rng.sample(languages, rng.randint(0, 2))),
                        rng.choice(zones))
        excluded = frozenset(g.mentor.id for g in givers if rng.random() < 0.2)
        seekers.append(Seeker(request, mentee, wishes, excluded))
    return seekers, givers


def best_by_hand(seekers, givers, fit):
    """Every assignment tried: the most pairs, then the highest total."""
    best = (0, 0.0)

    def walk(i, taken, count, total):
        nonlocal best
        if i == len(seekers):
            best = max(best, (count, round(total, 6)))
            return
        walk(i + 1, taken, count, total)
        for j, g in enumerate(givers):
            if taken[j] < g.free and g.mentor.id not in seekers[i].excluded:
                taken[j] += 1
                walk(i + 1, taken, count + 1, total + fit(seekers[i], g, g.load + taken[j] - 1))
                taken[j] -= 1
    walk(0, [0] * len(givers), 0, 0.0)
    return best


def test_the_proposal_is_the_best_assignment_and_uses_matchings_own_score():
    import random

    from commands.services import cohort, matching
    from commands.services.matching import Candidate

    now = datetime(2027, 1, 4, 9, 0, tzinfo=timezone.utc)

    def fit(s, g, load):  # the one-at-a-time score, computed the way matching computes it
        return matching.score(s.wishes, Candidate(g.mentor, load, tuple(g.skills), g.languages, g.zone), now).score

    rng = random.Random(7)
    for _ in range(150):
        seekers, givers = random_cohort(rng)
        fits = cohort.Fits(seekers, givers, now)
        plan = cohort.assign_all(fits)
        assert (len(seekers) - plan.unmatched, plan.total) == best_by_hand(seekers, givers, fit)
        for p in plan.pairs:
            if p.giver is not None:
                assert p.fit == fit(p.seeker, p.giver, p.load)
        # One at a time, as matching ranks: the best mentor with a place left, in queue order.
        taken = {g.mentor.id: 0 for g in givers}
        expected = []
        for s in seekers:
            candidates = [Candidate(g.mentor, g.load + taken[g.mentor.id], tuple(g.skills), g.languages, g.zone)
                          for g in givers if taken[g.mentor.id] < g.free and g.mentor.id not in s.excluded]
            ranked = matching.rank(s.wishes, candidates, now)
            if ranked:
                taken[ranked[0].mentor.id] += 1
            expected.append((ranked[0].mentor.id, ranked[0].score) if ranked else None)
        alone = cohort.one_at_a_time(fits)
        assert [(p.giver.mentor.id, p.fit) if p.giver else None for p in alone.pairs] == expected
        assert plan.total >= alone.total or plan.unmatched < alone.unmatched


async def test_a_long_proposal_shows_the_first_pairs_and_counts_the_rest(bot):
    mentors = [f"@coach{n}:example.org" for n in range(6)]
    await run(bot, *((COUNCIL, f"mentor add {m} 5") for m in mentors))
    for n in range(25):
        await run(bot, (f"@newcomer{n}:example.org", "request help to get started"))
    shown = await bot.reply(COUNCIL, "!cohort", RoomKind.COUNCIL)
    assert "Cohort proposal #1: 25 open requests, 30 free places." in shown
    assert len([line for line in shown.splitlines() if line.startswith("• #")]) == 20
    assert "\u2026and 5 more pairs, offered too on confirmation." in shown
    start = len(bot.outbox.sent)
    done = await answer(bot, COUNCIL, "!cohort confirm", RoomKind.COUNCIL)
    # Every request had gone to the first coach on arrival (offers hold no place one at a time);
    # the proposal spreads them, and each that moves is offered once and its first offer called off.
    offers = [m for user in mentors for m in dms(bot, user, start) if "may suit you" in m]
    moved = [m for m in dms(bot, mentors[0], start) if "has gone to another mentor" in m]
    assert len(offers) == len(moved) >= 19 and f"I have offered {len(offers)} requests" in done
    assert "Already offered to the same mentor, so nothing was sent again: #" in done
