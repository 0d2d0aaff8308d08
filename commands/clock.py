"""The clock is injected: the real one in production, a settable one in the shell and tests."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, aware, in UTC."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime.now(timezone.utc).replace(microsecond=0)
        if start.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        self._now = start.astimezone(timezone.utc)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        self._now = when.astimezone(timezone.utc)

    def advance(self, delta: timedelta) -> None:
        self._now += delta


def add_months(when: datetime, months: int) -> datetime:
    """The same day and time ``months`` later; the 31st becomes the last day of a shorter month."""
    import calendar

    month_index = when.month - 1 + months
    year, month = when.year + month_index // 12, month_index % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def end_of_day(when: datetime, zone: ZoneInfo) -> datetime:
    """The first moment of the day after ``when``'s day in ``zone`` (in UTC), whatever the clocks do that night."""
    local = when.astimezone(zone)
    following = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return following.astimezone(timezone.utc)


@dataclass(frozen=True)
class Dated:
    """A day, or a time on a day, that something happens; over at the end of that day."""

    at: datetime  # UTC: the time given, or the day's first moment
    all_day: bool  # no time of day was given
    zone: str  # the zone it was read in, where its day is a day
    until: datetime  # UTC: when the day is over


DURATION = re.compile(r"(\d{1,6})\s*(minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|w)(?![a-z])", re.I)
UNIT_SECONDS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


def read_duration(text: str) -> timedelta | None:
    """``3d``, ``2w``, ``90m``, ``1d12h``, ``2 weeks``: a positive duration, or None when
    ``text`` is not one."""
    text = text.strip()
    pos, total = 0, 0
    for match in DURATION.finditer(text):
        if text[pos : match.start()].strip():
            break
        total += int(match.group(1)) * UNIT_SECONDS[match.group(2)[0].lower()]
        pos = match.end()
    if pos == 0 or text[pos:].strip() or total == 0:
        return None
    return timedelta(seconds=total)
