"""The timeline of a business calendar: its open intervals as sorted arrays.

A calendar is turned into a *timeline*: a sorted list of open intervals in UTC epoch seconds with
the cumulative business seconds before each one. Adding business time or measuring it is then two
bisections instead of a day-by-day walk. Timelines are built lazily, a few years at a time, and
cached per calendar (calendars are frozen, hashable values).
"""

from __future__ import annotations

import functools
import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from .hours import CalendarError

if TYPE_CHECKING:
    from .calendar import BusinessCalendar

__all__ = ["Timeline", "shared_timeline"]

# Years covered by a freshly built timeline around the first year asked for.
_SPAN_BEFORE = 1
_SPAN_AFTER = 2
# The widest span of years one timeline may cover.
_MAX_YEARS = 400

# One consistent state of a timeline: starts, ends, cum, cum_end, and the covered instants
# [lo_t, hi_t) (local midnight of Jan 1 of the first year, of the year after the last).
_Arrays = tuple[list[float], list[float], list[float], list[float], float, float]
_EMPTY: _Arrays = ([], [], [], [], 0.0, 0.0)


def _pos(a: _Arrays, t: float) -> float:
    """Business seconds from the origin of ``a`` to ``t`` (``a`` must cover ``t``)."""
    starts = a[0]
    i = bisect_right(starts, t) - 1
    if i < 0:
        return 0
    end = a[1][i]
    return a[2][i] + ((t if t < end else end) - starts[i])


def _inst(a: _Arrays, pos: float) -> float:
    """Earliest instant at position ``pos`` (0 < pos <= cum_end[-1]); a position that is used
    up exactly at a closing time maps to that closing time."""
    j = bisect_left(a[3], pos)
    return a[0][j] + (pos - a[2][j])


