"""Backup and restore on SQLite and PostgreSQL: what was backed up comes back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from storage import directory
from storage.backup import BackupError, backup, prune, restore
from storage.db import make_engine


def test_backup_then_restore(db_url: str, tmp_path: Path) -> None:
    engine = make_engine(db_url)
    with Session(engine) as s:
        directory.add_customer(s, "ACME", calendar="TR")
        s.commit()
    result = backup(db_url, tmp_path / "b" / "destek-1.bak")
    assert result.size > 0 and result.path.exists()
    with Session(engine) as s:
        directory.add_customer(s, "LATER", calendar="US")
        s.commit()
    engine.dispose()
    restore(db_url, result.path)
    engine = make_engine(db_url)
    with Session(engine) as s:
        assert [c.code for c in directory.list_customers(s)] == ["ACME"]
    engine.dispose()


def test_restore_refuses_garbage(sqlite_file_url: str, tmp_path: Path) -> None:
    sqlite_url = sqlite_file_url  # the junk below is a SQLite file: SQLite-specific
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(BackupError, match="not a SQLite backup"):
        restore(sqlite_url, junk)
    with pytest.raises(BackupError, match="not found"):
        restore(sqlite_url, tmp_path / "missing")


def test_prune_keeps_a_week(tmp_path: Path) -> None:
    old = tmp_path / "destek-old.sqlite3"
    new = tmp_path / "destek-new.sqlite3"
    old.write_text("x")
    new.write_text("x")
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # a pinned "now"; the files are dated by it
    import os

    for path, age in ((old, timedelta(days=10)), (new, timedelta(days=1))):
        os.utime(path, ((now - age).timestamp(), (now - age).timestamp()))
    assert prune(tmp_path, 7, now) == [old]
    assert new.exists()
    with pytest.raises(BackupError, match="at least 7 days"):
        prune(tmp_path, 3, now)
