"""customer chats: Slack Connect channels shared with a customer; a dialog's thread

Creates ``customer_chats`` (customer, channel, chat; a chat belongs to one customer) and adds
``dialog_sessions.thread`` (the thread a dialog started in a shared channel runs in). The
downgrade drops both.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_chats",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("chat", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("channel", "chat", name="uq_customer_chats_chat"),
    )
    op.create_index("ix_customer_chats_customer_id", "customer_chats", ["customer_id"])
    with op.batch_alter_table("dialog_sessions") as batch:
        batch.add_column(sa.Column("thread", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dialog_sessions") as batch:
        batch.drop_column("thread")
    op.drop_index("ix_customer_chats_customer_id", table_name="customer_chats")
    op.drop_table("customer_chats")
