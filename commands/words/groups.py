"""What the bot says about group mentoring: groups, members, group check-ins and sessions."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from commands.kinds import RoomKind
from commands.messages import Target
from commands.services import people
from commands.services.checkins import GroupReminderDue
from commands.services.groups import (
    AlreadyGroupMentor,
    AlreadyInGroup,
    GroupAnswered,
    GroupChangeNeedsCouncil,
    GroupCheckInCancelled,
    GroupCheckInPlanned,
    GroupCreated,
    GroupEnded,
    GroupFull,
    GroupInvited,
    GroupLeft,
    GroupMentorChanged,
    GroupOver,
    GroupSessionRecorded,
    MentorOfGroup,
    NoSuchGroup,
    NotAskedToGroup,
    NotGroupMentor,
    NotInGroup,
)
from commands.services.work import Work
from commands.text import Msg, bold, join, lines, mention
from commands.words import explains, renders, t, tn, typed
from commands.words.calendar import offer
from commands.words.checkins import describe, kind_name, repeats_ended, shown, until
from commands.words.mentoring import day, who
from storage.models import CheckIn, GroupSession, GroupState, MentoringGroup, Person


def named(group: MentoringGroup) -> Msg:
    """``group #3 “Writers”``."""
    return t("group #{number} \u201c{name}\u201d", number=str(group.id), name=group.name)


def _to_each(work: Work, people_: tuple[Person, ...], msg_for) -> None:
    for p in people_:
        work.send(Target.dm(p.matrix_id), msg_for(p))


# ---------------------------------------------------------------- the group and its members


@renders(GroupCreated)
def _created(e: GroupCreated, work: Work) -> None:
    work.send(Target.group(e.group.id), t("Welcome to {group}, with {mentor} as its mentor. Only its members and "
                                          "mentor are in this room; I post the group's check-in reminders here.",
                                          group=named(e.group), mentor=who(e.mentor)), notify=False)


def created(work: Work, group: MentoringGroup, limit: int) -> Msg:
    return t("Done: {group} is set up, for up to {limit} mentees; I am opening a private room for it. Ask a mentee "
             "to join with {invite} (in a DM).", group=named(group), limit=str(limit),
             invite=typed(work, f"group invite {group.id} <mentee>", RoomKind.DM))


@renders(GroupInvited)
def _invited(e: GroupInvited, work: Work) -> None:
    work.send(Target.dm(e.mentee.matrix_id), t(
        "{mentor} asks you to join {group}, a mentoring group that meets together. Its members see who you are. "
        "Send {join} to join, or {no} to say no.", mentor=who(e.mentor), group=named(e.group),
        join=typed(work, f"group join {e.group.id}", RoomKind.DM),
        no=typed(work, f"group decline {e.group.id}", RoomKind.DM)))


def invited(group: MentoringGroup, mentee: Person, places: int) -> Msg:
    return t("Done: {who} is asked to join {group}; you will hear their answer. {places}", who=who(mentee),
             group=named(group), places=tn("One more place is free.", "{n} more places are free.", places)
             if places else t("The group is now full."))


@renders(GroupAnswered)
def _answered(e: GroupAnswered, work: Work) -> None:
    if e.joined:
        work.send(Target.dm(e.mentor.matrix_id), t("{who} joined {group}.", who=who(e.mentee), group=named(e.group)))
        # The room invites them before it welcomes them.
        work.send(Target.group(e.group.id), t("Welcome, {who}!", who=mention(e.mentee.matrix_id,
                                                                             people.name_of(e.mentee))),
                  invite=e.mentee.matrix_id)
    else:
        work.send(Target.dm(e.mentor.matrix_id), t("{who} said no to joining {group}.", who=who(e.mentee),
                                                    group=named(e.group)))


def answered(work: Work, group: MentoringGroup, joined: bool) -> Msg:
    if joined:
        return t("Welcome to {group}! I am inviting you to its private room, where its check-ins are reminded. "
                 "Send {groups} to see your groups.", group=named(group), groups=typed(work, "groups", RoomKind.DM))
    return t("Done: you will not join {group}.", group=named(group))


@renders(GroupLeft)
def _left(e: GroupLeft, work: Work) -> None:
    work.send(Target.dm(e.mentor.matrix_id), t("{who} left {group}.", who=who(e.mentee), group=named(e.group)))
    work.send(Target.group(e.group.id), t("{who} left the group.", who=who(e.mentee)), notify=False)


def left(group: MentoringGroup) -> Msg:
    return t("Done: you left {group}; its room is no longer yours, and its check-ins no longer remind you. "
             "A reason you gave is kept for the council only.", group=named(group))


