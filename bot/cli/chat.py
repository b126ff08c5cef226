"""``destek chat --as CONTACT``: the intake dialog in the terminal (console channel)."""

from __future__ import annotations

import sys

import typer

from storage.db import engine_for, upgrade

from ..channels.console import run_console
from ..routing import intake_config
from .common import app, fail, policy, settings


def chat_as(contact: str) -> int:
    """Open the console chat as ``contact`` on the configured database; the exit status."""
    cfg = settings()
    upgrade(cfg.database_url)
    return run_console(engine_for(cfg.database_url), intake_config(cfg, policy()), contact,
                       sys.stdin, sys.stdout)


@app.command("chat")
def chat(
    as_: str = typer.Option(..., "--as", help="Contact to chat as: name, id or Telegram id"),
) -> None:
    """Report an incident through the guided dialog in the terminal (no chat platform needed)."""
    code = chat_as(as_)
    if code == 2:
        fail(f"unknown contact {as_!r}")
    raise typer.Exit(code)
