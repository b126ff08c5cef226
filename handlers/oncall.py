"""Who is on call, in domain terms, and the taking of a page.

:func:`who_text` says who holds each layer (now, or at an instant): the ``oncall`` verb
(``handlers.commands.oncall``) and ``destek oncall who`` answer with it. Taking a page
(``ack N``) ends every page of the ticket: see :func:`take_pages`, called by the ``ack`` verb,
which also records the response (P3).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from storage import oncall as store
from storage import tickets
from storage.models import Contact, Ticket

from .i18n import register, t
from .vocabulary import local_when

register({
    "oncall.header": {"en": "On call at {at}:", "tr": "{at} itibarıyla nöbetçiler:"},
    "oncall.line": {"en": "{layer}: {name} until {until} ({source})",
                    "tr": "{layer}: {name}, bitiş {until} ({source})"},
    "oncall.none": {"en": "{layer}: nobody (no rotation or override covers it)",
                    "tr": "{layer}: kimse yok (bu zamanı kapsayan nöbet listesi ya da "
                          "değişiklik yok)"},
    "oncall.source.rotation": {"en": "{name}", "tr": "nöbet listesi: {name}"},
    "oncall.source.override": {"en": "override: {reason}", "tr": "nöbet değişikliği: {reason}"},
    "oncall.source.override_bare": {"en": "override", "tr": "nöbet değişikliği"},
    "oncall.layer.primary": {"en": "Primary", "tr": "Birincil"},
    "oncall.layer.secondary": {"en": "Secondary", "tr": "İkincil"},
    "page.btn.take": {"en": "Take it", "tr": "Üstlen"},
})


def take_label(lang: str) -> str:
    """The label of a page's button (it runs ``ack N``)."""
    return t("page.btn.take", lang)

DEFAULT_TZ = "UTC"


def schedule_tz(session: Session) -> str:
    """The zone on-call times are read and shown in: the first rotation's (else UTC)."""
    rotations = store.rotations(session)
    return rotations[0].tz if rotations else DEFAULT_TZ


def parse_time(value: str, tz: str) -> datetime | None:
    """An ISO 8601 instant; without an offset it is read in ``tz``."""
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=ZoneInfo(tz))


def local_time(dt: datetime | None, tz: str) -> str:
    """``2026-11-29 03:10 (Europe/Istanbul)``: an instant as people in ``tz`` read it (— for
    none); the one format of :func:`handlers.vocabulary.local_when`."""
    return local_when(dt, tz)


def who_text(session: Session, at: datetime, lang: str, tz: str | None = None) -> str:
    """Each layer's engineer at ``at``, until when, and why (rotation or override)."""
    tz = tz or schedule_tz(session)
    lines = [t("oncall.header", lang, at=local_time(at, tz))]
    for layer, held in store.who(session, at).items():
        name = t(f"oncall.layer.{layer}", lang)
        if held is None:
            lines.append(t("oncall.none", lang, layer=name))
            continue
        shift, contact = held
        lines.append(t("oncall.line", lang, layer=name, name=contact.name,
                       until=local_time(shift.end, tz),
                       source=_source_text(shift.source, lang)))
    return "\n".join(lines)


def _source_text(source: str, lang: str) -> str:
    """Why someone holds a layer: ``rotation NAME`` or ``override: REASON`` (sla.oncall)."""
    if source == "override" or source.startswith("override: "):
        reason = source.removeprefix("override").removeprefix(": ")
        return t("oncall.source.override", lang, reason=reason) if reason else \
            t("oncall.source.override_bare", lang)
    return t("oncall.source.rotation", lang, name=source)


def take_pages(session: Session, ticket: Ticket, engineer: Contact, now: datetime) -> int:
    """``engineer`` took the ticket: end its pages (audit first). Returns how many ended."""
    ended = store.end_pages(session, ticket.id or 0, "acked", now, by=engineer.id,
                            note=f"taken by {engineer.name}")
    if ended:
        minutes = max(0, round((now - min(p.started_at for p in ended)) / timedelta(minutes=1)))
        tickets.add_event(session, ticket, "page-taken",
                          f"{engineer.name} took the page after {minutes} min", actor=engineer,
                          at=now, data={"pages": [p.id for p in ended], "minutes": minutes})
    return len(ended)
