"""What the bot says about mentorships: requests, proposals, acceptance, change, end; the coach pool."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from commands.kinds import Role, RoomKind
from commands.messages import Target
from commands.policy import ProgramPolicy
from commands.services import answers, people
from commands.services.matching import Match, Wishes, is_away
from commands.services.mentorships import (
    AlreadyDeclined,
    AlreadyHasMentor,
    AlreadyLookingForMentor,
    AlreadyRequested,
    AlreadyTheirMentor,
    ChangeAlreadyPending,
    ChangeApproved,
    ChangeRequested,
    FreeChange,
    LeavingYou,
    MenteeNominated,
    MentorInactive,
    MentorProposed,
    MentorsThemself,
    MentorshipEnded,
    MentorshipRace,
    MentorshipStarted,
    NoFreePlace,
    NoMentorToChange,
    NoMentorToEnd,
    NoOpenRequest,
    NoSuchRequest,
    NotAMentee,
    NotAMentor,
    NotYourMentee,
    RequestClosed,
    RequestEscalated,
    RequestStillOpen,
    RequestTaken,
    RequestWaiting,
    RequestWithdrawn,
    SelfNomination,
    UnknownPerson,
    Upcoming,
    orientation_due,
)
from commands.services.work import Work
from commands.text import Msg, Node, bold, code, join, lines, mention, person
from commands.words import N_, explains, language_names, renders, t, tn, typed, written
from storage.models import MentorRequest, Mentorship, Person, RequestState

ASK = "request <what you want help with>"  # the command to ask for a mentor, as people type it


# ---------------------------------------------------------------- how people, days and commands are written


def who(someone: Person) -> Node:
    """A person named in a message about them (linked, not pinged)."""
    return person(someone.matrix_id, people.name_of(someone))


def day(when: datetime, zone: ZoneInfo) -> Msg:
    return written(when, zone, "day")


def _here(work: Work) -> RoomKind:
    """The room the person is in: a command's own room; a DM for scheduled work."""
    return getattr(work, "room", RoomKind.DM)


def _cmd(work: Work, text: str) -> Msg:
    """How to type a command where the person is."""
    return typed(work, text, _here(work))


def _zone(work: Work) -> ZoneInfo:
    """The time zone of the person the command is from (the program's for scheduled work)."""
    return people.zone_of(getattr(work, "person", None), work.policy)


def _counted(template: str, n: int, **parts) -> Msg:
    """A sentence whose English words stay the same whatever ``n`` ("1 of 1 mentees", "30 days");
    it goes through the plural catalog, so each language gives its own forms."""
    return tn(template, template, n, **parts)


def summary(wishes: Wishes) -> Msg:
    """What a shared room may see of a request: no name, no words of the mentee's."""
    return t("interests: {interests}; languages: {languages}; time zone: {zone}", **_wishes(wishes))


def _summary_sentence(wishes: Wishes) -> Msg:
    return t("Interests: {interests}; languages: {languages}; time zone: {zone}.", **_wishes(wishes))


def _wishes(wishes: Wishes) -> dict[str, Msg | str]:
    not_given = t("not given")
    return {"interests": ", ".join(wishes.interests) or not_given,
            "languages": join(language_names(wishes.languages)) if wishes.languages else not_given,
            "zone": wishes.zone}


def match_reason(match: Match) -> Msg:
    """Why a mentor fits: ``shares: events, l10n; speaks es; 1h apart; 2 of 4 places free``"""
    parts = [t("shares: {interests}", interests=", ".join(match.shared)) if match.shared else t("no shared interests"),
             t("speaks {languages}", languages=join(language_names(match.languages))) if match.languages
             else t("no shared language"),
             t("same time zone") if match.hours_apart == 0 else t("{hours}h apart", hours=match.hours_apart),
             tn("{free} of {n} place free", "{free} of {n} places free", match.mentor.capacity,
                free=match.mentor.capacity - match.load)]
    return join(parts, "; ")


def _matches(matches) -> Msg:
    return join((t("{mentor} ({reason})", mentor=who(m.mentor), reason=match_reason(m)) for m in matches), "; ")


