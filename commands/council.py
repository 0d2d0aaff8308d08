"""The council's side of mentorships: assign, reassign, decide changes, the queue, the history."""

from __future__ import annotations

from sqlalchemy import or_
from sqlmodel import select

from commands import text
from commands.dispatcher import Context
from commands.framework import Arg, CommandError, Integer, MatrixId, Role, RoomKind, Router, Text
from commands.messages import Target
from commands.services import audit, mentorships, people, visibility
from commands.services.visibility import Reader
from commands.services.mentorships import day, who
from commands.text import Msg, bold, lines
from storage.models import (
    AuditEvent,
    ChangeRequest,
    ChangeState,
    MentorRequest,
    Mentorship,
    Nomination,
    Person,
    RequestDecline,
    RequestState,
)

router = Router("council", "Council")

COUNCIL_ROOMS = (RoomKind.COUNCIL, RoomKind.DM)
HISTORY_LIMIT = 40


async def mentor_named(ctx: Context, matrix_id: str) -> Person:
    mentor = await people.find(ctx.session, matrix_id)
    if mentor is None or not mentor.is_mentor:
        raise CommandError(Msg(text.person(matrix_id), " is not a mentor. Send ", ctx.cmd("mentors"), " to see the roster."))
    return mentor


@router.command(
    "assign",
    args=[Arg("mentee", MatrixId()), Arg("mentor", MatrixId())],
    roles=[Role.COUNCIL],
    rooms=COUNCIL_ROOMS,
    examples=("assign @hana:example.org @eli:example.org",),
)
async def assign(ctx: Context, mentee: str, mentor: str) -> None:
    """Give a mentee a mentor directly (their open request, if any, is closed)."""
    me = await ctx.me()
    person = await people.ensure(ctx.session, mentee, ctx.now)
    chosen = await mentor_named(ctx, mentor)
    not_about_me(ctx, person, chosen)
    current = await mentorships.active_of(ctx.session, person.id)
    if current is not None:
        old = await mentorships.person_by_id(ctx.session, current.mentor_id)
        raise CommandError(Msg(who(person), " already has a mentor, ", who(old), ". To move them, send ",
                               ctx.cmd(f"reassign {person.matrix_id} {chosen.matrix_id}"), "."))
    request = await mentorships.open_request_of(ctx.session, person.id)
    await mentorships.start(ctx, person, chosen, actor=me, request=request, how="assigned")
    closed = f" Their request #{request.id} is closed." if request else ""
    ctx.reply(Msg("Done: ", who(chosen), " is now ", who(person), f"'s mentor; both have been told.{closed}"))


@router.command(
    "reassign",
    args=[Arg("mentee", MatrixId()), Arg("mentor", MatrixId())],
    roles=[Role.COUNCIL],
    rooms=COUNCIL_ROOMS,
    examples=("reassign @ana:example.org @dana:example.org",),
)
async def reassign(ctx: Context, mentee: str, mentor: str) -> None:
    """Move a mentee to another mentor; their planned check-ins move too, and all three are told."""
    me = await ctx.me()
    person = await people.find(ctx.session, mentee)
    current = await mentorships.active_of(ctx.session, person.id) if person else None
    if person is None or current is None:
        raise CommandError(Msg(text.person(mentee), " has no mentor to move from. To give them one, send ",
                               ctx.cmd(f"assign {mentee} {mentor}"), "."))
    chosen = await mentor_named(ctx, mentor)
    not_about_me(ctx, person, chosen, await mentorships.person_by_id(ctx.session, current.mentor_id))
    request = await mentorships.open_request_of(ctx.session, person.id)
    change = await mentorships.pending_change_of(ctx.session, current.id)
    if change is not None:
        change.state, change.decided_at, change.decided_by_id = ChangeState.APPROVED, ctx.now, me.id
        audit.record(ctx.session, at=ctx.now, actor=me, entity="change", entity_id=change.id,
                     action="approved", from_state=ChangeState.PENDING.value, to_state=ChangeState.APPROVED.value)
    await mentorships.start(ctx, person, chosen, actor=me, request=request, how="reassigned")
    ctx.reply(Msg("Done: ", who(person), " moved to ", who(chosen), "; all three have been told."))


def not_about_me(ctx: Context, *involved: Person | None) -> None:
    """A council member does not decide a request, change or assignment about themselves."""
    if any(p is not None and p.matrix_id == ctx.sender for p in involved):
        raise CommandError(Msg(
            "This is about you, so another council member must decide it. I have changed nothing."))


async def pending_change(ctx: Context, number: int) -> ChangeRequest:
    change = await ctx.session.get(ChangeRequest, number)
    if change is None:
        raise CommandError(Msg(f"There is no change request #{number}. Send ", ctx.cmd("queue"), " to see them."))
    if change.state is not ChangeState.PENDING:
        raise CommandError(f"Change request #{number} is already {change.state.value}.")
    return change


