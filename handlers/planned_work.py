"""Planned work (P19): a customer announces an upgrade or a patch/package install.

The notice rule (pure, :func:`check_notice`): the procedure asks for the announcement "at
least one week before the planned date". We read that as

- the planned date must be at least ``policy.planned_work_notice_days`` (7) *calendar* days
  after the day of the request, both in the customer's local time; and
- the planned date must be a business day of the customer's calendar (P1: weekends and
  national holidays are not), so the vendor's engineers are on duty that day.

A date that fails either is refused and the earliest acceptable date is proposed: the first
business day on or after request day + notice days. A half day (e.g. the eve of a Turkish
holiday) is a business day.

The customer's one-line form: ``plan PRODUCT VERSION YYYY-MM-DD HH:MM-HH:MM``
(``plan Voice Bot 4.3 2026-12-10 22:00-02:00``; the window may cross midnight).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, col, select

from sla import BusinessCalendar, Policy
from storage import outbox
from storage.directory import contract_products, customer_calendar, local_today
from storage.models import Contact, Customer, PlannedWork, Product

from .i18n import register, t
from .identity import Identity, Refusal, identify
from .notify import keys
from .types import Reply, Routing

register({
    "plan.usage": {
        "en": "To announce planned work (an upgrade, a patch or package install) write:\n"
              "plan PRODUCT VERSION YYYY-MM-DD HH:MM-HH:MM\n"
              "for example: plan Voice Bot 4.3 2026-12-10 22:00-02:00\n"
              "Please announce it at least {days} days ahead (our support procedure).",
        "tr": "Planlı bir çalışmayı (sürüm yükseltme, yama ya da paket kurulumu) bildirmek için "
              "yazın:\nplan ÜRÜN SÜRÜM YYYY-AA-GG SS:DD-SS:DD\n"
              "örnek: plan Voice Bot 4.3 2026-12-10 22:00-02:00\n"
              "Lütfen en az {days} gün önceden bildirin (destek prosedürümüz).",
    },
    "plan.bad_date": {
        "en": "{text!r} is not a date: please write it as YYYY-MM-DD.",
        "tr": "{text!r} bir tarih değil: lütfen YYYY-AA-GG biçiminde yazın.",
    },
    "plan.bad_window": {
        "en": "{text!r} is not a time window: please write it as HH:MM-HH:MM, e.g. 22:00-02:00.",
        "tr": "{text!r} bir zaman aralığı değil: lütfen SS:DD-SS:DD biçiminde yazın, örn. "
              "22:00-02:00.",
    },
    "plan.unknown_product": {
        "en": "I do not know the product {product!r}. Your contract covers: {products}.",
        "tr": "{product!r} adlı ürünü tanımıyorum. Sözleşmeniz şu ürünleri kapsıyor: "
              "{products}.",
    },
    "plan.too_soon": {
        "en": "Planned work must be announced at least {days} days ahead (our support "
              "procedure), so we cannot accept {day}. The earliest date we can accept is "
              "{earliest} ({weekday}). Please send the request again with that date or a "
              "later one.",
        "tr": "Planlı çalışmalar en az {days} gün önceden bildirilmelidir (destek "
              "prosedürümüz); bu yüzden {day} tarihini kabul edemiyoruz. Kabul edebileceğimiz "
              "en erken tarih {earliest} ({weekday}). Lütfen talebi bu tarihle ya da daha "
              "sonraki bir tarihle yeniden gönderin.",
    },
    "plan.not_business_day": {
        "en": "{day} is not a business day on your calendar ({why}), so our engineers are not "
              "on duty. The earliest date we can accept is {earliest} ({weekday}).",
        "tr": "{day} sizin takviminizde iş günü değil ({why}); mühendislerimiz o gün görevde "
              "değil. Kabul edebileceğimiz en erken tarih {earliest} ({weekday}).",
    },
    "plan.weekend": {"en": "weekend", "tr": "hafta sonu"},
    "plan.accepted": {
        "en": "Thank you. Planned work #{id} is recorded: {product} {version} on {day} "
              "{window} ({tz}). Our engineers have been told.",
        "tr": "Teşekkürler. #{id} numaralı planlı çalışma kaydedildi: {product} {version}, "
              "{day} {window} ({tz}). Mühendislerimize bilgi verildi.",
    },
    "plan.engineers": {
        "en": "Planned work #{id}: {customer} will install {product} {version} on {day} "
              "{window} ({tz}); announced by {contact}.",
        "tr": "Planlı çalışma #{id}: {customer}, {day} {window} ({tz}) tarihinde {product} "
              "{version} kuracak; bildiren: {contact}.",
    },
    "plan.list_empty": {"en": "No planned work ahead.", "tr": "Önümüzde planlı çalışma yok."},
    "plan.list_head": {"en": "Planned work:", "tr": "Planlı çalışmalar:"},
})

_WEEKDAYS = {
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
    "tr": ["Pazartesi", "Salı", "Çarşamba", "Perşembe", "Cuma", "Cumartesi", "Pazar"],
}
_WINDOW = re.compile(r"^(\d{1,2}:\d{2})-(\d{1,2}:\d{2})$")


# -- the pure rule ---------------------------------------------------------------------------


def business_day(calendar: BusinessCalendar, day: date) -> bool:
    """Open at all on ``day`` (a half day counts)."""
    return bool(calendar.day_intervals(day))


def earliest_acceptable(calendar: BusinessCalendar, requested_on: date, notice_days: int) -> date:
    """The first business day at least ``notice_days`` calendar days after ``requested_on``."""
    day = requested_on + timedelta(days=notice_days)
    while not business_day(calendar, day):
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class NoticeDecision:
    ok: bool
    reason: str  # ok | too_soon | not_business_day
    earliest: date
    why: str = ""  # the holiday's name, or "weekend"


def check_notice(
    calendar: BusinessCalendar, requested_on: date, planned: date, notice_days: int
) -> NoticeDecision:
    """Apply the notice rule of P19 (see the module docstring)."""
    earliest = earliest_acceptable(calendar, requested_on, notice_days)
    if planned < requested_on + timedelta(days=notice_days):
        return NoticeDecision(False, "too_soon", earliest)
    if not business_day(calendar, planned):
        why = calendar.closed_days(planned.year).get(planned, "weekend")
        return NoticeDecision(False, "not_business_day",
                              earliest_acceptable(calendar, planned, 0), why)
    return NoticeDecision(True, "ok", planned)


def parse_window(text: str) -> str | None:
    """``22:00-02:00`` normalised, or None when it is not a window (equal ends are not)."""
    m = _WINDOW.match(text.strip())
    if not m:
        return None
    try:
        a, b = (time.fromisoformat(x.zfill(5)) for x in m.groups())
    except ValueError:
        return None
    if a == b:
        return None
    return f"{a:%H:%M}-{b:%H:%M}"


@dataclass(frozen=True)
class PlanRequest:
    product: str
    version: str
    day: date
    window: str


def parse_request(text: str) -> PlanRequest | tuple[str, dict[str, str]]:
    """``PRODUCT VERSION DATE WINDOW`` (product may have spaces) or (message key, kwargs)."""
    parts = text.split()
    if len(parts) < 4:
        return ("plan.usage", {})
    *product, version, day_text, window_text = parts
    try:
        day = date.fromisoformat(day_text)
    except ValueError:
        return ("plan.bad_date", {"text": day_text})
    window = parse_window(window_text)
    if window is None:
        return ("plan.bad_window", {"text": window_text})
    return PlanRequest(" ".join(product), version, day, window)


# -- the customer's command ------------------------------------------------------------------


def _covered(session: Session, identity: Identity, name: str) -> tuple[Product | None, list[str]]:
    products = contract_products(session, identity.contract)
    for p in products:
        if p.name.casefold() == name.casefold():
            return p, [x.name for x in products]
    return None, [x.name for x in products]


def plan_command(
    session: Session,
    policy: Policy,
    channel: str,
    user_key: str,
    text: str,
    now: datetime,
    routing: Routing | None = None,
    hint: str | None = None,
    workspace: str = "",
) -> Reply:
    """A customer's ``plan ...`` message: refuse a too-short notice with the earliest
    acceptable date, or record the work and tell the engineers (outbox). ``workspace``: the
    platform workspace of ``user_key`` (``""``, the home one, by default)."""
    who = identify(session, channel, user_key, now, hint, workspace)
    if isinstance(who, Refusal):
        return Reply(who.text)
    lang = who.language
    days = policy.planned_work_notice_days
    parsed = parse_request(text.removeprefix("plan").strip())
    if not isinstance(parsed, PlanRequest):
        key, kw = parsed
        reply = t(key, lang, **kw, days=days) if key == "plan.usage" else (
            t(key, lang, **kw) + "\n\n" + t("plan.usage", lang, days=days))
        return Reply(reply)
    product, names = _covered(session, who, parsed.product)
    if product is None:
        return Reply(t("plan.unknown_product", lang, product=parsed.product,
                       products=", ".join(names)))
    calendar = customer_calendar(who.customer)
    today = local_today(calendar, now)
    decision = check_notice(calendar, today, parsed.day, days)
    if not decision.ok:
        why = t("plan.weekend", lang) if decision.why == "weekend" else decision.why
        return Reply(t(f"plan.{decision.reason}", lang, days=days, day=parsed.day.isoformat(),
                       earliest=decision.earliest.isoformat(),
                       weekday=_WEEKDAYS[lang][decision.earliest.weekday()], why=why),
                     meta={"earliest": decision.earliest.isoformat()})
    work = PlannedWork(
        customer_id=who.customer.id,  # type: ignore[arg-type]
        contact_id=who.contact.id,  # type: ignore[arg-type]
        product_id=product.id,  # type: ignore[arg-type]
        version=parsed.version, day=parsed.day, window=parsed.window, created_at=now,
    )
    session.add(work)
    session.flush()
    for dest in (routing or Routing()).engineers:
        outbox.enqueue(
            session, keys.planned_work(work.id, dest.channel, dest.target), dest.channel,
            dest.target, t("plan.engineers", "en", id=work.id, customer=who.customer.code,
                           product=product.name, version=work.version, day=work.day,
                           window=work.window, tz=calendar.tz, contact=who.contact.name),
            thread=dest.thread, payload={"planned_work": work.id},
        )
    return Reply(t("plan.accepted", lang, id=work.id, product=product.name,
                   version=work.version, day=work.day.isoformat(), window=work.window,
                   tz=calendar.tz), meta={"planned_work": str(work.id)})


# -- listing ---------------------------------------------------------------------------------


def list_planned(session: Session, from_day: date | None = None) -> list[dict[str, object]]:
    """Planned work on or after ``from_day`` (all when None), soonest first."""
    query = select(PlannedWork).order_by(col(PlannedWork.day), col(PlannedWork.id))
    if from_day is not None:
        query = query.where(col(PlannedWork.day) >= from_day)
    customers = {c.id: c for c in session.exec(select(Customer))}
    products = {p.id: p.name for p in session.exec(select(Product))}
    contacts = {c.id: c.name for c in session.exec(select(Contact))}
    rows: list[dict[str, object]] = []
    for w in session.exec(query):
        customer = customers.get(w.customer_id)
        rows.append({
            "id": w.id, "customer": customer.code if customer else None,
            "product": products.get(w.product_id), "version": w.version,
            "day": w.day.isoformat(), "window": w.window,
            "tz": customer_calendar(customer).tz if customer else None,
            "status": w.status, "contact": contacts.get(w.contact_id),
            "requested_at": w.created_at.isoformat(),
        })
    return rows


def planned_reply(session: Session, now: datetime, lang: str = "en") -> Reply:
    """The engineers' verb ``planned``: work from today on."""
    rows = list_planned(session, now.date() - timedelta(days=1))
    if not rows:
        return Reply(t("plan.list_empty", lang))
    lines = [t("plan.list_head", lang)] + [
        f"#{r['id']} {r['day']} {r['window']} ({r['tz']}) {r['customer']}: {r['product']} "
        f"{r['version']} — {r['contact']}" for r in rows
    ]
    return Reply("\n".join(lines), meta={"json": json.dumps(rows, ensure_ascii=False)})