def checkin_line(upcoming: Upcoming, zone: ZoneInfo, work: Work, *, mentor: bool) -> Msg:
    """The next check-in still ahead; a past one not marked yet is said apart (the mentor is
    told how to mark it)."""
    checkin = upcoming.next
    if checkin is None:
        line = t("none planned")
    else:
        names = {"orientation": t("orientation session"), "followup": t("follow-up"), "regular": t("check-in"),
                 "midterm": t("mid-term review"), "final": t("final session")}
        line = t("{kind}, due {due}", kind=names.get(checkin.kind.value, t("check-in")), due=day(checkin.due_at, zone))
    if upcoming.unmarked:
        numbers = join([f"#{c.id}" for c in upcoming.unmarked], ", ")
        if mentor:
            line += t(" ({n} past, not marked as held: {numbers}; mark with {done})", n=str(len(upcoming.unmarked)),
                      numbers=numbers, done=_cmd(work, f"checkin done {upcoming.unmarked[0].id}"))
        else:
            line += t(" ({n} past, not marked as held yet by your mentor: {numbers})",
                      n=str(len(upcoming.unmarked)), numbers=numbers)
    return line


# ---------------------------------------------------------------- asking for a mentor


@explains(AlreadyHasMentor)
def _already_has_mentor(e: AlreadyHasMentor, work: Work) -> Msg:
    return t("You already have a mentor, {mentor}. To change, send {change}; to see where things stand, {status}.",
             mentor=who(e.mentor), change=_cmd(work, "change [reason]"), status=_cmd(work, "status"))


@explains(RequestStillOpen)
def _request_still_open(e: RequestStillOpen, work: Work) -> Msg:
    return t("Your request #{number} is still open. Send {status} to see it, or {withdraw} to take it back.",
             number=e.request.id, status=_cmd(work, "status"), withdraw=_cmd(work, "withdraw"))


@explains(AlreadyRequested)
def _already_requested(e: AlreadyRequested, work: Work) -> Msg:
    return t("You already have an open request for a mentor. Send {status} to see it.",
             status=typed(work, "status", RoomKind.DM))


# The fields of a profile that matching reads, as a sentence names them.
PROFILE_FIELDS = {"timezone": N_("time zone"), "languages": N_("languages"), "interests": N_("interests")}


def request_sent(work: Work, request: MentorRequest, offered: bool, missing: list[str]) -> Msg:
    """The mentee's request is in: whether a mentor was asked, the deadline, and what to add to their profile."""
    if request.proposed_to_id:
        found = t("I have asked a mentor who fits; I will tell you as soon as a mentor accepts.")
    elif not offered:
        found = t("You have asked for a mentor several times today, so I have not asked a mentor directly this "
                  "time: it waits in the list of open requests that mentors look at.")
    else:
        found = t("No mentor with a free place fits right now, so it waits for the next one.")
    tip = None
    if missing:
        example = "Europe/Berlin" if missing[0] == "timezone" else "events, en"
        tip = t("Tip: a match is better with your {missing} in your profile, e.g. {example}.",
                missing=join(t(PROFILE_FIELDS.get(m, m)) for m in missing),
                example=_cmd(work, f"profile {missing[0]} {example}"))
    return lines(
        t("{thanks} {found}", thanks=bold(t("Thanks! Your request #{number} is in.", number=request.id)), found=found),
        t("If nobody takes it by {deadline}, the council finds you a mentor.",
          deadline=day(request.escalate_at or work.now, _zone(work))),
        tip,
    )


