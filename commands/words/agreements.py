"""What the bot says about the agreement of a mentorship, its follow-up, and the reviews.

All of it is said in direct messages only: the agreement is confidential to the two
people and the council."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from commands.kinds import RoomKind
from commands.messages import Target
from commands.services import people
from commands.services.agreements import (
    PARTS,
    AgreementConfirmed,
    AgreementDrafted,
    AgreementFollowUp,
    DraftDiscarded,
    DraftIncomplete,
    FollowUpAnswered,
    NoDraft,
    NoMentorship,
    NotAsked,
    OwnDraft,
    Side,
    goal_items,
    missing,
)
from commands.services.reviews import (
    Decision,
    DecisionInFinalOnly,
    GoalsOnlyInReviews,
    NotTheirGoal,
    ReviewProposed,
    ReviewRecorded,
)
from commands.services.work import Work
from commands.text import Msg, bold, code, join, lines
from commands.words import explains, renders, t, typed, written
from commands.words.mentoring import day, who
from storage.models import Agreement, AgreementCheck, Goal, GoalState, Person, SessionKind

DRAFT_EXAMPLE = ("agreement draft goals: give a talk; grow the local team | mentor: a call a month, feedback on "
                 "talks | mentee: come with an agenda | contact: video call monthly, chat between | cancel: a day "
                 "ahead, in a DM | urgent: a DM that starts with URGENT")
REVIEW_EXAMPLE = "session @ana:example.org midterm halfway there | goals: 3 reached, 4 in progress | progress: 3-6"


def _dm(work: Work, text: str) -> Msg:
    return typed(work, text, RoomKind.DM)


def _zone(work: Work, someone: Person) -> ZoneInfo:
    return people.zone_of(someone, work.policy)


def part_name(part: str) -> Msg:
    return {
        "goals": t("Goals"),
        "mentor_part": t("The mentor commits to"),
        "mentee_part": t("The mentee commits to"),
        "contact": t("How and how often you talk"),
        "cancelling": t("Cancelling a meeting"),
        "urgent": t("Asking for urgent help"),
    }[part]


def label(part: str) -> str:
    """The label a part is written with in ``agreement draft``."""
    return {"goals": "goals:", "mentor_part": "mentor:", "mentee_part": "mentee:", "contact": "contact:",
            "cancelling": "cancel:", "urgent": "urgent:"}[part]


def goal_state(state: GoalState) -> Msg:
    return {GoalState.OPEN: t("in progress"), GoalState.DONE: t("reached"), GoalState.DROPPED: t("dropped")}[state]


def _goal_line(goal: Goal, state: GoalState | None = None) -> Msg:
    return t("• #{number} {goal} ({state})", number=str(goal.id), goal=goal.text, state=goal_state(state or goal.state))


def _missing(parts: tuple[str, ...]) -> Msg:
    return join(code(label(p)) for p in parts)


def agreement_text(a: Agreement, goals: list[Goal] | None = None) -> Msg:
    """The parts of an agreement, one per line; its goals numbered once they are the mentee's goals."""
    rows: list[Msg | None] = []
    for part in PARTS:
        value = getattr(a, part)
        if part == "goals" and goals:
            rows.append(t("{name}:", name=bold(part_name(part))))
            rows.extend(_goal_line(g) for g in goals)
        elif part == "goals" and value:
            rows.append(t("{name}:", name=bold(part_name(part))))
            rows.extend(t("• {goal}", goal=g) for g in goal_items(value))
        else:
            rows.append(t("{name}: {value}", name=bold(part_name(part)), value=value or t("(not written yet)")))
    return lines(*rows)


def _cmd_for(work: Work, side: Side, command: str, for_other: bool) -> Msg:
    """``command`` as the other side (``for_other``) or this side types it: a mentor names the mentee."""
    mentor_types = side.i_am_mentor != for_other
    return _dm(work, f"{command} {side.mentee.matrix_id}" if mentor_types else command)


def _confirm_cmd(work: Work, side: Side, for_other: bool) -> Msg:
    return _cmd_for(work, side, "agreement confirm", for_other)


def _show_cmd(work: Work, side: Side, for_other: bool) -> Msg:
    return _cmd_for(work, side, "agreement", for_other)


# ---------------------------------------------------------------- showing


