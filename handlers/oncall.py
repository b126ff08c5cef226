"""The engineers' on-call questions and the taking of a page, in domain terms.

``oncall [ISO]`` says who holds each layer (now, or at an instant); ``oncall swap @engineer
until ISO`` hands the layer the actor (or the named engineer) holds to the other until then,
as an override. Taking a page (``ack N``) ends every page of the ticket: see
:func:`take_pages`, called by the ``ack`` verb, which also records the response (P3).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from sla.oncall import LAYERS, Shift
from storage import oncall as store
from storage import tickets
from storage.directory import RecordError
from storage.models import Contact, Ticket

from .i18n import register, t
from .types import Reply

register({
    "oncall.header": {"en": "On call at {at}:", "tr": "{at} itibarıyla nöbetçiler:"},
    "oncall.line": {"en": "{layer}: {name} until {until} ({source})",
                    "tr": "{layer}: {name}, {until} tarihine kadar ({source})"},
    "oncall.none": {"en": "{layer}: nobody (no rotation or override covers it)",
                    "tr": "{layer}: kimse yok (bu zamanı kapsayan nöbet listesi ya da "
                          "değişiklik yok)"},
    "oncall.layer.primary": {"en": "Primary", "tr": "Birincil"},
    "oncall.layer.secondary": {"en": "Secondary", "tr": "İkincil"},
    "oncall.swapped": {
        "en": "Done: {to} holds the {layer} layer instead of {frm} from {start} until {end}.",
        "tr": "Tamam: {start} ile {end} arasında {layer} nöbeti {frm} yerine {to} üzerinde.",
    },
    "oncall.err.usage": {
        "en": "Usage: oncall [ISO time] · oncall swap @engineer until ISO-time",
        "tr": "Kullanım: oncall [ISO zaman] · oncall swap @mühendis until ISO-zaman",
    },
    "oncall.err.time": {
        "en": "{value!r} is not a time: use ISO 8601, e.g. 2026-11-30T09:00 (zone: {tz}) or "
              "2026-11-30T09:00+03:00.",
        "tr": "{value!r} bir zaman değil: ISO 8601 kullanın, örn. 2026-11-30T09:00 (saat "
              "dilimi: {tz}) ya da 2026-11-30T09:00+03:00.",
    },
    "oncall.err.past": {"en": "The end {end} has already passed.",
                        "tr": "Bitiş zamanı {end} geçmişte kaldı."},
    "oncall.err.no_engineer": {"en": "I do not know an engineer {who!r}.",
                               "tr": "{who!r} adında bir mühendis bulamadım."},
    "oncall.err.self": {"en": "Swap with someone else.",
                        "tr": "Nöbeti başka biriyle değiştirin."},
    "oncall.err.neither": {
        "en": "Neither you nor {who} is on call now: nothing to swap.",
        "tr": "Şu anda ne siz ne de {who} nöbetçi: değiştirilecek bir nöbet yok.",
    },
    "oncall.err.record": {"en": "Not saved: {error}", "tr": "Kaydedilmedi: {error}"},
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
    """``2026-11-29 03:10 +03``: an instant as people in ``tz`` read it (— for none)."""
    if dt is None:
        return "—"
    local = dt.astimezone(ZoneInfo(tz))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


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
                       until=local_time(shift.end, tz), source=shift.source))
    return "\n".join(lines)


def oncall_reply(session: Session, actor: Contact, args: list[str], now: datetime,
                 lang: str) -> Reply:
    """The ``oncall`` verb: who is on call, or a swap (an override until the given time)."""
    from .commands import find_engineer  # commands imports this module

    tz = schedule_tz(session)
    if not args:
        return Reply(who_text(session, now, lang, tz))
    if args[0].lower() != "swap":
        if len(args) != 1:
            return Reply(t("oncall.err.usage", lang))
        at = parse_time(args[0], tz)
        if at is None:
            return Reply(t("oncall.err.time", lang, value=args[0], tz=tz))
        return Reply(who_text(session, at, lang, tz))
    if len(args) != 4 or args[2].lower() != "until":
        return Reply(t("oncall.err.usage", lang))
    other = find_engineer(session, args[1])
    if other is None:
        return Reply(t("oncall.err.no_engineer", lang, who=args[1]))
    if other.id == actor.id:
        return Reply(t("oncall.err.self", lang))
    end = parse_time(args[3], tz)
    if end is None:
        return Reply(t("oncall.err.time", lang, value=args[3], tz=tz))
    if end <= now:
        return Reply(t("oncall.err.past", lang, end=local_time(end, tz)))
    moves = _swap(store.who(session, now), actor, other)
    if not moves:
        return Reply(t("oncall.err.neither", lang, who=other.name))
    lines = []
    try:
        for layer, frm, to in moves:
            store.add_override(session, layer, to, now, end,
                               reason=f"swap: {to.name} for {frm.name}", created_by=actor.name)
            lines.append(t("oncall.swapped", lang, to=to.name, frm=frm.name,
                           layer=t(f"oncall.layer.{layer}", lang).lower(),
                           start=local_time(now, tz), end=local_time(end, tz)))
    except RecordError as exc:
        return Reply(t("oncall.err.record", lang, error=str(exc)))
    return Reply("\n".join(lines))


def _swap(held: dict[str, tuple[Shift, Contact] | None], actor: Contact,
          other: Contact) -> list[tuple[str, Contact, Contact]]:
    """(layer, who gives it, who takes it) for each layer one of the two holds: the two
    exchange their layers, or the one not on call takes the other's."""
    moves = []
    for layer in LAYERS:
        h = held.get(layer)
        if h is not None and h[1].id == actor.id:
            moves.append((layer, actor, other))
        elif h is not None and h[1].id == other.id:
            moves.append((layer, other, actor))
    return moves


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
