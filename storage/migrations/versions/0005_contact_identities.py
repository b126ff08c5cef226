"""contact identities: a row per chat user id instead of a column per platform

Creates ``contact_identities`` (contact, channel, workspace, external id; unique on the
channel, workspace and id, and on the contact, channel and workspace), copies every
``contacts.slack_id`` and ``contacts.telegram_id`` into it in the home workspace (``""``), and
drops the two columns; see ``storage.identities``. The downgrade puts the columns back and
fills them from the home workspace's Slack and Telegram rows; identities the old columns
cannot hold (other channels, other workspaces, a Telegram id that is not a number) are lost
with the table.

SQLite cannot drop or add a UNIQUE column in place, so ``contacts`` is rebuilt there: the rows
are parked in a scratch table, ``contacts`` is dropped and created in its new shape, and the
rows come back with their ids. Foreign keys stay on: deferred to the commit, the rows that
point at a contact (tickets, identities...) find it again before they are checked.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOME = ""
SCRATCH = "_contacts_0005"


def _contact_columns(platform_ids: bool) -> list[sa.Column]:  # type: ignore[type-arg]
    """The columns of ``contacts`` before this revision (``platform_ids``) or after it."""
    ids = [sa.Column("slack_id", sa.String(length=32), nullable=True),
           sa.Column("telegram_id", sa.BigInteger(), nullable=True)] if platform_ids else []
    return [
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("trained", sa.Boolean(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        *ids,
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    ]


def _rebuild_contacts_sqlite(platform_ids: bool) -> None:
    """``contacts`` in the shape before (``platform_ids``) or after this revision, same rows,
    same ids; new columns start empty. As 0001 created it: unnamed UNIQUE constraints on the
    platform ids, the foreign key to customers and the customer index."""
    op.execute("PRAGMA defer_foreign_keys = ON")  # until the commit; reset by it
    names = [c.name for c in _contact_columns(False)]
    listed = ", ".join(f'"{n}"' for n in names)
    op.create_table(SCRATCH, *_contact_columns(False))
    op.execute(f'INSERT INTO "{SCRATCH}" ({listed}) SELECT {listed} FROM contacts')
    op.drop_table("contacts")  # its index goes with it
    op.create_table(
        "contacts", *_contact_columns(platform_ids),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"]),
        *([sa.UniqueConstraint("slack_id"), sa.UniqueConstraint("telegram_id")]
          if platform_ids else []),
    )
    op.create_index("ix_contacts_customer_id", "contacts", ["customer_id"])
    op.execute(f'INSERT INTO contacts ({listed}) SELECT {listed} FROM "{SCRATCH}"')
    op.drop_table(SCRATCH)


def upgrade() -> None:
    identities = op.create_table(
        "contact_identities",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("workspace", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.UniqueConstraint("channel", "workspace", "external_id",
                            name="uq_contact_identities_key"),
        sa.UniqueConstraint("contact_id", "channel", "workspace",
                            name="uq_contact_identities_contact"),
    )
    contacts = sa.table("contacts", sa.column("id", sa.Integer()),
                        sa.column("slack_id", sa.String()),
                        sa.column("telegram_id", sa.BigInteger()))
    for channel, column in (("slack", contacts.c.slack_id),
                            ("telegram", sa.cast(contacts.c.telegram_id, sa.String(64)))):
        op.execute(identities.insert().from_select(
            ["contact_id", "channel", "workspace", "external_id"],
            sa.select(contacts.c.id, sa.literal(channel), sa.literal(HOME), column)
            .where(column.is_not(None), column != ""),
        ))
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_contacts_sqlite(platform_ids=False)
    else:
        op.drop_column("contacts", "slack_id")  # with their unique constraints
        op.drop_column("contacts", "telegram_id")


def _old_value(channel: str, external_id: str) -> str | int | None:
    """An identity as the old column holds it, or None when it does not fit."""
    if channel == "slack":
        return external_id if len(external_id) <= 32 else None
    try:
        return int(external_id)
    except ValueError:
        return None


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        _rebuild_contacts_sqlite(platform_ids=True)
    else:
        op.add_column("contacts", sa.Column("slack_id", sa.String(length=32), nullable=True))
        op.add_column("contacts", sa.Column("telegram_id", sa.BigInteger(), nullable=True))
        op.create_unique_constraint("contacts_slack_id_key", "contacts", ["slack_id"])
        op.create_unique_constraint("contacts_telegram_id_key", "contacts", ["telegram_id"])
    rows = bind.execute(sa.text(
        "SELECT contact_id, channel, external_id FROM contact_identities "
        "WHERE workspace = :home AND channel IN ('slack', 'telegram') ORDER BY contact_id"),
        {"home": HOME})
    values: dict[int, dict[str, str | int]] = {}
    for contact_id, channel, external_id in rows:
        old = _old_value(channel, external_id)
        if old is not None:
            values.setdefault(contact_id, {})[f"{channel}_id"] = old
    for contact_id, columns in values.items():
        sets = ", ".join(f"{name} = :{name}" for name in columns)
        bind.execute(sa.text(f"UPDATE contacts SET {sets} WHERE id = :id"),
                     {**columns, "id": contact_id})
    op.drop_table("contact_identities")