def shown(work: Work, side_mentee: Person, mentor: Person, confirmed: Agreement | None, draft: Agreement | None,
          goals: list[Goal], checks: list[AgreementCheck], zone: ZoneInfo, *, mentor_reads: bool) -> Msg:
    """The agreement of a mentorship as one of its people (or the council) reads it."""
    with_whom = who(side_mentee) if mentor_reads else who(mentor)
    rows: list[Msg | None] = []
    if confirmed is None and draft is None:
        return t("There is no agreement with {other} yet. Write it in your first session: {example}",
                 other=with_whom, example=code(DRAFT_EXAMPLE))
    if confirmed is not None:
        rows += [t("{title} with {other}, confirmed on {day}:", title=bold(t("Agreement")), other=with_whom,
                   day=day(confirmed.confirmed_at, zone)), agreement_text(confirmed, goals)]
    if draft is not None:
        rows += [t("{title} (waiting to be confirmed; still to write: {missing}):", title=bold(t("New draft")),
                   missing=_missing(missing(draft))) if missing(draft)
                 else t("{title} (waiting to be confirmed):", title=bold(t("New draft"))), agreement_text(draft)]
    answered = [c for c in checks if c.answered_at is not None]
    if answered:
        rows.append(bold(t("Follow-up:")))
        for c in answered:
            whose = t("the mentee") if c.person_id == side_mentee.id else t("the mentor")
            rows.append(t("• {whose}: {answer}{note}", whose=whose,
                          answer=t("it works") if c.works else t("it needs a change"),
                          note=t(" ({note})", note=c.note) if c.note else ""))
    return lines(*rows)


def status_line(work: Work, confirmed: Agreement | None, draft: Agreement | None, zone: ZoneInfo,
                cmd: str) -> Msg:
    """One line for ``status`` and ``mentees``: where the agreement stands."""
    if confirmed is not None and draft is None:
        return t("Agreement: confirmed on {day} (see {cmd}).", day=day(confirmed.confirmed_at, zone),
                 cmd=_dm(work, cmd))
    if draft is not None:
        return t("Agreement: a draft waits to be confirmed (see {cmd}).", cmd=_dm(work, cmd))
    return t("Agreement: none yet; write it in your first session with {cmd}.", cmd=_dm(work, "agreement draft"))


# ---------------------------------------------------------------- drafting


def unreadable_draft(part: str) -> Msg:
    return t("Write each part after its label ({labels}), parts separated by {bar}. I could not read {part}. "
             "For example: {example}", labels=_missing(PARTS), bar=code("|"), part=repr(part[:40]),
             example=code(DRAFT_EXAMPLE))


def empty_draft() -> Msg:
    return t("Write at least one part of the agreement, for example: {example}", example=code(DRAFT_EXAMPLE))


def drafted(work: Work, side: Side, draft: Agreement, missing_parts: tuple[str, ...]) -> Msg:
    """To the side who wrote: the draft as it stands, and what comes next."""
    if missing_parts:
        nxt = t("Still to write: {missing}. Add them with {cmd}; {other} is asked to confirm once it is complete.",
                missing=_missing(missing_parts), cmd=_dm(work, "agreement draft ..."), other=who(side.other))
    else:
        nxt = t("I have asked {other} to confirm it. Only the two of you and the council can read it.",
                other=who(side.other))
    return lines(t("{title}", title=bold(t("Draft agreement"))), agreement_text(draft), nxt)


@renders(AgreementDrafted)
def _drafted(e: AgreementDrafted, work: Work) -> None:
    if e.missing:
        return
    side = e.side
    work.send(Target.dm(side.other.matrix_id), lines(
        t("{me} wrote down your agreement:", me=who(side.me)), agreement_text(e.draft),
        t("If it is right, reply {confirm}. To change something, write it with {draft}; to throw the draft "
          "away, {discard}.", confirm=_confirm_cmd(work, side, True),
          draft=_dm(work, "agreement draft ..."), discard=_cmd_for(work, side, "agreement discard", True))))


def confirmed(work: Work, side: Side) -> Msg:
    return t("Your agreement with {other} is confirmed. Its goals are in {goals}; {show} shows it any time.",
             other=who(side.other), goals=_dm(work, "goals") if not side.i_am_mentor
             else _dm(work, f"history {side.mentee.matrix_id}"), show=_show_cmd(work, side, False))


@renders(AgreementConfirmed)
def _confirmed(e: AgreementConfirmed, work: Work) -> None:
    side = e.side
    work.send(Target.dm(side.other.matrix_id), t(
        "{me} confirmed your agreement. It is in force from today; {show} shows it.",
        me=who(side.me), show=_show_cmd(work, side, True)))


def discarded() -> Msg:
    return t("The draft is thrown away; the agreement in force (if any) stays as it was.")


@renders(DraftDiscarded)
def _discarded(e: DraftDiscarded, work: Work) -> None:
    work.send(Target.dm(e.side.other.matrix_id), t(
        "{me} threw away the draft of your agreement; the agreement in force (if any) stays as it was.",
        me=who(e.side.me)))


