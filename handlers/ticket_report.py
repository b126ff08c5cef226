"""The whole report of one ticket as engineers work from it, as one platform-neutral value.

:func:`build` reads a stored ticket once into a :class:`TicketReport`: every report field (in
the order people read them), its SLA clocks, attachments (name, size, type), pauses, the
audit trail and the conversation (events whose kind is in
:data:`storage.tickets.CONVERSATION_KINDS`, each marked public or internal). Times stay UTC
in the value and carry the ticket's zone (the customer's, snapshotted on the ticket): every
renderer shows them in that zone and names it.

The report is for staff: it holds the remote-access instructions and internal notes. The
renderers are staff ``status N`` (:mod:`handlers.ticket_report_text`), ``destek ticket show``
(text and ``--json`` via :meth:`TicketReport.as_dict`) and the dashboard's ticket page; the
customer's ``status`` (:mod:`handlers.customer_verbs`) does not use it.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, bindparam, literal, union_all
from sqlmodel import Session, col, func, select

from sla import ClockState, Policy
from storage import tickets as store
from storage.models import Attachment, Ticket, TicketEvent
from storage.tickets import TicketView

from .i18n import register, t
from .vocabulary import local_when

Value = str | int | bool | datetime | None

# The report's fields in reading order: what happened, where, how bad, how to get in, and
# what has been done. Keys are the JSON keys of ``ticket show --json``.
FIELDS = (
    "summary", "kind", "service_category", "product", "version", "version_past_eos",
    "environment", "description", "steps", "error_text", "production_down",
    "workaround_available", "users_affected", "proposed_severity", "severity",
    "severity_reason", "remote_access", "remote_access_how", "attachments_missing_reason",
    "contact", "plan", "tier", "family", "channel", "reported_at", "responded_at",
    "workaround_at", "resolved_at", "closed_at", "workaround_text", "resolution_text",
    "fix_version",
)
# Free text that may run to many lines: shown as a block of its own, clipped in chat.
LONG_FIELDS = frozenset({"description", "steps", "error_text", "severity_reason",
                         "remote_access_how", "attachments_missing_reason",
                         "workaround_text", "resolution_text"})
PUBLIC, INTERNAL = "public", "internal"

_LABELS = {
    "summary": ("Summary", "Özet"), "kind": ("Kind", "Tür"),
    "service_category": ("Service", "Hizmet"), "product": ("Product", "Ürün"),
    "version": ("Version", "Sürüm"),
    "version_past_eos": ("Version past end of support", "Sürüm destek süresi dışında"),
    "environment": ("Environment", "Ortam"), "description": ("Description", "Açıklama"),
    "steps": ("Steps to reproduce", "Tekrarlama adımları"),
    "error_text": ("Error message", "Hata mesajı"),
    "production_down": ("Production down", "Üretim durdu"),
    "workaround_available": ("Workaround available", "Anlık çözüm var"),
    "users_affected": ("Users affected", "Etkilenen kullanıcı"),
    "proposed_severity": ("Severity proposed by the customer", "Müşterinin önerdiği önem derecesi"),
    "severity": ("Severity", "Önem derecesi"),
    "severity_reason": ("Severity reason", "Önem derecesi gerekçesi"),
    "remote_access": ("Remote access given", "Uzaktan erişim verildi"),
    "remote_access_how": ("Remote access instructions (staff only)",
                          "Uzaktan erişim bilgileri (yalnız ekip)"),
    "attachments_missing_reason": ("No attachments because", "Ek yok, çünkü"),
    "contact": ("Reported by", "Bildiren"), "plan": ("Plan", "Plan"),
    "tier": ("Tier", "Kademe"), "family": ("Product family", "Ürün ailesi"),
    "channel": ("Reported on", "Bildirim kanalı"),
    "reported_at": ("Reported", "Bildirildi"), "responded_at": ("Responded", "Yanıtlandı"),
    "workaround_at": ("Workaround given", "Anlık çözüm verildi"),
    "resolved_at": ("Resolved", "Çözüldü"), "closed_at": ("Closed", "Kapandı"),
    "workaround_text": ("Workaround", "Anlık çözüm"),
    "resolution_text": ("Resolution", "Kalıcı çözüm"),
    "fix_version": ("Fixed in", "Düzeltildiği sürüm"),
}
register({f"report.field.{k}": {"en": en, "tr": tr} for k, (en, tr) in _LABELS.items()})
# Stored codes of a few fields by name; English keeps the code (what the CLI and scripts print).
_VALUES = {
    "kind.defect": ("defect", "ürün hatası"), "kind.problem": ("problem", "ürün sorunu"),
    "kind.question": ("question", "soru"), "kind.service_request": ("service_request",
                                                                    "ek hizmet talebi"),
    "environment.production": ("production", "üretim"), "environment.test": ("test", "test"),
    "users_affected.one": ("one", "bir kullanıcı"), "users_affected.few": ("few", "birkaç"),
    "users_affected.many": ("many", "çok"), "users_affected.all": ("all", "tüm kullanıcılar"),
}
register({f"report.value.{k}": {"en": en, "tr": tr} for k, (en, tr) in _VALUES.items()})
register({
    "report.yes": {"en": "yes", "tr": "evet"},
    "report.no": {"en": "no", "tr": "hayır"},
    "report.times": {"en": "Times in {zone}.", "tr": "Saatler {zone} saatiyle."},
    "report.attachments": {"en": "Attachments ({count})", "tr": "Ekler ({count})"},
    "report.pauses": {"en": "Pauses (waiting, P17)", "tr": "Beklemeler (P17)"},
    "report.pause.open": {"en": "still waiting", "tr": "sürüyor"},
    "report.events": {"en": "Audit trail", "tr": "Kayıt geçmişi"},
    "report.conversation": {"en": "Conversation", "tr": "Yazışma"},
    "report.public": {"en": "public", "tr": "müşteriye açık"},
    "report.internal": {"en": "internal", "tr": "iç not"},
    "report.none": {"en": "none", "tr": "yok"},
})


@dataclass(frozen=True)
class ReportField:
    """One field of the report: its key (the JSON key) and its stored value."""

    key: str
    value: Value

    @property
    def long(self) -> bool:
        return self.key in LONG_FIELDS


@dataclass(frozen=True)
class AttachmentItem:
    id: int
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class PauseItem:
    started_at: datetime
    ended_at: datetime | None
    kind: str
    reason: str


@dataclass(frozen=True)
class EventItem:
    """An audit event; ``visibility`` is set for the conversation's kinds only."""

    id: int
    at: datetime
    actor: str
    kind: str
    text: str
    data: Any
    visibility: str | None

    @property
    def conversation(self) -> bool:
        return self.visibility is not None


