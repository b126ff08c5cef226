"""Customers, contracts, contacts, products and versions: the records a manager describes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from sla import BusinessCalendar, make_calendar

from .identities import HOME, by_contact_id, holder
from .kb import fold
from .models import (
    Contact,
    ContactIdentity,
    Contract,
    ContractProduct,
    Customer,
    Product,
    ProductVersion,
    Role,
)


class RecordError(ValueError):
    """A record that cannot be added or found; the message says why."""


LANGUAGES = ("en", "tr")


def _check_language(language: str | None) -> None:
    if language is not None and language not in LANGUAGES:
        raise RecordError(f"unknown language {language!r}: use en or tr")


def parse_closed_dates(text: str | None) -> list[date]:
    if not text:
        return []
    try:
        return [date.fromisoformat(p.strip()) for p in text.split(",") if p.strip()]
    except ValueError as exc:
        raise RecordError(f"bad closed date in {text!r}: {exc}") from None


def calendar_of(
    preset: str, tz: str | None, hours: str | None, closed_dates: str | None
) -> BusinessCalendar:
    """A calendar from stored columns (a customer's, or a ticket's snapshot of them)."""
    return make_calendar(preset, tz, hours, parse_closed_dates(closed_dates))


def customer_calendar(customer: Customer) -> BusinessCalendar:
    """The business calendar a customer's contract runs on (P1, P2)."""
    return calendar_of(customer.calendar, customer.tz, customer.hours, customer.closed_dates)


# -- customers ------------------------------------------------------------------------------


# A customer code is typed in commands and shown in reports: one word.
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def add_customer(
    session: Session,
    code: str,
    name: str | None = None,
    calendar: str = "TR",
    tz: str | None = None,
    hours: str | None = None,
    closed: str | None = None,
    language: str = "en",
) -> Customer:
    _check_language(language)
    if not _CODE.fullmatch(code):
        raise RecordError(f"customer code {code!r}: use letters, digits, '-' or '_' "
                          "(no spaces), at most 64")
    if session.exec(select(Customer).where(Customer.code == code)).first():
        raise RecordError(f"customer {code!r} already exists")
    customer = Customer(
        code=code, name=name or code, calendar=calendar, tz=tz, hours=hours,
        closed_dates=closed, language=language,
    )
    customer_calendar(customer)  # validates preset, timezone, hours and dates
    customer.calendar = customer_calendar(customer).name
    session.add(customer)
    session.flush()
    return customer


def get_customer(session: Session, code: str) -> Customer:
    customer = session.exec(select(Customer).where(Customer.code == code)).first()
    if customer is None:
        raise RecordError(f"unknown customer {code!r}")
    return customer


def list_customers(session: Session) -> list[Customer]:
    return list(session.exec(select(Customer).order_by(Customer.code)))


# -- contracts ------------------------------------------------------------------------------


def add_contract(
    session: Session,
    customer_code: str,
    plan: str,
    start: date,
    end: date,
    products: list[str] | None = None,
    plans: tuple[str, ...] | None = None,
) -> Contract:
    customer = get_customer(session, customer_code)
    if plans is not None and plan not in plans:
        raise RecordError(f"unknown plan {plan!r}: choose one of {', '.join(plans)}")
    if end < start:
        raise RecordError(f"contract ends ({end}) before it starts ({start})")
    contract = Contract(customer_id=customer.id, plan=plan, start=start, end=end)  # type: ignore[arg-type]
    session.add(contract)
    session.flush()
    for name in products or []:
        product = get_product(session, name)
        session.add(ContractProduct(contract_id=contract.id, product_id=product.id))  # type: ignore[arg-type]
    session.flush()
    return contract


def active_contract(session: Session, customer_id: int, on: date) -> Contract | None:
    """The contract in force on ``on`` (P9: no active contract, no service)."""
    return session.exec(
        select(Contract)
        .where(Contract.customer_id == customer_id, Contract.start <= on, Contract.end >= on)
        .order_by(Contract.end.desc())  # type: ignore[attr-defined]
    ).first()


def contract_products(session: Session, contract: Contract) -> list[Product]:
    """Products under a contract; a contract that lists none covers every product."""
    linked = list(
        session.exec(
            select(Product)
            .join(ContractProduct, ContractProduct.product_id == Product.id)  # type: ignore[arg-type]
            .where(ContractProduct.contract_id == contract.id)
            .order_by(Product.name)
        )
    )
    return linked or list_products(session)


