"""Auto-close (issue #19 item 3): a resolved ticket closes by itself unless the customer writes.

The rules (policy ``auto_close``, README "Ticket life"):

- A resolved ticket closes ``business_days`` business days (default 5) after ``resolved_at``,
  counted in the customer's calendar (their hours, zone and holidays): N business days are N
  full business days of business time, so a ticket resolved on Friday at 16:00 in an
  08:00-17:00 Monday-Friday calendar closes the next Friday at 16:00.
- The customer is reminded once, ``remind_days_before`` business days before (default 1), in
  the ticket's language, in its conversation (outbox key per resolution). A ticket is never
  closed without its reminder: if the reminder went out late (the service was down), the close
  waits ``remind_days_before`` business days after it.
- Any message of the customer on the ticket before the close reopens it (:func:`reopen_on_reply`):
  the same ``reopen`` as the engineers' verb (the resolution clock resumes with the time it had
  used), then the message is added to the ticket and the engineers are told.
- The close is the engineers' ``close`` run by the actor ``system (auto-close)``: audit event
  first, the customer told, the satisfaction survey asked (:mod:`handlers.satisfaction`).

:func:`run_pass` is the scheduler's pass (leader-only, ``bot.jobs.scheduler``); it is
idempotent: a second run at the same instant changes and sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from sla import BusinessCalendar, Policy, add_business_time
from storage import tickets as store
from storage.directory import customer_calendar
from storage.models import Contact, Customer, Ticket, TicketEvent, TicketStatus

from . import conversation, follow_up
from .commands.lifecycle import close, reopen
from .commands.parsing import CommandError, Ctx
from .customer_verbs import NEW_REPORT_WORDS
from .i18n import register, t
from .identity import Identity, Sender
from .intake import IntakeConfig
from .notify import keys, tell_customer, tell_ticket_engineers
from .text import shorten
from .types import Incoming, Reply, Routing
from .vocabulary import local_when

SYSTEM_ACTOR = "system (auto-close)"
REMINDED_EVENT = "auto-close-reminded"


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a resolved ticket is reminded and closed."""

    remind_at: datetime | None
    close_at: datetime


@dataclass
class PassOutcome:
    reminded: list[int]
    closed: list[int]


def business_days_after(calendar: BusinessCalendar, start: datetime, days: int) -> datetime:
    """``days`` full business days of ``calendar`` after ``start`` (UTC)."""
    if days <= 0:
        return start
    span = timedelta(seconds=days * calendar.business_day_seconds)
    end = add_business_time(calendar, start, span)
    assert end is not None  # no pauses: the time is always used up
    return end.astimezone(UTC)


def schedule(policy: Policy, calendar: BusinessCalendar, resolved_at: datetime,
             reminded_at: datetime | None = None) -> Schedule:
    """The reminder and the close of a ticket resolved at ``resolved_at`` (whose reminder, if
    already queued, was at ``reminded_at``)."""
    rule = policy.auto_close
    close_at = business_days_after(calendar, resolved_at, rule.business_days)
    if not rule.remind_days_before:
        return Schedule(None, close_at)
    remind_at = business_days_after(calendar, resolved_at,
                                    rule.business_days - rule.remind_days_before)
    if reminded_at is not None:  # never closed sooner than the notice the customer had
        close_at = max(close_at, business_days_after(calendar, reminded_at,
                                                     rule.remind_days_before))
    return Schedule(remind_at, close_at)


def system_actor() -> Contact:
    """The actor the auto-close is recorded with (never stored: no directory row)."""
    return Contact(name=SYSTEM_ACTOR, role="engineer", language="en")


def run_pass(session: Session, policy: Policy, routing: Routing, now: datetime) -> PassOutcome:
    """Remind and close the resolved tickets that are due at ``now`` (one transaction, the
    caller's); idempotent."""
    out = PassOutcome([], [])
    if not policy.auto_close.enabled:
        return out
    ids = list(session.exec(select(Ticket.id).where(
        Ticket.status == TicketStatus.RESOLVED, col(Ticket.resolved_at).is_not(None))
        .order_by(col(Ticket.id))))
    calendars: dict[int, BusinessCalendar] = {}
    for tid in ids:
        # Locked and read again: a customer's message may have reopened it meanwhile.
        ticket = session.exec(select(Ticket).where(Ticket.id == tid).with_for_update()).first()
        if ticket is None or ticket.status != TicketStatus.RESOLVED or ticket.resolved_at is None:
            continue
        calendar = calendars.get(ticket.customer_id)
        if calendar is None:
            customer = session.get(Customer, ticket.customer_id)
            if customer is None:
                continue
            calendar = calendars[ticket.customer_id] = customer_calendar(customer)
        resolved_at = ticket.resolved_at
        reminded = _reminded_at(session, ticket, resolved_at)
        plan = schedule(policy, calendar, resolved_at, reminded)
        if plan.remind_at is not None and reminded is None:
            if now >= plan.remind_at:
                _remind(session, policy, ticket, calendar, now)
                out.reminded.append(tid or 0)
            continue  # the close waits for the reminder's notice
        if now >= plan.close_at:
            ctx = Ctx(session, policy, system_actor(), "en", now, routing)
            try:
                close(ctx, [str(tid)])
            except CommandError:
                continue
            out.closed.append(tid or 0)
    return out