@router.command(
    "approve",
    args=[Arg("change", Integer(minimum=1, label="change request number"))],
    roles=[Role.COUNCIL],
    rooms=COUNCIL_ROOMS,
    examples=("approve 1",),
)
async def approve(ctx: Context, change: int) -> None:
    """Approve a mentee's request to change mentor: the bot looks for a new one."""
    me = await ctx.me()
    item = await pending_change(ctx, change)
    m = await ctx.session.get(Mentorship, item.mentorship_id)
    assert m is not None
    mentee = await mentorships.person_by_id(ctx.session, m.mentee_id)
    not_about_me(ctx, mentee, await mentorships.person_by_id(ctx.session, m.mentor_id))
    request = await mentorships.approve_change(ctx, item, me)
    ctx.send(Target.dm(mentee.matrix_id), Msg(
        "The council approved your change of mentor. I am looking for a new one "
        f"(request #{request.id}); your current mentor stays with you until then.",
    ))
    ctx.reply(Msg(f"Done: change request #{change} approved. ", who(mentee),
                  f" is waiting for a new mentor (request #{request.id})."))


@router.command(
    "refuse",
    args=[Arg("change", Integer(minimum=1, label="change request number")),
          Arg("note", Text("note to the mentee", max_length=1000), optional=True)],
    roles=[Role.COUNCIL],
    rooms=COUNCIL_ROOMS,
    examples=("refuse 1", "refuse 1 please talk with your mentor first; we can help"),
)
async def refuse(ctx: Context, change: int, note: str | None) -> None:
    """Refuse a request to change mentor; an optional note goes to the mentee only."""
    me = await ctx.me()
    item = await pending_change(ctx, change)
    m = await ctx.session.get(Mentorship, item.mentorship_id)
    assert m is not None
    mentee = await mentorships.person_by_id(ctx.session, m.mentee_id)
    not_about_me(ctx, mentee, await mentorships.person_by_id(ctx.session, m.mentor_id))
    item.state, item.decided_at, item.decided_by_id = ChangeState.REFUSED, ctx.now, me.id
    audit.record(ctx.session, at=ctx.now, actor=me, entity="change", entity_id=item.id,
                 action="refused", from_state=ChangeState.PENDING.value, to_state=ChangeState.REFUSED.value)
    ctx.send(Target.dm(mentee.matrix_id), Msg(
        "The council did not approve your change of mentor this time. ",
        Msg("Their note: \u201c", note, "\u201d ") if note else "",
        "If things are not working, you can still end the mentorship at any time with ",
        ctx.typed("end", RoomKind.DM), ", or talk to the council.",
    ))
    ctx.reply(Msg(f"Done: change request #{change} refused; ", who(mentee), " has been told."))


@router.command("council", roles=[Role.COUNCIL], rooms=COUNCIL_ROOMS, examples=("council",))
async def council_list(ctx: Context) -> None:
    """Who is on the council: members of the council room and those the configuration names."""
    members = await people.council_members(ctx.session, ctx.policy)
    listed = set(ctx.policy.council)
    rows = [Msg("• ", text.person(m), " (named in the configuration)" if m in listed else "") for m in members]
    ctx.reply(lines(Msg(bold(f"The council ({len(members)})"), ". Remove someone with ",
                        ctx.cmd("council remove <person>"), "."), *rows))


@router.command(
    "council remove",
    args=[Arg("person", MatrixId())],
    roles=[Role.COUNCIL],
    rooms=COUNCIL_ROOMS,
    examples=("council remove @ina:example.org",),
)
async def council_remove(ctx: Context, person: str) -> None:
    """Take someone off the council at once, even if the configuration names them.

    Neither the configuration's council list nor the council room gives them their
    rights back; `council add` does. Remove them from the council room too.
    """
    subject = await people.find(ctx.session, person)
    if not people.is_council(person, subject, ctx.policy):
        raise CommandError(Msg(text.person(person), " is not on the council. Send ", ctx.cmd("council"),
                               " to see who is."))
    members = await people.council_members(ctx.session, ctx.policy)
    if members == [person]:
        raise CommandError(Msg(text.person(person), " is the only council member; the program needs one. "
                               "Add another first."))
    subject = subject or await people.ensure(ctx.session, person, ctx.now)
    subject.council_removed_at, subject.updated_at = ctx.now, ctx.now
    audit.record(ctx.session, at=ctx.now, actor=await ctx.me(), entity="person", entity_id=subject.id,
                 action="council_removed", from_state="council", to_state="member")
    listed = " Also take them out of [program] council in the configuration." if person in ctx.policy.council else ""
    ctx.reply(Msg("Done: ", who(subject), " is no longer on the council and has no council rights from now on. "
                  "Remove them from the council room too, or they can still read it.", listed))
    ctx.send(Target.dm(subject.matrix_id), Msg(f"You are no longer on the council of {ctx.policy.name}. "
                                               "Thank you for your time on it!"))


