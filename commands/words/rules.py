"""What the program's own rules tell people: overdue meetings, deadlines, the end of a
commitment, the feedback round, the weekly digest and the monthly report."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from commands.kinds import RoomKind
from commands.messages import File, Target
from commands.services import people
from commands.words.mentoring import who
from commands.services.rules import (
    Cadence,
    CheckInToConfirm,
    CommitmentComplete,
    DeadlinePassed,
    DigestDue,
    FeedbackAsked,
    MeetingOverdue,
    OverdueEscalated,
    OverduesEscalated,
    ProgramFigures,
    ProgramYear,
    ReportDue,
)
from commands.services.work import Work
from commands.text import Msg, bold, join, lines
from commands.words import renders, t, tn, typed, written
from commands.words.checkins import kind_name, shown


def _day(when, zone: ZoneInfo) -> Msg:
    return written(when, zone, "day")


def meeting_rule(cadence: Cadence) -> Msg:
    """How often the mentee must meet their mentor now."""
    if cadence.first_year:
        return tn("at least every {n} month in their first year", "at least every {n} months in their first year",
                  cadence.every_months)
    return tn("at least every {n} month", "at least every {n} months", cadence.every_months)


def meeting_overdue(e: MeetingOverdue, work: Work) -> Msg:
    zone = people.zone_of(e.mentor, work.policy)
    return t("{title}you last met {mentee} on {day}, and mentees meet their mentor {rule}. Plan one with "
             "{checkin}; after a meeting, record it with {session}.",
             title=bold(t("A meeting is overdue: ")), mentee=who(e.mentee), day=_day(e.cadence.last_met, zone),
             rule=meeting_rule(e.cadence),
             checkin=typed(work, f"checkin {e.mentee.matrix_id} <when>", RoomKind.DM),
             session=typed(work, f"session {e.mentee.matrix_id} <kind> <outcome>", RoomKind.DM))


@renders(MeetingOverdue)
def _meeting_overdue(e: MeetingOverdue, work: Work) -> None:
    work.send(Target.dm(e.mentor.matrix_id), meeting_overdue(e, work))


def overdue_escalated(e: OverdueEscalated, work: Work) -> Msg:
    return t("{title}{mentor} and {mentee} have not met since {day} ({rule}); {told}",
             title=bold(t("Overdue relationship: ")), mentor=who(e.mentor), mentee=who(e.mentee),
             day=_day(e.cadence.last_met, ZoneInfo(work.policy.timezone)), rule=meeting_rule(e.cadence),
             told=tn("the mentor was told {n} day ago.", "the mentor was told {n} days ago.", e.days_since_told))


@renders(OverdueEscalated)
def _overdue_escalated(e: OverdueEscalated, work: Work) -> None:
    work.send(Target.council(), overdue_escalated(e, work), notify=True)


def overdues_escalated(e: OverduesEscalated, work: Work) -> Msg:
    zone = ZoneInfo(work.policy.timezone)
    first = e.escalated[0]
    rows: list[Msg | None] = [t(
        "{title}{n} mentorships have not met as the program asks, and their mentors were told "
        "{days} days ago or more:",
        title=bold(t("Overdue relationships: ")), n=str(len(e.escalated) + e.more), days=str(first.days_since_told))]
    for o in e.escalated:
        rows.append(t("• {mentor} and {mentee}, last met {day} ({rule})", mentor=who(o.mentor), mentee=who(o.mentee),
                      day=_day(o.cadence.last_met, zone), rule=meeting_rule(o.cadence)))
    if e.more:
        rows.append(t("...and {n} more.", n=str(e.more)))
    return lines(*rows)


@renders(OverduesEscalated)
def _overdues_escalated(e: OverduesEscalated, work: Work) -> None:
    work.send(Target.council(), overdues_escalated(e, work), notify=True)


def deadline_passed(e: DeadlinePassed, work: Work) -> Msg:
    c, mentee = e.checkin, e.mentee
    zone = people.zone_of(e.mentor, work.policy)
    kind = c.kind.value if c.kind.value != "followup" else "regular"  # a follow-up is recorded as a regular session
    return t("{the_kind_with}{mentee}{was_due} Agree a time with {checkin}, or if it took place, record it with "
             "{session}.",
             the_kind_with=bold(t("The {kind} with ", kind=kind_name(c.kind))), mentee=who(mentee),
             was_due=bold(t(" was due by {day}.", day=_day(c.due_at, zone))),
             checkin=typed(work, f"checkin {mentee.matrix_id} <when>", RoomKind.DM),
             session=typed(work, f"session {mentee.matrix_id} {kind} <outcome>", RoomKind.DM))


@renders(DeadlinePassed)
def _deadline_passed(e: DeadlinePassed, work: Work) -> None:
    work.send(Target.dm(e.mentor.matrix_id), deadline_passed(e, work))


def did_it_take_place(e: CheckInToConfirm, work: Work) -> Msg:
    c, mentee = e.checkin, e.mentee
    zone = people.zone_of(e.mentor, work.policy)
    return t("Did the {kind} with {mentee} on {when} take place? Record it with {session} (or {done}); if not, "
             "{move}.",
             kind=kind_name(c.kind), mentee=who(mentee), when=shown(c.due_at, zone),
             session=typed(work, f"session {mentee.matrix_id} <kind> <outcome>", RoomKind.DM),
             done=typed(work, f"checkin done {c.id}", RoomKind.DM),
             move=typed(work, f"checkin move {c.id} <when>", RoomKind.DM))


@renders(CheckInToConfirm)
def _did_it_take_place(e: CheckInToConfirm, work: Work) -> None:
    work.send(Target.dm(e.mentor.matrix_id), did_it_take_place(e, work))


def _commitment_complete(other) -> dict:
    return {"your_commitment": bold(t("Your commitment with ")), "other": who(other),
            "complete": bold(t(" is complete."))}


def commitment_complete_mentee(e: CommitmentComplete, work: Work) -> Msg:
    return tn("{your_commitment}{other}{complete} To go on together for another {n} month, send {extend}; to "
              "change mentor, {change} (no approval needed now); to close the mentorship, {end}.",
              "{your_commitment}{other}{complete} To go on together for another {n} months, send {extend}; to "
              "change mentor, {change} (no approval needed now); to close the mentorship, {end}.",
              e.months, **_commitment_complete(e.mentor), extend=typed(work, "extend", RoomKind.DM),
              change=typed(work, "change", RoomKind.DM), end=typed(work, "end", RoomKind.DM))


def commitment_complete_mentor(e: CommitmentComplete, work: Work) -> Msg:
    return tn("{your_commitment}{other}{complete} To go on together for another {n} month, send {extend}; they "
              "may also change mentor or end it now. A final session to look back on what was reached is a good "
              "moment: record it as {final}.",
              "{your_commitment}{other}{complete} To go on together for another {n} months, send {extend}; they "
              "may also change mentor or end it now. A final session to look back on what was reached is a good "
              "moment: record it as {final}.",
              e.months, **_commitment_complete(e.mentee),
              extend=typed(work, f"extend {e.mentee.matrix_id}", RoomKind.DM),
              final=typed(work, f"session {e.mentee.matrix_id} final <outcome>", RoomKind.DM))


@renders(CommitmentComplete)
def _commitment_complete_both(e: CommitmentComplete, work: Work) -> None:
    work.send(Target.dm(e.mentee.matrix_id), commitment_complete_mentee(e, work))
    work.send(Target.dm(e.mentor.matrix_id), commitment_complete_mentor(e, work))


def feedback_asked(year: int, other, answer: Msg) -> Msg:
    return t("{title}how is your mentorship with {other} going? Answer with {answer}. Only the council reads it.",
             title=bold(t("Feedback round {year}: ", year=str(year))), other=who(other), answer=answer)


@renders(FeedbackAsked)
def _feedback_asked(e: FeedbackAsked, work: Work) -> None:
    form = " <what goes well> | <what could be better>"
    work.send(Target.dm(e.mentee.matrix_id),
              feedback_asked(e.year, e.mentor, typed(work, f"feedback{form}", RoomKind.DM)))
    work.send(Target.dm(e.mentor.matrix_id),
              feedback_asked(e.year, e.mentee, typed(work, f"feedback {e.mentee.matrix_id}{form}", RoomKind.DM)))


def weekly_digest(e: DigestDue, work: Work) -> Msg:
    zone = ZoneInfo(work.policy.timezone)
    see = t(" ({requests})", requests=typed(work, "requests", RoomKind.MENTORS)) if e.waiting else ""
    rows: list[Msg | None] = [t(
        "{title}: {active}, {waiting}{see}.",
        title=bold(t("Weekly digest, week of {day}", day=written(e.week_of, None, "day"))),
        active=tn("{n} active mentorship", "{n} active mentorships", e.active),
        waiting=tn("{n} open request", "{n} open requests", e.waiting), see=see)]
    if e.overdue:
        rows.append(t("{title}, no meeting recorded for longer than the program asks:",
                      title=bold(t("Overdue ({n})", n=str(len(e.overdue) + e.more)))))
        for o in e.overdue:
            mentee = who(o.mentee) if o.mentee is not None else t("a mentee (mentorship #{id})", id=str(o.mentorship_id))
            rows.append(t("• {mentor} with {mentee}, last met {day}", mentor=who(o.mentor), mentee=mentee,
                          day=_day(o.last_met, zone)))
        if e.more:
            rows.append(t("...and {n} more.", n=str(e.more)))
    else:
        rows.append(t("No relationship is overdue. Thank you all!"))
    return lines(*rows)


@renders(DigestDue)
def _weekly_digest(e: DigestDue, work: Work) -> None:
    work.send(Target.mentors(), weekly_digest(e, work))


def program_report(figures: ProgramFigures, title: Msg | str) -> Msg:
    """The program in numbers under ``title``; counts only, no names."""
    f = figures
    return lines(
        bold(title),
        t("• Mentorships: {active} active ({started} started, {ended} ended in the month); {mentors}",
          active=str(f.active), started=str(f.started), ended=str(f.ended),
          mentors=tn("{n} mentor", "{n} mentors", f.mentors)),
        t("• Requests: {asked} new, {escalated} escalated; {waiting} open now ({with_council} with the council)",
          asked=str(f.asked), escalated=str(f.escalated), waiting=str(f.waiting), with_council=str(f.with_council)),
        t("• Changes of mentor asked: {changes}", changes=str(f.changes)),
        t("• Sessions recorded: {sessions}; relationships overdue now: {overdue}", sessions=str(f.sessions),
          overdue=str(f.overdue)),
        t("• Feedback answers: {feedback}; nominations: {nominations}", feedback=str(f.feedback),
          nominations=str(f.nominations)),
        t("• Opportunities shared with mentees: {opportunities}", opportunities=str(f.opportunities)),
        t("• Coaching sessions from the pool: {held} held; {asked} asked, {declined} declined",
          held=str(f.coaching_held), asked=str(f.coaching_asked), declined=str(f.coaching_declined)),
    )


def monthly_report_title(start, zone: ZoneInfo) -> Msg:
    return t("Program report for {month}", month=written(start, zone, "month"))


def report_so_far_title(local, zone: ZoneInfo) -> Msg:
    """The title of the council's ``report``: this month so far."""
    return t("Program report for {month} so far (to {when} {zone})", month=written(local, None, "month"),
             when=written(local, None), zone=zone.key)


