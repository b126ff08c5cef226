"""Business calendars: weekly opening hours, a timezone and closed dates; the presets.

Business-time arithmetic runs on a calendar's timeline (:mod:`sla.timeline`); opening hours and
the calendar error live in :mod:`sla.hours`, holiday data in :mod:`sla.public_holidays`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .hours import ALL_DAYS, MON_FRI, SUN_THU, CalendarError, Hours, parse_hours
from .public_holidays import country_days
from .timeline import Timeline, shared_timeline

__all__ = ["PRESETS", "BusinessCalendar", "make_calendar"]


class _TimelineSlot:
    """Holds a calendar's timeline outside the dataclass fields (not compared, hashed,
    copied or pickled), so :meth:`BusinessCalendar.timeline` needs no hashing on a hot path."""

    __slots__ = ("_timeline_cache",)
    _timeline_cache: Timeline


@dataclass(frozen=True, slots=True)
class BusinessCalendar(_TimelineSlot):
    """A weekly pattern of opening hours in a timezone, with holidays and extra closed dates.

    ``holiday_sets`` names ``holidays`` package countries (``TR``, ``AE``, ``US``);
    ``half_day_sets`` names countries whose ``half_day`` category closes at ``half_day_close``.
    """

    name: str
    tz: str
    days: tuple[int, ...]
    hours: Hours
    holiday_sets: tuple[str, ...] = ()
    half_day_sets: tuple[str, ...] = ()
    half_day_close: time = time(13, 0)
    closed_dates: frozenset[date] = field(default_factory=frozenset)

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.tz)

    @property
    def business_day_seconds(self) -> int:
        """Length of one full business day, the unit of ``d`` in targets (9 h for 08–17)."""
        return self.hours.seconds()

    def timeline(self) -> Timeline:
        """The cached timeline of this calendar (shared by equal calendars)."""
        try:
            return self._timeline_cache
        except AttributeError:
            tl = shared_timeline(self)
            object.__setattr__(self, "_timeline_cache", tl)
            return tl

    def closed_days(self, year: int) -> dict[date, str]:
        """Holidays and extra closed dates of a year, with their names."""
        out: dict[date, str] = {}
        for country in self.holiday_sets:
            out.update(country_days(country, "public", year))
        for d in self.closed_dates:
            if d.year == year:
                out[d] = "closed"
        return out

    def half_days(self, year: int) -> dict[date, str]:
        out: dict[date, str] = {}
        for country in self.half_day_sets:
            out.update(country_days(country, "half_day", year))
        return out

    def day_intervals(
        self, day: date, closed: Mapping[date, str] | None = None,
        half: Mapping[date, str] | None = None,
    ) -> list[tuple[int, int]]:
        """Open intervals of one local date as UTC epoch seconds (empty when closed)."""
        if day.weekday() not in self.days:
            return []
        if day in (self.closed_days(day.year) if closed is None else closed):
            return []
        zone = self.zone
        open_dt = datetime.combine(day, self.hours.open, zone)
        if self.hours.close is None:
            close_dt = datetime.combine(day + timedelta(days=1), time(0), zone)
        else:
            close_dt = datetime.combine(day, self.hours.close, zone)
        halves = self.half_days(day.year) if half is None else half
        if day in halves:
            # A half day closes at half_day_close; hours opening later leave nothing open.
            close_dt = min(close_dt, datetime.combine(day, self.half_day_close, zone))
        start, end = int(open_dt.timestamp()), int(close_dt.timestamp())
        return [(start, end)] if end > start else []


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError(f"unknown timezone {name!r}") from None


PRESETS: Mapping[str, BusinessCalendar] = {
    "TR": BusinessCalendar(
        "TR", "Europe/Istanbul", MON_FRI, Hours(time(8), time(17)), ("TR",), ("TR",)
    ),
    "ME": BusinessCalendar("ME", "Asia/Dubai", SUN_THU, Hours(time(8), time(17)), ("AE", "TR")),
    "US": BusinessCalendar("US", "America/New_York", MON_FRI, Hours(time(8), time(17)), ("US",)),
    "24x7": BusinessCalendar("24x7", "UTC", ALL_DAYS, Hours(time(0), None)),
}


def make_calendar(
    preset: str,
    tz: str | None = None,
    hours: str | Hours | None = None,
    closed: Iterable[date] = (),
) -> BusinessCalendar:
    """A preset with an optional timezone override, opening hours and extra closed dates."""
    key = preset if preset in PRESETS else preset.upper()
    base = PRESETS.get(key)
    if base is None:
        names = ", ".join(PRESETS)
        raise CalendarError(f"unknown calendar {preset!r}: choose one of {names}")
    if tz is not None:
        _zone(tz)
    parsed = parse_hours(hours) if isinstance(hours, str) else hours
    return BusinessCalendar(
        name=base.name,
        tz=tz or base.tz,
        days=base.days,
        hours=parsed or base.hours,
        holiday_sets=base.holiday_sets,
        half_day_sets=base.half_day_sets,
        half_day_close=base.half_day_close,
        closed_dates=base.closed_dates | frozenset(closed),
    )
