"""``destek backup`` and ``destek restore``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from storage.backup import BackupError, backup, check_keep_days, default_name, prune, restore

from .common import app, fail, now_utc, settings


@app.command("backup")
def backup_cmd(
    out: Annotated[
        Path | None, typer.Option(help="Backup file (default: backups/destek-STAMP)")
    ] = None,
    keep_days: Annotated[
        int | None, typer.Option(help="Also delete backups older than N days (>= 7)")
    ] = None,
) -> None:
    """Back up the database (SQLite online backup, pg_dump for PostgreSQL)."""
    url, now = settings().database_url, now_utc()
    target = out or Path("backups") / default_name(url, now)
    try:
        if keep_days is not None:
            check_keep_days(keep_days)  # refused before anything is written
        result = backup(url, target)
        removed = prune(target.parent, keep_days, now) if keep_days is not None else []
    except BackupError as exc:
        fail(str(exc))
    typer.echo(f"backup written: {result.path} ({result.size} bytes, {result.kind})")
    for p in removed:
        typer.echo(f"removed old backup {p}")


@app.command("restore")
def restore_cmd(
    source: Path,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Replace the database with a backup. Stop the bot first."""
    url = settings().database_url
    if not yes:
        typer.confirm(f"Replace the database at {url.split('@')[-1]} with {source}?", abort=True)
    try:
        restore(url, source)
    except BackupError as exc:
        fail(str(exc))
    typer.echo(f"restored {source}")
