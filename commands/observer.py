"""Who watches the bot at work: what the dispatcher and the runtime report as they go.

By default nobody: every method here does nothing, so a bot without monitoring (the
shell, the tests) pays one empty call per command. ``bot.monitoring`` implements it with
metrics. What is reported is a command's name from the command table, an outcome, times
and counts: never what anyone typed, nor who typed it.
"""

from __future__ import annotations

from collections.abc import Sequence

# How a message for the bot ended, as it is counted and logged.
OK = "ok"  # a command ran; or words that are no command were answered (a welcome, the command to type)
REFUSED = "refused"  # no command ran: an unknown word, bad arguments, not allowed (here), a rule said no
FAILED = "failed"  # the command crashed: the person got an apology
SKIPPED = "skipped"  # beyond the sender's budget (a flood): recorded as handled, never run
UNKNOWN = "unknown"  # the name counted for a message that names no command

# The dispatcher's outcomes (``commands.dispatcher.Result``) as they are counted; any other
# (unknown, usage, denied, wrong_room, refused, too_long, outside) is a refusal. Those not
# counted at all are no command: a message the bot leaves alone, or an event it had handled.
_COUNTED = {"ok": OK, "welcome": OK, "wish": OK, "failed": FAILED, "skipped": SKIPPED}
NOT_COUNTED = frozenset({"ignored", "duplicate"})


def counted(outcome: str) -> str | None:
    """The outcome to count for a dispatcher's outcome; None when it was no command."""
    if outcome in NOT_COUNTED:
        return None
    return _COUNTED.get(outcome, REFUSED)


class Observer:
    """Hears what the bot does; this one ignores it all."""

    def command(self, name: str, outcome: str, seconds: float | None) -> None:
        """A message for the bot was handled: the command ``name`` (or ``UNKNOWN``), how it
        ended (``OK``, ``REFUSED``, ``FAILED``, ``SKIPPED``) and how long it took (None when
        it was not run)."""

    def reminders_sent(self, lateness: Sequence[float]) -> None:
        """Reminders were sent, each this many seconds after it was due."""

    def forum_call(self, outcome: str) -> None:
        """A call to the forum ended: ``ok``, ``rate_limited``, ``refused``, ``server_error``,
        ``timeout``, ``unreachable`` or ``bad_answer``."""

    def forum_rate_limited(self, seconds: float) -> None:
        """The forum asked the bot to wait this long before its next call."""

    def homeserver_rate_limited(self, seconds: float) -> None:
        """The homeserver asked the bot to wait this long before trying a request again."""
