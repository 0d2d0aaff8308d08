"""Council announcements: announce, confirm, cancel, announcements; mentors pass them on with relay."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from commands import text
from commands.dispatcher import Context
from commands.framework import Arg, Choice, CommandError, Integer, Role, RoomKind, Router, Text, UsageError
from commands.services import announcements
from commands.services.announcements import AUDIENCE_WORDS
from commands.words.checkins import shown
from commands.text import Msg, bold, lines
from storage.models import Announcement, AnnouncementState, Audience, CopyState

router = Router("announcements", "Announcements")

COUNCIL_ROOM = (RoomKind.COUNCIL,)
NUMBER = Integer(minimum=1, label="announcement number")
SHOWN = 10


async def _announcement(ctx: Context, number: int) -> Announcement:
    ann = await announcements.get(ctx.session, number)
    if ann is None:
        raise CommandError(Msg(f"There is no announcement #{number}. Send ", ctx.cmd("announcements"),
                               " to see the recent ones."))
    return ann


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
        raise UsageError(Msg("Put a | between the title and the text, like ",
                             ctx.cmd("announce all Mentor training on 3 March | Join us at 16:00 UTC..."), "."))
    problem = announcements.check_title(title) or announcements.check_body(body)
    if problem:
        raise UsageError(problem)
    me = await ctx.me()
    ann = announcements.draft(ctx, me, Audience(audience), title, body)
    await ctx.session.flush()
    dms = await announcements.reach(ctx.session, ann.audience)
    goes = [f"the forum ({ctx.forum})" if ctx.forum else None, "the mentors room",
            f"{dms} mentee{'s' if dms != 1 else ''} by DM" if ann.audience is not Audience.MENTORS else None]
    ctx.reply(lines(
        Msg(f"Draft announcement #{ann.id}. This is how it will read:"),
        announcements.as_message(ann, None),
        Msg("It goes to ", text.join([g for g in goes if g]), ". Send ", ctx.cmd(f"confirm {ann.id}"),
            " to publish it, or ", ctx.cmd(f"cancel {ann.id}"), " to drop it."),
    ))


@router.command(
    "confirm",
    args=[Arg("announcement", NUMBER)],
    roles=[Role.COUNCIL],
    rooms=COUNCIL_ROOM,
    examples=("confirm 2",),
)
async def confirm(ctx: Context, announcement: int) -> None:
    """Publish a drafted announcement (in the council room; in a DM, confirm is for check-ins)."""
    ann = await _announcement(ctx, announcement)
    if ann.state is AnnouncementState.CONFIRMED:
        ctx.reply(Msg(f"Announcement #{ann.id} was already published. ", ctx.cmd("announcements"),
                      " shows where its copies stand."))
        return
    if ann.state is AnnouncementState.CANCELLED:
        raise CommandError(Msg(f"Announcement #{ann.id} was cancelled. Send ", ctx.cmd("announce ..."),
                               " to write it again."))
    me = await ctx.me()
    dms = await announcements.publish(ctx, ann, me)
    dm_part = f" and {dms} mentee{'s' if dms != 1 else ''} by DM" if ann.audience is not Audience.MENTORS else ""
    if ctx.forum:
        ctx.reply(Msg(f"Publishing announcement #{ann.id}: posting it to the forum ({ctx.forum}); then it goes to "
                      f"the mentors room{dm_part}, with the link. I'll tell you here when it is up."))
    else:
        ctx.reply(Msg(f"Published announcement #{ann.id} to the mentors room{dm_part}. "
                      "(No forum is configured, so there is no forum topic.)"))


@router.command(
    "cancel",
    args=[Arg("announcement", NUMBER)],
    roles=[Role.COUNCIL],
    rooms=COUNCIL_ROOM,
    examples=("cancel 2",),
)
async def cancel(ctx: Context, announcement: int) -> None:
    """Drop a drafted announcement; nothing of it is sent."""
    ann = await _announcement(ctx, announcement)
    if ann.state is AnnouncementState.CONFIRMED:
        raise CommandError(f"Announcement #{ann.id} is already published; it cannot be taken back from here.")
    if ann.state is AnnouncementState.CANCELLED:
        ctx.reply(f"Announcement #{ann.id} was already cancelled.")
        return
    announcements.cancel(ctx, ann, await ctx.me())
    ctx.reply(Msg(f"Cancelled announcement #{ann.id}. Nothing of it was sent."))


@router.command(
    "announcements",
    roles=[Role.COUNCIL],
    rooms=(RoomKind.COUNCIL, RoomKind.DM),
    examples=("announcements",),
)
async def list_announcements(ctx: Context) -> None:
    """Recent announcements and where each copy stands: posted, waiting (and why), or failed."""
    standings = await announcements.recent(ctx.session, SHOWN)
    if not standings:
        ctx.reply(Msg("No announcements yet. Send ", ctx.typed("announce <audience> <title> | <text>", RoomKind.COUNCIL),
                      " in the council room to write one."))
        return
    out = [Msg(bold("Recent announcements"), " (newest first)")]
    for s in standings:
        out.append(_standing(ctx, s, ctx.zone))
    ctx.reply(lines(*out))


def _standing(ctx: Context, s: announcements.Standing, zone: ZoneInfo) -> Msg:
    ann = s.ann
    head = Msg(f"• #{ann.id} ", bold(ann.title), f" (for {AUDIENCE_WORDS[ann.audience]})")
    if ann.state is AnnouncementState.DRAFT:
        return Msg(head, ": draft, not sent. ", ctx.cmd(f"confirm {ann.id}"), " publishes it.")
    if ann.state is AnnouncementState.CANCELLED:
        return Msg(head, ": cancelled, not sent.")
    parts = [Msg(f"published {shown(ann.confirmed_at, zone)}")]
    f = s.forum
    if f is None:
        parts.append(Msg("forum: none configured"))
    elif f.state is CopyState.SENT:
        parts.append(Msg("forum: posted ", text.link(f.url)) if f.url else Msg("forum: printed by the shell"))
    elif f.state is CopyState.ENQUEUED:
        parts.append(Msg("forum: held for a moderator"))
    elif f.state is CopyState.FAILED:
        parts.append(Msg(f"forum: failed: {f.error}"))
    else:
        why = f" ({f.error})" if f.error else ""
        parts.append(Msg(f"forum: waiting{why}, next try {shown(f.next_attempt_at, zone)}"))
    parts.append(Msg(f"mentors room: {s.room}"))
    if s.dms_sent or s.dms_waiting or s.dms_failed:
        dm = f"DMs: {s.dms_sent} sent"
        dm += f", {s.dms_waiting} waiting" if s.dms_waiting else ""
        dm += f", {s.dms_failed} failed" if s.dms_failed else ""
        parts.append(Msg(dm))
    return Msg(head, ": ", text.join(parts, "; "))


@router.command(
    "relay",
    args=[Arg("announcement", NUMBER)],
    roles=[Role.MENTOR],
    rooms=(RoomKind.MENTORS, RoomKind.DM),
    examples=("relay 1",),
)
async def relay(ctx: Context, announcement: int) -> None:
    """Pass a published announcement on to your mentees, by DM (each gets it once)."""
    ann = await _announcement(ctx, announcement)
    if ann.state is not AnnouncementState.CONFIRMED or not await announcements.released(ctx.session, ann):
        raise CommandError(f"Announcement #{ann.id} has not been published yet; you can pass it on once it "
                           "appears in the mentors room.")
    me = await ctx.me()
    sent, had = await announcements.relay_to_mentees(ctx, ann, me)
    if not sent and not had:
        ctx.reply("You have no active mentees to pass it on to.")
    elif not sent:
        ctx.reply(f"Your mentees already have announcement #{ann.id}; nothing more was sent.")
    else:
        extra = f" ({had} already had it)" if had else ""
        ctx.reply(f"Passed announcement #{ann.id} on to {sent} mentee{'s' if sent != 1 else ''} by DM{extra}.")

