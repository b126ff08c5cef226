"""The engineers' ticket commands, the same verbs on every channel (Slack, Telegram, console).

``execute_command(session, policy, actor, "ack 12", now, routing)`` parses one command line,
checks who may run it, changes the ticket, writes the audit event first, queues the message to
the customer (P21) in the outbox and answers the actor. Nothing here knows about Slack or
Telegram; adapters only pass text in and render the returned replies.

Clock rules implemented here:
- ``ack``/``assign`` is the response (P3): ``responded_at`` is set once, the first time.
- ``pending`` opens a :class:`TicketPause`; ``resume`` (or a customer reply, see
  :func:`customer_replied`) closes every open pause (P17).
- ``sev`` only changes the severity: deadlines are recomputed from ``reported_at`` with every
  pause already recorded, so waiting time is never lost on a reclassification.
- ``reopen`` records the resolved interval as a pause (kind ``reopen``) from ``resolved_at`` to
  the reopen instant and clears ``resolved_at``: the resolution clock resumes with the time it
  had already used, and the time the ticket sat resolved is not counted.
- ``close`` of a ticket that was never resolved stops the resolution clock at the close.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import event as sa_event
from sqlmodel import Session, col, select

from sla import ClockState, ClockStatus, Policy, format_duration
from storage import tickets as store
from storage.directory import name_key
from storage.models import Contact, Customer, Role, Ticket, TicketEvent, TicketPause, TicketStatus

from . import ticket_updates as updates
from .i18n import register, t
from .notify import tell_customer_about, tell_engineers_about
from .oncall import oncall_reply, take_pages
from .types import Reply, Routing
from .vocabulary import clock_name, status_name

if TYPE_CHECKING:
    from .reports import ChartMaker

log = logging.getLogger(__name__)

STAFF_ROLES = (Role.ENGINEER.value, Role.MANAGER.value)
REMOTE_ACCESS_PAUSE = "remote-access"  # P13: ended by the access details, not by any message
LIST_LIMIT = 50  # lines of a ``list`` reply
READ_ONLY_VERBS = frozenset({"help", "status", "list"})  # change nothing, whoever asks

register({
    "cmd.refused.unknown": {
        "en": "Sorry, I do not know you. Ask your administrator to register you as a contact.",
        "tr": "Üzgünüm, sizi tanımıyorum. Yöneticinizden sizi kişi olarak kaydetmesini isteyin.",
    },
    "cmd.refused.customer": {
        "en": "The command \"{verb}\" is for our support engineers only. You can use: "
              "status N, list, help.",
        "tr": "\"{verb}\" komutunu yalnızca destek mühendislerimiz kullanabilir. "
              "Kullanabileceğiniz komutlar: status N, list, help.",
    },
    "cmd.err.unknown_verb": {
        "en": "Unknown command \"{verb}\". Type \"help\" for the list of commands.",
        "tr": "Bilinmeyen komut: \"{verb}\". Komut listesi için \"help\" yazın.",
    },
    "cmd.err.empty": {
        "en": "Type a command, for example \"status 12\", or \"help\".",
        "tr": "Bir komut yazın, örneğin \"status 12\" ya da \"help\".",
    },
    "cmd.err.usage": {
        "en": "Usage: {usage}",
        "tr": "Kullanım: {usage}",
    },
    "cmd.err.no_ticket": {
        "en": "There is no ticket #{n}.",
        "tr": "#{n} numaralı bir kayıt yok.",
    },
    "cmd.err.no_engineer": {
        "en": "\"{who}\" is not a known support engineer.",
        "tr": "\"{who}\" tanınan bir destek mühendisi değil.",
    },
    "cmd.err.bad_severity": {
        "en": "\"{sev}\" is not a severity: use {choices}.",
        "tr": "\"{sev}\" bir önem derecesi değil: {choices} kullanın.",
    },
    "cmd.err.already_assigned": {
        "en": "Ticket #{n} is already assigned to {engineer}: nothing changed.",
        "tr": "#{n} numaralı kayıt zaten {engineer} üzerinde; bir şey değişmedi.",
    },
    "cmd.err.same_severity": {
        "en": "Ticket #{n} already has severity {sev}.",
        "tr": "#{n} numaralı kaydın önem derecesi zaten {sev}.",
    },
    "cmd.err.bad_tier": {
        "en": "\"{tier}\" is not a tier: use tier2 or tier3.",
        "tr": "\"{tier}\" bir seviye değil: tier2 ya da tier3 kullanın.",
    },
    "cmd.err.same_tier": {
        "en": "Ticket #{n} is already at tier {tier}.",
        "tr": "#{n} numaralı kayıt zaten {tier}. seviyede.",
    },
    "cmd.err.closed": {
        "en": "Ticket #{n} is closed; reopen it first (reopen {n} reason).",
        "tr": "#{n} numaralı kayıt kapalı; önce yeniden açın (reopen {n} gerekçe).",
    },
    "cmd.err.resolved": {
        "en": "Ticket #{n} is resolved; close it or reopen it (reopen {n} reason).",
        "tr": "#{n} numaralı kayıt çözüldü; kapatın ya da yeniden açın (reopen {n} gerekçe).",
    },
    "cmd.err.already_pending": {
        "en": "Ticket #{n} is already waiting for the customer.",
        "tr": "#{n} numaralı kayıt zaten müşteriyi bekliyor.",
    },
    "cmd.err.not_pending": {
        "en": "Ticket #{n} is not waiting for the customer.",
        "tr": "#{n} numaralı kayıt müşteriyi beklemiyor.",
    },
    "cmd.err.not_resolved": {
        "en": "Ticket #{n} is neither resolved nor closed: nothing to reopen.",
        "tr": "#{n} numaralı kayıt çözülmüş ya da kapatılmış değil: yeniden açılacak bir şey yok.",
    },
    "cmd.err.bad_list": {
        "en": "Usage: list [mine|breaching|customer CODE]",
        "tr": "Kullanım: list [mine|breaching|customer KOD]",
    },
    "cmd.err.no_customer": {
        "en": "There is no customer \"{code}\".",
        "tr": "\"{code}\" kodlu bir müşteri yok.",
    },
    "cmd.err.kb_unavailable": {
        "en": "The knowledge base is not available here yet.",
        "tr": "Bilgi bankası burada henüz kullanılamıyor.",
    },
    "cmd.done.ack": {
        "en": "#{n}: assigned to {engineer}; the customer was told (response, P3).",
        "tr": "#{n}: {engineer} kişisine atandı; müşteriye bildirildi (yanıt, P3).",
    },
    "cmd.done.sev": {
        "en": "#{n}: severity {old} → {sev}; deadlines recomputed, waiting time kept.",
        "tr": "#{n}: önem derecesi {old} → {sev}; süreler yeniden hesaplandı, bekleme süreleri "
              "korundu.",
    },
    "cmd.done.pending": {
        "en": "#{n}: waiting for the customer; clocks paused. The customer was asked.",
        "tr": "#{n}: müşteri bekleniyor; süreler durduruldu. Müşteriye soruldu.",
    },
    "cmd.done.resume": {
        "en": "#{n}: clocks running again.",
        "tr": "#{n}: süreler yeniden işliyor.",
    },
    "cmd.done.workaround": {
        "en": "#{n}: workaround recorded and sent; workaround clock stopped.",
        "tr": "#{n}: geçici çözüm kaydedildi ve gönderildi; geçici çözüm süresi durdu.",
    },
    "cmd.done.resolve": {
        "en": "#{n}: resolved; resolution clock stopped. The customer was asked to confirm.",
        "tr": "#{n}: çözüldü; çözüm süresi durdu. Müşteriden onay istendi.",
    },
    "cmd.done.close": {
        "en": "#{n}: closed.",
        "tr": "#{n}: kapatıldı.",
    },
    "cmd.done.reopen": {
        "en": "#{n}: reopened; the resolution clock resumes where it stopped.",
        "tr": "#{n}: yeniden açıldı; çözüm süresi kaldığı yerden devam ediyor.",
    },
    "cmd.done.escalate": {
        "en": "#{n}: escalated to tier {tier}.",
        "tr": "#{n}: {tier}. seviyeye yükseltildi.",
    },
    "cmd.done.note": {
        "en": "#{n}: internal note added (not sent to the customer).",
        "tr": "#{n}: iç not eklendi (müşteriye gönderilmedi).",
    },
    "cmd.done.exception": {
        "en": "#{n}: SLA exception recorded and sent to the customer in writing.",
        "tr": "#{n}: SLA istisnası kaydedildi ve müşteriye yazılı olarak gönderildi.",
    },
    "cmd.status.head": {
        "en": "#{n} {customer} · {sev} {sev_name} · {status} · tier {tier} · {assignee}\n"
              "{summary}",
        "tr": "#{n} {customer} · {sev} {sev_name} · {status} · {tier}. seviye · {assignee}\n"
              "{summary}",
    },
    "cmd.status.unassigned": {"en": "unassigned", "tr": "atanmadı"},
    "cmd.status.no_clock": {
        "en": "No SLA clock (service request, billed separately).",
        "tr": "SLA süresi yok (ek hizmet talebi, ayrıca ücretlendirilir).",
    },
    "cmd.clock.left": {
        "en": "{icon} {clock} ({target}): {left} left, due {due}",
        "tr": "{icon} {clock} ({target}): {left} kaldı, bitiş {due}",
    },
    "cmd.clock.paused": {
        "en": "{icon} {clock} ({target}): paused, {left} left",
        "tr": "{icon} {clock} ({target}): durduruldu, {left} kaldı",
    },
    "cmd.clock.overdue": {
        "en": "{icon} {clock} ({target}): overdue by {over}, was due {due}",
        "tr": "{icon} {clock} ({target}): {over} gecikti, bitiş {due} idi",
    },
    "cmd.clock.met": {
        "en": "{icon} {clock} ({target}): met at {at}",
        "tr": "{icon} {clock} ({target}): {at} tarihinde karşılandı",
    },
    "cmd.clock.late": {
        "en": "{icon} {clock} ({target}): done late at {at}",
        "tr": "{icon} {clock} ({target}): {at} tarihinde gecikmeli tamamlandı",
    },
    "cmd.clock.none": {
        "en": "{icon} {clock}: {target}",
        "tr": "{icon} {clock}: {target}",
    },
    "cmd.list.empty": {"en": "No tickets.", "tr": "Kayıt yok."},
    "cmd.list.line": {
        "en": "{icon} #{n} {customer} {sev} {status} · {assignee} · {next} · {summary}",
        "tr": "{icon} #{n} {customer} {sev} {status} · {assignee} · {next} · {summary}",
    },
    "cmd.list.next": {"en": "{clock} {left}", "tr": "{clock} {left}"},
    "cmd.list.more": {
        "en": "… and {count} more: narrow with list mine, list breaching or list customer CODE.",
        "tr": "… ve {count} kayıt daha: list mine, list breaching ya da list customer KOD ile "
              "daraltın.",
    },
    "cmd.help.staff": {
        "en": "Commands (N = ticket number):\n"
              "ack N · assign N @engineer · sev N S1..S4 reason\n"
              "pending N what-is-missing · resume N\n"
              "workaround N text · resolve N text [--fix-version V] · close N · "
              "reopen N reason\n"
              "escalate N tier2|tier3 reason · note N text (internal) · exception N text\n"
              "status N · list [mine|breaching|customer CODE] · suggest N · link N KB-ID\n"
              "kb add N [KB-ID] · kb edit KB-ID field text · kb publish KB-ID\n"
              "report [CUSTOMER] [YYYY-MM] · planned · help\n"
              "oncall [ISO] · oncall swap @engineer until ISO",
        "tr": "Komutlar (N = kayıt numarası):\n"
              "ack N · assign N @mühendis · sev N S1..S4 gerekçe\n"
              "pending N eksik-bilgi · resume N\n"
              "workaround N metin · resolve N metin [--fix-version V] · close N · "
              "reopen N gerekçe\n"
              "escalate N tier2|tier3 gerekçe · note N metin (iç not) · exception N metin\n"
              "status N · list [mine|breaching|customer KOD] · suggest N · link N KB-ID\n"
              "kb add N [KB-ID] · kb edit KB-ID alan metin · kb publish KB-ID\n"
              "report [MÜŞTERİ] [YYYY-AA] · planned · help\n"
              "oncall [ISO] · oncall swap @mühendis until ISO",
    },
    "cmd.eng.customer_replied": {
        "en": "#{n} {customer}: the customer replied; clocks running again.\n{text}",
        "tr": "#{n} {customer}: müşteri yanıt verdi; süreler yeniden işliyor.\n{text}",
    },
    "cmd.eng.customer_wrote": {
        "en": "#{n} {customer}: the customer wrote.\n{text}",
        "tr": "#{n} {customer}: müşteri yazdı.\n{text}",
    },
    "cmd.eng.access_given": {
        "en": "#{n} {customer}: remote access given; clocks running again.\n{how}",
        "tr": "#{n} {customer}: uzaktan erişim verildi; süreler yeniden işliyor.\n{how}",
    },
    "cmd.eng.escalated": {
        "en": "#{n} {customer} {sev}: escalated to tier {tier} by {actor}. {reason}",
        "tr": "#{n} {customer} {sev}: {actor} tarafından {tier}. seviyeye yükseltildi. {reason}",
    },
})

USAGE = {
    "ack": "ack N",
    "assign": "assign N @engineer",
    "sev": "sev N S1|S2|S3|S4 reason",
    "pending": "pending N what-is-missing",
    "resume": "resume N",
    "workaround": "workaround N text",
    "resolve": "resolve N text [--fix-version V]",
    "close": "close N",
    "reopen": "reopen N reason",
    "escalate": "escalate N tier2|tier3 reason",
    "note": "note N text",
    "exception": "exception N text",
    "status": "status N",
    "list": "list [mine|breaching|customer CODE]",
    "suggest": "suggest N",
    "link": "link N KB-ID",
    "kb": "kb add N [KB-ID] | kb edit KB-ID FIELD TEXT | kb publish KB-ID",
    "report": "report [CUSTOMER] [YYYY-MM]",
    "planned": "planned",
    "oncall": "oncall [ISO] · oncall swap @engineer until ISO",
    "help": "help",
}

ICONS = {
    ClockStatus.RUNNING: "⏳",
    ClockStatus.PAUSED: "⏸️",
    ClockStatus.MET: "✅",
    ClockStatus.BREACHED: "🔴",
    ClockStatus.NO_TARGET: "➖",
}
WARN_ICON = "⚠️"


class CommandError(Exception):
    """Bad arguments or a forbidden state: the message goes back, nothing changes."""

    def __init__(self, key: str, **kwargs: Any) -> None:
        super().__init__(key)
        self.key = key
        self.kwargs = kwargs


@dataclass
class Ctx:
    session: Session
    policy: Policy
    actor: Contact
    lang: str
    now: datetime
    routing: Routing
    charts: ChartMaker | None = None

    @property
    def staff(self) -> bool:
        return self.actor.role in STAFF_ROLES


# -- entry point ---------------------------------------------------------------------------


def execute_command(
    session: Session,
    policy: Policy,
    actor: Contact | None,
    text: str,
    now: datetime,
    routing: Routing,
    charts: ChartMaker | None = None,
) -> list[Reply]:
    """Run one command line (``"ack 12"``, ``"/destek sev 12 S1 outage"``) for ``actor``.

    Returns the replies to the actor, in the actor's language. The caller commits the session;
    ``handlers.hooks.ticket_changed`` runs after that commit for every changed ticket.
    """
    lang = (actor.language if actor else None) or "en"
    words = text.replace("\x00", "").strip().split()  # NUL: PostgreSQL text refuses it
    if words and words[0].startswith("/"):
        words[0] = words[0][1:]
        if words[0].split("@")[0].lower() == "destek":  # "/destek verb" or Telegram "/destek@bot"
            words = words[1:]
        elif words[0]:
            words[0] = words[0].split("@")[0]  # Telegram "/ack@destek_bot 12"
    if actor is None or not actor.active:
        return [Reply(t("cmd.refused.unknown", lang))]
    if not words:
        return [Reply(t("cmd.err.empty", lang))]
    verb, args = words[0].lower(), words[1:]
    handler = HANDLERS.get(verb)
    if handler is None:
        return [Reply(t("cmd.err.unknown_verb", lang, verb=verb))]
    ctx = Ctx(session, policy, actor, lang, now, routing, charts)
    if not ctx.staff:  # customers' own status/list/help: handlers.customer_verbs
        return [Reply(t("cmd.refused.customer", lang, verb=verb))]
    try:
        if verb in READ_ONLY_VERBS:  # nothing to undo: no savepoint round trips
            return handler(ctx, args)
        # A savepoint: a command that fails half-way leaves the ticket exactly as it was.
        with session.begin_nested():
            return handler(ctx, args)
    except CommandError as exc:
        return [Reply(t(exc.key, lang, **exc.kwargs))]


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
    """A customer wrote in the ticket's conversation: record it, tell the engineers and, when
    the ticket waited for their information (P17), resume every clock. A remote-access pause
    (P13) is not ended by a message: see :func:`remote_access_given`. True when it resumed."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return False
    text = text.replace("\x00", "")  # PostgreSQL text cannot hold NUL
    said = store.add_event(session, ticket, "customer-reply", text, actor=actor, at=now)
    pause = store.open_pause(session, ticket_id)
    waiting = ticket.status == TicketStatus.PENDING and (
        pause is None or pause.kind != REMOTE_ACCESS_PAUSE)
    if not waiting:
        tell_engineers_about(session, routing or Routing(), ticket, said, t(
            "cmd.eng.customer_wrote", "en", n=ticket_id,
            customer=_customer_code(session, ticket), text=text[:500]))
        return False
    _resume_for_customer(session, ticket, now, actor, policy, routing, "customer replied",
                         t("cmd.eng.customer_replied", "en", n=ticket_id,
                           customer=_customer_code(session, ticket), text=text[:500]))
    return True


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
    how = how.replace("\x00", "").strip()
    ticket.remote_access = True
    ticket.remote_access_how = how
    session.add(ticket)
    store.add_event(session, ticket, "remote-access", how, actor=actor, at=now)
    pause = store.open_pause(session, ticket_id)
    if ticket.status != TicketStatus.PENDING or pause is None \
            or pause.kind != REMOTE_ACCESS_PAUSE:
        return False
    _resume_for_customer(session, ticket, now, actor, policy, routing, "remote access given",
                         t("cmd.eng.access_given", "en", n=ticket_id,
                           customer=_customer_code(session, ticket), how=how[:500]))
    return True


