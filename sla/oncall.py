"""On-call schedules and the paging chain: pure functions over typed values.

A :class:`Rotation` hands a layer (``primary`` or ``secondary``) from one engineer to the next
every ``period_days`` at the wall-clock time of its first hand-over, in its own timezone, so a
Monday 09:00 hand-over stays at 09:00 across daylight-saving changes. An :class:`Override`
(a holiday, a swap) puts another engineer on a layer for a while and wins over the rotation;
of overlapping overrides the newest wins. Of several rotations of one layer the one started
last is in force (a new rotation replaces the old from its first hand-over).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .calendar import BusinessCalendar

__all__ = [
    "LAYERS",
    "Override",
    "PageStep",
    "Rotation",
    "Shift",
    "on_call",
    "page_steps",
    "quiet_now",
    "shift_at",
]

LAYERS = ("primary", "secondary")


@dataclass(frozen=True, slots=True)
class Rotation:
    """Engineers (contact ids, in order) taking turns on one layer."""

    name: str
    layer: str
    members: tuple[int, ...]
    start: datetime  # the first hand-over (aware); its local time is every hand-over's time
    tz: str
    period_days: int = 7


@dataclass(frozen=True, slots=True)
class Override:
    """``engineer`` holds ``layer`` from ``start`` until ``end`` (holiday cover, a swap)."""

    layer: str
    engineer: int
    start: datetime
    end: datetime
    id: int = 0  # creation order: a later override wins where two overlap
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Shift:
    """Who holds a layer, from when until when, and why (a rotation's name or an override)."""

    layer: str
    engineer: int
    start: datetime
    end: datetime | None
    source: str


def _handover(rotation: Rotation, k: int) -> datetime:
    """The k-th hand-over: the first one's local wall time, ``k`` periods later."""
    zone = ZoneInfo(rotation.tz)
    first = rotation.start.astimezone(zone)
    day = first.date() + timedelta(days=k * rotation.period_days)
    return datetime.combine(day, first.timetz().replace(tzinfo=None), tzinfo=zone)


def shift_at(rotation: Rotation, at: datetime) -> Shift | None:
    """The rotation's shift covering ``at``; None before its first hand-over or when empty."""
    if not rotation.members or rotation.period_days <= 0 or at < rotation.start:
        return None
    local = at.astimezone(ZoneInfo(rotation.tz))
    first = rotation.start.astimezone(ZoneInfo(rotation.tz))
    k = (local.date() - first.date()).days // rotation.period_days
    while _handover(rotation, k) > at:  # before this period's hand-over time: the previous one
        k -= 1
    while _handover(rotation, k + 1) <= at:
        k += 1
    engineer = rotation.members[k % len(rotation.members)]
    return Shift(rotation.layer, engineer, _handover(rotation, k), _handover(rotation, k + 1),
                 rotation.name)


def on_call(
    rotations: Sequence[Rotation], overrides: Sequence[Override], layer: str, at: datetime
) -> Shift | None:
    """Who holds ``layer`` at ``at``: an override in force, else the rotation in force."""
    active = [o for o in overrides if o.layer == layer and o.start <= at < o.end]
    if active:
        o = max(active, key=lambda o: (o.id, o.start))
        return Shift(layer, o.engineer, o.start, o.end, f"override: {o.reason}".rstrip(": "))
    started = [r for r in rotations if r.layer == layer and r.members and r.start <= at]
    if not started:
        return None
    rotation = max(started, key=lambda r: r.start)
    shift = shift_at(rotation, at)
    if shift is None:
        return None
    # An override that starts before the shift ends cuts it short: say so in "until".
    cuts = [o.start for o in overrides if o.layer == layer and at < o.start
            and (shift.end is None or o.start < shift.end)]
    return Shift(layer, shift.engineer, shift.start, min(cuts, default=shift.end), shift.source)


@dataclass(frozen=True, slots=True)
class PageStep:
    """One step of a page: who is paged (``primary``, ``secondary``, ``managers``) and when."""

    index: int
    target: str
    at: datetime


def page_steps(chain: Sequence[str], interval: timedelta, start: datetime) -> list[PageStep]:
    """The chain laid out in time: step ``i`` at ``start + i × interval``."""
    return [PageStep(i, target, start + i * interval) for i, target in enumerate(chain)]


def quiet_now(calendar: BusinessCalendar, at: datetime, *, business_hours: bool,
              paused: bool, while_paused: bool) -> bool:
    """Whether a page must not go out at ``at``: inside the customer's business hours (the
    engineers' channel has it then) or while the ticket waits for the customer."""
    if paused and while_paused:
        return True
    return business_hours and calendar.timeline().is_open(at.timestamp())
