"""Who is writing: the contact behind a channel user, and the refusals of P9 and P12.

A refusal is logged and nothing else is stored: no dialog, no ticket, no clock.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Date, and_, bindparam, case, func
from sqlmodel import Session, col, select

from storage.directory import customer_calendar, local_today
from storage.identities import HOME, bind_params, by_contact_id, contact_for, restrict
from storage.models import (
    Contact,
    Contract,
    Customer,
    DialogSession,
    HeldMessage,
    Role,
    Ticket,
    TicketPause,
    TicketStatus,
)
from storage.tickets import REMOTE_ACCESS_PAUSE

from .i18n import normalise_language, register, t

log = logging.getLogger("destek.identity")

register({
    "refuse.unknown": {
        "en": "Sorry, I do not know you yet. Only registered support contacts of our customers "
              "can open tickets here. Please ask your company's support coordinator to register "
              "you with us.",
        "tr": "Üzgünüm, sizi henüz tanımıyorum. Burada yalnızca müşterilerimizin kayıtlı destek "
              "irtibat kişileri kayıt açabilir. Lütfen şirketinizin destek sorumlusundan sizi "
              "bize kaydettirmesini isteyin.",
    },
    "refuse.untrained": {
        "en": "Sorry, {name}: tickets can only be opened by trained, designated contacts (our "
              "support procedure). Please ask a trained colleague to report the problem, or ask "
              "us about the product training.",
        "tr": "Üzgünüm {name}: kayıtlar yalnızca eğitim almış, yetkilendirilmiş irtibat kişileri "
              "tarafından açılabilir (destek prosedürümüz). Lütfen sorunu eğitimli bir "
              "çalışma arkadaşınızın bildirmesini isteyin ya da ürün eğitimi için bize ulaşın.",
    },
    "refuse.no_contract": {
        "en": "Sorry, {name}: {customer} has no active maintenance and support contract today, "
              "so I cannot open a ticket. Please contact your account manager to renew it.",
        "tr": "Üzgünüm {name}: {customer} için bugün geçerli bir bakım ve destek sözleşmesi "
              "yok, bu yüzden kayıt açamıyorum. Yenilemek için lütfen müşteri temsilcinize "
              "başvurun.",
    },
    "refuse.not_customer": {
        "en": "Hello {name}: you are registered as vendor staff, not as a customer contact, so "
              "you cannot open a customer ticket here. Use the engineers' commands instead.",
        "tr": "Merhaba {name}: müşteri irtibat kişisi olarak değil, firma personeli olarak "
              "kayıtlısınız; burada müşteri kaydı açamazsınız. Lütfen mühendis komutlarını "
              "kullanın.",
    },
    "refuse.inactive": {
        "en": "Sorry, {name}: your contact record is not active. Please ask your company's "
              "support coordinator.",
        "tr": "Üzgünüm {name}: irtibat kaydınız etkin değil. Lütfen şirketinizin destek "
              "sorumlusuna başvurun.",
    },
})


@dataclass(frozen=True)
class Identity:
    """A trained customer contact whose organisation has an active contract."""

    contact: Contact
    customer: Customer
    contract: Contract
    language: str

    @property
    def plan(self) -> str:
        return self.contract.plan


@dataclass(frozen=True)
class Refusal:
    """Why this person cannot open a ticket; ``text`` is the polite answer in their language."""

    reason: str  # unknown | untrained | no_contract | not_customer | inactive
    text: str
    language: str
    contact: Contact | None = None


def lookup_contact(
    session: Session, channel: str, user_key: str, workspace: str = HOME
) -> Contact | None:
    """The contact a channel user maps to (their platform user id in ``workspace``, the home
    one by default; the contact id on the console)."""
    return contact_for(session, channel, user_key, workspace)


@functools.cache
def _lookup_statement(contact_id_key: bool) -> Any:
    """The per-message identity query, built once per key kind (building a select costs
    more than running it on SQLite); the values are bound parameters."""
    # The sender's ticket that began to wait for their information (P17) after their report
    # in progress last moved: asked only when there is a report in progress.
    waiting = (
        select(func.max(Ticket.id))
        .join(TicketPause, col(TicketPause.ticket_id) == col(Ticket.id))
        .where(col(Ticket.contact_id) == col(Contact.id),
               Ticket.channel == bindparam("channel"), Ticket.status == TicketStatus.PENDING,
               col(TicketPause.ended_at).is_(None), TicketPause.kind != REMOTE_ACCESS_PAUSE,
               col(TicketPause.started_at) > col(DialogSession.updated_at))
        .correlate(Contact, DialogSession).scalar_subquery()
    )
    query = (
        select(Contact, Customer, Contract, DialogSession, HeldMessage,  # type: ignore[call-overload]
               case((col(DialogSession.id).is_(None), None), else_=waiting))
        .join(Customer, Contact.customer_id == Customer.id, isouter=True)  # type: ignore[arg-type]
        .join(Contract, and_(col(Contract.customer_id) == col(Customer.id),
                             col(Contract.start) <= bindparam("until", type_=Date),
                             col(Contract.end) >= bindparam("since", type_=Date)),
              isouter=True)
        .join(DialogSession, and_(col(DialogSession.channel) == bindparam("channel"),
                                  col(DialogSession.user_key) == bindparam("user_key")),
              isouter=True)
        .join(HeldMessage, and_(col(HeldMessage.channel) == bindparam("channel"),
                                col(HeldMessage.user_key) == bindparam("user_key")),
              isouter=True)
    )
    return restrict(query, contact_id_key)


@dataclass(frozen=True, slots=True)
class Sender:
    """Who wrote, and what the dispatch reads of them in the same round trip: their report
    in progress, their message held for a "which ticket?" pick, and the id of their ticket
    that began to wait for their answer while the report was being written."""

    who: Identity | Refusal
    dialog: DialogSession | None = None
    held: HeldMessage | None = None
    waiting_id: int | None = None


_Found = tuple[Contact, Customer | None, list[Contract], DialogSession | None,
               HeldMessage | None, int | None]


def _lookup(
    session: Session, channel: str, user_key: str, now: datetime, workspace: str = HOME
) -> _Found | None:
    """Contact, customer, the contracts around today, and the dialog, held message and
    waiting ticket of :class:`Sender`, in one round trip (this runs for every message)."""
    key = bind_params(channel, user_key, workspace)
    if key is None:
        return None
    utc_today = now.date()
    params = {"until": utc_today + timedelta(days=1), "since": utc_today - timedelta(days=1),
              "channel": channel, "user_key": user_key, **key}
    rows = list(session.exec(_lookup_statement(by_contact_id(channel)), params=params))
    if not rows:
        return None
    first = rows[0]
    return (first[0], first[1], [r[2] for r in rows if r[2] is not None], first[3], first[4],
            first[5])


def contact_language(contact: Contact | None, customer: Customer | None, hint: str | None) -> str:
    """The contact's language, else the platform's hint, else the customer's, else English."""
    if contact is not None and contact.language:
        return contact.language
    hinted = normalise_language(hint)
    if hinted:
        return hinted
    if customer is not None and customer.language:
        return customer.language
    return "en"