def _resume_for_customer(session: Session, ticket: Ticket, now: datetime, actor: Contact | None,
                         policy: Policy, routing: Routing | None, why: str,
                         engineers_text: str) -> None:
    _end_pauses(session, ticket, now)
    ticket.status = TicketStatus.OPEN
    ev = store.add_event(session, ticket, "resumed", why, actor=actor, at=now)
    store.refresh_deadlines(session, policy, ticket, now)
    tell_customer_about(session, ticket, ev, updates.resumed(ticket.id or 0, ticket.language, True))
    tell_engineers_about(session, routing or Routing(), ticket, ev, engineers_text)
    _changed(session, ticket.id or 0)


def _customer_code(session: Session, ticket: Ticket) -> str:
    customer = session.get(Customer, ticket.customer_id)
    return customer.code if customer else "?"


# -- argument parsing -------------------------------------------------------------------------


def _usage(verb: str) -> CommandError:
    return CommandError("cmd.err.usage", usage=USAGE[verb])


def _number(verb: str, args: list[str]) -> int:
    if not args:
        raise _usage(verb)
    number = store.parse_ticket_number(args[0])
    if number is None:
        raise _usage(verb)
    return number


def _rest(verb: str, args: list[str], start: int) -> str:
    text = " ".join(args[start:]).strip()
    if not text:
        raise _usage(verb)
    return text


