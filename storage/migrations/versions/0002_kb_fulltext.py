"""knowledge base full-text search

Adds ``known_errors.search_text`` (normalised in Python by ``storage.kb.fold``: Turkish İ/I/ı/i
and accents folded) and indexes it with the database's own full-text search:

- SQLite: an FTS5 table ``known_errors_fts`` (kb_id, kb_key, search_text) kept in step by
  triggers; ``kb_key`` holds the id as indexed text so a trigger finds a row without a scan.
- PostgreSQL: a generated ``tsvector`` column (``'simple'`` configuration: PostgreSQL has no
  Turkish stemmer and the folding is already done) with a GIN index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_DELETE = (
    "DELETE FROM known_errors_fts WHERE kb_key MATCH '\"' || old.id || '\"' "
    "AND kb_id = old.id;"
)
_SQLITE_INSERT = (
    "INSERT INTO known_errors_fts(kb_id, kb_key, search_text) "
    "SELECT new.id, new.id, new.search_text WHERE new.published AND new.search_text IS NOT NULL;"
)


def upgrade() -> None:
    op.add_column("known_errors", sa.Column("search_text", sa.Text(), nullable=True))
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE known_errors_fts USING fts5("
            "kb_id UNINDEXED, kb_key, search_text, tokenize = 'unicode61 remove_diacritics 2')"
        )
        # Document frequencies: the search leaves out words most entries contain.
        op.execute(
            "CREATE VIRTUAL TABLE known_errors_fts_vocab USING fts5vocab(known_errors_fts, 'row')"
        )
        op.execute(
            "CREATE TRIGGER known_errors_fts_ai AFTER INSERT ON known_errors BEGIN "
            + _SQLITE_INSERT + " END"
        )
        op.execute(
            "CREATE TRIGGER known_errors_fts_au AFTER UPDATE OF search_text, published, id "
            "ON known_errors BEGIN " + _SQLITE_DELETE + " " + _SQLITE_INSERT + " END"
        )
        op.execute(
            "CREATE TRIGGER known_errors_fts_ad AFTER DELETE ON known_errors BEGIN "
            + _SQLITE_DELETE + " END"
        )
    elif bind.dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE known_errors ADD COLUMN search_tsv tsvector GENERATED ALWAYS AS "
            "(to_tsvector('simple', coalesce(search_text, ''))) STORED"
        )
        # fastupdate off: a KB is read far more than written, and a pending list of recent
        # inserts makes the planner fall back to sequential scans until the next vacuum.
        op.execute(
            "CREATE INDEX ix_known_errors_search_tsv ON known_errors USING gin (search_tsv) "
            "WITH (fastupdate = off)"
        )
    _backfill(bind)


def _backfill(bind: sa.engine.Connection) -> None:
    """Entries that existed before this revision get their normalised text."""
    from storage.kb import search_text_for

    cols = ["id", "title", "product", "symptoms", "signatures", "workaround", "body"]
    rows = bind.execute(sa.text(f"SELECT {', '.join(cols)} FROM known_errors")).mappings().all()
    for row in rows:
        bind.execute(
            sa.text("UPDATE known_errors SET search_text = :t WHERE id = :id"),
            {"t": search_text_for(dict(row)), "id": row["id"]},
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for trig in ("known_errors_fts_ai", "known_errors_fts_au", "known_errors_fts_ad"):
            op.execute(f"DROP TRIGGER IF EXISTS {trig}")
        op.execute("DROP TABLE IF EXISTS known_errors_fts_vocab")
        op.execute("DROP TABLE IF EXISTS known_errors_fts")
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_known_errors_search_tsv")
        op.execute("ALTER TABLE known_errors DROP COLUMN IF EXISTS search_tsv")
    with op.batch_alter_table("known_errors") as batch_op:
        batch_op.drop_column("search_text")
