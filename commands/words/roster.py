"""What the bot says about the roster of mentors: who is on it, joining and leaving it."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from commands.kinds import RoomKind
from commands.services import people
from commands.services.people import AlreadyMentor, GroupTooLarge, NotAMentor, StillMentoring
from commands.services.work import Work
from commands.text import Msg, Node, bold, code, lines, person
from commands.words import explains, t, tn, typed, written


def who(someone) -> Node:
    """A person named in a message about them (linked, not pinged)."""
    return person(someone.matrix_id, people.name_of(someone))


def here(work: Work, text: str) -> Msg:
    """A command as it is typed in the room a refusal answers (a command's room; else a DM)."""
    return typed(work, text, getattr(work, "room", RoomKind.DM))


@explains(NotAMentor)
def not_a_mentor(error: NotAMentor, work: Work) -> Msg:
    return t("{person} is not a mentor. Send {mentors} to see the roster.",
             person=person(error.matrix_id), mentors=here(work, "mentors"))


@explains(GroupTooLarge)
def group_too_large(error: GroupTooLarge, work: Work) -> Msg:
    return tn("The program allows at most {n} mentee per mentor. Choose {n} or fewer.",
              "The program allows at most {n} mentees per mentor. Choose {n} or fewer.", error.limit)


@explains(AlreadyMentor)
def already_mentor(error: AlreadyMentor, work: Work) -> Msg:
    if error.other_capacity:
        return t("{mentor} is already a mentor. They can change their capacity with {cmd}.",
                 mentor=who(error.mentor), cmd=code("profile capacity"))
    return t("{mentor} is already a mentor; nothing to do.", mentor=who(error.mentor))


@explains(StillMentoring)
def still_mentoring(error: StillMentoring, work: Work) -> Msg:
    return tn("{mentor} still mentors {n} mentee. Reassign them first, then remove.",
              "{mentor} still mentors {n} mentees. Reassign them first, then remove.",
              error.mentees, mentor=who(error.mentor))


def mentor_added(mentor) -> Msg:
    return tn("Done: {mentor} is now a mentor, taking up to {n} mentee.",
              "Done: {mentor} is now a mentor, taking up to {n} mentees.", mentor.capacity, mentor=who(mentor))


def welcome_mentor(program: str, capacity: int) -> Msg:
    return tn("Welcome, you are now a mentor in {program}! You can take up to {n} mentee. "
              "Tell me what you can help with: send {skills}, and set {timezone} and {languages}.",
              "Welcome, you are now a mentor in {program}! You can take up to {n} mentees. "
              "Tell me what you can help with: send {skills}, and set {timezone} and {languages}.",
              capacity, program=program, skills=code("profile skills <list>"),
              timezone=code("profile timezone"), languages=code("profile languages"))


def new_mentor(mentor) -> Msg:
    """To the mentors room, as the new mentor is invited into it."""
    return t("Please welcome {mentor}, who joins the mentors!", mentor=who(mentor))


def invite_failed(user_id: str, room: str, reason: str) -> Msg:
    """To the council: the bot could not invite a new mentor into the mentors room."""
    return t("I could not invite {person} to the {room} room ({reason}). Someone who may invite there should "
             "do it, or give me the power to invite.", person=person(user_id), room=room, reason=reason)


def mentor_removed(mentor) -> Msg:
    return t("Done: {mentor} is no longer a mentor.", mentor=who(mentor))


def farewell_mentor(program: str) -> Msg:
    return t("You are no longer a mentor in {program}. Thank you for your time as a mentor!", program=program)


def no_mentors(add: Msg) -> Msg:
    return t("There are no mentors yet. The council adds them with {add}.", add=add)


def roster(rows: list[tuple[object, int, bool]], zone: ZoneInfo) -> Msg:
    """The mentors, each with (mentor, active mentees, away now)."""
    out = []
    for m, load, away in rows:
        if m.inactive:
            line = t("• {mentor}: {load} of {capacity}, inactive", mentor=who(m), load=str(load),
                     capacity=str(m.capacity))
        elif away:
            line = t("• {mentor}: {load} of {capacity}, away until {date}", mentor=who(m), load=str(load),
                     capacity=str(m.capacity), date=written(m.away_until, zone, "day"))
        else:
            line = t("• {mentor}: {load} of {capacity}", mentor=who(m), load=str(load), capacity=str(m.capacity))
        out.append(line)
    title = t("{heading}, with their mentees now of their capacity:",
              heading=bold(t("Mentors ({count})", count=str(len(rows)))))
    return lines(title, *out)