@renders(GroupEnded)
def _ended(e: GroupEnded, work: Work) -> None:
    _to_each(work, e.members, lambda p: t("{by} has ended {group}. Its planned check-ins are cancelled. Thank you "
                                          "for the time you spent together.", by=who(e.by), group=named(e.group)))


def ended(group: MentoringGroup, members: int) -> Msg:
    return t("Done: {group} has ended; {told}. Its planned check-ins are cancelled.", group=named(group),
             told=tn("its member has been told", "its {n} members have been told", members))


@renders(GroupMentorChanged)
def _mentor_changed(e: GroupMentorChanged, work: Work) -> None:
    work.send(Target.dm(e.new.matrix_id), t("You are now the mentor of {group}. Send {groups} to see it.",
                                            group=named(e.group), groups=typed(work, "groups", RoomKind.DM)))
    if e.by.id != e.old.id:
        work.send(Target.dm(e.old.matrix_id), t("{new} is now the mentor of {group}, in your place.",
                                                new=who(e.new), group=named(e.group)))
    _to_each(work, e.members, lambda p: t("{new} is now the mentor of {group}.", new=who(e.new),
                                          group=named(e.group)))
    work.send(Target.group(e.group.id), t("{new} is now the mentor of this group.",
                                          new=mention(e.new.matrix_id, people.name_of(e.new))),
              invite=e.new.matrix_id)


def mentor_changed(group: MentoringGroup, old: Person, new: Person) -> Msg:
    return t("Done: {new} is now the mentor of {group}, after {old}; everyone in it has been told.",
             new=who(new), group=named(group), old=who(old))


# ---------------------------------------------------------------- the list


def group_list(work: Work, entries: list[tuple[MentoringGroup, Person, tuple[Person, ...], CheckIn | None]],
               me: Person, zone: ZoneInfo) -> Msg:
    if not entries:
        if me.is_mentor:
            return t("No groups. Start one with {cmd}.", cmd=typed(work, "group create <name>", RoomKind.DM))
        return t("You are in no group.")
    out: list[Msg] = []
    for group, mentor, members, upcoming in entries:
        state = t("running since {day}", day=day(group.started_at, zone)) if group.state is GroupState.ACTIVE \
            else t("ended {day}", day=day(group.ended_at, zone))
        names = join([who(p) for p in members], ", ") if members else t("no members yet")
        out.append(t("• {group}, mentor {mentor}, {state}: {members}", group=named(group), mentor=who(mentor),
                     state=state, members=names))
        if upcoming is not None:
            out.append(t("  next: #{number} {what}", number=str(upcoming.id), what=describe(upcoming, zone)))
    return lines(bold(t("Groups ({count})", count=str(len(entries)))), *out)


# ---------------------------------------------------------------- check-ins and sessions


@renders(GroupCheckInPlanned)
def _checkin_planned(e: GroupCheckInPlanned, work: Work) -> None:
    _to_each(work, e.members, lambda p: t("{mentor} planned a {kind} of {group}: {when}.{calendar}",
                                          mentor=who(e.mentor), kind=kind_name(e.checkin.kind), group=named(e.group),
                                          when=describe(e.checkin, people.zone_of(p, work.policy)),
                                          calendar=offer(work, e.checkin)))


def checkin_planned(work: Work, group: MentoringGroup, c, members: int, zone: ZoneInfo) -> Msg:
    return t("Done: #{number} {what} of {group}. {told}{calendar}", what=describe(c, zone), number=str(c.id),
             calendar=offer(work, c),
             group=named(group), told=tn("Its member has been told, and is reminded with you in the group's room.",
                                         "Its {n} members have been told, and are reminded with you in the group's "
                                         "room.", members) if members else t("It has no members yet: those who join "
                                                                             "are reminded too."))


@renders(GroupReminderDue)
def _group_reminder(e: GroupReminderDue, work: Work) -> None:
    """One reminder in the group's room, mentioning everyone it is for (the program's zone; each
    reads the time in their own from the list of check-ins)."""
    c = e.checkin
    zone = ZoneInfo(c.timezone)
    names = join([mention(p.matrix_id, people.name_of(p)) for p in e.to], ", ")
    work.send(Target.group(e.group.id), t("{title}{until}, {when}. {names}", title=bold(t(
        "Reminder: {kind} of {group} ", kind=kind_name(c.kind), group=named(e.group))), until=until(c.due_at - work.now),
        when=shown(c.due_at, zone), names=names), notify=True)


