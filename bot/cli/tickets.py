"""``destek ticket list|show``."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated

import typer

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
    """Show one ticket with its deadlines."""
    pol = db_policy()
    with session() as s:
        try:
            t = tickets.get_ticket(s, number)
        except tickets.TicketNotFound:
            fail(f"no ticket #{number}")
        row = tickets.view(s, pol, t, now_utc()).as_dict()
    if as_json:
        typer.echo(json.dumps(row, ensure_ascii=False, indent=2))
        return
    for key, value in row.items():
        if key != "targets":
            typer.echo(f"{key:>12}: {value}")
    for kind, v in row["targets"].items():
        typer.echo(f"{kind:>12}: {v['target']}, due {v['deadline'] or '—'}, {v['state']}")
