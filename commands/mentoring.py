"""Mentorships for mentees and mentors: ask, match, accept, change, end; the coach pool."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import select

from commands import text
from commands.dispatcher import Context
from commands.framework import (
    DM_ONLY,
    EVERYWHERE,
    Arg,
    CommandError,
    Integer,
    MatrixId,
    Role,
    RoomKind,
    Router,
    Text,
    When,
)
from commands.messages import Target
from commands.services import audit, matching, mentorships, people, visibility
from commands.services.visibility import Reader
from commands.services.mentorships import day, who
from commands.text import Msg, bold, lines
from storage.models import (
    ChangeRequest,
    ChangeState,
    CheckIn,
    MentorRequest,
    Mentorship,
    MentorshipState,
    Nomination,
    Person,
    PersonTag,
    RequestDecline,
    RequestState,
    TagKind,
)

mentee_router = Router("mentee", "Your mentor")
mentor_router = Router("mentor", "Mentoring")

MENTOR_ROOMS = (RoomKind.MENTORS, RoomKind.DM)
CHECKIN_NAMES = {"orientation": "orientation session", "followup": "follow-up", "regular": "check-in",
                 "midterm": "mid-term review", "final": "final session"}


def checkin_line(checkin: CheckIn | None, ctx: Context) -> str:
    if checkin is None:
        return "none planned"
    return f"{CHECKIN_NAMES.get(checkin.kind.value, 'check-in')}, due {day(checkin.due_at, ctx.zone)}"


async def known_person(ctx: Context, matrix_id: str, role: str) -> Person:
    person = await people.find(ctx.session, matrix_id)
    if person is None:
        raise CommandError(Msg(text.person(matrix_id), f" is not someone I know as a {role}."))
    return person


async def request_by_number(ctx: Context, number: int) -> MentorRequest:
    request = await ctx.session.get(MentorRequest, number)
    if request is None:
        raise CommandError(Msg(f"There is no request #{number}. Send ", ctx.cmd("requests"), " to see the open ones."))
    if request.state not in (RequestState.OPEN, RequestState.PROPOSED, RequestState.ESCALATED):
        raise CommandError(Msg(f"Request #{number} is closed ({request.state.value}). Send ", ctx.cmd("requests"),
                               " to see the open ones."))
    return request


# ================================================================ mentees


@mentee_router.command(
    "request",
    args=[Arg("what", Text("what you want help with", max_length=500))],
    rooms=DM_ONLY,
    examples=("request I want to organise my first community event",),
)
async def request(ctx: Context, what: str) -> None:
    """Ask for a mentor, saying what you want help with.

    Your profile (languages, time zone, interests) is used to find the mentor who
    fits best; what you write is shown only to the mentors asked and the council.
    """
    what = " ".join(what.split())
    if not what:
        raise CommandError(Msg("Tell me what you want help with, for example: ",
                               ctx.cmd("request I want to organise my first community event")))
    me = await ctx.me()
    current = await mentorships.active_of(ctx.session, me.id)
    if current is not None:
        mentor = await mentorships.person_by_id(ctx.session, current.mentor_id)
        raise CommandError(Msg("You already have a mentor, ", who(mentor), ". To change, send ",
                               ctx.cmd("change [reason]"), "; to see where things stand, ", ctx.cmd("status"), "."))
    waiting = await mentorships.open_request_of(ctx.session, me.id)
    if waiting is not None:
        raise CommandError(Msg(f"Your request #{waiting.id} is still open. Send ", ctx.cmd("status"),
                               " to see it, or ", ctx.cmd("withdraw"), " to take it back."))
    propose = await mentorships.may_notify_mentors(ctx.session, me, ctx.now)
    req = await mentorships.create_request(ctx, me, what, propose=propose)
    tags = await people.tags(ctx.session, me.id)
    deadline = day(req.escalate_at or ctx.now, ctx.zone)
    if req.proposed_to_id:
        found = Msg("I have asked a mentor who fits; I will tell you as soon as a mentor accepts.")
    elif not propose:
        found = Msg("You have asked for a mentor several times today, so I have not asked a mentor directly this "
                    "time: it waits in the list of open requests that mentors look at.")
    else:
        found = Msg("No mentor with a free place fits right now, so it waits for the next one.")
    missing = [name for name, present in (("interests", tags[TagKind.INTEREST]), ("languages", tags[TagKind.LANGUAGE]),
                                          ("timezone", me.timezone)) if not present]
    tip = None
    if missing:
        tip = Msg("Tip: a match is better with your ", ", ".join(missing), " in your profile, e.g. ",
                  ctx.cmd(f"profile {missing[0]} {'Europe/Berlin' if missing[0] == 'timezone' else 'events, en'}"), ".")
    ctx.reply(lines(
        Msg(bold(f"Thanks! Your request #{req.id} is in."), " ", found),
        Msg(f"If nobody takes it by {deadline}, the council finds you a mentor."),
        tip,
    ))


@mentee_router.command("withdraw", rooms=DM_ONLY, examples=("withdraw",))
async def withdraw(ctx: Context) -> None:
    """Take back your open request for a mentor."""
    me = await ctx.me()
    waiting = await mentorships.open_request_of(ctx.session, me.id)
    if waiting is None:
        raise CommandError(Msg("You have no open request. Send ", ctx.cmd("status"), " to see where things stand."))
    await mentorships.withdraw(ctx, waiting, me)
    ctx.reply(Msg(f"Done: request #{waiting.id} is withdrawn. Ask again any time with ",
                  ctx.cmd("request <what you want help with>"), "."))


@mentee_router.command("status", rooms=DM_ONLY, examples=("status",))
async def status(ctx: Context) -> None:
    """Your mentor, since when, until when the commitment runs, your open request and next check-in."""
    me = ctx.person
    rows: list[Msg | None] = []
    if me is not None:
        current = await mentorships.active_of(ctx.session, me.id)
        if current is not None:
            mentor = await mentorships.person_by_id(ctx.session, current.mentor_id)
            rows += [
                Msg(bold("Your mentor: "), who(mentor), f", since {day(current.started_at, ctx.zone)}"),
                Msg(f"Commitment until {day(current.commitment_ends_at, ctx.zone)}"),
                Msg("Next check-in: ", checkin_line(await mentorships.next_checkin(ctx.session, current.id), ctx)),
            ]
            change = await mentorships.pending_change_of(ctx.session, current.id)
            if change is not None:
                rows.append(Msg(f"Your request to change mentor (#{change.id}) is with the council, "
                                f"since {day(change.created_at, ctx.zone)}."))
        waiting = await mentorships.open_request_of(ctx.session, me.id)
        if waiting is not None:
            stage = {
                RequestState.OPEN: "waiting for a mentor with a free place",
                RequestState.PROPOSED: "a mentor has been asked",
                RequestState.ESCALATED: "with the council, who will find you a mentor",
            }[waiting.state]
            noun = "for a new mentor" if waiting.previous_mentor_id else "for a mentor"
            rows.append(Msg(f"Your request #{waiting.id} {noun}, since {day(waiting.created_at, ctx.zone)}: {stage}."))
        if me.is_mentor:
            load = await people.active_mentee_count(ctx.session, me.id)
            away = (f"; away until {day(me.away_until, ctx.zone)}" if me.away_until and me.away_until > ctx.now else "")
            rows.append(Msg(bold("As a mentor: "), f"{load} of {me.capacity} mentees{away}. Send ",
                            ctx.cmd("mentees"), " for the list."))
    if not rows:
        rows = [Msg("You have no mentor and no open request. Ask for one with ",
                    ctx.cmd("request <what you want help with>"), ".")]
    ctx.reply(lines(*rows))


@mentee_router.command(
    "change",
    args=[Arg("reason", Text("reason", max_length=1000), optional=True)],
    roles=[Role.MENTEE],
    rooms=DM_ONLY,
    examples=("change", "change our time zones make meeting hard"),
)
async def change(ctx: Context, reason: str | None) -> None:
    """Ask for another mentor. A reason is optional and only the council sees it.

    During the commitment the council approves a change, unless your mentor is
    inactive or away for long; after it, the change is yours to make.
    """
    me = await ctx.me()
    current = await mentorships.active_of(ctx.session, me.id)
    if current is None:
        raise CommandError(Msg("You have no mentor to change. Ask for one with ",
                               ctx.cmd("request <what you want help with>"), "."))
    if await mentorships.pending_change_of(ctx.session, current.id) is not None:
        raise CommandError("Your request to change mentor is already with the council; I will tell you their answer.")
    waiting = await mentorships.open_request_of(ctx.session, me.id)
    if waiting is not None:
        raise CommandError(Msg(f"I am already looking for a new mentor for you (request #{waiting.id}). Send ",
                               ctx.cmd("status"), " to see it."))
    mentor = await mentorships.person_by_id(ctx.session, current.mentor_id)
    free = mentorships.change_is_free(current, mentor, ctx.now, ctx.policy)
    change_request = ChangeRequest(mentorship_id=current.id, reason=reason or None, created_at=ctx.now)
    ctx.session.add(change_request)
    await ctx.session.flush()
    audit.record(ctx.session, at=ctx.now, actor=me, entity="change", entity_id=change_request.id,
                 action="requested", to_state=ChangeState.PENDING.value)
    if free:
        new_request = await mentorships.approve_change(ctx, change_request, None)
        ctx.reply(Msg(
            f"Done: as {free}, you can change mentor without the council. I am looking for a new mentor "
            f"(request #{new_request.id}); ", who(mentor), " stays your mentor until one takes over.",
        ))
        ctx.send(Target.dm(mentor.matrix_id), Msg(
            who(me), " has asked for another mentor. You remain their mentor until a new one takes over; "
            "I will tell you when that happens.",
        ))
        return
    ctx.reply(Msg(
        f"Your request to change mentor (#{change_request.id}) is with the council, as you are within the "
        f"commitment (until {day(current.commitment_ends_at, ctx.zone)}). I will tell you their answer.",
        " Your reason is seen by the council only." if reason else "",
    ))
    program_zone = ZoneInfo(ctx.policy.timezone)
    ctx.send(Target.council(), Msg(
        bold(f"Change request #{change_request.id}"), ": ", who(me), " asks to change from ", who(mentor),
        f" (mentorship since {day(current.started_at, program_zone)}, committed until "
        f"{day(current.commitment_ends_at, program_zone)}). Decide with ",
        ctx.typed(f"approve {change_request.id}", RoomKind.COUNCIL), " or ",
        ctx.typed(f"refuse {change_request.id} [note]", RoomKind.COUNCIL), ".",
        Msg(" A reason was given; see it in a DM with ", ctx.typed("queue", RoomKind.DM), ".") if reason else "",
    ), notify=True)


@mentee_router.command(
    "end",
    args=[Arg("reason", Text("reason", max_length=1000), optional=True)],
    roles=[Role.MENTEE],
    rooms=DM_ONLY,
    examples=("end", "end I have reached my goals"),
)
async def end(ctx: Context, reason: str | None) -> None:
    """End the relationship with your mentor, at any time. A reason is optional; only the council sees it."""
    me = await ctx.me()
    current = await mentorships.active_of(ctx.session, me.id)
    if current is None:
        waiting = await mentorships.open_request_of(ctx.session, me.id)
        hint = Msg(" To take back your request, send ", ctx.cmd("withdraw"), ".") if waiting else Msg()
        raise CommandError(Msg("You have no mentor right now, so there is nothing to end.", hint))
    mentor = await mentorships.person_by_id(ctx.session, current.mentor_id)
    await mentorships.end(ctx, current, by=me, reason=reason or None)
    ctx.reply(Msg("Done: your mentorship with ", who(mentor), " has ended; they have been told (without any reason). ",
                  "Thank you for taking part! Ask for a mentor again any time with ",
                  ctx.cmd("request <what you want help with>"), "."))


# ================================================================ mentors


@mentor_router.command(
    "requests",
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
        ctx.reply("No open requests: every mentee who asked has a mentor.")
        return
    # Who asked and what they wrote are for mentors in a direct message (the rule set's call).
    private = visibility.may_read("mentor_request.topic", {Reader.MENTORS}, ctx.room)
    rows: list[Msg] = []
    for r in open_:
        mentee = await mentorships.person_by_id(ctx.session, r.mentee_id)
        summary = await mentorships.request_summary(ctx.session, r, mentee, ctx.policy)
        stage = {RequestState.OPEN: "waiting", RequestState.PROPOSED: "asked a mentor",
                 RequestState.ESCALATED: "with the council"}[r.state]
        head = Msg(bold(f"#{r.id}"), f" ({stage}, since {day(r.created_at, ctx.zone)}): ")
        if private and r.previous_mentor_id:
            head += Msg(who(mentee), " is changing mentor; ")
        elif private:
            head += Msg(who(mentee), " wrote \u201c", r.topic, "\u201d; ")
        matches = await matching.suggest(ctx.session, r, mentee, ctx.now, ctx.policy)
        best = (text.join((Msg(who(m.mentor), f" ({m.reason()})") for m in matches[:mentorships.SUGGESTIONS]), "; ")
                if matches else Msg("no mentor with a free place fits"))
        rows.append(Msg("• ", head, summary.plain(), ". Suggested: ", best))
    total = await mentorships.count_open_requests(ctx.session)
    more = Msg(f"(showing the first {len(open_)} of {total})") if total > len(open_) else None
    footer = Msg("Take one with ", ctx.cmd("accept <number>"), ".")
    if not private:
        footer += Msg(" Send ", ctx.typed("requests", RoomKind.DM), " to me directly to see what each mentee wrote.")
    ctx.reply(lines(bold(f"Open requests ({total})"), *rows, more, footer))


@mentor_router.command(
    "accept",
    args=[Arg("request", Integer(minimum=1, label="request number"))],
    roles=[Role.MENTOR],
    rooms=MENTOR_ROOMS,
    examples=("accept 1",),
)
async def accept(ctx: Context, request: int) -> None:
    """Take a request: you become the mentee's mentor."""
    req = await request_by_number(ctx, request)
    me = await ctx.me()
    if req.previous_mentor_id == me.id:
        raise CommandError(f"Request #{request} is from a mentee who is moving on from you; another mentor should take it.")
    mentee = await mentorships.person_by_id(ctx.session, req.mentee_id)
    await mentorships.start(ctx, mentee, me, actor=me, request=req, how="accepted")
    if ctx.room is not RoomKind.DM:
        return  # the room was told the request is taken; the welcome came in a DM
    ctx.reply(Msg("Done: you are ", who(mentee), "'s mentor now. I have sent you both a welcome."))