@renders(GroupCheckInCancelled)
def _checkin_cancelled(e: GroupCheckInCancelled, work: Work) -> None:
    _to_each(work, e.members, lambda p: t("{mentor} cancelled the {kind} of {group} on {when}{series}.",
                                          mentor=who(e.mentor), kind=kind_name(e.checkin.kind), group=named(e.group),
                                          when=shown(e.checkin.due_at, people.zone_of(p, work.policy)),
                                          series=repeats_ended(e.series)))


def checkin_cancelled(group: MentoringGroup, c: CheckIn, zone: ZoneInfo, *, series: bool) -> Msg:
    return t("Done: {kind} #{number} of {group} on {when} is cancelled{series}; its members have been told.",
             kind=kind_name(c.kind), number=str(c.id), group=named(group), when=shown(c.due_at, zone),
             series=repeats_ended(series))


def session_recorded(group: MentoringGroup, record: GroupSession, members: int) -> Msg:
    return t("Done: the {kind} session of {group} is recorded. {told} Only its members, you and the council can "
             "read it.", kind=record.kind.value, group=named(group),
             told=tn("Its member has been sent it.", "Its {n} members have been sent it.", members))


def _record(record: GroupSession, zone: ZoneInfo) -> Msg:
    msg = t("{kind} session, {day}: {outcome}", kind=record.kind.value, day=day(record.held_at, zone),
            outcome=record.outcome)
    if record.next_steps:
        msg += t(" Next: {next}", next=record.next_steps)
    return msg


@renders(GroupSessionRecorded)
def _session_recorded(e: GroupSessionRecorded, work: Work) -> None:
    # In each member's DM, never in a shared room: the group's room holds no session notes.
    _to_each(work, e.members, lambda p: t("{mentor} recorded a session of {group}. {record}", mentor=who(e.mentor),
                                          group=named(e.group),
                                          record=_record(e.record, people.zone_of(p, work.policy))))


def sessions(group: MentoringGroup, records: list[GroupSession], zone: ZoneInfo) -> Msg:
    if not records:
        return t("No sessions of {group} recorded yet.", group=named(group))
    return lines(bold(t("Sessions of {group}", group=named(group))), *(t("• {r}", r=_record(r, zone))
                                                                          for r in records))


# ---------------------------------------------------------------- refusals


@explains(NoSuchGroup)
def _no_such_group(error: NoSuchGroup, work: Work) -> Msg:
    return t("You have no group #{number}. Send {groups} to see yours.", number=str(error.number),
             groups=typed(work, "groups", RoomKind.DM))


@explains(GroupOver)
def _group_over(error: GroupOver, work: Work) -> Msg:
    return t("{group} has ended.", group=named(error.group))


@explains(NotGroupMentor)
def _not_group_mentor(error: NotGroupMentor, work: Work) -> Msg:
    return t("Only the mentor of {group} does that.", group=named(error.group))


@explains(GroupFull)
def _group_full(error: GroupFull, work: Work) -> Msg:
    return t("{group} is full: a group has at most {limit} mentees, counting those asked who have not answered "
             "yet. Someone must leave (or say no) before another can join.", group=named(error.group),
             limit=str(error.limit))


@explains(AlreadyInGroup)
def _already_in_group(error: AlreadyInGroup, work: Work) -> Msg:
    if error.asked:
        return t("{who} is already asked to join {group}; they have not answered yet.", who=who(error.person),
                 group=named(error.group))
    return t("{who} is already in {group}.", who=who(error.person), group=named(error.group))


@explains(MentorOfGroup)
def _mentor_of_group(error: MentorOfGroup, work: Work) -> Msg:
    return t("The mentor of {group} cannot be one of its members.", group=named(error.group))


@explains(NotAskedToGroup)
def _not_asked(error: NotAskedToGroup, work: Work) -> Msg:
    return t("You have no invitation to group #{number} waiting. Send {groups} to see your groups.",
             number=str(error.number), groups=typed(work, "groups", RoomKind.DM))


@explains(NotInGroup)
def _not_in_group(error: NotInGroup, work: Work) -> Msg:
    return t("You are not a member of {group}; its mentor ends it with {cmd}.", group=named(error.group),
             cmd=typed(work, f"group end {error.group.id}", RoomKind.DM))


@explains(AlreadyGroupMentor)
def _already_group_mentor(error: AlreadyGroupMentor, work: Work) -> Msg:
    return t("{who} is already the mentor of {group}.", who=who(error.mentor), group=named(error.group))


@explains(GroupChangeNeedsCouncil)
def _change_needs_council(error: GroupChangeNeedsCouncil, work: Work) -> Msg:
    zone = people.zone_of(getattr(work, "person", None), work.policy)
    return t("{group} is committed until {day}: until then the council changes its mentor. Ask a council member; "
             "you need not give a reason.", group=named(error.group), day=day(error.group.commitment_ends_at, zone))
