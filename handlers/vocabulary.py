"""Words every handler shares (clock names), registered once in both languages."""

from __future__ import annotations

from sla import ClockKind

from .i18n import register, t

register({
    # The procedure's own terms: yanıt (P3), anlık/geçici çözüm (P4), çözüm (P5).
    "clock.response": {"en": "Response", "tr": "Yanıt"},
    "clock.workaround": {"en": "Workaround", "tr": "Geçici çözüm"},
    "clock.resolution": {"en": "Resolution", "tr": "Çözüm"},
})


def clock_name(kind: ClockKind, lang: str | None) -> str:
    """The name of an SLA clock in ``lang``."""
    return t(f"clock.{kind.value}", lang)
