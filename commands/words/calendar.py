"""What the bot says about calendar files, and the events' titles inside them."""

from __future__ import annotations

from commands.kinds import RoomKind
from commands.services import people
from commands.services.calendar import Meeting
from commands.services.work import Work
from commands.text import Msg
from commands.words import N_, t, tn, typed
from storage.models import CheckIn, CheckInKind

# An event's title in the person's calendar: what it is and with whom, nothing said in it.
SUMMARIES = {
    CheckInKind.ORIENTATION: N_("Orientation session with {name}"),
    CheckInKind.FOLLOWUP: N_("Follow-up with {name}"),
    CheckInKind.REGULAR: N_("Check-in with {name}"),
    CheckInKind.MIDTERM: N_("Mid-term review with {name}"),
    CheckInKind.FINAL: N_("Final session with {name}"),
}


def summary(meeting: Meeting) -> str:
    """``Check-in with Ana``: an event's title, as plain text."""
    if meeting.group is not None:
        return t("Group check-in of {group}", group=meeting.group.name).plain()
    name = people.name_of(meeting.other)
    if meeting.coaching is not None:
        return t("Coaching session with {name}", name=name).plain()
    return t(SUMMARIES[meeting.checkin.kind], name=name).plain()


def calendar_name(work: Work) -> str:
    """The calendar's name in the person's calendar app."""
    return t("{program}: check-ins", program=work.policy.name).plain()


def offer(work: Work, c: CheckIn) -> Msg:
    """Said after a check-in's new time: how to put it in one's calendar."""
    return t(" Add it to your calendar: {cmd}.", cmd=typed(work, f"calendar {c.id}", RoomKind.DM))


def sent_all(work: Work, count: int) -> Msg:
    return tn("Your upcoming check-in, as a calendar file: open it to add it to your calendar. Importing a newer file "
              "updates it rather than adding it twice.",
              "Your {n} upcoming check-ins, as a calendar file: open it to add them to your calendar. Importing a "
              "newer file updates them rather than adding them twice.", count)


def sent_one(work: Work, c: CheckIn) -> Msg:
    return t("Check-in #{number} as a calendar file: open it to add it to your calendar. If it moves, send {cmd} "
             "again and import the new file: it replaces the old time.", number=str(c.id),
             cmd=typed(work, f"calendar {c.id}", RoomKind.DM))


def nothing_planned(work: Work) -> Msg:
    return t("You have no upcoming check-ins with a time agreed, so there is nothing to add to your calendar yet. "
             "Send {cmd} to see what is planned.", cmd=typed(work, "checkins", RoomKind.DM))
