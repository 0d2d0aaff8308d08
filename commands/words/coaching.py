"""What the bot says about single coaching sessions from the coach pool.

Everything here goes to a direct message: the skill asked and a decline's reason are the
asker's and the coach's alone (see the rules in ``commands.services.visibility``).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from commands.kinds import RoomKind
from commands.messages import Target
from commands.services import people
from commands.services.checkins import CheckInOfCoaching
from commands.services.coaching import (
    AlreadyAsked,
    CoachDeclinesAnAsk,
    CoachFull,
    CoachingAccepted,
    CoachingAlreadyDecided,
    CoachingAsked,
    CoachingCancelled,
    CoachingDeclined,
    CoachingLapsed,
    CoachingTimePassed,
    CoachingYourself,
    MonthFull,
    NoSuchCoaching,
    NotInCoachPool,
    NotTakingSessions,
    SkillNotOffered,
)
from commands.services.work import Work
from commands.text import Msg, bold, code, join, lines, person
from commands.words import N_, explains, renders, t, typed, written
from commands.words.calendar import offer
from commands.words.checkins import reader_zone, reminders_ahead, shown
from commands.words.mentoring import who
from storage.models import CheckIn, CoachingSession, CoachingState, Person


def _cmd(work: Work, text: str) -> Msg:
    return typed(work, text, RoomKind.DM)


def _month(month: datetime) -> Msg:
    return written(month, None, "month")


def _pool_cmd(work: Work, skill: str) -> Msg:
    return _cmd(work, f"pool {skill}")


def session_name(cs: CoachingSession) -> Msg:
    """``coaching session #3 on public speaking``."""
    return t("coaching session #{number} on {skill}", number=str(cs.id), skill=cs.skill)


def _others(work: Work, skill: str, others: tuple[Person, ...]) -> Msg:
    if others:
        return t(" Others in the coach pool who offer {skill}: {who}.", skill=skill, who=join(who(p) for p in others))
    return t(" Nobody else in the coach pool offers {skill} now; send {pool} to see every skill.", skill=skill,
             pool=_cmd(work, "pool"))


# ---------------------------------------------------------------- replies


def asked(work: Work, cs: CoachingSession, coach: Person, zone: ZoneInfo) -> Msg:
    """To the asker: the ask is with the coach."""
    return t("Asked: {who} for a {name}, {when}. You will hear as soon as they answer; to take it back, send "
             "{cancel}.", who=who(coach), name=session_name(cs), when=shown(cs.starts_at, zone),
             cancel=_cmd(work, f"coaching cancel {cs.id}"))


def accepted(work: Work, cs: CoachingSession, c: CheckIn, asker: Person, zone: ZoneInfo) -> Msg:
    """To the coach who accepted."""
    return t("Done: {name} with {who}, {when}. It is check-in #{checkin} in your {checkins}; it adds no mentee."
             "{reminders}{calendar}", name=session_name(cs), who=who(asker), when=shown(cs.starts_at, zone),
             checkin=str(c.id), checkins=_cmd(work, "checkins"), reminders=reminders_ahead(work, c),
             calendar=offer(work, c))


def declined(cs: CoachingSession, asker: Person) -> Msg:
    return t("Done: you declined {name}; {who} has been told.", name=session_name(cs), who=who(asker))


def cancelled(cs: CoachingSession, other: Person, zone: ZoneInfo) -> Msg:
    if cs.decided_at is None:
        return t("Done: your ask ({name}) is taken back; {who} has been told.", name=session_name(cs), who=who(other))
    return t("Done: {name} on {when} is cancelled; {who} has been told.", name=session_name(cs),
             when=shown(cs.starts_at, zone), who=who(other))


def skill_and_time_needed() -> str:
    return str(t("say the skill, then the time, like {example}", example="public speaking friday 16:00").plain())


def none_open(work: Work) -> Msg:
    return t("No coaching sessions asked or planned. Find a coach with {pool}, then ask with {ask}.",
             pool=_cmd(work, "pool"), ask=_cmd(work, "coaching ask <coach> <skill> <when>"))


