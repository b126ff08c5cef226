"""Tickets, their pauses and their audit trail; SLA clocks evaluated from stored facts."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from sla import (
    BusinessCalendar,
    ClockKind,
    ClockState,
    Policy,
    TicketClocks,
    evaluate_clocks,
)

from .directory import calendar_of
from .models import Contact, Customer, Product, Ticket, TicketEvent, TicketKind, TicketPause


class TicketNotFound(LookupError):
    pass



# Ticket numbers as people type them: ASCII digits only (``"²".isdigit()`` is True, and
# ``int("٣")`` is 3), within the id column's range (PostgreSQL INTEGER).
MAX_TICKET_NUMBER = 2**31 - 1

# The pause kind of P13: a ticket reported without remote access waits for it; only the
# access details end it (handlers.conversation).
REMOTE_ACCESS_PAUSE = "remote-access"

# The ticket's conversation, as audit event kinds. Public: what the customer wrote (their
# answer to a question, a follow-up, the access details) and an engineer's reply sent to
# them; internal: an engineer's note, never shown to the customer.
CUSTOMER_ANSWER = "customer-reply"  # the answer to a waiting-for-information question (P17)
CUSTOMER_FOLLOW_UP = "follow-up"  # the customer wrote again on an open ticket
PUBLIC_REPLY = "reply"  # an engineer's words sent to the customer (P21)
INTERNAL_NOTE = "note"  # an engineer's note, staff only
PUBLIC_KINDS: frozenset[str] = frozenset({CUSTOMER_ANSWER, CUSTOMER_FOLLOW_UP, PUBLIC_REPLY})
CONVERSATION_KINDS: frozenset[str] = PUBLIC_KINDS | {INTERNAL_NOTE}


def parse_ticket_number(text: str) -> int | None:
    """``"12"`` or ``"#12"`` as a ticket number; None for anything else or out of range."""
    raw = text.strip().lstrip("#")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10:
        return None
    number = int(raw)
    return number if 0 < number <= MAX_TICKET_NUMBER else None

def add_event(
    session: Session,
    ticket: Ticket,
    kind: str,
    text: str = "",
    actor: Contact | None = None,
    at: datetime | None = None,
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    """Append to the ticket's audit trail (flushed now, so it lands before anyone is told)."""
    event = TicketEvent(
        ticket_id=ticket.id,  # type: ignore[arg-type]
        kind=kind,
        text=text,
        actor_id=actor.id if actor else None,
        actor=actor.name if actor else "system",
        data=json.dumps(data, ensure_ascii=False, default=str) if data else None,
    )
    if at is not None:
        event.at = at
    session.add(event)
    session.flush()
    return event


def events(session: Session, ticket_id: int) -> list[TicketEvent]:
    return list(
        session.exec(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket_id)
            .order_by(col(TicketEvent.at), col(TicketEvent.id))
        )
    )


# Statements run for most commands are built once, with bound parameters: building a select
# costs more than running it on SQLite (benchmarks/bench_slack.py).
@functools.cache
def _pauses_statement() -> Any:
    return (select(TicketPause).where(TicketPause.ticket_id == bindparam("ticket_id"))
            .order_by(col(TicketPause.started_at)))


def pauses(session: Session, ticket_id: int) -> list[TicketPause]:
    """The ticket's pauses, oldest first."""
    return list(session.exec(_pauses_statement(), params={"ticket_id": ticket_id}))


def open_pause(session: Session, ticket_id: int) -> TicketPause | None:
    return session.exec(
        select(TicketPause).where(
            TicketPause.ticket_id == ticket_id, col(TicketPause.ended_at).is_(None)
        )
    ).first()


def get_ticket(session: Session, number: int) -> Ticket:
    if not 0 < number <= MAX_TICKET_NUMBER:  # the driver would overflow, not say "none"
        raise TicketNotFound(number)
    ticket = session.get(Ticket, number)
    if ticket is None:
        raise TicketNotFound(number)
    return ticket


def has_clock(ticket: Ticket) -> bool:
    """Service requests (P10, P11) run no SLA clock."""
    return ticket.kind != TicketKind.SERVICE_REQUEST