@mentor_router.command(
    "decline",
    args=[Arg("request", Integer(minimum=1, label="request number")),
          Arg("reason", Text("reason", max_length=1000), optional=True)],
    roles=[Role.MENTOR],
    rooms=MENTOR_ROOMS,
    examples=("decline 1", "decline 1 I am short of time this quarter"),
)
async def decline(ctx: Context, request: int, reason: str | None) -> None:
    """Pass on a request; the next best mentor is asked. A reason is optional; only the council sees it."""
    if reason and ctx.room is not RoomKind.DM:
        raise CommandError(Msg("Reasons are confidential: send ", ctx.typed(f"decline {request} <reason>", RoomKind.DM),
                               " to me in a direct message, or ", ctx.cmd(f"decline {request}"), " here without one."))
    req = await request_by_number(ctx, request)
    me = await ctx.me()
    already = (await ctx.session.exec(
        select(func.count()).select_from(RequestDecline)
        .where(RequestDecline.request_id == req.id, RequestDecline.mentor_id == me.id)
    )).one()
    if already:
        raise CommandError(f"You have already passed on request #{request}; it will not be offered to you again.")
    was_mine = req.proposed_to_id == me.id
    await mentorships.decline(ctx, req, me, reason or None)
    if was_mine:
        ctx.reply(f"Done: you passed on request #{request}; I am asking the next mentor who fits. Thank you for saying so.")
    else:
        ctx.reply(f"Noted: request #{request} will not be offered to you.")


