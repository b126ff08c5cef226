"""Which ticket a customer's message is about, when the platform does not say.

A customer writes outside a thread (the console, a Telegram chat without "reply", a Slack DM):

- with one ticket open, the message is a follow-up on it;
- with several (or with a report half done while a ticket waits for their answer), the
  message is *held* and the customer picks with buttons: one per ticket, and "a new report"
  (or "the report I am writing"); a typed number picks by position. The held message and its
  files are kept in the database (:class:`~storage.models.HeldMessage`), so a restart loses
  nothing; writing again before picking adds to it.

Where the platform says (a Slack thread, a Telegram reply to a message about the ticket), the
dispatch goes to the ticket directly (:func:`handlers.conversation.ticket_in_thread`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import Attachment, DialogSession, HeldMessage, Ticket, TicketStatus

from .customer_verbs import NEW_REPORT_WORDS
from .dialog import Invalid
from .i18n import register, t
from .identity import Identity
from .intake import IntakeConfig, files_added, store_attachment
from .text import clip
from .types import Choice, Incoming, Reply

PICK_STEP = "pick-ticket"  # the button_step of the "which ticket?" buttons
NEW_REPORT = "new"  # the button that makes the held message a new report
THE_DIALOG = "dialog"  # the button that gives the held message to the report in progress
TICKET_PREFIX = "ticket:"
WORKED_ON = (TicketStatus.OPEN, TicketStatus.PENDING)  # statuses a follow-up can go to

# What the dispatch does once the customer picked: the held message goes to a ticket, to a new
# report or to the report in progress (``handlers.dispatch`` passes these in: it owns them).
ToTicket = Callable[[Ticket, Incoming], list[Reply]]
ToDialog = Callable[[Incoming, Sequence[int]], list[Reply]]


def open_tickets(session: Session, who: Identity, channel: str) -> list[Ticket]:
    """The contact's tickets on this channel still being worked on, newest first."""
    return list(session.exec(select(Ticket).where(
        Ticket.contact_id == who.contact.id, Ticket.channel == channel,
        col(Ticket.status).in_(WORKED_ON)).order_by(col(Ticket.id).desc())))


def hold(session: Session, cfg: IntakeConfig, who: Identity, msg: Incoming,
         choices: Sequence[Ticket], dialog: DialogSession | None, lang: str,
         held: HeldMessage | None = None) -> list[Reply]:
    """Keep ``msg`` (added to what is held already) and ask which ticket it is about."""
    refused: list[Reply] = []
    if held is None:
        held = HeldMessage(channel=msg.channel, user_key=msg.user_key,
                           contact_id=who.contact.id or 0)
    ids = _ids(held)
    for f in msg.files:
        try:
            if len(ids) >= cfg.max_attachments:
                raise Invalid("files.too_many", name=f.filename, limit=cfg.max_attachments)
            ids.append(store_attachment(session, cfg, f).id or 0)
        except Invalid as exc:
            refused.append(Reply(exc.message(lang)))
    text = (msg.text or "").strip()
    held.text = "\n".join(p for p in (held.text, text) if p)
    held.attachment_ids = ",".join(str(i) for i in ids)
    session.add(held)
    return refused + [ask(choices, dialog, lang)]


def ask(choices: Sequence[Ticket], dialog: DialogSession | None, lang: str) -> Reply:
    """"Which ticket is this about?" with a button per ticket and one for a report."""
    buttons = [Choice(f"{TICKET_PREFIX}{tk.id}", clip(f"#{tk.id} {tk.summary}", 60))
               for tk in choices]
    buttons.append(Choice(THE_DIALOG, t("followup.the_report", lang)) if dialog is not None
                   else Choice(NEW_REPORT, t("followup.new_report", lang)))
    return Reply(t("followup.which", lang), choices=tuple(buttons), meta={"step": PICK_STEP})


def picked(session: Session, who: Identity, msg: Incoming, held: HeldMessage,
           dialog: DialogSession | None, lang: str, now: datetime, to_ticket: ToTicket,
           to_dialog: ToDialog) -> list[Reply] | None:
    """The customer's pick (a button, or a typed number): the held message goes where they
    said. None when ``msg`` is not a pick (the caller adds it to the held message)."""
    tickets = open_tickets(session, who, msg.channel)
    value = _value(msg, tickets, dialog)
    if value is None:
        return None
    text, ids = held.text, _ids(held)
    session.delete(held)
    session.flush()
    if value.startswith(TICKET_PREFIX):
        ticket = next((tk for tk in tickets if str(tk.id) == value[len(TICKET_PREFIX):]), None)
        if ticket is None:  # closed meanwhile, or a stale button: ask again
            session.add(HeldMessage(channel=held.channel, user_key=held.user_key,
                                    contact_id=held.contact_id, text=text,
                                    attachment_ids=held.attachment_ids))
            return [Reply(t("followup.gone", lang)), ask(tickets, dialog, lang)]
        files = adopt(session, ids, ticket, who, now)
        return to_ticket(ticket, replace(msg, text=text or ", ".join(files), files=(),
                                         button_step=None))
    return to_dialog(replace(msg, text=text or None, files=(), button_step=None), ids)


def adopt(session: Session, ids: Sequence[int], ticket: Ticket, who: Identity,
          now: datetime) -> list[str]:
    """Held files become the ticket's (one audit event); their names."""
    names: list[str] = []
    for att in session.exec(select(Attachment).where(col(Attachment.id).in_(ids))):
        att.ticket_id, att.dialog_id = ticket.id, None
        session.add(att)
        names.append(att.filename)
    files_added(session, ticket, len(names), who.contact, now)
    return names


def _value(msg: Incoming, tickets: Sequence[Ticket], dialog: DialogSession | None) -> str | None:
    options = [f"{TICKET_PREFIX}{tk.id}" for tk in tickets]
    options.append(THE_DIALOG if dialog is not None else NEW_REPORT)
    answer = (msg.text or "").strip()
    if msg.button_step == PICK_STEP:
        return answer if answer.startswith(TICKET_PREFIX) or answer in options else None
    if answer.isdigit() and 1 <= int(answer) <= len(options) and not msg.files:
        return options[int(answer) - 1]
    if answer.lower() in NEW_REPORT_WORDS and not msg.files:
        return options[-1]  # a report: the new one, or the one in progress
    return None


def _ids(held: HeldMessage) -> list[int]:
    return [int(i) for i in held.attachment_ids.split(",") if i.isdigit()]


register({
    "followup.which": {
        "en": "Which ticket is this about? (Your message is kept until you choose.)",
        "tr": "Bu mesaj hangi kayıtla ilgili? (Seçene kadar mesajınız saklanıyor.)",
    },
    "followup.new_report": {
        "en": "A new report",
        "tr": "Yeni bir bildirim",
    },
    "followup.the_report": {
        "en": "The report I am writing",
        "tr": "Yazmakta olduğum bildirim",
    },
    "followup.nothing_held": {
        "en": "Nothing is waiting for that choice any more; just write your message again.",
        "tr": "Bu seçimi bekleyen bir mesaj kalmadı; mesajınızı yeniden yazmanız yeterli.",
    },
    "followup.gone": {
        "en": "That ticket is no longer open.",
        "tr": "O kayıt artık açık değil.",
    },
})
