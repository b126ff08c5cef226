"""Customer-facing texts for every change of a ticket (P21), in the ticket's language.

Each function returns the message posted to the customer in the conversation where the ticket
was reported; ``handlers.ticket_actions`` queues it in the outbox after the audit event is written.
"""

from __future__ import annotations

from datetime import datetime

from sla import Policy

from .i18n import register, t
from .vocabulary import local_when

register({
    "upd.response": {
        "en": "Ticket #{n}: your report was assigned to our support engineer {engineer} on "
              "{when}. Severity: {sev} ({sev_name}).",
        "tr": "Kayıt #{n}: bildiriminiz {when} tarihinde destek mühendisimize atandı. "
              "Atanan mühendis: {engineer}. Önem derecesi: {sev} ({sev_name}).",
    },
    "upd.reassigned": {
        "en": "Ticket #{n}: since {when} your report is handled by our support engineer "
              "{engineer}. Severity: {sev} ({sev_name}).",
        "tr": "Kayıt #{n}: {when} itibarıyla bildiriminizle destek mühendisimiz {engineer} "
              "ilgileniyor. Önem derecesi: {sev} ({sev_name}).",
    },
    "upd.severity": {
        "en": "Ticket #{n}: the severity was changed from {old} to {sev} ({sev_name}). "
              "Reason: {reason}",
        "tr": "Kayıt #{n}: önem derecesi {old} yerine {sev} ({sev_name}) olarak değiştirildi. "
              "Gerekçe: {reason}",
    },
    "upd.pending": {
        "en": "Ticket #{n}: to go on, we need the following from you: {reason}\n"
              "Please reply here. Until you do, the service-level clocks are paused.",
        "tr": "Kayıt #{n}: devam edebilmemiz için sizden şu bilgiye ihtiyacımız var: {reason}\n"
              "Lütfen buradan yanıtlayın. Yanıtınız gelene kadar hizmet süreleri duraklatıldı.",
    },
    "upd.resumed": {
        "en": "Ticket #{n}: work has resumed; the service-level clocks are running again.",
        "tr": "Kayıt #{n}: çalışmaya devam ediyoruz; hizmet süreleri yeniden işliyor.",
    },
    "upd.resumed_by_reply": {
        "en": "Ticket #{n}: thank you, we received your answer. Work has resumed and the "
              "service-level clocks are running again.",
        "tr": "Kayıt #{n}: teşekkürler, yanıtınızı aldık. Çalışmaya devam ediyoruz; hizmet "
              "süreleri yeniden işliyor.",
    },
    "upd.workaround": {
        "en": "Ticket #{n}: a workaround is available:\n{text}\n"
              "We are still working on the permanent fix.",
        "tr": "Kayıt #{n}: anlık çözüm hazır:\n{text}\n"
              "Kalıcı çözüm üzerinde çalışmaya devam ediyoruz.",
    },
    "upd.resolved": {
        "en": "Ticket #{n}: the fix has been applied:\n{text}{fix}\n"
              "Please confirm here that the problem is solved.",
        "tr": "Kayıt #{n}: kalıcı çözüm uygulandı:\n{text}{fix}\n"
              "Sorunun çözüldüğünü lütfen buradan yanıt vererek onaylayın.",
    },
    "upd.fix_version": {
        "en": "\nFixed in version {version}.",
        "tr": "\nDüzeltmeyi içeren sürüm: {version}.",
    },
    "upd.closed": {
        "en": "Ticket #{n} is closed. Thank you.",
        "tr": "Kayıt #{n} kapatıldı. Teşekkür ederiz.",
    },
    "upd.reopened": {
        "en": "Ticket #{n} has been reopened. Reason: {reason}",
        "tr": "Kayıt #{n} yeniden açıldı. Gerekçe: {reason}",
    },
    "upd.escalated": {
        "en": "Ticket #{n} has been escalated to {tier}. Reason: {reason}",
        "tr": "Kayıt #{n} bir üst destek kademesine aktarıldı: {tier}. Gerekçe: {reason}",
    },
    # The procedure's support tiers (section 11.3: "Kademe 2: Sorun ve Değişiklik Yönetimi").
    "upd.tier2": {
        "en": "tier 2 (problem and change management)",
        "tr": "Kademe 2 (sorun ve değişiklik yönetimi)",
    },
    "upd.tier3": {
        "en": "tier 3 (engineering)",
        "tr": "Kademe 3 (mühendislik desteği)",
    },
    "upd.exception": {
        "en": "Ticket #{n}: written notice of an exception to the service levels (P18):\n{text}",
        "tr": "Kayıt #{n}: hizmet düzeylerine ilişkin yazılı istisna bildirimi (P18):\n{text}",
    },
})


def local_time(when: datetime, tz: str) -> str:
    """``2026-11-25 12:00 (Europe/Istanbul)``: a customer sees their own local time."""
    return local_when(when, tz)


def response(n: int, engineer: str, when: datetime, tz: str, severity: str, policy: Policy,
             lang: str, first: bool = True) -> str:
    """The response (P3): engineer, time of assignment, severity."""
    return t("upd.response" if first else "upd.reassigned", lang, n=n, engineer=engineer,
             when=local_time(when, tz), sev=severity,
             sev_name=policy.severity_name(severity, lang))


def severity(n: int, old: str, new: str, reason: str, policy: Policy, lang: str) -> str:
    return t("upd.severity", lang, n=n, old=old, sev=new,
             sev_name=policy.severity_name(new, lang), reason=reason)


def pending(n: int, reason: str, lang: str) -> str:
    return t("upd.pending", lang, n=n, reason=reason)


def resumed(n: int, lang: str, by_reply: bool = False) -> str:
    return t("upd.resumed_by_reply" if by_reply else "upd.resumed", lang, n=n)


def workaround(n: int, text: str, lang: str) -> str:
    return t("upd.workaround", lang, n=n, text=text)


def resolved(n: int, text: str, fix_version: str | None, lang: str) -> str:
    fix = t("upd.fix_version", lang, version=fix_version) if fix_version else ""
    return t("upd.resolved", lang, n=n, text=text, fix=fix)


def closed(n: int, lang: str) -> str:
    return t("upd.closed", lang, n=n)


def reopened(n: int, reason: str, lang: str) -> str:
    return t("upd.reopened", lang, n=n, reason=reason)


def escalated(n: int, tier: int, reason: str, lang: str) -> str:
    return t("upd.escalated", lang, n=n, tier=t(f"upd.tier{tier}", lang), reason=reason)


def exception(n: int, text: str, lang: str) -> str:
    return t("upd.exception", lang, n=n, text=text)