@mentor_router.command("mentees", roles=[Role.MENTOR], rooms=DM_ONLY, examples=("mentees",))
async def mentees(ctx: Context) -> None:
    """Your mentees: since when, until when the commitment runs, and their next check-in."""
    me = await ctx.me()
    rows = (await ctx.session.exec(
        select(Mentorship, Person)
        .join(Person, Person.id == Mentorship.mentee_id)
        .where(Mentorship.mentor_id == me.id, Mentorship.state == MentorshipState.ACTIVE)
        .order_by(Mentorship.started_at, Mentorship.id)
    )).all()
    if not rows:
        ctx.reply(Msg(f"You have no mentees right now ({me.capacity} places). Open requests: ", ctx.cmd("requests"), "."))
        return
    lines_: list[Msg] = []
    for m, mentee in rows:
        nxt = checkin_line(await mentorships.next_checkin(ctx.session, m.id), ctx)
        lines_.append(Msg("• ", who(mentee), f": since {day(m.started_at, ctx.zone)}, committed until "
                          f"{day(m.commitment_ends_at, ctx.zone)}; next: {nxt}"))
    ctx.reply(lines(bold(f"Your mentees ({len(rows)} of {me.capacity})"), *lines_))


@mentor_router.command(
    "mentee end",
    args=[Arg("mentee", MatrixId()), Arg("reason", Text("reason", max_length=1000), optional=True)],
    roles=[Role.MENTOR],
    rooms=DM_ONLY,
    examples=("mentee end @ana:example.org", "mentee end @ana:example.org we agreed our work is done"),
)
async def mentee_end(ctx: Context, mentee: str, reason: str | None) -> None:
    """End your mentorship with a mentee, at any time. A reason is optional; only the council sees it."""
    me = await ctx.me()
    person = await known_person(ctx, mentee, "mentee")
    current = await mentorships.active_of(ctx.session, person.id)
    if current is None or current.mentor_id != me.id:
        raise CommandError(Msg(who(person), " is not your mentee. Send ", ctx.cmd("mentees"), " to see yours."))
    await mentorships.end(ctx, current, by=me, reason=reason or None)
    ctx.reply(Msg("Done: your mentorship with ", who(person), " has ended; they have been told (without any reason)."))


