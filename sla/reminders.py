"""Reminder planning: the business instants at which each running clock crosses a threshold.

Pure: a threshold instant is ``start + fraction × target`` in business time of the clock's
calendar, pauses honoured, so a business-hours clock never reminds at night by construction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from .clock import _epoch, add_business_seconds, merge_pauses
from .policy import ClockKind, Escalation, Policy
from .ticket_clocks import TicketClocks

__all__ = [
    "BREACH",
    "Threshold",
    "due_thresholds",
    "escalations_at",
    "fractions_for",
    "next_threshold",
    "plan_reminders",
]

BREACH = 1.0


@dataclass(frozen=True, slots=True)
class Threshold:
    """A clock reaching ``fraction`` of its target (1.0: the deadline, a breach) at ``at``."""

    kind: ClockKind
    fraction: float
    at: datetime
    deadline: datetime | None  # None while an open pause stops the clock
    target_seconds: int

    @property
    def breach(self) -> bool:
        return self.fraction >= BREACH

    @property
    def epoch(self) -> int:
        return int(self.at.timestamp())

    @property
    def label(self) -> str:
        return "breach" if self.breach else f"{round(self.fraction * 100)}%"


def threshold_id(ticket_id: int, th: Threshold) -> str:
    """Identity of one threshold of one ticket's clock, ``t12:response:90%:1795...``.

    Its instant is part of it, so a deadline moved by a pause or a reclassification yields a
    new reminder, while a pause that comes *after* a threshold leaves its instant (and id)
    alone: the same reminder is never sent twice. Outbox keys and page triggers start with it.
    """
    return f"t{ticket_id}:{th.kind.value}:{th.label}:{th.epoch}"


def parse_threshold_id(text: str) -> tuple[ClockKind, float] | None:
    """The clock and fraction of a :func:`threshold_id` (None for anything else)."""
    parts = text.split(":")
    if len(parts) < 4 or not parts[0].startswith("t"):
        return None
    try:
        kind = ClockKind(parts[1])
        fraction = BREACH if parts[2] == "breach" else float(parts[2].rstrip("%")) / 100
    except ValueError:
        return None
    return kind, fraction


def escalations_at(
    policy: Policy, severity: str, kind: ClockKind, fraction: float
) -> list[Escalation]:
    """The escalation rules that fire when ``kind`` of a ``severity`` ticket hits ``fraction``."""
    return [
        e for e in policy.escalations
        if e.clock == kind and severity in e.severities and abs(e.at - fraction) < 1e-9
    ]


def fractions_for(policy: Policy, severity: str, kind: ClockKind) -> list[float]:
    """Reminder thresholds, escalation points and the breach, ascending, without repeats."""
    points = set(policy.reminders) | {BREACH}
    if policy.paging.enabled:  # a paging threshold must exist even when nothing else is sent
        points |= set(policy.paging.thresholds)
    points |= {e.at for e in policy.escalations if e.clock == kind and severity in e.severities}
    return sorted(points)


def plan_reminders(
    policy: Policy, clocks: TicketClocks, now: datetime | None = None
) -> list[Threshold]:
    """Every threshold of every clock still running at ``now``, past and future, by instant.

    A clock stopped (met or breached and then answered) at or before ``now`` has none left; a
    clock stopped by an open pause keeps only the thresholds it reached before the pause.
    """
    now_t = None if now is None else _epoch(now)
    pauses = merge_pauses(clocks.pauses)
    start = _epoch(clocks.start)
    stops = clocks.stops or {}
    out: list[Threshold] = []
    for kind in ClockKind:
        stop = stops.get(kind)
        if stop is not None and (now_t is None or _epoch(stop) <= now_t):
            continue
        target = policy.target(clocks.plan, clocks.severity, clocks.family, kind)
        seconds = clocks.target_seconds(target)
        if not seconds:
            continue
        cal = clocks.calendar_for(target)
        tl = cal.timeline()
        zone = cal.zone
        due = add_business_seconds(tl, start, seconds, pauses)
        deadline = None if due is None else datetime.fromtimestamp(due, zone)
        for fraction in fractions_for(policy, clocks.severity, kind):
            at = due if fraction >= BREACH else add_business_seconds(
                tl, start, seconds * fraction, pauses
            )
            if at is None:
                break  # an open pause: this and every later threshold are not due yet
            out.append(Threshold(kind, fraction, datetime.fromtimestamp(at, zone), deadline,
                                 seconds))
    out.sort(key=lambda th: (th.at, th.fraction))
    return out


def due_thresholds(plan: Iterable[Threshold], now: datetime) -> list[Threshold]:
    """Thresholds whose instant has come (``at <= now``)."""
    return [th for th in plan if th.at <= now]


def next_threshold(plan: Sequence[Threshold], now: datetime) -> Threshold | None:
    """The first threshold still ahead of ``now``."""
    for th in plan:
        if th.at > now:
            return th
    return None
