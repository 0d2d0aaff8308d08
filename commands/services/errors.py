"""Why a piece of program work cannot go ahead, as data.

Services raise these with the facts (which request, whose mentee, what limit); the
message layer (``commands.words``) explains each kind to the person in their words, and
the dispatcher turns it into the command's reply. Nothing here is a sentence.
"""

from __future__ import annotations


class DomainError(Exception):
    """The work is refused by a program rule; nothing it did is kept.

    Subclasses are (not frozen) dataclasses carrying what the explanation needs.
    ``outcome`` is the command's outcome when it is refused for this reason."""

    outcome = "refused"

    def __str__(self) -> str:
        # Logs name the kind only: the fields can hold what someone typed, which may be personal.
        return type(self).__name__
