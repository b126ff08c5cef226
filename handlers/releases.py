"""Release notices (P7 patches and packages) and end-of-support notices (P8).

Who is told: every trained, active contact of a customer whose contract is active today (the
customer's local date) and covers the product (storage.directory.contract_products), on the
contact's channel: the channel of their latest ticket on a channel they have an identity on,
else their first identity in channel-name order (Slack before Telegram). One outbox row per
contact and notice; its key makes it once:
``release:{release_id}:customer:{customer_id}:{contact_id}`` and
``eos:{version_id}:customer:{customer_id}:{contact_id}``.

End of support: versions whose support ends (release date + ``policy.end_of_support_years``)
within the next 90 days, today included, are announced to *every customer covering the
product*. We do not know which version each customer runs (tickets name a version only now and
then), and an unneeded notice costs less than a customer surprised by the end of support.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from sla import Policy
from storage import outbox
from storage.directory import (
    RecordError,
    active_contract,
    contract_products,
    customer_calendar,
    get_product,
    local_today,
    support_window,
)
from storage.identities import external_ids
from storage.models import (
    Contact,
    Customer,
    Product,
    ProductVersion,
    Release,
    Role,
    Ticket,
)

from .i18n import register, t
from .notify import keys

EOS_HORIZON_DAYS = 90
KINDS = ("patch", "package")

register({
    "release.kind.patch": {"en": "patch (bug fixes)", "tr": "yama (hata düzeltmeleri)"},
    "release.kind.package": {"en": "package (new features)", "tr": "paket (yeni özellikler)"},
    "release.notice": {
        "en": "New release of {product}: version {version}, a {kind}, released {released}.\n"
              "{notes}\nDefects are fixed in the latest release: please plan the upgrade "
              "(announce it at least a week ahead with the plan command).",
        "tr": "{product} için yeni sürüm: {version}, {kind}, yayın tarihi {released}.\n"
              "{notes}\nHatalar en son sürümde düzeltilir: lütfen yükseltmeyi planlayın "
              "(plan komutuyla en az bir hafta önceden bildirin).",
    },
    "release.eos": {
        "en": "End of support: {product} {version} (released {released}) is supported until "
              "{ends}. After that date the vendor decides whether to support it (our support "
              "procedure). Please plan an upgrade to a current version.",
        "tr": "Destek sonu: {product} {version} (yayın tarihi {released}) {ends} tarihine "
              "kadar desteklenmektedir. Bu tarihten sonra desteğin sürüp sürmeyeceğine firmamız "
              "karar verir (destek "
              "prosedürümüz). Lütfen güncel bir sürüme yükseltmeyi planlayın.",
    },
})


@dataclass(frozen=True)
class Recipient:
    customer: Customer
    contact: Contact
    channel: str
    target: str
    language: str


def _channel_of(session: Session, contact: Contact) -> tuple[str, str] | None:
    """The contact's channel and their id there: the channel of their latest ticket among the
    channels they have an identity on, else their first identity (channel-name order). The
    channels come from their identity rows, so a new channel needs no edit here."""
    ids = {channel: target for channel, target in
           external_ids(session, contact.id or 0).items() if target}
    if not ids:
        return None
    latest = session.exec(
        select(Ticket.channel).where(Ticket.contact_id == contact.id,
                                     col(Ticket.channel).in_(list(ids)))
        .order_by(col(Ticket.reported_at).desc())
    ).first()
    channel = latest or next(iter(ids))
    return channel, ids[channel]


def recipients(session: Session, product: Product, now: datetime) -> list[Recipient]:
    """Trained contacts of customers with an active contract covering ``product``."""
    out = []
    for customer in session.exec(select(Customer).order_by(col(Customer.code))):
        contract = active_contract(session, customer.id or 0,
                                   local_today(customer_calendar(customer), now))
        if contract is None:
            continue
        if product.id not in {p.id for p in contract_products(session, contract)}:
            continue
        contacts = session.exec(
            select(Contact).where(Contact.customer_id == customer.id,
                                  Contact.role == Role.CUSTOMER, col(Contact.trained),
                                  col(Contact.active)).order_by(col(Contact.id))
        )
        for contact in contacts:
            where = _channel_of(session, contact)
            if where is not None:
                out.append(Recipient(customer, contact, where[0], where[1],
                                     contact.language or customer.language or "en"))
    return out


@dataclass(frozen=True)
class ReleaseResult:
    release: Release
    version: ProductVersion
    new_version: bool
    queued: int


def add_release(
    session: Session,
    product_name: str,
    version: str,
    kind: str,
    notes: str,
    released: date,
    now: datetime,
) -> ReleaseResult:
    """Record a release (and its ProductVersion when new), then queue the notices."""
    if kind not in KINDS:
        raise RecordError(f"unknown release kind {kind!r}: use patch or package")
    if not version.strip():
        raise RecordError("a release needs a version")
    product = get_product(session, product_name)
    earlier = session.exec(select(Release).where(
        Release.product_id == product.id, Release.version == version)).first()
    if earlier is not None:  # a second "release" would queue every notice again
        raise RecordError(f"{product.name} {version} was already released "
                          f"({earlier.created_at:%Y-%m-%d}, release {earlier.id}): nothing queued")
    row = session.exec(select(ProductVersion).where(
        ProductVersion.product_id == product.id, ProductVersion.version == version)).first()
    new = row is None
    if row is None:
        row = ProductVersion(product_id=product.id, version=version, released=released)  # type: ignore[arg-type]
        session.add(row)
    release = Release(product_id=product.id, version=version, kind=kind,  # type: ignore[arg-type]
                      notes=notes, created_at=now)
    session.add(release)
    session.flush()
    queued = notify_release(session, release, now)
    return ReleaseResult(release, row, new, queued)


def notify_release(session: Session, release: Release, now: datetime) -> int:
    """Queue the release notice for each recipient once; returns how many are new."""
    product = session.get(Product, release.product_id)
    assert product is not None
    version = session.exec(select(ProductVersion).where(
        ProductVersion.product_id == product.id,
        ProductVersion.version == release.version)).first()
    released = version.released if version else release.created_at.date()
    queued = 0
    for r in recipients(session, product, now):
        text = t("release.notice", r.language, product=product.name, version=release.version,
                 kind=t(f"release.kind.{release.kind}", r.language),
                 released=released.isoformat(), notes=release.notes.strip())
        key = keys.release_notice(release.id, r.customer.id, r.contact.id)
        if outbox.enqueue(session, key, r.channel, r.target, text,
                          payload={"release": release.id}):
            queued += 1
    return queued


@dataclass(frozen=True)
class EosNotice:
    product: str
    version: str
    ends: date
    customer: str
    contact: str
    channel: str


def eos_notices(session: Session, policy: Policy, now: datetime,
                horizon_days: int = EOS_HORIZON_DAYS) -> list[EosNotice]:
    """Queue end-of-support notices for versions ending within ``horizon_days``; returns the
    notices queued by this run (a second run queues nothing new)."""
    today = now.date()
    out = []
    products = {p.id: p for p in session.exec(select(Product))}
    for v in session.exec(select(ProductVersion).order_by(col(ProductVersion.released))):
        window = support_window(v.released, policy.end_of_support_years, today)
        if not today <= window.ends <= today + timedelta(days=horizon_days):
            continue
        product = products[v.product_id]
        for r in recipients(session, product, now):
            text = t("release.eos", r.language, product=product.name, version=v.version,
                     released=v.released.isoformat(), ends=window.ends.isoformat())
            key = keys.end_of_support_notice(v.id, r.customer.id, r.contact.id)
            if outbox.enqueue(session, key, r.channel, r.target, text,
                              payload={"eos_version": v.id}):
                out.append(EosNotice(product.name, v.version, window.ends, r.customer.code,
                                     r.contact.name, r.channel))
    return out