@router.command(
    "council add",
    args=[Arg("person", MatrixId())],
    roles=[Role.COUNCIL],
    rooms=COUNCIL_ROOMS,
    examples=("council add @ina:example.org",),
)
async def council_add(ctx: Context, person: str) -> None:
    """Let someone be on the council again, after `council remove`.

    Council rights come from the council room: invite them to it (or name them in
    [program] council in the configuration).
    """
    subject = await people.find(ctx.session, person)
    if subject is None and person in ctx.policy.council:
        subject = await people.ensure(ctx.session, person, ctx.now)  # a removal kept past an erasure
    if people.is_council(person, subject, ctx.policy):
        raise CommandError(Msg(text.person(person), " is on the council already; nothing to do."))
    if subject is None or subject.council_removed_at is None:
        raise CommandError(Msg("Council rights come from the council room: invite ", text.person(person),
                               " to it, and they are on the council once they join."))
    await people.end_council_removal(ctx.session, subject)
    subject.updated_at = ctx.now
    audit.record(ctx.session, at=ctx.now, actor=await ctx.me(), entity="person", entity_id=subject.id,
                 action="council_added", from_state="member", to_state="council")
    back = people.is_council(person, subject, ctx.policy)
    ctx.reply(Msg("Done: ", who(subject), (" is on the council again." if back else
                                            " may be on the council again: invite them to the council room; "
                                            "they have council rights once they join.")))


@router.command("queue", roles=[Role.COUNCIL], rooms=COUNCIL_ROOMS, examples=("queue",))
async def queue(ctx: Context) -> None:
    """What waits for the council: escalated requests and changes of mentor to decide.

    Reasons mentees gave are shown only in a direct message.
    """
    private = visibility.may_read("change_request.reason", {Reader.COUNCIL}, ctx.room)
    escalated = (await ctx.session.exec(
        select(MentorRequest).where(MentorRequest.state == RequestState.ESCALATED).order_by(MentorRequest.id)
    )).all()
    changes = (await ctx.session.exec(
        select(ChangeRequest).where(ChangeRequest.state == ChangeState.PENDING).order_by(ChangeRequest.id)
    )).all()
    waiting = await mentorships.count_open_requests(ctx.session)
    rows: list[Msg | None] = [bold("The council's queue")]
    if escalated:
        rows.append(Msg(bold(f"Requests nobody took ({len(escalated)})"), " \u2014 assign with ",
                        ctx.cmd("assign <mentee> <mentor>"), ":"))
        for r in escalated:
            mentee = await mentorships.person_by_id(ctx.session, r.mentee_id)
            rows.append(Msg(f"• #{r.id}: ", who(mentee), f", since {day(r.created_at, ctx.zone)}"))
    if changes:
        rows.append(Msg(bold(f"Changes of mentor to decide ({len(changes)})"), " \u2014 ", ctx.cmd("approve <number>"),
                        " or ", ctx.cmd("refuse <number> [note]"), ":"))
        for c in changes:
            m = await ctx.session.get(Mentorship, c.mentorship_id)
            assert m is not None
            mentee = await mentorships.person_by_id(ctx.session, m.mentee_id)
            mentor = await mentorships.person_by_id(ctx.session, m.mentor_id)
            reason: Msg | str = ""
            if private:
                reason = Msg("; reason: \u201c", c.reason, "\u201d") if c.reason else "; no reason given"
            rows.append(Msg(f"• #{c.id}: ", who(mentee), " from ", who(mentor),
                            f", asked {day(c.created_at, ctx.zone)}", reason))
        if not private:
            rows.append(Msg("Reasons are shown in a direct message: send ", ctx.typed("queue", RoomKind.DM), " to me."))
    if not escalated and not changes:
        rows.append(Msg("Nothing waits for the council."))
    rows.append(Msg(f"Open requests in matching: {waiting} (", ctx.cmd("requests"), ")."))
    ctx.reply(lines(*rows))