@renders(MentorProposed)
def _mentor_proposed(e: MentorProposed, work: Work) -> None:
    request, number = e.request, e.request.id
    zone = people.zone_of(e.mentor, work.policy)
    work.send(Target.dm(e.mentor.matrix_id), lines(
        t("{request} from {mentee} may suit you ({reason}).", request=bold(t("Request #{number}", number=number)),
          mentee=who(e.mentee), reason=match_reason(e.match)),
        _their_words(request),
        _summary_sentence(e.wishes),
        t("Take it with {accept}, or pass with {decline} (a reason is optional and stays with the council). "
          "If nobody takes it by {deadline}, it goes to the council.",
          accept=typed(work, f"accept {number}", RoomKind.DM), decline=typed(work, f"decline {number}", RoomKind.DM),
          deadline=day(request.escalate_at or work.now, zone)),
    ), answers=answers.offer(number, e.mentor.matrix_id))
    if e.announce:
        work.send(Target.mentors(), t(
            "{needs}: {summary}. I have asked {mentor}; any mentor with a free place can take it with {accept}.",
            needs=bold(t("Request #{number} needs a mentor", number=number)), summary=summary(e.wishes),
            mentor=who(e.mentor), accept=typed(work, f"accept {number}", RoomKind.MENTORS)))


def _their_words(request: MentorRequest) -> Msg:
    if not request.previous_mentor_id:
        return t("They wrote: {topic}", topic=request.topic)
    if request.topic:
        return t("They are changing mentor. When they first asked, they wrote: {topic}", topic=request.topic)
    return t("They are changing mentor.")


@renders(RequestWaiting)
def _request_waiting(e: RequestWaiting, work: Work) -> None:
    number = e.request.id
    work.send(Target.mentors(), t(
        "{needs}: {summary}. No mentor with a free place fits right now. Any mentor can take it with {accept}.",
        needs=bold(t("Request #{number} needs a mentor", number=number)), summary=summary(e.wishes),
        accept=typed(work, f"accept {number}", RoomKind.MENTORS)))


@explains(NoOpenRequest)
def _no_open_request(e: NoOpenRequest, work: Work) -> Msg:
    return t("You have no open request. Send {status} to see where things stand.", status=_cmd(work, "status"))


def withdrawn(work: Work, request: MentorRequest) -> Msg:
    return t("Done: request #{number} is withdrawn. Ask again any time with {request}.",
             number=request.id, request=_cmd(work, ASK))


@renders(RequestWithdrawn)
def _request_withdrawn(e: RequestWithdrawn, work: Work) -> None:
    if e.offered_to is not None:
        work.send(Target.dm(e.offered_to.matrix_id),
                  t("Request #{number} was withdrawn; nothing to do.", number=e.request.id))
    if e.staying_with is not None:
        work.send(Target.dm(e.staying_with.matrix_id),
                  t("{mentee} no longer looks for another mentor: you remain their mentor.", mentee=who(e.mentee)))


@renders(RequestEscalated)
def _request_escalated(e: RequestEscalated, work: Work) -> None:
    request, mentee = e.request, e.mentee
    suggestion = (t(" Best available: {matches}.", matches=_matches(e.matches)) if e.matches
                  else t(" No mentor has a free place right now."))
    waited = bold(_counted("Request #{number} has waited {n} days", e.waited_days, number=request.id))
    work.send(Target.council(), t(
        "{waited} and nobody took it: {mentee} asked for a mentor ({summary}).{suggestion} Assign one with {assign}.",
        waited=waited, mentee=who(mentee), summary=summary(e.wishes), suggestion=suggestion,
        assign=typed(work, f"assign {mentee.matrix_id} <mentor>", RoomKind.COUNCIL)), notify=True)
    work.send(Target.dm(mentee.matrix_id), t(
        "Your request #{number} has not found a mentor yet, so I have passed it to the council, "
        "who will find you one. Thank you for your patience.", number=request.id))


# ---------------------------------------------------------------- where things stand


