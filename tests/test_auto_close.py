"""Auto-close (issue #19 item 3), handlers level on SQLite and PostgreSQL: the reminder and the
close in the customer's business days, once; a customer's message before the close reopens the
ticket with reopen's clock rule; the policy's switch and its validation. The clock is moved,
never slept on."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, col, select

from handlers.auto_close import REMINDED_EVENT, SYSTEM_ACTOR, run_pass, schedule
from sla import PolicyError, load_policy, make_calendar
from sla.policy import DEFAULT_POLICY_PATH, parse_policy
from storage import outbox, tickets
from storage.db import session_scope
from storage.directory import customer_calendar
from storage.models import Customer, OutboxMessage, SurveyAnswer, Ticket, TicketEvent

from .test_conversation import engineer, kinds, report, rows
from .test_intake_dialog import AYSE, Driver, world  # noqa: F401


def _resolved(world: Driver) -> Ticket:
    ticket = report(world)
    engineer(world, f"resolve {ticket.id} Disk temizlendi, servis yeniden başlatıldı")
    with Session(world.engine) as s:
        fresh = s.get(Ticket, ticket.id)
        assert fresh is not None and fresh.status == "resolved"
        return fresh


def _plan(world: Driver, ticket: Ticket) -> tuple[datetime, datetime]:
    with Session(world.engine) as s:
        customer = s.get(Customer, ticket.customer_id)
        assert customer is not None and ticket.resolved_at is not None
        plan = schedule(world.cfg.policy, customer_calendar(customer), ticket.resolved_at)
    assert plan.remind_at is not None
    return plan.remind_at, plan.close_at


def _pass(world: Driver, at: datetime) -> tuple[list[int], list[int]]:
    world.clock.set(at)
    with session_scope(world.engine) as s:
        out = run_pass(s, world.cfg.policy, world.cfg.routing, at)
    return out.reminded, out.closed


def _ticket(world: Driver, number: int | None) -> Ticket:
    with Session(world.engine) as s:
        ticket = s.get(Ticket, number)
        assert ticket is not None
        return ticket


def test_business_days_are_counted_in_the_customers_calendar() -> None:
    """Five business days of the TR calendar (08:00-17:00 Istanbul, Monday-Friday): resolved
    on Friday 16:00 local, reminded the next Thursday 16:00, closed the next Friday 16:00."""
    policy = load_policy()
    calendar = make_calendar("TR")
    resolved = datetime(2026, 11, 27, 13, 0, tzinfo=UTC)  # Friday 16:00 in Istanbul
    plan = schedule(policy, calendar, resolved)
    assert plan.remind_at == datetime(2026, 12, 3, 13, 0, tzinfo=UTC)  # Thursday 16:00
    assert plan.close_at == datetime(2026, 12, 4, 13, 0, tzinfo=UTC)  # Friday 16:00
    # A reminder that went out late moves the close: one business day after the reminder.
    late = schedule(policy, calendar, resolved, datetime(2026, 12, 7, 6, 0, tzinfo=UTC))
    assert late.close_at == datetime(2026, 12, 8, 6, 0, tzinfo=UTC)


def test_reminded_once_then_closed_by_the_system_with_the_survey(world: Driver) -> None:
    ticket = _resolved(world)
    remind_at, close_at = _plan(world, ticket)
    assert _pass(world, remind_at - timedelta(minutes=1)) == ([], [])
    assert _pass(world, remind_at) == ([ticket.id], [])
    assert _pass(world, remind_at + timedelta(minutes=5)) == ([], [])  # once
    reminders = [m for m in rows(world, ticket) if ":auto-close:" in m.key]
    assert len(reminders) == 1
    assert "otomatik olarak kapatılacak" in reminders[0].text  # Ayşe reads Turkish
    assert reminders[0].target == AYSE
    assert [k for k, _ in kinds(world, ticket)].count(REMINDED_EVENT) == 1
    assert _pass(world, close_at - timedelta(minutes=1)) == ([], [])
    assert _pass(world, close_at) == ([], [ticket.id])
    assert _pass(world, close_at + timedelta(hours=1)) == ([], [])  # nothing twice
    closed = _ticket(world, ticket.id)
    assert closed.status == "closed" and closed.closed_at == close_at
    assert closed.resolved_at == ticket.resolved_at  # the resolution clock stopped at resolve
    with Session(world.engine) as s:
        event = s.exec(select(TicketEvent).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "closed")).one()
        survey = s.exec(select(SurveyAnswer).where(SurveyAnswer.ticket_id == ticket.id)).one()
    assert event.actor == SYSTEM_ACTOR and event.actor_id is None
    assert survey.stage == "asked" and survey.score is None
    texts = [m.text for m in rows(world, ticket)]
    assert any("kapatıldı" in x and "1" in x for x in texts)  # the survey, in Turkish


def test_a_late_first_pass_reminds_and_closes_a_business_day_later(world: Driver) -> None:
    ticket = _resolved(world)
    _, close_at = _plan(world, ticket)
    late = close_at + timedelta(days=3)
    assert _pass(world, late) == ([ticket.id], [])  # never closed without its reminder
    assert _pass(world, late + timedelta(hours=1)) == ([], [])
    with Session(world.engine) as s:
        customer = s.get(Customer, ticket.customer_id)
        assert customer is not None
        calendar = customer_calendar(customer)
    final = schedule(world.cfg.policy, calendar, ticket.resolved_at or late, late).close_at
    assert final > late
    assert _pass(world, final) == ([], [ticket.id])


def test_a_customer_message_before_the_close_reopens_the_ticket(world: Driver) -> None:
    ticket = _resolved(world)
    remind_at, close_at = _plan(world, ticket)
    _pass(world, remind_at)
    world.clock.set(remind_at + timedelta(hours=2))
    replies = world.send(AYSE, "Sorun yeniden başladı, kayıtlar yine boş")
    assert any(f"#{ticket.id}" in r.text for r in replies)
    reopened = _ticket(world, ticket.id)
    assert reopened.status == "open" and reopened.resolved_at is None
    with Session(world.engine) as s:
        pauses = tickets.pauses(s, ticket.id or 0)
    # reopen's rule: the resolved interval is waiting time; the clock keeps what it used.
    assert [(p.kind, p.started_at, p.ended_at) for p in pauses] == [
        ("reopen", ticket.resolved_at, remind_at + timedelta(hours=2))]
    events = kinds(world, ticket)
    assert ("follow-up", "Sorun yeniden başladı, kayıtlar yine boş") in events
    assert "reopened" in [k for k, _ in events]
    told = [m for m in rows(world, ticket) if "reopened" in m.text and m.target == "C0ENG"]
    assert told and "Sorun yeniden başladı" in told[0].text  # the engineers are told
    assert _pass(world, close_at + timedelta(days=10)) == ([], [])  # no longer resolved


def test_a_reply_to_the_resolved_message_reopens_it_too(world: Driver) -> None:
    """The platform ties the message to the ticket (a Telegram reply to our message)."""
    ticket = _resolved(world)
    with session_scope(world.engine) as s:
        resolved_msg = s.exec(select(OutboxMessage).where(
            OutboxMessage.ticket_id == ticket.id, OutboxMessage.target == AYSE)
            .order_by(col(OutboxMessage.id).desc())).first()
        assert resolved_msg is not None
        outbox.mark_sent(s, resolved_msg.id or 0, world.clock.now, "777")
    report(world, summary="Başka bir sorun: raporlar gecikiyor")  # a second, open ticket
    world.clock.advance(hours=1)
    world.send(AYSE, "Hâlâ çalışmıyor", thread="777")
    assert _ticket(world, ticket.id).status == "open"


def test_with_another_ticket_open_a_flat_message_is_no_reopen(world: Driver) -> None:
    ticket = _resolved(world)
    other = report(world, summary="Raporlar gecikiyor")
    world.clock.advance(hours=1)
    world.send(AYSE, "Bir not daha")
    assert _ticket(world, ticket.id).status == "resolved"
    assert ("follow-up", "Bir not daha") in kinds(world, other)


def test_disabled_auto_close_changes_nothing(world: Driver) -> None:
    text = DEFAULT_POLICY_PATH.read_text(encoding="utf-8").replace(
        "auto_close:\n  enabled: true", "auto_close:\n  enabled: false")
    world.cfg = replace(world.cfg, policy=parse_policy(text))
    ticket = _resolved(world)
    assert _pass(world, world.clock.now + timedelta(days=60)) == ([], [])
    assert _ticket(world, ticket.id).status == "resolved"


def test_the_policy_checks_its_auto_close_numbers() -> None:
    base = DEFAULT_POLICY_PATH.read_text(encoding="utf-8")
    assert load_policy().auto_close.business_days == 5
    bad = base.replace("remind_days_before: 1", "remind_days_before: 5")
    with pytest.raises(PolicyError, match="remind_days_before must be less"):
        parse_policy(bad)
    with pytest.raises(PolicyError, match="auto_close.business_days"):
        parse_policy(base.replace("business_days: 5", "business_days: 0"))


async def test_the_scheduler_service_runs_the_pass_as_of_its_clock(world: Driver) -> None:
    """The leader's service (``SchedulerService.auto_close``): reminded, then closed."""
    from bot.jobs.scheduler import SchedulerService

    ticket = _resolved(world)
    remind_at, close_at = _plan(world, ticket)
    svc = SchedulerService(settings=object(), engine=world.engine, policy=world.cfg.policy,
                           routing=world.cfg.routing, deliver=False, now=world.clock)
    try:
        world.clock.set(remind_at)
        assert (await svc.auto_close()).reminded == [ticket.id]
        world.clock.set(close_at)
        assert (await svc.auto_close()).closed == [ticket.id]
    finally:
        await svc.stop()
    assert _ticket(world, ticket.id).status == "closed"
