"""Queries behind the monthly SLA report: tickets of a month as pure facts, and AI usage.

The arithmetic lives in :mod:`sla.attainment`; here we only read rows and turn them into facts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from sla.attainment import ExceptionFact, Month, PauseFact, TicketFact, UsageFact, in_month

from .directory import customer_calendar, get_customer
from .models import AIUsage, Customer, Product, Ticket, TicketEvent
from .tickets import has_clock, pauses, ticket_clocks

# Timezones are at most 14 h from UTC: a day of margin on each side catches every ticket of a
# local month; the exact local-month filter is applied to the facts.
_MARGIN = timedelta(days=1)
# Written exceptions to the service levels (P18): the brief's kind and the one the engineers'
# ``exception`` command writes.
EXCEPTION_KINDS = ("exception", "sla-exception")


def _utc_window(month: Month) -> tuple[datetime, datetime]:
    start, end = month.bounds("UTC")
    return start - _MARGIN, end + _MARGIN


def month_ticket_facts(
    session: Session, month: Month, customer_code: str | None = None
) -> list[TicketFact]:
    """Facts of every ticket that may belong to ``month`` (one customer, or all)."""
    lo, hi = _utc_window(month)
    query = select(Ticket).where(
        col(Ticket.reported_at) >= lo, col(Ticket.reported_at) < hi
    ).order_by(col(Ticket.id))
    if customer_code:
        query = query.where(Ticket.customer_id == get_customer(session, customer_code).id)
    rows = list(session.exec(query))
    ids = [t.id for t in rows if t.id is not None]
    codes = {c.id: c.code for c in session.exec(select(Customer))}
    products = {p.id: p.name for p in session.exec(select(Product))}
    exceptions: dict[int, list[ExceptionFact]] = {}
    if ids:
        for e in session.exec(
            select(TicketEvent)
            .where(col(TicketEvent.ticket_id).in_(ids),
                   col(TicketEvent.kind).in_(EXCEPTION_KINDS))
            .order_by(col(TicketEvent.at), col(TicketEvent.id))
        ):
            exceptions.setdefault(e.ticket_id, []).append(
                ExceptionFact(e.ticket_id, e.at, e.actor, e.text)
            )
    facts = []
    for t in rows:
        tid = t.id or 0
        facts.append(TicketFact(
            id=tid,
            customer=codes.get(t.customer_id, "?"),
            summary=t.summary,
            severity=t.severity,
            family=t.family,
            product=products.get(t.product_id) if t.product_id else None,
            kind=t.kind,
            status=t.status,
            has_clock=has_clock(t),
            clocks=ticket_clocks(session, t),
            pauses=tuple(PauseFact(p.started_at, p.ended_at, p.reason, p.kind)
                         for p in pauses(session, tid)),
            exceptions=tuple(exceptions.get(tid, ())),
        ))
    return facts


def month_usage(
    session: Session, month: Month, customer_code: str | None = None
) -> list[UsageFact]:
    """OpenAI calls (P26) made for customers in ``month`` of each customer's local time."""
    lo, hi = _utc_window(month)
    query = select(AIUsage).where(
        col(AIUsage.at) >= lo, col(AIUsage.at) < hi, col(AIUsage.customer_id).is_not(None)
    ).order_by(col(AIUsage.at))
    if customer_code:
        query = query.where(AIUsage.customer_id == get_customer(session, customer_code).id)
    customers = {c.id: c for c in session.exec(select(Customer))}
    out = []
    for u in session.exec(query):
        customer = customers.get(u.customer_id)
        if customer is None:
            continue
        start, end = month.bounds(customer_calendar(customer).tz)
        if start <= u.at < end:
            out.append(UsageFact(customer.code, u.at, u.model, u.prompt_tokens,
                                 u.completion_tokens, u.outcome))
    return out


def customers_with_tickets(session: Session, month: Month) -> list[str]:
    """Codes of customers with at least one ticket reported in ``month`` (their local time)."""
    return sorted({f.customer for f in month_ticket_facts(session, month) if in_month(f, month)})
