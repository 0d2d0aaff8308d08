"""Confidential records: sessions, diary, goals, feedback, and the history of a mentee.

Everything here is read and written in direct messages only. Who may read what
follows the program's ethics: the mentee their own, their current mentor theirs,
the council everything; feedback is for the council alone.
"""

from __future__ import annotations

import re

from commands.dispatcher import Context
from commands.framework import DM_ONLY, Arg, Choice, CommandError, Integer, MatrixId, Role, Router, Text, is_matrix_id
from commands.messages import Target
from commands.services import checkins, mentorships, people, records, reviews, visibility
from commands.services.records import NotYourMentee
from commands.services.reviews import Decision
from commands.services.visibility import Reader
from commands.text import lines
from commands.words import agreements as reviews_said
from commands.words import records as said
from storage.models import GoalState, SessionKind

router = Router("records", "Sessions, diary and goals")

SESSION_EXAMPLE = "session @ana:example.org regular planned the event | next: book a venue | progress: 3-6"
LABELS = {"next": "next_steps", "next steps": "next_steps", "progress": "progress", "remarks": "remarks",
          "remark": "remarks", "goals": "goals", "goal": "goals", "then": "then"}
GOAL_STATES = {"reached": GoalState.DONE, "done": GoalState.DONE, "in progress": GoalState.OPEN,
               "progress": GoalState.OPEN, "open": GoalState.OPEN, "dropped": GoalState.DROPPED,
               "drop": GoalState.DROPPED}
GOAL_REVIEWED = re.compile(r"^#?(\d{1,9})\s+(.+)$")
DECISIONS = {"end": Decision.END, "close": Decision.END, "extend": Decision.EXTEND}
PROGRESS = re.compile(r"^\s*(\d{1,2})\s*(?:(?:-|–|→|->|to)\s*(\d{1,2}))?\s*(?:/\s*10)?\s*$", re.I)


def parse_outcome(text_: str) -> dict:
    """``outcome | next: ... | progress: 3-6 | remarks: ...`` into its parts."""
    parts = [p.strip() for p in text_.split("|")]
    out: dict = {"outcome": parts[0], "next_steps": None, "progress_start": None, "progress_now": None,
                 "remarks": None, "goals": [], "then": None}
    if not out["outcome"]:
        raise CommandError(said.no_outcome(SESSION_EXAMPLE))
    for part in parts[1:]:
        label, sep, value = part.partition(":")
        key = LABELS.get(label.strip().lower())
        if not sep or key is None or not value.strip():
            raise CommandError(said.unreadable_part(part, SESSION_EXAMPLE))
        if key == "goals":
            out["goals"] = parse_goals(value)
        elif key == "then":
            decision = DECISIONS.get(value.strip().lower())
            if decision is None:
                raise CommandError(reviews_said.then_usage())
            out["then"] = decision
        elif key == "progress":
            match = PROGRESS.match(value)
            numbers = [int(n) for n in match.groups() if n] if match else []
            if not numbers or not all(1 <= n <= 10 for n in numbers):
                raise CommandError(said.progress_scale())
            out["progress_start"], out["progress_now"] = (numbers[0], numbers[1]) if len(numbers) == 2 else (None, numbers[0])
        else:
            out[key] = value.strip()
    return out


def parse_goals(value: str) -> list[tuple[int, GoalState]]:
    """``3 reached, 4 in progress, 5 dropped`` into (goal number, where it stands)."""
    out: dict[int, GoalState] = {}
    for item in re.split(r"[,;]", value):
        match = GOAL_REVIEWED.match(item.strip())
        state = GOAL_STATES.get(" ".join(match.group(2).lower().split())) if match else None
        if state is None:
            raise CommandError(reviews_said.goals_part_usage())
        out[int(match.group(1))] = state
    return list(out.items())


@router.command(
    "session",
    args=[Arg("mentee", MatrixId()), Arg("kind", Choice("orientation", "regular", "midterm", "final", label="kind")),
          Arg("outcome", Text("outcome", max_length=2000))],
    roles=[Role.MENTOR],
    rooms=DM_ONLY,
    examples=(SESSION_EXAMPLE, "session @ana:example.org orientation agreed goals and a monthly call",
              "session @ana:example.org midterm halfway there | goals: 1 reached | progress: 3-6"),
)
async def session(ctx: Context, mentee: str, kind: str, outcome: str) -> None:
    """Record a session with your mentee, privately: its kind, how it went, and optionally
    `| next: ...`, `| progress: 3-6` (1-10, start and now) and `| remarks: ...`.

    A mid-term or final review revisits the goals of your agreement with
    `| goals: 3 reached, 4 in progress, 5 dropped` (the numbers are in `history`); a final
    review ends with `| then: end` to close the mentorship or `| then: extend` to go on
    together, and your mentee is shown what was reached. Only you, your mentee and the
    council can read it. The check-in it belongs to is marked as held.
    """
    me = await ctx.me()
    current, person = await records.mentee_of(ctx, me, mentee)
    parts = parse_outcome(outcome)
    goals, decision = parts.pop("goals"), parts.pop("then")
    await reviews.check(ctx, current, person, SessionKind(kind), goals, decision)
    record, held = await records.record_session(ctx, current, SessionKind(kind), parts, by=me)
    if SessionKind(kind) in reviews.REVIEWS:
        await reviews.revisit(ctx, current, record, person, me, goals, decision)
    ctx.reply(lines(said.session_recorded(ctx, kind, person, parts, held, ctx.zone),
                    reviews_said.review_summary(goals, decision)))