def list_contracts(session: Session, customer_code: str | None = None) -> list[Contract]:
    query = select(Contract).order_by(col(Contract.id))
    if customer_code:
        query = query.where(Contract.customer_id == get_customer(session, customer_code).id)
    return list(session.exec(query))


# -- contacts -------------------------------------------------------------------------------


def add_contact(
    session: Session,
    customer_code: str | None,
    name: str,
    role: str = Role.CUSTOMER,
    trained: bool = False,
    language: str | None = None,
    slack_id: str | None = None,
    telegram_id: int | str | None = None,
    email: str | None = None,
    identities: Mapping[str, str] | None = None,
    workspaces: Mapping[str, str] | None = None,
) -> Contact:
    """A contact, with their user ids on chat channels: ``identities`` maps a channel to the
    id, in the home workspace unless ``workspaces`` names another for that channel (a Slack
    Connect customer's own Slack team, ``T...``); ``slack_id`` and ``telegram_id`` are
    shorthands for those two, in the positions callers have passed them since the first
    release. A name or an id another contact already has is refused, and nothing is
    written."""
    _check_language(language)
    where = {channel: check_workspace(channel, team) for channel, team in
             (workspaces or {}).items()}
    wanted = {channel: str(value).strip()
              for channel, value in (("slack", slack_id), ("telegram", telegram_id))
              if value is not None and str(value).strip()}
    wanted.update({channel: value.strip() for channel, value in (identities or {}).items()})
    if role not in tuple(Role):
        raise RecordError(f"unknown role {role!r}: use customer, engineer or manager")
    customer_id = None
    if role == Role.CUSTOMER:
        if not customer_code:
            raise RecordError("a customer contact needs a customer")
        customer_id = get_customer(session, customer_code).id
    elif customer_code:
        customer_id = get_customer(session, customer_code).id
    same_org = (col(Contact.customer_id) == customer_id if customer_id is not None
                else col(Contact.customer_id).is_(None))
    folded = name.strip().casefold()
    if any(other.strip().casefold() == folded
           for other in session.exec(select(Contact.name).where(same_org))):
        whose = f"customer {customer_code}" if customer_id is not None else "the vendor's staff"
        raise RecordError(f"{whose} already has a contact named {name!r}")
    if set(where) - set(wanted):
        raise RecordError(f"a workspace for {', '.join(sorted(set(where) - set(wanted)))} "
                          "needs the user id there too")
    for channel, external_id in wanted.items():
        _check_identity(session, None, channel, external_id, where.get(channel, HOME))
    contact = Contact(
        customer_id=customer_id, name=name, role=role, trained=trained, language=language,
        email=email,
    )
    session.add(contact)
    session.flush()
    for channel, external_id in wanted.items():
        set_identity(session, contact, channel, external_id, where.get(channel, HOME))
    return contact


# A Slack team (workspace) id T..., or an Enterprise Grid organisation's E...
SLACK_TEAM = re.compile(r"[TE][A-Z0-9]{2,31}")


def check_workspace(channel: str, workspace: str) -> str:
    """A workspace id as ``channel`` spells it (Slack: ``T...``), or a RecordError."""
    workspace = workspace.strip()
    if channel != "slack":
        raise RecordError(f"{channel} has no other workspaces than the home one")
    if not SLACK_TEAM.fullmatch(workspace):
        raise RecordError(f"Slack team id {workspace!r}: give the team's id, T and then "
                          "upper-case letters and digits (e.g. T0ACME000)")
    return workspace


# A channel name as adapters and the outbox spell it ("slack", "telegram").
_CHANNEL = re.compile(r"[a-z][a-z0-9_-]{0,15}")


def _check_identity(
    session: Session, contact: Contact | None, channel: str, external_id: str, workspace: str
) -> ContactIdentity | None:
    """Refuse an identity that cannot be stored or is someone else's; the row that already
    has it when it is this contact's own."""
    if by_contact_id(channel):
        raise RecordError(f"the {channel} addresses contacts by their contact id: "
                          "it needs no user id")
    if not _CHANNEL.fullmatch(channel):
        raise RecordError(f"channel {channel!r}: use a lower-case word, at most 16 letters")
    if not external_id or len(external_id) > 64:
        raise RecordError(f"{channel} user id {external_id!r}: give 1 to 64 characters")
    if len(workspace) > 64:
        raise RecordError(f"{channel} workspace {workspace!r}: at most 64 characters")
    taken = holder(session, channel, external_id, workspace)
    if taken is not None and (contact is None or taken.contact_id != contact.id):
        other = session.get(Contact, taken.contact_id)
        where = f" in workspace {workspace}" if workspace else ""
        raise RecordError(f"{channel.capitalize()} user {external_id}{where} is already a "
                          f"contact: {other.name if other else '?'} (contact {taken.contact_id})")
    return taken


