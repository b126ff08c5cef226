"""Backups and restores of the application database (P20, P28).

SQLite uses the online backup API (consistent while the bot runs); PostgreSQL uses ``pg_dump``
in custom format and ``pg_restore --clean``.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(RuntimeError):
    pass


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    kind: str  # sqlite | postgresql


def _pg_tool(name: str) -> str:
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        candidate = Path(d) / name
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: install the PostgreSQL client tools")
    return found


def _pg_args(url: str) -> tuple[list[str], dict[str, str]]:
    u = make_url(url)
    args = ["-h", u.host or "localhost", "-p", str(u.port or 5432), "-U", u.username or "postgres",
            "-d", u.database or "postgres"]
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = u.password  # kept out of argv, so out of `ps`
    return args, env


def _sqlite_path(url: str) -> Path:
    u = make_url(url)
    if not u.database or u.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(u.database)


def default_name(url: str, now: datetime) -> str:
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    ext = "sqlite3" if url.startswith("sqlite") else "dump"
    return f"destek-{stamp}.{ext}"


def backup(url: str, out: Path) -> BackupResult:
    """Write a consistent backup of the database at ``url`` to ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    if url.startswith("sqlite"):
        src = sqlite3.connect(_sqlite_path(url))
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        kind = "sqlite"
    else:
        args, env = _pg_args(url)
        proc = subprocess.run(
            [_pg_tool("pg_dump"), "-Fc", "--no-owner", "-f", str(tmp), *args],
            env=env, capture_output=True, text=True,
        )
        if proc.returncode != 0:
            tmp.unlink(missing_ok=True)
            raise BackupError(f"pg_dump failed: {proc.stderr.strip().splitlines()[-1:]}")
        kind = "postgresql"
    tmp.replace(out)  # a half-written backup never carries the final name
    return BackupResult(out, out.stat().st_size, kind)


def restore(url: str, source: Path) -> None:
    """Replace the database at ``url`` with the backup ``source`` (stop the bot first)."""
    if not source.exists():
        raise BackupError(f"backup {source} not found")
    if url.startswith("sqlite"):
        try:
            src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            src.execute("PRAGMA schema_version").fetchone()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source} is not a SQLite backup: {exc}") from None
        dst = sqlite3.connect(_sqlite_path(url))
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        return
    args, env = _pg_args(url)
    proc = subprocess.run(
        [_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
         *args, str(source)],
        env=env, capture_output=True, text=True,
    )
    if proc.returncode != 0:
        raise BackupError(f"pg_restore failed: {proc.stderr.strip().splitlines()[-1:]}")


def check_keep_days(keep_days: int) -> None:
    """P28: at least 7 days of backups are kept."""
    if keep_days < 7:
        raise BackupError("keep at least 7 days of backups (P28)")


def prune(folder: Path, keep_days: int, now: datetime) -> list[Path]:
    """Delete ``destek-*`` backups older than ``keep_days`` (P28: keep at least 7 days)."""
    check_keep_days(keep_days)
    limit = now - timedelta(days=keep_days)
    removed = []
    for p in sorted(folder.glob("destek-*")):
        if datetime.fromtimestamp(p.stat().st_mtime, UTC) < limit:
            p.unlink()
            removed.append(p)
    return removed