def _reminded_at(session: Session, ticket: Ticket, resolved_at: datetime) -> datetime | None:
    return session.exec(select(TicketEvent.at).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == REMINDED_EVENT,
        col(TicketEvent.at) >= resolved_at).order_by(col(TicketEvent.id).desc())).first()


def _remind(session: Session, policy: Policy, ticket: Ticket, calendar: BusinessCalendar,
            now: datetime) -> None:
    """The reminder: on the audit trail first, then queued once per resolution; it names the
    close it announces (``remind_days_before`` business days on), in the customer's zone."""
    resolved_at = ticket.resolved_at or now
    close_at = business_days_after(calendar, now, policy.auto_close.remind_days_before)
    when = local_when(close_at, calendar.zone)
    store.add_event(session, ticket, REMINDED_EVENT, when, at=now,
                    data={"close_at": close_at.isoformat()})
    stamp = resolved_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    lang = ticket.language or "en"
    tell_customer(session, ticket, keys.auto_close_reminder(ticket.id, stamp),
                  t("autoclose.reminder", lang, n=ticket.id, when=when))


def reopen_on_reply(session: Session, cfg: IntakeConfig, who: Identity, on: Ticket | None,
                    msg: Incoming, sender: Sender, lang: str,
                    now: datetime) -> list[Reply] | None:
    """A customer's message on a resolved ticket awaiting the auto-close reopens it; None when
    ``msg`` is not such a message (the dispatch goes on). ``on``: the ticket the platform says
    the message is about; without one (a flat conversation) the message is on the contact's one
    resolved ticket on this channel when none of theirs is being worked on, no report is in
    progress and nothing waits for their pick."""
    if not cfg.policy.auto_close.enabled or msg.button_step is not None or msg.command:
        return None
    if not ((msg.text or "").strip() or msg.files):
        return None
    ticket = on if on is not None and on.status == TicketStatus.RESOLVED else None
    if on is None:
        ticket = _flat_target(session, who, msg, sender)
    if ticket is None or ticket.customer_id != who.customer.id:
        return None
    ctx = Ctx(session, cfg.policy, who.contact, lang, now, cfg.routing)
    reason = t("autoclose.reopen_reason", ticket.language or "en")
    try:
        reopen(ctx, [str(ticket.id), *reason.split()])
    except CommandError:
        return None
    event = session.exec(select(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "reopened")
        .order_by(col(TicketEvent.id).desc())).first()
    customer = session.get(Customer, ticket.customer_id)
    if event is not None:
        said = shorten((msg.text or "").strip() or ", ".join(f.filename for f in msg.files), 500)
        tell_ticket_engineers(session, cfg.routing, ticket, event, lambda eng_lang: t(
            "autoclose.eng.reopened", eng_lang, n=ticket.id,
            customer=customer.code if customer else "?", name=who.contact.name, text=said))
    return conversation.on_ticket(session, cfg, who, ticket, msg, lang, now)


def _flat_target(session: Session, who: Identity, msg: Incoming,
                 sender: Sender) -> Ticket | None:
    text = (msg.text or "").strip().lower()
    if sender.dialog is not None or text in NEW_REPORT_WORDS or sender.held is not None:
        return None
    if follow_up.open_tickets(session, who, msg.channel):
        return None
    resolved = list(session.exec(select(Ticket).where(
        Ticket.contact_id == who.contact.id, Ticket.channel == msg.channel,
        Ticket.status == TicketStatus.RESOLVED).limit(2)))
    return resolved[0] if len(resolved) == 1 else None


register({
    "autoclose.reminder": {
        "en": "Ticket #{n} was resolved and closes automatically on {when}. If the "
              "problem is not solved, just write here before then and the ticket is reopened.",
        "tr": "#{n} numaralı kayıt çözüldü ve {when} tarihinde otomatik olarak "
              "kapatılacak. Sorun çözülmediyse o zamana kadar buraya yazmanız yeterli; kayıt "
              "yeniden açılır.",
    },
    "autoclose.reopen_reason": {
        "en": "the customer wrote before the automatic close",
        "tr": "müşteri otomatik kapanıştan önce yazdı",
    },
    "autoclose.eng.reopened": {
        "en": "#{n} {customer}: reopened, {name} wrote on the resolved ticket before its "
              "automatic close.\n{text}",
        "tr": "#{n} {customer}: yeniden açıldı, {name} çözülen kayda otomatik kapanıştan önce "
              "yazdı.\n{text}",
    },
})