def listing(work: Work, me: Person, items: list[tuple[CoachingSession, Person]], zone: ZoneInfo) -> Msg:
    """Someone's sessions still asked or planned, each with the other person."""
    out: list[Msg] = []
    for cs, other in items:
        if cs.coach_id == me.id:
            state = (t("asked of you: answer with {accept} or {decline}", accept=_cmd(work, f"coaching accept {cs.id}"),
                       decline=_cmd(work, f"coaching decline {cs.id}"))
                     if cs.state is CoachingState.ASKED else t("planned, you coach"))
            out.append(t("• #{number} {skill} for {who}, {when}: {state}", number=str(cs.id), skill=cs.skill,
                         who=who(other), when=shown(cs.starts_at, zone), state=state))
        else:
            state = t("waiting for their answer") if cs.state is CoachingState.ASKED else t("planned")
            out.append(t("• #{number} {skill} with {who}, {when}: {state}", number=str(cs.id), skill=cs.skill,
                         who=who(other), when=shown(cs.starts_at, zone), state=state))
    return lines(bold(t("Your coaching sessions ({count})", count=str(len(items)))), *out,
                 t("Cancel one with {cancel}.", cancel=_cmd(work, "coaching cancel <number>")))


def limit_set(work: Work, sessions: int, default: int) -> Msg:
    if sessions == 0:
        return t("Done: you take no single coaching sessions, and the coach pool leaves you out. Set a number "
                 "with {cmd} to be asked again.", cmd=_cmd(work, "profile coaching 2"))
    return t("Done: you give at most {n} single coaching sessions a month (the program's default is {default}).",
             n=str(sessions), default=str(default))


# ---------------------------------------------------------------- what the other side hears


@renders(CoachingAsked)
def _asked(e: CoachingAsked, work: Work) -> None:
    zone = people.zone_of(e.coach, work.policy)
    work.send(Target.dm(e.coach.matrix_id), t(
        "{title}: {who} asks you for a single coaching session on {skill}, {when}. Send {accept}, or {decline} "
        "(a reason is up to you; only {name} reads it). A single session adds no mentee.",
        title=bold(t("Coaching asked #{number}", number=str(e.coaching.id))), who=who(e.asker),
        skill=e.coaching.skill, when=shown(e.coaching.starts_at, zone),
        accept=_cmd(work, f"coaching accept {e.coaching.id}"),
        decline=_cmd(work, f"coaching decline {e.coaching.id} [reason]"), name=people.name_of(e.asker)))


@renders(CoachingAccepted)
def _accepted(e: CoachingAccepted, work: Work) -> None:
    zone = people.zone_of(e.asker, work.policy)
    work.send(Target.dm(e.asker.matrix_id), t(
        "{who} accepted: {name}, {when}.{reminders} To cancel it, send {cancel}.{calendar}", who=who(e.coach),
        name=session_name(e.coaching), when=shown(e.coaching.starts_at, zone), reminders=reminders_ahead(work, e.checkin),
        cancel=_cmd(work, f"coaching cancel {e.coaching.id}"), calendar=offer(work, e.checkin)))


@renders(CoachingDeclined)
def _declined(e: CoachingDeclined, work: Work) -> None:
    zone = people.zone_of(e.asker, work.policy)
    reason = t(" Their reason: \u201c{reason}\u201d", reason=e.coaching.reason) if e.coaching.reason else ""
    work.send(Target.dm(e.asker.matrix_id), t(
        "{who} cannot give the {name}, {when}.{reason} Send {pool} to find another coach.", who=who(e.coach),
        name=session_name(e.coaching), when=shown(e.coaching.starts_at, zone), reason=reason,
        pool=_pool_cmd(work, e.coaching.skill)))


@renders(CoachingCancelled)
def _cancelled(e: CoachingCancelled, work: Work) -> None:
    zone = people.zone_of(e.other, work.policy)
    if e.coaching.decided_at is None and e.by.id == e.coaching.asker_id:
        msg = t("{who} took back their ask: {name}, {when}. Nothing to do.", who=who(e.by),
                name=session_name(e.coaching), when=shown(e.coaching.starts_at, zone))
    else:
        msg = t("{who} cancelled the {name}, {when}.", who=who(e.by), name=session_name(e.coaching),
                when=shown(e.coaching.starts_at, zone))
    work.send(Target.dm(e.other.matrix_id), msg)