def status(work: Work, me: Person | None, *, mentorship: Mentorship | None, mentor: Person | None,
           next_checkin: Upcoming | None, change_pending, request: MentorRequest | None, load: int | None,
           agreement: Msg | None = None) -> Msg:
    """A mentee's (and a mentor's) standing: mentor, commitment, next check-in, open requests, load."""
    zone = _zone(work)
    rows: list[Msg | None] = []
    if mentorship is not None and mentor is not None:
        rows += [
            t("{label}{mentor}, since {since}", label=bold(t("Your mentor: ")), mentor=who(mentor),
              since=day(mentorship.started_at, zone)),
            t("Commitment until {until}", until=day(mentorship.commitment_ends_at, zone)),
            t("Next check-in: {checkin}", checkin=checkin_line(next_checkin or Upcoming(None), zone, work,
                                                                mentor=False)),
            agreement,
        ]
        if change_pending is not None:
            rows.append(t("Your request to change mentor (#{number}) is with the council, since {since}.",
                          number=change_pending.id, since=day(change_pending.created_at, zone)))
    if request is not None:
        stage = {
            RequestState.OPEN: t("waiting for a mentor with a free place"),
            RequestState.PROPOSED: t("a mentor has been asked"),
            RequestState.ESCALATED: t("with the council, who will find you a mentor"),
        }[request.state]
        since = day(request.created_at, zone)
        if request.previous_mentor_id:
            rows.append(t("Your request #{number} for a new mentor, since {since}: {stage}.",
                          number=request.id, since=since, stage=stage))
        else:
            rows.append(t("Your request #{number} for a mentor, since {since}: {stage}.",
                          number=request.id, since=since, stage=stage))
    if me is not None and load is not None:
        away = t("; away until {until}", until=day(me.away_until, zone)) if is_away(me, work.now) else ""
        rows.append(t("{label}{load}{away}. Send {mentees} for the list.", label=bold(t("As a mentor: ")),
                      load=_counted("{load} of {n} mentees", me.capacity, load=load), away=away,
                      mentees=_cmd(work, "mentees")))
    if not rows:
        rows = [t("You have no mentor and no open request. Ask for one with {request}.", request=_cmd(work, ASK))]
    return lines(*rows)


# ---------------------------------------------------------------- changing mentor


@explains(NoMentorToChange)
def _no_mentor_to_change(e: NoMentorToChange, work: Work) -> Msg:
    return t("You have no mentor to change. Ask for one with {request}.", request=_cmd(work, ASK))


@explains(ChangeAlreadyPending)
def _change_already_pending(e: ChangeAlreadyPending, work: Work) -> Msg:
    return t("Your request to change mentor is already with the council; I will tell you their answer.")


@explains(AlreadyLookingForMentor)
def _already_looking(e: AlreadyLookingForMentor, work: Work) -> Msg:
    return t("I am already looking for a new mentor for you (request #{number}). Send {status} to see it.",
             number=e.request.id, status=_cmd(work, "status"))


def _free_because(free: FreeChange, policy: ProgramPolicy) -> Msg:
    if free is FreeChange.COMMITMENT_OVER:
        return t("the commitment is over")
    if free is FreeChange.MENTOR_INACTIVE:
        return t("your mentor is inactive")
    return _counted("your mentor is away for more than {n} days", policy.away_change_days)


@renders(ChangeRequested)
def _change_requested(e: ChangeRequested, work: Work) -> None:
    mentee, mentor, m = e.mentee, e.mentor, e.mentorship
    to_mentee = Target.dm(mentee.matrix_id)
    if e.free is not None and e.new_request is not None:
        work.send(to_mentee, t(
            "Done: as {why}, you can change mentor without the council. I am looking for a new mentor "
            "(request #{number}); {mentor} stays your mentor until one takes over.",
            why=_free_because(e.free, work.policy), number=e.new_request.id, mentor=who(mentor)))
        work.send(Target.dm(mentor.matrix_id), t(
            "{mentee} has asked for another mentor. You remain their mentor until a new one takes over; "
            "I will tell you when that happens.", mentee=who(mentee)))
        return
    work.send(to_mentee, t(
        "Your request to change mentor (#{number}) is with the council, as you are within the "
        "commitment (until {until}). I will tell you their answer.{seen}",
        number=e.change.id, until=day(m.commitment_ends_at, people.zone_of(mentee, work.policy)),
        seen=t(" Your reason is seen by the council only.") if e.reason_given else ""))
    program_zone = ZoneInfo(work.policy.timezone)
    number = e.change.id
    work.send(Target.council(), t(
        "{change}: {mentee} asks to change from {mentor} (mentorship since {since}, committed until {until}). "
        "Decide with {approve} or {refuse}.{reason}",
        change=bold(t("Change request #{number}", number=number)), mentee=who(mentee), mentor=who(mentor),
        since=day(m.started_at, program_zone), until=day(m.commitment_ends_at, program_zone),
        approve=typed(work, f"approve {number}", RoomKind.COUNCIL),
        refuse=typed(work, f"refuse {number} [note]", RoomKind.COUNCIL),
        reason=t(" A reason was given; see it in a DM with {queue}.", queue=typed(work, "queue", RoomKind.DM))
        if e.reason_given else ""), notify=True)