@mentor_router.command(
    "away",
    args=[Arg("until", When("until", max_years=1))],
    roles=[Role.MENTOR],
    rooms=MENTOR_ROOMS,
    examples=("away in 3 weeks", "away 2027-08-31"),
)
async def away(ctx: Context, until) -> None:
    """Take no new mentees until a date (holidays, busy times). Requests waiting for you go to the next mentor."""
    me = await ctx.me()
    me.away_until, me.updated_at = until, ctx.now
    audit.record(ctx.session, at=ctx.now, actor=me, entity="person", entity_id=me.id,
                 action="away", from_state="available", to_state="away")
    waiting = (await ctx.session.exec(
        select(MentorRequest).where(MentorRequest.proposed_to_id == me.id,
                                    MentorRequest.state.in_((RequestState.PROPOSED, RequestState.ESCALATED)))
        .order_by(MentorRequest.id)
    )).all()
    for req in waiting:
        mentee = await mentorships.person_by_id(ctx.session, req.mentee_id)
        await mentorships.propose_next(ctx, req, mentee, announce=False)
    moved = f" The {len(waiting)} request{'s' if len(waiting) != 1 else ''} offered to you went to the next mentor." if waiting else ""
    ctx.reply(Msg(f"Done: you are away until {day(until, ctx.zone)} and get no new requests until then.{moved} "
                  "Your mentees stay with you. Send ", ctx.cmd("back"), " when you return earlier."))


