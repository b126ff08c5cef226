"""Differential tests: our engine against pandas ``CustomBusinessHour`` and a naive walker.

pandas (a test-only dependency) works on naive local wall times with a weekmask, a holiday list
and opening hours; it has no half days, and it moves a result that lands exactly on a closing
time to the next opening, where we keep the closing time. The comparison accounts for both.

The naive walker is a slow, obviously-correct reference written here from the rules alone: it
walks day by day through the `holidays` package's dates and subtracts pauses. It covers what
pandas cannot: half days, pauses, open pauses and the around-the-clock calendar.
"""

from __future__ import annotations

import functools
import math
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays as holidays_lib
import pandas as pd
import pytest
from pandas.tseries.offsets import CustomBusinessHour

from sla import BusinessCalendar, Hours, add_business_time, business_time_between, make_calendar
from sla.hours import MON_FRI

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
YEARS = range(2024, 2031)

# TR with its full-day public holidays only (no 13:00 half days): exactly what pandas can model.
TR_FULL = BusinessCalendar("TR-full", "Europe/Istanbul", MON_FRI, Hours(time(8), time(17)), ("TR",))
ORACLE_CALENDARS = {
    "TR-full": TR_FULL,
    "TR": make_calendar("TR"),  # compared where no half day is involved
    "US": make_calendar("US"),
    "US-Chicago-9-18": make_calendar("US", tz="America/Chicago", hours="09:00-18:00",
                                     closed=[date(2026, 12, 24), date(2027, 12, 24)]),
    "ME": make_calendar("ME"),
}


# -- pandas --------------------------------------------------------------------------------------


def _holiday_dates(cal: BusinessCalendar) -> list[date]:
    out: set[date] = set(cal.closed_dates)
    for country in cal.holiday_sets:
        got = holidays_lib.country_holidays(
            country, years=list(YEARS), categories=("public",), language="en_US"
        )
        out.update(got)
    return sorted(out)


def _half_dates(cal: BusinessCalendar) -> set[date]:
    out: set[date] = set()
    for country in cal.half_day_sets:
        out.update(holidays_lib.country_holidays(
            country, years=list(YEARS), categories=("half_day",), language="en_US"
        ))
    return out


@functools.cache
def _pandas_offset(name: str, n: int) -> CustomBusinessHour:
    cal = ORACLE_CALENDARS[name]
    close = cal.hours.close
    assert close is not None
    return CustomBusinessHour(
        n=n,
        weekmask=" ".join(DAY_NAMES[d] for d in sorted(cal.days)),
        holidays=_holiday_dates(cal),
        start=cal.hours.open.strftime("%H:%M"),
        end=close.strftime("%H:%M"),
    )


def pandas_deadline(name: str, start: datetime, hours: int) -> datetime:
    """pandas' answer for a whole number of business hours, back as an aware datetime."""
    cal = ORACLE_CALENDARS[name]
    local = start.astimezone(cal.zone).replace(tzinfo=None)
    got = (pd.Timestamp(local) + _pandas_offset(name, hours)).to_pydatetime()
    return got.replace(tzinfo=cal.zone)


def _random_start(rng: random.Random, cal: BusinessCalendar) -> datetime:
    day = date(2025, 1, 1) + timedelta(days=rng.randrange(4 * 365))
    kind = rng.random()
    if kind < 0.15:  # exactly at an opening or a closing time
        t = rng.choice([cal.hours.open, cal.hours.close or time(0)])
        local = datetime.combine(day, t)
    elif kind < 0.3:  # on a whole hour, any time of day
        local = datetime.combine(day, time(rng.randrange(24)))
    else:
        local = datetime.combine(day, time(0)) + timedelta(seconds=rng.randrange(86400))
    return local.replace(tzinfo=cal.zone)


