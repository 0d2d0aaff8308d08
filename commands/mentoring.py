"""Mentorships for mentees and mentors: ask, match, accept, change, end; the coach pool."""

from __future__ import annotations

from commands import conversations as guided
from commands.arguments import MENTEE, OPTIONAL_REASON, REASON, REQUEST, MenteeInHand
from commands.dispatcher import Context
from commands.framework import (
    DM_ONLY,
    EVERYWHERE,
    Arg,
    CommandError,
    MatrixId,
    Role,
    RoomKind,
    Router,
    Text,
    When,
)
from commands.services import agreements, matching, mentorships, people, visibility
from commands.services.visibility import Reader
from commands.words import agreements as agreements_said
from commands.words import mentoring as said

mentee_router = Router("mentee", "Your mentor")
mentor_router = Router("mentor", "Mentoring")

MENTOR_ROOMS = (RoomKind.MENTORS, RoomKind.DM)


# ================================================================ mentees


@mentee_router.command(
    "request",
    args=[Arg("what", Text("what you want help with", max_length=500), optional=True, default="")],
    rooms=DM_ONLY,
    examples=("request I want to organise my first community event", "request"),
)
async def request(ctx: Context, what: str) -> None:
    """Ask for a mentor, saying what you want help with.

    Your profile (languages, time zone, interests) is used to find the mentor who
    fits best; what you write is shown only to the mentors asked and the council.
    `request` alone asks you, one question at a time, what you want help with and
    what your profile still lacks, and sends the request when you say yes.
    """
    what = " ".join(what.split())
    me = await ctx.me()
    if await guided.begin_request(ctx, me, what):
        return
    req, offered = await mentorships.ask_for_mentor(ctx, me, what)
    ctx.reply(said.request_sent(ctx, req, offered, await mentorships.missing_for_matching(ctx.session, me)))


@mentee_router.command("withdraw", rooms=DM_ONLY, examples=("withdraw",))
async def withdraw(ctx: Context) -> None:
    """Take back your open request for a mentor."""
    me = await ctx.me()
    waiting = await mentorships.withdraw(ctx, me)
    ctx.reply(said.withdrawn(ctx, waiting))


@mentee_router.command("status", safe=True, rooms=DM_ONLY, examples=("status",))
async def status(ctx: Context) -> None:
    """Your mentor, since when, until when the commitment runs, where your agreement stands, your open
    request and next check-in."""
    me = ctx.person
    current = mentor = checkin = change = waiting = load = agreement = None
    if me is not None:
        running = await mentorships.active_with_mentor(ctx.session, me.id)
        if running is not None:
            current, mentor = running
            checkin = await mentorships.next_checkin(ctx.session, current.id, ctx.now)
            change = await mentorships.pending_change_of(ctx.session, current.id)
            agreement = agreements_said.status_line(ctx, *await agreements.versions(ctx.session, current.id),
                                                    ctx.zone, "agreement")
        waiting = await mentorships.open_request_of(ctx.session, me.id)
        if me.is_mentor:
            load = await people.active_mentee_count(ctx.session, me.id)
    ctx.reply(said.status(ctx, me, mentorship=current, mentor=mentor, next_checkin=checkin, change_pending=change,
                          request=waiting, load=load, agreement=agreement))


@mentee_router.command(
    "change",
    args=[OPTIONAL_REASON],
    roles=[Role.MENTEE],
    rooms=DM_ONLY,
    examples=("change", "change our time zones make meeting hard"),
)
async def change(ctx: Context, reason: str | None) -> None:
    """Ask for another mentor. A reason is optional and only the council sees it.

    During the commitment the council approves a change, unless your mentor is
    inactive or away for long; after it, the change is yours to make.
    """
    # The mentee hears the answer with the others concerned (the mentor, or the council).
    await mentorships.ask_change(ctx, await ctx.me(), reason or None)


@mentee_router.command(
    "end",
    args=[OPTIONAL_REASON],
    roles=[Role.MENTEE],
    rooms=DM_ONLY,
    examples=("end", "end I have reached my goals"),
)
async def end(ctx: Context, reason: str | None) -> None:
    """End the relationship with your mentor, at any time. A reason is optional; only the council sees it."""
    mentor = await mentorships.end_as_mentee(ctx, await ctx.me(), reason or None)
    ctx.reply(said.ended_by_mentee(ctx, mentor))


# ================================================================ mentors


@mentor_router.command(
    "requests",
    safe=True,
    roles=[Role.MENTOR, Role.COUNCIL],
    rooms=(RoomKind.MENTORS, RoomKind.COUNCIL, RoomKind.DM),
    examples=("requests",),
)
async def requests(ctx: Context) -> None:
    """Open requests for a mentor, each with the best matches and why.

    In a shared room only interests, languages and time zone are shown; in a
    direct message you also see who asked and what they wrote.
    """
    open_ = await mentorships.open_requests(ctx.session)
    if not open_:
        ctx.reply(said.no_open_requests())
        return
    # Who asked and what they wrote are for mentors in a direct message (the rule set's call).
    private = visibility.may_read("mentor_request.topic", {Reader.MENTORS}, ctx.room)
    entries = []
    for r in open_:
        mentee = await mentorships.person_by_id(ctx.session, r.mentee_id)
        wishes = await matching.wishes_of(ctx.session, mentee, ctx.policy)
        matches = await matching.suggest(ctx.session, r, mentee, ctx.now, ctx.policy)
        entries.append((r, mentee, wishes, matches[:mentorships.SUGGESTIONS]))
    total = await mentorships.count_open_requests(ctx.session)
    ctx.reply(said.open_requests(ctx, entries, total, private))