def _ticket(ctx: Ctx, verb: str, args: list[str]) -> Ticket:
    """The ticket named by the first argument (commands are staff-only)."""
    n = _number(verb, args)
    ticket = ctx.session.get(Ticket, n)
    if ticket is None:
        raise CommandError("cmd.err.no_ticket", n=n)
    return ticket


_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")


def find_engineer(session: Session, ref: str) -> Contact | None:
    """An active engineer or manager by Slack mention/id, Telegram id, contact id or name
    (full name or a unique first name, case-insensitive)."""
    ref = ref.strip()
    m = _MENTION.match(ref)
    ref = m.group(1) if m else ref.lstrip("@")
    if not ref:
        return None
    staff = list(session.exec(
        select(Contact).where(col(Contact.role).in_(STAFF_ROLES), Contact.active == True)  # noqa: E712
        .order_by(col(Contact.id))
    ))
    for c in staff:
        if ref in (c.slack_id, c.name) or (ref.isdigit() and int(ref) in (c.telegram_id, c.id)):
            return c
    # Typed without case or accents ("elif sahin", "Deniz"): only when one person matches.
    key = name_key(ref)
    exact = [c for c in staff if name_key(c.name) == key]
    if len(exact) == 1:
        return exact[0]
    first = [c for c in staff if name_key(c.name.split()[0]) == key]
    return first[0] if len(first) == 1 else None


