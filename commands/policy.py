"""The program's rules that a deployment can tune: the `[program]` section of the config."""

from __future__ import annotations

from dataclasses import dataclass, field


def _rule(default, kind: str | None = None):
    """A tunable rule; ``kind`` tells the config loader how to validate it."""
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata={"kind": kind})
    return field(default=default, metadata={"kind": kind})


@dataclass
class ProgramPolicy:
    name: str = _rule("Mentorship program")
    timezone: str = _rule("UTC", "timezone")
    council: list[str] = _rule([], "matrix_ids")
    commitment_months: int = _rule(12, "positive")
    checkin_every_months: int = _rule(12, "positive")
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

    def reminder_offsets(self) -> list[int]:
        """Minutes before a check-in when both people are reminded, largest first."""
        from commands.framework import parse_duration

        return sorted({int(parse_duration(r).total_seconds() // 60) for r in self.reminders}, reverse=True)
