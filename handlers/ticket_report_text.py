"""A :class:`~handlers.ticket_report.TicketReport` as plain text: the body of staff
``status N`` (clipped for chat) and of ``destek ticket show`` (whole).

Chat messages have limits (Slack sections, Telegram's 4096 characters), so in chat a long field
keeps its first :attr:`Clip.field_chars` characters and the conversation and audit trail their
last :attr:`Clip.entries` entries, each clip saying so and where the whole text is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .i18n import register, t
from .ticket_report import EventItem, TicketReport, human_size, label, shown, visibility_name

register({
    "report.clipped": {
        "en": "… (clipped: {count} characters in all; the whole report: destek ticket show {n}, "
              "or the dashboard)",
        "tr": "… (kısaltıldı: toplam {count} karakter; raporun tamamı: destek ticket show {n} "
              "ya da pano)",
    },
    "report.earlier": {
        "en": "… {count} earlier not shown (destek ticket show {n}, or the dashboard)",
        "tr": "… daha önceki {count} kayıt gösterilmedi (destek ticket show {n} ya da pano)",
    },
})
# The conversation's kinds and the pauses' kinds by name; English keeps the stored code (what
# ``destek ticket show`` and the dashboard print), other audit events show their code.
_NAMES = {
    "entry.customer-reply": ("customer-reply", "müşteri yanıtı"),
    "entry.follow-up": ("follow-up", "müşterinin ek mesajı"),
    "entry.reply": ("reply", "müşteriye yanıt"),
    "entry.note": ("note", "iç not"),
    "pause.customer": ("customer", "müşteri bekleniyor"),
    "pause.remote-access": ("remote-access", "uzaktan erişim bekleniyor"),
}
register({f"report.{k}": {"en": en, "tr": tr} for k, (en, tr) in _NAMES.items()})


def _name(group: str, code: str, lang: str | None) -> str:
    """A stored kind by its name in ``lang`` (the code itself when it has none)."""
    key = f"{group}.{code}"
    return t(f"report.{key}", lang) if key in _NAMES else code


@dataclass(frozen=True)
class Clip:
    """How much of a report a chat message carries."""

    field_chars: int = 800  # of each long free-text field
    entry_chars: int = 300  # of each conversation entry / event text
    entries: int = 8  # last entries of the conversation and of the audit trail


CHAT = Clip()


def _clip(text: str, limit: int | None, n: int, lang: str | None) -> str:
    if limit is None or len(text) <= limit:
        return text
    return text[:limit].rstrip() + "\n" + t("report.clipped", lang, count=len(text), n=n)


def _indent(text: str) -> list[str]:
    return ["  " + line for line in text.splitlines() or [""]]


def _hm(report: TicketReport, at: datetime) -> str:
    """A time in the report's zone; the body's first line names the zone once."""
    return f"{at.astimezone(report.zone):%Y-%m-%d %H:%M}"


def _entries(report: TicketReport, items: list[EventItem], clip: Clip | None,
             lang: str | None, conversation: bool) -> list[str]:
    lines: list[str] = []
    earlier = report.earlier_conversation if conversation else report.earlier_trail
    if clip is not None and len(items) > clip.entries:
        earlier += len(items) - clip.entries
        items = items[-clip.entries:]
    if earlier:
        lines.append("  " + t("report.earlier", lang, count=earlier, n=report.number))
    for e in items:
        mark = f"[{visibility_name(e.visibility, lang)}] " if conversation and e.visibility \
            else ""
        text = _clip(e.text, clip.entry_chars if clip else None, report.number, lang)
        first, *rest = (text.splitlines() or [""])
        head = f"- {_hm(report, e.at)} {mark}{e.actor} ({_name('entry', e.kind, lang)})"
        lines.append(f"{head}: {first}" if first else head)
        lines += ["    " + r for r in rest]
    return lines


def body_lines(report: TicketReport, lang: str | None, clip: Clip | None = None,
               skip: Iterable[str] = ()) -> list[str]:
    """Every non-empty field (but ``skip``: what the caller's header shows), the attachments,
    pauses, conversation (public/internal marked) and the rest of the audit trail."""
    n, omit = report.number, set(skip)
    lines = [t("report.times", lang, zone=report.zone.key)]
    for f in report.fields:
        value = shown(report, f, lang)
        if f.key in omit or not value:
            continue
        if f.long:
            lines.append(f"{label(f.key, lang)}:")
            lines += _indent(_clip(value, clip.field_chars if clip else None, n, lang))
        else:
            lines.append(f"{label(f.key, lang)}: {value}")
    lines.append(t("report.attachments", lang, count=len(report.attachments)) + ":"
                 + ("" if report.attachments else " " + t("report.none", lang)))
    lines += [f"- {a.filename} ({a.content_type}, {human_size(a.size)})"
              for a in report.attachments]
    if report.pauses:
        lines.append(t("report.pauses", lang) + ":")
        for p in report.pauses:
            end = _hm(report, p.ended_at) if p.ended_at else t("report.pause.open", lang)
            reason = f": {p.reason}" if p.reason else ""
            lines.append(f"- {_hm(report, p.started_at)} → {end} "
                         f"{_name('pause', p.kind, lang)}{reason}")
    talk = list(report.conversation)
    if talk or report.earlier_conversation:
        lines.append(t("report.conversation", lang) + ":")
        lines += _entries(report, talk, clip, lang, conversation=True)
    trail = [e for e in report.events if not e.conversation]
    if trail or report.earlier_trail:
        lines.append(t("report.events", lang) + ":")
        lines += _entries(report, trail, clip, lang, conversation=False)
    return lines
