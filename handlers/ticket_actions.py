"""What a change to a ticket does, in order, and the customer's side of a paused ticket.

Every change follows one order (:func:`record`): the audit event first, then the deadlines
recomputed, then the customer's message queued (P21), then the scheduler told once the session
commits (``handlers.hooks``). The engineers' verbs (``handlers.commands``) change the ticket
and call :func:`record`; the customer's messages arrive through ``handlers.conversation``:

- :func:`customer_replied`: the ticket waited for the customer's information (P17): every
  pause ends and the clocks run again. A remote-access pause (P13) is not ended by a message.
- :func:`remote_access_given`: the access details end a remote-access pause (P13).

(Named ``ticket_actions``, not ``tickets``: ``tickets`` already means ``storage.tickets`` in
the modules that use both.)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from sla import Policy
from storage import tickets as store
from storage.models import (
    Attachment,
    Contact,
    Customer,
    Ticket,
    TicketEvent,
    TicketPause,
    TicketStatus,
)

from . import ticket_updates as updates
from .hooks import ticket_changed_on_commit
from .i18n import register, t
from .notify import (
    keys,
    tell_customer,
    tell_customer_about,
    tell_engineers_about,
    tell_ticket_engineers,
)
from .text import shorten, strip_nul
from .types import Routing

RELAYED_CHARS = 1500  # of a customer's message in the engineers' notice (the rest: status N)

register({
    "cmd.eng.customer_replied": {
        "en": "#{n} {customer}: {name} answered; clocks running again.\n{text}",
        "tr": "#{n} {customer}: {name} yanıt verdi; süreler yeniden işliyor.\n{text}",
    },
    "cmd.eng.customer_wrote": {
        "en": "#{n} {customer}: {name} wrote on the ticket.\n{text}",
        "tr": "#{n} {customer}: {name} kayda yazdı.\n{text}",
    },
    "reply.to_customer": {
        "en": "Ticket #{n}, {name} (support) writes:\n{text}",
        "tr": "#{n} numaralı kayıt, {name} (destek) yazıyor:\n{text}",
    },
    "cmd.eng.access_given": {
        "en": "#{n} {customer}: remote access given; clocks running again.\n{how}",
        "tr": "#{n} {customer}: uzaktan erişim verildi; süreler yeniden işliyor.\n{how}",
    },
})


def record(
    session: Session, policy: Policy, ticket: Ticket, kind: str, text: str,
    customer_text: str | None, *, actor: Contact, now: datetime,
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    """Write the audit event, recompute deadlines, queue the customer's message (unless
    ``customer_text`` is None) and tell the scheduler after the commit."""
    ev = store.add_event(session, ticket, kind, text, actor=actor, at=now, data=data)
    store.refresh_deadlines(session, policy, ticket, now)
    if customer_text is not None:
        tell_customer_about(session, ticket, ev, customer_text)
    ticket_changed_on_commit(session, ticket.id or 0)
    return ev


def end_pauses(session: Session, ticket: Ticket, now: datetime) -> None:
    """End every open pause of ``ticket`` at ``now`` (never before the pause started)."""
    for pause in session.exec(select(TicketPause).where(
        TicketPause.ticket_id == ticket.id, col(TicketPause.ended_at).is_(None)
    )):
        pause.ended_at = max(now, pause.started_at)
        session.add(pause)


def customer_replied(
    session: Session,
    ticket_id: int,
    *,
    now: datetime,
    text: str = "",
    actor: Contact | None = None,
    policy: Policy,
    routing: Routing | None = None,
) -> bool:
    """A customer wrote in the ticket's conversation: record it, relay it to the engineers who
    work on it and, when the ticket waited for their information (P17), resume every clock. A
    remote-access pause (P13) is not ended by a message: see :func:`remote_access_given`.
    True when it resumed."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return False
    text = strip_nul(text)
    pause = store.open_pause(session, ticket_id)
    waiting = ticket.status == TicketStatus.PENDING and (
        pause is None or pause.kind != store.REMOTE_ACCESS_PAUSE)
    kind = store.CUSTOMER_ANSWER if waiting else store.CUSTOMER_FOLLOW_UP
    said = store.add_event(session, ticket, kind, text, actor=actor, at=now)
    code, name = _customer_code(session, ticket), actor.name if actor else "?"
    if not waiting:
        tell_ticket_engineers(session, routing or Routing(), ticket, said, lambda lang: t(
            "cmd.eng.customer_wrote", lang, n=ticket_id, customer=code, name=name,
            text=shorten(text, RELAYED_CHARS)))
        return False
    _resume_for_customer(session, ticket, now, actor, policy, routing, "customer replied",
                         t("cmd.eng.customer_replied", "en", n=ticket_id, customer=code,
                           name=name, text=shorten(text, RELAYED_CHARS)))
    return True


def engineer_replied(
    session: Session,
    policy: Policy,
    ticket: Ticket,
    text: str,
    *,
    actor: Contact,
    now: datetime,
    files: Sequence[Attachment] = (),
) -> TicketEvent:
    """An engineer's public reply (P21): on the audit trail, then sent to the customer in
    their conversation with the engineer's name; ``files`` (stored on the ticket) go with it."""
    ev = record(session, policy, ticket, store.PUBLIC_REPLY, text,
                t("reply.to_customer", ticket.language, n=ticket.id, name=actor.name,
                  text=text), actor=actor, now=now,
                data={"files": [a.filename for a in files]} if files else None)
    for i, att in enumerate(files):
        tell_customer(session, ticket, keys.reply_file(ticket.id, ev.id, i), att.filename,
                      payload={"file": att.path, "filename": att.filename})
    return ev


def remote_access_given(
    session: Session,
    ticket_id: int,
    *,
    now: datetime,
    how: str,
    actor: Contact | None = None,
    policy: Policy,
    routing: Routing | None = None,
) -> bool:
    """The customer gave remote access (P13) with ``how``: recorded on the ticket; a
    waiting-for-remote-access pause ends and every clock runs again. True when it resumed."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return False
    how = strip_nul(how).strip()
    ticket.remote_access = True
    ticket.remote_access_how = how
    session.add(ticket)
    store.add_event(session, ticket, "remote-access", how, actor=actor, at=now)
    pause = store.open_pause(session, ticket_id)
    if ticket.status != TicketStatus.PENDING or pause is None \
            or pause.kind != store.REMOTE_ACCESS_PAUSE:
        return False
    _resume_for_customer(session, ticket, now, actor, policy, routing, "remote access given",
                         t("cmd.eng.access_given", "en", n=ticket_id,
                           customer=_customer_code(session, ticket), how=how[:500]))
    return True


def _resume_for_customer(session: Session, ticket: Ticket, now: datetime, actor: Contact | None,
                         policy: Policy, routing: Routing | None, why: str,
                         engineers_text: str) -> None:
    end_pauses(session, ticket, now)
    ticket.status = TicketStatus.OPEN
    ev = store.add_event(session, ticket, "resumed", why, actor=actor, at=now)
    store.refresh_deadlines(session, policy, ticket, now)
    tell_customer_about(session, ticket, ev,
                        updates.resumed(ticket.id or 0, ticket.language, True))
    tell_engineers_about(session, routing or Routing(), ticket, ev, engineers_text)
    ticket_changed_on_commit(session, ticket.id or 0)


def _customer_code(session: Session, ticket: Ticket) -> str:
    customer = session.get(Customer, ticket.customer_id)
    return customer.code if customer else "?"
