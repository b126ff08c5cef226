"""``destek chat --as CONTACT``: the intake dialog in the terminal (console channel).

While the chat is open, the contact's outbox messages (an engineer's answer, a status change,
a page) are delivered to this terminal as they arrive (:mod:`bot.live_chat`); an engineer's
or manager's terminal also shows the team's console channels unless another terminal does.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

import typer

from sla import Policy
from storage.clock import Clock, system_clock
from storage.db import engine_for, upgrade

from ..channels.console import run_console
from ..demo_plan import policy_for
from ..routing import intake_config
from .common import app, fail, policy, settings

if TYPE_CHECKING:
    from ..runner import Service


def chat_as(
    contact: str,
    *,
    pol: Policy | None = None,
    demo: bool = False,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    now: Clock = system_clock,
    on_start: Callable[..., None] | None = None,
) -> int:
    """Open the console chat as ``contact`` on the configured database; the exit status.

    ``demo``: the SLA scheduler and the dialog sweeper run beside the chat, and the terminal
    shows the team's view (``destek demo``). ``on_start(background, sender)``: tests.
    """
    from ..live_chat import live_chat, scheduler_jobs

    cfg = settings()
    upgrade(cfg.database_url)
    engine = engine_for(cfg.database_url)
    pol = policy_for(engine, pol or policy())  # the demo's database has the demo's plan
    intake = intake_config(cfg, pol)

    def jobs() -> list[Service]:
        return scheduler_jobs(cfg, engine, intake, pol, now)

    live = live_chat(engine, now=now, jobs=jobs if demo else None, demo=demo,
                     on_start=on_start)
    try:
        return run_console(engine, intake, contact, stdin or sys.stdin, stdout or sys.stdout,
                           now, live=live)
    except KeyboardInterrupt:  # Ctrl-C while a line was being answered
        return 130


@app.command("chat")
def chat(
    as_: str = typer.Option(..., "--as", help="Contact to chat as: name, id or Telegram id"),
) -> None:
    """Report an incident through the guided dialog in the terminal (no chat platform needed);
    messages for you (and, for engineers, the team's console channel) show as they arrive."""
    code = chat_as(as_)
    if code == 2:
        fail(f"unknown contact {as_!r}")
    raise typer.Exit(code)
