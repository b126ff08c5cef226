"""A ticket with every report field, two attachments, a pause, a note and a conversation: what
the ticket report's outputs (status N, ticket show, the dashboard) are tested against."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from sla import Policy
from storage import attachments, directory, tickets
from storage.models import Contact, Ticket, TicketPause

CUSTOMER = "FULL"
CONTACT = "Zeynep Kaya"
ENGINEER = "Ece Arslan"
NOTE = "Suspect the <rtp> & jitter buffer: SECRET-NOTE-7"
ACCESS_HOW = "VPN vpn.full.example, user destek, call +90 555 0100: ACCESS-HOW-9"
REPLY = "We are reading the trace now."
ANSWER = "Logs attached, the error is every call."
FOLLOW_UP = "Still failing after the restart."
STEPS = "1. Call the IVR\n2. Press 1\n3. Silence"
ERROR = "ERR_MEDIA_TIMEOUT at codec.c:42"
TRACE = b"2026-11-25 08:10 ERR_MEDIA_TIMEOUT\n" * 3
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@dataclass(frozen=True)
class Seeded:
    ticket: int
    trace_id: int
    png_id: int
    engineer: int
    contact: int


def seed_full(s: Session, policy: Policy, now: datetime, folder: Path) -> Seeded:
    """The full ticket, reported an hour before ``now``, on customer FULL (Istanbul)."""
    if not _has_product(s):
        directory.add_product(s, "Voice Bot", "conversational-ai")
    directory.add_customer(s, CUSTOMER, "Full Report Ltd", "TR", language="en")
    directory.add_contract(s, CUSTOMER, "standard", date(2026, 1, 1), date(2027, 12, 31))
    contact = directory.add_contact(s, CUSTOMER, CONTACT, "customer", True, "en")
    engineer = directory.add_contact(s, None, ENGINEER, "engineer", True, "en")
    t = tickets.open_ticket(
        s, policy, directory.get_customer(s, CUSTOMER), contact, "standard",
        "IVR silent after greeting", "S2", now - timedelta(hours=1),
        product=directory.get_product(s, "Voice Bot"), channel="telegram",
        version_text="4.2.1", version_past_eos=False, environment="production",
        description="Callers hear the greeting, then silence.\nSince this morning.",
        steps=STEPS, error_text=ERROR, attachments_missing_reason="the pcap is too big",
        production_down=True, workaround_available=False, users_affected="100+",
        proposed_severity="S1", severity_reason="Production is down for all callers",
        remote_access=True, remote_access_how=ACCESS_HOW, kind="defect",
        service_category="Log analysis",
    )
    t.assignee_id = engineer.id
    t.tier = 2
    t.responded_at = now - timedelta(minutes=40)
    t.workaround_text = "Route calls to the backup media server"
    t.fix_version = "4.2.2"
    s.add(t)
    tid = t.id or 0
    trace = attachments.store(s, folder, "trace.log", "text/plain", TRACE, ticket_id=tid)
    png = attachments.store(s, folder, "screen shot.png", "image/png", PNG, ticket_id=tid)
    s.add(TicketPause(ticket_id=tid, started_at=now - timedelta(minutes=35),
                      ended_at=now - timedelta(minutes=20), reason="waiting for the logs"))
    tickets.add_event(s, t, "paused", "waiting for the logs", actor=engineer,
                      at=now - timedelta(minutes=35))
    tickets.add_event(s, t, tickets.CUSTOMER_ANSWER, ANSWER, actor=contact,
                      at=now - timedelta(minutes=20))
    tickets.add_event(s, t, tickets.INTERNAL_NOTE, NOTE, actor=engineer,
                      at=now - timedelta(minutes=15))
    tickets.add_event(s, t, tickets.PUBLIC_REPLY, REPLY, actor=engineer,
                      at=now - timedelta(minutes=10))
    tickets.add_event(s, t, tickets.CUSTOMER_FOLLOW_UP, FOLLOW_UP, actor=contact,
                      at=now - timedelta(minutes=5))
    tickets.refresh_deadlines(s, policy, t, now)
    s.flush()
    return Seeded(tid, trace.id or 0, png.id or 0, engineer.id or 0, contact.id or 0)


def _has_product(s: Session) -> bool:
    try:
        directory.get_product(s, "Voice Bot")
    except directory.RecordError:
        return False
    return True


def engineer_of(s: Session) -> Contact:
    c = directory.find_contact(s, ENGINEER)
    assert c is not None
    return c


def ticket_of(s: Session, seeded: Seeded) -> Ticket:
    return tickets.get_ticket(s, seeded.ticket)
