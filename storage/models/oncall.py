"""On-call rotations, overrides and pages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..types import UTCDateTime
from .base import _stamp


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