@explains(NoMentorship)
def _no_mentorship(error: NoMentorship, work: Work) -> Msg:
    if error.is_mentor:
        return t("Name your mentee, for example: {example}", example=code("agreement @ana:example.org"))
    return t("You have no mentor at the moment, so there is no agreement to write. Send {request} to ask for one.",
             request=_dm(work, "request <what you want help with>"))


@explains(NoDraft)
def _no_draft(error: NoDraft, work: Work) -> Msg:
    return t("No draft waits to be confirmed. To propose a change, write it with {cmd}.",
             cmd=_dm(work, "agreement draft ...")) if error.has_agreement else t(
        "There is no draft yet. Write one with {cmd}, for example: {example}", cmd=_dm(work, "agreement draft ..."),
        example=code(DRAFT_EXAMPLE))


@explains(OwnDraft)
def _own_draft(error: OwnDraft, work: Work) -> Msg:
    return t("You wrote this draft, so {other} confirms it. I have shown it to them.", other=who(error.other))


@explains(DraftIncomplete)
def _incomplete(error: DraftIncomplete, work: Work) -> Msg:
    return t("The draft is not complete yet: still to write {missing}. Add them with {cmd}.",
             missing=_missing(error.missing), cmd=_dm(work, "agreement draft ..."))


# ---------------------------------------------------------------- follow-up


@renders(AgreementFollowUp)
def _follow_up(e: AgreementFollowUp, work: Work) -> None:
    mentor_asks = e.person.id != e.mentee.id
    yes = _dm(work, f"agreement works {e.mentee.matrix_id} yes" if mentor_asks else "agreement works yes")
    no = _dm(work, f"agreement works {e.mentee.matrix_id} no <what should change>" if mentor_asks
             else "agreement works no <what should change>")
    if e.agreed:
        question = t("A month into your mentorship with {other}: does your agreement work for you? Reply {yes}, or "
                     "{no}. Your answer is kept for {other} and the council only.", other=who(e.other), yes=yes, no=no)
    else:
        question = t("A month into your mentorship with {other}, you have no agreement yet. Write it together with "
                     "{draft}. Is the way you work together fine so far? Reply {yes}, or {no}. Your answer is kept "
                     "for {other} and the council only.", other=who(e.other), draft=_dm(work, "agreement draft ..."),
                     yes=yes, no=no)
    work.send(Target.dm(e.person.matrix_id), question)


def answered(work: Work, works: bool) -> Msg:
    return (t("Thank you, noted: your agreement works.") if works else
            t("Thank you, noted. Talk it over together, and write the change with {cmd}.",
              cmd=_dm(work, "agreement draft ...")))


@renders(FollowUpAnswered)
def _answered(e: FollowUpAnswered, work: Work) -> None:
    if e.works:
        return
    side = e.side
    work.send(Target.dm(side.other.matrix_id), t(
        "{me} feels your agreement needs a change{note}. Talk it over, and write the change with {cmd}.",
        me=who(side.me), note=t(": {note}", note=e.note) if e.note else "",
        cmd=_dm(work, "agreement draft ...")))


def works_usage() -> Msg:
    return t("Answer with yes or no, for example {yes} or {no}.", yes=code("agreement works yes"),
             no=code("agreement works no we should meet more often"))


@explains(NotAsked)
def _not_asked(error: NotAsked, work: Work) -> Msg:
    return t("I ask you both whether your agreement works on {day}; answer then. To change it now, write the change "
             "with {cmd}.", day=written(error.asks_at, None, "day"), cmd=_dm(work, "agreement draft ..."))


# ---------------------------------------------------------------- reviews


def review_name(kind: SessionKind) -> Msg:
    return t("mid-term review") if kind is SessionKind.MIDTERM else t("final review")


