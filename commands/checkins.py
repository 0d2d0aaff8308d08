"""Check-ins: plan, list, move, cancel, mark done, confirm."""

from __future__ import annotations

from sqlmodel import select

from commands import text
from commands.dispatcher import Context
from commands.framework import DM_ONLY, Arg, CommandError, Integer, MatrixId, Plan, Role, RoomKind, Router, Schedule
from commands.messages import Target
from commands.services import checkins, mentorships, people
from commands.services.checkins import KIND_NAMES, describe, repeats, shown
from commands.services.mentorships import who
from commands.text import Msg, bold, lines
from storage.models import CheckIn, CheckInState, Mentorship, MentorshipState, Person

router = Router("checkins", "Check-ins")

PEOPLE_IN_CHECKINS = [Role.MENTOR, Role.MENTEE]


async def my_mentee(ctx: Context, matrix_id: str) -> tuple[Mentorship, Person]:
    """The sender's active mentorship with this mentee, or a clear refusal."""
    me = await ctx.me()
    mentee = await people.find(ctx.session, matrix_id)
    current = await mentorships.active_of(ctx.session, mentee.id) if mentee else None
    if mentee is None or current is None or current.mentor_id != me.id:
        raise CommandError(Msg(text.person(matrix_id), " is not your mentee. Send ", ctx.cmd("mentees"),
                               " to see yours."))
    return current, mentee


async def checkin_of(ctx: Context, number: int, *, mentor_only: bool = False) -> tuple[CheckIn, Mentorship]:
    """Check-in N, if the sender is its mentor (or, unless ``mentor_only``, its mentee)."""
    me = await ctx.me()
    c = await ctx.session.get(CheckIn, number)
    m = await ctx.session.get(Mentorship, c.mentorship_id) if c else None
    allowed = m is not None and (m.mentor_id == me.id or (not mentor_only and m.mentee_id == me.id))
    if c is None or m is None or not allowed:
        raise CommandError(Msg(f"You have no check-in #{number}. Send ", ctx.cmd("checkins"), " to see yours."))
    if m.state is not MentorshipState.ACTIVE:
        raise CommandError(f"Check-in #{number} belongs to a mentorship that has ended.")
    if c.state is not CheckInState.SCHEDULED:
        raise CommandError(f"Check-in #{number} is already {c.state.value}.")
    return c, m


def _other(ctx: Context, m: Mentorship, mentee: Person, mentor: Person) -> Person:
    return mentor if ctx.person is not None and ctx.person.id == mentee.id else mentee


@router.command(
    "checkin",
    args=[Arg("mentee", MatrixId()), Arg("when", Schedule())],
    roles=[Role.MENTOR],
    rooms=DM_ONLY,
    examples=(
        "checkin @ana:example.org next tuesday 16:00",
        "checkin @ana:example.org in 2 weeks",
        "checkin @ana:example.org every 3 months from 2027-03-10 18:00",
    ),
)
async def checkin(ctx: Context, mentee: str, when: Plan) -> None:
    """Plan a check-in with your mentee, once or repeating; both of you get reminders.

    Times are read in your time zone and shown to each of you in your own. The first
    check-in you plan after a mentorship starts is the orientation session.
    """
    m, person = await my_mentee(ctx, mentee)
    me = await ctx.me()
    c = await checkins.schedule(ctx, m, when.at, ctx.zone.key, by=me, every_months=when.every_months,
                                every_weeks=when.every_weeks)
    mentee_zone = people.zone_of(person, ctx.policy)
    every = f", {repeats(c)}" if repeats(c) else ""
    offsets = " and ".join(ctx.policy.reminders)
    ctx.reply(Msg(
        f"Done: {KIND_NAMES[c.kind]} #{c.id} with ", who(person), f" on {shown(c.due_at, ctx.zone)}{every}. ",
        f"You both get a reminder {offsets} before.",
        "" if mentee_zone.key == ctx.zone.key else f" For {people.name_of(person)} that is {shown(c.due_at, mentee_zone)}.",
    ))
    ctx.send(Target.dm(person.matrix_id), Msg(
        who(me), f" planned a {KIND_NAMES[c.kind]} with you: {shown(c.due_at, mentee_zone)}{every}. Send ",
        ctx.typed(f"confirm {c.id}", RoomKind.DM), " to confirm, or ", ctx.typed(f"checkin move {c.id} <when>", RoomKind.DM),
        " to ask for another time.",
    ))


