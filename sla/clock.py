"""Business-time arithmetic with pauses (waiting for the customer, P17).

Rules (pinned by tests):
- a start outside opening hours counts from the next opening;
- a deadline that lands exactly on a closing time *is* that closing time;
- no business time passes inside a pause; pauses may overlap each other and closed hours;
  an open pause (no end) stops the clock, so no deadline exists while it lasts;
- results are timezone-aware, to the second, in the calendar's timezone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from .calendar import BusinessCalendar
from .timeline import Timeline

__all__ = [
    "Pause",
    "add_business_time",
    "add_business_seconds",
    "business_seconds_between",
    "business_time_between",
    "merge_pauses",
]

# A pause as (start, end) aware datetimes; end None while it lasts.
Pause = tuple[datetime, datetime | None]
# The same in epoch seconds; end math.inf while it lasts.
EpochPause = tuple[float, float]


# tzinfo classes whose utcoffset() is never None: the awareness check can skip calling it.
_ALWAYS_AWARE = (ZoneInfo, timezone)


def _naive(dt: datetime) -> ValueError:
    return ValueError(f"naive datetime {dt.isoformat()}: SLA times must be timezone-aware")


def _epoch(dt: datetime) -> float:
    tz = dt.tzinfo
    if tz is None or (tz.__class__ not in _ALWAYS_AWARE and dt.utcoffset() is None):
        raise _naive(dt)
    return dt.timestamp()


def merge_pauses(pauses: Iterable[Pause]) -> list[EpochPause]:
    """Sorted, non-overlapping pause intervals in epoch seconds."""
    spans: list[EpochPause] = []
    append = spans.append
    aware = _ALWAYS_AWARE
    inf = math.inf
    for a, b in pauses:  # _epoch() inlined: this runs for every pause of every evaluation
        tz = a.tzinfo
        if tz is None or (tz.__class__ not in aware and a.utcoffset() is None):
            raise _naive(a)
        if b is None:
            append((a.timestamp(), inf))
            continue
        tz = b.tzinfo
        if tz is None or (tz.__class__ not in aware and b.utcoffset() is None):
            raise _naive(b)
        append((a.timestamp(), b.timestamp()))
    if len(spans) > 1:
        spans.sort()
        return _merge_sorted(spans)
    return [ab for ab in spans if ab[1] > ab[0]]


def _merge_sorted(spans: Iterable[EpochPause]) -> list[EpochPause]:
    out: list[EpochPause] = []
    for a, b in spans:
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def add_business_seconds(
    tl: Timeline, start: float, seconds: float, pauses: Sequence[EpochPause] = ()
) -> float | None:
    """Epoch instant at which ``seconds`` of business time have passed since ``start``.

    ``pauses`` must be merged (see :func:`merge_pauses`). ``None`` when an open pause stops
    the clock before the time is used up.
    """
    if not pauses:
        return tl.add(start, seconds)
    return tl.add_paused(start, seconds, pauses)


def business_seconds_between(
    tl: Timeline, a: float, b: float, pauses: Sequence[EpochPause] = ()
) -> float:
    """Business seconds in ``[a, b]`` outside the (merged) pauses."""
    if b <= a:
        return 0
    total = tl.between(a, b)
    for ps, pe in pauses:
        lo, hi = max(a, ps), min(b, pe)
        if hi > lo:
            total -= tl.between(lo, hi)
    return total


def add_business_time(
    calendar: BusinessCalendar,
    start: datetime,
    amount: timedelta,
    pauses: Iterable[Pause] = (),
) -> datetime | None:
    """Deadline ``amount`` of business time after ``start``, in the calendar's timezone.

    ``None`` when an open pause stops the clock first.
    """
    tz = start.tzinfo  # _epoch() inlined on this hot path
    if tz is None or (tz.__class__ not in _ALWAYS_AWARE and start.utcoffset() is None):
        raise _naive(start)
    tl = calendar.timeline()
    if pauses:
        end = tl.add_paused(start.timestamp(), amount.total_seconds(), merge_pauses(pauses))
        if end is None:
            return None
    else:
        end = tl.add(start.timestamp(), amount.total_seconds())
    return datetime.fromtimestamp(end, tl.zone)


def business_time_between(
    calendar: BusinessCalendar, a: datetime, b: datetime, pauses: Iterable[Pause] = ()
) -> timedelta:
    """Business time elapsed from ``a`` to ``b``, pauses excluded."""
    tl = calendar.timeline()
    secs = business_seconds_between(tl, _epoch(a), _epoch(b), merge_pauses(pauses))
    return timedelta(seconds=secs)
