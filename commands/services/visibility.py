"""Who may see what: one rule per field that holds something a person said or is.

Every command, report, export and erasure asks these rules instead of deciding for
itself. The program's ethics, in short: each person sees their own data, a mentor
sees their own mentees', the council sees all; what is said in mentoring is never
shown in a shared room, and it stays confidential after the relationship ends.

A reader is named by their relation to the row:

- ``author``: who wrote it (the mentor of a session record, the giver of a reason);
- ``subject``: who it is about (the mentee of a session record, the owner of a diary);
- ``mentor``: the subject's mentor in that mentorship, while it lasts (for a single coaching
  session, its coach);
- ``mentors``: any mentor, when matching (what a request says);
- ``group``: a member of the mentoring group the row belongs to (its mentor is ``author``
  or ``mentor``); a member's own diary and goals are never the group's;
- ``council``: the council.

``rooms`` are the shared rooms a field may appear in besides direct messages. ``confidential``
fields are left out of the council's export unless it asks for them. ``personal``
fields are erased when their author or subject asks to be forgotten (and the
``retention`` policy names which of them expire).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from commands.kinds import RoomKind


class Reader(str, enum.Enum):
    AUTHOR = "author"
    SUBJECT = "subject"
    MENTOR = "mentor"
    MENTORS = "mentors"
    GROUP = "group"
    COUNCIL = "council"


A, S, M, MS, C = Reader.AUTHOR, Reader.SUBJECT, Reader.MENTOR, Reader.MENTORS, Reader.COUNCIL
G = Reader.GROUP
BOTH_ROOMS = frozenset({RoomKind.MENTORS, RoomKind.COUNCIL})
COUNCIL_ROOM = frozenset({RoomKind.COUNCIL})
# A group's own room is shared by its members and mentor only: they see each other's names there.
GROUP_ROOM = frozenset({RoomKind.GROUP})


@dataclass(frozen=True)
class Rule:
    field: str  # table.column
    readers: frozenset[Reader]
    rooms: frozenset[RoomKind] = frozenset()  # the shared rooms it may be shown in (DMs: by readers)
    confidential: bool = False  # said in mentoring: out of exports unless asked for
    personal: bool = True  # erased when its author or subject is forgotten
    retention: str | None = None  # the [retention] setting that expires it
    about: str = ""  # what it is, for the README and the export's notes


def _rule(field: str, readers: set[Reader], **kwargs) -> Rule:
    return Rule(field, frozenset(readers), **kwargs)


RULES: dict[str, Rule] = {r.field: r for r in (
    # Who a person is. A mentor's name is shown in both rooms; a mentee's identity stays out
    # of the mentors room (mentors see who asked in a direct message) but not the council's.
    # Members of a group agreed to be known to each other: names are shown in its room.
    _rule("person.matrix_id", {A, S, M, MS, G, C}, rooms=COUNCIL_ROOM | GROUP_ROOM, about="the Matrix ID"),
    _rule("person.display_name", {A, S, M, MS, G, C}, rooms=COUNCIL_ROOM | GROUP_ROOM, about="the name shown"),
    _rule("identity.mentee", {A, S, M, MS, G, C}, rooms=COUNCIL_ROOM | GROUP_ROOM, personal=False,
          about="who a mentee is (their Matrix ID and name, as a mentee; to their group's members, in its room)"),
    _rule("identity.mentor", {A, S, M, MS, G, C}, rooms=BOTH_ROOMS | GROUP_ROOM, personal=False,
          about="who a mentor is (their Matrix ID and name, as a mentor): mentors are named in both rooms"),
    _rule("person.timezone", {A, S, M, MS, C}, rooms=BOTH_ROOMS, about="the time zone, for matching and reminders"),
    _rule("person.language", {A, S, C}, about="the language chosen for the bot's messages to them"),
    _rule("person_tag.value", {A, S, M, MS, C}, rooms=BOTH_ROOMS,
          about="languages, skills and interests (shown with requests, without a name, in the mentors room)"),
    # What a mentee asks for: mentors read it to decide, in a direct message only.
    _rule("mentor_request.topic", {S, M, MS, C}, about="what the mentee wants help with"),
    # A guided conversation's answers so far (what a mentee wants help with, in their own words, and
    # their profile answers): the person's own draft until they confirm, which nobody else reads.
    _rule("conversation.answers", {A, S, C}, confidential=True,
          about="the answers of a guided conversation not confirmed yet (kept a day at most)"),
    # Said in mentoring.
    _rule("session_record.outcome", {A, S, M, C}, confidential=True, retention="session_notes_months",
          about="how a session went"),
    _rule("session_record.next_steps", {A, S, M, C}, confidential=True, retention="session_notes_months",
          about="the next steps agreed in a session"),
    _rule("session_record.remarks", {A, S, M, C}, confidential=True, retention="session_notes_months",
          about="the mentor's remarks on a session"),
    _rule("session_record.progress_start", {A, S, M, C}, confidential=True, retention="session_notes_months",
          about="the mentee's progress at the start (1-10)"),
    _rule("session_record.progress_now", {A, S, M, C}, confidential=True, retention="session_notes_months",
          about="the mentee's progress now (1-10)"),
    _rule("diary_entry.text", {A, S, M, C}, confidential=True, retention="diary_months",
          about="the mentee's diary"),
    _rule("goal.text", {A, S, M, C}, confidential=True, retention="diary_months", about="the mentee's goals"),
    # The agreement of a mentorship: for its two people and the council.
    *(_rule(f"agreement.{part}", {A, S, M, C}, confidential=True, retention="session_notes_months", about=about)
      for part, about in (
          ("goals", "the agreement: the mentee's goals"),
          ("mentor_part", "the agreement: what the mentor commits to"),
          ("mentee_part", "the agreement: what the mentee commits to"),
          ("contact", "the agreement: how and how often they talk"),
          ("cancelling", "the agreement: how a meeting is cancelled"),
          ("urgent", "the agreement: how urgent help is asked for"))),
    _rule("agreement_check.note", {A, S, M, C}, confidential=True, retention="session_notes_months",
          about="what should change in the agreement, said at its follow-up"),
    # For the council alone (and whoever wrote it).
    _rule("feedback.strengths", {A, C}, confidential=True, retention="feedback_months",
          about="yearly feedback: what goes well"),
    _rule("feedback.improve", {A, C}, confidential=True, retention="feedback_months",
          about="yearly feedback: what could be better"),
    _rule("mentorship.end_reason", {A, C}, confidential=True, retention="reasons_months",
          about="why a mentorship was ended"),
    _rule("change_request.reason", {A, C}, confidential=True, retention="reasons_months",
          about="why a mentee asked for another mentor"),
    _rule("request_decline.reason", {A, C}, confidential=True, retention="reasons_months",
          about="why a mentor declined a request"),
    # A single coaching session from the coach pool: what the asker wants coaching on is theirs and
    # their coach's; a decline's reason is the coach's (author) and the asker's (subject).
    _rule("coaching_session.skill", {A, M, C}, retention="coaching_months",
          about="the skill someone asked a coach for a single session on"),
    _rule("coaching_session.reason", {A, S, C}, confidential=True, retention="coaching_months",
          about="why a coach declined a single coaching session"),
    # Group mentoring: what is said in a group is the group's (its members, its mentor, the
    # council), never a shared room's; the group's own room holds no session notes either.
    _rule("mentoring_group.name", {A, M, G, MS, C}, rooms=BOTH_ROOMS | GROUP_ROOM, personal=False,
          about="a mentoring group's name, chosen by its mentor"),
    _rule("group_session.outcome", {A, M, G, C}, confidential=True, retention="session_notes_months",
          about="how a group session went"),
    _rule("group_session.next_steps", {A, M, G, C}, confidential=True, retention="session_notes_months",
          about="the next steps agreed in a group session"),
    _rule("mentoring_group.end_reason", {A, C}, confidential=True, retention="reasons_months",
          about="why a mentor ended their group"),
    _rule("group_member.leave_reason", {A, C}, confidential=True, retention="reasons_months",
          about="why a member left a group"),
    # Written for the council room: recognition, not mentoring.
    _rule("nomination.reason", {S, C}, rooms=COUNCIL_ROOM, about="why a mentor nominated a mentee for recognition"),
    # Written by the council to be published: only once the mentee said yes (``recognition.consent``),
    # as a celebration in the mentors room and on the forum; until then, theirs and the council's.
    _rule("nomination.citation", {S, C}, rooms=COUNCIL_ROOM,
          about="the council's citation of a recognised mentee, published only with their consent"),
    # What a mentor or the council shares with mentees: an event's description, not about anyone.
    _rule("opportunity.what", {A, S, M, C}, personal=False,
          about="what an opportunity shared with mentees is (a training, an event, an introduction)"),
)}


def rule(field: str) -> Rule:
    return RULES[field]


def may_read(field: str, readers: set[Reader] | frozenset[Reader], room: RoomKind) -> bool:
    """Whether someone related to a row as ``readers`` may see ``field`` in ``room``."""
    r = RULES[field]
    return bool(r.readers & set(readers)) and (room is RoomKind.DM or room in r.rooms)


def fields_of(table: str) -> list[Rule]:
    return [r for r in RULES.values() if r.field.split(".")[0] == table]


def confidential_columns(table: str) -> set[str]:
    return {r.field.split(".")[1] for r in fields_of(table) if r.confidential}


def expiring(setting: str) -> list[Rule]:
    """The fields a ``[retention]`` setting expires."""
    return [r for r in RULES.values() if r.retention == setting]


# The `[retention]` settings, and what each lets expire.
RETENTION_SETTINGS = {
    "session_notes_months": "session notes (outcome, next steps, remarks, progress) of mentorships and groups "
                            "that ended, and agreements and follow-up answers of mentorships that ended",
    "diary_months": "diary entries of mentorships that ended, and goals of mentees with none running",
    "feedback_months": "yearly feedback answers, counted from when they were given",
    "reasons_months": "reasons for ending a mentorship or a group, leaving a group, changing mentor or declining "
                      "a request",
    "coaching_months": "the skill asked and a decline's reason of single coaching sessions, counted from their time",
}
