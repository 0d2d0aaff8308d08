"""Recognition: the council lists and decides nominations; the nominated mentee says whether
they may be celebrated publicly."""

from __future__ import annotations

from commands.dispatcher import Context
from commands.framework import DM_ONLY, Arg, Integer, Role, RoomKind, Router, Text
from commands.services import announcements, recognition
from commands.words import recognition as said

router = Router("recognition", "Recognition")

COUNCIL_ROOMS = (RoomKind.COUNCIL, RoomKind.DM)
NOMINATION = Arg("nomination", Integer(minimum=1, label="nomination number"))
ANSWERED = Arg("nomination", Integer(minimum=1, label="nomination number"), optional=True)


@router.command("nominations", safe=True, roles=[Role.COUNCIL], rooms=COUNCIL_ROOMS, examples=("nominations",))
async def nominations(ctx: Context) -> None:
    """Recent nominations of mentees for recognition, and where each stands.

    Each is waiting for the council, declined, accepted and waiting for the mentee's answer,
    celebrated with their consent, or kept private by them.
    """
    shown = await recognition.recent(ctx, ctx.room)
    ctx.reply(said.nominations(ctx, shown, ctx.zone) if shown else said.no_nominations())


@router.command(
    "nomination accept",
    args=[NOMINATION, Arg("citation", Text("citation", max_length=announcements.MAX_BODY))],
    roles=[Role.COUNCIL],
    rooms=COUNCIL_ROOMS,
    examples=(said.ACCEPT_EXAMPLE,),
)
async def accept(ctx: Context, nomination: int, citation: str) -> None:
    """Accept a nomination with the citation you would publish (Markdown; never the mentor's reason).

    The mentee is asked by DM, and shown exactly what would be published; only with their
    yes does the celebration go to the mentors room and the forum. The decision is final.
    """
    done, nominee = await recognition.accept(ctx, nomination, await ctx.me(), citation)
    ctx.reply(said.accepted(ctx, done, nominee))


@router.command(
    "nomination decline",
    args=[NOMINATION],
    roles=[Role.COUNCIL],
    rooms=COUNCIL_ROOMS,
    examples=("nomination decline 1",),
)
async def decline(ctx: Context, nomination: int) -> None:
    """Decline a nomination; the mentor who made it is told, the mentee is not. The decision is final."""
    done, nominee = await recognition.decline(ctx, nomination, await ctx.me())
    ctx.reply(said.declined(done, nominee))


def _nominee(ctx: Context, nomination: int | None):
    """The one who answers: someone the program knows (a stranger has nothing to answer)."""
    if ctx.person is None:
        raise recognition.NothingToAnswer(nomination)
    return ctx.person


@router.command("recognition yes", args=[ANSWERED], rooms=DM_ONLY, examples=("recognition yes", "recognition yes 1"))
async def consent(ctx: Context, nomination: int | None) -> None:
    """Agree to be celebrated publicly, as the council showed you (the number is needed only if several wait)."""
    await recognition.consent(ctx, _nominee(ctx, nomination), nomination,
                              lambda n, nominee: said.celebration_title(n, nominee, ctx.policy.language))
    ctx.reply(said.celebrating(ctx))


@router.command("recognition no", args=[ANSWERED], rooms=DM_ONLY, examples=("recognition no", "recognition no 1"))
async def keep_private(ctx: Context, nomination: int | None) -> None:
    """Keep the council's recognition private: nothing is published, and nobody asks why."""
    await recognition.keep_private(ctx, _nominee(ctx, nomination), nomination)
    ctx.reply(said.kept_private())