@renders(CoachingLapsed)
def _lapsed(e: CoachingLapsed, work: Work) -> None:
    zone = people.zone_of(e.asker, work.policy)
    work.send(Target.dm(e.asker.matrix_id), t(
        "{who} did not answer in time: your ask ({name}, {when}) has lapsed. Ask again for another time, or "
        "find another coach with {pool}.", who=who(e.coach), name=session_name(e.coaching),
        when=shown(e.coaching.starts_at, zone), pool=_pool_cmd(work, e.coaching.skill)))


# ---------------------------------------------------------------- refusals


@explains(NotInCoachPool)
def _not_in_pool(e: NotInCoachPool, work: Work) -> Msg:
    return t("{who} is not in the coach pool (available mentors with skills listed). Send {pool} to see who is.",
             who=person(e.matrix_id), pool=_cmd(work, "pool"))


@explains(CoachingYourself)
def _yourself(e: CoachingYourself, work: Work) -> Msg:
    return t("You cannot ask yourself for a coaching session. Send {pool} to find a coach.", pool=_cmd(work, "pool"))


@explains(SkillNotOffered)
def _skill_not_offered(e: SkillNotOffered, work: Work) -> Msg:
    return t("{who} does not offer {skill}; their skills: {skills}. Send {pool} to find who does.", who=who(e.coach),
             skill=code(e.skill[:50]), skills=join(e.skills), pool=_pool_cmd(work, e.skill[:50]))


@explains(NotTakingSessions)
def _not_taking(e: NotTakingSessions, work: Work) -> Msg:
    return t("{who} takes no single coaching sessions at the moment.{others}", who=who(e.coach),
             others=_others(work, e.skill, e.others))


@explains(CoachFull)
def _full(e: CoachFull, work: Work) -> Msg:
    return t("{who} is full for {month}: they give {limit} single sessions a month.{others}", who=who(e.coach),
             month=_month(e.month), limit=str(e.limit), others=_others(work, e.skill, e.others))


@explains(AlreadyAsked)
def _already_asked(e: AlreadyAsked, work: Work) -> Msg:
    return t("You already asked {who} (#{number}) and they have not answered yet. To take it back: {cancel}.",
             who=who(e.coach), number=str(e.coaching_id), cancel=_cmd(work, f"coaching cancel {e.coaching_id}"))


@explains(NoSuchCoaching)
def _no_such(e: NoSuchCoaching, work: Work) -> Msg:
    return t("You have no coaching session #{number} to do that with. Send {list} to see yours.", number=str(e.number),
             list=_cmd(work, "coaching"))


STATE_SAID = {
    CoachingState.ACCEPTED: N_("Coaching session #{number} was already accepted."),
    CoachingState.DECLINED: N_("Coaching session #{number} was already declined."),
    CoachingState.LAPSED: N_("The ask #{number} has lapsed: its time came before it was answered."),
    CoachingState.CANCELLED: N_("Coaching session #{number} was cancelled."),
    CoachingState.HELD: N_("Coaching session #{number} has taken place already."),
}


@explains(CoachingAlreadyDecided)
def _already_decided(e: CoachingAlreadyDecided, work: Work) -> Msg:
    return t(STATE_SAID[e.state], number=str(e.number))


@explains(CoachingTimePassed)
def _time_passed(e: CoachingTimePassed, work: Work) -> Msg:
    return t("The time of coaching session #{number} ({when}) has come already.", number=str(e.number),
             when=shown(e.starts_at, reader_zone(work)))


@explains(MonthFull)
def _month_full(e: MonthFull, work: Work) -> Msg:
    return t("You already give {limit} single sessions in {month}, your limit. Decline it with {decline}, or raise "
             "your limit with {raise_}.", limit=str(e.limit), month=_month(e.month),
             decline=_cmd(work, f"coaching decline {e.number}"), raise_=_cmd(work, "profile coaching <number>"))


@explains(CoachDeclinesAnAsk)
def _decline_instead(e: CoachDeclinesAnAsk, work: Work) -> Msg:
    return t("#{number} is still an ask: answer it with {decline} (a reason is optional).", number=str(e.number),
             decline=_cmd(work, f"coaching decline {e.number}"))


@explains(CheckInOfCoaching)
def _checkin_of_coaching(e: CheckInOfCoaching, work: Work) -> Msg:
    return t("Check-in #{number} is coaching session #{coaching}: it keeps the time asked. To cancel it, send "
             "{cancel}.", number=str(e.number), coaching=str(e.coaching_id),
             cancel=_cmd(work, f"coaching cancel {e.coaching_id}"))
