"""The commitment: a mentorship is agreed for a period (the policy's ``commitment_months``);
in its last month it can be extended by another period. Its dates are decided here only."""

from __future__ import annotations

from datetime import datetime

from commands.clock import add_months
from commands.policy import ProgramPolicy
from storage.models import Mentorship


def commitment_end(start: datetime, policy: ProgramPolicy) -> datetime:
    """When a commitment period that begins at ``start`` ends."""
    return add_months(start, policy.commitment_months)


def extension_opens(m: Mentorship) -> datetime:
    """From when the commitment of ``m`` can be extended: its last month."""
    return add_months(m.commitment_ends_at, -1)


def midterm(start: datetime, policy: ProgramPolicy) -> datetime:
    """Halfway through the first commitment period begun at ``start``: time for a mid-term review."""
    return start + (commitment_end(start, policy) - start) / 2