@router.command("checkins", roles=PEOPLE_IN_CHECKINS, rooms=DM_ONLY, examples=("checkins",))
async def list_checkins(ctx: Context) -> None:
    """Your upcoming check-ins: as a mentor, with all your mentees; as a mentee, with your mentor."""
    me = await ctx.me()
    # Two lookups, each along its own index (one query with OR would read every mentorship).
    rows = [m for side in (Mentorship.mentor_id, Mentorship.mentee_id) for m in (await ctx.session.exec(
        select(Mentorship).where(Mentorship.state == MentorshipState.ACTIVE, side == me.id)
    )).all()]
    planned = await checkins.upcoming(ctx.session, [m.id for m in rows])
    if not planned:
        hint = Msg(" Plan one with ", ctx.cmd("checkin <mentee> <when>"), ".") if me.is_mentor else Msg()
        ctx.reply(Msg("No check-ins planned.", hint))
        return
    other_of = {m.id: m.mentee_id if m.mentor_id == me.id else m.mentor_id for m in rows}
    others = await mentorships.people_by_id(ctx.session, (other_of[c.mentorship_id] for c in planned))
    out: list[Msg] = []
    for c in planned:
        other = others[other_of[c.mentorship_id]]
        confirmed = " \u2713 confirmed" if c.confirmed_at else ""
        past = " (past: not marked as held yet)" if c.arranged and c.due_at <= ctx.now else ""
        out.append(Msg(f"• #{c.id} ", describe(c, ctx.zone), " with ", who(other), confirmed, past))
    ctx.reply(lines(bold(f"Planned check-ins ({len(planned)})"), *out,
                    Msg("Change one with ", ctx.cmd("checkin move <number> <when>"), " or ",
                        ctx.cmd("checkin cancel <number>"), ".")))


@router.command(
    "checkin move",
    args=[Arg("checkin", Integer(minimum=1, label="check-in number")), Arg("when", Schedule())],
    roles=PEOPLE_IN_CHECKINS,
    rooms=DM_ONLY,
    examples=("checkin move 1 friday 17:30",),
)
async def move(ctx: Context, checkin: int, when: Plan) -> None:
    """Move a check-in to another time (mentor or mentee); the other person is told."""
    if when.every_months or when.every_weeks:
        raise CommandError(Msg("Moving takes one time, like ", text.code("friday 17:30"),
                               "; to change a repeat, cancel it and plan it again."))
    c, m = await checkin_of(ctx, checkin)
    me = await ctx.me()
    mentee = await mentorships.person_by_id(ctx.session, m.mentee_id)
    mentor = await mentorships.person_by_id(ctx.session, m.mentor_id)
    await checkins.move(ctx, c, m, when.at, ctx.zone.key, by=me)
    other = _other(ctx, m, mentee, mentor)
    ctx.reply(Msg(f"Done: {KIND_NAMES[c.kind]} #{c.id} is now on {shown(c.due_at, ctx.zone)}; ", who(other), " has been told."))
    ctx.send(Target.dm(other.matrix_id), Msg(
        who(me), f" moved your {KIND_NAMES[c.kind]} #{c.id} to {shown(c.due_at, people.zone_of(other, ctx.policy))}.",
        Msg(" Send ", ctx.typed(f"confirm {c.id}", RoomKind.DM), " to confirm.") if other.id == mentee.id else "",
    ))


