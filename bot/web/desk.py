"""What the desk lists: tickets found by number, customer, contact or text, filtered by status,
severity, assignee and a date range, each with its product, version, age, assignee, tier and
clocks; and the on-call panel (who holds each layer now, pages in progress and who took them).

Every time is written in the viewer's zone (:func:`viewer_zone`), which the page names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import exists, func, or_
from sqlmodel import Session, col, select

from sla import Policy
from sla.attainment import local
from storage import oncall as oncall_store
from storage import tickets as ticket_store
from storage.directory import find_contact
from storage.models import Contact, Customer, Ticket, TicketEvent
from storage.models.oncall import Page

from .data import clock_rows

STATUSES = ("active", "open", "pending", "resolved", "closed", "all")
ACTIVE = ("open", "pending")
LIMIT = 300  # rows on one page: a search narrows it further
TZ_COOKIE = "destek_tz"


def viewer_zone(raw: str | None, default: str) -> str:
    """The IANA zone the viewer asked for (their browser's, from the cookie), else ``default``
    (DESTEK_ENGINEERS_TZ); an unknown or odd name is ignored."""
    raw = unquote(raw) if raw else raw  # a script may have %-encoded the slash
    if raw and len(raw) <= 64 and all(ch.isalnum() or ch in "/_-+" for ch in raw):
        try:
            ZoneInfo(raw)
            return raw
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return default


def zone_label(tz: str, at: datetime) -> str:
    """``Europe/Istanbul (+03)``: the zone by name and its abbreviation at ``at``."""
    abbr = at.astimezone(ZoneInfo(tz)).tzname() or ""
    return f"{tz} ({abbr})" if abbr and abbr != tz else tz


@dataclass(frozen=True)
class Filters:
    """The desk's search: each value already cut to a sane length, NULs replaced."""

    q: str | None = None
    status: str = "active"
    customer: str | None = None
    severity: str | None = None
    assignee: str | None = None
    since: date | None = None
    until: date | None = None
    error: str | None = None  # a date that could not be read: said on the page

    @classmethod
    def from_query(cls, query: Any) -> Filters:
        """The filters of a request's query string (unknown statuses mean ``active``)."""
        def get(k: str) -> str | None:
            # A NUL cannot reach PostgreSQL: replaced, so such a filter simply matches nothing.
            return (query.get(k) or "").replace("\x00", "\ufffd")[:200].strip() or None

        status = get("status") or "active"
        errors, days = [], {}
        for k in ("from", "to"):
            raw = get(k)
            try:
                days[k] = date.fromisoformat(raw) if raw else None
            except ValueError:
                errors.append(f"{k} {raw!r} is not a date (YYYY-MM-DD)")
                days[k] = None
        return cls(get("q"), status if status in STATUSES else "active", get("customer"),
                   get("severity"), get("assignee"), days["from"], days["to"],
                   "; ".join(errors) or None)

    def as_dict(self) -> dict[str, str | None]:
        """The values for the form (dates as ISO text)."""
        return {"q": self.q, "status": self.status, "customer": self.customer,
                "severity": self.severity, "assignee": self.assignee,
                "from": self.since.isoformat() if self.since else None,
                "to": self.until.isoformat() if self.until else None}


def _age(delta: timedelta) -> str:
    secs = max(0, int(delta.total_seconds()))
    d, rem = divmod(secs, 86400)
    h, m = rem // 3600, rem % 3600 // 60
    return f"{d}d {h}h" if d else f"{h}h {m:02d}m" if h else f"{m}m"


def _ticket_number(q: str) -> int | None:
    return ticket_store.parse_ticket_number(q[1:] if q.startswith("#") else q)


def find_tickets(session: Session, f: Filters, tz: str) -> list[Ticket] | None:
    """The tickets the filters match (newest first, at most :data:`LIMIT`); None when a named
    customer or assignee does not exist."""
    query = select(Ticket)
    if f.status == "active":
        query = query.where(col(Ticket.status).in_(ACTIVE))
    elif f.status != "all":
        query = query.where(Ticket.status == f.status)
    if f.customer:
        cust = session.exec(select(Customer).where(Customer.code == f.customer)).first()
        if cust is None:
            return None
        query = query.where(Ticket.customer_id == cust.id)
    if f.severity:
        query = query.where(Ticket.severity == f.severity)
    if f.assignee:
        who = find_contact(session, f.assignee)
        if who is None:
            return None
        query = query.where(Ticket.assignee_id == who.id)
    zone = ZoneInfo(tz)
    if f.since:  # whole days of the viewer's calendar
        query = query.where(col(Ticket.reported_at) >= datetime.combine(f.since, time(), zone))
    if f.until:
        query = query.where(col(Ticket.reported_at) < datetime.combine(
            f.until + timedelta(days=1), time(), zone))
    if f.q:
        number = _ticket_number(f.q)
        needle = f.q.lower()

        def has(column: Any) -> Any:
            return func.lower(column).contains(needle, autoescape=True)

        said = exists().where(col(TicketEvent.ticket_id) == col(Ticket.id), has(TicketEvent.text))
        by_customer = select(Customer.id).where(or_(has(Customer.code), has(Customer.name)))
        by_contact = select(Contact.id).where(or_(has(Contact.name), has(Contact.email)))
        match = or_(has(Ticket.summary), has(Ticket.description), said,
                    col(Ticket.customer_id).in_(by_customer),
                    col(Ticket.contact_id).in_(by_contact))
        query = query.where(or_(col(Ticket.id) == number, match) if number is not None else match)
    return list(session.exec(query.order_by(col(Ticket.id).desc()).limit(LIMIT)))


def desk_rows(session: Session, policy: Policy, now: datetime, f: Filters, tz: str,
              horizon: float = 30) -> list[dict[str, Any]]:
    """The desk's rows: one dict per ticket (the page's table and ``/api/tickets`` alike),
    the most urgent first; closed and resolved ones after, newest first."""
    found = find_tickets(session, f, tz)
    if not found:
        return []
    rows: list[dict[str, Any]] = []
    for t in found:
        if f.severity and t.severity != f.severity:
            continue
        view = ticket_store.view(session, policy, t, now)
        clocks = clock_rows(session, policy, view, now, horizon, tz)
        running = [c["remaining"] for c in clocks
                   if c["remaining"] is not None and c["status"] not in ("met", "no-target")]
        contact = session.get(Contact, t.contact_id)
        ended = t.closed_at or t.resolved_at if t.status in ("resolved", "closed") else None
        rows.append({
            "number": t.id, "customer": view.customer.code, "severity": t.severity,
            "status": t.status, "summary": t.summary,
            "assignee": view.assignee.name if view.assignee else None,
            "contact": contact.name if contact else None,
            "product": view.product.name if view.product else None,
            "version": t.version_text or None, "tier": t.tier,
            "reported": local(t.reported_at, tz), "age": _age((ended or now) - t.reported_at),
            "clocks": clocks,
            "urgency": min(running) if running and t.status in ACTIVE else 10**9,
        })
    # Urgent first; the rest (nothing running) newest first.
    rows.sort(key=lambda r: (int(r["urgency"]), int(r["number"]) if r["urgency"] < 10**9
                             else -int(r["number"])))
    return rows


def oncall_panel(session: Session, now: datetime, tz: str) -> dict[str, Any]:
    """Who holds each layer now (until when, from which rotation or override), and the pages
    in progress or recently taken, with who took them."""
    layers = []
    for layer, held in oncall_store.who(session, now).items():
        if held is None:
            layers.append({"layer": layer, "name": None, "until": None, "source": None})
        else:
            shift, contact = held
            layers.append({"layer": layer, "name": contact.name, "source": shift.source,
                           "until": local(shift.end, tz) if shift.end else None})
    since = now - timedelta(days=1)
    pages = session.exec(select(Page).where(or_(
        col(Page.status) == "active", col(Page.ended_at) >= since)).order_by(
        col(Page.started_at).desc()).limit(20)).all()
    out = []
    for p in pages:
        taker = session.get(Contact, p.acked_by_id) if p.acked_by_id else None
        out.append({"ticket": p.ticket_id, "trigger": p.trigger, "status": p.status,
                    "step": p.step, "started": local(p.started_at, tz),
                    "next": local(p.next_at, tz) if p.next_at and p.status == "active"
                    else None,
                    "ended": local(p.ended_at, tz) if p.ended_at else None,
                    "taken_by": taker.name if taker else None})
    return {"layers": layers, "pages": out}
