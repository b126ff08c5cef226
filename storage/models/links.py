"""Tickets related to one another (``link N M``, ``merge N into M``) and the round-robin turn
of automatic assignment (issue #19)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from ..types import UTCDateTime
from .base import _stamp

RELATED = "related"
MERGED = "merged"


class TicketLink(SQLModel, table=True):
    """``ticket_id`` is related to ``other_id`` (both ways), or was merged into it (kind
    ``merged``: ``ticket_id`` is the closed one, ``other_id`` carries its report)."""

    __tablename__ = "ticket_links"
    __table_args__ = (UniqueConstraint("ticket_id", "other_id", name="uq_ticket_links_pair"),)
    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="tickets.id", index=True)
    other_id: int = Field(foreign_key="tickets.id", index=True)
    kind: str = Field(default=RELATED, max_length=16)  # related | merged
    created_by: str = Field(default="system", max_length=200)
    created_at: datetime = _stamp()


class AssignmentTurn(SQLModel, table=True):
    """The last engineer a team's round-robin gave a ticket to: kept, so a restart goes on
    with the next one."""

    __tablename__ = "assignment_turns"
    team: str = Field(primary_key=True, max_length=64)
    last_contact_id: int | None = Field(default=None, foreign_key="contacts.id")
    updated_at: datetime = Field(sa_type=UTCDateTime)