def identify(
    session: Session, channel: str, user_key: str, now: datetime, hint: str | None = None,
    workspace: str = HOME,
) -> Identity | Refusal:
    """Identify the sender and check P9 (active contract) and P12 (trained contact)."""
    return identify_with_dialog(session, channel, user_key, now, hint, workspace)[0]


def identify_with_dialog(
    session: Session, channel: str, user_key: str, now: datetime, hint: str | None = None,
    workspace: str = HOME,
) -> tuple[Identity | Refusal, DialogSession | None]:
    """:func:`identify`, plus the user's dialog in progress (None for unknown users)."""
    sender = identify_sender(session, channel, user_key, now, hint, workspace)
    return sender.who, sender.dialog


def identify_sender(
    session: Session, channel: str, user_key: str, now: datetime, hint: str | None = None,
    workspace: str = HOME,
) -> Sender:
    """:func:`identify` with the rest of :class:`Sender`, in one query."""
    found = _lookup(session, channel, user_key, now, workspace)
    if found is None:
        lang = contact_language(None, None, hint)
        log.info("refused %s user %s: unknown", channel, user_key)
        return Sender(Refusal("unknown", t("refuse.unknown", lang), lang))
    contact, customer, contracts, dialog, held, waiting_id = found
    return Sender(_check(channel, user_key, now, hint, contact, customer, contracts), dialog,
                  held, waiting_id)


def _check(
    channel: str, user_key: str, now: datetime, hint: str | None, contact: Contact,
    customer: Customer | None, contracts: list[Contract],
) -> Identity | Refusal:
    lang = contact_language(contact, customer, hint)
    reason: str | None = None
    kw: dict[str, str] = {"name": contact.name}
    contract: Contract | None = None
    if contact.role != Role.CUSTOMER or customer is None:
        reason = "not_customer"
    elif not contact.active:
        reason = "inactive"
    elif not contact.trained:
        reason = "untrained"
    else:
        # The contract in force on the customer's local date (P9), latest end first.
        today = local_today(customer_calendar(customer), now)
        in_force = [c for c in contracts if c.start <= today <= c.end]
        contract = max(in_force, key=lambda c: c.end) if in_force else None
        if contract is None:
            reason = "no_contract"
            kw["customer"] = customer.name
    if reason is not None:
        log.info("refused %s user %s (contact %s): %s", channel, user_key, contact.id, reason)
        return Refusal(reason, t(f"refuse.{reason}", lang, **kw), lang, contact)
    assert customer is not None and contract is not None
    return Identity(contact, customer, contract, lang)
