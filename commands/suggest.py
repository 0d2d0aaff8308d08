"""What the bot suggests when a word is no command: only what is clearly close, and never harm.

A suggestion is a guess at what someone meant, and a guess can be wrong. So the bot only
ever suggests typing a command declared ``safe`` (it shows things, or sets a field of the
person's own profile that they can set back): ``stauts`` gets ``status``. A command that
ends, changes or erases anything else (``end``, ``forget me``, ``decline``, ``mentor
remove``) is never suggested, however close the typo: ``withdrw`` gets ``help withdraw``
instead, which explains that command and what it does, so the person can then type it
knowingly. Words that are merely alike (``remind`` and ``end``) are not close: a word must
be at most one typo away (two for names of eight letters or more), counting a swap of two
neighbouring letters as one typo, and a name shorter than four letters (``end``) is never
guessed at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from commands.framework import Command, Registry

SHORTEST = 4  # a shorter word is too short to tell a typo from another word ("hi", "end")


@dataclass(frozen=True)
class Suggestion:
    """What to suggest for a word that is no command: ``command`` itself when it is safe,
    else (``explain``) its help."""

    command: Command
    typed_name: str  # the name (or alias) the typed words are close to
    typed: str  # the words typed that are close to it

    @property
    def explain(self) -> bool:
        return not self.command.safe


def typos(a: str, b: str) -> int:
    """How many typos (a letter left out, added, changed, or two neighbours swapped) make ``a``
    into ``b``: the optimal string alignment distance."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][len(b)]


def allowed_typos(name: str) -> int:
    """How far a word may be from ``name`` and still clearly mean it."""
    if len(name) < SHORTEST:
        return 0
    return 1 if len(name) < 8 else 2


def closest(registry: Registry, text: str) -> Suggestion | None:
    """The command ``text`` (which starts with no command) is clearly a typo of, or None.

    Each name is compared with as many of the first words as it has (``mentor remov`` with
    ``mentor remove``). Of the names equally close, the longest wins (``mentor remov`` is not
    ``mentors``), then a safe one."""
    words = text.lower().split()
    best: tuple[int, int, bool, Command, str, str] | None = None
    for name in registry.names():
        count = len(name.split())
        if count > len(words):
            continue
        typed = " ".join(words[:count])
        if abs(len(typed) - len(name)) > allowed_typos(name):
            continue  # too many letters more or fewer to be close, whatever they are
        distance = typos(typed, name)
        if distance == 0 or distance > allowed_typos(name):
            continue
        command = registry.get(name)
        assert command is not None
        key = (distance, -count, not command.safe)
        if best is None or key < best[:3]:
            best = (*key, command, name, typed)
    return None if best is None else Suggestion(*best[3:])