def _hours(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.3:
        return rng.randint(1, 9)
    if r < 0.6:
        return 9 * rng.randint(1, 20)  # whole days: often end on a closing time
    return rng.randint(1, 180)


def _oracle_cases(n: int, seed: int = 20261127):
    rng = random.Random(seed)
    names = list(ORACLE_CALENDARS)
    for i in range(n):
        name = names[i % len(names)]
        cal = ORACLE_CALENDARS[name]
        yield name, _random_start(rng, cal), _hours(rng)


def test_against_pandas_custom_business_hour():
    halves = {name: _half_dates(cal) for name, cal in ORACLE_CALENDARS.items()}
    compared = closing = skipped = 0
    for name, start, hours in _oracle_cases(320):
        cal = ORACLE_CALENDARS[name]
        tl = cal.timeline()
        ours = add_business_time(cal, start, timedelta(hours=hours))
        assert ours is not None
        theirs = pandas_deadline(name, start, hours)
        if halves[name]:
            first = start.astimezone(cal.zone).date()
            if any(first <= d <= theirs.date() or first <= d <= ours.date()
                   for d in halves[name]):
                skipped += 1  # pandas knows no half days
                continue
        expected = ours
        if not tl.is_open(ours.timestamp()):
            # ours ends exactly on a closing time; pandas moves it to the next opening
            closing += 1
            expected = datetime.fromtimestamp(tl.next_open(ours.timestamp()), cal.zone)
        assert theirs == expected, (name, start.isoformat(), hours, ours.isoformat())
        assert theirs.utcoffset() == expected.utcoffset()
        compared += 1
    assert compared >= 280 and closing >= 30, (compared, closing, skipped)


@pytest.mark.parametrize(
    "name, start, hours, ours, theirs",
    [
        # the closing-time rule: we stay on Friday's close, pandas goes to Monday's opening
        ("TR-full", "2026-11-27T16:00:00+03:00", 1,
         "2026-11-27T17:00:00+03:00", "2026-11-30T08:00:00+03:00"),
        ("US", "2026-11-25T08:00:00-05:00", 9,
         "2026-11-25T17:00:00-05:00", "2026-11-27T08:00:00-05:00"),
        # agreement across the US DST change
        ("US", "2026-03-06T16:00:00-05:00", 2,
         "2026-03-09T09:00:00-04:00", "2026-03-09T09:00:00-04:00"),
    ],
)
def test_pandas_worked_examples(name, start, hours, ours, theirs):
    cal = ORACLE_CALENDARS[name]
    s = datetime.fromisoformat(start)
    got = add_business_time(cal, s, timedelta(hours=hours))
    assert got is not None and got.isoformat() == ours
    assert pandas_deadline(name, s, hours).isoformat() == theirs


# -- the naive walker ----------------------------------------------------------------------------


@functools.cache
def _country(country: str, category: str, year: int) -> frozenset[date]:
    return frozenset(holidays_lib.country_holidays(
        country, years=year, categories=(category,), language="en_US"
    ))


def walker_day(cal: BusinessCalendar, day: date) -> tuple[float, float] | None:
    """The open interval of one local day, straight from the rules."""
    if day.weekday() not in cal.days or day in cal.closed_dates:
        return None
    if any(day in _country(c, "public", day.year) for c in cal.holiday_sets):
        return None
    zone = ZoneInfo(cal.tz)
    opening = datetime.combine(day, cal.hours.open, tzinfo=zone)
    if cal.hours.close is None:
        closing = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    else:
        closing = datetime.combine(day, cal.hours.close, tzinfo=zone)
    if any(day in _country(c, "half_day", day.year) for c in cal.half_day_sets):
        closing = min(closing, datetime.combine(day, cal.half_day_close, tzinfo=zone))
    if closing <= opening:
        return None
    return opening.timestamp(), closing.timestamp()


def _minus(a: float, b: float, pauses: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """[a, b) without the pauses, as ordered pieces."""
    pieces = [(a, b)]
    for pa, pb in pauses:
        nxt = []
        for x, y in pieces:
            if pb <= x or pa >= y:
                nxt.append((x, y))
                continue
            if pa > x:
                nxt.append((x, pa))
            if pb < y:
                nxt.append((pb, y))
        pieces = nxt
    return sorted(pieces)


def walker_add(cal, start: float, seconds: float, pauses) -> float | None:
    open_from = min((a for a, b in pauses if b == math.inf), default=math.inf)
    zone = ZoneInfo(cal.tz)
    day = datetime.fromtimestamp(start, zone).date() - timedelta(days=1)
    remaining = seconds
    for _ in range(3000):
        iv = walker_day(cal, day)
        day += timedelta(days=1)
        if iv is None:
            continue
        a, b = max(iv[0], start), iv[1]
        if a >= b:
            continue
        if a >= open_from:
            return None
        for x, y in _minus(a, b, pauses):
            if remaining <= y - x:
                return x + remaining
            remaining -= y - x
    raise AssertionError("walked too far")


def walker_between(cal, a: float, b: float, pauses) -> float:
    zone = ZoneInfo(cal.tz)
    day = datetime.fromtimestamp(a, zone).date() - timedelta(days=1)
    last = datetime.fromtimestamp(b, zone).date() + timedelta(days=1)
    total = 0.0
    while day <= last:
        iv = walker_day(cal, day)
        day += timedelta(days=1)
        if iv is None:
            continue
        x, y = max(iv[0], a), min(iv[1], b)
        if x < y:
            total += sum(q - p for p, q in _minus(x, y, pauses))
    return total


WALKER_CALENDARS = [
    make_calendar("TR"),
    make_calendar("ME"),
    make_calendar("US"),
    make_calendar("US", tz="America/Chicago"),
    make_calendar("TR", hours="09:00-18:00", closed=[date(2026, 11, 30)]),
    make_calendar("24x7", tz="America/New_York"),
]


def _walker_cases(n: int, seed: int = 7):
    rng = random.Random(seed)
    lo = datetime(2025, 12, 1, tzinfo=UTC).timestamp()
    # half of the starts in 2026 (all three Turkish half days, DST changes, Thanksgiving)
    for i in range(n):
        cal = WALKER_CALENDARS[i % len(WALKER_CALENDARS)]
        start = int(lo + rng.randrange(400 * 86400))
        if rng.random() < 0.3:
            start -= start % 3600
        seconds = rng.choice([1800, 3600, 4 * 3600, 9 * 3600, 18 * 3600, 45 * 3600,
                              rng.randrange(1, 20 * 9 * 3600)])
        pauses: list[tuple[float, float]] = []
        for _ in range(rng.choice([0, 0, 1, 2, 3])):
            a = start + rng.randrange(-2 * 86400, 15 * 86400)
            pauses.append((a, a + rng.randrange(60, 3 * 86400)))
        if rng.random() < 0.15:
            pauses.append((start + rng.randrange(-86400, 20 * 86400), math.inf))
        yield cal, start, seconds, pauses


def _as_pauses(pauses, zone):
    return [(datetime.fromtimestamp(a, zone),
             None if b == math.inf else datetime.fromtimestamp(b, zone)) for a, b in pauses]


def test_half_days_are_in_the_walker_cases():
    tr = make_calendar("TR")
    assert walker_day(tr, date(2026, 10, 28)) == tr.day_intervals(date(2026, 10, 28))[0]


def test_against_the_naive_walker():
    nones = 0
    for cal, start, seconds, pauses in _walker_cases(600):
        zone = cal.zone
        start_dt = datetime.fromtimestamp(start, zone)
        dt_pauses = _as_pauses(pauses, zone)
        merged = sorted(pauses)
        expected = walker_add(cal, start, seconds, merged)
        ours = add_business_time(cal, start_dt, timedelta(seconds=seconds), dt_pauses)
        if expected is None:
            nones += 1
            assert ours is None, (cal.name, start_dt, seconds, pauses)
            continue
        assert ours is not None and ours.timestamp() == expected, (
            cal.name, start_dt.isoformat(), seconds, pauses, ours,
            datetime.fromtimestamp(expected, zone),
        )
        end = start + seconds * 1.5 + 5 * 86400
        measured = business_time_between(cal, start_dt, datetime.fromtimestamp(end, zone),
                                         dt_pauses)
        assert measured.total_seconds() == walker_between(cal, start, end, merged)
    assert nones > 10
