"""The ``destek`` command line: records, tickets, the SLA calculator, demo and run."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Annotated, Any, NoReturn

import typer
from sqlmodel import Session

from sla import CalendarError, PolicyError, load_policy, make_calendar
from sla.policy import Policy
from sla.ticket_clocks import format_duration
from storage import directory, tickets
from storage.clock import system_clock
from storage.db import engine_for, session_scope, upgrade
from storage.directory import RecordError
from storage.identities import HOME, identities_of

from .config import Settings, get_settings
from .sla_batch import CaseError, DeadlineCalculator, parse_instant, parse_pause

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


# -- records ---------------------------------------------------------------------------------


def _customer_row(c: Any) -> dict[str, Any]:
    cal = directory.customer_calendar(c)
    return {
        "code": c.code, "name": c.name, "calendar": c.calendar, "tz": cal.tz,
        "hours": c.hours or "08:00-17:00" if c.calendar != "24x7" else "00:00-24:00",
        "closed": c.closed_dates, "language": c.language,
    }


@customer_app.command("add")
def customer_add(
    code: str,
    calendar: Annotated[str, typer.Option(help="TR, ME, US or 24x7")] = "TR",
    tz: Annotated[str | None, typer.Option(help="Timezone override, e.g. America/Chicago")] = None,
    hours: Annotated[str | None, typer.Option(help="Opening hours, e.g. 09:00-18:00")] = None,
    closed: Annotated[str | None, typer.Option(help="Extra closed dates, comma-separated")] = None,
    language: Annotated[str, typer.Option(help="en or tr")] = "en",
    name: Annotated[str | None, typer.Option(help="Display name")] = None,
) -> None:
    """Add a customer with its business calendar."""
    directory.parse_closed_dates(closed) if closed else None
    with session() as s:
        c = directory.add_customer(s, code, name, calendar, tz, hours, closed, language)
        row = _customer_row(c)
    typer.echo(f"customer {code} added ({row['calendar']}, {row['tz']}, {row['language']})")


@customer_app.command("list")
def customer_list(as_json: JsonOpt = False) -> None:
    """List customers."""
    with session() as s:
        rows = [_customer_row(c) for c in directory.list_customers(s)]
    emit(rows, as_json, ["code", "name", "calendar", "tz", "hours", "language"])


@contract_app.command("add")
def contract_add(
    customer: str,
    plan: Annotated[str, typer.Option(help="standard or premium")],
    start: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    end: Annotated[str, typer.Option(help="YYYY-MM-DD")],
    product: Annotated[list[str] | None, typer.Option(help="Covered product (repeat)")] = None,
) -> None:
    """Add a support contract (a customer with no active contract is not served, P9)."""
    pol = policy()
    start_d, end_d = parse_day(start, "--start"), parse_day(end, "--end")
    with session() as s:
        c = directory.add_contract(s, customer, plan, start_d, end_d, product, tuple(pol.plans))
        cid = c.id
    covers = ", ".join(product) if product else "every product"
    typer.echo(f"contract {cid} added: {customer} {plan} {start_d} – {end_d}, covers {covers}")


@contract_app.command("list")
def contract_list(customer: str | None = None, as_json: JsonOpt = False) -> None:
    """List contracts."""
    today = now_utc().date()
    with session() as s:
        codes = {c.id: c.code for c in directory.list_customers(s)}
        rows = []
        for c in directory.list_contracts(s, customer):
            rows.append({
                "id": c.id, "customer": codes.get(c.customer_id), "plan": c.plan,
                "start": c.start.isoformat(), "end": c.end.isoformat(),
                "active": c.start <= today <= c.end,
                "products": [p.name for p in directory.contract_products(s, c)],
            })
    emit(rows, as_json, ["id", "customer", "plan", "start", "end", "active"])


# The per-platform fields of `contact add` and `contact list` (the names scripts use since the
# first release): the channel each one is, and the type its value is shown with.
ID_FIELDS: dict[str, tuple[str, type]] = {
    "slack_id": ("slack", str), "telegram_id": ("telegram", int),
}


def _id_value(value: str, kind: type) -> Any:
    try:
        return kind(value)
    except ValueError:  # an id set by other means than the typed option: shown as stored
        return value


@contact_app.command("add")
def contact_add(
    customer: Annotated[str, typer.Argument(help="Customer code ('-' for vendor staff)")],
    name: str,
    role: Annotated[str, typer.Option(help="customer, engineer or manager")] = "customer",
    trained: Annotated[bool, typer.Option("--trained/--untrained")] = False,
    language: Annotated[str | None, typer.Option(help="en or tr")] = None,
    slack_id: Annotated[str | None, typer.Option("--slack-id")] = None,
    telegram_id: Annotated[int | None, typer.Option("--telegram-id")] = None,
    email: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Add a contact (only trained customer contacts may open tickets, P12)."""
    given = {"slack_id": slack_id, "telegram_id": telegram_id}
    ids = {ID_FIELDS[k][0]: str(v) for k, v in given.items() if v is not None}
    with session() as s:
        c = directory.add_contact(
            s, None if customer == "-" else customer, name, role, trained, language,
            email=email, identities=ids,
        )
        cid = c.id
    typer.echo(f"contact {cid} added: {name} ({role}{', trained' if trained else ''})")


