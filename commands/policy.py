"""The program's rules that a deployment can tune: the `[program]` section of the config."""

from __future__ import annotations

from dataclasses import dataclass, field

from commands.clock import read_duration


def _rule(default, kind: str | None = None):
    """A tunable rule; ``kind`` tells the config loader how to validate it."""
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata={"kind": kind})
    return field(default=default, metadata={"kind": kind})


@dataclass
class ProgramPolicy:
    name: str = _rule("Mentorship program")
    # The language of the shared rooms, the forum's posts, and of people whose own languages
    # the bot does not speak (one of ``commands.languages.SPOKEN``).
    language: str = _rule("en", "language")
    timezone: str = _rule("UTC", "timezone")
    council: list[str] = _rule([], "matrix_ids")
    commitment_months: int = _rule(12, "positive")
    checkin_every_months: int = _rule(12, "positive")
    # A mentorship's first year, when its mentee meets their mentor more often.
    first_year_months: int = _rule(12, "positive")
    new_mentee_checkin_every_months: int = _rule(3, "positive")
    followup_days: int = _rule(30, "positive")
    max_group_size: int = _rule(5, "positive")
    request_escalation_days: int = _rule(7, "positive")
    orientation_within_days: int = _rule(14, "positive")
    away_change_days: int = _rule(30, "positive")
    default_capacity: int = _rule(3, "non_negative")
    reminders: list[str] = _rule(["24h", "1h"], "durations")
    overdue_council_days: int = _rule(14, "positive")
    feedback_month: int = _rule(6, "month")
    # How long before the end of a commitment its final review is proposed.
    final_review_days: int = _rule(30, "positive")
    # Single coaching sessions a mentor of the coach pool gives a month, unless they set their own.
    coaching_sessions_per_month: int = _rule(2, "non_negative")
    # ``request <text>`` from a mentee whose profile lacks languages, time zone or interests asks
    # for them first, one at a time (``request`` without a text always asks).
    request_asks_profile: bool = _rule(False)
    # The program's words for interests and skills, each with the other words people use for
    # it: ``localization = ["localisation", "l10n"]``. A synonym typed is stored as its skill,
    # so people who say it differently are matched. Empty: words are stored as typed.
    skills: dict[str, list[str]] = _rule({}, "skills")

    def reminder_offsets(self) -> list[int]:
        """Minutes before a check-in when both people are reminded, largest first."""
        return sorted({int(read_duration(r).total_seconds() // 60) for r in self.reminders}, reverse=True)


@dataclass
class RetentionPolicy:
    """How long confidential texts are kept: the `[retention]` section of the config.

    Each setting is a number of months; 0 keeps the texts until the person asks to be
    forgotten. A daily job erases what has expired; the rows stay, for the counts.
    """

    # The texts of session records (outcome, next steps, remarks, progress) of mentorships
    # that ended more than this many months ago.
    session_notes_months: int = _rule(0, "non_negative")
    # Diary entries of mentorships that ended this long ago, and the goals of mentees
    # whose mentorships all ended this long ago.
    diary_months: int = _rule(0, "non_negative")
    # Yearly feedback answers given more than this many months ago.
    feedback_months: int = _rule(0, "non_negative")
    # Reasons given for ending a mentorship, changing mentor or declining a request.
    reasons_months: int = _rule(0, "non_negative")
    # The skill asked and a decline's reason of single coaching sessions whose time (and
    # whose asking) is this many months past.
    coaching_months: int = _rule(0, "non_negative")


@dataclass
class FloodPolicy:
    """How many commands one person may send: the `[limits]` section of the config.

    Each person has a budget of ``command_burst`` commands at once, refilled at
    ``commands_per_minute``. Beyond it their commands are skipped, with one notice, so
    that a flood (a script, a stuck client, someone who means harm) never slows down
    anyone else. The defaults are far above what a person types.
    """

    commands_per_minute: int = _rule(30, "positive")
    command_burst: int = _rule(20, "positive")
