"""sealed API keys: ``ai_subscriptions.api_key`` holds a Fernet token (storage.sealed)

A sealed key is longer than the 300 characters the column had, so it becomes TEXT. The keys
stored before are left as they are (they read as plain text) until ``destek ai reseal`` seals
them: the migration has no access to the settings' secret keys.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ai_subscriptions") as batch:
        batch.alter_column("api_key", type_=sa.Text(), existing_type=sa.String(length=300),
                           existing_nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("ai_subscriptions") as batch:
        batch.alter_column("api_key", type_=sa.String(length=300), existing_type=sa.Text(),
                           existing_nullable=True)
