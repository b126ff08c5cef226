"""Who is told what when an SLA threshold passes, and what the engineers' morning digest says.

The scheduler (``bot.jobs``) decides *when*: it plans each ticket's thresholds
(:mod:`sla.reminders`), finds the due ones and writes the rows this module returns in one
batch. Here are the domain decisions: a reminder goes to the assignee (or the engineers'
channels when unassigned), a breach to the alert channels, an escalation rule to the managers
(or the alert channels when there are none) and perhaps one tier up; a paging cell out of hours
pages the engineer on call (:mod:`handlers.paging`). Customers never get reminders. Nothing here
calls a channel or OpenAI (P27): every message is an outbox row with its key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlmodel import Session

from sla import ClockKind, Policy, TicketClocks, evaluate_clocks
from sla.reminders import Threshold, escalations_at
from sla.ticket_clocks import format_duration
from storage import outbox, tickets
from storage.models import Contact, Customer, Ticket

from .i18n import register, t
from .notify import CHANNEL_LANG, keys, person_destination, person_language
from .types import Destination, Routing
from .vocabulary import clock_name, local_when, target_text

# Reminders and alerts are for engineers: DMs speak the contact's language, channel posts
# speak English (the shared working language of the engineers' and alert channels).
register({
    "sla.unassigned": {"en": "unassigned", "tr": "atanmamış"},
    "sla.left.none": {"en": "no time", "tr": "hiç süre"},
    "sla.left.under_minute": {"en": "under a minute", "tr": "bir dakikadan az süre"},
    "sla.late": {
        "en": "[late] ",
        "tr": "[gecikmeli] ",
    },
    "sla.reminder": {
        "en": "⏳ #{number} {customer} {severity}: {pct}% of the {clock} target ({target}) "
              "used, {remaining} left, due {due}. Assignee: {assignee}.",
        "tr": "⏳ #{number} {customer} {severity}: {clock} hedefinin ({target}) %{pct} kadarı "
              "doldu, {remaining} kaldı, süre sonu {due}. Atanan: {assignee}.",
    },
    "sla.breach": {
        "en": "🚨 SLA breach: #{number} {customer} {severity} ({severity_name}): the {clock} "
              "target ({target}) ran out at {due}, {late_by} ago. Assignee: {assignee}. "
              "{summary}",
        "tr": "🚨 SLA ihlali: #{number} {customer} {severity} ({severity_name}): {clock} "
              "hedefi ({target}) {due} itibarıyla doldu; {late_by} gecikme var. Atanan: "
              "{assignee}. {summary}",
    },
    "sla.escalation": {
        "en": "⚠️ Escalation: #{number} {customer} {severity}: {pct}% of the {clock} target "
              "({target}) used, due {due}. Assignee: {assignee}.{tier}",
        "tr": "⚠️ Üst kademeye bildirim: #{number} {customer} {severity}: {clock} hedefinin "
              "({target}) %{pct} kadarı doldu, süre sonu {due}. Atanan: {assignee}.{tier}",
    },
    "sla.tier": {"en": " Raised to tier {tier}.", "tr": " Kayıt {tier}. kademeye yükseltildi."},
    "sla.digest.header": {
        "en": "☀️ Open tickets by time left, {day} ({count}):",
        "tr": "☀️ Kalan süreye göre açık kayıtlar, {day} ({count}):",
    },
    "sla.digest.line": {
        "en": "#{number} {customer} {severity} {clock}: {remaining} left, due {due} ({assignee})",
        "tr": "#{number} {customer} {severity} {clock}: {remaining} kaldı, süre sonu {due} "
              "({assignee})",
    },
    "sla.digest.none": {
        "en": "No open ticket has a running clock.",
        "tr": "Süresi işleyen açık kayıt yok.",
    },
    "sla.digest.more": {"en": "… and {count} more.", "tr": "… ve {count} kayıt daha."},
})

DIGEST_LINES = 50  # the digest lists the most urgent tickets, then says how many more


class Lookups(Protocol):
    """What a pass reads once for all its tickets (the scheduler's cache), and its record of
    one-off side effects."""

    def customer(self, cid: int) -> Customer | None: ...

    def contact(self, cid: int) -> Contact | None: ...

    def managers(self) -> list[Contact]: ...

    def first_time(self, key: str) -> bool:
        """True once per ``key`` (a breach event, a tier raise), recorded in the transaction."""
        ...


class Pages(Protocol):
    """The pager's part in a threshold (:meth:`handlers.paging.Pager.on_threshold`)."""

    def on_threshold(self, s: Session, ticket: Ticket, trigger: str, kind: ClockKind,
                     fraction: float, at: datetime, now: datetime,
                     due: datetime | None) -> object | None: ...


@dataclass(frozen=True, slots=True)
class Notice:
    """One message of a passed threshold: where, in which language, which catalogue text."""

    dest: Destination
    lang: str
    text_key: str  # sla.reminder | sla.breach | sla.escalation


@dataclass(frozen=True, slots=True)
class Passed:
    """A due threshold of a ticket, as the scheduler found it."""

    ticket: Ticket
    threshold: Threshold
    prefix: str  # sla.reminders.threshold_id: every outbox key of the threshold starts with it
    left: timedelta  # business time left on its clock at ``now``
    now: datetime
    late: bool  # sent more than the policy's late_after after its instant


class ThresholdNotices:
    """The messages and side effects of passed thresholds, under one policy and routing."""

    def __init__(self, policy: Policy, routing: Routing, pager: Pages) -> None:
        self.policy = policy
        self.routing = routing
        self.pager = pager

    def passed(self, s: Session, p: Passed, seen: Lookups) -> tuple[list[dict[str, Any]], bool]:
        """The outbox rows of one passed threshold, and whether it started a page. Its audit
        events (breach, tier raise, page) are written in this transaction first (P21); the
        rows are the caller's to write."""
        ticket, th = p.ticket, p.threshold
        customer = seen.customer(ticket.customer_id)
        assignee = seen.contact(ticket.assignee_id) if ticket.assignee_id else None
        tier_note = self._record(s, p, seen)
        told = self.recipients(s, ticket, th, assignee, seen, bool(tier_note))
        paged = self.pager.on_threshold(s, ticket, p.prefix, th.kind, th.fraction, th.at,
                                        p.now, th.deadline) is not None
        rows = []
        for n in told:
            text = self.text(n.text_key, n.lang, p, customer, assignee, tier_note.get(n.lang, ""))
            key = keys.threshold_escalation if n.text_key == "sla.escalation" else \
                keys.threshold_notice
            rows.append({
                "key": key(p.prefix, n.dest.channel, n.dest.target),
                "channel": n.dest.channel, "target": n.dest.target, "thread": n.dest.thread,
                "text": text, "ticket_id": ticket.id or 0, "late": p.late,
            })
        return rows, paged

    def _record(self, s: Session, p: Passed, seen: Lookups) -> dict[str, str]:
        """The breach event, and the tier raise an escalation rule asks for, once each; the
        tier note of the escalation text per language (empty: no raise)."""
        ticket, th = p.ticket, p.threshold
        if th.breach and seen.first_time(f"sla-breach:{p.prefix}"):
            tickets.add_event(s, ticket, "sla-breached",
                              f"{th.kind.value} target missed (due {th.at.isoformat()})",
                              at=th.at, data={"clock": th.kind.value, "due": th.at,
                                              "late": p.late})
        rules = escalations_at(self.policy, ticket.severity, th.kind, th.fraction)
        if not (any(r.raise_tier for r in rules) and seen.first_time(f"sla-tier:{p.prefix}")):
            return {}
        old = ticket.tier
        ticket.tier = old + 1
        s.add(ticket)
        tickets.add_event(s, ticket, "tier-raised", f"tier {old} → {ticket.tier} "
                          f"({th.kind.value} at {th.label})",
                          data={"from": old, "to": ticket.tier, "clock": th.kind.value,
                                "at": th.fraction})
        return {lang: t("sla.tier", lang, tier=ticket.tier) for lang in ("en", "tr")}

    def recipients(self, s: Session, ticket: Ticket, th: Threshold, assignee: Contact | None,
                   seen: Lookups, tier_raised: bool) -> list[Notice]:
        """Who hears of a threshold: a breach the alert channels; a reminder point the
        assignee by direct message (the engineers' channels when unassigned or unreachable);
        an escalation rule (or a tier raise) every manager, the alert channels when there is
        no manager."""
        out: list[Notice] = []
        if th.breach:
            out += [Notice(d, CHANNEL_LANG, "sla.breach") for d in self.routing.alerts]
        elif th.fraction in self.policy.reminders:
            dm = person_destination(s, self.routing, assignee) if assignee else None
            if dm is not None and assignee is not None:
                out.append(Notice(dm, person_language(assignee), "sla.reminder"))
            else:
                out += [Notice(d, CHANNEL_LANG, "sla.reminder") for d in self.routing.engineers]
        rules = escalations_at(self.policy, ticket.severity, th.kind, th.fraction)
        if any(r.notify_managers for r in rules) or tier_raised:
            managers = seen.managers()
            for m in managers:
                dm = person_destination(s, self.routing, m)
                if dm is not None:
                    out.append(Notice(dm, person_language(m), "sla.escalation"))
            if not managers:
                out += [Notice(d, CHANNEL_LANG, "sla.escalation") for d in self.routing.alerts]
        return out

    def text(self, text_key: str, lang: str, p: Passed, customer: Customer | None,
             assignee: Contact | None, tier: str) -> str:
        """A reminder, breach alert or escalation, deadlines in the engineers' zone."""
        ticket, th = p.ticket, p.threshold
        zone = ZoneInfo(self.routing.engineers_tz)
        due_at = th.deadline or th.at
        target = self.policy.target(ticket.plan, ticket.severity, ticket.family, th.kind)
        text = t(
            text_key, lang,
            number=ticket.id, customer=customer.code if customer else "?",
            severity=ticket.severity,
            severity_name=self.policy.severity_name(ticket.severity, lang)
            if ticket.severity in self.policy.severities else ticket.severity,
            clock=clock_name(th.kind, lang, mid=True), target=target_text(target, lang),
            pct=round(th.fraction * 100),
            remaining=left_text(p.left, lang),
            due=local(due_at, zone), late_by=format_duration(p.now - due_at, lang),
            assignee=assignee.name if assignee else t("sla.unassigned", lang),
            summary=ticket.summary, tier=tier,
        )
        return (t("sla.late", lang) + text) if p.late else text


def time_left(policy: Policy, clocks: TicketClocks | None, th: Threshold,
              now: datetime) -> timedelta:
    """Business time actually left on the threshold's clock at ``now`` (a reminder sent
    late, or with seconds to go, says what is left then, not what was planned)."""
    if clocks is not None:
        for state in evaluate_clocks(policy, clocks, now):
            if state.kind == th.kind and state.remaining is not None:
                return max(state.remaining, timedelta(0))
    return timedelta(0)


def left_text(left: timedelta, lang: str) -> str:
    """Time left as a person reads it: under a minute is said so, not "0m"."""
    if left <= timedelta(0):
        return t("sla.left.none", lang)
    if left < timedelta(minutes=1):
        return t("sla.left.under_minute", lang)
    return format_duration(left, lang)


def local(dt: datetime, zone: ZoneInfo) -> str:
    """An instant as engineers read it: local wall time, the zone named (:func:`local_when`)."""
    return local_when(dt, zone)


# -- the morning digest ------------------------------------------------------------------------


def queue_digest(s: Session, routing: Routing, status: list[dict[str, Any]],
                 now: datetime) -> int:
    """The 08:00 digest to the engineers' destinations: open tickets with a running clock,
    most urgent first (``status``: the scheduler's rows of every open ticket). Once a day per
    destination (its key names the day); returns how many were queued."""
    zone = ZoneInfo(routing.engineers_tz)
    day = now.astimezone(zone).date().isoformat()
    lines: list[tuple[float, dict[str, Any]]] = []
    for row in status:
        running = [c for c in row["clocks"] if c["running"] and c["remaining"] is not None]
        if not running:
            continue
        first = min(running, key=lambda c: c["remaining"])
        lines.append((first["remaining"], {**row, "first": first}))
    lines.sort(key=lambda x: x[0])
    body = digest_text([r for _, r in lines], CHANNEL_LANG, day, zone)
    n = 0
    for dest in routing.engineers:
        n += outbox.enqueue(s, keys.sla_digest(day, dest.channel, dest.target), dest.channel,
                            dest.target, body, thread=dest.thread) is not None
    return n


def digest_text(rows: list[dict[str, Any]], lang: str, day: str, zone: ZoneInfo) -> str:
    """The digest's text: a header, one line per ticket (its most urgent clock)."""
    body = [t("sla.digest.header", lang, day=day, count=len(rows))]
    for r in rows[:DIGEST_LINES]:
        c = r["first"]
        body.append(t(
            "sla.digest.line", lang, number=r["number"], customer=r["customer"],
            severity=r["severity"], clock=clock_name(c["clock"], lang, mid=True),
            remaining=format_duration(timedelta(seconds=c["remaining"]), lang),
            due=local(c["deadline"], zone) if c["deadline"] else "—",
            assignee=r["assignee"] or t("sla.unassigned", lang),
        ))
    if len(rows) > DIGEST_LINES:
        body.append(t("sla.digest.more", lang, count=len(rows) - DIGEST_LINES))
    if not rows:
        body.append(t("sla.digest.none", lang))
    return "\n".join(body)
