"""Shared helpers of the reliability suite: the figures each test prints and records."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ARTIFACT = ROOT / "test-artifacts" / "reliability.txt"


def figures(test: str, **counts: object) -> str:
    """Print one summary line (``-s`` shows it) and append it to test-artifacts/reliability.txt,
    so the counts can be quoted."""
    store = os.environ.get("DESTEK_TEST_DB") or "default"
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = " ".join(f"{k}={v}" for k, v in counts.items())
    line = f"{stamp} {test} [{store}] {body}"
    print("\n" + line)
    try:
        ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
        with ARTIFACT.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    except OSError:  # a read-only checkout still runs the tests
        pass
    return line


# -- scripted intake dialogs ------------------------------------------------------------------

# A typed answer for every step of the intake dialog (English), as a customer would type it.
ANSWERS: dict[str, str] = {
    "selfhelp": "continue",
    "product_id": "Voice Bot",
    "version_text": "4.2",
    "environment": "test",
    "description": "The bot hangs up right after the greeting prompt on every call.",
    "steps": "Call the claims line from any phone and wait.",
    "error_text": "none",
    "attachments": "not available",
    "attachments_missing_reason": "Logs are on an isolated network.",
    "production_down": "no",
    "workaround_available": "yes",
    "users_affected": "few",
    "severity": "S3",
    "severity_reason": "Only the test line is affected.",
    "remote_access": "yes",
    "remote_access_how": "Via the customer VPN",
    "kind": "defect",
    "service_category": "1",
    "confirm": "confirm",
}
# The report fields every ticket opened by the script must carry.
REPORT_FIELDS = ("summary", "product_id", "version_text", "environment", "description",
                 "steps", "attachments_missing_reason", "production_down",
                 "workaround_available", "users_affected", "severity", "proposed_severity",
                 "severity_reason", "remote_access", "remote_access_how", "kind",
                 "reported_at", "contact_id", "customer_id", "plan")


def add_customers(session: Any, n: int, telegram_base: int = 3100,
                  slack_prefix: str = "U0DUP") -> list[tuple[str, int, str]]:
    """``n`` trained English-speaking NORTHWIND contacts: (name, telegram id, slack id)."""
    from storage import directory

    out = []
    for i in range(n):
        name, tg, sl = f"Tester {i:03d}", telegram_base + i, f"{slack_prefix}{i:03d}"
        directory.add_contact(session, "NORTHWIND", name, "customer", True, "en", sl, tg)
        out.append((name, tg, sl))
    session.flush()
    return out


def dialog_script(engine: Any, cfg: Any, channel: str, user_key: str, summary: str,
                  now: datetime) -> list[tuple[str, str]]:
    """The (step, typed text) a user sends to report ``summary``, found by running the real
    dialog in a transaction that is rolled back: ``("start", "/start")`` first."""
    from sqlmodel import Session

    from handlers.dispatch import route
    from handlers.intake import get_dialog
    from handlers.types import Incoming

    script: list[tuple[str, str]] = [("start", "/start")]
    with Session(engine) as s:
        route(s, cfg, Incoming(channel, user_key, user_key, command="start"), now)
        for _ in range(40):
            row = get_dialog(s, channel, user_key)
            if row is None:
                break
            text = summary if row.step == "summary" else ANSWERS[row.step]
            script.append((row.step, text))
            route(s, cfg, Incoming(channel, user_key, user_key, text=text), now)
        else:
            raise AssertionError(f"dialog did not finish: {script}")
        s.rollback()
    assert script[-1] == ("confirm", "confirm"), script
    return script
# Fields every ticket has, whatever its answers (conditional ones are checked per script).
CORE_FIELDS = ("summary", "product_id", "version_text", "environment", "description", "steps",
               "production_down", "workaround_available", "users_affected", "severity",
               "proposed_severity", "kind", "remote_access", "reported_at", "contact_id",
               "customer_id", "plan")


def open_complete_ticket(session: Any, policy: Any, code: str, contact_name: str, summary: str,
                         when: datetime) -> Any:
    """A ticket with a complete report, as the dialog would open it (remote access given)."""
    from storage import directory, tickets
    from storage.identities import external_id
    from storage.models import TicketKind

    customer = directory.get_customer(session, code)
    contact = directory.find_contact(session, contact_name)
    telegram = external_id(session, contact.id, "telegram")  # type: ignore[union-attr]
    plan = directory.active_contract(session, customer.id, when.date()).plan  # type: ignore
    return tickets.open_ticket(
        session, policy, customer, contact, plan, summary, "S3", when,
        product=directory.get_product(session, "Voice Bot"), version_text="4.2",
        environment="test", description=ANSWERS["description"], steps=ANSWERS["steps"],
        attachments_missing_reason=ANSWERS["attachments_missing_reason"],
        production_down=False, workaround_available=True, users_affected="few",
        proposed_severity="S3", kind=TicketKind.DEFECT, remote_access=True,
        remote_access_how=ANSWERS["remote_access_how"], channel="telegram",
        channel_user=telegram, channel_chat=telegram)