@renders(ReviewProposed)
def _review_proposed(e: ReviewProposed, work: Work) -> None:
    goals = [_goal_line(g) for g in e.open_goals]
    if e.kind is SessionKind.MIDTERM:
        to_mentor = t("Half of your commitment with {mentee} is behind you: time for a {review}. Plan it with {plan}, "
                      "then record it with {record}.", mentee=who(e.mentee), review=review_name(e.kind),
                      plan=_dm(work, f"checkin {e.mentee.matrix_id} <when>"),
                      record=Msg(code(REVIEW_EXAMPLE)))
        to_mentee = t("Half of your commitment with {mentor} is behind you: your mentor will plan a {review} with you, "
                      "to see where your goals stand.", mentor=who(e.mentor), review=review_name(e.kind))
    else:
        to_mentor = t("Your commitment with {mentee} ends on {end}: time for the {review}. Plan it with {plan}; record "
                      "it with {record} and end with {close} to close the mentorship, or {extend} to go on together.",
                      mentee=who(e.mentee), end=day(e.ends_at, _zone(work, e.mentor)), review=review_name(e.kind),
                      plan=_dm(work, f"checkin {e.mentee.matrix_id} <when>"),
                      record=_dm(work, f"session {e.mentee.matrix_id} final ... | goals: ..."),
                      close=code("| then: end"), extend=code("| then: extend"))
        to_mentee = t("Your commitment with {mentor} ends on {end}: your mentor will plan a {review} with you, to "
                      "look at what you reached and decide together whether to go on.", mentor=who(e.mentor),
                      end=day(e.ends_at, _zone(work, e.mentee)), review=review_name(e.kind))
    if goals:
        work.send(Target.dm(e.mentor.matrix_id), lines(to_mentor, t("Goals in progress:"), *goals))
        work.send(Target.dm(e.mentee.matrix_id), lines(to_mentee, t("Your goals in progress:"), *goals))
    else:
        work.send(Target.dm(e.mentor.matrix_id), to_mentor)
        work.send(Target.dm(e.mentee.matrix_id), to_mentee)


def _progress(record) -> Msg | None:
    if not record.progress_now:
        return None
    if record.progress_start:
        return t("Progress: {start} \u2192 {now} of 10.", start=str(record.progress_start), now=str(record.progress_now))
    return t("Progress: {now} of 10.", now=str(record.progress_now))


@renders(ReviewRecorded)
def _review_recorded(e: ReviewRecorded, work: Work) -> None:
    """The mentee sees what was reached, what is in progress, what was dropped, and what comes next."""
    zone = _zone(work, e.mentee)
    by_state = {s: [g for g in e.goals if g.state is s] for s in GoalState}
    rows: list[Msg | None] = [t("{mentor} recorded your {review}.", mentor=who(e.mentor), review=review_name(e.kind))]
    for state, title in ((GoalState.DONE, t("Reached:")), (GoalState.OPEN, t("In progress:")),
                         (GoalState.DROPPED, t("Dropped:"))):
        if by_state[state]:
            rows.append(bold(title))
            rows.extend(t("• {goal}", goal=g.text) for g in by_state[state])
    rows.append(_progress(e.record))
    if e.record.next_steps:
        rows.append(t("Next steps: {steps}", steps=e.record.next_steps))
    if e.decision == Decision.END:
        rows.append(t("With this review your mentorship is complete. Thank you both for the year!"))
    elif e.decision == Decision.EXTEND:
        rows.append(t("You go on together until {end}.", end=day(e.ends_at, zone)))
    work.send(Target.dm(e.mentee.matrix_id), lines(*rows))


def goals_part_usage() -> Msg:
    return t("Write the goals as their numbers with reached, in progress or dropped, for example {example}.",
             example=code("| goals: 3 reached, 4 in progress, 5 dropped"))


def then_usage() -> Msg:
    return t("A final review ends with {end} to close the mentorship, or {extend} to go on together.",
             end=code("| then: end"), extend=code("| then: extend"))


def review_summary(goals: list[tuple[int, GoalState]], decision: str | None) -> Msg | None:
    """For the mentor's reply: what the review changed."""
    if not goals and not decision:
        return None
    parts = [t("Goals: {changes}.", changes=", ".join(f"#{n} {goal_state(s).plain()}" for n, s in goals))
             if goals else None]
    if decision == Decision.END:
        parts.append(t("The mentorship is complete; your mentee is told."))
    elif decision == Decision.EXTEND:
        parts.append(t("The commitment goes on; your mentee is told."))
    return lines(*parts)


@explains(NotTheirGoal)
def _not_their_goal(error: NotTheirGoal, work: Work) -> Msg:
    return t("Goal #{number} is not one of your mentee's goals. The numbers are in {history}.",
             number=str(error.number), history=_dm(work, "history @mentee"))


@explains(GoalsOnlyInReviews)
def _goals_only(error: GoalsOnlyInReviews, work: Work) -> Msg:
    return t("Goals are revisited in a mid-term or final review: record it as {midterm} or {final}.",
             midterm=code("session @mentee midterm ..."), final=code("session @mentee final ..."))


@explains(DecisionInFinalOnly)
def _final_only(error: DecisionInFinalOnly, work: Work) -> Msg:
    return t("Only a final review ends or extends the mentorship: record it as {final}, or use {end} or {extend}.",
             final=code("session @mentee final ..."), end=_dm(work, "end"), extend=_dm(work, "extend @mentee"))
