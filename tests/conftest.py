"""Shared fixtures: migrated databases (SQLite and a real PostgreSQL), the policy, a clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from sla import Policy, load_policy
from storage.db import make_engine, upgrade

from .pg import PostgresServer


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """URL of a PostgreSQL server for this test session."""
    given = os.environ.get("DESTEK_TEST_PG_URL")
    if given:
        yield given
        return
    if os.environ.get("DESTEK_SKIP_PG") == "1":
        pytest.skip("DESTEK_SKIP_PG=1")
    server = PostgresServer()
    try:
        yield server.start()
    finally:
        server.stop()


def _fresh_pg_database(server_url: str) -> str:
    name = "t_" + uuid.uuid4().hex[:12]
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """A freshly migrated database URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'destek.db'}"
    else:
        url = _fresh_pg_database(request.getfixturevalue("pg_server_url"))
    upgrade(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path) -> str:  # type: ignore[no-untyped-def]
    """A freshly migrated SQLite database (for tests that need not run on both)."""
    url = f"sqlite:///{tmp_path / 'destek.db'}"
    upgrade(url)
    return url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy()


class Clock:
    """A controllable clock: tests move time, nothing sleeps for SLA time."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        from datetime import timedelta

        self.now = self.now + timedelta(**kwargs)
        return self.now

    def set(self, when: datetime) -> datetime:
        self.now = when.astimezone(UTC)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
