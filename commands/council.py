"""The council's side of mentorships: assign, reassign, decide changes, the queue, the history."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from commands.arguments import PERSON
from commands.dispatcher import Context
from commands.framework import Arg, Integer, MatrixId, Role, RoomKind, Router, Text
from commands.messages import Target
from commands.services import cohort, council, people, rules, visibility
from commands.services.visibility import Reader
from commands.words import cohort as cohort_said
from commands.words import council as words
from commands.words import rules as rules_said

router = Router("council", "Council")

COUNCIL_ROOMS = (RoomKind.COUNCIL, RoomKind.DM)


@router.command(
    "assign",
    args=[Arg("mentee", MatrixId()), Arg("mentor", MatrixId())],
    roles=[Role.COUNCIL],
    rooms=COUNCIL_ROOMS,
    examples=("assign @hana:example.org @eli:example.org",),
)
async def assign(ctx: Context, mentee: str, mentor: str) -> None:
    """Give a mentee a mentor directly (their open request, if any, is closed)."""
    ctx.reply(words.assigned(await council.assign(ctx, ctx.sender, mentee, mentor)))


@router.command(
    "reassign",
    args=[Arg("mentee", MatrixId()), Arg("mentor", MatrixId())],
    roles=[Role.COUNCIL],
    rooms=COUNCIL_ROOMS,
    examples=("reassign @ana:example.org @dana:example.org",),
)
async def reassign(ctx: Context, mentee: str, mentor: str) -> None:
    """Move a mentee to another mentor; their planned check-ins move too, and all three are told."""
    ctx.reply(words.reassigned(await council.reassign(ctx, ctx.sender, mentee, mentor)))


@router.command(
    "approve",
    args=[Arg("change", Integer(minimum=1, label="change request number"))],
    roles=[Role.COUNCIL],
    rooms=COUNCIL_ROOMS,
    examples=("approve 1",),
)
async def approve(ctx: Context, change: int) -> None:
    """Approve a mentee's request to change mentor: the bot looks for a new one."""
    mentee, request = await council.approve_change(ctx, ctx.sender, change)
    ctx.reply(words.change_approved_done(change, mentee, request.id))


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
    mentee = await council.refuse_change(ctx, ctx.sender, change, note)
    ctx.reply(words.change_refused_done(change, mentee))


@router.command("council", safe=True, roles=[Role.COUNCIL], rooms=COUNCIL_ROOMS, examples=("council",))
async def council_list(ctx: Context) -> None:
    """Who is on the council: members of the council room and those the configuration names."""
    members = await people.council_members(ctx.session, ctx.policy)
    ctx.reply(words.council_members(members, ctx.policy.council, ctx.cmd("council remove <person>")))


@router.command(
    "council remove",
    args=[PERSON],
    roles=[Role.COUNCIL],
    rooms=COUNCIL_ROOMS,
    examples=("council remove @ina:example.org",),
)
async def council_remove(ctx: Context, person: str) -> None:
    """Take someone off the council at once, even if the configuration names them.

    Neither the configuration's council list nor the council room gives them their
    rights back; `council add` does. Remove them from the council room too.
    """
    done = await council.remove_from_council(ctx, ctx.sender, person)
    ctx.reply(words.removed_from_council(done))
    ctx.send(Target.dm(done.person.matrix_id), words.farewell_council(ctx.policy.name))


@router.command(
    "council add",
    args=[PERSON],
    roles=[Role.COUNCIL],
    rooms=COUNCIL_ROOMS,
    examples=("council add @ina:example.org",),
)
async def council_add(ctx: Context, person: str) -> None:
    """Let someone be on the council again, after `council remove`.

    Council rights come from the council room: invite them to it (or name them in
    [program] council in the configuration).
    """
    ctx.reply(words.added_to_council(await council.add_to_council(ctx, ctx.sender, person)))


@router.command("queue", safe=True, roles=[Role.COUNCIL], rooms=COUNCIL_ROOMS, examples=("queue",))
async def queue(ctx: Context) -> None:
    """What waits for the council: escalated requests and changes of mentor to decide.

    Reasons mentees gave are shown only in a direct message.
    """
    ctx.reply(words.queue(await council.queue(ctx, ctx.room), ctx, ctx.room, ctx.zone))


