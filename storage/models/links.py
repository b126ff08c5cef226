"""Tickets related to one another (``link N M``, ``merge N into M``) and the round-robin turn
of automatic assignment (issue #19)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
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
    """A team's round-robin: who had a ticket in the current round and who had the last one;
    kept, so a restart goes on with the round where it was."""

    __tablename__ = "assignment_turns"
    team: str = Field(primary_key=True, max_length=64)
    last_contact_id: int | None = Field(default=None, foreign_key="contacts.id")
    served: str = Field(default="[]", sa_type=Text)  # JSON list of contact ids, this round
    updated_at: datetime = Field(sa_type=UTCDateTime)