@dataclass(frozen=True)
class TicketReport:
    """Everything an engineer needs to work a ticket, read once from the store."""

    number: int
    customer: str
    customer_name: str
    status: str
    severity: str
    severity_names: dict[str, str]  # language -> the severity's name ({} when unknown)
    assignee: str | None
    zone: ZoneInfo
    fields: tuple[ReportField, ...]
    clocks: tuple[ClockState, ...]
    attachments: tuple[AttachmentItem, ...]
    pauses: tuple[PauseItem, ...]
    events: tuple[EventItem, ...]
    # Entries left out by build(recent=N): older conversation entries / audit events.
    earlier_conversation: int = 0
    earlier_trail: int = 0

    @property
    def conversation(self) -> tuple[EventItem, ...]:
        return tuple(e for e in self.events if e.conversation)

    def value(self, key: str) -> Value:
        return next((f.value for f in self.fields if f.key == key), None)

    def when(self, at: datetime) -> str:
        """A time in the ticket's zone, the zone named."""
        return local_when(at, self.zone)

    def iso(self, at: datetime | None) -> str | None:
        return at.astimezone(self.zone).isoformat() if at is not None else None

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (times as ISO 8601 in the ticket's zone)."""
        return {
            **{f.key: self.iso(f.value) if isinstance(f.value, datetime) else f.value
               for f in self.fields if f.key not in ("contact", "product", "version")},
            "timezone": self.zone.key,
            "attachments": [
                {"id": a.id, "filename": a.filename, "content_type": a.content_type,
                 "size": a.size} for a in self.attachments],
            "pauses": [
                {"started_at": self.iso(p.started_at), "ended_at": self.iso(p.ended_at),
                 "kind": p.kind, "reason": p.reason} for p in self.pauses],
            "events": [
                {"id": e.id, "at": self.iso(e.at), "actor": e.actor, "kind": e.kind,
                 "text": e.text, "data": e.data} for e in self.events],
            "conversation": [
                {"id": e.id, "at": self.iso(e.at), "actor": e.actor, "kind": e.kind,
                 "visibility": e.visibility, "text": e.text} for e in self.conversation],
        }


def label(key: str, lang: str | None) -> str:
    """A field's name in ``lang``."""
    return t(f"report.field.{key}", lang)


def shown(report: TicketReport, f: ReportField, lang: str | None) -> str:
    """A field's value as people read it ("" when empty: renderers leave it out)."""
    v = f.value
    if v is None or v == "":
        return ""
    if isinstance(v, bool):
        return t("report.yes" if v else "report.no", lang)
    if isinstance(v, datetime):
        return report.when(v)
    if f.key == "severity":
        name = report.severity_names.get(lang or "en") or report.severity_names.get("en", "")
        return f"{v} {name}".strip()
    if f"{f.key}.{v}" in _VALUES:
        return t(f"report.value.{f.key}.{v}", lang)
    return str(v)


def visibility_name(visibility: str, lang: str | None) -> str:
    return t(f"report.{visibility}", lang)


def human_size(size: int) -> str:
    """``532 B``, ``12.3 kB``, ``4.0 MB`` (decimal units, as file managers show them)."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{size} B"  # pragma: no cover - the loop always returns


def _data(raw: str | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _visibility(kind: str) -> str | None:
    if kind in store.PUBLIC_KINDS:
        return PUBLIC
    return INTERNAL if kind == store.INTERNAL_NOTE else None


def build(session: Session, policy: Policy, ticket: Ticket, now: datetime,
          view: TicketView | None = None, recent: int | None = None) -> TicketReport:
    """The ticket's whole report at ``now`` (``view``: one already read, to read it once;
    ``recent``: only the last entries of the conversation and of the audit trail, for chat)."""
    v = view or store.view(session, policy, ticket, now)
    tk = v.ticket
    values: dict[str, Value] = {
        **{k: getattr(tk, k) for k in FIELDS if hasattr(tk, k)},
        "product": v.product.name if v.product else None,
        "version": tk.version_text,
        "contact": v.contact.name,
    }
    try:
        sev_names = {lang: policy.severity_name(tk.severity, lang) for lang in ("en", "tr")}
    except KeyError:  # a severity the current policy no longer names
        sev_names = {}
    tid = tk.id or 0
    events, earlier = _recent_events(session, tid, recent)
    attachments = session.exec(_attachments_statement(), params={"ticket_id": tid})
    return TicketReport(
        number=tid, customer=v.customer.code, customer_name=v.customer.name,
        status=tk.status, severity=tk.severity, severity_names=sev_names,
        assignee=v.assignee.name if v.assignee else None, zone=v.zone,
        fields=tuple(ReportField(k, values.get(k)) for k in FIELDS),
        clocks=tuple(v.clocks),
        attachments=tuple(AttachmentItem(a.id or 0, a.filename, a.content_type, a.size)
                          for a in attachments),
        pauses=tuple(PauseItem(p.started_at, p.ended_at, p.kind, p.reason)
                     for p in v.pauses),
        events=tuple(EventItem(e.id or 0, e.at, e.actor, e.kind, e.text, _data(e.data),
                               _visibility(e.kind)) for e in events),
        earlier_conversation=earlier[0], earlier_trail=earlier[1],
    )


@functools.cache
def _recent_statement() -> Any:
    """The last ``recent`` conversation events and the last ``recent`` others, each with its
    part's size: one query, built once. Each part is a LIMIT read backwards along
    ``ix_ticket_events_ticket_at``; only the counts go over the whole history, on the index."""
    def part(talk: bool) -> Any:
        kind = col(TicketEvent.kind)
        where = (TicketEvent.ticket_id == bindparam("ticket_id"),
                 kind.in_(store.CONVERSATION_KINDS) if talk
                 else kind.not_in(store.CONVERSATION_KINDS))
        newest = (select(TicketEvent.id).where(*where)  # type: ignore[call-overload]
                  .order_by(col(TicketEvent.at).desc(), col(TicketEvent.id).desc())
                  .limit(bindparam("recent", type_=Integer)).subquery())
        total = select(func.count()).select_from(TicketEvent).where(*where).scalar_subquery()
        return select(newest.c.id, literal(talk).label("talk"), total.label("total"))

    picked = union_all(part(True), part(False)).subquery()
    return (select(TicketEvent, picked.c.talk, picked.c.total)
            .join(picked, col(TicketEvent.id) == picked.c.id))


@functools.cache
def _attachments_statement() -> Any:
    return (select(Attachment).where(Attachment.ticket_id == bindparam("ticket_id"))
            .order_by(col(Attachment.id)))


def _recent_events(session: Session, ticket_id: int, recent: int | None,
                   ) -> tuple[list[TicketEvent], tuple[int, int]]:
    """The ticket's events, oldest first; with ``recent``, only the last ``recent`` of the
    conversation and of the rest of the audit trail (a long-lived ticket has hundreds, and
    chat shows a few), with how many of each were left out."""
    if recent is None:
        return store.events(session, ticket_id), (0, 0)
    rows = session.exec(_recent_statement(),
                        params={"ticket_id": ticket_id, "recent": recent}).all()
    picked = [e for e, _, _ in rows]
    totals = {bool(part): int(total) for _, part, total in rows}
    counts = [sum(1 for _, part, _ in rows if bool(part) is flag) for flag in (True, False)]
    earlier = [totals.get(flag, 0) - n for flag, n in zip((True, False), counts, strict=True)]
    picked.sort(key=lambda e: (e.at, e.id or 0))
    return picked, (earlier[0], earlier[1])