@contact_app.command("list")
def contact_list(customer: str | None = None, as_json: JsonOpt = False) -> None:
    """List contacts, with their user ids per channel ("identities": all of them)."""
    with session() as s:
        codes = {c.id: c.code for c in directory.list_customers(s)}
        contacts = directory.list_contacts(s, customer)
        found = identities_of(s, [c.id or 0 for c in contacts])
        rows = []
        for c in contacts:
            mine = found.get(c.id or 0, [])
            home = {i.channel: i.external_id for i in mine if i.workspace == HOME}
            rows.append({
                "id": c.id, "customer": codes.get(c.customer_id or -1), "name": c.name,
                "role": c.role, "trained": c.trained, "language": c.language,
                **{field: _id_value(home[channel], kind) if channel in home else None
                   for field, (channel, kind) in ID_FIELDS.items()},
                "identities": [{"channel": i.channel, "workspace": i.workspace,
                                "external_id": i.external_id} for i in mine],
            })
    emit(rows, as_json, ["id", "customer", "name", "role", "trained", "language", *ID_FIELDS])


@product_app.command("add")
def product_add(
    name: str,
    family: Annotated[str, typer.Option(help="Product family from the policy")],
) -> None:
    """Add a product in a product family (service levels are per family, P24)."""
    pol = policy()
    with session() as s:
        directory.add_product(s, name, family, tuple(pol.families))
    typer.echo(f"product {name!r} added ({family})")


@product_app.command("list")
def product_list(as_json: JsonOpt = False) -> None:
    """List products."""
    with session() as s:
        rows = [{"id": p.id, "name": p.name, "family": p.family}
                for p in directory.list_products(s)]
    emit(rows, as_json, ["id", "name", "family"])


@version_app.command("add")
def version_add(
    product: str,
    version: str,
    released: Annotated[str, typer.Option(help="Release date YYYY-MM-DD")],
) -> None:
    """Add a product version with its release date."""
    day = parse_day(released, "--released")
    years = policy().end_of_support_years
    with session() as s:
        directory.add_version(s, product, version, day)
    ends = directory.support_window(day, years, now_utc().date())
    typer.echo(f"{product} {version} added (supported until {ends.ends})")