@renders(ChangeApproved)
def _change_approved(e: ChangeApproved, work: Work) -> None:
    if e.by is None:
        return  # the mentee was free to change: they and their mentor hear of it with the request
    work.send(Target.dm(e.mentor.matrix_id), t(
        "{mentee} will move to another mentor. You remain their mentor until a new one takes over; "
        "I will tell you when that happens.", mentee=who(e.mentee)))


# ---------------------------------------------------------------- ending


@explains(NoMentorToEnd)
def _no_mentor_to_end(e: NoMentorToEnd, work: Work) -> Msg:
    if e.request is not None:
        return t("You have no mentor right now, so there is nothing to end. To take back your request, send {withdraw}.",
                 withdraw=_cmd(work, "withdraw"))
    return t("You have no mentor right now, so there is nothing to end.")


def ended_by_mentee(work: Work, mentor: Person) -> Msg:
    return t("Done: your mentorship with {mentor} has ended; they have been told (without any reason). "
             "Thank you for taking part! Ask for a mentor again any time with {request}.",
             mentor=who(mentor), request=_cmd(work, ASK))


def ended_by_mentor(work: Work, mentee: Person) -> Msg:
    return t("Done: your mentorship with {mentee} has ended; they have been told (without any reason).",
             mentee=who(mentee))


@renders(MentorshipEnded)
def _mentorship_ended(e: MentorshipEnded, work: Work) -> None:
    if e.other_is_mentor:
        msg = t("{by} has ended your mentorship with you. Their planned check-ins are cancelled. "
                "Thank you for the time you spent together.", by=who(e.by))
    else:
        msg = t("{by} has ended your mentorship. Their planned check-ins are cancelled. Thank you for the time you "
                "spent together. If you want another mentor, send {request}.",
                by=who(e.by), request=typed(work, ASK, RoomKind.DM))
    work.send(Target.dm(e.other.matrix_id), msg)


# ---------------------------------------------------------------- mentors: requests and mentees


def no_open_requests() -> Msg:
    return t("No open requests: every mentee who asked has a mentor.")


def open_requests(work: Work, entries, total: int, private: bool) -> Msg:
    """The open requests (``entries``: request, mentee, wishes, best matches), each with the best
    matches; who asked and what they wrote only where ``private``."""
    zone = _zone(work)
    rows: list[Msg] = []
    for r, mentee, wishes, matches in entries:
        stage = {RequestState.OPEN: t("waiting"), RequestState.PROPOSED: t("asked a mentor"),
                 RequestState.ESCALATED: t("with the council")}[r.state]
        head = t("{number} ({stage}, since {since}): ", number=bold(f"#{r.id}"), stage=stage,
                 since=day(r.created_at, zone))
        if private and r.previous_mentor_id:
            head += t("{mentee} is changing mentor; ", mentee=who(mentee))
        elif private:
            head += t("{mentee} wrote \u201c{topic}\u201d; ", mentee=who(mentee), topic=r.topic)
        best = _matches(matches) if matches else t("no mentor with a free place fits")
        rows.append(t("\u2022 {head}{summary}. Suggested: {best}", head=head, summary=summary(wishes), best=best))
    more = t("(showing the first {shown} of {total})", shown=len(entries), total=total) if total > len(entries) else None
    footer = t("Take one with {accept}.", accept=_cmd(work, "accept <number>"))
    if not private:
        footer += t(" Send {requests} to me directly to see what each mentee wrote.",
                    requests=typed(work, "requests", RoomKind.DM))
    return lines(bold(t("Open requests ({total})", total=total)), *rows, more, footer)


