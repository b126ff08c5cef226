"""Who is supported for what: customers, contracts, contacts and their identities, products."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from .base import Role, _stamp


class Customer(SQLModel, table=True):
    __tablename__ = "customers"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=64)
    name: str = Field(max_length=200)
    calendar: str = Field(default="TR", max_length=16)
    tz: str | None = Field(default=None, max_length=64)
    hours: str | None = Field(default=None, max_length=16)
    closed_dates: str | None = Field(default=None, sa_type=Text)  # comma-separated ISO dates
    language: str = Field(default="en", max_length=2)
    created_at: datetime = _stamp()


class Contract(SQLModel, table=True):
    __tablename__ = "contracts"
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    plan: str = Field(max_length=32)
    start: date
    end: date
    created_at: datetime = _stamp()


class ContractProduct(SQLModel, table=True):
    """Products a contract covers; a contract with none listed covers every product."""

    __tablename__ = "contract_products"
    contract_id: int = Field(foreign_key="contracts.id", primary_key=True)
    product_id: int = Field(foreign_key="products.id", primary_key=True)


class Contact(SQLModel, table=True):
    """A person: a customer's designated contact, or one of the vendor's engineers/managers."""

    __tablename__ = "contacts"
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int | None = Field(default=None, foreign_key="customers.id", index=True)
    name: str = Field(max_length=200)
    role: str = Field(default=Role.CUSTOMER, max_length=16)
    trained: bool = False
    language: str | None = Field(default=None, max_length=2)
    email: str | None = Field(default=None, max_length=200)
    password_hash: str | None = Field(default=None, max_length=200)
    active: bool = True
    away: bool = False  # an engineer away (leave, sick): not auto-assigned (issue #19)
    created_at: datetime = _stamp()


HOME_WORKSPACE = ""  # ContactIdentity.workspace of the deployment's own Slack team / Telegram bot


class ContactIdentity(SQLModel, table=True):
    """Who a contact is on one chat platform: the platform's user id in one workspace.

    The key is (channel, workspace, external_id): ``workspace`` is the Slack team or Telegram
    bot the id belongs to, ``""`` for the deployment's own; Slack Connect brings other teams'
    users, whose ids are only unique within their team. A contact has at most one identity per
    channel and workspace (that constraint is also the index for a contact's identities).
    """

    __tablename__ = "contact_identities"
    __table_args__ = (
        UniqueConstraint("channel", "workspace", "external_id",
                         name="uq_contact_identities_key"),
        UniqueConstraint("contact_id", "channel", "workspace",
                         name="uq_contact_identities_contact"),
    )
    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contacts.id")
    channel: str = Field(max_length=16)  # slack | telegram | ... (never console: see identities)
    workspace: str = Field(default=HOME_WORKSPACE, max_length=64)
    external_id: str = Field(max_length=64)


class CustomerChat(SQLModel, table=True):
    """A chat shared with one customer's people (a Slack Connect channel): what is written
    there is that customer's, and nobody else's words are taken there. A chat belongs to one
    customer only (the unique key), a customer may have several."""

    __tablename__ = "customer_chats"
    __table_args__ = (UniqueConstraint("channel", "chat", name="uq_customer_chats_chat"),)
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    channel: str = Field(max_length=16)  # slack
    chat: str = Field(max_length=64)  # the platform's channel id (C..., G...)
    created_at: datetime = _stamp()


class Product(SQLModel, table=True):
    __tablename__ = "products"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=200)
    family: str = Field(max_length=64)


class ProductVersion(SQLModel, table=True):
    __tablename__ = "product_versions"
    __table_args__ = (UniqueConstraint("product_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="products.id", index=True)
    version: str = Field(max_length=64)
    released: date
