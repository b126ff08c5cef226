"""``destek ticket list|show``."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated

import typer

from handlers import ticket_report
from handlers.ticket_report_text import body_lines
from sla.ticket_clocks import format_duration
from storage import directory, tickets

from .common import JsonOpt, db_policy, emit, fail, now_utc, session, ticket_app

# -- tickets ---------------------------------------------------------------------------------


@ticket_app.command("list")
def ticket_list(
    customer: Annotated[str | None, typer.Option(help="Only this customer")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only open tickets")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List tickets with each target's deadline and state."""
    pol = db_policy()
    now = now_utc()
    with session() as s:
        cid = directory.get_customer(s, customer).id if customer else None
        views = [tickets.view(s, pol, t, now) for t in tickets.list_tickets(s, cid, open_only)]
        rows = [v.as_dict() for v in views]
    if as_json:
        emit(rows, True, [])
        return
    flat = []
    for r in rows:
        targets = r["targets"]
        flat.append({
            **r,
            **{
                k: f"{v['state']} {format_duration(timedelta(seconds=v['remaining_seconds']))}"
                if v["remaining_seconds"] is not None else v["state"]
                for k, v in targets.items()
            },
        })
    emit(flat, False, ["number", "customer", "severity", "kind", "status", "summary", "response",
                       "workaround", "resolution"])


@ticket_app.command("show")
def ticket_show(number: int, as_json: JsonOpt = False) -> None:
    """Show one ticket's whole report: every field, its deadlines, attachments, the
    remote-access instructions, pauses, the conversation (public/internal) and the audit trail.
    Times are in the ticket's zone (the customer's), which the output names."""
    pol = db_policy()
    now = now_utc()
    with session() as s:
        try:
            t = tickets.get_ticket(s, number)
        except tickets.TicketNotFound:
            fail(f"no ticket #{number}")
        view = tickets.view(s, pol, t, now)
        row = view.as_dict()
        report = ticket_report.build(s, pol, t, now, view)
    if as_json:
        # The report's keys are added after the ticket view's (which scripts already read).
        typer.echo(json.dumps({**row, **report.as_dict()}, ensure_ascii=False, indent=2,
                              default=str))
        return
    for key, value in row.items():
        if key != "targets":
            typer.echo(f"{key:>12}: {value}")
    for c in report.clocks:  # deadlines in the ticket's zone, named
        due = report.when(c.deadline) if c.deadline else "—"
        typer.echo(f"{c.kind.value:>12}: {c.target.label()}, due {due}, {c.status.value}")
    # The rest of the report, whole (a terminal has no message limit); what the lines above
    # already said is not repeated.
    for line in body_lines(report, "en", None, skip=_IN_HEADER):
        typer.echo(line)


_IN_HEADER = ("summary", "kind", "product", "version", "severity", "tier", "plan", "contact",
              "reported_at")
