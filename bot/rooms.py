"""Which Matrix rooms the bot trusts with what: the room trust model, in one place.

- The mentors and council rooms (configured) give roles and see what the program shares
  with them. They must be invite-only: while one is open to anyone, joining it gives no role.
- A room is a direct message (DM) with a person only if it is private to the two of them:
  the bot and that person are its only members (joined or invited: an invitee can join
  later), nobody else can join it (join rule ``invite``, or ``knock``, where a member must
  still let them in, and the bot never does), its history is not readable by the world,
  nobody else holds power in it, it was made by one of the two (the Matrix adapter checks
  the maker, which needs the room's full state), and it is encrypted whenever the bot
  encrypts. Personal answers go only there.
- A mentoring group's room is made by the bot for the group (its id is stored with the group)
  and is private to the group: its only members are the bot, the group's mentor and its
  members (joined or invited), nobody joins without the bot inviting them (the bot alone holds
  power there, so only it invites), its history is not readable by the world, and it is
  encrypted whenever the bot encrypts. It is never taken for a DM, even with one member. While
  it is not private (``group_problem``), nothing is posted there; the bot takes no command there.
- Any other room (public, shared with others, or a DM that is not private) gets no
  answer beyond a short pointer to a DM (see the dispatcher).

The functions read nio's room objects (``MatrixRoom``), whose member lists are complete
because the bot syncs without lazy-loading members.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from nio import MatrixRoom

from commands.kinds import RoomKind, RoomProblem

# Join rules under which nobody joins without a member inviting them.
INVITE_ONLY = frozenset({"invite", "knock"})


@dataclass(frozen=True)
class Trust:
    """What a room is to the bot, for one sender; ``problem`` says why a would-be DM is not one."""

    kind: RoomKind
    problem: RoomProblem | None = None


def openness(room: MatrixRoom) -> RoomProblem | None:
    """Why others than those invited could get into the room, or None when nobody can."""
    return _openness(room.join_rule, room.history_visibility)


def _openness(join_rule: str, history_visibility: str) -> RoomProblem | None:
    if join_rule == "public":
        return RoomProblem(RoomProblem.PUBLIC)
    if join_rule not in INVITE_ONLY:
        return RoomProblem(RoomProblem.JOINABLE, join_rule)
    if history_visibility == "world_readable":
        return RoomProblem(RoomProblem.WORLD_READABLE)
    return None


def rules_of_state(events: list[dict]) -> dict[str, str]:
    """A room's join rule and history visibility, from its state events as the homeserver gives them."""
    rules = {"join_rule": "invite", "history_visibility": "shared"}
    for event in events:
        content = event.get("content", {})
        if event.get("type") == "m.room.join_rules":
            rules["join_rule"] = content.get("join_rule", "invite")
        elif event.get("type") == "m.room.history_visibility":
            rules["history_visibility"] = content.get("history_visibility", "shared")
    return rules


def openness_of(rules: dict[str, str]) -> RoomProblem | None:
    """``openness`` from a join rule and a history visibility (see ``rules_of_state``)."""
    return _openness(rules.get("join_rule", "invite"), rules.get("history_visibility", "shared"))


def openness_of_state(events: list[dict]) -> RoomProblem | None:
    """``openness`` of a room from its state events."""
    return openness_of(rules_of_state(events))


def dm_problem(room: MatrixRoom, person: str, bot_id: str, *, encryption: bool) -> RoomProblem | None:
    """None when ``room`` is a private DM between the bot and ``person``; else why it is not."""
    members = set(room.users)  # joined and invited
    if members != {person, bot_id} or room.member_count > 2:
        return RoomProblem(RoomProblem.OTHERS_IN_IT if person in members else RoomProblem.NOT_IN_IT)
    problem = openness(room)
    if problem:
        return problem
    # Someone who set the room up and left keeps the power they had in it: only the two may hold any.
    if powerful_outsiders(room, {person, bot_id}):
        return RoomProblem(RoomProblem.OUTSIDER_POWER)
    if encryption and not room.encrypted:
        return RoomProblem(RoomProblem.NOT_ENCRYPTED)
    if room.encrypted and not encryption:
        return RoomProblem(RoomProblem.ENCRYPTED)
    return None


def powerful_outsiders(room: MatrixRoom, allowed: set[str]) -> set[str]:
    """Who holds power in the room beyond its default, other than ``allowed``."""
    levels = room.power_levels
    return {user for user, level in levels.users.items() if level > levels.defaults.users_default} - allowed


def group_problem(room: MatrixRoom, people: frozenset[str] | set[str], bot_id: str, *, encryption: bool,
                  gone: set[str] = frozenset()) -> RoomProblem | None:
    """None when ``room`` is private to a group (``people``: its mentor and members) and the
    bot; else why it is not. ``gone``: those just removed, whom the room's state may still show."""
    if (set(room.users) - set(gone)) - set(people) - {bot_id}:
        return RoomProblem(RoomProblem.OTHERS_IN_IT)
    problem = openness(room)
    if problem:
        return problem
    if powerful_outsiders(room, {bot_id}):
        return RoomProblem(RoomProblem.OUTSIDER_POWER)
    if encryption and not room.encrypted:
        return RoomProblem(RoomProblem.NOT_ENCRYPTED)
    return None


def classify(room_id: str, room: MatrixRoom | None, sender: str, bot_id: str, configured: Mapping[RoomKind, str],
             *, encryption: bool, group_rooms: Mapping[str, int] | None = None) -> Trust:
    """What the room ``room_id`` (``room``: its state, if known) is when ``sender`` writes in it
    (``group_rooms``: the rooms the bot made for mentoring groups)."""
    for kind, configured_id in configured.items():
        if configured_id == room_id:
            return Trust(kind)
    if group_rooms and room_id in group_rooms:
        return Trust(RoomKind.GROUP)
    if room is None:
        return Trust(RoomKind.OTHER)
    problem = dm_problem(room, sender, bot_id, encryption=encryption)
    if problem is None:
        return Trust(RoomKind.DM)
    # A room of just the sender and the bot was meant as a DM: they are told why it is not one.
    would_be_dm = set(room.users) <= {sender, bot_id}
    return Trust(RoomKind.OTHER, problem if would_be_dm else None)


def private_dms(rooms: Mapping[str, MatrixRoom], person: str, bot_id: str, *, encryption: bool,
                excluded: set[str], preferred: str | None = None) -> list[str]:
    """The rooms that are private DMs with ``person`` by their state (``preferred`` first)."""
    candidates = ([preferred] if preferred else []) + [r for r in rooms if r != preferred]
    return [room_id for room_id in candidates
            if (room := rooms.get(room_id)) is not None and room_id not in excluded
            and dm_problem(room, person, bot_id, encryption=encryption) is None]


def creators(state_events: list[dict]) -> set[str]:
    """Who made a room (and, from room version 12, who else counts as its creator): they hold
    power in it whatever its power levels say."""
    for event in state_events:
        if event.get("type") == "m.room.create":
            content = event.get("content", {})
            made = {event.get("sender", ""), content.get("creator", "")}
            return {m for m in made | set(content.get("additional_creators", [])) if m}
    return set()
