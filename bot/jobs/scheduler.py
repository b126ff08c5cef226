"""SLA scheduler: countdown reminders, breach alerts, escalations and the daily digest.

Design (see the report / README): the durable truth is the database — tickets, pauses and the
outbox, whose unique keys make every notification happen once. Planning is pure
(:mod:`sla.reminders`). APScheduler (AsyncIOScheduler, SQLAlchemyJobStore on DATABASE_URL)
holds only a few jobs: ONE ``sla-sweep`` job armed at the earliest pending threshold of all
tickets, the 08:00 ``sla-digest`` cron job and a periodic ``sla-reconcile`` backstop. An
in-memory heap keeps each ticket's next threshold; it is rebuilt from the database by the
start-up reconciliation, which also sends (once, marked late) what passed while we were down.
One job per threshold (100 000 tickets × 3 clocks × 4 points) would mean 1.2 M pickled rows
rewritten on every change; one job per ticket still 100 000 rows: the sweep keeps the job store
tiny and restart cost proportional to the tickets, not to the jobs.

Job functions only enqueue: the delivery worker (:mod:`bot.jobs.delivery`) talks to the channels,
so a channel that is down delays messages, never the clock logic. Nothing here calls OpenAI
(P27): an AI outage cannot hold up, or count against, a clock.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.orm import object_session
from sqlmodel import Session, col, select

from handlers.hooks import on_ticket_changed
from handlers.i18n import register, t
from handlers.notify import keys
from sla import BusinessCalendar, ClockKind, Policy, TicketClocks, evaluate_clocks, load_policy
from sla.reminders import (
    Threshold,
    escalations_at,
    next_threshold,
    plan_reminders,
    threshold_id,
)
from sla.ticket_clocks import format_duration
from storage import oncall, outbox, tickets
from storage.clock import Clock, frozen, system_clock
from storage.db import make_engine, session_scope
from storage.directory import calendar_of
from storage.identities import external_ids
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

from ..channels import registry
from ..channels.outbound import Sender
from .delivery import DeliveryWorker
from .paging import OPEN_TRIGGER, Pager
from .tasks import ServiceThreads

log = logging.getLogger(__name__)

OPEN_STATUSES = ("open", "pending")
SWEEP_JOB, DIGEST_JOB, RECONCILE_JOB = "sla-sweep", "sla-digest", "sla-reconcile"
# The manager's jobs (issue 7): last month's SLA report on the 1st, end-of-support notices daily.
MONTHLY_REPORT_JOB, EOS_NOTICES_JOB = "sla-monthly-report", "eos-notices"
PAGE_JOB = "oncall-page"  # the next step of the earliest on-call page (bot.jobs.paging)
MISSED_OPENING_WINDOW = timedelta(hours=12)  # reports a start-up still pages for (a night)

# Reminders and alerts are for engineers: DMs speak the contact's language, channel posts
# speak English (the shared working language of the engineers' and alert channels).
register({
    "sla.clock.response": {"en": "response", "tr": "yanıt"},
    "sla.clock.workaround": {"en": "workaround", "tr": "geçici çözüm"},
    "sla.clock.resolution": {"en": "resolution", "tr": "kalıcı çözüm"},
    "sla.unassigned": {"en": "unassigned", "tr": "atanmamış"},
    "sla.left.none": {"en": "no time", "tr": "hiç süre"},
    "sla.left.under_minute": {"en": "under a minute", "tr": "bir dakikadan az süre"},
    "sla.late": {
        "en": "[late] ",
        "tr": "[geç] ",
    },
    "sla.reminder": {
        "en": "⏳ #{number} {customer} {severity}: {percent} of the {clock} target ({target}) "
              "used, {remaining} left, due {due}. Assignee: {assignee}.",
        "tr": "⏳ #{number} {customer} {severity}: {clock} hedefinin ({target}) %{pct} kadarı "
              "doldu, {remaining} kaldı, son an {due}. Atanan: {assignee}.",
    },
    "sla.breach": {
        "en": "🚨 SLA breach: #{number} {customer} {severity} ({severity_name}): the {clock} "
              "target {target} ran out at {due}, {late_by} late. Assignee: {assignee}. "
              "{summary}",
        "tr": "🚨 SLA ihlali: #{number} {customer} {severity} ({severity_name}): {clock} "
              "hedefi {target} {due} itibarıyla doldu, {late_by} gecikme. Atanan: {assignee}. "
              "{summary}",
    },
    "sla.escalation": {
        "en": "⚠️ Escalation: #{number} {customer} {severity}: {percent} of the {clock} target "
              "({target}), due {due}. Assignee: {assignee}.{tier}",
        "tr": "⚠️ Eskalasyon: #{number} {customer} {severity}: {clock} hedefinin ({target}) "
              "%{pct} kadarı doldu, son an {due}. Atanan: {assignee}.{tier}",
    },
    "sla.tier": {"en": " Raised to tier {tier}.", "tr": " Seviye {tier} düzeyine yükseltildi."},
    "sla.digest.header": {
        "en": "☀️ Open tickets by remaining time, {day} ({count}):",
        "tr": "☀️ Kalan süreye göre açık kayıtlar, {day} ({count}):",
    },
    "sla.digest.line": {
        "en": "#{number} {customer} {severity} {clock}: {remaining} left, due {due} ({assignee})",
        "tr": "#{number} {customer} {severity} {clock}: {remaining} kaldı, son an {due} "
              "({assignee})",
    },
    "sla.digest.none": {
        "en": "No open ticket has a running clock.",
        "tr": "Çalışan SLA sayacı olan açık kayıt yok.",
    },
    "sla.digest.more": {"en": "… and {count} more.", "tr": "… ve {count} kayıt daha."},
})


# -- where messages go ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Dest:
    channel: str  # slack | telegram | console
    target: str
    lang: str = "en"

    @property
    def key(self) -> str:
        return f"{self.channel}:{self.target}"


@dataclass(frozen=True)
class Routes:
    """Destinations from the settings; with no chat channel configured, the console (demo)."""

    slack: bool = False
    telegram: bool = False
    engineers: tuple[Dest, ...] = (Dest("console", "engineers"),)
    alerts: tuple[Dest, ...] = (Dest("console", "alerts"),)
    engineers_tz: str = "Europe/Istanbul"

    @classmethod
    def from_settings(cls, settings: Any) -> Routes:
        slack, telegram = bool(settings.slack_bot_token), bool(settings.telegram_bot_token)
        eng: list[Dest] = []
        if slack and settings.engineers_slack_channel:
            eng.append(Dest("slack", settings.engineers_slack_channel))
        if telegram and settings.engineers_telegram_chat:
            eng.append(Dest("telegram", str(settings.engineers_telegram_chat)))
        alerts: list[Dest] = []
        if slack and settings.alert_slack_channel:
            alerts.append(Dest("slack", settings.alert_slack_channel))
        if telegram and settings.alert_telegram_chat:
            alerts.append(Dest("telegram", str(settings.alert_telegram_chat)))
        return cls(
            slack=slack, telegram=telegram,
            engineers=tuple(eng) or (Dest("console", "engineers"),),
            alerts=tuple(alerts) or tuple(eng) or (Dest("console", "alerts"),),
            engineers_tz=settings.engineers_tz,
        )

    def person(self, contact: Contact) -> Dest | None:
        """A direct message to a vendor contact on the first channel that reaches them (their
        identities are read through the session the contact was loaded in)."""
        lang = contact.language or "en"
        chats = [name for name, on in (("slack", self.slack), ("telegram", self.telegram)) if on]
        if not chats:
            return Dest("console", f"contact:{contact.id}", lang)
        session = object_session(contact)
        if session is None:
            raise ValueError(f"contact {contact.id} is not in a session: its identities "
                             "cannot be read")
        ids = external_ids(session, contact.id or 0)  # type: ignore[arg-type]
        return next((Dest(name, ids[name], lang) for name in chats if name in ids), None)


threshold_prefix = threshold_id  # outbox keys of a threshold start with its identity


def _left_text(left: timedelta, lang: str) -> str:
    """Time left as a person reads it: under a minute is said so, not "0m"."""
    if left <= timedelta(0):
        return t("sla.left.none", lang)
    if left < timedelta(minutes=1):
        return t("sla.left.under_minute", lang)
    return format_duration(left, lang)


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
    """Plans thresholds and enqueues notifications. Pure of time: ``now`` is always passed."""

    def __init__(self, engine: Engine, policy: Policy, routes: Routes) -> None:
        self.engine = engine
        self.policy = policy
        self.routes = routes
        self._calendars: dict[tuple[str, str | None, str | None, str | None],
                              BusinessCalendar] = {}
        self.pager = Pager(policy, routes, self._calendar)

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
            self._notify(s, ticket, th, self._left(clocks, th, now), now, late, cache)
            done.add(prefix)
        nxt = next_threshold(plan, now)
        if nxt is not None:
            out.next[ticket.id or 0] = nxt.at

    def _left(self, clocks: TicketClocks | None, th: Threshold, now: datetime) -> timedelta:
        """Business time actually left on the threshold's clock at ``now`` (a reminder sent
        late, or with seconds to go, says what is left then, not what was planned)."""
        if clocks is not None:
            for state in evaluate_clocks(self.policy, clocks, now):
                if state.kind == th.kind and state.remaining is not None:
                    return max(state.remaining, timedelta(0))
        return timedelta(0)

    def _notify(self, s: Session, ticket: Ticket, th: Threshold, left: timedelta,
                now: datetime, late: bool, cache: _PassCache) -> None:
        """Collect the messages of one threshold (and apply its escalation) in this
        transaction; the audit events are flushed before the messages are written."""
        tid = ticket.id or 0
        prefix = threshold_prefix(tid, th)
        customer = cache.customer(ticket.customer_id)
        assignee = cache.contact(ticket.assignee_id) if ticket.assignee_id else None
        rules = escalations_at(self.policy, ticket.severity, th.kind, th.fraction)
        tier_note: dict[str, str] = {}
        if th.breach and cache.first_time(f"sla-breach:{prefix}"):
            tickets.add_event(s, ticket, "sla-breached",
                              f"{th.kind.value} target missed (due {th.at.isoformat()})",
                              at=th.at, data={"clock": th.kind.value, "due": th.at,
                                              "late": late})
        if any(r.raise_tier for r in rules) and cache.first_time(f"sla-tier:{prefix}"):
            old = ticket.tier
            ticket.tier = old + 1
            s.add(ticket)
            tickets.add_event(s, ticket, "tier-raised", f"tier {old} → {ticket.tier} "
                              f"({th.kind.value} at {th.label})",
                              data={"from": old, "to": ticket.tier, "clock": th.kind.value,
                                    "at": th.fraction})
            tier_note = {lang: t("sla.tier", lang, tier=ticket.tier) for lang in ("en", "tr")}
        dests: list[tuple[Dest, str]] = []
        if th.breach:
            dests += [(d, "sla.breach") for d in self.routes.alerts]
        elif th.fraction in self.policy.reminders:
            dm = self.routes.person(assignee) if assignee else None
            targets = [dm] if dm else list(self.routes.engineers)
            dests += [(d, "sla.reminder") for d in targets]
        if any(r.notify_managers for r in rules) or tier_note:
            managers = cache.managers()
            for m in managers:
                dm = self.routes.person(m)
                if dm is not None:
                    dests.append((dm, "sla.escalation"))
            if not managers:
                dests += [(d, "sla.escalation") for d in self.routes.alerts]
        if self.pager.on_threshold(s, ticket, prefix, th.kind, th.fraction, th.at, now,
                                   th.deadline) is not None:
            cache.paged = True
        for dest, key in dests:
            text = self._text(key, dest.lang, ticket, customer, assignee, th, left, now, late,
                              tier_note.get(dest.lang, ""))
            notice = keys.threshold_escalation if key == "sla.escalation" else keys.threshold_notice
            cache.messages.append({
                "key": notice(prefix, dest.channel, dest.target),
                "channel": dest.channel, "target": dest.target,
                "text": text, "ticket_id": tid, "late": late,
            })

    def _text(self, key: str, lang: str, ticket: Ticket, customer: Customer | None,
              assignee: Contact | None, th: Threshold, left: timedelta, now: datetime,
              late: bool, tier: str) -> str:
        zone = ZoneInfo(self.routes.engineers_tz)
        due_at = th.deadline or th.at
        target = self.policy.target(ticket.plan, ticket.severity, ticket.family, th.kind)
        text = t(
            key, lang,
            number=ticket.id, customer=customer.code if customer else "?",
            severity=ticket.severity,
            severity_name=self.policy.severity_name(ticket.severity, lang)
            if ticket.severity in self.policy.severities else ticket.severity,
            clock=t(f"sla.clock.{th.kind.value}", lang), target=target.label(),
            percent=f"{th.fraction:.0%}", pct=round(th.fraction * 100),
            remaining=_left_text(left, lang),
            due=_local(due_at, zone), late_by=format_duration(now - due_at, lang),
            assignee=assignee.name if assignee else t("sla.unassigned", lang),
            summary=ticket.summary, tier=tier,
        )
        return (t("sla.late", lang) + text) if late else text

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
        zone = ZoneInfo(self.routes.engineers_tz)
        day = now.astimezone(zone).date().isoformat()
        lines: list[tuple[float, dict[str, Any]]] = []
        with session_scope(self.engine, frozen(now)) as s:
            for row in self.status(now, s):
                running = [c for c in row["clocks"] if c["running"] and c["remaining"] is not None]
                if not running:
                    continue
                first = min(running, key=lambda c: c["remaining"])
                lines.append((first["remaining"], {**row, "first": first}))
            lines.sort(key=lambda x: x[0])
            n = 0
            for dest in self.routes.engineers:
                lang = dest.lang
                body = [t("sla.digest.header", lang, day=day, count=len(lines))]
                for _, r in lines[:50]:
                    c = r["first"]
                    body.append(t(
                        "sla.digest.line", lang, number=r["number"], customer=r["customer"],
                        severity=r["severity"], clock=t(f"sla.clock.{c['clock']}", lang),
                        remaining=format_duration(timedelta(seconds=c["remaining"]), lang),
                        due=_local(c["deadline"], zone) if c["deadline"] else "—",
                        assignee=r["assignee"] or t("sla.unassigned", lang),
                    ))
                if len(lines) > 50:
                    body.append(t("sla.digest.more", lang, count=len(lines) - 50))
                if not lines:
                    body.append(t("sla.digest.none", lang))
                n += outbox.enqueue(s, keys.sla_digest(day, dest.channel, dest.target),
                                    dest.channel, dest.target, "\n".join(body)) is not None
        return n

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


def _local(dt: datetime, zone: ZoneInfo) -> str:
    local = dt.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


# -- the service ---------------------------------------------------------------------------

_ACTIVE: SchedulerService | None = None


async def sla_sweep_job() -> None:
    """APScheduler job (module level, pickled by reference): handle every due ticket."""
    if _ACTIVE is not None:
        await _ACTIVE.sweep()


async def sla_digest_job() -> None:
    if _ACTIVE is not None:
        await _ACTIVE.digest()


async def sla_reconcile_job() -> None:
    if _ACTIVE is not None:
        await _ACTIVE.reconcile()


async def monthly_report_tick() -> None:
    """APScheduler job: last month's SLA reports, as of the service's clock."""
    from ..report_render import monthly_report_job

    if _ACTIVE is not None:
        await _ACTIVE.run_as_of(monthly_report_job)


async def eos_notices_tick() -> None:
    """APScheduler job: the end-of-support notices due, as of the service's clock."""
    from ..report_render import eos_notices_job

    if _ACTIVE is not None:
        await _ACTIVE.run_as_of(eos_notices_job, getattr(_ACTIVE.settings, "policy_path", None))


