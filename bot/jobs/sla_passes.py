"""The SLA scheduler's passes: plan thresholds, find the due ones, write their messages once.

Planning is pure (:mod:`sla.reminders`); what a passed threshold says to whom is the domain's
(:mod:`handlers.sla_notices`, :mod:`handlers.paging`). What stays here is the mechanics of a
pass, kept apart from the APScheduler wiring (:mod:`bot.jobs.scheduler`) because they are about
doing it fast and once, not about who is told: one ticket after a change, the due ones in a
sweep, all of them in a reconciliation (bulk, column-wise reads: a few queries for 100 000
tickets), the outbox's keys as the record of what was already sent, a cache of what a pass
reads, one batched write. Every entry point takes ``now`` and runs in its own transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from handlers.paging import OPEN_TRIGGER, Pager
from handlers.sla_notices import Passed, ThresholdNotices, queue_digest, time_left
from handlers.types import Routing
from sla import BusinessCalendar, ClockKind, Policy, TicketClocks, evaluate_clocks
from sla.reminders import Threshold, next_threshold, plan_reminders, threshold_id
from storage import oncall, outbox, tickets
from storage.clock import frozen
from storage.db import session_scope
from storage.directory import calendar_of
from storage.models import (
    Contact,
    Customer,
    OutboxMessage,
    Page,
    ProcessedDelivery,
    Role,
    Ticket,
    TicketKind,
    TicketPause,
)

OPEN_STATUSES = ("open", "pending")
MISSED_OPENING_WINDOW = timedelta(hours=12)  # reports a start-up still pages for (a night)

threshold_prefix = threshold_id  # outbox keys of a threshold start with its identity


def _prefix_of(key: str) -> str:
    return ":".join(key.split(":", 4)[:4])


# -- the synchronous core: every entry point takes ``now`` ------------------------------------


@dataclass
class Outcome:
    tickets: int = 0
    enqueued: int = 0
    late: int = 0
    next: dict[int, datetime] = field(default_factory=dict)
    paged: bool = False  # pages started or moved: the page job needs re-arming
    page_next: datetime | None = None


@dataclass(frozen=True, slots=True)
class _Row:
    """The planning inputs of a ticket, loaded column-wise for bulk passes."""

    id: int
    customer_id: int
    plan: str
    severity: str
    family: str | None
    calendar: str
    tz: str | None
    hours: str | None
    reported_at: datetime
    responded_at: datetime | None
    workaround_at: datetime | None
    resolved_at: datetime | None


_ROW_COLUMNS = (
    Ticket.id, Ticket.customer_id, Ticket.plan, Ticket.severity, Ticket.family, Ticket.calendar,
    Ticket.tz, Ticket.hours, Ticket.reported_at, Ticket.responded_at, Ticket.workaround_at,
    Ticket.resolved_at,
)


class SlaCore:
    """Plans thresholds and finds the due ones, in passes over one ticket, some or all; what
    each passed threshold says to whom is :class:`~handlers.sla_notices.ThresholdNotices`'.
    Pure of time: ``now`` is always passed."""

    def __init__(self, engine: Engine, policy: Policy, routing: Routing) -> None:
        self.engine = engine
        self.policy = policy
        self.routing = routing
        self._calendars: dict[tuple[str, str | None, str | None, str | None],
                              BusinessCalendar] = {}
        self.pager = Pager(policy, routing, self._calendar)
        self.notices = ThresholdNotices(policy, routing, self.pager)

    # -- planning ----------------------------------------------------------------------------

    def _calendar(self, row: _Row | Ticket, closed: str | None) -> BusinessCalendar:
        key = (row.calendar, row.tz, row.hours, closed)
        cal = self._calendars.get(key)
        if cal is None:
            cal = calendar_of(row.calendar, row.tz, row.hours, closed)
            self._calendars[key] = cal
        return cal

    def clocks(self, row: _Row | Ticket, closed: str | None,
               pauses: Iterable[tuple[datetime, datetime | None]]) -> TicketClocks:
        return TicketClocks(
            plan=row.plan, severity=row.severity, family=row.family,
            calendar=self._calendar(row, closed), start=row.reported_at, pauses=tuple(pauses),
            stops={
                ClockKind.RESPONSE: row.responded_at,
                ClockKind.WORKAROUND: row.workaround_at or row.resolved_at,
                ClockKind.RESOLUTION: row.resolved_at,
            },
        )

    def plan_ticket(self, session: Session, ticket: Ticket, now: datetime) -> list[Threshold]:
        """All thresholds of a ticket's running clocks (none when closed or without SLA)."""
        clocks = self._ticket_clocks(session, ticket)
        return [] if clocks is None else plan_reminders(self.policy, clocks, now)

    def _ticket_clocks(self, session: Session, ticket: Ticket) -> TicketClocks | None:
        if ticket.status not in OPEN_STATUSES or ticket.kind == TicketKind.SERVICE_REQUEST:
            return None
        customer = session.get(Customer, ticket.customer_id)
        pauses = [(p.started_at, p.ended_at) for p in tickets.pauses(session, ticket.id or 0)]
        return self.clocks(ticket, customer.closed_dates if customer else None, pauses)

    # -- one ticket ----------------------------------------------------------------------------

    def process_ticket(self, ticket_id: int, now: datetime) -> Outcome:
        """Enqueue every due, not yet handled threshold of one ticket; report its next one."""
        return self.process_ids([ticket_id], now)

    def process_ids(self, ids: Iterable[int], now: datetime) -> Outcome:
        out = Outcome()
        with session_scope(self.engine, frozen(now)) as s:
            cache = _PassCache(s)
            for tid in ids:
                ticket = s.get(Ticket, tid)
                if ticket is None:
                    continue
                clocks = self._ticket_clocks(s, ticket)
                plan = [] if clocks is None else plan_reminders(self.policy, clocks, now)
                done = {_prefix_of(k) for k in outbox.keys_for_tickets(s, [tid])}
                self._handle(s, ticket, plan, clocks, now, done, out, cache)
                if self.pager.on_open(s, ticket, now) is not None:
                    cache.paged = True
            self._flush(s, cache, out)
            if out.paged:
                out.page_next = oncall.next_page_at(s)
        return out

    def advance_pages(self, now: datetime) -> Outcome:
        """Send every due step of the on-call pages; report when the next one is due."""
        out = Outcome()
        with session_scope(self.engine, frozen(now)) as s:
            out.tickets = self.pager.advance(s, now)
            s.flush()
            out.paged = True
            out.page_next = oncall.next_page_at(s)
        return out

    def _flush(self, s: Session, cache: _PassCache, out: Outcome) -> None:
        out.paged = out.paged or cache.paged
        rows = list({r["key"]: r for r in cache.messages}.values())
        cache.messages = []
        if rows:
            queued = outbox.enqueue_many(s, rows)
            out.enqueued += queued
            late = sum(1 for r in rows if r["late"])
            out.late += late if queued == len(rows) else min(late, queued)

    def _handle(self, s: Session, ticket: Ticket, plan: list[Threshold],
                clocks: TicketClocks | None, now: datetime, done: set[str], out: Outcome,
                cache: _PassCache) -> None:
        out.tickets += 1
        for th in plan:
            if th.at > now:
                break
            prefix = threshold_prefix(ticket.id or 0, th)
            if prefix in done:
                continue
            late = (now - th.at).total_seconds() > self.policy.late_after_seconds
            passed = Passed(ticket, th, prefix, time_left(self.policy, clocks, th, now), now,
                            late)
            rows, paged = self.notices.passed(s, passed, cache)
            cache.messages += rows
            cache.paged = cache.paged or paged
            done.add(prefix)
        nxt = next_threshold(plan, now)
        if nxt is not None:
            out.next[ticket.id or 0] = nxt.at

    # -- all tickets ---------------------------------------------------------------------------

    def _open_rows(self, s: Session) -> list[_Row]:
        rows = s.exec(
            select(*_ROW_COLUMNS)  # type: ignore[call-overload]
            .where(col(Ticket.status).in_(OPEN_STATUSES),
                   Ticket.kind != TicketKind.SERVICE_REQUEST)
            .order_by(col(Ticket.id))
        )
        return [_Row(*r) for r in rows]

    def reconcile(self, now: datetime) -> Outcome:
        """Plan every open ticket; send (once, marked late) what passed while we were down.

        Bulk reads (tickets column-wise, all pauses, all sent keys) keep it to a few queries;
        only tickets with an unhandled due threshold are loaded whole and written.
        """
        out = Outcome()
        with session_scope(self.engine, frozen(now)) as s:
            rows = self._open_rows(s)
            closed = {c.id: c.closed_dates for c in s.exec(select(Customer))}
            by_ticket: dict[int, list[tuple[datetime, datetime | None]]] = {}
            open_ids = {r.id for r in rows}
            for tp in s.exec(select(TicketPause.ticket_id, TicketPause.started_at,
                                    TicketPause.ended_at)):
                if tp[0] in open_ids:
                    by_ticket.setdefault(tp[0], []).append((tp[1], tp[2]))
            done = {_prefix_of(k) for k in s.exec(
                select(OutboxMessage.key).where(col(OutboxMessage.key).startswith("t")))}
            cache = _PassCache(s, bulk=True)
            pending: list[tuple[int, list[Threshold], TicketClocks]] = []
            for row in rows:
                clocks = self.clocks(row, closed.get(row.customer_id), by_ticket.get(row.id, ()))
                plan = plan_reminders(self.policy, clocks, now)
                out.tickets += 1
                if any(th.at <= now and threshold_prefix(row.id, th) not in done
                       for th in plan):
                    pending.append((row.id, plan, clocks))
                nxt = next_threshold(plan, now)
                if nxt is not None:
                    out.next[row.id] = nxt.at
            for i in range(0, len(pending), 500):
                chunk = pending[i:i + 500]
                loaded = {tk.id: tk for tk in s.exec(
                    select(Ticket).where(col(Ticket.id).in_([tid for tid, _p, _c in chunk])))}
                for tid, plan, clocks in chunk:
                    self._handle(s, loaded[tid], plan, clocks, now, done, Outcome(), cache)
                self._flush(s, cache, out)
            self._page_missed_openings(s, rows, closed, now, cache)
            self._flush(s, cache, out)
            out.page_next = oncall.next_page_at(s)
            out.paged = True  # the page job is re-armed from the database after a reconcile
        return out

    def _page_missed_openings(self, s: Session, rows: list[_Row],
                              closed: dict[int | None, str | None], now: datetime,
                              cache: _PassCache) -> None:
        """Tickets reported out of hours while no scheduler ran: page them now (once).

        Only reports of the last night (``MISSED_OPENING_WINDOW``) and only when it is still
        out of hours for them; everything is decided on the loaded rows before any query."""
        since = now - MISSED_OPENING_WINDOW
        candidates = []
        for r in rows:
            if r.responded_at is not None or r.reported_at < since or \
                    not self.policy.pages(r.plan, r.severity, r.family, ClockKind.RESPONSE):
                continue
            timeline = self._calendar(r, closed.get(r.customer_id)).timeline()
            if not timeline.is_open(r.reported_at.timestamp()) and \
                    not timeline.is_open(now.timestamp()):
                candidates.append(r)
        if not candidates:
            return
        paged = set(s.exec(select(Page.ticket_id).where(
            col(Page.ticket_id).in_([r.id for r in candidates]),
            Page.trigger == OPEN_TRIGGER)))
        for r in candidates:
            ticket = s.get(Ticket, r.id)
            if r.id not in paged and ticket is not None and \
                    self.pager.on_open(s, ticket, now) is not None:
                cache.paged = True

    def digest(self, now: datetime) -> int:
        """The 08:00 digest to the engineers' channels: open tickets by remaining time."""
        with session_scope(self.engine, frozen(now)) as s:
            return queue_digest(s, self.routing, self.status(now, s), now)

    def status(self, now: datetime, s: Session | None = None) -> list[dict[str, Any]]:
        """Every open ticket's clocks, remaining time and next threshold (CLI, digest)."""
        if s is None:
            with session_scope(self.engine, frozen(now)) as s2:
                return self.status(now, s2)
        contacts = {c.id: c for c in s.exec(select(Contact))}
        customers = {c.id: c for c in s.exec(select(Customer))}
        rows = []
        for ticket in tickets.list_tickets(s, open_only=True):
            plan = self.plan_ticket(s, ticket, now)
            nxt = next_threshold(plan, now)
            states = [] if ticket.kind == TicketKind.SERVICE_REQUEST else evaluate_clocks(
                self.policy,
                self.clocks(ticket, customers[ticket.customer_id].closed_dates,
                            [(p.started_at, p.ended_at)
                             for p in tickets.pauses(s, ticket.id or 0)]),
                now)
            assignee = contacts.get(ticket.assignee_id) if ticket.assignee_id else None
            rows.append({
                "number": ticket.id, "customer": customers[ticket.customer_id].code,
                "severity": ticket.severity, "status": ticket.status, "tier": ticket.tier,
                "assignee": assignee.name if assignee else None,
                "clocks": [{
                    "clock": st.kind.value, "target": st.target.label(), "state": st.status.value,
                    "running": st.stopped_at is None and st.status.value != "no-target",
                    "deadline": st.deadline, "remaining": st.remaining.total_seconds()
                    if st.remaining is not None else None,
                } for st in states],
                "next": {"clock": nxt.kind.value, "threshold": nxt.label, "at": nxt.at}
                if nxt else None,
            })
        return rows