@mentor_router.command("back", roles=[Role.MENTOR], rooms=MENTOR_ROOMS, examples=("back",))
async def back(ctx: Context) -> None:
    """You are back: new requests may come to you again."""
    me = await ctx.me()
    if not (me.away_until and me.away_until > ctx.now):
        ctx.reply("You were not marked away: new requests can already come to you.")
        return
    me.away_until, me.updated_at = None, ctx.now
    audit.record(ctx.session, at=ctx.now, actor=me, entity="person", entity_id=me.id,
                 action="back", from_state="away", to_state="available")
    ctx.reply("Welcome back! New requests may come to you again.")


@mentor_router.command(
    "pool",
    args=[Arg("skill", Text("skill", max_length=50), optional=True)],
    rooms=EVERYWHERE,
    examples=("pool", "pool public speaking"),
)
async def pool(ctx: Context, skill: str | None) -> None:
    """The coach pool: available mentors by skill, to ask one for a single coaching session."""
    wanted = " ".join((skill or "").lower().split())
    rows = (await ctx.session.exec(
        select(Person, PersonTag.value)
        .join(PersonTag, PersonTag.person_id == Person.id)
        .where(Person.is_mentor.is_(True), PersonTag.kind == TagKind.SKILL)
        .order_by(PersonTag.value, Person.matrix_id)
    )).all()
    by_skill: dict[str, list[Person]] = {}
    for mentor, value in rows:
        if matching.is_available(mentor, ctx.now) and (not wanted or wanted in value):
            by_skill.setdefault(value, []).append(mentor)
    if not by_skill:
        if wanted:
            raise CommandError(Msg("No available mentor lists a skill like ", text.code(wanted[:50]), ". Send ",
                                   ctx.cmd("pool"), " to see every skill."))
        ctx.reply("No available mentor has listed skills yet.")
        return
    listing = [Msg("• ", bold(s), ": ", text.join(who(m) for m in ms)) for s, ms in by_skill.items()]
    ctx.reply(lines(
        Msg(bold("Coach pool"), f" \u2014 mentors available for a one-off coaching session{' on ' + wanted if wanted else ''}:"),
        *listing,
        Msg("Write to one of them directly to ask for a session."),
    ))