@router.command(
    "audit",
    args=[Arg("person", MatrixId())],
    roles=[Role.COUNCIL],
    rooms=COUNCIL_ROOMS,
    examples=("audit @ana:example.org",),
)
async def audit_trail(ctx: Context, person: str) -> None:
    """The history of a person's requests and mentorships: every change, who made it and when.

    Reasons (for declines, changes and ends) are shown only in a direct message.
    """
    subject = await people.find(ctx.session, person)
    if subject is None:
        raise CommandError(Msg(text.person(person), " is not someone I know."))
    council = {Reader.COUNCIL}
    private = all(visibility.may_read(f, council, ctx.room)
                  for f in ("mentorship.end_reason", "change_request.reason", "request_decline.reason"))
    requests = (await ctx.session.exec(select(MentorRequest).where(MentorRequest.mentee_id == subject.id))).all()
    ships = (await ctx.session.exec(
        select(Mentorship).where(or_(Mentorship.mentee_id == subject.id, Mentorship.mentor_id == subject.id))
    )).all()
    ship_ids = [m.id for m in ships]
    changes = (await ctx.session.exec(select(ChangeRequest).where(ChangeRequest.mentorship_id.in_(ship_ids)))).all() \
        if ship_ids else []
    wanted = (
        [("request", r.id) for r in requests] + [("mentorship", i) for i in ship_ids]
        + [("change", c.id) for c in changes] + [("person", subject.id)]
    )
    conditions = [(AuditEvent.entity == e) & (AuditEvent.entity_id == i) for e, i in wanted]
    events = (await ctx.session.exec(
        select(AuditEvent).where(or_(*conditions)).order_by(AuditEvent.at, AuditEvent.id)
    )).all()
    actors = {p.id: p for p in (await ctx.session.exec(
        select(Person).where(Person.id.in_({e.actor_id for e in events if e.actor_id}))
    )).all()} if events else {}
    rows: list[Msg | None] = [Msg(bold("History of "), who(subject))]
    for e in events[-HISTORY_LIMIT:]:
        actor = who(actors[e.actor_id]) if e.actor_id in actors else "the bot"
        moved = f" ({e.from_state or '-'} \u2192 {e.to_state})" if e.to_state and e.from_state != e.to_state else ""
        rows.append(Msg(f"• {e.at.astimezone(ctx.zone):%Y-%m-%d %H:%M} {e.entity} #{e.entity_id} {e.action}{moved} by ",
                        actor))
    if len(events) > HISTORY_LIMIT:
        rows.insert(1, Msg(f"(the last {HISTORY_LIMIT} of {len(events)} events)"))
    if not events:
        rows.append(Msg("Nothing recorded yet."))
    if private:
        reasons: list[Msg] = []
        for m in ships:
            if m.end_reason:
                reasons.append(Msg(f"• mentorship #{m.id} ended: \u201c", m.end_reason, "\u201d"))
        for c in changes:
            if c.reason:
                reasons.append(Msg(f"• change #{c.id}: \u201c", c.reason, "\u201d"))
        if requests:
            declines = (await ctx.session.exec(
                select(RequestDecline).where(RequestDecline.request_id.in_([r.id for r in requests]),
                                             RequestDecline.reason.is_not(None))
            )).all()
            reasons += [Msg(f"• request #{d.request_id} declined: \u201c", d.reason, "\u201d") for d in declines]
        if reasons:
            rows.append(bold("Reasons given (confidential)"))
            rows.extend(reasons)
    else:
        rows.append(Msg("Reasons people gave are shown only in a direct message: send ",
                        ctx.typed(f"audit {subject.matrix_id}", RoomKind.DM), " to me."))
    ctx.reply(lines(*rows))


@router.command("nominations", roles=[Role.COUNCIL], rooms=COUNCIL_ROOMS, examples=("nominations",))
async def nominations(ctx: Context) -> None:
    """Recent nominations of mentees for recognition."""
    rows = (await ctx.session.exec(select(Nomination).order_by(Nomination.id.desc()).limit(20))).all()
    if not rows:
        ctx.reply(Msg("No nominations yet. Mentors nominate with ", text.code("nominate <mentee> <reason>"), "."))
        return
    out: list[Msg] = []
    for n in rows:
        nominee = await mentorships.person_by_id(ctx.session, n.nominee_id)
        nominator = await mentorships.person_by_id(ctx.session, n.nominator_id)
        reason = (Msg(": \u201c", n.reason, "\u201d") if n.reason and
                  visibility.may_read("nomination.reason", {Reader.COUNCIL}, ctx.room) else "")
        out.append(Msg(f"• #{n.id} {day(n.created_at, ctx.zone)}: ", who(nominee), " by ", who(nominator), reason))
    ctx.reply(lines(bold(f"Nominations (latest {len(rows)})"), *out))


@router.command(
    "report",
    roles=[Role.COUNCIL],
    rooms=COUNCIL_ROOMS,
    examples=("report",),
)
async def report(ctx: Context) -> None:
    """The program in numbers, this month so far (the same figures as the monthly report; no names)."""
    from zoneinfo import ZoneInfo

    from commands.services import rules
    from commands.words import rules as words

    zone = ZoneInfo(ctx.policy.timezone)
    local = ctx.now.astimezone(zone)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    figures = await rules.program_figures(ctx.session, ctx.now, ctx.policy, start, ctx.now)
    ctx.reply(words.program_report(figures, words.report_so_far_title(local, zone)))
