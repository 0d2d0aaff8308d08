"""Council announcements: announce, confirm, cancel, announcements; mentors pass them on with relay."""

from __future__ import annotations

from commands.dispatcher import Context
from commands.framework import Arg, Choice, Integer, Role, RoomKind, Router, Text, UsageError
from commands.services import announcements, answers
from commands.words import announcements as said
from storage.models import Audience

router = Router("announcements", "Announcements")

COUNCIL_ROOM = (RoomKind.COUNCIL,)
NUMBER = Integer(minimum=1, label="announcement number")
SHOWN = 10


@router.command(
    "announce",
    args=[Arg("audience", Choice("mentors", "mentees", "all", label="mentors|mentees|all")),
          Arg("title | text", Text("announcement", max_length=announcements.MAX_TITLE + announcements.MAX_BODY + 10))],
    roles=[Role.COUNCIL],
    rooms=COUNCIL_ROOM,
    examples=("announce all Mentor training on 3 March | Join us at **16:00 UTC** for the spring training.",),
)
async def announce(ctx: Context, audience: str, **args: str) -> None:
    """Draft an announcement and see a preview; nothing is sent until you confirm it.

    The audience is mentors (the forum and the mentors room), mentees or all (also a DM to
    each active mentee). The text after | is Markdown. It goes to the forum's announcements
    category as a topic, and every Matrix copy links to it.
    """
    title, bar, body = args["title | text"].partition("|")
    title, body = " ".join(title.split()), body.strip()
    if not bar or not body:
        raise UsageError(said.needs_bar(ctx))
    draft = await announcements.draft(ctx, await ctx.me(), Audience(audience), title, body)
    ctx.reply(said.drafted(ctx, draft), answers=answers.announcement(draft.ann.id, ctx.sender))


@router.command(
    "confirm",
    args=[Arg("announcement", NUMBER)],
    roles=[Role.COUNCIL],
    rooms=COUNCIL_ROOM,
    examples=("confirm 2",),
)
async def confirm(ctx: Context, announcement: int) -> None:
    """Publish a drafted announcement (in the council room; in a DM, confirm is for check-ins)."""
    ctx.reply(said.confirmed(ctx, await announcements.confirm(ctx, announcement, await ctx.me())))


@router.command(
    "cancel",
    args=[Arg("announcement", NUMBER)],
    roles=[Role.COUNCIL],
    rooms=COUNCIL_ROOM,
    examples=("cancel 2",),
)
async def cancel(ctx: Context, announcement: int) -> None:
    """Drop a drafted announcement; nothing of it is sent."""
    ann, now = await announcements.cancel(ctx, announcement, await ctx.me())
    ctx.reply(said.cancelled(ann, now))


@router.command(
    "announcements",
    safe=True,
    roles=[Role.COUNCIL],
    rooms=(RoomKind.COUNCIL, RoomKind.DM),
    examples=("announcements",),
)
async def list_announcements(ctx: Context) -> None:
    """Recent announcements and where each copy stands: posted, waiting (and why), or failed."""
    standings = await announcements.recent(ctx.session, SHOWN)
    ctx.reply(said.standings(ctx, standings, ctx.zone) if standings else said.none_yet(ctx))


@router.command(
    "relay",
    args=[Arg("announcement", NUMBER)],
    roles=[Role.MENTOR],
    rooms=(RoomKind.MENTORS, RoomKind.DM),
    examples=("relay 1",),
)
async def relay(ctx: Context, announcement: int) -> None:
    """Pass a published announcement on to your mentees, by DM (each gets it once)."""
    ctx.reply(said.relayed(await announcements.relay(ctx, announcement, await ctx.me())))
