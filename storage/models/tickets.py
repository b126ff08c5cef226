"""Tickets and what hangs on them: pauses, events, attachments; dialogs and deflections."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..types import UTCDateTime
from .base import TicketKind, TicketStatus, _stamp


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
    # The thread the dialog runs in (a Slack Connect channel's message thread), if any.
    thread: str | None = Field(default=None, max_length=64)
    step: str = Field(max_length=64)
    data: str = Field(default="{}", sa_type=Text)  # JSON answers so far
    language: str = Field(default="en", max_length=2)
    created_at: datetime = _stamp()
    updated_at: datetime = _stamp(index=True)
    reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class HeldMessage(SQLModel, table=True):
    """A customer's message kept while they choose which of their tickets it is about (one
    per (channel, user); its files are stored attachments of no ticket yet)."""

    __tablename__ = "held_messages"
    __table_args__ = (UniqueConstraint("channel", "user_key"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    user_key: str = Field(max_length=64)
    contact_id: int = Field(foreign_key="contacts.id")
    text: str = Field(default="", sa_type=Text)
    attachment_ids: str = Field(default="", max_length=500)  # comma-separated
    created_at: datetime = _stamp()


class Deflection(SQLModel, table=True):
    """Self-help that solved the problem (P20): recorded, no ticket."""

    __tablename__ = "deflections"
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    contact_id: int = Field(foreign_key="contacts.id")
    query: str = Field(sa_type=Text)
    kb_ids: str = Field(default="", max_length=500)
    at: datetime = _stamp()


Index("ix_ticket_events_ticket_at", TicketEvent.ticket_id, TicketEvent.at)  # type: ignore[arg-type]