@mentor_router.command(
    "accept",
    args=[REQUEST],
    roles=[Role.MENTOR],
    rooms=MENTOR_ROOMS,
    examples=("accept 1",),
)
async def accept(ctx: Context, request: int) -> None:
    """Take a request: you become the mentee's mentor."""
    req = await mentorships.open_request(ctx, request)
    m = await mentorships.accept(ctx, req, await ctx.me())
    if ctx.room is not RoomKind.DM:
        return  # the room was told the request is taken; the welcome came in a DM
    ctx.reply(said.accepted(await mentorships.person_by_id(ctx.session, m.mentee_id)))


@mentor_router.command(
    "decline",
    args=[REQUEST,
          OPTIONAL_REASON],
    roles=[Role.MENTOR],
    rooms=MENTOR_ROOMS,
    examples=("decline 1", "decline 1 I am short of time this quarter"),
)
async def decline(ctx: Context, request: int, reason: str | None) -> None:
    """Pass on a request; the next best mentor is asked. A reason is optional; only the council sees it."""
    # Whoever is in this room would read the reason: the rule set says where its author may give it.
    if reason and not visibility.may_read("request_decline.reason", {Reader.AUTHOR}, ctx.room):
        raise CommandError(said.reason_confidential(ctx, request))
    req = await mentorships.open_request(ctx, request)
    me = await ctx.me()
    was_offered = req.proposed_to_id == me.id
    await mentorships.decline(ctx, req, me, reason or None)
    ctx.reply(said.declined(request, was_offered))


@mentor_router.command("mentees", safe=True, roles=[Role.MENTOR], rooms=DM_ONLY, examples=("mentees",))
async def mentees(ctx: Context) -> None:
    """Your mentees: since when, until when the commitment runs, and their next check-in."""
    me = await ctx.me()
    rows = await mentorships.mentees_of(ctx.session, me.id)
    if not rows:
        ctx.reply(said.no_mentees(ctx, me))
        return
    ctx.reply(said.mentees(ctx, me, [(m, mentee, await mentorships.next_checkin(ctx.session, m.id, ctx.now))
                                     for m, mentee in rows],
                           await agreements.standing(ctx.session, [m.id for m, _ in rows])))


@mentor_router.command(
    "mentee end",
    args=[MENTEE, OPTIONAL_REASON],
    roles=[Role.MENTOR],
    rooms=DM_ONLY,
    examples=("mentee end @ana:example.org", "mentee end @ana:example.org we agreed our work is done"),
)
async def mentee_end(ctx: Context, mentee: MenteeInHand, reason: str | None) -> None:
    """End your mentorship with a mentee, at any time. A reason is optional; only the council sees it."""
    await mentorships.end(ctx, mentee.mentorship, by=await ctx.me(), reason=reason or None)
    ctx.reply(said.ended_by_mentor(ctx, mentee.person))


@mentor_router.command(
    "away",
    args=[Arg("until", When("until", max_years=1))],
    roles=[Role.MENTOR],
    rooms=MENTOR_ROOMS,
    examples=("away in 3 weeks", "away 2027-08-31"),
)
async def away(ctx: Context, until) -> None:
    """Take no new mentees until a date (holidays, busy times). Requests waiting for you go to the next mentor."""
    moved = await mentorships.go_away(ctx, await ctx.me(), until)
    ctx.reply(said.away(ctx, until, len(moved)))


@mentor_router.command("back", roles=[Role.MENTOR], rooms=MENTOR_ROOMS, examples=("back",))
async def back(ctx: Context) -> None:
    """You are back: new requests may come to you again."""
    if not mentorships.come_back(ctx, await ctx.me()):
        ctx.reply(said.not_away())
        return
    ctx.reply(said.welcome_back())


@mentor_router.command(
    "pool",
    safe=True,
    args=[Arg("skill", Text("skill", max_length=50), optional=True)],
    rooms=EVERYWHERE,
    examples=("pool", "pool public speaking"),
)
async def pool(ctx: Context, skill: str | None) -> None:
    """The coach pool: available mentors by skill, to ask one for a single coaching session."""
    wanted = " ".join((skill or "").lower().split())
    by_skill = await matching.coach_pool(ctx.session, ctx.now, ctx.policy, wanted)
    if not by_skill:
        if wanted:
            raise CommandError(said.no_skill_like(ctx, wanted))
        ctx.reply(said.no_skills_listed())
        return
    ctx.reply(said.coach_pool(ctx, by_skill, wanted))


@mentor_router.command(
    "nominate",
    args=[Arg("mentee", MatrixId()), REASON],
    roles=[Role.MENTOR],
    rooms=MENTOR_ROOMS,
    examples=("nominate @ana:example.org ran three workshops this month",),
)
async def nominate(ctx: Context, mentee: str, reason: str) -> None:
    """Nominate a mentee for recognition (like Rep of the Month); the council sees it."""
    me = await ctx.me()
    person = await mentorships.nominee(ctx, me, mentee)
    ctx.reply(said.nominated(person))  # before the council's copy, which the nomination sends
    await mentorships.nominate(ctx, me, person, reason)
