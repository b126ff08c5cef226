"""What the dashboard shows, as plain data: a ticket's clocks with their countdowns, and its
timeline. The pages and ``/api/tickets`` (through :mod:`.desk`) read these dicts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from sla import ClockStatus, Policy, format_duration
from sla.attainment import local
from sla.clock import _epoch, merge_pauses
from sla.reminders import plan_reminders
from storage import tickets as ticket_store
from storage.models import Ticket
from storage.tickets import TicketView


def _colour(status: str, fraction: float | None) -> str:
    if status == ClockStatus.BREACHED:
        return "breached"
    if status in (ClockStatus.MET, ClockStatus.NO_TARGET):
        return "done"
    if status == ClockStatus.PAUSED:
        return "paused"
    f = fraction or 0.0
    return "ok" if f < 0.5 else "warn" if f < 0.75 else "hot"


def clock_rows(session: Session, policy: Policy, view: TicketView, now: datetime,
               horizon: float, tz: str | None = None) -> list[dict[str, Any]]:
    """Each clock as the page shows it (deadlines in ``tz``, else the ticket's calendar zone);
    ``tick`` = seconds the browser may count down from ``now`` before the next refresh (0 when
    paused, stopped or outside business hours)."""
    clocks = ticket_store.ticket_clocks(session, view.ticket)
    pauses = merge_pauses(clocks.pauses)
    now_t = _epoch(now)
    paused = any(a <= now_t < b for a, b in pauses)
    rows = []
    tz = tz or clocks.calendar.tz
    for s in view.clocks:
        tick = 0
        if s.stopped_at is None and s.remaining is not None and not paused \
                and s.status in (ClockStatus.RUNNING, ClockStatus.BREACHED):
            tl = clocks.calendar_for(s.target).timeline()
            if tl.is_open(now_t):
                tick = int(tl.between(now_t, now_t + horizon))
        rows.append({
            "kind": s.kind.value,
            "target": s.target.label(),
            "target_seconds": s.target_seconds,
            "status": s.status.value,
            "deadline": local(s.deadline, tz) if s.deadline else None,
            "remaining": int(s.remaining.total_seconds()) if s.remaining is not None else None,
            "fraction": round(s.fraction, 4) if s.fraction is not None else None,
            "colour": _colour(s.status.value, s.fraction),
            "tick": tick,
            "text": _countdown_text(s.status.value, s.remaining),
        })
    return rows


def _countdown_text(status: str, remaining: timedelta | None) -> str:
    if status == ClockStatus.MET:
        return "met"
    if status == ClockStatus.NO_TARGET or remaining is None:
        return "—"
    if remaining.total_seconds() < 0:
        return f"overdue {format_duration(-remaining)}"
    return format_duration(remaining) + (" (paused)" if status == ClockStatus.PAUSED else "")


def timeline(session: Session, policy: Policy, ticket: Ticket, now: datetime,
             tz: str | None = None) -> list[dict[str, str]]:
    """Events, pauses, reminder thresholds and breaches of one ticket, by time (written in
    ``tz``, else the ticket's calendar zone)."""
    clocks = ticket_store.ticket_clocks(session, ticket)
    tz = tz or clocks.calendar.tz
    items: list[tuple[datetime, str, str, str]] = []
    for e in ticket_store.events(session, ticket.id or 0):
        items.append((e.at, "event", e.kind, f"{e.actor}: {e.text}"))
    for p in ticket_store.pauses(session, ticket.id or 0):
        items.append((p.started_at, "pause", "waiting (P17)", p.reason or p.kind))
        if p.ended_at:
            items.append((p.ended_at, "pause", "waiting ended", p.reason or p.kind))
    if ticket_store.has_clock(ticket):
        stops = clocks.stops or {}
        for th in plan_reminders(policy, clocks):
            stop = stops.get(th.kind)
            if stop is not None and stop < th.at:
                continue  # the clock stopped before reaching it
            if th.breach:
                items.append((th.at, "breach", f"{th.kind.value} breach",
                               f"deadline of {th.kind.value} passed"
                               + ("" if th.at <= now else " (if not stopped by then)")))
            else:
                items.append((th.at, "threshold", f"{th.kind.value} {th.label}",
                              "reminder threshold" + ("" if th.at <= now else " (ahead)")))
    items.sort(key=lambda x: x[0])
    return [{"at": local(at, tz), "type": typ, "title": title, "text": text,
             "future": "1" if at > now else ""} for at, typ, title, text in items]
