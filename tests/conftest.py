"""Shared fixtures: migrated databases (SQLite and a real PostgreSQL), the policy, a clock."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.engine import Engine

from sla import Policy, load_policy
from storage.db import make_engine, upgrade

from .pg import TEST_DB, fresh_pg_database, shared_server_url, stop_shared_server

if TYPE_CHECKING:
    from .fakes.slack_api import FakeSlackApi


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """URL of a PostgreSQL server for this test session (shared with ``database_url``)."""
    if os.environ.get("DESTEK_SKIP_PG") == "1" and not os.environ.get("DESTEK_TEST_PG_URL"):
        pytest.skip("DESTEK_SKIP_PG=1")
    try:
        yield shared_server_url()
    finally:
        stop_shared_server()


@pytest.fixture(scope="session")
def _migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Migrate once per session; each test gets a copy (CREATE DATABASE ... TEMPLATE on
    PostgreSQL, the backup API on SQLite): much cheaper than running Alembic per test."""
    return {"dir": str(tmp_path_factory.mktemp("templates"))}


def _migrated(kind: str, templates: dict[str, str], tmp_path: Path,
              request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        tpl = templates.get("sqlite")
        if tpl is None:
            tpl = str(Path(templates["dir"]) / "template.db")
            upgrade(f"sqlite:///{tpl}")
            templates["sqlite"] = tpl
        target = tmp_path / "destek.db"
        src, dst = sqlite3.connect(tpl), sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        return f"sqlite:///{target}"
    server = request.getfixturevalue("pg_server_url")
    tpl = templates.get("postgresql")
    if tpl is None:
        url = fresh_pg_database(server)
        upgrade(url)
        tpl = templates["postgresql"] = url.rsplit("/", 1)[1]
    return fresh_pg_database(server, template=tpl)


# Which stores the ``db_url`` tests use: both, unless DESTEK_TEST_DB picks one for the run.
_DB_PARAMS = [TEST_DB] if TEST_DB else ["sqlite", "postgresql"]


@pytest.fixture(params=_DB_PARAMS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path,
           _migrated_templates: dict[str, str]) -> str:
    """A freshly migrated database URL, once on SQLite and once on PostgreSQL."""
    return _migrated(request.param, _migrated_templates, tmp_path, request)


@pytest.fixture
def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path,
               _migrated_templates: dict[str, str]) -> str:
    """A freshly migrated database of the run's store: SQLite, or PostgreSQL under
    DESTEK_TEST_DB=postgresql (the name is historical: channel tests run on both stores)."""
    return _migrated(TEST_DB or "sqlite", _migrated_templates, tmp_path, request)


@pytest.fixture(params=_DB_PARAMS)
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (no tables), on each store of the run: migration tests."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    return fresh_pg_database(request.getfixturevalue("pg_server_url"))


@pytest.fixture
def sqlite_file_url(request: pytest.FixtureRequest, tmp_path: Path,
                    _migrated_templates: dict[str, str]) -> str:
    """Always a migrated SQLite file (tests of SQLite-specific behaviour)."""
    return _migrated("sqlite", _migrated_templates, tmp_path, request)


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


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackApi]:
    """The fake Slack Web API on 127.0.0.1 (tests.fakes.slack_api)."""
    from .fakes.slack_api import FakeSlackApi

    fake = await FakeSlackApi().start()
    yield fake
    await fake.stop()


# The tests whose outcome depends on dates (SLA clocks, reminders, on-call, planned work,
# releases and end of support, reports, intake out of hours, contracts, backups by age).
# `make test` runs them again with the process clock moved (libfaketime): `-m time_sensitive`.
TIME_SENSITIVE = {
    "test_scheduler", "test_scheduler_service", "test_scheduler_cli", "test_reminders",
    "test_oncall", "test_planned_work", "test_releases", "test_reports", "test_intake_dialog",
    "test_backup",
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "time_sensitive: rerun under a moved clock (faketime)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.module is not None and item.module.__name__.rsplit(".", 1)[-1] in TIME_SENSITIVE:
            item.add_marker(pytest.mark.time_sensitive)
