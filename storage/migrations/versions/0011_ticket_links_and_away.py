"""ticket links, engineers away, the round-robin turn (issue #19)

Creates ``ticket_links`` (``link N M`` relates two tickets, ``merge N into M`` records N merged
into M), ``assignment_turns`` (each team's round-robin round: who was served, who was last) and adds
``contacts.away`` (an engineer who is away is not auto-assigned).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch copy of ``contacts`` would trip SQLite's foreign keys.
    op.add_column("contacts", sa.Column("away", sa.Boolean(), nullable=False,
                                        server_default=sa.false()))
    op.create_table(
        "ticket_links",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("other_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("ticket_id", "other_id", name="uq_ticket_links_pair"),
    )
    op.create_index("ix_ticket_links_ticket_id", "ticket_links", ["ticket_id"])
    op.create_index("ix_ticket_links_other_id", "ticket_links", ["other_id"])
    op.create_table(
        "assignment_turns",
        sa.Column("team", sa.String(length=64), primary_key=True),
        sa.Column("last_contact_id", sa.Integer(), sa.ForeignKey("contacts.id"), nullable=True),
        sa.Column("served", sa.Text(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("assignment_turns")
    op.drop_index("ix_ticket_links_other_id", table_name="ticket_links")
    op.drop_index("ix_ticket_links_ticket_id", table_name="ticket_links")
    op.drop_table("ticket_links")
    op.drop_column("contacts", "away")
