"""Opening hours of a business calendar, and the error a calendar raises when it cannot be
built or queried (unknown preset, bad timezone, bad hours, an instant out of range)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

__all__ = ["ALL_DAYS", "MON_FRI", "SUN_THU", "CalendarError", "Hours", "parse_hours"]

# Weekday numbers follow date.weekday(): Monday=0 .. Sunday=6.
MON_FRI = (0, 1, 2, 3, 4)
SUN_THU = (6, 0, 1, 2, 3)
ALL_DAYS = (0, 1, 2, 3, 4, 5, 6)


class CalendarError(ValueError):
    """A calendar that cannot be built: unknown preset, bad timezone or bad hours."""


@dataclass(frozen=True, slots=True)
class Hours:
    """Opening hours of one day: [open, close) in local wall time. close=None means midnight."""

    open: time
    close: time | None

    def seconds(self) -> int:
        end = 24 * 3600 if self.close is None else _seconds_of(self.close)
        return end - _seconds_of(self.open)


def _seconds_of(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def parse_hours(text: str) -> Hours:
    """Parse ``"08:00-17:00"`` (``24:00`` allowed as a closing time)."""
    try:
        a, b = (part.strip() for part in text.split("-"))
        open_t = time.fromisoformat(a)
        close_t = None if b == "24:00" else time.fromisoformat(b)
    except ValueError:
        raise CalendarError(f"bad hours {text!r}: expected HH:MM-HH:MM, e.g. 08:00-17:00") from None
    hours = Hours(open_t, close_t)
    if hours.seconds() <= 0:
        raise CalendarError(f"bad hours {text!r}: closing must come after opening")
    return hours
