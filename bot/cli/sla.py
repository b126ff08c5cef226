"""``destek sla status`` and ``destek sla replay N``: the scheduler's view of the clocks."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from handlers.vocabulary import local_when
from sla.reminders import plan_reminders
from sla.ticket_clocks import format_duration
from storage import outbox, tickets
from storage.db import engine_for
from storage.models import Customer

from ..jobs.sla_passes import SlaCore
from ..routing import routing_from_settings
from .common import JsonOpt, db_policy, emit, fail, now_utc, session, settings, sla_app


def _core() -> SlaCore:
    cfg = settings()
    return SlaCore(engine_for(cfg.database_url), db_policy(), routing_from_settings(cfg))


def _when(dt: datetime | None, zone: ZoneInfo) -> str:
    return "—" if dt is None else dt.astimezone(zone).strftime("%Y-%m-%d %H:%M")


@sla_app.command("status")
def sla_status(as_json: JsonOpt = False) -> None:
    """Every open ticket's clocks, remaining business time and next reminder."""
    core = _core()
    now = now_utc()
    rows = core.status(now)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=_iso))
        return
    zone = ZoneInfo(core.routing.engineers_tz)
    flat: list[dict[str, Any]] = []
    for r in rows:
        cells = {
            c["clock"]: c["state"] if c["remaining"] is None else
            f"{c['state']} {format_duration(timedelta(seconds=c['remaining']))}"
            for c in r["clocks"]
        }
        nxt = r["next"]
        flat.append({
            **r, **cells,
            "next reminder": f"{nxt['clock']} {nxt['threshold']} {local_when(nxt['at'], zone)}"
            if nxt else "—",
        })
    emit(flat, False, ["number", "customer", "severity", "status", "assignee", "response",
                       "workaround", "resolution", "next reminder"])


@sla_app.command("replay")
def sla_replay(
    number: Annotated[int, typer.Argument(help="Ticket number")],
    as_json: JsonOpt = False,
) -> None:
    """A ticket's clock timeline: runs, pauses, thresholds, breaches and what was sent."""
    pol = db_policy()
    now = now_utc()
    zone = ZoneInfo(settings().engineers_tz)
    core = _core()
    with session() as s:
        try:
            ticket = tickets.get_ticket(s, number)
        except tickets.TicketNotFound:
            fail(f"no ticket #{number}")
        entries: list[dict[str, Any]] = []
        for ev in tickets.events(s, number):
            entries.append({"at": ev.at, "what": ev.kind, "detail": ev.text})
        for p in tickets.pauses(s, number):
            entries.append({"at": p.started_at, "what": "pause", "detail": p.reason or p.kind})
            if p.ended_at:
                entries.append({"at": p.ended_at, "what": "resume", "detail": p.reason or p.kind})
        for kind, at in (("response met", ticket.responded_at),
                         ("workaround given", ticket.workaround_at),
                         ("resolved", ticket.resolved_at)):
            if at:
                entries.append({"at": at, "what": "clock stop", "detail": kind})
        if tickets.has_clock(ticket):
            customer = s.get(Customer, ticket.customer_id)
            customer_closed = customer.closed_dates if customer else None
            clocks = core.clocks(ticket, customer_closed,
                                 [(p.started_at, p.ended_at) for p in tickets.pauses(s, number)])
            stops = clocks.stops or {}
            # Plan as if no clock had stopped, then keep what came before each stop.
            for th in plan_reminders(pol, replace(clocks, stops=None), None):
                stop = stops.get(th.kind)
                if stop is not None and th.at > stop:
                    continue
                what = "breach" if th.breach else "threshold"
                state = "passed" if th.at <= now else "planned"
                entries.append({"at": th.at, "what": what,
                                "detail": f"{th.kind.value} {th.label} ({state})"})
        for m in outbox.for_ticket(s, number):
            entries.append({
                "at": m.sent_at or m.created_at, "what": f"message {m.status}",
                "detail": f"{m.channel}:{m.target}{' late' if m.late else ''}: "
                          f"{m.text.splitlines()[0][:80]}",
            })
    entries.sort(key=lambda e: e["at"])
    if as_json:
        typer.echo(json.dumps(entries, ensure_ascii=False, indent=2, default=_iso))
        return
    typer.echo(f"ticket #{number} ({ticket.severity} {ticket.plan}, {ticket.status}); "
               f"times in {zone.key}")
    for e in entries:
        typer.echo(f"{_when(e['at'], zone)}  {e['what']:<16} {e['detail']}")


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)
