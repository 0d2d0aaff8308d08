"""Group mentoring: a mentor with a small group of mentees, their room, check-ins and sessions."""

from __future__ import annotations

from commands.arguments import OPTIONAL_REASON, KnownPerson
from commands.dispatcher import Context
from commands.framework import DM_ONLY, Arg, Choice, CommandError, Integer, MatrixId, Plan, Role, Router, Schedule, Text
from commands.kinds import RoomKind
from commands.records import parse_outcome
from commands.services import groups, people
from commands.words import groups as said
from commands.words import records as records_said
from storage.models import SessionKind

router = Router("groups", "Group mentoring")

GROUP = Arg("group", Integer(minimum=1, label="group number"))
IN_GROUPS = [Role.MENTOR, Role.MENTEE, Role.COUNCIL]
GROUP_SESSION_EXAMPLE = "group session 1 regular everyone shared a goal | next: a short talk each"


@router.command(
    "group create",
    args=[Arg("name", Text("name", max_length=100))],
    roles=[Role.MENTOR],
    rooms={RoomKind.DM, RoomKind.MENTORS},
    examples=("group create First-year writers",),
)
async def create(ctx: Context, name: str) -> None:
    """Start a mentoring group that you lead, with a name; I open a private room for it.

    A group has at most as many mentees as the program's largest group (`max_group_size`).
    """
    me = await ctx.me()
    group = await groups.create(ctx, me, name)
    ctx.reply(said.created(ctx, group, people.largest_group(ctx.policy)))


@router.command(
    "group invite",
    args=[GROUP, Arg("mentee", MatrixId())],
    roles=[Role.MENTOR],
    rooms=DM_ONLY,
    examples=("group invite 1 @ana:example.org",),
)
async def invite(ctx: Context, group: int, mentee: str) -> None:
    """Ask a mentee to join your group; they join by agreeing in their DM.

    Every member is asked, even one of your own mentees: the members of a group see who
    the others are. Those asked count towards the group's size until they answer.
    """
    me = await ctx.me()
    g = await groups.group_of(ctx, me, group)
    person, places = await groups.invite(ctx, g, me, mentee)
    ctx.reply(said.invited(g, person, places))


async def _answer(ctx: Context, group: int, join: bool) -> None:
    me = await ctx.me()
    g = await groups.answer(ctx, me, group, join=join)
    ctx.reply(said.answered(ctx, g, join))


@router.command("group join", args=[GROUP], roles=[Role.ANYONE], rooms=DM_ONLY, examples=("group join 1",))
async def join(ctx: Context, group: int) -> None:
    """Join a group you were asked to; you are invited to its private room."""
    await _answer(ctx, group, True)


@router.command("group decline", args=[GROUP], roles=[Role.ANYONE], rooms=DM_ONLY, examples=("group decline 1",))
async def decline(ctx: Context, group: int) -> None:
    """Say no to joining a group you were asked to; its mentor is told."""
    await _answer(ctx, group, False)


@router.command("groups", safe=True, roles=IN_GROUPS, rooms={RoomKind.DM, RoomKind.COUNCIL}, examples=("groups",))
async def list_groups(ctx: Context) -> None:
    """The groups you lead or are in, with their members (the council: every group)."""
    me = await ctx.me()
    found = await groups.groups_of(ctx.session, me, everyone=Role.COUNCIL in ctx.roles)
    mentors = await people.by_ids(ctx.session, (g.mentor_id for g in found))
    entries = [(g, mentors[g.mentor_id], await groups.member_people(ctx.session, g.id),
                next(iter(await groups.planned_checkins(ctx.session, g.id)), None)) for g in found]
    ctx.reply(said.group_list(ctx, entries, me, ctx.zone))


@router.command(
    "group leave",
    args=[GROUP, OPTIONAL_REASON],
    roles=[Role.MENTEE],
    rooms=DM_ONLY,
    examples=("group leave 1", "group leave 1 the times no longer suit me"),
)
async def leave(ctx: Context, group: int, reason: str | None) -> None:
    """Leave a group, at any time; a reason is never required, and one you give is for the council only."""
    me = await ctx.me()
    g = await groups.leave(ctx, me, group, reason)
    ctx.reply(said.left(g))


