"""``destek run``: start every configured channel and job until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio

import typer

from storage.db import engine_for, upgrade

from ..logs import configure_logging
from ..routing import intake_config
from ..runner import RunContext, build_services, run_services
from .common import app, db_policy, fail, settings


@app.command("run")
def run(
    port: int = typer.Option(0, "--port", help="HTTP port for Slack events (DESTEK_HTTP_PORT)"),
) -> None:
    """Run the bot: every channel whose settings are present, plus the periodic jobs."""
    cfg = settings()
    if port:
        cfg = cfg.model_copy(update={"http_port": port})
    configure_logging(cfg)
    if cfg.telegram_bot_token:
        from ..channels.telegram import WebhookConfigError, webhook_problem

        try:
            webhook_problem(cfg)
        except WebhookConfigError as exc:
            fail(str(exc))
    upgrade(cfg.database_url)
    pol = db_policy()  # with the demo's plan on the demo's database
    ctx = RunContext(cfg, engine_for(cfg.database_url), intake_config(cfg, pol), policy=pol)
    services, has_channel = build_services(ctx)
    if not has_channel:
        typer.echo("No chat channel is configured (set TELEGRAM_BOT_TOKEN, or SLACK_BOT_TOKEN "
                   "with SLACK_SIGNING_SECRET or SLACK_APP_TOKEN). To try Destek without a chat "
                   "platform: destek chat --as CONTACT")
        raise typer.Exit(0)
    typer.echo("Destek is running: " + ", ".join(s.name for s in services) + " (Ctrl-C stops)")
    asyncio.run(run_services(services))
    typer.echo("Destek stopped.")