@explains(NoSuchRequest)
def _no_such_request(e: NoSuchRequest, work: Work) -> Msg:
    return t("There is no request #{number}. Send {requests} to see the open ones.",
             number=e.number, requests=_cmd(work, "requests"))


# How a closed request's state is said.
REQUEST_STATES = {RequestState.ACCEPTED: N_("accepted"), RequestState.ASSIGNED: N_("assigned by the council"),
                  RequestState.WITHDRAWN: N_("withdrawn"), RequestState.ESCALATED: N_("with the council"),
                  RequestState.OPEN: N_("open"), RequestState.PROPOSED: N_("offered to a mentor")}


@explains(RequestClosed)
def _request_closed(e: RequestClosed, work: Work) -> Msg:
    return t("Request #{number} is closed ({state}). Send {requests} to see the open ones.",
             number=e.request.id, state=t(REQUEST_STATES.get(e.request.state, e.request.state.value)),
             requests=_cmd(work, "requests"))


@explains(LeavingYou)
def _leaving_you(e: LeavingYou, work: Work) -> Msg:
    return t("Request #{number} is from a mentee who is moving on from you; another mentor should take it.",
             number=e.request.id)


def accepted(mentee: Person) -> Msg:
    return t("Done: you are {mentee}'s mentor now. I have sent you both a welcome.", mentee=who(mentee))


@explains(MentorsThemself)
def _mentors_themself(e: MentorsThemself, work: Work) -> Msg:
    return t("A mentor cannot mentor themselves.")


@explains(NotAMentor)
def _not_a_mentor(e: NotAMentor, work: Work) -> Msg:
    return t("{person} is not a mentor. The council adds mentors with {add}.", person=who(e.person),
             add=code("mentor add"))


@explains(MentorInactive)
def _mentor_inactive(e: MentorInactive, work: Work) -> Msg:
    return t("{mentor} is inactive and takes no new mentees.", mentor=who(e.mentor))


@explains(NoFreePlace)
def _no_free_place(e: NoFreePlace, work: Work) -> Msg:
    return t("{mentor} has no free place ({load}). A mentor can raise their capacity with {capacity}.",
             mentor=who(e.mentor), load=_counted("{load} of {n} mentees", e.mentor.capacity, load=e.load),
             capacity=code("profile capacity <number>"))


@explains(AlreadyTheirMentor)
def _already_their_mentor(e: AlreadyTheirMentor, work: Work) -> Msg:
    return t("{mentor} is already {mentee}'s mentor.", mentor=who(e.mentor), mentee=who(e.mentee))


@explains(RequestTaken)
def _request_taken(e: RequestTaken, work: Work) -> Msg:
    return t("Request #{number} was taken a moment ago; nothing changed.", number=e.request.id)


@explains(MentorshipRace)
def _mentorship_race(e: MentorshipRace, work: Work) -> Msg:
    return t("That did not go through: {mentor} has no free place, or {mentee} got a mentor a moment ago. "
             "Nothing changed; send {status} or {requests} to see where things stand.",
             mentor=who(e.mentor), mentee=who(e.mentee), status=code("status"), requests=code("requests"))


