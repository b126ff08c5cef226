"""``destek customer|contract|contact|product|version``: who is supported, for what."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from storage import chats, directory
from storage.identities import HOME, identities_of

from .common import (
    JsonOpt,
    contact_app,
    contract_app,
    customer_app,
    emit,
    fail,
    now_utc,
    parse_day,
    policy,
    product_app,
    session,
    version_app,
)

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


@customer_app.command("set")
def customer_set(
    code: str,
    slack_channel: Annotated[list[str] | None, typer.Option(
        "--slack-channel", help="Map a Slack Connect channel id (C...) to it (repeat)")] = None,
    remove_slack_channel: Annotated[list[str] | None, typer.Option(
        "--remove-slack-channel", help="Remove a channel mapped to it (repeat)")] = None,
) -> None:
    """Map the Slack Connect channels shared with a customer: what its people write there is
    that customer's (a channel belongs to one customer)."""
    if not slack_channel and not remove_slack_channel:
        fail("nothing to set: give --slack-channel C... or --remove-slack-channel C...")
    with session() as s:
        for chat in remove_slack_channel or []:
            chats.unmap_chat(s, code, "slack", chat)
        for chat in slack_channel or []:
            chats.map_chat(s, code, "slack", chat)
        customer = directory.get_customer(s, code)
        mapped = chats.chats_by_customer(s).get(customer.id or 0, [])
    typer.echo(f"customer {code}: Slack channels {', '.join(mapped) or 'none'}")


@customer_app.command("list")
def customer_list(as_json: JsonOpt = False) -> None:
    """List customers (with their Slack Connect channels)."""
    with session() as s:
        shared = chats.chats_by_customer(s)
        rows = [{**_customer_row(c), "slack_channels": shared.get(c.id or 0, [])}
                for c in directory.list_customers(s)]
    if not as_json:
        rows = [{**r, "slack_channels": ",".join(r["slack_channels"])} for r in rows]
    emit(rows, as_json, ["code", "name", "calendar", "tz", "hours", "language",
                         "slack_channels"])


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
    slack_team: Annotated[str | None, typer.Option(
        "--slack-team", help="The Slack team of --slack-id when it is not ours (Slack "
        "Connect: the customer's team id, T...)")] = None,
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
            workspaces={"slack": slack_team} if slack_team is not None else None,
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
            # A Slack Connect contact: the id in their own team, and that team.
            team = next((i for i in mine if i.channel == "slack" and i.workspace != HOME),
                        None) if "slack" not in home else None
            if team is not None:
                home["slack"] = team.external_id
            rows.append({
                "id": c.id, "customer": codes.get(c.customer_id or -1), "name": c.name,
                "role": c.role, "trained": c.trained, "language": c.language,
                **{field: _id_value(home[channel], kind) if channel in home else None
                   for field, (channel, kind) in ID_FIELDS.items()},
                "slack_team": team.workspace if team is not None else None,
                "identities": [{"channel": i.channel, "workspace": i.workspace,
                                "external_id": i.external_id} for i in mine],
            })
    emit(rows, as_json, ["id", "customer", "name", "role", "trained", "language", *ID_FIELDS,
                         "slack_team"])


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
