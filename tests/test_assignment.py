"""Automatic assignment (issue #19 item 1) on SQLite and PostgreSQL: who is working, away,
round-robin kept across sessions, fewest open tickets first, the audit order, the card."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from handlers.assignment import AUTO_ACTOR, auto_assign, choose
from handlers.commands import execute_command
from handlers.identity import Identity
from handlers.intake.config import IntakeConfig
from handlers.intake.opening import enqueue_cards
from handlers.types import Destination, Routing
from sla import ClockKind, Policy
from sla.policy import DEFAULT_POLICY_PATH, parse_policy
from storage import directory, oncall, tickets
from storage.db import open_session
from storage.models import Contact, Contract, OutboxMessage, Ticket, TicketEvent

ROUTING = Routing(engineers=(Destination("slack", "C0ENG"),))
WED_NOON = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # 12:00 in Istanbul, a working day
WED_NIGHT = datetime(2026, 11, 25, 21, 0, tzinfo=UTC)  # 00:00 in Istanbul


@pytest.fixture
def auto(policy: Policy) -> Policy:
    return policy.model_copy(update={"assignment": policy.assignment.model_copy(
        update={"auto": True})})


@pytest.fixture
def s(engine: Engine, policy: Policy, clock) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    with open_session(engine, clock, expire_on_commit=False) as session:
        directory.add_product(session, "Voice Bot", "conversational-ai", tuple(policy.families))
        directory.add_customer(session, "ACME", "Acme", "TR", language="tr")
        directory.add_contract(session, "ACME", "premium", date(2026, 1, 1), date(2027, 12, 31),
                               None, tuple(policy.plans))
        directory.add_contact(session, "ACME", "Ayşe Demir", "customer", True, "tr", "U0ACME01")
        directory.add_contact(session, None, "Deniz Yılmaz", "engineer", True, "tr", "U0ENG001")
        directory.add_contact(session, None, "Can Öztürk", "engineer", True, "en", "U0ENG002")
        directory.add_contact(session, None, "Elif Şahin", "manager", True, "tr", "U0MGR001")
        session.commit()
        yield session


def who(s: Session, name: str) -> Contact:
    c = directory.find_contact(s, name)
    assert c is not None
    return c


def new(s: Session, pol: Policy, when: datetime, severity: str = "S3",
        summary: str = "Voice bot answers slowly") -> Ticket:
    return tickets.open_ticket(
        s, pol, directory.get_customer(s, "ACME"), who(s, "Ayşe Demir"), "premium", summary,
        severity, when, product=directory.get_product(s, "Voice Bot"), channel="slack",
        channel_user="U0ACME01")


def test_the_shipped_policy_has_it_off(policy: Policy, s: Session) -> None:
    assert "assignment:" in DEFAULT_POLICY_PATH.read_text(encoding="utf-8")
    assert policy.assignment.auto is False
    t = new(s, policy, WED_NOON)
    assert auto_assign(s, policy, t, WED_NOON) is None and t.assignee_id is None


def test_round_robin_in_hours_skips_managers_and_goes_on_after_a_restart(
        auto: Policy, engine: Engine, s: Session, clock) -> None:  # type: ignore[no-untyped-def]
    names = []
    for i in range(2):
        t = new(s, auto, WED_NOON + timedelta(minutes=i))
        choice = auto_assign(s, auto, t, WED_NOON)
        assert choice is not None and choice.reason == "hours"
        names.append(choice.engineer.name if choice.engineer else None)
    s.commit()
    assert names == ["Deniz Yılmaz", "Can Öztürk"]
    # Both have one open ticket: the turn decides, and it is kept in the database.
    with open_session(engine, clock, expire_on_commit=False) as again:
        t = new(again, auto, WED_NOON + timedelta(minutes=5))
        choice = auto_assign(again, auto, t, WED_NOON)
        assert choice is not None and choice.engineer is not None
        assert choice.engineer.name == "Deniz Yılmaz"
        again.commit()


def test_fewest_open_tickets_break_the_tie_within_a_round(auto: Policy, s: Session) -> None:
    deniz, can = who(s, "Deniz Yılmaz"), who(s, "Can Öztürk")
    for i in range(2):
        busy = new(s, auto, WED_NOON + timedelta(minutes=i))
        busy.assignee_id = deniz.id
        s.add(busy)
    s.flush()
    got = []
    for _ in range(4):
        t = new(s, auto, WED_NOON)
        auto_assign(s, auto, t, WED_NOON)
        got.append(t.assignee_id)
    # Round 1: both due, Can has fewer open tickets; then Deniz, whose turn it still is.
    # Round 2: Can (2 open against Deniz's 3), then Deniz.
    assert got == [can.id, deniz.id, can.id, deniz.id]
    assert choose(s, auto, new(s, auto, WED_NOON), WED_NOON).engineer == can


def test_away_and_back_verbs(auto: Policy, s: Session) -> None:
    can = who(s, "Can Öztürk")
    out = execute_command(s, auto, can, "away", WED_NOON, ROUTING)
    assert "away" in out[0].text and can.away
    assert "already" in execute_command(s, auto, can, "away", WED_NOON, ROUTING)[0].text
    for _ in range(2):
        t = new(s, auto, WED_NOON)
        auto_assign(s, auto, t, WED_NOON)
        assert t.assignee_id == who(s, "Deniz Yılmaz").id
    out = execute_command(s, auto, who(s, "Elif Şahin"), "back @U0ENG002", WED_NOON, ROUTING)
    assert "döndü" in out[0].text and not can.away  # Elif reads Turkish
    out = execute_command(s, auto, can, "away nobody-such", WED_NOON, ROUTING)
    assert "not a known support engineer" in out[0].text and not can.away


def test_out_of_hours_only_the_on_call_engineer_of_a_paging_cell(
        auto: Policy, s: Session) -> None:
    can = who(s, "Can Öztürk")
    oncall.add_rotation(s, "week", "primary", [can], WED_NOON - timedelta(days=1),
                        "Europe/Istanbul")
    paging = new(s, auto, WED_NIGHT, severity="S1")  # premium S1: a 24x7 cell that pages
    assert auto.pages("premium", "S1", paging.family, ClockKind.RESPONSE)
    choice = auto_assign(s, auto, paging, WED_NIGHT)
    assert choice is not None and choice.engineer == can and choice.reason == "on call"
    quiet = new(s, auto, WED_NIGHT, severity="S4")
    choice = auto_assign(s, auto, quiet, WED_NIGHT)
    assert choice is not None and choice.engineer is None and quiet.assignee_id is None
    note = tickets.events(s, quiet.id or 0)[-1]
    assert note.kind == "not-assigned" and "nobody working" in note.text


def test_the_event_comes_first_and_is_no_response(auto: Policy, s: Session,
                                                  tmp_path: Path) -> None:
    t = new(s, auto, WED_NOON, summary="Voice bot answers slowly since 7.2")
    older = new(s, auto, WED_NOON - timedelta(hours=1), summary="Voice bot answers slowly")
    ident = Identity(who(s, "Ayşe Demir"), directory.get_customer(s, "ACME"),
                     s.exec(select(Contract)).one(), "tr")
    choice = auto_assign(s, auto, t, WED_NOON)
    cfg = IntakeConfig(policy=auto, attachments_dir=tmp_path, routing=ROUTING)
    enqueue_cards(s, cfg, t, ident, directory.get_product(s, "Voice Bot"), WED_NOON, choice)
    s.flush()
    assert t.responded_at is None  # assignment is not the response (P3)
    ev = s.exec(select(TicketEvent).where(TicketEvent.ticket_id == t.id,
                                          TicketEvent.kind == "assigned")).one()
    assert ev.actor == AUTO_ACTOR and json.loads(ev.data or "{}")["auto"] is True
    card = s.exec(select(OutboxMessage).where(OutboxMessage.ticket_id == t.id)).one()
    assert ev.id is not None and card.id is not None
    assert f"Assigned automatically to {who(s, 'Deniz Yılmaz').name}" in card.text
    assert f"Possibly the same as #{older.id}" in card.text
    payload = json.loads(card.payload or "{}")
    assert payload["related"] == [older.id] and payload["assignee"] == t.assignee_id


def test_a_policy_team_and_a_bad_calendar(policy: Policy, s: Session) -> None:
    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8").replace(
        "  auto: false", "  auto: true").replace("  engineers: []", "  engineers: [Elif Şahin]")
    pol = parse_policy(text)
    t = new(s, pol, WED_NOON)
    choice = auto_assign(s, pol, t, WED_NOON)
    assert choice is not None and choice.engineer == who(s, "Elif Şahin")
    with pytest.raises(ValueError, match="assignment.calendar"):
        parse_policy(text.replace("  calendar: TR ", "  calendar: XX "))
