"""Words every handler shares, registered once in both languages: the SLA clocks, their
states and targets, the ticket statuses, and the one way an instant is written for people.

The Turkish names are the support procedure's own (support-procedure.tr.txt): *yanıt* (P3),
*anlık çözüm* (P4: "kalıcı çözüm bulunana kadar uygulanır"), *kalıcı çözüm* (P5, the fix).
Each clock has one name per language, in two cases: sentence case to start a line
(``clock.response``) and lower case inside a sentence (``clock.response.mid``).
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from sla import ClockKind, ClockStatus, Target

from .i18n import register, t

register({
    "clock.response": {"en": "Response", "tr": "Yanıt"},
    "clock.workaround": {"en": "Workaround", "tr": "Anlık çözüm"},
    "clock.resolution": {"en": "Resolution", "tr": "Kalıcı çözüm"},
    "clock.response.mid": {"en": "response", "tr": "yanıt"},
    "clock.workaround.mid": {"en": "workaround", "tr": "anlık çözüm"},
    "clock.resolution.mid": {"en": "resolution", "tr": "kalıcı çözüm"},
    # What a clock is doing now (sla.ClockStatus).
    "clock.state.running": {"en": "running", "tr": "işliyor"},
    "clock.state.paused": {"en": "paused", "tr": "duraklatıldı"},
    "clock.state.met": {"en": "met", "tr": "karşılandı"},
    "clock.state.breached": {"en": "breached", "tr": "aşıldı"},
    "clock.state.no-target": {"en": "no target", "tr": "hedef yok"},
    # A service-level cell (sla.Target): business time, or no clock at all.
    "target.minutes": {"en": "{amount}m", "tr": "{amount} dk"},
    "target.hours": {"en": "{amount}h", "tr": "{amount} sa"},
    "target.days": {"en": "{amount}d", "tr": "{amount} iş günü"},  # d: a full business day
    "target.24x7": {"en": "{span} 24x7", "tr": "{span} 7/24"},
    "target.none": {"en": "no target", "tr": "hedef yok"},
    "target.next-release": {"en": "next release", "tr": "bir sonraki sürüm"},
    "ticket.status.open": {"en": "open", "tr": "açık"},
    "ticket.status.pending": {"en": "waiting for customer", "tr": "müşteri bekleniyor"},
    "ticket.status.resolved": {"en": "resolved", "tr": "çözüldü"},
    "ticket.status.closed": {"en": "closed", "tr": "kapandı"},
})

_UNIT_KEYS = {"m": "target.minutes", "h": "target.hours", "d": "target.days"}


def status_name(status: str, lang: str | None) -> str:
    """A ticket status (open, pending, resolved, closed) as people read it, in ``lang``."""
    return t(f"ticket.status.{status}", lang)


def clock_name(kind: ClockKind | str, lang: str | None, mid: bool = False) -> str:
    """The one name of an SLA clock in ``lang``: sentence case to begin a line, lower case
    (``mid``) inside a sentence."""
    value = kind.value if isinstance(kind, ClockKind) else kind
    return t(f"clock.{value}.mid" if mid else f"clock.{value}", lang)


def clock_state_name(status: ClockStatus | str, lang: str | None) -> str:
    """What a clock is doing (running, paused, met, breached), in ``lang``."""
    value = status.value if isinstance(status, ClockStatus) else status
    return t(f"clock.state.{value}", lang)


def target_text(target: Target, lang: str | None) -> str:
    """A service-level target as people read it: ``4h`` / ``4 sa``, ``2d`` / ``2 iş günü``,
    ``30m 24x7`` / ``30 dk 7/24``, ``next release`` / ``bir sonraki sürüm``."""
    if not target.has_clock:
        return t(f"target.{target.kind}", lang)
    amount = int(target.amount) if target.amount == int(target.amount) else target.amount
    span = t(_UNIT_KEYS[target.unit], lang, amount=amount)
    return t("target.24x7", lang, span=span) if target.around_the_clock else span


def local_when(when: datetime | None, zone: tzinfo | str) -> str:
    """The one way an instant is written for people: local wall time with the zone named,
    ``2026-12-01 09:30 (Europe/Istanbul)``; ``—`` for none. Never a bare offset or "UTC"
    alone, never unlabelled."""
    if when is None:
        return "—"
    tz = ZoneInfo(zone) if isinstance(zone, str) else zone
    local = when.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} ({tz})"
