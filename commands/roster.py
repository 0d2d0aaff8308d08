"""The council's roster of mentors: add, remove, list."""

from __future__ import annotations

from commands.dispatcher import Context
from commands.framework import Arg, CommandError, Integer, MatrixId, Role, RoomKind, Router
from commands.messages import Target
from commands.services import audit, people
from commands import text
from commands.text import Msg, bold, code, lines

router = Router("roster", "Mentor roster")

COUNCIL_ROOMS = (RoomKind.COUNCIL, RoomKind.DM)


@router.command(
    "mentor add",
    args=[Arg("person", MatrixId()), Arg("capacity", Integer(minimum=0, maximum=100), optional=True)],
    roles=[Role.COUNCIL],
    rooms=COUNCIL_ROOMS,
    examples=("mentor add @zoe:example.org", "mentor add @zoe:example.org 2"),
)
async def add(ctx: Context, person: str, capacity: int | None) -> None:
    """Add someone to the mentors (optionally with how many mentees they take).

    Without a capacity the program's default is used; the mentor can change it
    with `profile capacity`. The new mentor is welcomed in a direct message.
    """
    limit = ctx.policy.max_group_size
    if capacity is not None and capacity > limit:
        raise CommandError(f"The program allows at most {limit} mentees per mentor. Choose {limit} or fewer.")
    mentor = await people.ensure(ctx.session, person, ctx.now)
    who = text.person(mentor.matrix_id, people.name_of(mentor))
    if mentor.is_mentor:
        if capacity is not None and capacity != mentor.capacity:
            raise CommandError(
                Msg(who, " is already a mentor. They can change their capacity with ", code("profile capacity"), ".")
            )
        raise CommandError(Msg(who, " is already a mentor; nothing to do."))
    mentor.is_mentor = True
    mentor.inactive = False
    mentor.capacity = min(capacity if capacity is not None else ctx.policy.default_capacity, limit)
    mentor.updated_at = ctx.now
    audit.record(
        ctx.session, at=ctx.now, actor=await ctx.me(), entity="person", entity_id=mentor.id,
        action="mentor_added", from_state="member", to_state="mentor",
    )
    ctx.reply(Msg("Done: ", who, f" is now a mentor, taking up to {mentor.capacity} mentees."))
    ctx.send(
        Target.dm(mentor.matrix_id),
        Msg(
            f"Welcome, you are now a mentor in {ctx.policy.name}! You can take up to {mentor.capacity} mentees. "
            "Tell me what you can help with: send ", code("profile skills <list>"),
            ", and set ", code("profile timezone"), " and ", code("profile languages"), ".",
        ),
    )


@router.command(
    "mentor remove",
    args=[Arg("person", MatrixId())],
    roles=[Role.COUNCIL],
    rooms=COUNCIL_ROOMS,
    examples=("mentor remove @eli:example.org",),
)
async def remove(ctx: Context, person: str) -> None:
    """Take someone off the mentors. They must have no active mentees left."""
    mentor = await people.find(ctx.session, person)
    if mentor is None or not mentor.is_mentor:
        raise CommandError(Msg(text.person(person), " is not a mentor. Send ", ctx.cmd("mentors"), " to see the roster."))
    who = text.person(mentor.matrix_id, people.name_of(mentor))
    load = await people.active_mentee_count(ctx.session, mentor.id)
    if load:
        raise CommandError(
            Msg(who, f" still mentors {load} mentee{'s' if load != 1 else ''}. Reassign them first, then remove."),
        )
    mentor.is_mentor = False
    mentor.updated_at = ctx.now
    audit.record(
        ctx.session, at=ctx.now, actor=await ctx.me(), entity="person", entity_id=mentor.id,
        action="mentor_removed", from_state="mentor", to_state="member",
    )
    ctx.reply(Msg("Done: ", who, " is no longer a mentor."))
    ctx.send(
        Target.dm(mentor.matrix_id),
        Msg(f"You are no longer a mentor in {ctx.policy.name}. Thank you for your time as a mentor!"),
    )


@router.command(
    "mentors",
    roles=[Role.MENTOR, Role.COUNCIL],
    rooms=(RoomKind.MENTORS, RoomKind.COUNCIL, RoomKind.DM),
    examples=("mentors",),
)
async def roster(ctx: Context) -> None:
    """List the mentors with their load, capacity, and whether they are away."""
    mentors = await people.mentors_with_load(ctx.session)
    if not mentors:
        ctx.reply(Msg("There are no mentors yet. The council adds them with ", ctx.cmd("mentor add <person>"), "."))
        return
    rows = []
    for m, load in mentors:
        state = ""
        if m.inactive:
            state = ", inactive"
        elif m.away_until and m.away_until > ctx.now:
            state = f", away until {m.away_until.astimezone(ctx.zone):%Y-%m-%d}"
        rows.append(Msg("• ", text.person(m.matrix_id, people.name_of(m)), f": {load} of {m.capacity}{state}"))
    ctx.reply(lines(Msg(bold(f"Mentors ({len(mentors)})"), ", with their mentees now of their capacity:"), *rows))
