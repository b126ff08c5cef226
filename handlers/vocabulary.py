"""Words every handler shares (clock and status names), registered once in both languages."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sla import ClockKind

from .i18n import register, t

register({
    # The procedure's own terms: yanıt (P3), anlık/geçici çözüm (P4), çözüm (P5).
    "clock.response": {"en": "Response", "tr": "Yanıt"},
    "clock.workaround": {"en": "Workaround", "tr": "Geçici çözüm"},
    "clock.resolution": {"en": "Resolution", "tr": "Çözüm"},
    "ticket.status.open": {"en": "open", "tr": "açık"},
    "ticket.status.pending": {"en": "waiting for customer", "tr": "müşteri bekleniyor"},
    "ticket.status.resolved": {"en": "resolved", "tr": "çözüldü"},
    "ticket.status.closed": {"en": "closed", "tr": "kapalı"},
})


def status_name(status: str, lang: str | None) -> str:
    """A ticket status (open, pending, resolved, closed) as people read it, in ``lang``."""
    return t(f"ticket.status.{status}", lang)


def clock_name(kind: ClockKind, lang: str | None) -> str:
    """The name of an SLA clock in ``lang``."""
    return t(f"clock.{kind.value}", lang)


def local_when(when: datetime, zone: tzinfo) -> str:
    """An instant in local time, zone named: ``2026-12-01 09:30 (Europe/Istanbul)``."""
    local = when.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} ({zone})"