def _guard(ticket: Ticket, allow_resolved: bool = False) -> None:
    n = ticket.id
    if ticket.status == TicketStatus.CLOSED:
        raise CommandError("cmd.err.closed", n=n)
    if ticket.status == TicketStatus.RESOLVED and not allow_resolved:
        raise CommandError("cmd.err.resolved", n=n)


# -- effects: audit first, then the customer, then the scheduler -----------------------------------


def _record(
    ctx: Ctx, ticket: Ticket, kind: str, text: str, customer_text: str | None,
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    """Write the audit event, recompute deadlines, queue the customer's message."""
    ev = store.add_event(ctx.session, ticket, kind, text, actor=ctx.actor, at=ctx.now, data=data)
    store.refresh_deadlines(ctx.session, ctx.policy, ticket, ctx.now)
    if customer_text is not None:
        tell_customer_about(ctx.session, ticket, ev, customer_text)
    _changed(ctx.session, ticket.id or 0)
    return ev


_PENDING_KEY = "destek.changed_tickets"


def _changed(session: Session, ticket_id: int) -> None:
    """Tell the scheduler (handlers.hooks, when present) once the change is committed:
    before the commit another connection could not see it yet."""
    pending: set[int] | None = session.info.get(_PENDING_KEY)
    if pending is None:
        pending = set()
        session.info[_PENDING_KEY] = pending
        sa_event.listen(session, "after_commit", _fire_hooks)
        sa_event.listen(session, "after_rollback", _forget_hooks)
    pending.add(ticket_id)


def _fire_hooks(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT released: not committed yet
        return
    ids = sorted(session.info.get(_PENDING_KEY) or ())
    session.info[_PENDING_KEY] = set()
    if not ids:
        return
    try:
        from . import hooks  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return
    for ticket_id in ids:
        try:
            hooks.ticket_changed(ticket_id)
        except Exception:  # the scheduler's trouble must not undo a committed change
            log.exception("ticket_changed(%s) failed", ticket_id)


def _forget_hooks(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info[_PENDING_KEY] = set()


def _end_pauses(session: Session, ticket: Ticket, now: datetime) -> None:
    for pause in session.exec(select(TicketPause).where(
        TicketPause.ticket_id == ticket.id, col(TicketPause.ended_at).is_(None)
    )):
        pause.ended_at = max(now, pause.started_at)
        session.add(pause)


def _local_tz(session: Session, ticket: Ticket) -> str:
    return store.ticket_calendar(session, ticket).tz


# -- verbs ----------------------------------------------------------------------------------


def _ack(ctx: Ctx, args: list[str], verb: str = "ack") -> list[Reply]:
    if verb == "ack" and len(args) != 1:
        raise _usage(verb)
    ticket = _ticket(ctx, verb, args)
    if verb == "assign":
        if len(args) < 2:
            raise _usage(verb)
        who = " ".join(args[1:])
        engineer = find_engineer(ctx.session, who)
        if engineer is None:
            raise CommandError("cmd.err.no_engineer", who=who)
        if ticket.assignee_id == engineer.id:  # nothing changes, so nobody is told
            raise CommandError("cmd.err.already_assigned", n=ticket.id, engineer=engineer.name)
    else:
        engineer = ctx.actor
    _guard(ticket, allow_resolved=False)
    first = ticket.responded_at is None
    if first:
        ticket.responded_at = ctx.now
    ticket.assignee_id = engineer.id
    ctx.session.add(ticket)
    text = updates.response(ticket.id or 0, engineer.name, ctx.now, _local_tz(ctx.session, ticket),
                            ticket.severity, ctx.policy, ticket.language, first)
    _record(ctx, ticket, "assigned" if verb == "assign" else "acknowledged", engineer.name, text,
            {"assignee_id": engineer.id, "response": first})
    take_pages(ctx.session, ticket, engineer, ctx.now)  # taking a page is the response (P3)
    return [_done(ctx, "cmd.done.ack", ticket, engineer=engineer.name)]


def _assign(ctx: Ctx, args: list[str]) -> list[Reply]:
    return _ack(ctx, args, "assign")


def _sev(ctx: Ctx, args: list[str]) -> list[Reply]:
    ticket = _ticket(ctx, "sev", args)
    if len(args) < 3:
        raise _usage("sev")
    sev = args[1].upper()
    if sev not in ctx.policy.severities:
        raise CommandError("cmd.err.bad_severity", sev=args[1],
                           choices=", ".join(ctx.policy.severities))
    reason = _rest("sev", args, 2)
    _guard(ticket)
    old = ticket.severity
    if sev == old:
        raise CommandError("cmd.err.same_severity", n=ticket.id, sev=sev)
    ticket.severity = sev
    ticket.severity_reason = reason
    ctx.session.add(ticket)
    text = updates.severity(ticket.id or 0, old, sev, reason, ctx.policy, ticket.language)
    _record(ctx, ticket, "severity", reason, text, {"from": old, "to": sev})
    return [_done(ctx, "cmd.done.sev", ticket, old=old, sev=sev)]


def _pending(ctx: Ctx, args: list[str]) -> list[Reply]:
    ticket = _ticket(ctx, "pending", args)
    reason = _rest("pending", args, 1)
    _guard(ticket)
    if ticket.status == TicketStatus.PENDING:
        raise CommandError("cmd.err.already_pending", n=ticket.id)
    ticket.status = TicketStatus.PENDING
    ctx.session.add(TicketPause(ticket_id=ticket.id or 0, started_at=ctx.now, reason=reason,
                                kind="customer"))
    ctx.session.add(ticket)
    ctx.session.flush()
    _record(ctx, ticket, "paused", reason, updates.pending(ticket.id or 0, reason, ticket.language))
    return [_done(ctx, "cmd.done.pending", ticket)]


def _resume(ctx: Ctx, args: list[str]) -> list[Reply]:
    if len(args) != 1:
        raise _usage("resume")
    ticket = _ticket(ctx, "resume", args)
    _guard(ticket)
    if ticket.status != TicketStatus.PENDING:
        raise CommandError("cmd.err.not_pending", n=ticket.id)
    _end_pauses(ctx.session, ticket, ctx.now)
    ticket.status = TicketStatus.OPEN
    ctx.session.add(ticket)
    ctx.session.flush()
    _record(ctx, ticket, "resumed", "", updates.resumed(ticket.id or 0, ticket.language))
    return [_done(ctx, "cmd.done.resume", ticket)]


def _workaround(ctx: Ctx, args: list[str]) -> list[Reply]:
    ticket = _ticket(ctx, "workaround", args)
    text = _rest("workaround", args, 1)
    _guard(ticket)
    if ticket.workaround_at is None:
        ticket.workaround_at = ctx.now
    ticket.workaround_text = text
    ctx.session.add(ticket)
    _record(ctx, ticket, "workaround", text,
            updates.workaround(ticket.id or 0, text, ticket.language))
    return [_done(ctx, "cmd.done.workaround", ticket)]


def _split_fix_version(args: list[str]) -> tuple[list[str], str | None]:
    out: list[str] = []
    version: str | None = None
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--fix-version":
            if i + 1 >= len(args):
                raise _usage("resolve")
            version = args[i + 1]
            i += 2
            continue
        if a.startswith("--fix-version="):
            version = a.split("=", 1)[1]
            if not version:
                raise _usage("resolve")
        else:
            out.append(a)
        i += 1
    return out, version


def _resolve(ctx: Ctx, args: list[str]) -> list[Reply]:
    args, version = _split_fix_version(args)
    ticket = _ticket(ctx, "resolve", args)
    text = _rest("resolve", args, 1)
    _guard(ticket)
    _end_pauses(ctx.session, ticket, ctx.now)
    ticket.status = TicketStatus.RESOLVED
    ticket.resolved_at = ctx.now
    ticket.resolution_text = text
    ticket.fix_version = version
    ctx.session.add(ticket)
    ctx.session.flush()
    _record(ctx, ticket, "resolved", text,
            updates.resolved(ticket.id or 0, text, version, ticket.language),
            {"fix_version": version} if version else None)
    return [_done(ctx, "cmd.done.resolve", ticket)]


def _close(ctx: Ctx, args: list[str]) -> list[Reply]:
    if len(args) != 1:
        raise _usage("close")
    ticket = _ticket(ctx, "close", args)
    _guard(ticket, allow_resolved=True)
    _end_pauses(ctx.session, ticket, ctx.now)
    if ticket.resolved_at is None:
        ticket.resolved_at = ctx.now
    ticket.status = TicketStatus.CLOSED
    ticket.closed_at = ctx.now
    ctx.session.add(ticket)
    ctx.session.flush()
    _record(ctx, ticket, "closed", "", updates.closed(ticket.id or 0, ticket.language))
    return [_done(ctx, "cmd.done.close", ticket)]


def _reopen(ctx: Ctx, args: list[str]) -> list[Reply]:
    ticket = _ticket(ctx, "reopen", args)
    reason = _rest("reopen", args, 1)
    if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED) or not ticket.resolved_at:
        raise CommandError("cmd.err.not_resolved", n=ticket.id)
    # The resolved interval becomes waiting time: the clock keeps what it had used.
    ctx.session.add(TicketPause(ticket_id=ticket.id or 0, started_at=ticket.resolved_at,
                                ended_at=max(ctx.now, ticket.resolved_at), reason=reason,
                                kind="reopen"))
    resolved_at = ticket.resolved_at
    ticket.resolved_at = None
    ticket.closed_at = None
    ticket.status = TicketStatus.OPEN
    ctx.session.add(ticket)
    ctx.session.flush()
    _record(ctx, ticket, "reopened", reason, updates.reopened(ticket.id or 0, reason,
                                                              ticket.language),
            {"resolved_at": resolved_at.isoformat()})
    return [_done(ctx, "cmd.done.reopen", ticket)]


def _escalate(ctx: Ctx, args: list[str]) -> list[Reply]:
    ticket = _ticket(ctx, "escalate", args)
    if len(args) < 3:
        raise _usage("escalate")
    raw = args[1].lower()
    tiers = {"tier2": 2, "tier3": 3, "2": 2, "3": 3, "t2": 2, "t3": 3}
    if raw not in tiers:
        raise CommandError("cmd.err.bad_tier", tier=args[1])
    tier = tiers[raw]
    reason = _rest("escalate", args, 2)
    _guard(ticket, allow_resolved=True)
    if ticket.tier == tier:
        raise CommandError("cmd.err.same_tier", n=ticket.id, tier=tier)
    old = ticket.tier
    ticket.tier = tier
    ctx.session.add(ticket)
    ev = _record(ctx, ticket, "escalated", reason,
                 updates.escalated(ticket.id or 0, tier, reason, ticket.language),
                 {"from": old, "to": tier})
    customer = ctx.session.get(Customer, ticket.customer_id)
    tell_engineers_about(ctx.session, ctx.routing, ticket, ev, t(
        "cmd.eng.escalated", "en", n=ticket.id, customer=customer.code if customer else "?",
        sev=ticket.severity, tier=tier, actor=ctx.actor.name, reason=reason))
    return [_done(ctx, "cmd.done.escalate", ticket, tier=tier)]


def _note(ctx: Ctx, args: list[str]) -> list[Reply]:
    ticket = _ticket(ctx, "note", args)
    text = _rest("note", args, 1)
    store.add_event(ctx.session, ticket, "note", text, actor=ctx.actor, at=ctx.now)
    return [_done(ctx, "cmd.done.note", ticket)]


def _exception(ctx: Ctx, args: list[str]) -> list[Reply]:
    ticket = _ticket(ctx, "exception", args)
    text = _rest("exception", args, 1)
    _guard(ticket, allow_resolved=True)
    _record(ctx, ticket, "sla-exception", text,
            updates.exception(ticket.id or 0, text, ticket.language))
    return [_done(ctx, "cmd.done.exception", ticket)]


def _done(ctx: Ctx, key: str, ticket: Ticket, **kw: Any) -> Reply:
    return Reply(t(key, ctx.lang, n=ticket.id, **kw), meta={"ticket": str(ticket.id)})


# -- reading: status, list, help --------------------------------------------------------------


def _clock_line(state: ClockState, lang: str) -> str:
    icon = ICONS[state.status]
    clock = clock_name(state.kind, lang)
    target = state.target.label()
    due = f"{state.deadline:%Y-%m-%d %H:%M}" if state.deadline else "—"
    if state.status is ClockStatus.NO_TARGET:
        return t("cmd.clock.none", lang, icon=icon, clock=clock, target=target)
    if state.stopped_at is not None:
        at = f"{state.stopped_at:%Y-%m-%d %H:%M}"
        key = "cmd.clock.met" if state.status is ClockStatus.MET else "cmd.clock.late"
        return t(key, lang, icon=icon, clock=clock, target=target, at=at)
    if state.status is ClockStatus.BREACHED:
        over = format_duration(-state.remaining if state.remaining is not None else None, lang)
        return t("cmd.clock.overdue", lang, icon=icon, clock=clock, target=target, over=over,
                 due=due)
    left = format_duration(state.remaining, lang)
    if state.status is ClockStatus.PAUSED:
        return t("cmd.clock.paused", lang, icon=icon, clock=clock, target=target, left=left)
    if state.fraction is not None and state.fraction >= 0.75:
        icon = WARN_ICON
    return t("cmd.clock.left", lang, icon=icon, clock=clock, target=target, left=left, due=due)


def status_text(session: Session, policy: Policy, ticket: Ticket, now: datetime,
                lang: str) -> str:
    """A ticket at a glance: header and one countdown line per clock."""
    # Only what the text shows (not the whole store.view): this runs on every /status.
    customer = session.get(Customer, ticket.customer_id)
    assignee = session.get(Contact, ticket.assignee_id) if ticket.assignee_id else None
    clocks = store.clock_states(session, policy, ticket, now)
    head = t("cmd.status.head", lang, n=ticket.id, customer=customer.code if customer else "?",
             sev=ticket.severity, sev_name=policy.severity_name(ticket.severity, lang),
             status=status_name(ticket.status, lang), tier=ticket.tier,
             assignee=assignee.name if assignee else t("cmd.status.unassigned", lang),
             summary=ticket.summary)
    if not clocks:
        return head + "\n" + t("cmd.status.no_clock", lang)
    return "\n".join([head, *(_clock_line(s, lang) for s in clocks)])


def _status(ctx: Ctx, args: list[str]) -> list[Reply]:
    if not args:
        return _list(ctx, [])
    if len(args) != 1:
        raise _usage("status")
    ticket = _ticket(ctx, "status", args)
    return [Reply(status_text(ctx.session, ctx.policy, ticket, ctx.now, ctx.lang),
                  meta={"ticket": str(ticket.id)})]


def _breaching(states: list[ClockState], policy: Policy) -> bool:
    """Breached, or past the last reminder threshold, on a clock still running."""
    last = policy.reminders[-1] if policy.reminders else 0.9
    return any(
        s.stopped_at is None and (
            s.status is ClockStatus.BREACHED
            or (s.status is ClockStatus.RUNNING and (s.fraction or 0) >= last)
        )
        for s in states
    )


def _list(ctx: Ctx, args: list[str]) -> list[Reply]:
    query = select(Ticket).where(Ticket.status != TicketStatus.CLOSED).order_by(col(Ticket.id))
    mode = args[0].lower() if args else ""
    if mode == "mine" and len(args) == 1:
        query = query.where(Ticket.assignee_id == ctx.actor.id)
    elif mode == "customer" and len(args) == 2:
        customer = ctx.session.exec(
            select(Customer).where(Customer.code == args[1].upper())
        ).first() or ctx.session.exec(select(Customer).where(Customer.code == args[1])).first()
        if customer is None:
            raise CommandError("cmd.err.no_customer", code=args[1])
        query = query.where(Ticket.customer_id == customer.id)
    elif args and not (mode == "breaching" and len(args) == 1):
        raise CommandError("cmd.err.bad_list")
    found = list(ctx.session.exec(query))
    breaching = mode == "breaching"
    # Only "breaching" needs every ticket's clocks; the others only those shown.
    considered = found if breaching else found[:LIST_LIMIT]
    states_of = store.clock_states_many(ctx.session, ctx.policy, considered, ctx.now)
    shown = [(tk, states_of[tk.id or 0]) for tk in considered
             if not (breaching and not _breaching(states_of[tk.id or 0], ctx.policy))]
    if not shown:
        return [Reply(t("cmd.list.empty", ctx.lang))]
    hidden = (len(shown) if breaching else len(found)) - LIST_LIMIT
    codes = {c.id or 0: c.code for c in ctx.session.exec(select(Customer).where(
        col(Customer.id).in_({tk.customer_id for tk, _ in shown})))}
    names: dict[int, str] = {}
    # A chat message, not a report: the first LIST_LIMIT, then how many more and how to narrow.
    lines = [_list_line(ctx, tk, states, codes, names) for tk, states in shown[:LIST_LIMIT]]
    if hidden > 0:
        lines.append(t("cmd.list.more", ctx.lang, count=hidden))
    return [Reply("\n".join(lines))]


def _list_line(ctx: Ctx, ticket: Ticket, states: list[ClockState], codes: dict[int, str],
               names: dict[int, str]) -> str:
    assignee = t("cmd.status.unassigned", ctx.lang)
    if ticket.assignee_id is not None:
        if ticket.assignee_id not in names:
            a = ctx.session.get(Contact, ticket.assignee_id)
            names[ticket.assignee_id] = a.name if a else "?"
        assignee = names[ticket.assignee_id]
    running = [s for s in states if s.stopped_at is None and s.remaining is not None]
    nxt = min(running, key=lambda s: s.remaining or s.elapsed) if running else None
    if nxt is None:
        icon, nxt_text = (ICONS[ClockStatus.MET] if states else ICONS[ClockStatus.NO_TARGET]), "—"
    else:
        icon = ICONS[nxt.status]
        if nxt.status is ClockStatus.RUNNING and (nxt.fraction or 0) >= 0.75:
            icon = WARN_ICON
        nxt_text = t("cmd.list.next", ctx.lang, clock=clock_name(nxt.kind, ctx.lang),
                     left=format_duration(nxt.remaining, ctx.lang))
    summary = ticket.summary if len(ticket.summary) <= 60 else ticket.summary[:59] + "…"
    return t("cmd.list.line", ctx.lang, icon=icon, n=ticket.id,
             customer=codes.get(ticket.customer_id, "?"),
             sev=ticket.severity, status=status_name(ticket.status, ctx.lang),
             assignee=assignee, next=nxt_text, summary=summary)


def _help(ctx: Ctx, args: list[str]) -> list[Reply]:
    return [Reply(t("cmd.help.staff", ctx.lang))]


# -- knowledge base (handlers.knowledge from the KB work; optional) ----------------------------


def _knowledge() -> Any:
    try:
        from . import knowledge  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        raise CommandError("cmd.err.kb_unavailable") from None
    return knowledge


def _suggest(ctx: Ctx, args: list[str]) -> list[Reply]:
    if len(args) != 1:
        raise _usage("suggest")
    ticket = _ticket(ctx, "suggest", args)
    kb = _knowledge()
    if not hasattr(kb, "suggest"):
        raise CommandError("cmd.err.kb_unavailable")
    return [kb.suggest(ctx.session, ticket.id, lang=ctx.lang)]


def _link(ctx: Ctx, args: list[str]) -> list[Reply]:
    if len(args) != 2:
        raise _usage("link")
    ticket = _ticket(ctx, "link", args)
    kb = _knowledge()
    if not hasattr(kb, "link"):
        raise CommandError("cmd.err.kb_unavailable")
    return [kb.link(ctx.session, ticket.id, args[1], ctx.actor, lang=ctx.lang)]


def _kb(ctx: Ctx, args: list[str]) -> list[Reply]:
    sub = args[0].lower() if args else ""
    kb = _knowledge()
    if sub == "publish" and len(args) == 2:
        return [kb.kb_publish(ctx.session, args[1], actor=ctx.actor, lang=ctx.lang)]
    if sub == "edit" and len(args) >= 4:
        return [kb.kb_edit(ctx.session, args[1], args[2], " ".join(args[3:]), lang=ctx.lang)]
    if sub != "add" or len(args) not in (2, 3):
        raise _usage("kb")
    ticket = _ticket(ctx, "kb", args[1:2])
    return [kb.kb_add_from_ticket(ctx.session, ticket.id, kb_id=args[2] if len(args) == 3
                                  else None, actor=ctx.actor, lang=ctx.lang)]


def _report(ctx: Ctx, args: list[str]) -> list[Reply]:
    from .reports import report_reply

    return [report_reply(ctx.session, ctx.policy, args, ctx.now, ctx.lang, ctx.charts).reply]


def _oncall(ctx: Ctx, args: list[str]) -> list[Reply]:
    return [oncall_reply(ctx.session, ctx.actor, args, ctx.now, ctx.lang)]


def _planned(ctx: Ctx, args: list[str]) -> list[Reply]:
    from .planned_work import planned_reply

    if args:
        raise _usage("planned")
    return [planned_reply(ctx.session, ctx.now, ctx.lang)]


HANDLERS: dict[str, Callable[[Ctx, list[str]], list[Reply]]] = {
    "ack": _ack,
    "assign": _assign,
    "sev": _sev,
    "pending": _pending,
    "resume": _resume,
    "workaround": _workaround,
    "resolve": _resolve,
    "close": _close,
    "reopen": _reopen,
    "escalate": _escalate,
    "note": _note,
    "exception": _exception,
    "status": _status,
    "list": _list,
    "help": _help,
    "suggest": _suggest,
    "link": _link,
    "kb": _kb,
    "report": _report,
    "planned": _planned,
    "oncall": _oncall,
}

VERBS = tuple(HANDLERS)

__all__ = [
    "CommandError",
    "VERBS",
    "customer_replied",
    "execute_command",
    "find_engineer",
    "status_text",
]

