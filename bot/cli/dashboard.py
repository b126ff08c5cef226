"""``destek dashboard`` (serve the dashboard alone) and ``destek contact password NAME``."""

from __future__ import annotations

from typing import Annotated

import typer

from ..web import WebOptions, create_app, dashboard_url, set_password
from .common import app, contact_app, db_policy, fail, session, settings


@app.command("dashboard")
def dashboard(
    port: Annotated[int | None, typer.Option(help="Port (default DESTEK_DASHBOARD_PORT)")] = None,
    host: Annotated[str | None, typer.Option(help="Host (default DESTEK_HTTP_HOST)")] = None,
) -> None:
    """Serve the read-only dashboard: open tickets with countdowns, timelines, the report."""
    import uvicorn

    cfg = settings()
    port = port if port is not None else cfg.dashboard_port
    host = host or cfg.http_host
    if not 0 < port < 65536:
        fail(f"port {port} is not a TCP port")
    web = create_app(cfg.database_url, db_policy(), refresh_seconds=cfg.dashboard_refresh,
                     options=WebOptions.from_settings(cfg))
    typer.echo(f"dashboard on {dashboard_url(host, port)} (Ctrl-C stops it)")
    # proxy_headers off: the app believes X-Forwarded-* only from DESTEK_TRUSTED_PROXY.
    uvicorn.run(web, host=host, port=port, log_level="warning", proxy_headers=False)


@contact_app.command("password")
def contact_password(
    name: Annotated[str, typer.Argument(help="Engineer or manager: name, id or Slack id")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                          confirmation_prompt=True,
                                          help="At least 8 characters")],
) -> None:
    """Set a dashboard password (stored as a scrypt hash) for an engineer or manager."""
    with session() as s:
        contact = set_password(s, name, password)
        who = contact.name
    typer.echo(f"dashboard password set for {who}")