# What each series of the council's chart is called (``rules.SERIES``; a test checks none is missing).
SERIES_LABELS = {
    "requests_opened": lambda: t("Requests opened"),
    "requests_matched": lambda: t("Requests matched"),
    "requests_escalated": lambda: t("Requests escalated"),
    "mentorships_active": lambda: t("Active mentorships"),
    "relationships_overdue": lambda: t("Relationships overdue"),
    "checkins_held": lambda: t("Check-ins held"),
    "coaching_held": lambda: t("Coaching sessions held"),
}


def _month(start, zone: ZoneInfo) -> str:
    return written(start, zone, "short month").plain()


def program_year(year: ProgramYear, zone: ZoneInfo) -> Msg:
    """The figures of the chart, as text: everything the chart shows, for those who cannot see it."""
    rows: list[Msg | str] = [bold(t("The last twelve months, {first} to {last}", first=_month(year.months[0].start, zone),
                                    last=_month(year.months[-1].start, zone)))]
    for index, month in enumerate(year.months):
        figures = join((t("{label}: {n}", label=SERIES_LABELS[key](), n=str(values[index]))
                        for key, values in year.figures), " · ")
        if year.so_far and index == len(year.months) - 1:
            rows.append(t("• {month} (so far): {figures}", month=_month(month.start, zone), figures=figures))
        else:
            rows.append(t("• {month}: {figures}", month=_month(month.start, zone), figures=figures))
    rows.append(t("Active and overdue relationships are counted at the end of each month (this month: now); "
                  "the rest within the month."))
    return lines(*rows)


