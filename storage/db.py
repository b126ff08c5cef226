"""Engine, sessions and schema migrations (Alembic) for SQLite and PostgreSQL."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, create_engine

from .clock import Clock

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
MIGRATION_LOCK = 0x64657374656B  # "destek": the advisory lock key held while migrating


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the pragmas Destek needs on SQLite (WAL, busy timeout, foreign keys)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        connect_args = kwargs.pop("connect_args", {})
        connect_args.setdefault("check_same_thread", False)
        connect_args.setdefault("timeout", 30)
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs.setdefault("poolclass", StaticPool)
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        _sqlite_pragmas(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def _sqlite_pragmas(engine: Engine) -> None:
    # pysqlite's own transaction handling starts transactions lazily as DEFERRED: a transaction
    # that reads and then writes gets "database is locked" at once (no busy wait) when another
    # writer is active, and SAVEPOINTs misbehave. SQLAlchemy's documented recipe: let the driver
    # do nothing and emit BEGIN IMMEDIATE ourselves, so writers queue on the busy timeout.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Straight on the driver connection: this runs for every transaction, and the
        # statement needs none of SQLAlchemy's execution machinery (no parameters, no result).
        try:
            conn.connection.driver_connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:  # "database is locked": as SQLAlchemy says it
            raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc


@functools.lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One shared engine per URL for the process."""
    return make_engine(url)


def open_session(engine: Engine, clock: Clock | None = None, **kwargs: Any) -> Session:
    """A session carrying ``clock`` (``storage.clock``): the instants it writes come from it."""
    return Session(engine, info={"clock": clock} if clock else {}, **kwargs)


@contextmanager
def session_scope(engine: Engine, clock: Clock | None = None) -> Iterator[Session]:
    """A session committed on success and rolled back on error, stamping from ``clock``."""
    with open_session(engine, clock, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema at ``url`` to ``revision`` with Alembic."""
    from alembic import command

    if not url.startswith("postgresql"):
        command.upgrade(alembic_config(url), revision)
        return
    # Replicas starting together against one database: the first migrates, the others wait on
    # this advisory lock and then find the schema at head.
    from sqlalchemy import text

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
            try:
                command.upgrade(alembic_config(url), revision)
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with make_engine(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