@version_app.command("list")
def version_list(as_json: JsonOpt = False) -> None:
    """List versions with their end of support (P8)."""
    years = policy().end_of_support_years
    today = now_utc().date()
    with session() as s:
        names = {p.id: p.name for p in directory.list_products(s)}
        rows = []
        for v in directory.list_versions(s):
            w = directory.support_window(v.released, years, today)
            rows.append({
                "product": names.get(v.product_id), "version": v.version,
                "released": v.released.isoformat(), "end_of_support": w.ends.isoformat(),
                "supported": not w.past,
            })
    emit(rows, as_json, ["product", "version", "released", "end_of_support", "supported"])


# -- tickets ---------------------------------------------------------------------------------


@ticket_app.command("list")
def ticket_list(
    customer: Annotated[str | None, typer.Option(help="Only this customer")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only open tickets")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List tickets with each target's deadline and state."""
    pol = policy()
    now = now_utc()
    with session() as s:
        cid = directory.get_customer(s, customer).id if customer else None
        views = [tickets.view(s, pol, t, now) for t in tickets.list_tickets(s, cid, open_only)]
        rows = [v.as_dict() for v in views]
    if as_json:
        emit(rows, True, [])
        return
    flat = []
    for r in rows:
        targets = r["targets"]
        flat.append({
            **r,
            **{
                k: f"{v['state']} {format_duration(timedelta(seconds=v['remaining_seconds']))}"
                if v["remaining_seconds"] is not None else v["state"]
                for k, v in targets.items()
            },
        })
    emit(flat, False, ["number", "customer", "severity", "kind", "status", "summary", "response",
                       "workaround", "resolution"])


@ticket_app.command("show")
def ticket_show(number: int, as_json: JsonOpt = False) -> None:
    """Show one ticket with its deadlines."""
    pol = policy()
    with session() as s:
        try:
            t = tickets.get_ticket(s, number)
        except tickets.TicketNotFound:
            fail(f"no ticket #{number}")
        row = tickets.view(s, pol, t, now_utc()).as_dict()
    if as_json:
        typer.echo(json.dumps(row, ensure_ascii=False, indent=2))
        return
    for key, value in row.items():
        if key != "targets":
            typer.echo(f"{key:>12}: {value}")
    for kind, v in row["targets"].items():
        typer.echo(f"{kind:>12}: {v['target']}, due {v['deadline'] or '—'}, {v['state']}")


# -- SLA calculator --------------------------------------------------------------------------


@sla_app.command("deadline")
def sla_deadline(
    calendar: Annotated[str | None, typer.Option(help="TR, ME, US or 24x7")] = None,
    tz: Annotated[str | None, typer.Option(help="Timezone override")] = None,
    start: Annotated[str | None, typer.Option(
        help="ISO 8601 start; one without an offset is read in --tz")
    ] = None,
    minutes: Annotated[float | None, typer.Option(help="Business minutes to add")] = None,
    pause: Annotated[list[str] | None, typer.Option(help="START/END pause (repeat)")] = None,
) -> None:
    """When is it due? With no --start, answers JSON lines from stdin, one case a line."""
    calc = DeadlineCalculator()
    if start is None:
        calc.run(sys.stdin, sys.stdout)
        return
    if calendar is None or minutes is None:
        fail("--calendar and --minutes are required with --start")
    try:
        result = calc.deadline(
            calendar, tz,
            parse_instant(start, "--start", calc.calendar(calendar, tz).zone if tz else None),
            minutes,
            [parse_pause(p) for p in pause or []],
        )
    except (CaseError, CalendarError) as exc:
        fail(str(exc))
    typer.echo(result if result is not None else "paused (an open pause stops the clock)")


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # not the locale's names


@sla_app.command("calendar")
def sla_calendar(
    calendar: str,
    year: Annotated[int, typer.Option(help="Year to list")] = 0,
    tz: Annotated[str | None, typer.Option()] = None,
) -> None:
    """List a calendar's closed days and half days of a year."""
    try:
        cal = make_calendar(calendar, tz)
    except CalendarError as exc:
        fail(str(exc))
    year = year or now_utc().year
    days = " ".join(WEEKDAYS[d] for d in sorted(cal.days))
    opens, close = f"{cal.hours.open:%H:%M}", cal.hours.close  # close None: until midnight
    hours = ("around the clock" if close is None and opens == "00:00"
             else f"hours {opens}-{'24:00' if close is None else f'{close:%H:%M}'}")
    typer.echo(f"{cal.name}: {cal.tz}, working days {days}, {hours}")
    for d, name in sorted(cal.closed_days(year).items()):
        typer.echo(f"  {d}  closed     {name}")
    for d, name in sorted(cal.half_days(year).items()):
        typer.echo(f"  {d}  until {cal.half_day_close:%H:%M}  {name}")


# -- policy ----------------------------------------------------------------------------------


@policy_app.command("check")
def policy_check(path: Annotated[str | None, typer.Argument()] = None) -> None:
    """Validate a policy file (the configured or shipped one by default)."""
    try:
        pol = load_policy(path or settings().policy_path)
    except PolicyError as exc:
        fail(str(exc))
    typer.echo(f"policy ok: {len(pol.plans)} plans, {len(pol.families)} families, "
               f"reminders at {', '.join(f'{x:.0%}' for x in pol.reminders)}")


@policy_app.command("show")
def policy_show() -> None:
    """Print the service-level table of the policy."""
    pol = policy()
    typer.echo(f"{'plan':<10}{'sev':<5}{'response':<14}{'workaround':<14}{'resolution':<14}")
    for plan_key, plan in pol.plans.items():
        for sev, cell in plan.targets.items():
            typer.echo(f"{plan_key:<10}{sev:<5}{cell.response.label():<14}"
                       f"{cell.workaround.label():<14}{cell.resolution.label():<14}")


# Modules that add their commands to ``app`` when imported (one line per area).
COMMAND_MODULES = [
    "bot.demo",
    "bot.cli_kb",
    "bot.cli_chat",
    "bot.cli_run",
    "bot.cli_backup",
    "bot.cli_report",
    "bot.cli_dashboard",
    "bot.cli_sla",
    "bot.cli_oncall",
]


def load_commands() -> typer.Typer:
    """Import every command module and return the complete app."""
    import importlib

    for module in COMMAND_MODULES:
        importlib.import_module(module)
    return app


def main() -> None:
    """Console-script entry point."""
    from sqlalchemy.exc import OperationalError

    load_commands()
    try:
        code = app(standalone_mode=False)
    except _CLICK_ERROR as exc:  # a bad argument or option: one line, not a framed box
        typer.echo(f"error: {_usage_error(exc)}", err=True)
        sys.exit(2)
    except typer.Abort:
        typer.echo("error: aborted", err=True)
        sys.exit(1)
    except (RecordError, CalendarError, PolicyError) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except OSError as exc:  # e.g. --out in a folder that does not exist
        where = f": {exc.filename}" if exc.filename else ""
        typer.echo(f"error: {exc.strerror or exc}{where}", err=True)
        sys.exit(2)
    except OperationalError as exc:
        first = str(exc.orig or exc).splitlines()[0]
        hint = " (run `destek db upgrade` first)" if "no such table" in first else ""
        typer.echo(f"error: database: {first}{hint}", err=True)
        sys.exit(2)
    # Without standalone mode, Click returns the code of typer.Exit (fail(), --help).
    sys.exit(code if isinstance(code, int) else 0)


# Typer vendors Click in newer releases: its own ClickException is the base of usage errors.
_CLICK_ERROR: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def _usage_error(exc: Exception) -> str:
    """Click's message with the command it is about ("ticket show: 'abc' is not ...")."""
    format_message = getattr(exc, "format_message", None)
    message = format_message() if callable(format_message) else str(exc)
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path.split(" ", 1)[1] if ctx is not None and " " in ctx.command_path \
        else ""
    return f"{path}: {message}" if path else message