def ticket_calendar(session: Session, ticket: Ticket) -> BusinessCalendar:
    """The calendar snapshotted on the ticket, with the customer's current extra closed dates."""
    customer = session.get(Customer, ticket.customer_id)
    assert customer is not None
    return calendar_of(ticket.calendar, ticket.tz, ticket.hours, customer.closed_dates)


def ticket_clocks(session: Session, ticket: Ticket) -> TicketClocks:
    """The pure inputs of a ticket's clocks, read from the database."""
    return _clocks(ticket, ticket_calendar(session, ticket), pauses(session, ticket.id or 0))


def _clocks(ticket: Ticket, calendar: BusinessCalendar,
            recorded: Iterable[TicketPause]) -> TicketClocks:
    stops: dict[ClockKind, datetime | None] = {
        ClockKind.RESPONSE: ticket.responded_at,
        ClockKind.WORKAROUND: ticket.workaround_at or ticket.resolved_at,
        ClockKind.RESOLUTION: ticket.resolved_at,
    }
    return TicketClocks(
        plan=ticket.plan,
        severity=ticket.severity,
        family=ticket.family,
        calendar=calendar,
        start=ticket.reported_at,
        pauses=tuple((p.started_at, p.ended_at) for p in recorded),
        stops=stops,
    )


def clock_states(
    session: Session, policy: Policy, ticket: Ticket, now: datetime
) -> list[ClockState]:
    """Each clock of the ticket at ``now``; empty for a service request."""
    if not has_clock(ticket):
        return []
    return evaluate_clocks(policy, ticket_clocks(session, ticket), now)


def clock_states_many(
    session: Session, policy: Policy, found: Sequence[Ticket], now: datetime
) -> dict[int, list[ClockState]]:
    """:func:`clock_states` of many tickets, with their pauses and customers read in one
    query each (a ``list`` of hundreds of tickets is a few queries, not hundreds)."""
    ids = [t.id for t in found if t.id is not None]
    recorded: dict[int, list[TicketPause]] = {}
    customers: dict[int | None, Customer] = {}
    if ids:
        for p in session.exec(select(TicketPause).where(col(TicketPause.ticket_id).in_(ids))
                              .order_by(col(TicketPause.started_at))):
            recorded.setdefault(p.ticket_id, []).append(p)
        customers = {c.id: c for c in session.exec(select(Customer).where(
            col(Customer.id).in_({t.customer_id for t in found})))}
    out: dict[int, list[ClockState]] = {}
    for ticket in found:
        tid = ticket.id or 0
        if not has_clock(ticket):
            out[tid] = []
            continue
        customer = customers.get(ticket.customer_id)
        calendar = calendar_of(ticket.calendar, ticket.tz, ticket.hours,
                               customer.closed_dates if customer else None)
        out[tid] = evaluate_clocks(policy, _clocks(ticket, calendar, recorded.get(tid, ())), now)
    return out


def refresh_deadlines(session: Session, policy: Policy, ticket: Ticket, now: datetime) -> None:
    """Store the current deadlines on the ticket row (for listing and scheduling queries)."""
    states = {s.kind: s for s in clock_states(session, policy, ticket, now)}

    def due(kind: ClockKind) -> datetime | None:
        state = states.get(kind)
        if state is None or state.deadline is None or state.stopped_at is not None:
            return None
        return state.deadline

    ticket.response_due = due(ClockKind.RESPONSE)
    ticket.workaround_due = due(ClockKind.WORKAROUND)
    ticket.resolution_due = due(ClockKind.RESOLUTION)
    session.add(ticket)
    session.flush()


