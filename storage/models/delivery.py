"""Inbound delivery claims, the outbox, and the leader lease."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from ..types import UTCDateTime
from .base import _stamp


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
