"""What the bot says about check-ins and their reminders."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from commands.clock import read_duration
from commands.kinds import RoomKind
from commands.messages import Target
from commands.services import answers, people
from commands.services.checkins import (
    CheckInNotScheduled,
    CheckInOfEndedMentorship,
    NoSuchCheckIn,
    NotHeldYet,
    NothingToConfirm,
    NoTimeAgreedYet,
    OnlyMenteeConfirms,
    ReminderDue,
)
from commands.services.records import NotYourMentee
from commands.services.work import Work
from commands.text import Msg, bold, code, join, lines, person
from commands.words import N_, explains, renders, t, tn, typed, written
from commands.words.calendar import offer
from commands.words.mentoring import day, who
from storage.models import CheckIn, CheckInKind, CheckInState, CoachingSession, Person

KIND_NAMES = {
    CheckInKind.ORIENTATION: N_("orientation session"),
    CheckInKind.FOLLOWUP: N_("follow-up"),
    CheckInKind.REGULAR: N_("check-in"),
    CheckInKind.MIDTERM: N_("mid-term review"),
    CheckInKind.FINAL: N_("final session"),
}


def kind_name(kind: CheckInKind) -> Msg:
    """What a check-in of ``kind`` is called: ``orientation session``."""
    return t(KIND_NAMES[kind])


def checkin_name(c: CheckIn, coaching: CoachingSession | None = None) -> Msg | str:
    """What a check-in is called in a list or a reminder: ``orientation session``, or for a coaching
    session's, ``coaching session on public speaking`` (shown only to its asker and its coach)."""
    if coaching is not None:
        return t("coaching session on {skill}", skill=coaching.skill)
    return kind_name(c.kind)


def reader_zone(work: Work) -> ZoneInfo:
    """The time zone of the person the reply is for: the sender's in a command, else the program's."""
    return getattr(work, "zone", None) or ZoneInfo(work.policy.timezone)


def shown(when: datetime, zone: ZoneInfo) -> str:
    """``Tue 2027-01-12 16:00 (Europe/Berlin)``: a time as one person reads it."""
    return Msg(written(when, zone, "weekday moment"), f" ({zone.key})")


def repeats(c: CheckIn) -> Msg | str:
    """How often a repeating check-in comes back; empty for a single one."""
    if c.every_months:
        return tn("every month", "every {n} months", c.every_months)
    if c.every_weeks:
        return tn("every week", "every {n} weeks", c.every_weeks)
    return ""


def _every(c: CheckIn) -> Msg | str:
    """``, every 3 months`` after the time of a repeating check-in."""
    every = repeats(c)
    return t(", {every}", every=every) if every else ""


def describe(c: CheckIn, zone: ZoneInfo) -> Msg:
    """A check-in in a list: ``check-in Tue 2027-01-12 16:00 (Europe/Berlin), every month``."""
    if not c.arranged:
        return t("{kind} to arrange, due by {day}", kind=kind_name(c.kind), day=day(c.due_at, zone))
    return t("{kind} {when}{every}", kind=kind_name(c.kind), when=shown(c.due_at, zone), every=_every(c))


def until(delta: timedelta) -> Msg:
    """``in 24 hours``: how long until a check-in, rounded to what a person says."""
    minutes = round(delta.total_seconds() / 60)
    if minutes < 60:
        return tn("in {n} minute", "in {n} minutes", minutes)
    hours = round(minutes / 60)
    if hours < 48:
        return tn("in {n} hour", "in {n} hours", hours)
    return tn("in {n} day", "in {n} days", round(hours / 24))


def _move_cmd(work: Work, c: CheckIn) -> Msg:
    return typed(work, f"checkin move {c.id} <when>", RoomKind.DM)


def _confirm_cmd(work: Work, c: CheckIn) -> Msg:
    return typed(work, f"confirm {c.id}", RoomKind.DM)


# ---------------------------------------------------------------- replies to commands
# Check-in commands are answered in direct messages only.


def planned(work: Work, c: CheckIn, mentee: Person, zone: ZoneInfo, mentee_zone: ZoneInfo) -> Msg:
    """To the mentor who planned a check-in."""
    their_time = "" if mentee_zone.key == zone.key else t(" For {name} that is {when}.", name=people.name_of(mentee),
                                                          when=shown(c.due_at, mentee_zone))
    return t("Done: {kind} #{number} with {who} on {when}{every}.{reminders}{their_time}{calendar}",
             kind=kind_name(c.kind), number=str(c.id), who=who(mentee), when=shown(c.due_at, zone), every=_every(c),
             reminders=reminders_ahead(work, c), their_time=their_time, calendar=offer(work, c))


