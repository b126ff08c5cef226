"""On-call paging: out of hours, a ticket on a 24x7 cell pages the engineer on call.

A page starts when such a ticket is opened, or one of its paging clocks reaches a paging
threshold, outside the customer's business hours (policy ``paging``). Step 0 goes at once to
``chain[0]`` (the primary); each ``interval`` nobody takes it the next step goes out (again the
primary, then the secondary, then the managers); one interval after the last step the page is
given up with an alert. ``ack N`` (or the page's button) takes it: that is the response (P3)
and ends every page of the ticket (handlers.oncall.take_pages).

Durability: a page is a row (``pages``) holding its next step and when it is due; every step's
messages are outbox rows with keys ``page:<id>:<step>:...``, so a restart between two steps
resumes at the right step, and no step is sent twice. When the steps run is the scheduler's
business: one APScheduler date job armed at the earliest ``next_at`` (bot.jobs.scheduler).
Everything here takes ``now``; whom a step reaches, and where, is :class:`Routing`'s.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from sla import BusinessCalendar, ClockKind, Policy
from sla.oncall import Shift, quiet_now
from sla.reminders import parse_threshold_id
from storage import oncall, outbox, tickets
from storage.models import Contact, Customer, Page, Role, Ticket, TicketKind, TicketStatus

from .i18n import register, t
from .notify import CHANNEL_LANG, keys, person_destination, person_language, tell_customer
from .oncall import local_time
from .types import Routing
from .vocabulary import clock_name, target_text

log = logging.getLogger(__name__)

OPEN_TRIGGER = "open"
PAGE_KIND = "page"  # outbox payload kind: the channel adds a "Take it" button

register({
    "page.open": {
        "en": "📟 On-call page: #{n} {customer} {sev} ({sev_name}), {plan}: {summary}\n"
              "Reported {reported}; response due {due}.\n{role} Take it with the button or "
              "/ack {n}.",
        "tr": "📟 Nöbet çağrısı: #{n} {customer} {sev} ({sev_name}), {plan}: {summary}\n"
              "Bildirim zamanı {reported}; yanıt için süre sonu {due}.\n{role} Üstlenmek için "
              "düğmeye basın ya da /ack {n} yazın.",
    },
    "page.threshold": {
        "en": "📟 On-call page: #{n} {customer} {sev} ({sev_name}): {pct}% of the {clock} "
              "target ({target}) used, due {due}. {summary}\n{role} Take it with the button "
              "or /ack {n}.",
        "tr": "📟 Nöbet çağrısı: #{n} {customer} {sev} ({sev_name}): {clock} hedefinin "
              "({target}) %{pct} kadarı doldu, süre sonu {due}. {summary}\n{role} Üstlenmek "
              "için düğmeye basın ya da /ack {n} yazın.",
    },
    "page.repeat": {"en": "[page {k} of {total}] ", "tr": "[çağrı {k}/{total}] "},
    "page.role.primary": {"en": "You are on call (primary).",
                          "tr": "Nöbetçi sizsiniz (birincil)."},
    "page.role.primary_again": {
        "en": "You are on call (primary) and nobody has taken it yet.",
        "tr": "Nöbetçi sizsiniz (birincil) ve henüz kimse üstlenmedi.",
    },
    "page.role.secondary": {
        "en": "You are the second on call: {primary} has not taken it.",
        "tr": "İkinci nöbetçi sizsiniz: {primary} henüz üstlenmedi.",
    },
    "page.role.managers": {
        "en": "Nobody on call has taken it: you are the manager.",
        "tr": "Nöbetçilerden kimse üstlenmedi; yönetici olarak size iletiliyor.",
    },
    "page.nobody": {"en": "nobody", "tr": "kimse"},
    "page.exhausted": {
        "en": "🚨 Nobody took the page for #{n} {customer} {sev} ({steps} pages in {minutes} "
              "min). {summary}",
        "tr": "🚨 #{n} {customer} {sev} için yapılan çağrıyı kimse üstlenmedi ({minutes} "
              "dakikada {steps} çağrı). {summary}",
    },
    "page.customer": {
        "en": "Ticket #{n}: it is outside business hours, so our on-call engineer {engineer} "
              "has been paged and will contact you shortly.",
        "tr": "Kayıt #{n}: iş saatleri dışında olduğumuz için nöbetçi mühendisimiz "
              "{engineer} çağrıldı; kısa süre içinde sizinle iletişime geçecek.",
    },
})


class Pager:
    """Starts pages and moves them along their chain; the caller owns the transaction."""

    def __init__(self, policy: Policy, routing: Routing,
                 calendar: Callable[[Ticket, str | None], BusinessCalendar]) -> None:
        self.policy = policy
        self.routing = routing
        self.calendar = calendar  # (ticket, the customer's closed dates) -> its calendar

    @property
    def interval(self) -> timedelta:
        return timedelta(seconds=self.policy.paging.interval_seconds)

    def paging_clocks(self, ticket: Ticket) -> list[ClockKind]:
        """The ticket's clocks that page (24x7 cells by default) and still run."""
        stops = {ClockKind.RESPONSE: ticket.responded_at,
                 ClockKind.WORKAROUND: ticket.workaround_at or ticket.resolved_at,
                 ClockKind.RESOLUTION: ticket.resolved_at}
        return [k for k in ClockKind if stops[k] is None
                and self.policy.pages(ticket.plan, ticket.severity, ticket.family, k)]

    def _eligible(self, s: Session, ticket: Ticket, *instants: datetime) -> bool:
        """Open, not paused, and out of hours at every instant given: when it happened, and
        now (a page caught up after a restart during business hours is not sent: the
        engineers' channel has the ticket then)."""
        if ticket.kind == TicketKind.SERVICE_REQUEST or ticket.status != TicketStatus.OPEN:
            return False  # pending: waiting for the customer (P17); resolved/closed: done
        customer = s.get(Customer, ticket.customer_id)
        quiet = self.policy.paging.quiet
        paused = tickets.open_pause(s, ticket.id or 0) is not None
        calendar = self.calendar(ticket, customer.closed_dates if customer else None)
        return not any(quiet_now(calendar, at, business_hours=quiet.business_hours,
                                 paused=paused, while_paused=quiet.while_paused)
                       for at in instants)

    # -- starting a page -------------------------------------------------------------------

    def on_open(self, s: Session, ticket: Ticket, now: datetime) -> Page | None:
        """Page a not yet answered ticket reported out of hours (once, even after a restart)."""
        paging = self.policy.paging
        if not (paging.enabled and paging.on_open) or ticket.responded_at is not None:
            return None
        if ClockKind.RESPONSE not in self.paging_clocks(ticket):
            return None
        if not self._eligible(s, ticket, ticket.reported_at, now):
            return None
        return self._start(s, ticket, OPEN_TRIGGER, now, None)

    def on_threshold(self, s: Session, ticket: Ticket, trigger: str, kind: ClockKind,
                     fraction: float, at: datetime, now: datetime,
                     due: datetime | None) -> Page | None:
        """Page when a paging clock reaches a paging threshold at ``at`` out of hours."""
        paging = self.policy.paging
        if not paging.enabled or not any(abs(fraction - x) < 1e-9 for x in paging.thresholds):
            return None
        if kind not in self.paging_clocks(ticket) or not self._eligible(s, ticket, at, now):
            return None
        return self._start(s, ticket, trigger, now, (kind, fraction, due))

    def _start(self, s: Session, ticket: Ticket, trigger: str, now: datetime,
               threshold: tuple[ClockKind, float, datetime | None] | None) -> Page | None:
        tid = ticket.id or 0
        # One chain at a time: a page already climbing its chain is not started again.
        if oncall.active_page(s, tid) is not None or oncall.has_page(s, tid, trigger):
            return None
        page = Page(ticket_id=tid, trigger=trigger, started_at=now, next_at=now)
        s.add(page)
        s.flush()
        self.step(s, page, ticket, now, threshold)
        return page

    # -- moving along the chain ------------------------------------------------------------

    def advance(self, s: Session, now: datetime) -> int:
        """Send the next step of every page whose step is due; returns the pages handled."""
        handled = 0
        people = _People(s, now)  # who is on call, read once for the whole pass
        for page in oncall.due_pages(s, now):
            ticket = s.get(Ticket, page.ticket_id)
            handled += 1
            if ticket is None:
                continue
            reason = self._stop_reason(s, ticket, page)
            if reason is not None:
                oncall.end_pages(s, ticket.id or 0, "stopped", now, note=reason)
                tickets.add_event(s, ticket, "page-stopped", reason, at=now,
                                  data={"page": page.id})
                continue
            self.step(s, page, ticket, now, None, people)
        return handled

    def _stop_reason(self, s: Session, ticket: Ticket, page: Page) -> str | None:
        if ticket.status != TicketStatus.OPEN:
            return f"ticket is {ticket.status}"
        parsed = parse_threshold_id(page.trigger)
        kind = parsed[0] if parsed else ClockKind.RESPONSE  # the "open" page: the response
        if kind not in self.paging_clocks(ticket):
            return f"the {kind.value} clock stopped"
        if self.policy.paging.quiet.while_paused and tickets.open_pause(s, ticket.id or 0):
            return "ticket is paused"
        return None

    def step(self, s: Session, page: Page, ticket: Ticket, now: datetime,
             threshold: tuple[ClockKind, float, datetime | None] | None,
             on_call: _People | None = None) -> None:
        """Send ``page.step`` (skipping steps with nobody to page) and set the next one."""
        chain = self.policy.paging.chain
        cache = on_call or _People(s, now)
        while page.step < len(chain):
            index, target = page.step, chain[page.step]
            page.step += 1
            people = cache.target(target)
            dests = [(c, d) for c in people
                     if (d := person_destination(s, self.routing, c)) is not None]
            if not dests:
                tickets.add_event(s, ticket, "page-skipped", f"nobody to page as {target}",
                                  at=now, data={"page": page.id, "step": index})
                continue
            names = ", ".join(c.name for c, _ in dests)
            # The audit trail first, then the messages (P21 and our own rule).
            tickets.add_event(s, ticket, "paged", f"{target}: {names}", at=now,
                              data={"page": page.id, "step": index, "target": target,
                                    "trigger": page.trigger})
            for person, dest in dests:
                lang = person_language(person)
                text = self._text(s, ticket, page, index, target, lang, threshold, cache)
                outbox.enqueue(s, keys.page_step(page.id, index, dest.channel, dest.target),
                               dest.channel, dest.target, text, ticket_id=ticket.id,
                               payload={"kind": PAGE_KIND, "ticket": ticket.id,
                                        "lang": lang})
            if index == 0 and page.trigger == OPEN_TRIGGER:
                self._tell_customer(s, ticket, page, dests[0][0].name)
            page.next_at = now + self.interval
            s.add(page)
            return
        # Past the last step (one interval after it was sent, or at once when the chain
        # names nobody at all): the page is given up, loudly.
        self._exhaust(s, page, ticket, now)

    def _exhaust(self, s: Session, page: Page, ticket: Ticket, now: datetime) -> None:
        oncall.end_pages(s, ticket.id or 0, "exhausted", now, note="nobody took it")
        tickets.add_event(s, ticket, "page-exhausted", "nobody took the page", at=now,
                          data={"page": page.id})
        customer = s.get(Customer, ticket.customer_id)
        minutes = round((now - page.started_at).total_seconds() / 60)
        for dest in self.routing.alerts:
            outbox.enqueue(s, keys.page_exhausted(page.id, dest.channel, dest.target),
                           dest.channel, dest.target,
                           t("page.exhausted", CHANNEL_LANG, n=ticket.id,
                             customer=customer.code if customer else "?", sev=ticket.severity,
                             steps=len(self.policy.paging.chain), minutes=minutes,
                             summary=ticket.summary), thread=dest.thread, ticket_id=ticket.id)

    def _text(self, s: Session, ticket: Ticket, page: Page, index: int, target: str,
              lang: str, threshold: tuple[ClockKind, float, datetime | None] | None,
              cache: _People) -> str:
        tz = self.routing.engineers_tz
        customer = s.get(Customer, ticket.customer_id)
        common = {
            "n": ticket.id, "customer": customer.code if customer else "?",
            "sev": ticket.severity, "summary": ticket.summary,
            "sev_name": self.policy.severity_name(ticket.severity, lang)
            if ticket.severity in self.policy.severities else ticket.severity,
        }
        if target == "secondary":
            primary = cache.target("primary")
            role = t("page.role.secondary", lang,
                     primary=primary[0].name if primary else t("page.nobody", lang))
        elif target == "primary" and index > 0:
            role = t("page.role.primary_again", lang)
        else:
            role = t(f"page.role.{target}", lang)
        if page.trigger == OPEN_TRIGGER:
            plan = self.policy.plans.get(ticket.plan)
            text = t("page.open", lang, **common, role=role,
                     plan=(plan.name.tr if lang == "tr" else plan.name.en) if plan else ticket.plan,
                     reported=local_time(ticket.reported_at, tz),
                     due=local_time(ticket.response_due, tz) if ticket.response_due else "—")
        else:
            parsed = parse_threshold_id(page.trigger) or (ClockKind.RESPONSE, 1.0)
            kind, fraction = threshold[:2] if threshold else parsed
            due = threshold[2] if threshold else getattr(ticket, f"{kind.value}_due", None)
            target_cell = self.policy.target(ticket.plan, ticket.severity, ticket.family, kind)
            text = t("page.threshold", lang, **common, role=role,
                     clock=clock_name(kind, lang, mid=True),
                     target=target_text(target_cell, lang), pct=round(fraction * 100),
                     due=local_time(due, tz) if due else "—")
        total = len(self.policy.paging.chain)
        return (t("page.repeat", lang, k=index + 1, total=total) + text) if index else text

    def _tell_customer(self, s: Session, ticket: Ticket, page: Page, engineer: str) -> None:
        """The customer hears who is on it (they hear again, by name, when it is taken)."""
        tell_customer(s, ticket, keys.page_to_customer(page.id),
                      t("page.customer", ticket.language, n=ticket.id, engineer=engineer))


class _People:
    """Who a chain step names, read once per pass."""

    def __init__(self, s: Session, now: datetime) -> None:
        self.s, self.now = s, now
        self._who: dict[str, list[Contact]] = {}
        self._layers: dict[str, tuple[Shift, Contact] | None] | None = None

    def target(self, target: str) -> list[Contact]:
        if target not in self._who:
            if target == "managers":
                found = list(self.s.exec(select(Contact).where(
                    Contact.role == Role.MANAGER, col(Contact.active).is_(True))
                    .order_by(col(Contact.id))))
            else:
                if self._layers is None:
                    self._layers = oncall.who(self.s, self.now)
                shift = self._layers.get(target)
                found = [shift[1]] if shift and shift[1].active else []
            self._who[target] = found
        return self._who[target]
