"""The council's roster of mentors: add, remove, list."""

from __future__ import annotations

from commands import conversations as guided
from commands.dispatcher import Context
from commands.framework import Arg, Integer, MatrixId, Role, RoomKind, Router
from commands.messages import Target
from commands.services import people
from commands.words import roster as words

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
    with `profile capacity`. The new mentor is welcomed in a direct message, which
    sets up their profile with them one question at a time, and invited to the
    mentors room, where the others are told.
    """
    mentor = await people.add_mentor(ctx, ctx.sender, person, capacity)
    ctx.reply(words.mentor_added(mentor))
    ctx.send(Target.dm(mentor.matrix_id), await guided.mentor_welcome(ctx, mentor))
    ctx.send(Target.mentors(), words.new_mentor(mentor), invite=mentor.matrix_id)


@router.command(
    "mentor remove",
    args=[Arg("person", MatrixId())],
    roles=[Role.COUNCIL],
    rooms=COUNCIL_ROOMS,
    examples=("mentor remove @eli:example.org",),
)
async def remove(ctx: Context, person: str) -> None:
    """Take someone off the mentors. They must have no active mentees left."""
    mentor = await people.remove_mentor(ctx, ctx.sender, person)
    ctx.reply(words.mentor_removed(mentor))
    ctx.send(Target.dm(mentor.matrix_id), words.farewell_mentor(ctx.policy.name))


@router.command(
    "mentors",
    safe=True,
    roles=[Role.MENTOR, Role.COUNCIL],
    rooms=(RoomKind.MENTORS, RoomKind.COUNCIL, RoomKind.DM),
    examples=("mentors",),
)
async def roster(ctx: Context) -> None:
    """List the mentors with their load, capacity, and whether they are away."""
    mentors = await people.mentors_with_load(ctx.session)
    if not mentors:
        ctx.reply(words.no_mentors(ctx.cmd("mentor add <person>")))
        return
    ctx.reply(words.roster([(m, load, people.is_away(m, ctx.now)) for m, load in mentors], ctx.zone))
