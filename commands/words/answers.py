"""What the bot says about one-tap answers (a ✅ or ❌ reaction under a message)."""

from __future__ import annotations

from commands.services.answers import ANNOUNCEMENT, CHECKIN, OFFER
from commands.text import Msg
from commands.words import t


def already_answered(kind: str) -> Msg:
    """A reaction under a question that was decided already: said once in a while, not per reaction."""
    if kind == OFFER:
        return t("That offer was already answered.")
    if kind == CHECKIN:
        return t("That check-in is already confirmed or no longer planned.")
    if kind == ANNOUNCEMENT:
        return t("That announcement was already confirmed or cancelled.")
    return t("That was already answered.")
