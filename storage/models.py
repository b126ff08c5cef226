"""SQLModel tables. All instants are stored as aware UTC (see ``UTCDateTime``)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, Text, UniqueConstraint, event
from sqlmodel import Field, Session, SQLModel

from .clock import stamp_new_rows
from .types import UTCDateTime

# Every session, however it was opened, stamps its new rows from the clock it carries: here,
# beside the tables, so no session can write a row without it.
event.listen(Session, "before_flush", stamp_new_rows)


# Creation stamps default to None and are filled at flush from the session's clock
# (storage.clock.stamp_new_rows): the product has one clock, and it is handed in.
def _stamp(index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=False, index=index)


class Role(StrEnum):
    CUSTOMER = "customer"
    ENGINEER = "engineer"
    MANAGER = "manager"


class TicketStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"  # waiting for the customer (P17)
    RESOLVED = "resolved"  # fix applied, customer asked to confirm
    CLOSED = "closed"


class TicketKind(StrEnum):
    DEFECT = "defect"
    PROBLEM = "problem"
    QUESTION = "question"
    SERVICE_REQUEST = "service_request"  # P10/P11: billed separately, no SLA clock


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


class Ticket(SQLModel, table=True):
    """An incident or service request with its complete report (P15, P21)."""

    __tablename__ = "tickets"
    id: int | None = Field(default=None, primary_key=True)  # the ticket number
    customer_id: int = Field(foreign_key="customers.id", index=True)
    contact_id: int = Field(foreign_key="contacts.id")
    product_id: int | None = Field(default=None, foreign_key="products.id")
    version_id: int | None = Field(default=None, foreign_key="product_versions.id")
    version_text: str | None = Field(default=None, max_length=64)
    version_past_eos: bool = False
    environment: str | None = Field(default=None, max_length=16)
    summary: str = Field(max_length=300)
    description: str = Field(default="", sa_type=Text)
    steps: str | None = Field(default=None, sa_type=Text)
    error_text: str | None = Field(default=None, sa_type=Text)
    attachments_missing_reason: str | None = Field(default=None, sa_type=Text)
    production_down: bool | None = None
    workaround_available: bool | None = None
    users_affected: str | None = Field(default=None, max_length=64)
    proposed_severity: str | None = Field(default=None, max_length=4)
    severity: str = Field(max_length=4)
    severity_reason: str | None = Field(default=None, sa_type=Text)
    remote_access: bool = True
    remote_access_how: str | None = Field(default=None, sa_type=Text)
    kind: str = Field(default=TicketKind.DEFECT, max_length=24)
    service_category: str | None = Field(default=None, max_length=200)
    status: str = Field(default=TicketStatus.OPEN, max_length=16, index=True)
    tier: int = 1
    # Snapshots taken when the ticket opens, so a later contract change does not move deadlines.
    plan: str = Field(max_length=32)
    family: str | None = Field(default=None, max_length=64)
    calendar: str = Field(default="TR", max_length=16)
    tz: str | None = Field(default=None, max_length=64)
    hours: str | None = Field(default=None, max_length=16)
    language: str = Field(default="en", max_length=2)
    # Where the customer reported it: updates go back there (P21).
    channel: str = Field(default="console", max_length=16)
    channel_user: str | None = Field(default=None, max_length=64)
    channel_chat: str | None = Field(default=None, max_length=64)
    channel_thread: str | None = Field(default=None, max_length=64)
    reported_at: datetime = Field(sa_type=UTCDateTime, index=True)  # clocks start (P15)
    created_at: datetime = _stamp()
    assignee_id: int | None = Field(default=None, foreign_key="contacts.id", index=True)
    responded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    workaround_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    workaround_text: str | None = Field(default=None, sa_type=Text)
    resolution_text: str | None = Field(default=None, sa_type=Text)
    fix_version: str | None = Field(default=None, max_length=64)
    # Deadlines as last computed (None: no target, paused or stopped); kept for queries.
    response_due: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    workaround_due: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolution_due: datetime | None = Field(default=None, sa_type=UTCDateTime)


class TicketPause(SQLModel, table=True):
    """Waiting time (P17): no business time passes between ``started_at`` and ``ended_at``."""

    __tablename__ = "ticket_pauses"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    started_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reason: str = Field(default="", sa_type=Text)
    kind: str = Field(default="customer", max_length=32)  # customer | remote-access


class TicketEvent(SQLModel, table=True):
    """Append-only audit trail of a ticket: written before anyone is told."""

    __tablename__ = "ticket_events"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    at: datetime = _stamp()
    actor_id: int | None = Field(default=None, foreign_key="contacts.id")
    actor: str = Field(default="system", max_length=200)
    kind: str = Field(max_length=32)
    text: str = Field(default="", sa_type=Text)
    data: str | None = Field(default=None, sa_type=Text)  # JSON


class Attachment(SQLModel, table=True):
    __tablename__ = "attachments"
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="tickets.id", index=True)
    dialog_id: int | None = Field(default=None, index=True)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    path: str = Field(max_length=500)
    created_at: datetime = _stamp()


class DialogSession(SQLModel, table=True):
    """Durable state of a guided dialog per (channel, user): survives restarts."""

    __tablename__ = "dialog_sessions"
    __table_args__ = (UniqueConstraint("channel", "user_key"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    user_key: str = Field(max_length=64)
    contact_id: int | None = Field(default=None, foreign_key="contacts.id")
    chat: str | None = Field(default=None, max_length=64)
    step: str = Field(max_length=64)
    data: str = Field(default="{}", sa_type=Text)  # JSON answers so far
    language: str = Field(default="en", max_length=2)
    created_at: datetime = _stamp()
    updated_at: datetime = _stamp(index=True)
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Deflection(SQLModel, table=True):
    """Self-help that solved the problem (P20): recorded, no ticket."""

    __tablename__ = "deflections"
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    contact_id: int = Field(foreign_key="contacts.id")
    query: str = Field(sa_type=Text)
    kb_ids: str = Field(default="", max_length=500)
    at: datetime = _stamp()


class ProcessedDelivery(SQLModel, table=True):
    """Idempotency keys of inbound deliveries (Slack event_id, Telegram update_id)."""

    __tablename__ = "processed_deliveries"
    key: str = Field(primary_key=True, max_length=128)
    at: datetime = _stamp()


class OutboxMessage(SQLModel, table=True):
    """Durable outgoing message; ``key`` makes every notification unique (exactly once)."""

    __tablename__ = "outbox"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=200)
    channel: str = Field(max_length=16)  # slack | telegram | console
    target: str = Field(max_length=64)  # channel / chat / user id
    thread: str | None = Field(default=None, max_length=64)
    text: str = Field(sa_type=Text)
    payload: str | None = Field(default=None, sa_type=Text)  # JSON (blocks, buttons)
    ticket_id: int | None = Field(default=None, index=True)
    status: str = Field(default="pending", max_length=16, index=True)  # pending|sent|failed
    attempts: int = 0
    next_attempt_at: datetime = _stamp(index=True)
    last_error: str | None = Field(default=None, sa_type=Text)
    late: bool = False
    created_at: datetime = _stamp()
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    external_id: str | None = Field(default=None, max_length=64)  # message ts / message_id


class KnownError(SQLModel, table=True):
    """Knowledge-base entry: a known error with its workaround (P22)."""

    __tablename__ = "known_errors"
    id: str = Field(primary_key=True, max_length=32)  # e.g. KE-0001
    title: str = Field(max_length=300)
    family: str | None = Field(default=None, max_length=64)
    product: str | None = Field(default=None, max_length=200)
    affected_versions: str | None = Field(default=None, max_length=200)
    symptoms: str = Field(default="", sa_type=Text)
    signatures: str = Field(default="[]", sa_type=Text)  # JSON list of strings / regexes
    workaround: str = Field(default="", sa_type=Text)
    fixed_in: str | None = Field(default=None, max_length=64)
    language: str = Field(default="en", max_length=2)
    body: str = Field(default="", sa_type=Text)
    published: bool = True
    source_ticket_id: int | None = Field(default=None)
    updated_at: datetime = _stamp()


class AISubscription(SQLModel, table=True):
    """Per-customer (and optionally per-product) OpenAI subscription (P26)."""

    __tablename__ = "ai_subscriptions"
    __table_args__ = (UniqueConstraint("customer_id", "product_id"),)
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    product_id: int | None = Field(default=None, foreign_key="products.id")
    api_key: str | None = Field(default=None, max_length=300)
    base_url: str | None = Field(default=None, max_length=300)
    model: str | None = Field(default=None, max_length=100)


class AIUsage(SQLModel, table=True):
    __tablename__ = "ai_usage"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _stamp(index=True)
    customer_id: int | None = Field(default=None, index=True)
    product_id: int | None = None
    ticket_id: int | None = None
    model: str = Field(max_length=100)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    outcome: str = Field(max_length=32)  # ok | dropped | timeout | error | circuit-open


class PlannedWork(SQLModel, table=True):
    """Planned upgrade/patch work announced by a customer (P19)."""

    __tablename__ = "planned_work"
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    contact_id: int = Field(foreign_key="contacts.id")
    product_id: int = Field(foreign_key="products.id")
    version: str = Field(max_length=64)
    day: date
    window: str = Field(max_length=32)
    status: str = Field(default="accepted", max_length=16)
    created_at: datetime = _stamp()


class Release(SQLModel, table=True):
    __tablename__ = "releases"
    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="products.id")
    version: str = Field(max_length=64)
    kind: str = Field(max_length=16)  # patch | package
    notes: str = Field(default="", sa_type=Text)
    created_at: datetime = _stamp()


Index("ix_ticket_events_ticket_at", TicketEvent.ticket_id, TicketEvent.at)  # type: ignore[arg-type]


class Lease(SQLModel, table=True):
    """A named lease (``leader``: the replica that runs the scheduler, the outbox worker and
    Telegram polling). Times are epoch seconds by the DATABASE's clock, so replicas with skewed
    clocks agree on expiry; ``term`` grows at every change of holder (a fencing token)."""

    __tablename__ = "leases"
    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=200)
    term: int = 1
    acquired_at: float
    expires_at: float


class OncallRotation(SQLModel, table=True):
    """Engineers taking turns on a layer (primary / secondary); see :mod:`sla.oncall`."""

    __tablename__ = "oncall_rotations"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=100)
    layer: str = Field(max_length=16)  # primary | secondary
    members: str = Field(sa_type=Text)  # JSON list of contact ids, in turn order
    starts_at: datetime = Field(sa_type=UTCDateTime)  # the first hand-over
    tz: str = Field(max_length=64)
    period_days: int = 7
    created_at: datetime = _stamp()


class OncallOverride(SQLModel, table=True):
    """An engineer holding a layer for a while: holiday cover or a swap."""

    __tablename__ = "oncall_overrides"
    id: int | None = Field(default=None, primary_key=True)
    layer: str = Field(max_length=16)
    engineer_id: int = Field(foreign_key="contacts.id")
    starts_at: datetime = Field(sa_type=UTCDateTime)
    ends_at: datetime = Field(sa_type=UTCDateTime, index=True)
    reason: str = Field(default="", max_length=300)
    created_by: str = Field(default="system", max_length=200)
    created_at: datetime = _stamp()


class Page(SQLModel, table=True):
    """A page of a ticket out of hours: its chain position and when the next step is due.

    ``trigger`` (``open`` or a threshold's identity) makes each page happen once per ticket;
    each step's message has its own outbox key, so a restart neither loses nor repeats one.
    """

    __tablename__ = "pages"
    __table_args__ = (UniqueConstraint("ticket_id", "trigger"),)
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    trigger: str = Field(max_length=120)
    status: str = Field(default="active", max_length=16)  # active|acked|stopped|exhausted
    step: int = 0  # the next step of the chain to send
    next_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    started_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acked_by_id: int | None = Field(default=None, foreign_key="contacts.id")
    note: str = Field(default="", max_length=300)