@renders(MentorshipStarted)
def _mentorship_started(e: MentorshipStarted, work: Work) -> None:
    """Tell the mentee, the new mentor and (on a change) the previous mentor what concerns them."""
    m, mentee, mentor = e.mentorship, e.mentee, e.mentor
    mentee_zone, mentor_zone = people.zone_of(mentee, work.policy), people.zone_of(mentor, work.policy)
    orientation = orientation_due(work)
    by_council = e.how in ("assigned", "reassigned")
    if not e.checkins_moved:
        plan = _counted(" First comes an orientation session of about an hour, by {by}, to agree your goals and "
                        "how you keep in touch; a follow-up comes {n} days after it.",
                        work.policy.followup_days, by=day(orientation, mentee_zone))
    else:
        plan = t(" Your planned check-ins move to your new mentor.")
    parts = dict(mentor=mention(mentor.matrix_id, people.name_of(mentor)),
                 until=day(m.commitment_ends_at, mentee_zone), plan=plan, status=typed(work, "status", RoomKind.DM))
    if by_council:
        to_mentee = t("Welcome! {mentor} is your mentor now (assigned by the council). You are committed to each "
                      "other until {until}.{plan} Send {status} any time to see where things stand.", **parts)
    else:
        to_mentee = t("Welcome! {mentor} is your mentor now. You are committed to each other until {until}.{plan} "
                      "Send {status} any time to see where things stand.", **parts)
    work.send(Target.dm(mentee.matrix_id), lines(to_mentee, agreement_guide(work, None)))
    first = (t("Please arrange the orientation session by {by}.", by=day(orientation, mentor_zone))
             if not e.checkins_moved else t("They are changing mentor, so their planned check-ins are yours now."))
    parts = dict(mentee=mention(mentee.matrix_id, people.name_of(mentee)),
                 until=day(m.commitment_ends_at, mentor_zone), first=first, mentees=typed(work, "mentees", RoomKind.DM))
    if by_council:
        to_mentor = t("Welcome your new mentee {mentee} (assigned by the council)! The commitment runs until "
                      "{until}. {first} Send {mentees} to see everyone you mentor.", **parts)
    else:
        to_mentor = t("Welcome your new mentee {mentee}! The commitment runs until {until}. {first} "
                      "Send {mentees} to see everyone you mentor.", **parts)
    work.send(Target.dm(mentor.matrix_id), lines(to_mentor, agreement_guide(work, mentee)))
    if e.previous is not None:
        work.send(Target.dm(e.previous.matrix_id), t(
            "{mentee} has moved to a new mentor, so your mentorship with them has ended. "
            "Thank you for the time you gave them!", mentee=who(mentee)))
    if e.request is not None:
        work.send(Target.mentors(), t("Request #{number} is taken: {mentor} is the mentor now. Thank you!",
                                      number=e.request.id, mentor=who(mentor)))


@explains(AlreadyDeclined)
def _already_declined(e: AlreadyDeclined, work: Work) -> Msg:
    return t("You have already passed on request #{number}; it will not be offered to you again.",
             number=e.request.id)


def reason_confidential(work: Work, number: int) -> Msg:
    """A reason for declining was given where others would read it."""
    return t("Reasons are confidential: send {in_dm} to me in a direct message, or {here} here without one.",
             in_dm=typed(work, f"decline {number} <reason>", RoomKind.DM), here=_cmd(work, f"decline {number}"))


def declined(number: int, was_offered: bool) -> Msg:
    if was_offered:
        return t("Done: you passed on request #{number}; I am asking the next mentor who fits. "
                 "Thank you for saying so.", number=number)
    return t("Noted: request #{number} will not be offered to you.", number=number)


def no_mentees(work: Work, me: Person) -> Msg:
    return t("You have no mentees right now ({places}). Open requests: {requests}.",
             places=_counted("{n} places", me.capacity), requests=_cmd(work, "requests"))


def agreement_guide(work: Work, mentee: Person | None) -> Msg:
    """After a match: what the first session agrees on, and how to write it down (``mentee``: to the mentor)."""
    draft = "agreement draft ..." if mentee is None else f"agreement draft {mentee.matrix_id} ..."
    return t("In your first session, agree on the mentee's goals, what each of you commits to, how and how often "
             "you talk, how a meeting is cancelled and how to ask for urgent help. Either of you writes it down "
             "with {draft}; the other confirms it. Send {help} for an example.",
             draft=typed(work, draft, RoomKind.DM), help=typed(work, "help agreement draft", RoomKind.DM))


def agreement_standing(standing: str) -> Msg:
    return {"confirmed": t("agreement confirmed"), "draft": t("agreement draft to confirm"),
            "none": t("no agreement yet")}[standing]