@dataclass(frozen=True)
class TicketView:
    """A ticket with its names resolved, as the CLI and handlers present it."""

    ticket: Ticket
    customer: Customer
    contact: Contact
    product: Product | None
    assignee: Contact | None
    clocks: list[ClockState]
    zone: ZoneInfo  # the customer's timezone: times are shown there
    pauses: list[TicketPause] = field(default_factory=list)  # read once, for the clocks

    def as_dict(self) -> dict[str, Any]:
        t = self.ticket
        local = t.reported_at.astimezone(self.zone)
        return {
            "number": t.id,
            "customer": self.customer.code,
            "contact": self.contact.name,
            "product": self.product.name if self.product else None,
            "version": t.version_text,
            "severity": t.severity,
            "kind": t.kind,
            "status": t.status,
            "tier": t.tier,
            "plan": t.plan,
            "assignee": self.assignee.name if self.assignee else None,
            "summary": t.summary,
            "reported_at": local.isoformat(),
            "targets": {
                s.kind.value: {
                    "target": s.target.label(),
                    "deadline": s.deadline.isoformat() if s.deadline else None,
                    "state": s.status.value,
                    "remaining_seconds": int(s.remaining.total_seconds())
                    if s.remaining is not None else None,
                    "elapsed_fraction": round(s.fraction, 4) if s.fraction is not None else None,
                }
                for s in self.clocks
            },
        }


@functools.cache
def _people_statement() -> Any:
    assignee = aliased(Contact)
    return (select(Customer, Contact, Product, assignee).select_from(Customer)
            .join(Contact, col(Contact.id) == bindparam("contact_id"))
            .outerjoin(Product, col(Product.id) == bindparam("product_id"))
            .outerjoin(assignee, col(assignee.id) == bindparam("assignee_id"))
            .where(Customer.id == bindparam("customer_id")))


def view(session: Session, policy: Policy, ticket: Ticket, now: datetime) -> TicketView:
    """The ticket with its customer, contact, product, assignee, pauses and clocks at
    ``now`` (the four rows in one round trip)."""
    customer, contact, product, assignee = session.exec(_people_statement(), params={
        "customer_id": ticket.customer_id, "contact_id": ticket.contact_id,
        "product_id": ticket.product_id, "assignee_id": ticket.assignee_id}).one()
    calendar = ticket_calendar(session, ticket)
    recorded = pauses(session, ticket.id or 0)
    clocks = (evaluate_clocks(policy, _clocks(ticket, calendar, recorded), now)
              if has_clock(ticket) else [])
    return TicketView(ticket, customer, contact, product, assignee, clocks, calendar.zone,
                      recorded)


def list_tickets(
    session: Session,
    customer_id: int | None = None,
    open_only: bool = False,
    assignee_id: int | None = None,
) -> list[Ticket]:
    query = select(Ticket).order_by(col(Ticket.id))
    if customer_id is not None:
        query = query.where(Ticket.customer_id == customer_id)
    if assignee_id is not None:
        query = query.where(Ticket.assignee_id == assignee_id)
    if open_only:
        query = query.where(col(Ticket.status).in_(["open", "pending"]))
    return list(session.exec(query))


def open_ticket(
    session: Session,
    policy: Policy,
    customer: Customer,
    contact: Contact,
    plan: str,
    summary: str,
    severity: str,
    reported_at: datetime,
    product: Product | None = None,
    **fields: Any,
) -> Ticket:
    """Create a ticket from a complete report; its clocks start at ``reported_at`` (P15).

    Snapshots the plan, family and calendar; a report without remote access opens with its
    clocks paused as waiting for remote access (P13). The ``opened`` event is written first.
    """
    ticket = Ticket(
        customer_id=customer.id,  # type: ignore[arg-type]
        contact_id=contact.id,  # type: ignore[arg-type]
        product_id=product.id if product else None,
        family=product.family if product else None,
        plan=plan,
        summary=summary,
        severity=severity,
        reported_at=reported_at,
        calendar=customer.calendar,
        tz=customer.tz,
        hours=customer.hours,
        language=contact.language or customer.language,
        **fields,
    )
    session.add(ticket)
    session.flush()
    add_event(session, ticket, "opened", summary, actor=contact, at=reported_at,
              data={"severity": severity, "plan": plan, "kind": ticket.kind})
    if not ticket.remote_access and has_clock(ticket):
        session.add(TicketPause(ticket_id=ticket.id, started_at=reported_at,  # type: ignore[arg-type]
                                reason="waiting for remote access", kind=REMOTE_ACCESS_PAUSE))
        ticket.status = "pending"
        add_event(session, ticket, "paused", "waiting for remote access (P13)", at=reported_at)
    refresh_deadlines(session, policy, ticket, reported_at)
    return ticket
