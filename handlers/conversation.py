"""A customer's message on one of their tickets, the same rule on every channel.

- Waiting for information (P17): the customer's next message on that ticket is the answer;
  it is added to the ticket and every clock runs again.
- Waiting for remote access (P13): only the access details end the pause (``access N how``,
  or the answer to the bot's own question "how do we connect?"); they set remote access.
  Any other message is added to the ticket and the clocks stay paused.
- Otherwise the message is added to the ticket's conversation.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage import tickets
from storage.directory import customer_calendar
from storage.models import (
    Contact,
    OutboxMessage,
    Ticket,
    TicketEvent,
    TicketPause,
    TicketStatus,
)
from storage.tickets import REMOTE_ACCESS_PAUSE

from .i18n import register, t
from .identity import Identity
from .intake import IntakeConfig, attach_to_ticket
from .merging import merge_target
from .ticket_actions import customer_replied, engineer_replied, remote_access_given
from .ticket_line import ticket_line
from .types import Incoming, Reply

ACCESS_ASKED = "access-asked"  # event: the bot asked how to connect; the next message answers


def ticket_in_thread(session: Session, msg: Incoming) -> Ticket | None:
    """The ticket the platform says ``msg`` is about: written in the ticket's conversation
    thread (a Slack thread), or in the thread of / in reply to one of our messages about it
    (the engineers' card, a Telegram reply to "ticket #12 waits for your answer")."""
    if not msg.thread:
        return None
    ticket = session.exec(select(Ticket).where(
        Ticket.channel == msg.channel, Ticket.channel_chat == msg.chat,
        Ticket.channel_thread == msg.thread)).first()
    if ticket is not None:
        return ticket
    # Our message's row: sent on this channel to this chat (or to this person: a Slack
    # direct message is addressed to the user id), with the platform's id of the message.
    targets = [t for t in (msg.chat, msg.user_key) if t]
    ticket_id = session.exec(select(OutboxMessage.ticket_id).where(
        OutboxMessage.channel == msg.channel, col(OutboxMessage.target).in_(targets),
        OutboxMessage.external_id == msg.thread,
        col(OutboxMessage.ticket_id).is_not(None))).first()
    return session.get(Ticket, ticket_id) if ticket_id is not None else None


def live_ticket(session: Session, ticket: Ticket) -> Ticket | None:
    """``ticket`` if it is not closed; else the open ticket it was merged into (following
    merges of merges); None when the conversation ended with it."""
    seen: set[int] = set()
    while ticket.status == TicketStatus.CLOSED and ticket.id not in seen:
        seen.add(ticket.id or 0)
        into = merge_target(session, ticket.id or 0)
        found = session.get(Ticket, into) if into is not None else None
        if found is None:
            return None
        ticket = found
    return None if ticket.status == TicketStatus.CLOSED else ticket


def staff_on_ticket(session: Session, cfg: IntakeConfig, actor: Contact, ticket: Ticket,
                    msg: Incoming, now: datetime) -> list[Reply]:
    """Staff wrote in a ticket's thread: an internal note, unless it begins with ``reply``
    (then it goes to the customer): nothing reaches a customer by accident."""
    lang = actor.language or "en"
    if (msg.chat, msg.thread) == (ticket.channel_chat, ticket.channel_thread):
        # The customer's own thread (a Slack Connect channel): they read it already, so it is
        # a public reply on the audit trail, and nothing is sent again.
        tickets.add_event(session, ticket, tickets.PUBLIC_REPLY, msg.text or "", actor=actor,
                          at=now, data={"seen_in_thread": True})
        return []
    words = (msg.text or "").strip().split(None, 1)
    first = words[0].lstrip("/").lower() if words else ""
    text = words[1].strip() if first in ("reply", "note") and len(words) > 1 else (
        "" if first in ("reply", "note") else (msg.text or "").strip())
    public = first == "reply"
    if public and ticket.status == TicketStatus.CLOSED:
        return [Reply(t("cmd.err.closed", lang, n=ticket.id))]
    if not text and not msg.files:
        return [Reply(t("thread.empty", lang, n=ticket.id))]
    names = ", ".join(f.filename for f in msg.files)
    stored, refused = attach_to_ticket(session, cfg, ticket, msg.files, actor, now)
    told = [Reply(exc.message(lang)) for exc in refused]  # too big, not allowed: they know
    if public:
        engineer_replied(session, cfg.policy, ticket, text or names, actor=actor, now=now,
                         files=stored)
        return told + [Reply(t("cmd.done.reply", lang, n=ticket.id),
                             meta={"ticket": str(ticket.id)})]
    tickets.add_event(session, ticket, tickets.INTERNAL_NOTE, text or names, actor=actor,
                      at=now)
    return told + [Reply(t("thread.noted", lang, n=ticket.id), meta={"ticket": str(ticket.id)})]


def ticket_awaiting(session: Session, who: Identity, channel: str) -> Ticket | None:
    """The contact's latest ticket on this channel whose clocks wait for their next message:
    an information pause (P17), or remote-access details the bot asked for (P13)."""
    # One query for the tickets with their open pause: this runs for a customer's every
    # message outside a dialog, and a contact may have many tickets waiting for remote access.
    candidates = session.exec(
        select(Ticket, TicketPause)
        .join(TicketPause, col(TicketPause.ticket_id) == col(Ticket.id))
        .where(Ticket.contact_id == who.contact.id, Ticket.channel == channel,
               Ticket.status == TicketStatus.PENDING, col(TicketPause.ended_at).is_(None))
        .order_by(col(Ticket.id).desc()))
    for ticket, pause in candidates:
        if pause.kind != REMOTE_ACCESS_PAUSE or _access_asked(session, ticket, pause):
            return ticket
    return None


def on_ticket(session: Session, cfg: IntakeConfig, who: Identity, ticket: Ticket, msg: Incoming,
              lang: str, now: datetime) -> list[Reply]:
    """The customer wrote on ``ticket``: apply the rule of its pause (module docstring)."""
    refused = [Reply(exc.message(lang))
               for exc in attach_to_ticket(session, cfg, ticket, msg.files, who.contact,
                                           now).refused]
    text = (msg.text or "").strip()
    pause = tickets.open_pause(session, ticket.id or 0)
    if pause is not None and pause.kind == REMOTE_ACCESS_PAUSE:
        if text and _access_asked(session, ticket, pause):
            return [grant_access(session, cfg, who, ticket, text, lang, now)]
        if text:
            customer_replied(session, ticket.id or 0, now=now, text=text, actor=who.contact,
                             policy=cfg.policy, routing=cfg.routing)
        return refused + [Reply(t("access.still_waiting", lang, number=ticket.id),
                                meta={"ticket": str(ticket.id)})]
    said = text or ", ".join(f.filename for f in msg.files)
    resumed = customer_replied(session, ticket.id or 0, now=now, text=said, actor=who.contact,
                               policy=cfg.policy, routing=cfg.routing)
    head = t("waiting.answered" if resumed else "conversation.added", lang, number=ticket.id)
    return refused + [Reply(_with_line(session, cfg, who, ticket, head, lang, now),
                            meta={"ticket": str(ticket.id)})]


def ask_access(session: Session, who: Identity, ticket: Ticket, lang: str,
               now: datetime) -> Reply:
    """``access N`` without details: ask how to connect; the next message is the answer."""
    pause = tickets.open_pause(session, ticket.id or 0)
    if pause is None or pause.kind != REMOTE_ACCESS_PAUSE:
        if ticket.remote_access:
            return Reply(t("access.already", lang, number=ticket.id))
        return Reply(t("access.usage", lang))
    if not _access_asked(session, ticket, pause):
        tickets.add_event(session, ticket, ACCESS_ASKED, "how to connect?", actor=who.contact,
                          at=now)
    return Reply(t("access.ask_how", lang, number=ticket.id), meta={"ticket": str(ticket.id)})


def grant_access(session: Session, cfg: IntakeConfig, who: Identity, ticket: Ticket, how: str,
                 lang: str, now: datetime) -> Reply:
    """Remote access is given with ``how``: recorded, and a P13 pause ends (clocks run)."""
    pause = tickets.open_pause(session, ticket.id or 0)
    if ticket.remote_access and (pause is None or pause.kind != REMOTE_ACCESS_PAUSE):
        return Reply(t("access.already", lang, number=ticket.id))
    remote_access_given(session, ticket.id or 0, now=now, how=how, actor=who.contact,
                        policy=cfg.policy, routing=cfg.routing)
    return Reply(_with_line(session, cfg, who, ticket, t("access.thanks", lang, number=ticket.id),
                            lang, now), meta={"ticket": str(ticket.id)})


def _access_asked(session: Session, ticket: Ticket, pause: TicketPause) -> bool:
    return session.exec(select(TicketEvent.id).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == ACCESS_ASKED,
        col(TicketEvent.at) >= pause.started_at)).first() is not None