@mentor_router.command(
    "nominate",
    args=[Arg("mentee", MatrixId()), Arg("reason", Text("reason", max_length=1000))],
    roles=[Role.MENTOR],
    rooms=MENTOR_ROOMS,
    examples=("nominate @ana:example.org ran three workshops this month",),
)
async def nominate(ctx: Context, mentee: str, reason: str) -> None:
    """Nominate a mentee for recognition (like Rep of the Month); the council sees it."""
    me = await ctx.me()
    person = await known_person(ctx, mentee, "mentee")
    if not person.is_mentee:
        raise CommandError(Msg(who(person), " is not a mentee in the program; only mentees can be nominated."))
    if person.id == me.id:
        raise CommandError("You cannot nominate yourself.")
    nomination = Nomination(nominator_id=me.id, nominee_id=person.id, reason=" ".join(reason.split()), created_at=ctx.now)
    ctx.session.add(nomination)
    await ctx.session.flush()
    audit.record(ctx.session, at=ctx.now, actor=me, entity="nomination", entity_id=nomination.id, action="nominated")
    ctx.reply(Msg("Thank you! Your nomination of ", who(person), " is with the council."))
    ctx.send(Target.council(), Msg(bold(f"Nomination #{nomination.id}"), ": ", who(me), " nominates ", who(person),
                                   " for recognition: \u201c", nomination.reason, "\u201d"), notify=True)
