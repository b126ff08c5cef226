"""leases: one active scheduler among replicas

A row per named lease (``leader``) with its holder and expiry in epoch seconds by the database
clock; see ``storage.leases``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), primary_key=True),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("term", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("acquired_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("leases")