@router.command(
    "audit",
    safe=True,
    args=[PERSON],
    roles=[Role.COUNCIL],
    rooms=COUNCIL_ROOMS,
    examples=("audit @ana:example.org",),
)
async def audit_trail(ctx: Context, person: str) -> None:
    """The history of a person's requests and mentorships: every change, who made it and when.

    Reasons (for declines, changes and ends) are shown only in a direct message.
    """
    history = await council.history(ctx, person, ctx.room)
    ctx.reply(words.history(history, ctx, ctx.zone, council.HISTORY_LIMIT))


@router.command(
    "report",
    safe=True,
    roles=[Role.COUNCIL],
    rooms=COUNCIL_ROOMS,
    examples=("report",),
)
async def report(ctx: Context) -> None:
    """The program in numbers, this month so far (the same figures as the monthly report; no names)."""
    zone = ZoneInfo(ctx.policy.timezone)
    local = ctx.now.astimezone(zone)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    figures = await rules.program_figures(ctx.session, ctx.now, ctx.policy, start, ctx.now)
    ctx.reply(rules_said.program_report(figures, rules_said.report_so_far_title(local, zone)))


@router.command(
    "report chart",
    safe=True,
    roles=[Role.COUNCIL],
    rooms=COUNCIL_ROOMS,
    examples=("report chart",),
)
async def report_chart(ctx: Context) -> None:
    """The last twelve months in a chart: requests opened, matched and escalated, active
    mentorships, relationships overdue, check-ins held (this month so far; no names).

    The same figures come as text with the image. The monthly report has it too.
    """
    zone = ZoneInfo(ctx.policy.timezone)
    year = await rules.program_year(ctx.session, ctx.now, ctx.policy, last=ctx.now)
    ctx.reply(rules_said.program_year(year, zone), (rules_said.program_chart(year, zone),))


# ---------------------------------------------------------------- cohort matching


def _names_here(ctx: Context) -> bool:
    """Whether mentees may be named where the council reads a proposal (the rule set's call)."""
    return visibility.may_read("identity.mentee", {Reader.COUNCIL}, ctx.room)


@router.command("cohort", roles=[Role.COUNCIL], rooms=COUNCIL_ROOMS, examples=("cohort",))
async def cohort_propose(ctx: Context) -> None:
    """Propose mentors for all open requests at once, for the best total fit.

    Each request goes to at most one mentor and no mentor beyond their free places
    (capacity, minus mentees, minus unanswered offers of a confirmed cohort); away and
    inactive mentors, mentors who declined a request and the mentor a mentee is leaving
    are left out. The fit is the one matching uses for a single request, and the
    proposal shows its total against matching the same requests one at a time, in queue
    order. Nothing is sent until `cohort confirm`; a new proposal replaces a waiting one.
    """
    ctx.reply(cohort_said.proposal(await cohort.propose(ctx, await ctx.me()), ctx, _names_here(ctx)))


@router.command("cohort show", safe=True, roles=[Role.COUNCIL], rooms=COUNCIL_ROOMS, examples=("cohort show",))
async def cohort_show(ctx: Context) -> None:
    """Show the cohort proposal waiting for confirmation again."""
    ctx.reply(cohort_said.proposal(await cohort.waiting_proposal(ctx), ctx, _names_here(ctx)))


@router.command("cohort confirm", roles=[Role.COUNCIL], rooms=COUNCIL_ROOMS, examples=("cohort confirm",))
async def cohort_confirm(ctx: Context) -> None:
    """Send the waiting cohort proposal's offers: each mentor is asked in a direct message,
    and accepts or declines as usual.

    Each pair is checked again first: a request taken or withdrawn meanwhile, or a mentor
    who is away, declined it or has no free place left now, is skipped and named. A
    proposal is confirmed once; confirming again sends nothing.
    """
    ctx.reply(cohort_said.confirmed(await cohort.confirm(ctx, await ctx.me()), ctx))


@router.command("cohort cancel", roles=[Role.COUNCIL], rooms=COUNCIL_ROOMS, examples=("cohort cancel",))
async def cohort_cancel(ctx: Context) -> None:
    """Drop the waiting cohort proposal; nothing is sent."""
    ctx.reply(cohort_said.cancelled(await cohort.cancel(ctx, await ctx.me())))
