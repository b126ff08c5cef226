"""survey answers: the satisfaction survey of closed tickets (issue #19 item 4)

Creates ``survey_answers``: one row per closed ticket whose contact was asked "how satisfied
are you?", with the survey's stage, the score (1-5), the optional comment and when.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey_answers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=False,
                  unique=True),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("asked_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_survey_answers_contact_id", "survey_answers", ["contact_id"])
    op.create_index("ix_survey_answers_at", "survey_answers", ["at"])


def downgrade() -> None:
    op.drop_index("ix_survey_answers_at", table_name="survey_answers")
    op.drop_index("ix_survey_answers_contact_id", table_name="survey_answers")
    op.drop_table("survey_answers")
