"""What a customer can ask for by name, the same on every channel: ``status``, ``list``,
``access``, ``lang``, ``plan``, ``new``, ``cancel``, ``help``.

:func:`handlers.dispatch.route` sends a customer's command here; each verb answers in the
customer's language and changes nothing when its arguments are wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from storage import tickets
from storage.directory import customer_calendar
from storage.models import Contact, DialogSession, Ticket

from . import conversation, intake
from .i18n import normalise_language, register, t
from .identity import Identity, Refusal, Sender, contact_language
from .intake import IntakeConfig
from .planned_work import plan_command
from .ticket_line import ticket_line
from .types import Incoming, Reply
from .vocabulary import clock_name, clock_state_name, local_when

# new/start need a dialog; the rest answer at once.
VERBS = ("start", "new", "status", "list", "access", "plan", "cancel", "lang", "help")
# The word that starts a new report when typed as a plain message, in either language: with a
# ticket open, any other message is a follow-up on it.
NEW_REPORT_WORDS = frozenset({"new", "yeni", "/new", "/yeni"})


def run(session: Session, cfg: IntakeConfig, msg: Incoming, now: datetime,
        sender: Sender) -> list[Reply]:
    """One customer verb (``msg.command`` is one of :data:`VERBS`) from the ``sender``
    identified once by the dispatch."""
    verb = (msg.command or "").lower()
    who, row = sender.who, sender.dialog
    if verb == "lang":  # works before anything else: also for people we do not know yet
        return [lang(session, msg, who.contact, row)]
    found = admitted(session, who, row)
    if isinstance(found, Reply):
        return [found]
    ident, language = found
    return _VERBS[verb](session, cfg, ident, row, msg, language, now)


def admitted(session: Session, who: Identity | Refusal, row: DialogSession | None,
             ) -> tuple[Identity, str] | Reply:
    """A customer who may report (P9, P12) with their language; or the polite refusal (a
    dialog of someone refused now is dropped)."""
    if isinstance(who, Refusal):
        if row is not None:  # contract expired or training withdrawn mid-dialog
            intake.discard(session, row)
        return Reply(who.text, meta={"refused": who.reason})
    return who, row.language if row is not None else who.language


def lang(session: Session, msg: Incoming, contact: Contact | None,
         row: DialogSession | None) -> Reply:
    """``lang tr|en``: the language of every later message to this person."""
    wanted = normalise_language(msg.args[0]) if msg.args else None
    if wanted is None:
        return Reply(t("lang.usage", contact_language(contact, None, msg.language_hint)))
    if contact is not None:
        contact.language = wanted
        session.add(contact)
    if row is not None:
        row.language = wanted
        session.add(row)
    session.flush()
    return Reply(t("lang.set", wanted))


Verb = Callable[[Session, IntakeConfig, Identity, DialogSession | None, Incoming, str, datetime],
                list[Reply]]


def _new(session: Session, cfg: IntakeConfig, who: Identity, row: DialogSession | None,
         msg: Incoming, lang: str, now: datetime) -> list[Reply]:
    if row is not None:
        return intake.resume(session, cfg, who, row, msg, lang, now)
    return intake.start(session, cfg, who, msg, lang, now)


def _cancel(session: Session, cfg: IntakeConfig, who: Identity, row: DialogSession | None,
            msg: Incoming, lang: str, now: datetime) -> list[Reply]:
    return intake.cancel(session, row, lang)


def _help(session: Session, cfg: IntakeConfig, who: Identity, row: DialogSession | None,
          msg: Incoming, lang: str, now: datetime) -> list[Reply]:
    return [Reply(t("help", lang, days=cfg.policy.planned_work_notice_days))]


def _list(session: Session, cfg: IntakeConfig, who: Identity, row: DialogSession | None,
          msg: Incoming, lang: str, now: datetime) -> list[Reply]:
    return [open_tickets(session, cfg, who, lang, now)]


def _status(session: Session, cfg: IntakeConfig, who: Identity, row: DialogSession | None,
            msg: Incoming, lang: str, now: datetime) -> list[Reply]:
    if not msg.args:
        return [open_tickets(session, cfg, who, lang, now)]
    ticket = own_ticket(session, who, msg.args[0])
    if ticket is None:
        return [Reply(t("status.not_found", lang, ref=msg.args[0]))]
    view = tickets.view(session, cfg.policy, ticket, now)
    zone = customer_calendar(who.customer).zone
    lines = [ticket_line(session, cfg, ticket, lang, zone, now)]
    if view.product:
        lines.append(f"{t('field.product_id', lang)}: {view.product.name} "
                     f"{ticket.version_text or ''}".rstrip())
    if view.assignee:
        lines.append(t("status.assignee", lang, name=view.assignee.name))
    for s in view.clocks:
        if s.deadline is not None and s.target.has_clock:
            lines.append(f"  {clock_name(s.kind, lang)}: {local_when(s.deadline, zone)} "
                         f"({clock_state_name(s.status, lang)})")
    return [Reply("\n".join(lines), meta={"ticket": str(ticket.id)})]


def _access(session: Session, cfg: IntakeConfig, who: Identity, row: DialogSession | None,
            msg: Incoming, lang: str, now: datetime) -> list[Reply]:
    """``access N [how]``: remote access is ready (P13). With the details the clocks run again;
    without them the bot asks how to connect and takes the next message as the answer."""
    if not msg.args or tickets.parse_ticket_number(msg.args[0]) is None:
        return [Reply(t("access.usage", lang))]
    ticket = own_ticket(session, who, msg.args[0])
    if ticket is None:
        return [Reply(t("status.not_found", lang, ref=msg.args[0]))]
    how = " ".join(msg.args[1:]).strip()
    if not how:
        return [conversation.ask_access(session, who, ticket, lang, now)]
    return [conversation.grant_access(session, cfg, who, ticket, how, lang, now)]


def _plan(session: Session, cfg: IntakeConfig, who: Identity, row: DialogSession | None,
          msg: Incoming, lang: str, now: datetime) -> list[Reply]:
    return [plan_command(session, cfg.policy, msg.channel, msg.user_key,
                         " ".join(msg.args), now, cfg.routing, msg.language_hint,
                         msg.workspace)]


_VERBS: dict[str, Verb] = {"start": _new, "new": _new, "cancel": _cancel, "help": _help,
                           "list": _list, "status": _status, "access": _access, "plan": _plan}


def own_ticket(session: Session, who: Identity, ref: str) -> Ticket | None:
    """Ticket ``ref`` if it belongs to the customer's organisation (no one else's)."""
    number = tickets.parse_ticket_number(ref)
    ticket = session.get(Ticket, number) if number is not None else None
    return ticket if ticket is not None and ticket.customer_id == who.customer.id else None


def open_tickets(session: Session, cfg: IntakeConfig, who: Identity, lang: str,
                 now: datetime) -> Reply:
    """The organisation's open tickets, one line each with the next deadline."""
    rows = tickets.list_tickets(session, customer_id=who.customer.id, open_only=True)
    if not rows:
        return Reply(t("list.none", lang))
    zone = customer_calendar(who.customer).zone
    return Reply("\n".join([t("list.title", lang, customer=who.customer.name)]
                           + [ticket_line(session, cfg, r, lang, zone, now) for r in rows]))


register({
    "help": {
        "en": "I take support reports. /new starts a report, /status N shows ticket N, /list "
              "shows your organisation's open tickets, /access N HOW says remote access is "
              "given, /plan PRODUCT VERSION YYYY-MM-DD HH:MM-HH:MM announces planned work "
              "({days} days ahead), /cancel drops a report in progress, /lang tr|en switches "
              "the language. When a ticket waits for your answer, just write it.",
        "tr": "Destek bildirimlerinizi alırım. /new yeni bir bildirim başlatır, /status N, "
              "N numaralı kaydı gösterir, /list kurumunuzun açık kayıtlarını listeler, /access N "
              "NASIL uzaktan erişimin verildiğini bildirir, /plan ÜRÜN SÜRÜM YYYY-AA-GG "
              "SS:DD-SS:DD planlı bir çalışmayı bildirir ({days} gün önceden), /cancel devam eden "
              "bildirimi siler, /lang tr|en dili değiştirir. Bir kayıt yanıtınızı bekliyorsa "
              "doğrudan yazmanız yeterli.",
    },
})