def set_identity(
    session: Session, contact: Contact, channel: str, external_id: str, workspace: str = HOME
) -> ContactIdentity:
    """Give ``contact`` the user id ``external_id`` on ``channel`` in ``workspace`` (the home
    one by default), replacing the id they had there; an id another contact has is refused."""
    external_id = external_id.strip()
    same = _check_identity(session, contact, channel, external_id, workspace)
    if same is not None:
        return same
    row = session.exec(select(ContactIdentity).where(
        ContactIdentity.contact_id == contact.id, ContactIdentity.channel == channel,
        ContactIdentity.workspace == workspace)).first()
    if row is None:
        row = ContactIdentity(contact_id=contact.id or 0, channel=channel, workspace=workspace,
                              external_id=external_id)
    else:
        row.external_id = external_id
    session.add(row)
    session.flush()
    return row


def name_key(name: str) -> str:
    """A name as people type it: no case, no accents, Turkish ı/İ as i ("ayse demir")."""
    return " ".join(fold(name).split())


def find_contact(session: Session, ref: str) -> Contact | None:
    """A contact by id, exact name or a chat user id (Slack, Telegram...); else by the name
    typed without case or accents ("Ayse Demir" is Ayşe Demir) when exactly one contact has
    it."""
    by_identity = select(ContactIdentity.contact_id).where(ContactIdentity.external_id == ref)
    conditions: list[Any] = [Contact.name == ref, col(Contact.id).in_(by_identity)]
    if ref.isdigit():
        conditions.append(Contact.id == int(ref))
    found = session.exec(select(Contact).where(or_(*conditions)).order_by(col(Contact.id))).first()
    key = name_key(ref)
    if found is not None or not key:
        return found
    alike = [c for c in session.exec(select(Contact)) if name_key(c.name) == key]
    return alike[0] if len(alike) == 1 else None


def list_contacts(session: Session, customer_code: str | None = None) -> list[Contact]:
    query = select(Contact).order_by(col(Contact.id))
    if customer_code:
        query = query.where(Contact.customer_id == get_customer(session, customer_code).id)
    return list(session.exec(query))


# -- products and versions ------------------------------------------------------------------


def add_product(
    session: Session, name: str, family: str, families: tuple[str, ...] | None = None
) -> Product:
    if families is not None and family not in families:
        raise RecordError(f"unknown product family {family!r}: choose one of {', '.join(families)}")
    if session.exec(select(Product).where(Product.name == name)).first():
        raise RecordError(f"product {name!r} already exists")
    product = Product(name=name, family=family)
    session.add(product)
    session.flush()
    return product


def get_product(session: Session, name: str) -> Product:
    product = session.exec(select(Product).where(Product.name == name)).first()
    if product is None:
        raise RecordError(f"unknown product {name!r}")
    return product


def list_products(session: Session) -> list[Product]:
    return list(session.exec(select(Product).order_by(Product.name)))


def add_version(
    session: Session, product_name: str, version: str, released: date
) -> ProductVersion:
    product = get_product(session, product_name)
    exists = session.exec(
        select(ProductVersion).where(
            ProductVersion.product_id == product.id, ProductVersion.version == version
        )
    ).first()
    if exists:
        raise RecordError(f"{product_name} {version} already exists")
    row = ProductVersion(product_id=product.id, version=version, released=released)  # type: ignore[arg-type]
    session.add(row)
    session.flush()
    return row


def list_versions(session: Session, product_id: int | None = None) -> list[ProductVersion]:
    query = select(ProductVersion).order_by(
        col(ProductVersion.product_id), col(ProductVersion.released)
    )
    if product_id is not None:
        query = query.where(ProductVersion.product_id == product_id)
    return list(session.exec(query))


@dataclass(frozen=True)
class SupportWindow:
    """End of support of a version (P8): ``years`` after its release."""

    released: date
    ends: date
    past: bool


def support_window(released: date, years: int, on: date) -> SupportWindow:
    try:
        ends = released.replace(year=released.year + years)
    except ValueError:  # 29 February
        ends = released.replace(year=released.year + years, day=28)
    return SupportWindow(released, ends, on > ends)


def local_today(calendar: BusinessCalendar, now: datetime) -> date:
    return now.astimezone(calendar.zone).date()
