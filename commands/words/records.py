"""What the bot says about session records, the diary, goals, history, the commitment and feedback.

All of it is said in direct messages only."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from commands.kinds import RoomKind
from commands.services.records import (
    History,
    NoMentorshipForFeedback,
    NoMentorToExtend,
    NoSuchGoal,
    NotYourMentee,
    NotYourMenteesHistory,
    TooEarlyToExtend,
)
from commands.services.rules import feedback_slot
from commands.services.work import Work
from commands.text import Msg, bold, code, lines, person
from commands.words import capital, explains, t, tn, typed
from commands.words.agreements import agreement_text, goal_state
from commands.words.checkins import describe, kind_name, reader_zone
from commands.words.mentoring import day, who
from storage.models import CheckIn, DiaryEntry, Feedback, Goal, GoalState, MentorshipState, Person


def _dm(work: Work, text: str) -> Msg:
    return typed(work, text, RoomKind.DM)


# ---------------------------------------------------------------- sessions


def no_outcome(example: str) -> Msg:
    return t("Say how the session went, for example: {example}", example=code(example))


def unreadable_part(part: str, example: str) -> Msg:
    return t("After the outcome, add parts like {next}, {progress} or {remarks}. I could not read {part}. "
             "For example: {example}", next=code("| next: ..."), progress=code("| progress: 3-6"),
             remarks=code("| remarks: ..."), part=repr(part[:40]), example=code(example))


def progress_scale() -> Msg:
    return t("Progress is on a 1-10 scale: where they are now ({now}), or where they started and where they are "
             "now ({both}).", now=code("progress: 6"), both=code("progress: 3-6"))


def session_recorded(work: Work, kind: str, mentee: Person, parts: dict, held: CheckIn | None,
                     zone: ZoneInfo) -> Msg:
    """To the mentor who recorded a session: what was kept, and who can read it."""
    progress: Msg | str = ""
    if parts["progress_now"]:
        progress = (t(" Progress {start} \u2192 {now} of 10.", start=str(parts["progress_start"]),
                      now=str(parts["progress_now"])) if parts["progress_start"]
                    else t(" Progress {now} of 10.", now=str(parts["progress_now"])))
    done = t(" {Kind} #{number} is marked as held.", Kind=capital(kind_name(held.kind)),
             number=str(held.id)) if held else ""
    return t("Recorded: {kind} session with {who} on {day}.{progress}{done} Only you, {who} and the council can "
             "read it.", kind=kind, who=who(mentee), day=day(work.now, zone), progress=progress, done=done)


# ---------------------------------------------------------------- diary and goals


def diary_written() -> Msg:
    return t("Written in your diary. Your mentor and the council can read it; nobody else.")


def diary_empty(work: Work) -> Msg:
    return t("Your diary is empty. Write the first entry with {cmd}.", cmd=_dm(work, "diary <what happened>"))


def _entry(e: DiaryEntry, zone: ZoneInfo) -> Msg:
    return t("• {day}: {text}", day=day(e.created_at, zone), text=e.text)


def diary(entries: list[DiaryEntry], zone: ZoneInfo) -> Msg:
    return lines(bold(t("Your diary (latest first)")), *(_entry(e, zone) for e in entries))


def no_goals(work: Work) -> Msg:
    return t("You have no goals yet. Add one with {cmd}.", cmd=_dm(work, "goals add <goal>"))


def _reached(g: Goal) -> Msg | str:
    if g.state is GoalState.DROPPED:
        return t("(dropped) ")
    return t("\u2713 ") if g.state is GoalState.DONE else ""


def goals(work: Work, rows: list[Goal], zone: ZoneInfo) -> Msg:
    out = [t("• #{number} {reached}{text}{when}", number=str(g.id), reached=_reached(g), text=g.text,
             when=t(" (reached {day})", day=day(g.done_at, zone)) if g.done_at else "") for g in rows]
    return lines(bold(t("Your goals")), *out, t("Mark one reached with {cmd}.", cmd=_dm(work, "goals done <number>")))


def goal_added(work: Work, goal: Goal) -> Msg:
    return t("Added goal #{number}. See them all with {cmd}.", number=str(goal.id), cmd=_dm(work, "goals"))


def goal_already_reached(number: int) -> Msg:
    return t("Goal #{number} was already reached. Well done!", number=str(number))


def goal_reached(number: int) -> Msg:
    return t("Well done! Goal #{number} is marked as reached.", number=str(number))


@explains(NoSuchGoal)
def no_such_goal(error: NoSuchGoal, work: Work) -> Msg:
    return t("You have no goal #{number}. Send {cmd} to see yours.", number=str(error.number), cmd=_dm(work, "goals"))


# ---------------------------------------------------------------- history


def history(h: History, zone: ZoneInfo) -> Msg:
    """A mentee's record, as far as the reader may see it."""
    rows: list[Msg | None] = [t("{title}{who}", title=bold(t("History of ")), who=who(h.subject))]
    for m, mentor in h.mentorships:
        state = t("active") if m.state is MentorshipState.ACTIVE else t("ended {day}", day=day(m.ended_at, zone))
        rows.append(t("Mentorship with {who}, since {day} ({state})", who=who(mentor), day=day(m.started_at, zone),
                      state=state))
    rows.append(bold(t("Sessions ({count})", count=str(len(h.sessions))) if h.sessions
                     else t("Sessions: none recorded")))
    for r in h.sessions:
        progress = (t("; progress {start} \u2192 {now}/10", start=str(r.progress_start or "?"), now=str(r.progress_now))
                    if r.progress_now and h.may("session_record.progress_now") else "")
        outcome = (r.outcome or t("(erased)")) if h.may("session_record.outcome") else ""
        next_steps = (t("; next: {text}", text=r.next_steps)
                      if r.next_steps and h.may("session_record.next_steps") else "")
        remarks = t("; remarks: {text}", text=r.remarks) if r.remarks and h.may("session_record.remarks") else ""
        rows.append(t("• {day} {kind}: {outcome}{next}{progress}{remarks}", day=day(r.held_at, zone),
                      kind=r.kind.value, outcome=outcome, next=next_steps, progress=progress, remarks=remarks))
        if r.id in h.reviewed and h.may("goal.text"):
            rows.extend(t("  — goal #{number} {text}: {state}", number=str(g.id), text=g.text,
                          state=goal_state(state)) for g, state in h.reviewed[r.id])
    for m, _ in h.mentorships:
        agreed = h.agreements.get(m.id)
        if agreed is not None and h.may("agreement.goals"):
            rows.append(bold(t("Agreement, confirmed {day}", day=day(agreed.confirmed_at, zone))))
            rows.append(agreement_text(agreed))
    if h.planned:
        rows.append(bold(t("Planned")))
        rows.extend(t("• #{number} {what}", number=str(c.id), what=describe(c, zone)) for c in h.planned)
    if h.goals and h.may("goal.text"):
        rows.append(bold(t("Goals")))
        rows.extend(t("• #{number} {reached}{text}", number=str(g.id), reached=_reached(g), text=g.text)
                    for g in h.goals)
    if h.diary and h.may("diary_entry.text"):
        rows.append(bold(t("Diary (latest first)")))
        rows.extend(_entry(e, zone) for e in h.diary)
    return lines(*rows)


