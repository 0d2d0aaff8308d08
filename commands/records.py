"""Confidential records: sessions, diary, goals, feedback, and the history of a mentee.

Everything here is read and written in direct messages only. Who may read what
follows the program's ethics: the mentee their own, their current mentor theirs,
the council everything; feedback is for the council alone.
"""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from commands import text
from commands.clock import add_months
from commands.dispatcher import Context
from commands.framework import (DM_ONLY, Arg, Choice, CommandError, Integer, MatrixId, Role, RoomKind, Router, Text,
                                is_matrix_id)
from commands.messages import Target
from commands.services import audit, checkins, mentorships, people, rules, visibility
from commands.services.visibility import Reader
from commands.services.checkins import KIND_NAMES
from commands.services.mentorships import who
from commands.text import Msg, bold, lines
from storage.models import (
    CheckIn,
    CheckInKind,
    CheckInState,
    DiaryEntry,
    Feedback,
    Goal,
    GoalState,
    Mentorship,
    MentorshipState,
    Person,
    SessionKind,
    SessionRecord,
)

router = Router("records", "Sessions, diary and goals")

SESSION_EXAMPLE = "session @ana:example.org regular planned the event | next: book a venue | progress: 3-6"
LABELS = {"next": "next_steps", "next steps": "next_steps", "progress": "progress", "remarks": "remarks",
          "remark": "remarks"}
PROGRESS = re.compile(r"^\s*(\d{1,2})\s*(?:(?:-|–|→|->|to)\s*(\d{1,2}))?\s*(?:/\s*10)?\s*$", re.I)
HISTORY_ITEMS = 10


def parse_outcome(text_: str) -> dict:
    """``outcome | next: ... | progress: 3-6 | remarks: ...`` into its parts."""
    parts = [p.strip() for p in text_.split("|")]
    out: dict = {"outcome": parts[0], "next_steps": None, "progress_start": None, "progress_now": None,
                 "remarks": None}
    if not out["outcome"]:
        raise CommandError(Msg("Say how the session went, for example: ", text.code(SESSION_EXAMPLE)))
    for part in parts[1:]:
        label, sep, value = part.partition(":")
        key = LABELS.get(label.strip().lower())
        if not sep or key is None or not value.strip():
            raise CommandError(Msg(
                "After the outcome, add parts like ", text.code("| next: ..."), ", ", text.code("| progress: 3-6"),
                " or ", text.code("| remarks: ..."), f". I could not read {part[:40]!r}. For example: ",
                text.code(SESSION_EXAMPLE),
            ))
        if key == "progress":
            match = PROGRESS.match(value)
            numbers = [int(n) for n in match.groups() if n] if match else []
            if not numbers or not all(1 <= n <= 10 for n in numbers):
                raise CommandError(Msg("Progress is on a 1-10 scale: where they are now (", text.code("progress: 6"),
                                       "), or where they started and where they are now (",
                                       text.code("progress: 3-6"), ")."))
            out["progress_start"], out["progress_now"] = (numbers[0], numbers[1]) if len(numbers) == 2 else (None, numbers[0])
        else:
            out[key] = value.strip()
    return out


@router.command(
    "session",
    args=[Arg("mentee", MatrixId()), Arg("kind", Choice("orientation", "regular", "midterm", "final", label="kind")),
          Arg("outcome", Text("outcome", max_length=2000))],
    roles=[Role.MENTOR],
    rooms=DM_ONLY,
    examples=(SESSION_EXAMPLE, "session @ana:example.org orientation agreed goals and a monthly call"),
)
async def session(ctx: Context, mentee: str, kind: str, outcome: str) -> None:
    """Record a session with your mentee, privately: its kind, how it went, and optionally
    `| next: ...`, `| progress: 3-6` (1-10, start and now) and `| remarks: ...`.

    Only you, your mentee and the council can read it. The check-in it belongs to is
    marked as held.
    """
    me = await ctx.me()
    person = await people.find(ctx.session, mentee)
    current = await mentorships.active_of(ctx.session, person.id) if person else None
    if person is None or current is None or current.mentor_id != me.id:
        raise CommandError(Msg(text.person(mentee), " is not your mentee. Send ", ctx.cmd("mentees"), " to see yours."))
    parts = parse_outcome(outcome)
    record = SessionRecord(mentorship_id=current.id, author_id=me.id, kind=SessionKind(kind), held_at=ctx.now,
                           created_at=ctx.now, **parts)
    ctx.session.add(record)
    checkins.met(current, ctx.now)
    await ctx.session.flush()
    audit.record(ctx.session, at=ctx.now, actor=me, entity="session", entity_id=record.id, action="recorded")
    held = await _held_checkin(ctx, current, SessionKind(kind))
    if held is not None:
        await checkins.mark_done(ctx, held, by=me)
    progress = ""
    if parts["progress_now"]:
        progress = (f" Progress {parts['progress_start']} \u2192 {parts['progress_now']} of 10."
                    if parts["progress_start"] else f" Progress {parts['progress_now']} of 10.")
    done = f" {KIND_NAMES[held.kind].capitalize()} #{held.id} is marked as held." if held else ""
    ctx.reply(Msg(f"Recorded: {kind} session with ", who(person), f" on {ctx.now.astimezone(ctx.zone):%Y-%m-%d}.",
                  progress, done, " Only you, ", who(person), " and the council can read it."))


