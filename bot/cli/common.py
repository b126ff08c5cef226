"""The ``destek`` command line: records, tickets, the SLA calculator, demo and run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Annotated, Any, NoReturn

import typer
from sqlmodel import Session

from sla import CalendarError, PolicyError, load_policy
from sla.policy import Policy
from storage.clock import system_clock
from storage.db import engine_for, session_scope, upgrade
from storage.directory import RecordError

from ..config import Settings, get_settings

app = typer.Typer(
    name="destek",
    help="Destek: chat-ops support desk with SLA clocks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
customer_app = typer.Typer(help="Customers.", no_args_is_help=True)
contract_app = typer.Typer(help="Support contracts.", no_args_is_help=True)
contact_app = typer.Typer(help="Contacts: customer personnel, engineers, managers.",
                          no_args_is_help=True)
product_app = typer.Typer(help="Products.", no_args_is_help=True)
version_app = typer.Typer(help="Product versions and release dates (P8).", no_args_is_help=True)
ticket_app = typer.Typer(help="Tickets.", no_args_is_help=True)
sla_app = typer.Typer(help="SLA calculator.", no_args_is_help=True)
policy_app = typer.Typer(help="Support policy file.", no_args_is_help=True)
for sub, name in [
    (db_app, "db"), (customer_app, "customer"), (contract_app, "contract"),
    (contact_app, "contact"), (product_app, "product"), (version_app, "version"),
    (ticket_app, "ticket"), (sla_app, "sla"), (policy_app, "policy"),
]:
    app.add_typer(sub, name=name)

def fail(message: str, code: int = 2) -> NoReturn:
    """One clear line on stderr and a non-zero exit, never a traceback."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def settings() -> Settings:
    return get_settings()


def policy() -> Policy:
    try:
        return load_policy(settings().policy_path)
    except PolicyError as exc:
        fail(str(exc))


def db_policy() -> Policy:
    """The policy to read the configured database with: on the demo's database the demo-only
    plan is added (bot.demo_plan), so its minute-scale tickets read like any other."""
    from ..demo_plan import policy_for

    return policy_for(engine_for(settings().database_url), policy())


@contextmanager
def session() -> Iterator[Session]:
    """A committed session on the configured database, with record errors made readable."""
    url = settings().database_url
    try:
        with session_scope(engine_for(url)) as s:
            yield s
    except (RecordError, CalendarError, PolicyError) as exc:
        fail(str(exc))


def emit(rows: list[dict[str, Any]], as_json: bool, columns: list[str]) -> None:
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    if not rows:
        typer.echo("(none)")
        return
    widths = {c: max(len(c), *(len(str(r.get(c, "") or "")) for r in rows)) for c in columns}
    typer.echo("  ".join(c.upper().ljust(widths[c]) for c in columns))
    for r in rows:
        typer.echo("  ".join(str(r.get(c, "") or "").ljust(widths[c]) for c in columns))


def parse_day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{what} {text!r} is not a date (YYYY-MM-DD)")


def now_utc() -> datetime:
    """The CLI's clock: the real one (``storage.clock.system_clock``)."""
    return system_clock()


JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


# -- db --------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Create or migrate the schema (Alembic)."""
    url = settings().database_url
    try:
        upgrade(url, revision)
    except Exception as exc:  # noqa: BLE001 - surfaced as one line
        fail(f"migration failed on {url.split('@')[-1]}: {exc}")
    typer.echo(f"database at {url.split('@')[-1]} is at {revision}")