async def oncall_page_job() -> None:
    """APScheduler job: the next step of every on-call page that is due."""
    if _ACTIVE is not None:
        await _ACTIVE.advance_pages(fired=True)


class SchedulerService:
    """The scheduler and the outbox delivery worker as one async service (start/stop)."""

    name = "sla-scheduler"

    def __init__(
        self,
        settings: Any = None,
        *,
        engine: Engine | None = None,
        policy: Policy | None = None,
        routes: Routes | None = None,
        senders: dict[str, Sender] | None = None,
        now: Clock = system_clock,
        deliver: bool = True,
        reconcile_minutes: float = 15,
    ) -> None:
        if settings is None:
            from ..config import get_settings

            settings = get_settings()
        self.settings = settings
        self.engine = engine or make_engine(settings.database_url)
        self.policy = policy or load_policy(settings.policy_path)
        self.routes = routes or Routes.from_settings(settings)
        self.now = now
        self.core = SlaCore(self.engine, self.policy, self.routes)
        self.worker = DeliveryWorker(
            self.engine, senders if senders is not None else registry.senders(settings),
            now=now,
        ) if deliver else None
        self.reconcile_minutes = reconcile_minutes
        self.scheduler: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._heap: list[tuple[float, int]] = []
        self._next: dict[int, float] = {}
        self._armed: float | None = None
        self._page_next: datetime | None = None
        self._page_armed: datetime | None = None
        self._unhook: Callable[[], None] | None = None
        self._sweeping = asyncio.Lock()
        self._threads = ServiceThreads("sla-pass")

    # -- next-threshold heap -----------------------------------------------------------------

    def _set_next(self, updates: dict[int, datetime | None]) -> None:
        with self._lock:
            for tid, at in updates.items():
                if at is None:
                    self._next.pop(tid, None)
                    continue
                epoch = at.timestamp()
                self._next[tid] = epoch
                heapq.heappush(self._heap, (epoch, tid))
            if len(self._heap) > 4 * len(self._next) + 1024:  # drop stale entries
                self._heap = [(e, t) for t, e in self._next.items()]
                heapq.heapify(self._heap)

    def next_due(self) -> datetime | None:
        """The earliest pending threshold over all tickets."""
        with self._lock:
            while self._heap and self._next.get(self._heap[0][1]) != self._heap[0][0]:
                heapq.heappop(self._heap)
            return datetime.fromtimestamp(self._heap[0][0], UTC) if self._heap else None

    def ticket_next(self, ticket_id: int) -> datetime | None:
        epoch = self._next.get(ticket_id)
        return None if epoch is None else datetime.fromtimestamp(epoch, UTC)

    def _pop_due(self, now: datetime) -> list[int]:
        limit = now.timestamp()
        due: list[int] = []
        with self._lock:
            while self._heap and self._heap[0][0] <= limit:
                epoch, tid = heapq.heappop(self._heap)
                if self._next.get(tid) == epoch:
                    del self._next[tid]
                    due.append(tid)
        return due

    # -- entry points ------------------------------------------------------------------------

    def reschedule_ticket(self, ticket_id: int, now: datetime | None = None) -> datetime | None:
        """Re-plan one ticket after any change (call after the change is committed).

        Thresholds the change made due are queued at once; the ticket's next threshold
        replaces its old one (or is removed when its clocks stopped). Safe from any thread.
        """
        out = self.core.process_ticket(ticket_id, now or self.now())
        nxt = out.next.get(ticket_id)
        self._set_next({ticket_id: nxt})
        if out.paged:
            self._page_next = out.page_next
        self._after_change(bool(out.enqueued or out.paged))
        return nxt

    async def sweep(self, now: datetime | None = None) -> Outcome:
        """Handle every ticket whose next threshold has come, then re-arm the sweep job."""
        self._armed = None  # a date job is gone once it fired
        async with self._sweeping:  # one sweep at a time; a late second one finds less to do
            now = now or self.now()
            ids = self._pop_due(now)
            out = await self._threads.run(self.core.process_ids, ids, now) if ids else Outcome()
            self._set_next({tid: out.next.get(tid) for tid in ids})
        return self._after_pass(out)

    async def reconcile(self, now: datetime | None = None) -> Outcome:
        out = await self._threads.run(self.core.reconcile, now or self.now())
        with self._lock:
            self._next = {tid: at.timestamp() for tid, at in out.next.items()}
            self._heap = [(e, tid) for tid, e in self._next.items()]
            heapq.heapify(self._heap)
        return self._after_pass(out)

    async def advance_pages(self, now: datetime | None = None, fired: bool = False) -> Outcome:
        """Send the due steps of the on-call pages and arm the page job at the next one."""
        if fired:
            self._page_armed = None  # a date job is gone once it fired
        async with self._sweeping:
            out = await self._threads.run(self.core.advance_pages, now or self.now())
        return self._after_pass(out)

    def _after_pass(self, out: Outcome) -> Outcome:
        """After any pass: the page job follows the pages, the jobs are re-armed, and the
        delivery worker is woken when something was queued (pages queue their own rows)."""
        if out.paged:
            self._page_next = out.page_next
        self._rearm()
        if (out.enqueued or out.paged) and self.worker is not None:
            self.worker.wake()
        return out

    async def digest(self, now: datetime | None = None) -> int:
        n = await self._threads.run(self.core.digest, now or self.now())
        if n and self.worker is not None:
            self.worker.wake()
        return n

    async def run_as_of(self, job: Callable[..., object], *args: Any) -> None:
        """``job(database_url, *args, now)`` on this service's threads, as of its clock; the
        delivery worker is woken for what it queued."""
        url = self.engine.url.render_as_string(hide_password=False)
        await self._threads.run(job, url, *args, self.now())
        if self.worker is not None:
            self.worker.wake()

    def _after_change(self, queued: bool) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._rearm()
        else:
            loop.call_soon_threadsafe(self._rearm)
        if queued and self.worker is not None:
            self.worker.wake()

    def _rearm(self) -> None:
        """Point the single sweep job at the earliest pending threshold (event-loop thread)."""
        if self.scheduler is None or not self.scheduler.running:
            return
        self._rearm_pages()
        at = self.next_due()
        epoch = None if at is None else at.timestamp()
        if epoch == self._armed and (epoch is None or self.scheduler.get_job(SWEEP_JOB)):
            return
        if at is None:
            if self.scheduler.get_job(SWEEP_JOB) is not None:
                self.scheduler.remove_job(SWEEP_JOB)
        else:
            self.scheduler.add_job(
                sla_sweep_job, "date", run_date=self._timer_instant(at), id=SWEEP_JOB,
                replace_existing=True,
                # the job re-arms itself before its run is over: allow the next to overlap
                misfire_grace_time=None, coalesce=True, max_instances=4,
            )
        self._armed = epoch

    def _timer_instant(self, at: datetime) -> datetime:
        """APScheduler's timer runs on the real clock and the instants here are on the
        service's clock: a job due at ``at`` is armed after the same delay, so a moved clock
        (tests) and the real one (production, where both agree) behave alike."""
        return system_clock() + (at - self.now())

    def armed_at(self, job_id: str) -> datetime | None:
        """When the sweep or page job is due, on the service's clock (None: not armed)."""
        if self.scheduler is None or self.scheduler.get_job(job_id) is None:
            return None
        if job_id == PAGE_JOB:
            return self._page_armed
        return None if self._armed is None else datetime.fromtimestamp(self._armed, UTC)

    def _rearm_pages(self) -> None:
        """Point the page job at the earliest due step (``_page_armed``: the job we left)."""
        at = self._page_next
        if at == self._page_armed:
            return
        if at is None:
            if self.scheduler.get_job(PAGE_JOB) is not None:
                self.scheduler.remove_job(PAGE_JOB)
        else:
            self.scheduler.add_job(oncall_page_job, "date", run_date=self._timer_instant(at),
                                   id=PAGE_JOB,
                                   replace_existing=True, misfire_grace_time=None,
                                   coalesce=True, max_instances=4)
        self._page_armed = at

    def _on_ticket_changed(self, ticket_id: int) -> None:
        self.reschedule_ticket(ticket_id)

    def _on_skipped(self, event: Any) -> None:
        # A skipped date job is removed by APScheduler: arm the sweep again right after.
        if event.job_id in (SWEEP_JOB, PAGE_JOB) and self._loop is not None:
            self._armed = self._page_armed = None
            self._loop.call_later(0.01, self._rearm)

    async def start(self) -> None:
        """Reconcile, start APScheduler in this loop, register the hook, start delivery."""
        from apscheduler.events import EVENT_JOB_MAX_INSTANCES
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        global _ACTIVE
        _ACTIVE = self
        self._loop = asyncio.get_running_loop()
        out = await self.reconcile()
        log.info("SLA reconciliation: %d tickets, %d messages queued (%d late)",
                 out.tickets, out.enqueued, out.late)
        self.scheduler = AsyncIOScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.engine)},
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self.scheduler.add_listener(self._on_skipped, EVENT_JOB_MAX_INSTANCES)
        self.scheduler.start()
        self._armed = self._page_armed = None
        self.scheduler.add_job(
            sla_digest_job, "cron", hour=8, minute=0, timezone=ZoneInfo(self.routes.engineers_tz),
            id=DIGEST_JOB, replace_existing=True, misfire_grace_time=4 * 3600,
        )
        self.scheduler.add_job(
            sla_reconcile_job, "interval", minutes=self.reconcile_minutes, id=RECONCILE_JOB,
            replace_existing=True, misfire_grace_time=None,
        )
        # Both are idempotent through their outbox keys, so a misfire re-run sends nothing twice.
        self.scheduler.add_job(
            monthly_report_tick, "cron", day=1, hour=8, minute=0,
            timezone=ZoneInfo(self.routes.engineers_tz),
            id=MONTHLY_REPORT_JOB, replace_existing=True, misfire_grace_time=24 * 3600,
        )
        self.scheduler.add_job(
            eos_notices_tick, "cron", hour=9, minute=0, timezone=ZoneInfo(self.routes.engineers_tz),
            id=EOS_NOTICES_JOB, replace_existing=True, misfire_grace_time=24 * 3600,
        )
        self._rearm()
        self._unhook = on_ticket_changed(self._on_ticket_changed)
        if self.worker is not None:
            await self.worker.start()

    async def stop(self) -> None:
        global _ACTIVE
        if self._unhook is not None:
            self._unhook()
            self._unhook = None
        if self.scheduler is not None and self.scheduler.running:
            # Cancels the jobs in flight (AsyncIOExecutor); their passes end on our threads.
            self.scheduler.shutdown(wait=False)
        self.scheduler = None
        await self._threads.close()
        if self.worker is not None:
            await self.worker.stop()
        if _ACTIVE is self:
            _ACTIVE = None
