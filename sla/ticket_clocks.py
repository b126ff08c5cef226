"""A ticket's three SLA clocks: deadlines, elapsed fraction, remaining time, met / breached.

Pure: everything comes in as values (policy, calendar, start, pauses, stop instants, now).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .calendar import PRESETS, BusinessCalendar
from .clock import (
    EpochPause,
    Pause,
    _epoch,
    add_business_seconds,
    business_seconds_between,
    merge_pauses,
)
from .policy import ClockKind, Policy, Target

__all__ = ["ClockState", "ClockStatus", "TicketClocks", "evaluate_clocks", "format_duration"]


class ClockStatus(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"
    NO_TARGET = "no-target"


@dataclass(frozen=True, slots=True)
class ClockState:
    """One clock of one ticket at one instant."""

    kind: ClockKind
    target: Target
    target_seconds: int | None
    deadline: datetime | None
    stopped_at: datetime | None
    elapsed: timedelta
    remaining: timedelta | None
    fraction: float | None
    status: ClockStatus
    around_the_clock: bool

    @property
    def breached(self) -> bool:
        return self.status is ClockStatus.BREACHED

    @property
    def running(self) -> bool:
        return self.status in (ClockStatus.RUNNING, ClockStatus.PAUSED) or (
            self.status is ClockStatus.BREACHED and self.stopped_at is None
        )


@dataclass(frozen=True, slots=True)
class TicketClocks:
    """The inputs that decide a ticket's clocks."""

    plan: str
    severity: str
    family: str | None
    calendar: BusinessCalendar
    start: datetime
    pauses: tuple[Pause, ...] = ()
    stops: Mapping[ClockKind, datetime | None] | None = None

    def calendar_for(self, target: Target) -> BusinessCalendar:
        """24x7 cells run on the always-open calendar, in the customer's timezone."""
        if target.around_the_clock:
            return _always_open(self.calendar.tz)
        return self.calendar

    def target_seconds(self, target: Target) -> int | None:
        if not target.has_clock:
            return None
        return target.seconds(self.calendar_for(target).business_day_seconds)


_ALWAYS: dict[str, BusinessCalendar] = {}


def _always_open(tz: str) -> BusinessCalendar:
    cal = _ALWAYS.get(tz)
    if cal is None:
        base = PRESETS["24x7"]
        cal = BusinessCalendar("24x7", tz, base.days, base.hours)
        _ALWAYS[tz] = cal
    return cal


def evaluate_clocks(policy: Policy, clocks: TicketClocks, now: datetime) -> list[ClockState]:
    """State of the response, workaround and resolution clocks at ``now``."""
    merged = merge_pauses(clocks.pauses)
    stops = clocks.stops or {}
    return [
        _evaluate_one(policy, clocks, kind, merged, stops.get(kind), now) for kind in ClockKind
    ]


def _evaluate_one(
    policy: Policy,
    clocks: TicketClocks,
    kind: ClockKind,
    pauses: list[EpochPause],
    stopped_at: datetime | None,
    now: datetime,
) -> ClockState:
    target = policy.target(clocks.plan, clocks.severity, clocks.family, kind)
    cal = clocks.calendar_for(target)
    tl = cal.timeline()
    zone = cal.zone
    start = _epoch(clocks.start)
    now_t = _epoch(now)
    stop_t = None if stopped_at is None else _epoch(stopped_at)
    until = now_t if stop_t is None else min(stop_t, now_t)
    elapsed_s = business_seconds_between(tl, start, until, pauses)
    stopped_local = None if stopped_at is None else stopped_at.astimezone(zone)
    elapsed = timedelta(seconds=round(elapsed_s))
    seconds = clocks.target_seconds(target)
    if seconds is None:
        return ClockState(
            kind, target, None, None, stopped_local, elapsed, None, None,
            ClockStatus.NO_TARGET if stopped_at is None else ClockStatus.MET, False,
        )
    due = add_business_seconds(tl, start, seconds, pauses)
    deadline = None if due is None else datetime.fromtimestamp(due, zone)
    remaining = timedelta(seconds=round(seconds - elapsed_s))
    fraction = elapsed_s / seconds
    if stop_t is not None:
        met = due is None or stop_t <= due
        status = ClockStatus.MET if met else ClockStatus.BREACHED
    elif due is not None and now_t > due:
        status = ClockStatus.BREACHED
    elif _paused_at(pauses, now_t):
        status = ClockStatus.PAUSED
    else:
        status = ClockStatus.RUNNING
    return ClockState(
        kind, target, seconds, deadline,
        stopped_local, elapsed, remaining, fraction, status, target.around_the_clock,
    )


def _paused_at(pauses: Iterable[EpochPause], t: float) -> bool:
    return any(a <= t < b for a, b in pauses)


def format_duration(delta: timedelta | None, lang: str = "en") -> str:
    """Compact business-time countdown: ``2h 05m``, ``-1d 3h`` (``d`` = 24 h of clock time
    is never used here: business time is shown in hours and minutes)."""
    if delta is None:
        return "—"
    secs = delta.total_seconds()
    sign = "-" if secs < 0 else ""
    secs = abs(secs)
    hours, rem = divmod(int(math.floor(secs)), 3600)
    minutes = rem // 60
    h = "sa" if lang == "tr" else "h"
    m = "dk" if lang == "tr" else "m"
    if hours:
        return f"{sign}{hours}{h} {minutes:02d}{m}"
    return f"{sign}{minutes}{m}"