@router.command(
    "diary",
    args=[Arg("entry", Text("entry", max_length=2000), optional=True)],
    roles=[Role.MENTEE],
    rooms=DM_ONLY,
    examples=("diary", "diary gave my first talk today; nervous but it went well"),
)
async def diary(ctx: Context, entry: str | None) -> None:
    """Write in your mentoring diary, or read your latest entries. Your mentor and the council can read it too."""
    me = await ctx.me()
    if entry:
        await records.write_diary(ctx, me, entry)
        ctx.reply(said.diary_written())
        return
    entries = await records.diary_of(ctx.session, me.id)
    if not entries:
        ctx.reply(said.diary_empty(ctx))
        return
    ctx.reply(said.diary(entries, ctx.zone))


@router.command("goals", safe=True, roles=[Role.MENTEE], rooms=DM_ONLY, examples=("goals",))
async def goals(ctx: Context) -> None:
    """Your goals, open and reached."""
    me = await ctx.me()
    rows = await records.goals_of(ctx.session, me.id)
    if not rows:
        ctx.reply(said.no_goals(ctx))
        return
    ctx.reply(said.goals(ctx, rows, ctx.zone))


@router.command(
    "goals add",
    args=[Arg("goal", Text("goal", max_length=500))],
    roles=[Role.MENTEE],
    rooms=DM_ONLY,
    examples=("goals add give a talk at a local meetup",),
)
async def goals_add(ctx: Context, goal: str) -> None:
    """Add a goal for your mentoring. Your mentor and the council can see your goals."""
    me = await ctx.me()
    row = await records.add_goal(ctx, me, goal)
    ctx.reply(said.goal_added(ctx, row))


@router.command(
    "goals done",
    args=[Arg("goal", Integer(minimum=1, label="goal number"))],
    roles=[Role.MENTEE],
    rooms=DM_ONLY,
    examples=("goals done 1",),
)
async def goals_done(ctx: Context, goal: int) -> None:
    """Mark one of your goals as reached."""
    me = await ctx.me()
    if await records.reach_goal(ctx, me, goal):
        ctx.reply(said.goal_reached(goal))
    else:
        ctx.reply(said.goal_already_reached(goal))


@router.command(
    "history",
    safe=True,
    args=[Arg("mentee", MatrixId(), optional=True)],
    roles=[Role.MENTEE, Role.MENTOR, Role.COUNCIL],
    rooms=DM_ONLY,
    examples=("history @ana:example.org", "history"),
)
async def history(ctx: Context, mentee: str | None) -> None:
    """The record of a mentorship: sessions, check-ins, goals and diary.

    Mentors see their current mentees'; mentees their own (without a name); the council anyone's.
    """
    me = await ctx.me()
    found = await records.history(ctx, me, mentee, council=Role.COUNCIL in ctx.roles, room=ctx.room)
    ctx.reply(said.history(found, ctx.zone))


# ---------------------------------------------------------------- commitment and feedback


@router.command(
    "extend",
    args=[Arg("mentee", MatrixId(), optional=True)],
    roles=[Role.MENTEE, Role.MENTOR],
    rooms=DM_ONLY,
    examples=("extend @gia:example.org",),
)
async def extend(ctx: Context, mentee: str | None) -> None:
    """Go on together for another commitment period, when the current one ends (within its last month).

    A mentee sends `extend`; a mentor names the mentee.
    """
    me = await ctx.me()
    m = await records.mentorship_to_extend(ctx, me, mentee)
    records.extend_commitment(ctx, m, by=me)
    other = await mentorships.person_by_id(ctx.session, checkins.partner_id(m, me.id))
    ctx.reply(said.extended(other, m.commitment_ends_at, ctx.zone))
    ctx.send(Target.dm(other.matrix_id), said.extended_for_other(me, m.commitment_ends_at,
                                                                 people.zone_of(other, ctx.policy)))


@router.command(
    "feedback",
    args=[Arg("answer", Text("answer", max_length=2000))],
    roles=[Role.MENTEE, Role.MENTOR],
    rooms=DM_ONLY,
    examples=("feedback we meet regularly and I learn a lot | more practice sessions",),
)
async def feedback(ctx: Context, answer: str) -> None:
    """Give this year's feedback on your mentorship: `<what goes well> | <what could be better>`.

    Only the council reads it. A mentor starts with the mentee's Matrix ID. Sending it
    again replaces your answer for this year.
    """
    me = await ctx.me()
    first, _, rest = answer.strip().partition(" ")
    named = is_matrix_id(first)
    try:
        m = await records.mentorship_for_feedback(ctx, me, first if named else None)
    except NotYourMentee as exc:
        raise CommandError(said.feedback_not_your_mentee(exc)) from None
    if named:
        answer = rest
    well, _, better = answer.partition("|")
    if not well.strip():
        raise CommandError(said.feedback_needs_answer(ctx))
    year = await records.give_feedback(ctx, me, m, well.strip(), better.strip() or None)
    ctx.reply(said.feedback_recorded(year, ctx))


@router.command("feedbacks", safe=True, roles=[Role.COUNCIL], rooms=DM_ONLY, examples=("feedbacks",))
async def feedbacks(ctx: Context) -> None:
    """This year's feedback answers (council only, in a direct message)."""
    if not visibility.may_read("feedback.strengths", {Reader.COUNCIL}, ctx.room):
        raise CommandError(said.feedback_confidential(ctx))
    year = records.feedback_round(ctx)
    rows = await records.feedback_answers(ctx.session, year)
    if not rows:
        ctx.reply(said.no_feedback(year))
        return
    ctx.reply(said.feedback_answers(year, rows))
