"""What the bot suggests from a guess: only safe commands, and only when clearly close."""

from __future__ import annotations

import re
import string

import pytest

from commands import build_registry
from commands.kinds import RoomKind
from commands.messages import Incoming
from commands.suggest import closest, typos

REGISTRY = build_registry()
COMMANDS = REGISTRY.commands

# The commands declared safe to suggest. A command added to this list must only show things,
# or set a field of the sender's own profile: this list is the review of that promise.
SAFE = {
    "help", "profile", "profile name", "profile timezone", "profile language", "profile languages", "profile interests",
    "profile skills", "status", "requests", "mentees", "pool", "checkins", "coaching", "agreement", "goals",
    "history", "feedbacks", "groups", "group sessions", "opportunities", "mentors", "council", "queue", "audit",
    "report", "report chart", "cohort show", "nominations", "announcements", "mydata", "export", "retention",
}
# Words in the name of a command that ends, cancels, takes back, erases or decides something.
HARMFUL = re.compile(r"\b(end|remove|cancel|decline|forget|withdraw|discard|leave|refuse|confirm|accept|approve|"
                     r"assign|reassign|change|done|no|yes|move|add|create|invite|join|mentor|away|back)\b")


def test_the_commands_declared_safe_are_exactly_the_reviewed_ones():
    assert {c.name for c in COMMANDS if c.safe} == SAFE


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.name)
def test_no_command_that_ends_changes_or_erases_is_declared_safe(command):
    if HARMFUL.search(command.name):
        assert not command.safe, command.name


def misspellings(name: str) -> set[str]:
    """Every way to get ``name`` one typo wrong: a letter left out, doubled, swapped with the next,
    or changed (to an ``e``, the commonest letter: a sample of the changes)."""
    out: set[str] = set()
    for i in range(len(name)):
        out.add(name[:i] + name[i + 1:])
        out.add(name[:i] + name[i] + name[i:])
        if i + 1 < len(name):
            out.add(name[:i] + name[i + 1] + name[i] + name[i + 2:])
        out.add(name[:i] + "e" + name[i + 1:])
    return {m for m in out if m.strip() and m != name}


# Words people may write when they want something to stop or go away.
WORDS = {"remind me tomorrow", "ennd", "edn", "end it", "stop", "quit", "delete me", "remove me",
         "cancle", "cancel it", "decline it", "forgot me", "forget", "withdrw", "unsubscribe",
         "finish", "please end this", "mentee ennd", "mentor remov", "bye", "goodbye", "leave group",
         "I would like to end my mentorship", "reset", "erase", "kill", "abort", "close"}
GUESSES = sorted({typo for c in COMMANDS for n in (c.name, *c.aliases) for typo in misspellings(n)} | WORDS)
# Through the whole dispatcher, a sample: the words above and two misspellings of each command.
SAMPLE = sorted({typo for c in COMMANDS for typo in sorted(misspellings(c.name))[:: 7][:2]} | WORDS)


def test_no_guess_is_ever_answered_with_a_command_that_is_not_safe():
    """For every misspelling of every command (and more): a suggested command is safe, or only
    its help is offered."""
    for text in GUESSES:
        if REGISTRY.find(text)[0] is not None:
            continue  # a misspelling that is itself a command (``mentee`` of ``mentees``)
        suggestion = closest(REGISTRY, text)
        if suggestion is not None and not suggestion.explain:
            assert suggestion.command.safe, (text, suggestion.command.name)


async def test_no_answer_to_a_guess_offers_a_harmful_command_to_type(demo_bot):
    """Through the real dispatcher: every command an answer shows is safe, or comes after ``help``.
    (A family's bare name, like ``mentor``, lists its forms: it is not a guess, and not here.)"""
    dispatcher = demo_bot.runtime.dispatcher
    ana = "@ana:example.org"
    await dispatcher.handle(Incoming(ana, RoomKind.DM, "hi"))  # the day's welcome, said
    families = {c.name.split()[0] for c in COMMANDS if " " in c.name}
    for n, text in enumerate(SAMPLE):
        if REGISTRY.find(text)[0] is not None or text in families:
            continue
        result = await dispatcher.handle(Incoming(ana, RoomKind.DM, text, event_id=f"$guess-{n}"))
        shown = result.messages[0].msg.plain()
        spans = re.findall(r"`([^`]+)`", shown)
        explained = {s.removeprefix("help ") for s in spans if s.startswith("help ")}
        for typed in spans:
            if typed.startswith("help") or typed in explained or typed in text.lower():
                continue  # a help to read (and the command it explains), or the person's words quoted back
            command = REGISTRY.find(typed)[0]
            assert command is not None and command.safe, (text, shown)


@pytest.mark.parametrize("typed,meant", [("stauts", "status"), ("chekins", "checkins"), ("profil", "profile"),
                                         ("helpp", "help"), ("hepl", "help"), ("mentrs", "mentors"),
                                         ("goal", "goals")])
def test_clear_typos_of_safe_commands_are_suggested(typed, meant):
    suggestion = closest(REGISTRY, typed)
    assert suggestion is not None and suggestion.command.name == meant and not suggestion.explain


@pytest.mark.parametrize("typed,meant", [("withdrw", "withdraw"), ("mentor remov", "mentor remove"),
                                         ("forget me confrm", "forget me confirm"), ("nominat", "nominate")])
def test_typos_of_harmful_commands_only_point_at_their_help(typed, meant):
    suggestion = closest(REGISTRY, typed)
    assert suggestion is not None and suggestion.typed_name == meant and suggestion.explain


@pytest.mark.parametrize("typed", ["remind", "hi", "hello", "thanks", "ennd", "edn", "hola", "servus", "danke",
                                   "weather", "the", "please"])
def test_words_that_are_merely_alike_suggest_nothing(typed):
    assert closest(REGISTRY, typed) is None


def test_typos_counts_a_swap_of_neighbours_as_one():
    assert typos("stauts", "status") == 1
    assert typos("chekins", "checkins") == 1
    assert typos("remind", "end") == 3
    assert all(typos(w, w) == 0 for w in string.ascii_lowercase)