def program_chart(year: ProgramYear, zone: ZoneInfo) -> File:
    """The chart of the program year (drawn when it is sent), described in words for those who cannot see it."""
    first, last = year.months[0].start.astimezone(zone), year.months[-1].start.astimezone(zone)
    months = [_month(m.start, zone) for m in year.months]
    if year.so_far:
        months[-1] = t("{month} (so far)", month=months[-1]).plain()
    spec = {
        "title": t("The program month by month, {first} to {last}", first=_month(first, zone),
                   last=_month(last, zone)).plain(),
        "months": months,
        "series": [{"label": SERIES_LABELS[key]().plain(), "values": list(values)} for key, values in year.figures],
    }
    alt = t("Chart of the program month by month, {first} to {last}; its figures are in the message above.",
            first=_month(first, zone), last=_month(last, zone)).plain()
    return File.chart(f"program-{first:%Y-%m}-to-{last:%Y-%m}.png", spec, alt)


def chart_not_drawn() -> Msg:
    """Said in a message whose chart could not be drawn (the figures are in its text)."""
    return t("(The chart could not be drawn this time; every figure it would show is in the text above.)")


@renders(ReportDue)
def _monthly_report(e: ReportDue, work: Work) -> None:
    zone = ZoneInfo(work.policy.timezone)
    # One message: no blank line inside, which would read as two (in the terminal shell too).
    work.send(Target.council(), lines(program_report(e.figures, monthly_report_title(e.start, zone)),
                                      program_year(e.year, zone)),
              files=(program_chart(e.year, zone),))