def mentees(work: Work, me: Person, rows, agreements: dict[int, str]) -> Msg:
    """The mentor's mentees (``rows``: mentorship, mentee, next check-in; ``agreements``: where each
    mentorship's agreement stands)."""
    zone = _zone(work)
    items = [t("\u2022 {mentee}: since {since}, committed until {until}; {agreement}; next: {next}",
               mentee=who(mentee), since=day(m.started_at, zone), until=day(m.commitment_ends_at, zone),
               agreement=agreement_standing(agreements[m.id]), next=checkin_line(nxt, zone, work, mentor=True))
             for m, mentee, nxt in rows]
    return lines(bold(_counted("Your mentees ({count} of {n})", me.capacity, count=len(rows))), *items)


@explains(UnknownPerson)
def _unknown_person(e: UnknownPerson, work: Work) -> Msg:
    if e.role is Role.MENTEE:
        return t("{person} is not someone I know as a mentee.", person=person(e.matrix_id))
    if e.role is Role.MENTOR:
        return t("{person} is not someone I know as a mentor.", person=person(e.matrix_id))
    return t("{person} is not someone I know.", person=person(e.matrix_id))


@explains(NotYourMentee)
def _not_your_mentee(e: NotYourMentee, work: Work) -> Msg:
    named = who(e.person) if e.person is not None else person(e.matrix_id)
    return t("{person} is not your mentee. Send {mentees} to see yours.", person=named,
             mentees=_cmd(work, "mentees"))


# ---------------------------------------------------------------- away and back


def away(work: Work, until: datetime, moved: int) -> Msg:
    went = tn(" The {n} request offered to you went to the next mentor.",
              " The {n} requests offered to you went to the next mentor.", moved) if moved else ""
    return t("Done: you are away until {until} and get no new requests until then.{went} "
             "Your mentees stay with you. Send {back} when you return earlier.",
             until=day(until, _zone(work)), went=went, back=_cmd(work, "back"))


def not_away() -> Msg:
    return t("You were not marked away: new requests can already come to you.")


def welcome_back() -> Msg:
    return t("Welcome back! New requests may come to you again.")


# ---------------------------------------------------------------- the coach pool


def no_skill_like(work: Work, wanted: str) -> Msg:
    return t("No available mentor lists a skill like {skill}. Send {pool} to see every skill.",
             skill=code(wanted[:50]), pool=_cmd(work, "pool"))


def no_skills_listed() -> Msg:
    return t("No available mentor has listed skills yet.")


def coach_pool(work: Work, by_skill: dict[str, list[Person]], wanted: str) -> Msg:
    if wanted:
        head = t("{pool} \u2014 mentors available for a one-off coaching session on {skill}:",
                 pool=bold(t("Coach pool")), skill=wanted)
    else:
        head = t("{pool} \u2014 mentors available for a one-off coaching session:", pool=bold(t("Coach pool")))
    listing = [t("\u2022 {skill}: {mentors}", skill=bold(s), mentors=join(who(m) for m in ms))
               for s, ms in by_skill.items()]
    return lines(head, *listing, t("Ask one of them for a session, in a direct message with me: {ask}.",
                                   ask=typed(work, "coaching ask <coach> <skill> <when>", RoomKind.DM)))


# ---------------------------------------------------------------- recognition


@explains(NotAMentee)
def _not_a_mentee(e: NotAMentee, work: Work) -> Msg:
    return t("{person} is not a mentee in the program; only mentees can be nominated.", person=who(e.person))


@explains(SelfNomination)
def _self_nomination(e: SelfNomination, work: Work) -> Msg:
    return t("You cannot nominate yourself.")


def nominated(nominee: Person) -> Msg:
    return t("Thank you! Your nomination of {nominee} is with the council.", nominee=who(nominee))


@renders(MenteeNominated)
def _mentee_nominated(e: MenteeNominated, work: Work) -> None:
    work.send(Target.council(), t(
        "{nomination}: {nominator} nominates {nominee} for recognition: \u201c{reason}\u201d",
        nomination=bold(t("Nomination #{number}", number=e.nomination.id)), nominator=who(e.nominator),
        nominee=who(e.nominee), reason=e.nomination.reason), notify=True)