def _with_line(session: Session, cfg: IntakeConfig, who: Identity, ticket: Ticket, head: str,
               lang: str, now: datetime) -> str:
    zone = customer_calendar(who.customer).zone
    return "\n".join([head, ticket_line(session, cfg, ticket, lang, zone, now)])


register({
    "access.ask_how": {
        "en": "How do we connect to your system for ticket #{number}? Reply with the details "
              "(e.g. AnyDesk ID, VPN account); the clocks run again once we have them.",
        "tr": "#{number} numaralı kayıt için sisteminize nasıl bağlanacağız? Bağlantı "
              "bilgilerini yanıt olarak yazın (ör. AnyDesk kimliği, VPN hesabı); bilgiler "
              "gelince süreler yeniden işler.",
    },
    "access.still_waiting": {
        "en": "Added to ticket #{number}. It still waits for remote access (the clocks are "
              "paused): when access is ready, send /access {number} followed by how to connect.",
        "tr": "#{number} numaralı kayda eklendi. Kayıt hâlâ uzaktan erişim bekliyor (süreler "
              "duraklatıldı): erişim hazır olunca /access {number} ve bağlantı yolunu yazın.",
    },
    "conversation.closed": {
        "en": "Ticket #{number} is closed, so your message was not added to it.",
        "tr": "#{number} numaralı kayıt kapatıldı; mesajınız bu kayda eklenmedi.",
    },
    "conversation.added": {
        "en": "Added to ticket #{number}; the engineers see it. Something else to report? "
              "Send /new.",
        "tr": "#{number} numaralı kayda eklendi; mühendislerimiz görecek. Bildirmek istediğiniz "
              "başka bir sorun mu var? /new yazın.",
    },
    "thread.noted": {
        "en": "#{n}: internal note (the customer does not see it). To write to the customer, "
              "begin with: reply",
        "tr": "#{n}: iç not (müşteri görmez). Müşteriye yazmak için mesaja reply ile başlayın.",
    },
    "thread.empty": {
        "en": "#{n}: nothing to add. Write a note, or reply TEXT to write to the customer.",
        "tr": "#{n}: eklenecek bir şey yok. Bir not yazın ya da müşteriye yazmak için reply "
              "METİN yazın.",
    },
})