def reminders_ahead(work: Work, c: CheckIn) -> Msg:
    """Which of the program's reminders will come for a check-in: those whose time is still
    ahead (a check-in planned at short notice misses the earlier ones, and is told so)."""
    if not work.policy.reminders:  # the program sends none
        return Msg()
    ahead = [r for r in work.policy.reminders if c.due_at - (read_duration(r) or timedelta(0)) > work.now]
    missed = [r for r in work.policy.reminders if r not in ahead]
    if not ahead:
        return t(" It is too soon for a reminder: none will come.")
    said = t(" You both get a reminder {offsets} before.", offsets=join(ahead, t(" and ")))
    if missed:
        said += t(" (Too soon for the one {offsets} before.)", offsets=join(missed, t(" and ")))
    return said


def planned_for_mentee(work: Work, c: CheckIn, mentor: Person, zone: ZoneInfo) -> Msg:
    """To the mentee, about the check-in their mentor planned."""
    return t("{who} planned your {kind}: {when}{every}. Send {confirm} to confirm, or {move} to ask for "
             "another time.{calendar}", who=who(mentor), kind=kind_name(c.kind), when=shown(c.due_at, zone),
             every=_every(c), confirm=_confirm_cmd(work, c), move=_move_cmd(work, c), calendar=offer(work, c))


def none_planned(work: Work, is_mentor: bool) -> Msg:
    if is_mentor:
        return t("No check-ins planned. Plan one with {cmd}.", cmd=typed(work, "checkin <mentee> <when>", RoomKind.DM))
    return t("No check-ins planned.")


def planned_list(work: Work, items: list[tuple[CheckIn, Person, CoachingSession | None]], zone: ZoneInfo) -> Msg:
    """The upcoming check-ins, each with the other person in it (and the coaching session it is, if one)."""
    out: list[Msg] = []
    for c, other, coaching in items:
        if coaching is not None:
            out.append(t("• #{number} {what} {when} with {who} (cancel: {cancel})", number=str(c.id),
                         what=checkin_name(c, coaching), when=shown(c.due_at, zone), who=who(other),
                         cancel=typed(work, f"coaching cancel {coaching.id}", RoomKind.DM)))
            continue
        confirmed = t(" \u2713 confirmed") if c.confirmed_at else ""
        past = t(" (past: not marked as held yet)") if c.arranged and c.due_at <= work.now else ""
        out.append(t("• #{number} {what} with {who}{confirmed}{past}", number=str(c.id), what=describe(c, zone),
                     who=who(other), confirmed=confirmed, past=past))
    return lines(bold(t("Planned check-ins ({count})", count=str(len(items)))), *out,
                 t("Change one with {move} or {cancel}.", move=typed(work, "checkin move <number> <when>", RoomKind.DM),
                   cancel=typed(work, "checkin cancel <number>", RoomKind.DM)))


def move_takes_one_time() -> Msg:
    return t("Moving takes one time, like {example}; to change a repeat, cancel it and plan it again.",
             example=code("friday 17:30"))


def moved(work: Work, c: CheckIn, other: Person, zone: ZoneInfo) -> Msg:
    return t("Done: {kind} #{number} is now on {when}; {who} has been told.{calendar}", kind=kind_name(c.kind),
             number=str(c.id), when=shown(c.due_at, zone), who=who(other), calendar=offer(work, c))


def moved_for_other(work: Work, c: CheckIn, by: Person, zone: ZoneInfo, *, to_mentee: bool) -> Msg:
    msg = t("{who} moved your {kind} #{number} to {when}.", who=who(by), kind=kind_name(c.kind), number=str(c.id),
            when=shown(c.due_at, zone))
    if to_mentee:
        msg += t(" Send {confirm} to confirm.", confirm=_confirm_cmd(work, c))
    return msg + offer(work, c)


def repeats_ended(series: bool) -> Msg | str:
    return t(" and the ones after it: it no longer repeats") if series else ""


def cancelled(c: CheckIn, other: Person, zone: ZoneInfo, *, series: bool) -> Msg:
    return t("Done: {kind} #{number} on {when} is cancelled{series}; {who} has been told.", kind=kind_name(c.kind),
             number=str(c.id), when=shown(c.due_at, zone), series=repeats_ended(series), who=who(other))


def cancelled_for_other(c: CheckIn, by: Person, zone: ZoneInfo, *, series: bool) -> Msg:
    return t("{who} cancelled the {kind} #{number} on {when}{series}.", who=who(by), kind=kind_name(c.kind),
             number=str(c.id), when=shown(c.due_at, zone), series=repeats_ended(series))


def held(work: Work, c: CheckIn, mentee: Person) -> Msg:
    return t("Done: {kind} #{number} with {who} is marked as held. Record how it went with {cmd} (only you, {who} "
             "and the council can read it).", kind=kind_name(c.kind), number=str(c.id), who=who(mentee),
             cmd=typed(work, f"session {mentee.matrix_id} <kind> <outcome>", RoomKind.DM))