@router.command(
    "group end",
    args=[GROUP, OPTIONAL_REASON],
    roles=[Role.MENTOR],
    rooms=DM_ONLY,
    examples=("group end 1",),
)
async def end(ctx: Context, group: int, reason: str | None) -> None:
    """End a group you lead, at any time; its members are told (never your reason, which is for the council only)."""
    me = await ctx.me()
    g = await groups.group_of(ctx, me, group)
    members = await groups.end(ctx, g, by=me, reason=reason)
    ctx.reply(said.ended(g, len(members)))


@router.command(
    "group mentor",
    args=[GROUP, Arg("mentor", KnownPerson(Role.MENTOR))],
    roles=[Role.COUNCIL, Role.MENTOR],
    rooms={RoomKind.DM, RoomKind.COUNCIL},
    examples=("group mentor 1 @dana:example.org",),
)
async def change_mentor(ctx: Context, group: int, mentor) -> None:
    """Give a group another mentor: the council at any time; its own mentor once the group's
    commitment is over (before that, the council decides)."""
    me = await ctx.me()
    council = Role.COUNCIL in ctx.roles
    g = await groups.group_of(ctx, me, group, council=council)
    old = await groups.change_mentor(ctx, g, mentor, by=me, council=council)
    ctx.reply(said.mentor_changed(g, old, mentor))


@router.command(
    "group checkin",
    args=[GROUP, Arg("when", Schedule())],
    roles=[Role.MENTOR],
    rooms=DM_ONLY,
    examples=("group checkin 1 next tuesday 18:00", "group checkin 1 every month from 2027-03-02 18:00"),
)
async def checkin(ctx: Context, group: int, when: Plan) -> None:
    """Plan a check-in of your group, once or repeating; you and every member are reminded in the group's room."""
    me = await ctx.me()
    g = await groups.group_of(ctx, me, group)
    c = await groups.schedule(ctx, g, when.at, ctx.zone.key, by=me, every_months=when.every_months,
                              every_weeks=when.every_weeks)
    ctx.reply(said.checkin_planned(ctx, g, c, len(await groups.member_people(ctx.session, g.id)), ctx.zone))


@router.command(
    "group checkin cancel",
    args=[Arg("checkin", Integer(minimum=1, label="check-in number"))],
    roles=[Role.MENTOR],
    rooms=DM_ONLY,
    examples=("group checkin cancel 3",),
)
async def cancel_checkin(ctx: Context, checkin: int) -> None:
    """Cancel a check-in of your group (a repeating one stops repeating); its members are told."""
    me = await ctx.me()
    c, g, series = await groups.cancel_checkin(ctx, me, checkin)
    ctx.reply(said.checkin_cancelled(g, c, ctx.zone, series=series))


@router.command(
    "group session",
    args=[GROUP, Arg("kind", Choice("orientation", "regular", "midterm", "final", label="kind")),
          Arg("outcome", Text("outcome", max_length=2000))],
    roles=[Role.MENTOR],
    rooms=DM_ONLY,
    examples=(GROUP_SESSION_EXAMPLE,),
)
async def session(ctx: Context, group: int, kind: str, outcome: str) -> None:
    """Record a session of your group: its kind, how it went, and optionally `| next: ...`.

    Its members, you and the council can read it; each member is sent it in their DM. A
    member's own diary and goals stay between them and their own mentor.
    """
    me = await ctx.me()
    g = await groups.group_of(ctx, me, group)
    parts = parse_outcome(outcome)
    if parts["progress_now"] is not None or parts["remarks"]:
        raise CommandError(records_said.unreadable_part(outcome.split("|", 1)[1].strip(), GROUP_SESSION_EXAMPLE))
    record = await groups.record_session(ctx, g, SessionKind(kind), parts["outcome"], parts["next_steps"], by=me)
    ctx.reply(said.session_recorded(g, record, len(await groups.member_people(ctx.session, g.id))))


@router.command("group sessions", safe=True, args=[GROUP], roles=IN_GROUPS, rooms=DM_ONLY,
                examples=("group sessions 1",))
async def list_sessions(ctx: Context, group: int) -> None:
    """The latest recorded sessions of a group you lead or are in (the council: any group)."""
    me = await ctx.me()
    g = await groups.group_of(ctx, me, group, council=Role.COUNCIL in ctx.roles, running=False)
    ctx.reply(said.sessions(g, await groups.sessions_of(ctx.session, g.id), ctx.zone))
