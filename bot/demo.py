"""Demo data (customers, contracts, contacts, products, versions, tickets) and ``destek demo``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer
from sqlmodel import Session, select

from handlers.assignment import auto_assign
from sla import Policy, format_duration
from storage import directory, tickets
from storage.db import engine_for, session_scope, upgrade
from storage.models import Customer, TicketKind

from .cli.common import app, now_utc, policy, settings
from .demo_plan import DEMO_CELL, DEMO_LABEL, DEMO_PLAN, with_demo_plan

# Dates are (years from the demo's "now", month, day): the demo reads the same on any day it is
# started (contracts in force, one expired; versions inside and past their support window).
DEMO_CUSTOMERS = [
    # code, name, calendar, tz, language, plan, contract start, end
    ("ACME", "Acme Telekom A.Ş.", "TR", None, "tr", "premium", (0, 1, 1), (1, 12, 31)),
    ("GULFBANK", "Gulf Bank PJSC", "ME", None, "en", "standard", (-1, 6, 1), (1, 5, 31)),
    ("NORTHWIND", "Northwind Insurance", "US", "America/Chicago", "en", "standard",
     (0, 1, 1), (0, 12, 31)),
    ("OLDCO", "Oldco Ltd (contract expired)", "TR", None, "en", "standard",
     (-3, 1, 1), (-1, 12, 31)),
]
DEMO_PRODUCTS = [
    ("Voice Bot", "conversational-ai", [("4.2", (-2, 5, 1)), ("3.1", (-6, 2, 10))]),
    ("Chatbot", "conversational-ai", [("2.8", (-1, 9, 15))]),
    ("Speech Analytics", "conversational-analytics",
     [("7.0", (-1, 3, 1)), ("6.4", (-3, 6, 20))]),
    ("Call Recorder", "call-recording", [("5.5", (-2, 11, 11)), ("4.0", (-7, 4, 1))]),
]
DEMO_CONTACTS = [
    # customer, name, role, trained, language, slack, telegram
    ("ACME", "Ayşe Demir", "customer", True, "tr", "U0ACME01", 1001),
    ("ACME", "Mehmet Kaya", "customer", False, "tr", None, 1002),
    ("GULFBANK", "Omar Haddad", "customer", True, "en", "U0GULF01", 2001),
    ("NORTHWIND", "Jane Miller", "customer", True, "en", "U0NWIN01", 3001),
    ("OLDCO", "Tom Old", "customer", True, "en", None, 4001),
    (None, "Deniz Yılmaz", "engineer", True, "tr", "U0ENG001", 9001),
    (None, "Can Öztürk", "engineer", True, "en", "U0ENG002", 9002),
    (None, "Elif Şahin", "manager", True, "tr", "U0MGR001", 9101),
]


def _demo_day(now: datetime, when: tuple[int, int, int]) -> date:
    years, month, day = when
    return date(now.year + years, month, day)


def seed(session: Session, pol: Policy, now: datetime) -> bool:
    """Load the demo records once; returns False when they are already there."""
    if session.exec(select(Customer).where(Customer.code == "ACME")).first():
        return False
    for name, family, versions in DEMO_PRODUCTS:
        directory.add_product(session, name, family, tuple(pol.families))
        for version, released in versions:
            directory.add_version(session, name, version, _demo_day(now, released))
    for code, name, cal, tz, lang, plan, start, end in DEMO_CUSTOMERS:
        directory.add_customer(session, code, name, cal, tz, None, None, lang)
        products = None if code != "GULFBANK" else ["Call Recorder", "Speech Analytics"]
        directory.add_contract(session, code, plan, _demo_day(now, start), _demo_day(now, end),
                               products, tuple(pol.plans))
    for customer, name, role, trained, lang, slack, tg in DEMO_CONTACTS:
        directory.add_contact(session, customer, name, role, trained, lang, slack, tg)
    _seed_tickets(session, pol, now)
    _seed_oncall(session, now)
    from storage.kb import import_dir  # demo known errors (bot/demo_kb/*.md)

    import_dir(session, Path(__file__).with_name("demo_kb"))
    return True


def _seed_tickets(session: Session, pol: Policy, now: datetime) -> None:
    acme = directory.get_customer(session, "ACME")
    gulf = directory.get_customer(session, "GULFBANK")
    ayse = directory.find_contact(session, "Ayşe Demir")
    omar = directory.find_contact(session, "Omar Haddad")
    assert ayse and omar
    bot = directory.get_product(session, "Voice Bot")
    rec = directory.get_product(session, "Call Recorder")
    tickets.open_ticket(
        session, pol, acme, ayse, "premium",
        "IVR voice bot answers every call with silence", "S1", now - timedelta(minutes=20),
        product=bot, version_text="4.2", environment="production",
        description="Since 09:10 the voice bot plays no prompt; callers hear silence.",
        steps="Call the main IVR number.", error_text="TTS engine timeout after 3000 ms",
        production_down=True, workaround_available=False, users_affected="all",
        proposed_severity="S1", kind=TicketKind.DEFECT, remote_access=True,
        remote_access_how="VPN + RDP, credentials in vault", channel="console",
    )
    tickets.open_ticket(
        session, pol, gulf, omar, "standard",
        "Recordings of branch 12 are missing since Sunday", "S2", now - timedelta(hours=3),
        product=rec, version_text="5.5", environment="production",
        description="No recordings are stored for extensions 1200-1299.",
        steps="Search recordings for branch 12 in the web UI.", error_text=None,
        attachments_missing_reason="logs are collected by the customer's IT",
        production_down=False, workaround_available=False, users_affected="40",
        proposed_severity="S2", kind=TicketKind.DEFECT, remote_access=False,
        channel="console",
    )


def _seed_oncall(session: Session, now: datetime) -> None:
    """Weekly rotations handed over on Mondays at 09:00 Istanbul time, in force this week."""
    from storage import oncall

    from .cli.oncall import first_handover

    tz = "Europe/Istanbul"
    today = now.astimezone(ZoneInfo(tz)).date()
    first = first_handover(0, time(9, 0), tz, None, today)
    if first > now:  # Monday before 09:00: last week's hand-over is the one in force
        first -= timedelta(days=7)
    deniz = directory.find_contact(session, "Deniz Yılmaz")
    can = directory.find_contact(session, "Can Öztürk")
    assert deniz and can
    oncall.add_rotation(session, "L2 primary", "primary", [deniz, can], first, tz)
    oncall.add_rotation(session, "L2 secondary", "secondary", [can, deniz], first, tz)


def sla_table(session: Session, pol: Policy, now: datetime) -> list[str]:
    lines = []
    for t in tickets.list_tickets(session, open_only=True):
        v = tickets.view(session, pol, t, now)
        lines.append(f"#{t.id} {v.customer.code} {t.severity} {t.plan} {t.status}: {t.summary}")
        for s in v.clocks:
            due = s.deadline.isoformat(timespec="minutes") if s.deadline else "—"
            rem = format_duration(s.remaining)
            lines.append(f"    {s.kind.value:<11} {s.target.label():<13} due {due:<26} "
                         f"{s.status.value:<9} remaining {rem}")
    return lines


def _serve_dashboard_in_background(cfg: Any, pol: Policy) -> str | None:
    """Serve the dashboard from a daemon thread while the console chat runs (None: port busy)."""
    import asyncio
    import socket
    import threading

    import uvicorn

    from .web import WebOptions, create_app, dashboard_url
    from .web.server import _server_class

    port = cfg.dashboard_port or 8090
    try:
        sock = socket.create_server((cfg.http_host, port))
    except OSError:
        return None
    web = create_app(cfg.database_url, pol, refresh_seconds=cfg.dashboard_refresh,
                     options=WebOptions.from_settings(cfg))
    server = _server_class()(uvicorn.Config(web, log_level="warning", lifespan="off",
                                            proxy_headers=False))
    threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])),
                     name="demo-dashboard", daemon=True).start()
    return str(dashboard_url(cfg.http_host, port))


# The demo-only customer on the minute-scale plan (bot.demo_plan): its ticket, opened when the
# demo starts, reaches a countdown reminder after 30 s and its first breach after a minute.
MINUTE_CUSTOMER = ("MINUTE", "Minute Demo Ltd (" + DEMO_LABEL + ")", "Dana Demo")


def seed_minute_demo(session: Session, pol: Policy, now: datetime) -> bool:
    """The demo-only customer on the demo plan, its contract and contact (once); ``pol`` must
    have the plan (:func:`bot.demo_plan.with_demo_plan`). False: already there."""
    code, name, contact = MINUTE_CUSTOMER
    if session.exec(select(Customer).where(Customer.code == code)).first():
        return False
    directory.add_customer(session, code, name, "TR", None, None, None, "en")
    directory.add_contract(session, code, DEMO_PLAN, _demo_day(now, (-1, 1, 1)),
                           _demo_day(now, (1, 12, 31)), None, tuple(pol.plans))
    directory.add_contact(session, code, contact, "customer", True, "en", None, None)
    return True


def open_minute_ticket(session: Session, pol: Policy, now: datetime) -> int:
    """A fresh ticket of the minute-scale customer, its clocks starting ``now``; its number."""
    code, _, name = MINUTE_CUSTOMER
    customer = directory.get_customer(session, code)
    dana = directory.find_contact(session, name)
    assert dana is not None
    ticket = tickets.open_ticket(
        session, pol, customer, dana, DEMO_PLAN,
        "Chatbot answers slowly (DEMO ticket: its targets are minutes)", "S2", now,
        product=directory.get_product(session, "Chatbot"), version_text="2.8",
        environment="production", description="Answers take 20 s instead of 2 s.",
        steps="Ask the web chat anything.", error_text=None,
        attachments_missing_reason="demo ticket", production_down=False,
        workaround_available=False, users_affected="some", proposed_severity="S2",
        kind=TicketKind.DEFECT, remote_access=True, remote_access_how="VPN",
        channel="console",
    )
    auto_assign(session, pol, ticket, now)  # when ``pol`` assigns automatically (the demo's)
    return ticket.id or 0


def with_auto_assignment(pol: Policy) -> Policy:
    """``pol`` with automatic assignment on (issue #19), as the demo runs it."""
    return pol.model_copy(update={"assignment": pol.assignment.model_copy(update={"auto": True})})


def banner(number: int, ayse_ticket: int | None) -> list[str]:
    """What the newcomer is about to see, and how to open the engineer's terminal."""
    response, workaround = DEMO_CELL["response"], DEMO_CELL["workaround"]
    mine = f"ack {ayse_ticket}   workaround {ayse_ticket} restart the TTS service   " \
        if ayse_ticket else ""
    return [
        "",
        f"*** {DEMO_LABEL} ***",
        f"Ticket #{number} of {MINUTE_CUSTOMER[0]} runs on the demo-only plan "
        f"{DEMO_PLAN!r}: response {response}, workaround {workaround} (not the procedure's "
        "plans). The SLA scheduler runs in this process: in about 30 s a countdown reminder "
        "and after about a minute a breach alert appear below, marked as the support team's "
        "channels.",
        "This terminal is Ayşe Demir's chat (ACME). Messages for her (an engineer's answer, a "
        "status change) appear as they happen. Open the engineer's terminal in a second "
        "window, in this directory:",
        '    .venv/bin/destek chat --as "Deniz Yılmaz"',
        f"and type e.g.  list   {mine}ack {number}   note {number} looking at it   (help "
        "lists the commands). What Ayşe is told then shows here; the team's channels move "
        "to the engineer's terminal while it is open.",
        "",
    ]


@app.command("demo")
def demo(
    chat: bool = typer.Option(True, help="Open the console chat after loading the demo data"),
) -> None:
    """Create the database, load demo customers, contracts and products, show the SLA table,
    and open the console chat with the SLA scheduler and delivery running beside it."""
    cfg = settings()
    # The demo-only plan and automatic assignment (off in the shipped policy), in this
    # process only.
    pol = with_auto_assignment(with_demo_plan(policy()))
    upgrade(cfg.database_url)
    now = now_utc()
    number, ayse_ticket = 0, None
    with session_scope(engine_for(cfg.database_url)) as s:
        created = seed(s, pol, now)
        seed_minute_demo(s, pol, now)
        if chat:
            number = open_minute_ticket(s, pol, now)
            ayse = directory.find_contact(s, "Ayşe Demir")
            ayse_ticket = next((t.id for t in tickets.list_tickets(s, open_only=True)
                                if ayse is not None and t.contact_id == ayse.id), None)
        typer.echo("Demo data loaded." if created else "Demo data already present.")
        typer.echo(f"Now: {now.astimezone(UTC).isoformat(timespec='seconds')}")
        for line in sla_table(s, pol, now):
            typer.echo(line)
        from .web.demo_access import demo_dashboard_lines

        for line in demo_dashboard_lines(s, cfg):
            typer.echo(line)
        from handlers.oncall import who_text

        typer.echo(who_text(s, now, "en"))
    if chat:
        from .cli.chat import chat_as

        url = _serve_dashboard_in_background(cfg, pol)
        if url:
            typer.echo(f"The dashboard is live at {url} while this chat is open.")
        for line in banner(number, ayse_ticket):
            typer.echo(line)
        typer.echo("Console chat as Ayşe Demir (ACME). End of input or /quit leaves.")
        raise typer.Exit(chat_as("Ayşe Demir", pol=pol, demo=True))