class _PassCache:
    """Customers, contacts and managers read once per pass; messages collected for one write."""

    def __init__(self, s: Session, bulk: bool = False) -> None:
        self.s = s
        self.bulk = bulk
        self.messages: list[dict[str, Any]] = []
        self.paged = False
        self._customers: dict[int, Customer | None] = {}
        self._contacts: dict[int, Contact | None] = {}
        self._managers: list[Contact] | None = None
        self._markers: set[str] | None = None

    def customer(self, cid: int) -> Customer | None:
        if cid not in self._customers:
            self._customers[cid] = self.s.get(Customer, cid)
        return self._customers[cid]

    def contact(self, cid: int) -> Contact | None:
        if cid not in self._contacts:
            self._contacts[cid] = self.s.get(Contact, cid)
        return self._contacts[cid]

    def first_time(self, key: str) -> bool:
        """Record a one-off side effect (breach event, tier raise) under a unique key."""
        if self._markers is None:  # a bulk pass reads them all at once, a sweep one by one
            self._markers = set(self.s.exec(select(ProcessedDelivery.key).where(
                col(ProcessedDelivery.key).startswith("sla-")))) if self.bulk else set()
        if key in self._markers or (
            not self.bulk and self.s.get(ProcessedDelivery, key) is not None
        ):
            return False
        self._markers.add(key)
        self.s.add(ProcessedDelivery(key=key))
        return True

    def managers(self) -> list[Contact]:
        if self._managers is None:
            self._managers = list(self.s.exec(select(Contact).where(
                Contact.role == Role.MANAGER, col(Contact.active).is_(True))))
        return self._managers