@router.command(
    "checkin cancel",
    args=[Arg("checkin", Integer(minimum=1, label="check-in number"))],
    roles=PEOPLE_IN_CHECKINS,
    rooms=DM_ONLY,
    examples=("checkin cancel 1",),
)
async def cancel(ctx: Context, checkin: int) -> None:
    """Cancel a check-in (a repeating one stops repeating); the other person is told."""
    c, m = await checkin_of(ctx, checkin)
    me = await ctx.me()
    mentee = await mentorships.person_by_id(ctx.session, m.mentee_id)
    mentor = await mentorships.person_by_id(ctx.session, m.mentor_id)
    gone = await checkins.cancel(ctx, c, by=me)
    series = " and the ones after it: it no longer repeats" if len(gone) > 1 or c.series_id else ""
    other = _other(ctx, m, mentee, mentor)
    ctx.reply(Msg(f"Done: {KIND_NAMES[c.kind]} #{c.id} on {shown(c.due_at, ctx.zone)} is cancelled{series}; ",
                  who(other), " has been told."))
    ctx.send(Target.dm(other.matrix_id), Msg(
        who(me), f" cancelled the {KIND_NAMES[c.kind]} #{c.id} on {shown(c.due_at, people.zone_of(other, ctx.policy))}{series}.",
    ))


@router.command(
    "checkin done",
    args=[Arg("checkin", Integer(minimum=1, label="check-in number"))],
    roles=[Role.MENTOR],
    rooms=DM_ONLY,
    examples=("checkin done 1",),
)
async def done(ctx: Context, checkin: int) -> None:
    """Mark a check-in as held (to record what was said, use `session`)."""
    c, m = await checkin_of(ctx, checkin, mentor_only=True)
    if c.due_at > ctx.now and c.arranged:
        raise CommandError(Msg(f"Check-in #{c.id} is on {shown(c.due_at, ctx.zone)}, still ahead. Mark it done "
                               "once it has taken place, or move it with ", ctx.cmd(f"checkin move {c.id} <when>"), "."))
    me = await ctx.me()
    await checkins.mark_done(ctx, c, by=me)
    mentee = await mentorships.person_by_id(ctx.session, m.mentee_id)
    ctx.reply(Msg(f"Done: {KIND_NAMES[c.kind]} #{c.id} with ", who(mentee), " is marked as held. Record how it went with ",
                  ctx.cmd(f"session {mentee.matrix_id} <kind> <outcome>"), " (only you, ", who(mentee),
                  " and the council can read it)."))


@router.command(
    "confirm",
    args=[Arg("checkin", Integer(minimum=1, label="check-in number"), optional=True)],
    roles=[Role.MENTEE],
    rooms=DM_ONLY,
    examples=("confirm", "confirm 2"),
)
async def confirm(ctx: Context, checkin: int | None) -> None:
    """Confirm your next check-in (or check-in N); your mentor is told."""
    me = await ctx.me()
    if checkin is None:
        current = await mentorships.active_of(ctx.session, me.id)
        planned = [c for c in await checkins.upcoming(ctx.session, [current.id] if current else [])
                   if c.arranged and not c.confirmed_at and c.due_at > ctx.now]
        if not planned:
            raise CommandError(Msg("You have no upcoming check-in to confirm. Send ", ctx.cmd("checkins"), " to see yours."))
        c = planned[0]
        m = current
    else:
        c, m = await checkin_of(ctx, checkin)
        if m.mentee_id != me.id:
            raise CommandError("Only the mentee confirms a check-in.")
        if not c.arranged:
            raise CommandError(f"Check-in #{c.id} has no time agreed yet; your mentor will plan it with you.")
    if c.confirmed_at:
        ctx.reply(f"Check-in #{c.id} on {shown(c.due_at, ctx.zone)} was already confirmed. See you there!")
        return
    c.confirmed_at = ctx.now
    mentor = await mentorships.person_by_id(ctx.session, m.mentor_id)
    ctx.reply(Msg(f"Confirmed: {KIND_NAMES[c.kind]} #{c.id} with ", who(mentor), f" on {shown(c.due_at, ctx.zone)}."))
    ctx.send(Target.dm(mentor.matrix_id), Msg(
        who(me), f" confirmed the {KIND_NAMES[c.kind]} #{c.id} on {shown(c.due_at, people.zone_of(mentor, ctx.policy))}.",
    ))
