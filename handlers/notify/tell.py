"""Telling people through the outbox: the customer in the conversation where the ticket was
reported, the engineers in their channels. Each message is queued once per key (:mod:`.keys`);
the delivery worker sends it after the transaction commits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from storage import outbox
from storage.identities import by_contact_id, external_ids
from storage.models import Contact, OutboxMessage, Ticket, TicketEvent, TicketLink

from ..types import Choice, Destination, Routing
from . import keys

# Posts to the engineers' and alert channels speak English, the engineers' shared working
# language; a direct message speaks the person's own language.
CHANNEL_LANG = "en"


def choices_payload(step: str, choices: Sequence[Choice]) -> dict[str, Any]:
    """An outbox row's buttons, pressed back as ``step`` answers (read by
    :attr:`bot.channels.outbound.Outgoing.choices`)."""
    return {"choices": [[c.value, c.label] for c in choices], "step": step}


def tell_customer(session: Session, ticket: Ticket, key: str, text: str,
                  payload: dict[str, Any] | None = None,
                  not_before: datetime | None = None) -> None:
    """Queue ``text`` (once per ``key``) in the conversation where the ticket was reported;
    ``payload`` ``{"file": PATH}`` sends a file with it; not sent before ``not_before``."""
    target = ticket.channel_chat or ticket.channel_user or str(ticket.contact_id)
    outbox.enqueue(session, key, ticket.channel, target, text, thread=ticket.channel_thread,
                   ticket_id=ticket.id, payload=payload, not_before=not_before)


def tell_customer_about(session: Session, ticket: Ticket, event: TicketEvent, text: str) -> None:
    """The customer's message about audit ``event``, written before it (P21); the contacts
    of tickets merged into this one hear it too, in their own conversation (issue #19)."""
    tell_customer(session, ticket, keys.ticket_event_for_customer(ticket.id, event.id), text)
    where = (ticket.channel, ticket.channel_chat or ticket.channel_user, ticket.channel_thread)
    merged_here = select(TicketLink.ticket_id).where(TicketLink.other_id == ticket.id,
                                                     TicketLink.kind == "merged")
    for merged in session.exec(select(Ticket).where(col(Ticket.id).in_(merged_here))):
        if (merged.channel, merged.channel_chat or merged.channel_user,
                merged.channel_thread) != where:
            tell_customer(session, merged, keys.ticket_event_for_customer(merged.id, event.id),
                          text)


def tell_engineers_about(
    session: Session, routing: Routing, ticket: Ticket, event: TicketEvent, text: str
) -> None:
    """The engineers' notice of audit ``event``, to each of their destinations."""
    for i, dest in enumerate(routing.engineers):
        outbox.enqueue(
            session, keys.ticket_event_for_engineers(ticket.id, event.id, i), dest.channel,
            dest.target, text, thread=dest.thread, ticket_id=ticket.id,
        )


def card_message(session: Session, ticket: Ticket, dest: Destination) -> str | None:
    """The platform's id of the new-ticket card sent to ``dest`` (a Slack ts, a Telegram
    message id), once it was delivered: the ticket's thread in the engineers' channel."""
    return session.exec(select(OutboxMessage.external_id).where(
        OutboxMessage.key == keys.ticket_opened(ticket.id, dest.channel, dest.target),
        col(OutboxMessage.external_id).is_not(None))).first()


def tell_ticket_engineers(
    session: Session, routing: Routing, ticket: Ticket, event: TicketEvent,
    text: Callable[[str], str],
) -> None:
    """A message on the ticket's conversation (``text(language)``) to the engineers who work
    on it: the assignee in a direct message, in their language; else each engineers' channel,
    in the thread of the ticket's card."""
    assignee = session.get(Contact, ticket.assignee_id) if ticket.assignee_id else None
    dm = person_destination(session, routing, assignee) if assignee and assignee.active else None
    if assignee is not None and dm is not None:
        outbox.enqueue(session, keys.ticket_event_for_engineers(ticket.id, event.id, 0),
                       dm.channel, dm.target, text(person_language(assignee)),
                       ticket_id=ticket.id)
        return
    for i, dest in enumerate(routing.engineers):
        outbox.enqueue(
            session, keys.ticket_event_for_engineers(ticket.id, event.id, i), dest.channel,
            dest.target, text(CHANNEL_LANG),
            thread=card_message(session, ticket, dest) or dest.thread, ticket_id=ticket.id,
        )


def person_destination(session: Session, routing: Routing, contact: Contact) -> Destination | None:
    """Where a direct message to a vendor contact goes: their identity on a channel of
    ``routing.channels``, taking their identities in channel-name order (a stable choice: Slack
    before Telegram); on a channel that addresses people by contact id (the console, the only
    one when no chat platform is configured), ``contact:<id>``. None: nothing reaches them."""
    for channel, target in external_ids(session, contact.id or 0).items():
        if channel in routing.channels:
            return Destination(channel, target)
    for channel in routing.channels:
        if by_contact_id(channel):
            return Destination(channel, f"contact:{contact.id}")
    return None


def person_language(contact: Contact) -> str:
    """The language of a direct message to ``contact``."""
    return contact.language or CHANNEL_LANG
