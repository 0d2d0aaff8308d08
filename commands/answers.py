"""How the answers of a guided conversation are read: one function a question, ``read_*(text) -> value``.

Each returns the answer in the form it is stored in (the form the ``profile`` commands
store), or raises :class:`commands.framework.ArgError` whose message says, kindly, what to
type instead. They read with the very functions the ``profile`` commands use, so an answer
means what the same words typed after ``profile ...`` would mean; a better reader for one
question is a change of that question's one function here.
"""

from __future__ import annotations

from commands.framework import ArgError, Integer, Text, WordList, check_timezone
from commands.words import conversations as said

MAX_GOAL = 500  # characters, as ``request <text>`` takes


def read_goal(text: str) -> str:
    """What a mentee wants help with: their words, spaces collapsed, as ``request <text>`` reads them."""
    goal = " ".join(Text("what you want help with", max_length=MAX_GOAL).convert(text).split())
    if not goal:
        raise ArgError(said.goal_needed())
    return goal


def _listed(label: str, text: str) -> list[str]:
    values = WordList(label).convert(text)
    if not values:
        raise ArgError(said.list_needed())
    return values


def read_languages(text: str) -> list[str]:
    """Languages, as ``profile languages`` reads them."""
    return _listed("languages", text)


def read_interests(text: str) -> list[str]:
    """Interests, as ``profile interests`` reads them."""
    return _listed("interests", text)


def read_skills(text: str) -> list[str]:
    """A mentor's skills, as ``profile skills`` reads them."""
    return _listed("skills", text)


def read_timezone(text: str) -> str:
    """A time zone, as ``profile timezone`` reads it; ``europe/berlin`` and ``America/New York``
    are taken for the zone they spell."""
    name = text.strip()
    try:
        return check_timezone(name)
    except ArgError:
        spelled = "/".join("_".join(w[:1].upper() + w[1:] for w in part.split()) for part in name.split("/"))
        try:
            return check_timezone(spelled)
        except ArgError:
            pass
        raise


def read_capacity(text: str) -> int:
    """How many mentees a mentor takes, as ``profile capacity`` reads it (``3`` or ``3 mentees``)."""
    words = text.split()
    return Integer(minimum=0, maximum=100, label="mentees").convert(words[0] if words else "")
