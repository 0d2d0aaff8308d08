"""What the bot says to words that are no command: a hello, a thank-you, a wish in plain words.

A first message of the day gets a short welcome that fits the person: a newcomer learns
what the program is and the one step to take; a mentee sees their mentor and next
check-in; a mentor the requests offered to them and their next check-ins; a council
member where to look. Later chatter that day gets one line. A wish ("I would like a
mentor") is answered with the command to type, never acted on.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from commands.kinds import Role
from commands.policy import ProgramPolicy
from commands.services import people
from commands.services.welcome import Standing
from commands.text import Msg, bold, code, join, lines
from commands.wishes import Chat, Wish
from commands.words import t, tn
from commands.words.mentoring import who
from storage.models import CheckIn, RequestState

ASK = "request <a few words about what you want to learn>"
ASK_EXAMPLE = "request I want to organise my first community event"


def _opener(chat: Chat) -> Msg:
    if chat is Chat.THANKS:
        return t("You're welcome!")
    if chat is Chat.GREETING:
        return t("Hello!")
    return t("Hello! I understand short commands rather than sentences.")


def _local(when: datetime, zone: ZoneInfo) -> str:
    return f"{when.astimezone(zone):%Y-%m-%d %H:%M}"


def _day(when: datetime, zone: ZoneInfo) -> str:
    return f"{when.astimezone(zone):%Y-%m-%d}"


def welcome(chat: Chat, standing: Standing, policy: ProgramPolicy) -> Msg:
    """The full answer, once a day, to a message that is no command."""
    zone = people.zone_of(standing.person, policy)
    opener = _opener(chat)
    if standing.newcomer:
        return lines(opener, t(
            "I'm the assistant of the {program}: volunteers who want to learn are paired with an experienced "
            "mentor, who meets them regularly and helps them grow.", program=bold(policy.name)),
            t("To ask for a mentor, type {request}. Send {help} to see everything else I can do.",
              request=code(ASK), help=code("help")))
    rows: list[Msg | None] = [opener]
    if standing.mentor is not None:
        rows += [t("Your mentor is {mentor}.", mentor=who(standing.mentor)),
                 _next_checkin(standing.next_checkin, zone),
                 t("Send {status} for where things stand, {checkins} for your check-ins, or {goals} for your goals.",
                   status=code("status"), checkins=code("checkins"), goals=code("goals"))]
    elif standing.request is not None:
        rows.append(_waiting(standing.request.id, standing.request.state, standing.request.created_at, zone))
    if standing.person is not None and standing.person.is_mentor:
        rows += [_offers(standing), _mentor_checkins(standing, zone)]
    if Role.COUNCIL in standing.roles:
        rows.append(t("As a council member: {queue} shows what waits for the council, {requests} the open "
                      "requests, and {report} the program in numbers.",
                      queue=code("queue"), requests=code("requests"), report=code("report")))
    rows.append(t("Send {help} to see everything I can do.", help=code("help")))
    return lines(*rows)


def _next_checkin(checkin: CheckIn | None, zone: ZoneInfo) -> Msg:
    if checkin is None:
        return t("No check-in is planned yet; your mentor plans them with you.")
    if checkin.arranged:
        return t("Your next check-in is on {when} ({zone} time).", when=_local(checkin.due_at, zone), zone=zone.key)
    return t("Your next check-in is due by {day}; agree a time with your mentor.", day=_day(checkin.due_at, zone))


def _waiting(number: int, state: RequestState, since: datetime, zone: ZoneInfo) -> Msg:
    if state is RequestState.PROPOSED:
        return t("Your request #{number} for a mentor (since {since}) is waiting: a mentor has been asked and will "
                 "answer soon. Send {status} to see it, or {withdraw} to take it back.", number=number,
                 since=_day(since, zone), status=code("status"), withdraw=code("withdraw"))
    if state is RequestState.ESCALATED:
        return t("Your request #{number} for a mentor (since {since}) is waiting: the council is finding you a "
                 "mentor. Send {status} to see it, or {withdraw} to take it back.", number=number,
                 since=_day(since, zone), status=code("status"), withdraw=code("withdraw"))
    return t("Your request #{number} for a mentor (since {since}) is waiting for a mentor with a free place. "
             "Send {status} to see it, or {withdraw} to take it back.", number=number, since=_day(since, zone),
             status=code("status"), withdraw=code("withdraw"))


def _offers(standing: Standing) -> Msg:
    if not standing.offers:
        return t("As a mentor: no request waits for your answer.")
    offers = join([t("#{number} (type {accept} to take it)", number=r.id, accept=code(f"accept {r.id}"))
                   for r in standing.offers])
    return tn("As a mentor: a request waits for your answer: {offers}. Send {requests} to read it first.",
              "As a mentor: {n} requests wait for your answer: {offers}. Send {requests} to read them first.",
              len(standing.offers), offers=offers, requests=code("requests"))


def _mentor_checkins(standing: Standing, zone: ZoneInfo) -> Msg:
    if not standing.upcoming:
        return t("No check-in with your mentees is planned; send {mentees} to see them.", mentees=code("mentees"))
    planned = join([t("{when} with {mentee}", when=_local(c.due_at, zone), mentee=who(mentee))
                    for c, mentee in standing.upcoming], "; ")
    return t("Your next check-ins ({zone} time): {planned}. Send {checkins} for all of them.",
             zone=zone.key, planned=planned, checkins=code("checkins"))


def again(chat: Chat) -> Msg:
    """The one line for later chatter the same day."""
    if chat is Chat.THANKS:
        return t("You're welcome! Send {help} if you need anything else.", help=code("help"))
    if chat is Chat.GREETING:
        return t("Hello again! Send {help} to see what I can do.", help=code("help"))
    return t("Sorry, I didn't understand that. I answer to short commands: send {help} to see them.",
             help=code("help"))


def wish(wish: Wish) -> Msg:
    """A wish in plain words, answered with the command to type (nothing is done on a guess)."""
    if wish is Wish.MENTOR:
        return t("To ask for a mentor, type {request}. For example: {example}",
                 request=code(ASK), example=code(ASK_EXAMPLE))
    if wish is Wish.HELP:
        return t("To see what you can do here, type {help}; {help_one} explains one command.",
                 help=code("help"), help_one=code("help <command>"))
    if wish is Wish.STATUS:
        return t("To see your mentor, or where your request for one stands, type {status}.", status=code("status"))
    return t("To see your next check-ins, type {checkins}.", checkins=code("checkins"))