class Timeline:
    """Open intervals of a calendar as parallel arrays, grown on demand by whole years.

    ``starts[i]``/``ends[i]`` are epoch seconds, ``cum[i]`` the business seconds before
    interval ``i`` (relative to the first interval), ``cum_end[i] = cum[i] + ends[i] - starts[i]``.

    Every query reads one snapshot of the arrays (a tuple replaced whole on growth), so a
    growth in between never mixes arrays of different builds. Growth only moves the origin
    when it adds years *before* the first one; queries that go back restart on the new arrays.
    """

    __slots__ = (
        "calendar", "zone", "first_year", "last_year", "starts", "ends", "cum", "cum_end",
        "_arrays",
    )

    def __init__(self, calendar: BusinessCalendar) -> None:
        self.calendar = calendar
        self.zone = calendar.zone
        self.first_year = 0
        self.last_year = -1
        self.starts: list[float] = []
        self.ends: list[float] = []
        self.cum: list[float] = []
        self.cum_end: list[float] = []
        self._arrays: _Arrays = _EMPTY

    # -- growth ----------------------------------------------------------------------------

    def ensure(self, epoch: float) -> None:
        """Grow the timeline so it covers the year of ``epoch`` with a margin around it."""
        try:
            year = datetime.fromtimestamp(epoch, self.zone).year
        except (OverflowError, OSError, ValueError):
            raise CalendarError(f"instant {epoch} is out of range") from None
        if self.first_year <= year - _SPAN_BEFORE and year + _SPAN_AFTER <= self.last_year:
            return
        if self.last_year < self.first_year:
            lo, hi = year - _SPAN_BEFORE, year + _SPAN_AFTER
        else:
            lo = min(self.first_year, year - _SPAN_BEFORE)
            hi = max(self.last_year, year + _SPAN_AFTER)
        self._build(lo, hi)

    def _cover(self, t: float) -> _Arrays:
        """A snapshot that covers instant ``t``."""
        a = self._arrays
        if a[4] <= t < a[5]:
            return a
        self.ensure(t)
        return self._arrays

    def _extend(self, pos: float | None = None) -> None:
        """Add years after the last one (the origin stays where it is), enough to reach
        position ``pos`` at the average business time per year so far."""
        grow = _SPAN_AFTER + 1
        cum_end = self._arrays[3]
        if pos is not None and cum_end and cum_end[-1] > 0:
            per_year = cum_end[-1] / (self.last_year - self.first_year + 1)
            grow = max(grow, int((pos - cum_end[-1]) / per_year) + 2)
        self._build(self.first_year, self.last_year + grow)

    def _build(self, lo: int, hi: int) -> None:
        if hi - lo > _MAX_YEARS:
            raise CalendarError(
                f"instant is too far from the others on calendar {self.calendar.name!r}: "
                f"{lo}-{hi} spans more than {_MAX_YEARS} years"
            )
        try:
            first_day, last_day = date(lo, 1, 1), date(hi, 12, 31)
        except ValueError:
            raise CalendarError(f"years {lo}-{hi} are out of range") from None
        cal = self.calendar
        starts: list[int] = []
        ends: list[int] = []
        day = first_day
        one = timedelta(days=1)
        closed: dict[date, str] = {}
        half: dict[date, str] = {}
        for year in range(lo, hi + 1):
            closed.update(cal.closed_days(year))
            half.update(cal.half_days(year))
        while day <= last_day:
            for s, e in cal.day_intervals(day, closed, half):
                if ends and ends[-1] >= s:  # touching days (24x7) merge into one interval
                    ends[-1] = max(ends[-1], e)
                else:
                    starts.append(s)
                    ends.append(e)
            day += one
        if not starts:
            raise CalendarError(f"calendar {cal.name!r} has no opening hours in {lo}-{hi}")
        cum: list[float] = []
        cum_end: list[float] = []
        total = 0
        for s, e in zip(starts, ends, strict=True):
            cum.append(float(total))
            total += e - s
            cum_end.append(float(total))
        # Floats throughout (exact for whole seconds): bisecting floats with a float key is
        # about three times faster than mixing ints and floats.
        fstarts = [float(s) for s in starts]
        fends = [float(e) for e in ends]
        zone = self.zone
        lo_t = datetime(lo, 1, 1, tzinfo=zone).timestamp()
        hi_t = (
            datetime(hi + 1, 1, 1, tzinfo=zone).timestamp() if hi < 9999 else float(ends[-1])
        )
        self._arrays = (fstarts, fends, cum, cum_end, lo_t, hi_t)
        self.starts, self.ends, self.cum, self.cum_end = fstarts, fends, cum, cum_end
        self.first_year, self.last_year = lo, hi

    # -- primitive queries over epoch seconds (no pauses) ------------------------------------

    def position(self, t: float) -> float:
        """Business seconds from the timeline's origin up to instant ``t``.

        The origin moves when the timeline grows backwards: only compare positions taken
        without a growth in between (or use :meth:`between`).
        """
        return _pos(self._cover(t), t)

    def instant(self, pos: float) -> float:
        """The earliest instant at which ``pos`` business seconds have passed since the origin.

        A position that ends exactly at a closing time maps to that closing time.
        """
        if pos <= 0:
            a = self._arrays
            if not a[0]:
                raise CalendarError("empty timeline: ask for an instant first")
            return a[0][0]
        while pos > self._arrays[3][-1]:
            self._extend(pos)
        return _inst(self._arrays, pos)

    def next_open(self, t: float) -> float:
        """``t`` if the calendar is open at ``t``, else the next opening after it."""
        while True:
            a = self._cover(t)
            starts = a[0]
            i = bisect_right(starts, t) - 1
            if i >= 0 and t < a[1][i]:
                return t
            if i + 1 < len(starts):
                return starts[i + 1]
            self._extend()

    def is_open(self, t: float) -> bool:
        return self.next_open(t) == t

    def add(self, t: float, seconds: float) -> float:
        """Instant at which ``seconds`` of business time have passed from ``t``."""
        if seconds <= 0:
            return self.next_open(t)
        a = self._arrays
        while True:
            if not a[4] <= t < a[5]:
                a = self._cover(t)
            # _pos and _inst inlined: this is the hot path
            starts, ends, cum, cum_end, _, _ = a
            i = bisect_right(starts, t) - 1
            if i < 0:
                i, pos = 0, seconds
            else:
                end = ends[i]
                pos = cum[i] + ((t if t < end else end) - starts[i]) + seconds
                if pos <= cum_end[i]:  # within the same opening: no second search
                    return starts[i] + (pos - cum[i])
            if pos <= cum_end[-1]:
                j = bisect_left(cum_end, pos, i)
                return starts[j] + (pos - cum[j])
            self._extend(pos)
            a = self._arrays

    def between(self, a: float, b: float) -> float:
        """Business seconds between instants ``a`` and ``b`` (0 when ``b <= a``)."""
        if b <= a:
            return 0
        while True:
            arr = self._arrays
            if arr[4] <= a and b < arr[5]:
                return _pos(arr, b) - _pos(arr, a)
            self.ensure(a)
            self.ensure(b)

    def add_paused(self, t: float, seconds: float, pauses: Sequence[tuple[float, float]]) -> (
        float | None
    ):
        """Like :meth:`add`, skipping merged ``pauses`` (an ``inf`` end is an open pause).

        ``None`` when an open pause stops the clock before the time is used up. All positions
        are read from one snapshot; a growth restarts the computation on the new arrays.
        """
        if seconds <= 0:
            return _add_paused_slow(self, t, seconds, pauses)
        while True:
            a = self._cover(t)
            starts, ends, cum, cum_end, _, hi_t = a
            pos = _pos(a, t) + seconds
            cur = t
            grow = False
            for ps, pe in pauses:
                if pe <= cur:
                    continue
                if ps > cur:
                    if ps >= hi_t:
                        break  # this pause and the later ones start beyond the arrays
                    i = bisect_right(starts, ps) - 1  # _pos(a, ps) inlined
                    if i < 0:
                        at_ps = 0.0
                    else:
                        end = ends[i]
                        at_ps = cum[i] + ((ps if ps < end else end) - starts[i])
                    if pos <= at_ps:
                        return _inst(a, pos)
                else:
                    at_ps = _pos(a, cur)
                if pe == math.inf:
                    return None
                if pe >= hi_t:
                    grow = True  # cover the pause's end, then start again
                    break
                i = bisect_right(starts, pe) - 1  # _pos(a, pe) inlined
                if i >= 0:
                    end = ends[i]
                    pos += cum[i] + ((pe if pe < end else end) - starts[i]) - at_ps
                cur = pe
            if grow:
                self.ensure(pe)
            elif pos <= cum_end[-1]:
                return _inst(a, pos)
            else:
                self._extend(pos)


def _add_paused_slow(
    tl: Timeline, t: float, seconds: float, pauses: Sequence[tuple[float, float]]
) -> float | None:
    """The step-by-step form, kept for zero amounts (the next running instant)."""
    cur = t
    remaining = seconds
    for ps, pe in pauses:
        if pe <= cur:
            continue
        candidate = tl.add(cur, remaining)
        if candidate <= ps:
            return candidate
        if ps > cur:
            remaining -= tl.between(cur, ps)
        if pe == math.inf:
            return None
        cur = pe
    return tl.add(cur, remaining)


@functools.lru_cache(maxsize=256)
def shared_timeline(calendar: BusinessCalendar) -> Timeline:
    """The one timeline of ``calendar`` (equal calendars share it)."""
    return Timeline(calendar)