async def _held_checkin(ctx: Context, m: Mentorship, kind: SessionKind) -> CheckIn | None:
    """The planned check-in this session fulfils: the orientation for an orientation
    session, else the agreed one whose time has come (or is today)."""
    planned = (await ctx.session.exec(
        select(CheckIn).where(CheckIn.mentorship_id == m.id, CheckIn.state == CheckInState.SCHEDULED)
        .order_by(CheckIn.due_at, CheckIn.id)
    )).all()
    if kind is SessionKind.ORIENTATION:
        return next((c for c in planned if c.kind is CheckInKind.ORIENTATION), None)
    soon = ctx.now + timedelta(hours=12)
    held = [c for c in planned if c.arranged and c.due_at <= soon]
    if held:
        return held[-1]  # the latest agreed one whose time has come
    # No time was agreed: the session fulfils a deadline that is due (the follow-up).
    return next((c for c in planned if not c.arranged and c.kind is not CheckInKind.ORIENTATION
                 and c.due_at <= ctx.now + timedelta(days=7)), None)


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
        current = await mentorships.active_of(ctx.session, me.id)
        ctx.session.add(DiaryEntry(person_id=me.id, mentorship_id=current.id if current else None, text=entry,
                                   created_at=ctx.now))
        ctx.reply("Written in your diary. Your mentor and the council can read it; nobody else.")
        return
    entries = (await ctx.session.exec(
        select(DiaryEntry).where(DiaryEntry.person_id == me.id).order_by(DiaryEntry.created_at.desc(), DiaryEntry.id.desc())
        .limit(HISTORY_ITEMS)
    )).all()
    if not entries:
        ctx.reply(Msg("Your diary is empty. Write the first entry with ", ctx.cmd("diary <what happened>"), "."))
        return
    ctx.reply(lines(bold("Your diary (latest first)"),
                    *(Msg(f"• {e.created_at.astimezone(ctx.zone):%Y-%m-%d}: ", e.text) for e in entries)))


@router.command("goals", roles=[Role.MENTEE], rooms=DM_ONLY, examples=("goals",))
async def goals(ctx: Context) -> None:
    """Your goals, open and reached."""
    me = await ctx.me()
    rows = (await ctx.session.exec(select(Goal).where(Goal.person_id == me.id).order_by(Goal.id))).all()
    if not rows:
        ctx.reply(Msg("You have no goals yet. Add one with ", ctx.cmd("goals add <goal>"), "."))
        return
    out = [Msg(f"• #{g.id} ", "\u2713 " if g.state is GoalState.DONE else "", g.text,
               f" (reached {g.done_at.astimezone(ctx.zone):%Y-%m-%d})" if g.done_at else "") for g in rows]
    ctx.reply(lines(bold("Your goals"), *out, Msg("Mark one reached with ", ctx.cmd("goals done <number>"), ".")))


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
    row = Goal(person_id=me.id, text=" ".join(goal.split()), created_at=ctx.now)
    ctx.session.add(row)
    await ctx.session.flush()
    ctx.reply(Msg(f"Added goal #{row.id}. See them all with ", ctx.cmd("goals"), "."))


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
    row = await ctx.session.get(Goal, goal)
    if row is None or row.person_id != me.id:
        raise CommandError(Msg(f"You have no goal #{goal}. Send ", ctx.cmd("goals"), " to see yours."))
    if row.state is GoalState.DONE:
        ctx.reply(f"Goal #{goal} was already reached. Well done!")
        return
    row.state, row.done_at = GoalState.DONE, ctx.now
    ctx.reply(f"Well done! Goal #{goal} is marked as reached.")