def already_confirmed(c: CheckIn, zone: ZoneInfo) -> Msg:
    return t("Check-in #{number} on {when} was already confirmed. See you there!", number=str(c.id),
             when=shown(c.due_at, zone))


def confirmed(c: CheckIn, mentor: Person, zone: ZoneInfo) -> Msg:
    return t("Confirmed: {kind} #{number} with {who} on {when}.", kind=kind_name(c.kind), number=str(c.id),
             who=who(mentor), when=shown(c.due_at, zone))


def confirmed_for_mentor(c: CheckIn, mentee: Person, zone: ZoneInfo) -> Msg:
    return t("{who} confirmed the {kind} #{number} on {when}.", who=who(mentee), kind=kind_name(c.kind),
             number=str(c.id), when=shown(c.due_at, zone))


# ---------------------------------------------------------------- refusals


@explains(NotYourMentee)
def not_your_mentee(error: NotYourMentee, work: Work) -> Msg:
    return t("{who} is not your mentee. Send {mentees} to see yours.", who=person(error.matrix_id),
             mentees=typed(work, "mentees", RoomKind.DM))


@explains(NoSuchCheckIn)
def no_such_checkin(error: NoSuchCheckIn, work: Work) -> Msg:
    return t("You have no check-in #{number}. Send {checkins} to see yours.", number=str(error.number),
             checkins=typed(work, "checkins", RoomKind.DM))


@explains(CheckInOfEndedMentorship)
def checkin_of_ended_mentorship(error: CheckInOfEndedMentorship, work: Work) -> Msg:
    return t("Check-in #{number} belongs to a mentorship that has ended.", number=str(error.number))


@explains(CheckInNotScheduled)
def checkin_not_scheduled(error: CheckInNotScheduled, work: Work) -> Msg:
    if error.state is CheckInState.DONE:
        return t("Check-in #{number} is already done.", number=str(error.number))
    return t("Check-in #{number} is already cancelled.", number=str(error.number))


@explains(NotHeldYet)
def not_held_yet(error: NotHeldYet, work: Work) -> Msg:
    return t("Check-in #{number} is on {when}, still ahead. Mark it done once it has taken place, or move it with "
             "{move}.", number=str(error.checkin_id), when=shown(error.due_at, reader_zone(work)),
             move=typed(work, f"checkin move {error.checkin_id} <when>", RoomKind.DM))


@explains(NothingToConfirm)
def nothing_to_confirm(error: NothingToConfirm, work: Work) -> Msg:
    return t("You have no upcoming check-in to confirm. Send {checkins} to see yours.",
             checkins=typed(work, "checkins", RoomKind.DM))


@explains(OnlyMenteeConfirms)
def only_mentee_confirms(error: OnlyMenteeConfirms, work: Work) -> Msg:
    return t("Only the mentee confirms a check-in.")


@explains(NoTimeAgreedYet)
def no_time_agreed_yet(error: NoTimeAgreedYet, work: Work) -> Msg:
    return t("Check-in #{number} has no time agreed yet; your mentor will plan it with you.",
             number=str(error.checkin_id))


# ---------------------------------------------------------------- reminders


@renders(ReminderDue)
def reminder(event: ReminderDue, work: Work) -> None:
    """A reminder in the DM of the mentee or the mentor, in their own time zone."""
    c, to = event.checkin, event.to
    zone = people.zone_of(to, work.policy)
    other = event.mentor if to.id == event.mentee.id else event.mentee
    head = t("{title}{who} {until}, {when}.", title=bold(t("Reminder: {kind} with ", kind=checkin_name(c, event.coaching))),
             who=who(other), until=until(c.due_at - work.now), when=shown(c.due_at, zone))
    if event.coaching is not None:  # a single session: no confirming, no moving
        msg = t("{head} To cancel it: {cancel}.", head=head,
                cancel=typed(work, f"coaching cancel {event.coaching.id}", RoomKind.DM))
    elif to.id == event.mentee.id:
        if c.confirmed_at:
            msg = t("{head} You have confirmed it. To move it, send {move}.", head=head, move=_move_cmd(work, c))
        else:
            msg = t("{head} Send {confirm} to confirm, or {move} to ask for another time.", head=head,
                    confirm=_confirm_cmd(work, c), move=_move_cmd(work, c))
    elif c.confirmed_at:
        msg = t("{head} {name} has confirmed it. To move it: {move}.", head=head, name=people.name_of(event.mentee),
                move=_move_cmd(work, c))
    else:
        msg = t("{head} {name} has not confirmed it yet. To move it: {move}.", head=head,
                name=people.name_of(event.mentee), move=_move_cmd(work, c))
    asks = event.coaching is None and to.id == event.mentee.id and not c.confirmed_at  # the mentee confirms it
    work.send(Target.dm(to.matrix_id), msg, answers=answers.checkin(c.id, to.matrix_id) if asks else None)
