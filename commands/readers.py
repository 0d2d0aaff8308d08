"""How the answers of a guided conversation are read: one function a question,
``read_*(text, policy) -> value``.

Each returns the answer in the form it is stored in (the form the ``profile`` commands
store), or raises :class:`commands.framework.ArgError` or a domain error whose message
says, kindly, what to type instead. They read with the very functions the ``profile`` commands use, so an answer
means what the same words typed after ``profile ...`` would mean; a better reader for one
question is a change of that question's one function here.
"""

from __future__ import annotations

from commands.framework import ArgError, Integer, Text
from commands.policy import ProgramPolicy
from commands.services import vocabulary
from commands.words import conversations as said

MAX_GOAL = 500  # characters, as ``request <text>`` takes


def read_goal(text: str, policy: ProgramPolicy) -> str:
    """What a mentee wants help with: their words, spaces collapsed, as ``request <text>`` reads them."""
    goal = " ".join(Text("what you want help with", max_length=MAX_GOAL).convert(text).split())
    if not goal:
        raise ArgError(said.goal_needed())
    return goal


def _listed(items: list, text: str) -> list:
    if not items:
        raise ArgError(said.list_needed())
    return items


def read_languages(text: str, policy: ProgramPolicy) -> list[str]:
    """Languages as tags, read as ``profile languages`` reads them (``Deutsch, pt-BR``)."""
    return _listed(vocabulary.languages(text) if text.strip() else [], text)


def read_interests(text: str, policy: ProgramPolicy) -> list[str]:
    """Interests in their normal form (the program's word for a synonym), as ``profile interests``
    reads them: commas separate, spaces do not."""
    return _listed([s.value for s in vocabulary.skills(text, policy.skills)] if text.strip() else [], text)


def read_skills(text: str, policy: ProgramPolicy) -> list[str]:
    """A mentor's skills, as ``profile skills`` reads them."""
    return read_interests(text, policy)


def read_timezone(text: str, policy: ProgramPolicy) -> str:
    """A time zone as people name it (``Berlin``, ``Poland``, ``CET``, ``europe/berlin``), as
    ``profile timezone`` reads it."""
    return vocabulary.timezone(text)


def read_capacity(text: str, policy: ProgramPolicy) -> int:
    """How many mentees a mentor takes, as ``profile capacity`` reads it (``3`` or ``3 mentees``)."""
    words = text.split()
    return Integer(minimum=0, maximum=100, label="mentees").convert(words[0] if words else "")