@router.command(
    "history",
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
    subject = await people.find(ctx.session, mentee) if mentee else me
    if subject is None:
        raise CommandError(Msg(text.person(mentee), " is not someone I know."))
    # Every mentorship of the mentee, newest first, in one statement; the active one is among them.
    ships = (await ctx.session.exec(select(Mentorship).where(Mentorship.mentee_id == subject.id)
                                    .order_by(Mentorship.started_at.desc()))).all()
    current = next((m for m in ships if m.state is MentorshipState.ACTIVE), None)
    readers = set()  # how the reader relates to this mentee, for the rule set
    if subject.id == me.id:
        readers.add(Reader.SUBJECT)
    if current is not None and current.mentor_id == me.id:
        readers.add(Reader.MENTOR)
    if Role.COUNCIL in ctx.roles:
        readers.add(Reader.COUNCIL)
    if not readers:
        raise CommandError(Msg("You can see the history of your own mentees only. Send ", ctx.cmd("mentees"),
                               " to see yours."))
    if Role.COUNCIL not in ctx.roles and subject.id != me.id:
        ships = [m for m in ships if m.id == current.id]  # a mentor sees their own mentorship only
    ids = [m.id for m in ships]
    zone = ctx.zone
    rows: list[Msg | None] = [Msg(bold("History of "), who(subject))]
    mentors = await mentorships.people_by_id(ctx.session, (m.mentor_id for m in ships))
    for m in ships:
        mentor = mentors[m.mentor_id]
        state = "active" if m.state is MentorshipState.ACTIVE else f"ended {m.ended_at.astimezone(zone):%Y-%m-%d}"
        rows.append(Msg("Mentorship with ", who(mentor), f", since {m.started_at.astimezone(zone):%Y-%m-%d} ({state})"))
    def may(field: str) -> bool:
        return visibility.may_read(field, readers, ctx.room)

    records = (await ctx.session.exec(select(SessionRecord).where(SessionRecord.mentorship_id.in_(ids))
                                      .order_by(SessionRecord.held_at.desc()).limit(HISTORY_ITEMS))).all() if ids else []
    rows.append(bold(f"Sessions ({len(records)})" if records else "Sessions: none recorded"))
    for r in records:
        progress = (f"; progress {r.progress_start or '?'} \u2192 {r.progress_now}/10"
                    if r.progress_now and may("session_record.progress_now") else "")
        rows.append(Msg(f"• {r.held_at.astimezone(zone):%Y-%m-%d} {r.kind.value}: ",
                        (r.outcome or "(erased)") if may("session_record.outcome") else "",
                        Msg("; next: ", r.next_steps) if r.next_steps and may("session_record.next_steps") else "",
                        progress,
                        Msg("; remarks: ", r.remarks) if r.remarks and may("session_record.remarks") else ""))
    planned = await checkins.upcoming(ctx.session, [m.id for m in ships if m.state is MentorshipState.ACTIVE], limit=5)
    if planned:
        rows.append(bold("Planned"))
        rows.extend(Msg(f"• #{c.id} ", checkins.describe(c, zone)) for c in planned)
    goal_rows = (await ctx.session.exec(select(Goal).where(Goal.person_id == subject.id).order_by(Goal.id))).all()
    if goal_rows and may("goal.text"):
        rows.append(bold("Goals"))
        rows.extend(Msg("• ", "\u2713 " if g.state is GoalState.DONE else "", g.text) for g in goal_rows)
    entries = (await ctx.session.exec(
        select(DiaryEntry).where(DiaryEntry.person_id == subject.id,
                                 *([] if Role.COUNCIL in ctx.roles or subject.id == me.id
                                   else [DiaryEntry.mentorship_id.in_(ids)]))
        .order_by(DiaryEntry.created_at.desc()).limit(HISTORY_ITEMS)
    )).all()
    if entries and may("diary_entry.text"):
        rows.append(bold("Diary (latest first)"))
        rows.extend(Msg(f"• {e.created_at.astimezone(zone):%Y-%m-%d}: ", e.text) for e in entries)
    ctx.reply(lines(*rows))


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
    if mentee:
        person = await people.find(ctx.session, mentee)
        m = await mentorships.active_of(ctx.session, person.id) if person else None
        if person is None or m is None or m.mentor_id != me.id:
            raise CommandError(Msg(text.person(mentee), " is not your mentee. Send ", ctx.cmd("mentees"), " to see yours."))
    else:
        m = await mentorships.active_of(ctx.session, me.id)
        if m is None:
            hint = Msg(" As a mentor, name the mentee: ", ctx.cmd("extend @ana:example.org"), ".") if me.is_mentor else Msg()
            raise CommandError(Msg("You have no mentor to extend with.", hint))
    opens = add_months(m.commitment_ends_at, -1)
    if ctx.now < opens:
        raise CommandError(f"The commitment runs until {m.commitment_ends_at.astimezone(ctx.zone):%Y-%m-%d}; "
                           f"it can be extended from {opens.astimezone(ctx.zone):%Y-%m-%d}.")
    before = m.commitment_ends_at
    m.commitment_ends_at = add_months(max(before, ctx.now), ctx.policy.commitment_months)
    audit.record(ctx.session, at=ctx.now, actor=me, entity="mentorship", entity_id=m.id, action="extended",
                 from_state=f"{before:%Y-%m-%d}", to_state=f"{m.commitment_ends_at:%Y-%m-%d}")
    other = await mentorships.person_by_id(ctx.session, m.mentor_id if m.mentee_id == me.id else m.mentee_id)
    ctx.reply(Msg("Done: you and ", who(other), f" go on together until "
                  f"{m.commitment_ends_at.astimezone(ctx.zone):%Y-%m-%d}."))
    ctx.send(Target.dm(other.matrix_id), Msg(
        who(me), " extended your mentorship: you go on together until "
        f"{m.commitment_ends_at.astimezone(people.zone_of(other, ctx.policy)):%Y-%m-%d}.",
    ))


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
    if is_matrix_id(first):
        person = await people.find(ctx.session, first)
        m = await mentorships.active_of(ctx.session, person.id) if person else None
        if person is None or m is None or m.mentor_id != me.id:
            raise CommandError(Msg(text.person(first), " is not your mentee."))
        answer = rest
    else:
        m = await mentorships.active_of(ctx.session, me.id)
        if m is None:
            hint = Msg(" As a mentor, start with the mentee: ", ctx.cmd("feedback @ana:example.org <well> | <better>"),
                       ".") if me.is_mentor else Msg()
            raise CommandError(Msg("You have no mentorship to give feedback on.", hint))
    well, _, better = answer.partition("|")
    if not well.strip():
        raise CommandError(Msg("Write what goes well, then what could be better: ",
                               ctx.cmd("feedback we meet regularly | more practice sessions"), "."))
    year = str(rules.feedback_slot(ctx.now, ZoneInfo(ctx.policy.timezone), ctx.policy.feedback_month).year)
    row = (await ctx.session.exec(select(Feedback).where(
        Feedback.author_id == me.id, Feedback.mentorship_id == m.id, Feedback.round == year))).first()
    if row is None:
        row = Feedback(author_id=me.id, mentorship_id=m.id, round=year, created_at=ctx.now)
        ctx.session.add(row)
    row.strengths, row.improve = well.strip(), better.strip() or None
    ctx.reply(f"Thank you! Your feedback for {year} is recorded; only the council reads it.")


@router.command("feedbacks", roles=[Role.COUNCIL], rooms=DM_ONLY, examples=("feedbacks",))
async def feedbacks(ctx: Context) -> None:
    """This year's feedback answers (council only, in a direct message)."""
    if not visibility.may_read("feedback.strengths", {Reader.COUNCIL}, ctx.room):
        raise CommandError(Msg("Feedback is confidential: send ", ctx.typed("feedbacks", RoomKind.DM), " to me."))
    year = str(rules.feedback_slot(ctx.now, ZoneInfo(ctx.policy.timezone), ctx.policy.feedback_month).year)
    rows = (await ctx.session.exec(select(Feedback, Person).join(Person, Person.id == Feedback.author_id)
                                   .where(Feedback.round == year).order_by(Feedback.id))).all()
    if not rows:
        ctx.reply(f"No feedback for {year} yet.")
        return
    out = []
    for f, author in rows:
        out.append(Msg("• ", who(author), ": well: \u201c", f.strengths or "", "\u201d",
                       Msg("; better: \u201c", f.improve, "\u201d") if f.improve else ""))
    ctx.reply(lines(bold(f"Feedback {year} ({len(rows)} answers, confidential)"), *out))
