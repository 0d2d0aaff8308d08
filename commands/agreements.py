"""The agreement between a mentor and a mentee: write it, confirm it, read it, and say
whether it works. In direct messages only: it is confidential to the two and the council."""

from __future__ import annotations

from commands.dispatcher import Context
from commands.framework import DM_ONLY, Arg, CommandError, MatrixId, Role, Router, Text, is_matrix_id
from commands.services import agreements, mentorships
from commands.words import agreements as said

router = Router("agreements", "The agreement of a mentorship")

# How each part may be labelled in a draft.
LABELS = {
    "goals": "goals", "goal": "goals",
    "mentor": "mentor_part", "mentor commits": "mentor_part",
    "mentee": "mentee_part", "mentee commits": "mentee_part",
    "contact": "contact", "talk": "contact", "meetings": "contact",
    "cancel": "cancelling", "cancelling": "cancelling", "cancellation": "cancelling",
    "urgent": "urgent", "urgent help": "urgent",
}
YES, NO = {"yes", "y", "works", "ok", "fine"}, {"no", "n", "not"}


def parse_draft(text_: str) -> dict[str, str]:
    """``goals: a; b | mentor: ... | contact: ...`` into the parts it writes."""
    out: dict[str, str] = {}
    for piece in (p.strip() for p in text_.split("|")):
        if not piece:
            continue
        name, sep, value = piece.partition(":")
        part = LABELS.get(" ".join(name.lower().split()))
        if not sep or part is None or not value.strip():
            raise CommandError(said.unreadable_draft(piece))
        out[part] = " ".join(value.split()) if part != "goals" else "; ".join(agreements.goal_items(value))
    if not out:
        raise CommandError(said.empty_draft())
    return out


def _named(text_: str) -> tuple[str | None, str]:
    """A mentor names the mentee first: (their Matrix ID or None, the rest)."""
    first, _, rest = text_.strip().partition(" ")
    return (first, rest) if is_matrix_id(first) else (None, text_)


@router.command(
    "agreement",
    safe=True,
    args=[Arg("mentee", MatrixId(), optional=True)],
    roles=[Role.MENTEE, Role.MENTOR, Role.COUNCIL],
    rooms=DM_ONLY,
    examples=("agreement @ana:example.org",),
)
async def show(ctx: Context, mentee: str | None) -> None:
    """Your agreement: the one in force, a draft waiting to be confirmed, and the follow-up answers.

    A mentee sends `agreement`; a mentor names the mentee; the council may read anyone's.
    """
    me = await ctx.me()
    if mentee and Role.COUNCIL in ctx.roles and not await _is_mentor_of(ctx, me, mentee):
        person = await mentorships.known_person(ctx, mentee, Role.MENTEE)
        current = await mentorships.active_of(ctx.session, person.id)
        if current is None:
            raise agreements.NoMentorship(is_mentor=False)
        mentor = await mentorships.person_by_id(ctx.session, current.mentor_id)
        side = agreements.Side(current, me, person, person, mentor)
    else:
        side = await agreements.side_of(ctx, me, mentee)
    confirmed, draft = await agreements.versions(ctx.session, side.mentorship.id)
    goals = await agreements.goals_agreed(ctx.session, side.mentorship.id)
    checks = await agreements.answers(ctx.session, side.mentorship.id)
    ctx.reply(said.shown(ctx, side.mentee, side.mentor, confirmed, draft, goals, checks, ctx.zone,
                         mentor_reads=side.me.id != side.mentee.id))


async def _is_mentor_of(ctx: Context, me, mentee: str) -> bool:
    try:
        await mentorships.mentee_of(ctx, me, mentee)
    except mentorships.NotYourMentee:
        return False
    return True


@router.command(
    "agreement draft",
    args=[Arg("parts", Text("parts of the agreement", max_length=4000))],
    roles=[Role.MENTEE, Role.MENTOR],
    rooms=DM_ONLY,
    examples=(said.DRAFT_EXAMPLE, "agreement draft urgent: call me on the phone"),
)
async def draft(ctx: Context, parts: str) -> None:
    """Write your agreement, or change it: the parts you name, each after its label,
    separated by `|`. A mentor names the mentee first.

    The labels: `goals:` (the mentee's goals, separated by `;`), `mentor:` and `mentee:`
    (what each commits to), `contact:` (how and how often you talk), `cancel:` (how a
    meeting is cancelled) and `urgent:` (how to ask for urgent help). Parts you leave out
    stay as they were. Once every part is written, the other side is asked to confirm;
    a change to an agreement in force needs their confirmation again.
    """
    me = await ctx.me()
    mentee, rest = _named(parts)
    side = await agreements.side_of(ctx, me, mentee)
    row = await agreements.draft(ctx, side, parse_draft(rest))
    ctx.reply(said.drafted(ctx, side, row, agreements.missing(row)))


@router.command(
    "agreement confirm",
    args=[Arg("mentee", MatrixId(), optional=True)],
    roles=[Role.MENTEE, Role.MENTOR],
    rooms=DM_ONLY,
    examples=("agreement confirm @ana:example.org",),
)
async def confirm(ctx: Context, mentee: str | None) -> None:
    """Confirm the draft the other side wrote: it becomes your agreement, and its goals the mentee's goals."""
    me = await ctx.me()
    side = await agreements.side_of(ctx, me, mentee)
    await agreements.confirm(ctx, side)
    ctx.reply(said.confirmed(ctx, side))


@router.command(
    "agreement discard",
    args=[Arg("mentee", MatrixId(), optional=True)],
    roles=[Role.MENTEE, Role.MENTOR],
    rooms=DM_ONLY,
    examples=("agreement discard @ana:example.org",),
)
async def discard(ctx: Context, mentee: str | None) -> None:
    """Throw away the draft waiting to be confirmed (either side may); the agreement in force stays."""
    me = await ctx.me()
    side = await agreements.side_of(ctx, me, mentee)
    await agreements.discard(ctx, side)
    ctx.reply(said.discarded())


@router.command(
    "agreement works",
    args=[Arg("answer", Text("answer", max_length=2000))],
    roles=[Role.MENTEE, Role.MENTOR],
    rooms=DM_ONLY,
    examples=("agreement works yes", "agreement works no we should meet more often"),
)
async def works(ctx: Context, answer: str) -> None:
    """Answer the follow-up a month after the start: does your agreement work? `yes`, or
    `no` and what should change. A mentor names the mentee first.

    Your answer is kept for the other side and the council; a `no` tells the other side.
    """
    me = await ctx.me()
    mentee, rest = _named(answer)
    word, _, note = rest.strip().partition(" ")
    if word.lower() not in YES | NO:
        raise CommandError(said.works_usage())
    side = await agreements.side_of(ctx, me, mentee)
    yes = word.lower() in YES
    await agreements.answer(ctx, side, yes, " ".join(note.split()) or None)
    ctx.reply(said.answered(ctx, yes))