@explains(NotYourMenteesHistory)
def not_your_mentees_history(error: NotYourMenteesHistory, work: Work) -> Msg:
    return t("You can see the history of your own mentees only. Send {cmd} to see yours.", cmd=_dm(work, "mentees"))


# ---------------------------------------------------------------- commitment


def extended(other: Person, ends_at: datetime, zone: ZoneInfo) -> Msg:
    return t("Done: you and {who} go on together until {day}.", who=who(other), day=day(ends_at, zone))


def extended_for_other(by: Person, ends_at: datetime, zone: ZoneInfo) -> Msg:
    return t("{who} extended your mentorship: you go on together until {day}.", who=who(by), day=day(ends_at, zone))


@explains(NoMentorToExtend)
def no_mentor_to_extend(error: NoMentorToExtend, work: Work) -> Msg:
    if error.is_mentor:
        return t("You have no mentor to extend with. As a mentor, name the mentee: {cmd}.",
                 cmd=_dm(work, "extend @ana:example.org"))
    return t("You have no mentor to extend with.")


@explains(TooEarlyToExtend)
def too_early_to_extend(error: TooEarlyToExtend, work: Work) -> Msg:
    zone = reader_zone(work)
    return t("The commitment runs until {ends}; it can be extended from {opens}.", ends=day(error.ends_at, zone),
             opens=day(error.opens_at, zone))


# ---------------------------------------------------------------- feedback


def feedback_not_your_mentee(error: NotYourMentee) -> Msg:
    return t("{who} is not your mentee.", who=person(error.matrix_id))


def feedback_needs_answer(work: Work) -> Msg:
    return t("Write what goes well, then what could be better: {cmd}.",
             cmd=_dm(work, "feedback we meet regularly | more practice sessions"))


def feedback_recorded(year: str, work: Work) -> Msg:
    """Which round an answer is filed under: a round opens in the program's feedback month and
    runs a year, so an answer given before this year's opens belongs to last year's."""
    zone = reader_zone(work)
    opened = feedback_slot(work.now, ZoneInfo(work.policy.timezone), work.policy.feedback_month)
    return t("Thank you! Your feedback is recorded in the {year} feedback round (open since {opened}; the next "
             "opens on {next}); only the council reads it.", year=year, opened=day(opened, zone),
             next=day(opened.replace(year=opened.year + 1), zone))


def feedback_confidential(work: Work) -> Msg:
    return t("Feedback is confidential: send {cmd} to me.", cmd=_dm(work, "feedbacks"))


def no_feedback(year: str) -> Msg:
    return t("No feedback for {year} yet.", year=year)


def feedback_answers(year: str, rows: list[tuple[Feedback, Person]]) -> Msg:
    out = [t("• {who}: well: \u201c{well}\u201d{better}", who=who(author), well=f.strengths or "",
             better=t("; better: \u201c{text}\u201d", text=f.improve) if f.improve else "") for f, author in rows]
    title = tn("Feedback {year} ({n} answer, confidential)", "Feedback {year} ({n} answers, confidential)", len(rows),
               year=year)
    return lines(bold(title), *out)


@explains(NoMentorshipForFeedback)
def no_mentorship_for_feedback(error: NoMentorshipForFeedback, work: Work) -> Msg:
    if error.is_mentor:
        return t("You have no mentorship to give feedback on. As a mentor, start with the mentee: {cmd}.",
                 cmd=_dm(work, "feedback @ana:example.org <well> | <better>"))
    return t("You have no mentorship to give feedback on.")
