"""What the bot says about the council's work: assignments, changes of mentor, the council's
members, its queue and a person's history."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from commands.kinds import RoomKind
from commands.messages import Target
from commands.services.council import (
    AboutYourself,
    AlreadyHasMentor,
    AlreadyOnCouncil,
    Assigned,
    ChangeAlreadyDecided,
    ChangeApproved,
    ChangeRefused,
    CouncilChange,
    CouncilRightsFromRoom,
    History,
    NoMentorToMoveFrom,
    NoSuchChange,
    NotOnCouncil,
    OnlyCouncilMember,
    Queue,
    Reason,
    UnknownPerson,
)
from commands.services.work import Work
from commands.text import Msg, bold, lines, person
from commands.words import N_, explains, renders, t, typed
from commands.words.roster import here, who
from storage.models import ChangeState


def day(when: datetime, zone: ZoneInfo) -> str:
    return f"{when.astimezone(zone):%Y-%m-%d}"


# ---------------------------------------------------------------- refusals


@explains(AboutYourself)
def about_yourself(error: AboutYourself, work: Work) -> Msg:
    return t("This is about you, so another council member must decide it. I have changed nothing.")


@explains(AlreadyHasMentor)
def already_has_mentor(error: AlreadyHasMentor, work: Work) -> Msg:
    return t("{mentee} already has a mentor, {mentor}. To move them, send {reassign}.",
             mentee=who(error.mentee), mentor=who(error.mentor),
             reassign=here(work, f"reassign {error.mentee.matrix_id} {error.asked.matrix_id}"))


@explains(NoMentorToMoveFrom)
def no_mentor_to_move_from(error: NoMentorToMoveFrom, work: Work) -> Msg:
    return t("{mentee} has no mentor to move from. To give them one, send {assign}.",
             mentee=person(error.mentee), assign=here(work, f"assign {error.mentee} {error.mentor}"))


@explains(NoSuchChange)
def no_such_change(error: NoSuchChange, work: Work) -> Msg:
    return t("There is no change request #{number}. Send {queue} to see them.",
             number=str(error.number), queue=here(work, "queue"))


@explains(ChangeAlreadyDecided)
def change_already_decided(error: ChangeAlreadyDecided, work: Work) -> Msg:
    return t("Change request #{number} is already {state}.", number=str(error.number),
             state=t(CHANGE_STATES.get(error.state, error.state.value)))


# How a decided change request's state is said.
CHANGE_STATES = {ChangeState.APPROVED: N_("approved"), ChangeState.REFUSED: N_("refused"),
                 ChangeState.WITHDRAWN: N_("withdrawn"), ChangeState.PENDING: N_("pending")}


@explains(NotOnCouncil)
def not_on_council(error: NotOnCouncil, work: Work) -> Msg:
    return t("{person} is not on the council. Send {council} to see who is.",
             person=person(error.matrix_id), council=here(work, "council"))


@explains(OnlyCouncilMember)
def only_council_member(error: OnlyCouncilMember, work: Work) -> Msg:
    return t("{person} is the only council member; the program needs one. Add another first.",
             person=person(error.matrix_id))


@explains(AlreadyOnCouncil)
def already_on_council(error: AlreadyOnCouncil, work: Work) -> Msg:
    return t("{person} is on the council already; nothing to do.", person=person(error.matrix_id))


@explains(CouncilRightsFromRoom)
def council_rights_from_room(error: CouncilRightsFromRoom, work: Work) -> Msg:
    return t("Council rights come from the council room: invite {person} to it, and they are on the council "
             "once they join.", person=person(error.matrix_id))


@explains(UnknownPerson)
def unknown_person(error: UnknownPerson, work: Work) -> Msg:
    return t("{person} is not someone I know.", person=person(error.matrix_id))


# ---------------------------------------------------------------- assigning and changes of mentor


def assigned(done: Assigned) -> Msg:
    msg = t("Done: {mentor} is now {mentee}'s mentor; both have been told.", mentor=who(done.mentor),
            mentee=who(done.mentee))
    if done.closed_request_id is not None:
        msg += t(" Their request #{number} is closed.", number=str(done.closed_request_id))
    return msg


def reassigned(done: Assigned) -> Msg:
    return t("Done: {mentee} moved to {mentor}; all three have been told.", mentee=who(done.mentee),
             mentor=who(done.mentor))


@renders(ChangeApproved)
def change_approved(event: ChangeApproved, work: Work) -> None:
    work.send(Target.dm(event.mentee.matrix_id), t(
        "The council approved your change of mentor. I am looking for a new one (request #{number}); your current "
        "mentor stays with you until then.", number=str(event.request_id)))


@renders(ChangeRefused)
def change_refused(event: ChangeRefused, work: Work) -> None:
    note = t("Their note: \u201c{note}\u201d ", note=event.note) if event.note else ""
    work.send(Target.dm(event.mentee.matrix_id), t(
        "The council did not approve your change of mentor this time. {note}If things are not working, you can "
        "still end the mentorship at any time with {end}, or talk to the council.",
        note=note, end=typed(work, "end", RoomKind.DM)))


def change_approved_done(number: int, mentee, request_id: int) -> Msg:
    return t("Done: change request #{number} approved. {mentee} is waiting for a new mentor (request #{request}).",
             number=str(number), mentee=who(mentee), request=str(request_id))


def change_refused_done(number: int, mentee) -> Msg:
    return t("Done: change request #{number} refused; {mentee} has been told.", number=str(number),
             mentee=who(mentee))


# ---------------------------------------------------------------- the council's members


def council_members(members: list[str], named: list[str], remove: Msg) -> Msg:
    rows = [t("• {person} (named in the configuration)", person=person(m)) if m in named
            else t("• {person}", person=person(m)) for m in members]
    return lines(t("{title}. Remove someone with {remove}.",
                   title=bold(t("The council ({count})", count=str(len(members)))), remove=remove), *rows)


def removed_from_council(done: CouncilChange) -> Msg:
    msg = t("Done: {person} is no longer on the council and has no council rights from now on. Remove them from "
            "the council room too, or they can still read it.", person=who(done.person))
    if done.named_in_config:
        msg += t(" Also take them out of [program] council in the configuration.")
    return msg


def farewell_council(program: str) -> Msg:
    return t("You are no longer on the council of {program}. Thank you for your time on it!", program=program)


def added_to_council(done: CouncilChange) -> Msg:
    if done.on_council:
        return t("Done: {person} is on the council again.", person=who(done.person))
    return t("Done: {person} may be on the council again: invite them to the council room; they have council "
             "rights once they join.", person=who(done.person))


# ---------------------------------------------------------------- what the council reads


def queue(q: Queue, work: Work, room: RoomKind, zone: ZoneInfo) -> Msg:
    def cmd(text: str) -> Msg:
        return typed(work, text, room)

    rows: list[Msg | None] = [bold(t("The council's queue"))]
    if q.escalated:
        rows.append(t("{title} \u2014 assign with {assign}:",
                      title=bold(t("Requests nobody took ({count})", count=str(len(q.escalated)))),
                      assign=cmd("assign <mentee> <mentor>")))
        for r, mentee in q.escalated:
            rows.append(t("• #{number}: {mentee}, since {date}", number=str(r.id), mentee=who(mentee),
                          date=day(r.created_at, zone)))
    if q.changes:
        rows.append(t("{title} \u2014 {approve} or {refuse}:",
                      title=bold(t("Changes of mentor to decide ({count})", count=str(len(q.changes)))),
                      approve=cmd("approve <number>"), refuse=cmd("refuse <number> [note]")))
        for c in q.changes:
            if not q.reasons_shown:
                reason = ""
            elif c.reason:
                reason = t("; reason: \u201c{reason}\u201d", reason=c.reason)
            else:
                reason = t("; no reason given")
            rows.append(t("• #{number}: {mentee} from {mentor}, asked {date}{reason}", number=str(c.change.id),
                          mentee=who(c.mentee), mentor=who(c.mentor), date=day(c.change.created_at, zone),
                          reason=reason))
        if not q.reasons_shown:
            rows.append(t("Reasons are shown in a direct message: send {queue} to me.",
                          queue=typed(work, "queue", RoomKind.DM)))
    if not q.escalated and not q.changes:
        rows.append(t("Nothing waits for the council."))
    rows.append(t("Open requests in matching: {count} ({requests}).", count=str(q.open_requests),
                  requests=cmd("requests")))
    return lines(*rows)


def _reason(r: Reason) -> Msg:
    if r.kind == "ended":
        return t("• mentorship #{number} ended: \u201c{reason}\u201d", number=str(r.number), reason=r.text)
    if r.kind == "change":
        return t("• change #{number}: \u201c{reason}\u201d", number=str(r.number), reason=r.text)
    return t("• request #{number} declined: \u201c{reason}\u201d", number=str(r.number), reason=r.text)


def history(h: History, work: Work, zone: ZoneInfo, limit: int) -> Msg:
    rows: list[Msg | None] = [t("{title}{person}", title=bold(t("History of ")), person=who(h.subject))]
    for e in h.entries:
        actor = who(e.actor) if e.actor is not None else t("the bot")
        moved = (t(" ({before} \u2192 {after})", before=e.from_state or "-", after=e.to_state)
                 if e.to_state and e.from_state != e.to_state else "")
        # The entity and action are the audit log's own words (request, approved...), as stored.
        rows.append(t("• {at} {entity} #{number} {action}{moved} by {actor}", at=f"{e.at.astimezone(zone):%Y-%m-%d %H:%M}",
                      entity=e.entity, number=str(e.entity_id), action=e.action, moved=moved, actor=actor))
    if h.total > limit:
        rows.insert(1, t("(the last {limit} of {total} events)", limit=str(limit), total=str(h.total)))
    if not h.entries:
        rows.append(t("Nothing recorded yet."))
    if h.reasons:
        rows.append(bold(t("Reasons given (confidential)")))
        rows.extend(_reason(r) for r in h.reasons)
    if h.reasons_withheld:
        rows.append(t("Reasons people gave are shown only in a direct message: send {audit} to me.",
                      audit=typed(work, f"audit {h.subject.matrix_id}", RoomKind.DM)))
    return lines(*rows)
