"""SLA scheduler core: job functions called directly with a ``now`` (no waiting), on SQLite and
PostgreSQL: thresholds enqueued once, escalations, rescheduling on every command, restart."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.jobs.scheduler import SchedulerService
from bot.jobs.sla_passes import SlaCore
from handlers.types import Destination, Routing
from sla import Policy
from storage import directory, tickets
from storage.db import session_scope
from storage.models import OutboxMessage, Ticket, TicketEvent, TicketPause

IST = ZoneInfo("Europe/Istanbul")
ROUTES = Routing(
    channels=("slack", "telegram"),
    engineers=(Destination("slack", "C0ENG"),), alerts=(Destination("slack", "C0ALERT"),
                                                        Destination("telegram", "-100500")),
    engineers_tz="Europe/Istanbul",
)


def at(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=IST)


def seed(engine: Engine, policy: Policy, reported: datetime, *, severity: str = "S2",
         plan: str = "standard", calendar: str = "TR", assigned: bool = True,
         code: str = "ACME") -> int:
    """A customer, an engineer, a manager and one ticket; returns the ticket number."""
    with session_scope(engine) as s:
        if directory.find_contact(s, "Deniz Yılmaz") is None:
            directory.add_contact(s, None, "Deniz Yılmaz", "engineer", True, "tr", "U0ENG001",
                                  9001)
            directory.add_contact(s, None, "Elif Şahin", "manager", True, "tr", "U0MGR001", 9101)
            directory.add_product(s, "Voice Bot", "conversational-ai")
        directory.add_customer(s, code, code, calendar, None, None, None, "tr")
        directory.add_contract(s, code, plan, date(2026, 1, 1), date(2027, 12, 31))
        contact = directory.add_contact(s, code, f"Ayşe {code}", "customer", True, "tr",
                                        f"U0{code}", None)
        customer = directory.get_customer(s, code)
        eng = directory.find_contact(s, "Deniz Yılmaz")
        ticket = tickets.open_ticket(
            s, policy, customer, contact, plan, "IVR answers with silence", severity,
            reported.astimezone(UTC), product=directory.get_product(s, "Voice Bot"),
            assignee_id=eng.id if assigned and eng else None,
        )
        return ticket.id or 0


def outbox_rows(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as s:
        return list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)))  # type: ignore[arg-type]


def test_reminders_at_business_instants_each_once(engine: Engine, policy: Policy) -> None:
    tid = seed(engine, policy, at(2026, 11, 27, 15))  # Friday 15:00, S2 response 4 h
    core = SlaCore(engine, policy, ROUTES)
    assert core.process_ticket(tid, at(2026, 11, 27, 16, 59)).enqueued == 0
    out = core.process_ticket(tid, at(2026, 11, 27, 17))
    assert out.enqueued == 1 and out.next[tid] == at(2026, 11, 30, 9)
    assert core.process_ticket(tid, at(2026, 11, 27, 17, 1)).enqueued == 0  # never twice
    (msg,) = outbox_rows(engine)
    assert (msg.channel, msg.target, msg.late) == ("slack", "U0ENG001", False)
    assert "%50" in msg.text and "yanıt" in msg.text  # the assignee's language (tr)
    assert msg.key.startswith(f"t{tid}:response:50%:")
    # Nothing over the weekend: the next threshold is Monday 09:00.
    assert core.process_ticket(tid, at(2026, 11, 29, 23)).enqueued == 0
    assert core.process_ticket(tid, at(2026, 11, 30, 9)).enqueued == 1
    assert core.process_ticket(tid, at(2026, 11, 30, 9, 36)).enqueued == 1


def test_breach_alert_escalation_and_tier(engine: Engine, policy: Policy) -> None:
    tid = seed(engine, policy, at(2026, 11, 23, 9))  # Monday, S2 response due 13:00
    core = SlaCore(engine, policy, ROUTES)
    for h, mi in [(11, 0), (12, 0), (12, 36)]:
        core.process_ticket(tid, at(2026, 11, 23, h, mi))
    before = len(outbox_rows(engine))
    out = core.process_ticket(tid, at(2026, 11, 23, 13, 0))
    rows = outbox_rows(engine)[before:]
    # Breach to both alert channels + escalation to the manager (policy: raise tier, notify).
    assert {(m.channel, m.target) for m in rows} == {
        ("slack", "C0ALERT"), ("telegram", "-100500"), ("slack", "U0MGR001")}
    alert = next(m for m in rows if m.target == "C0ALERT")
    assert "SLA breach" in alert.text and "ACME" in alert.text and "S2" in alert.text
    assert "4h" in alert.text and "Deniz Yılmaz" in alert.text
    manager = next(m for m in rows if m.target == "U0MGR001")
    assert "2. kademeye yükseltildi" in manager.text  # Turkish, tier raised
    assert out.enqueued == 3
    with Session(engine) as s:
        ticket = s.get(Ticket, tid)
        assert ticket is not None and ticket.tier == 2
        kinds = [e.kind for e in s.exec(select(TicketEvent).where(TicketEvent.ticket_id == tid))]
    assert kinds.count("tier-raised") == 1 and kinds.count("sla-breached") == 1
    # Again later: nothing new, tier unchanged.
    assert core.process_ticket(tid, at(2026, 11, 23, 15)).enqueued == 0
    with Session(engine) as s:
        assert s.get(Ticket, tid).tier == 2  # type: ignore[union-attr]


def test_unassigned_ticket_reminds_the_engineers_channel(engine: Engine, policy: Policy) -> None:
    tid = seed(engine, policy, at(2026, 11, 23, 9), assigned=False)
    SlaCore(engine, policy, ROUTES).process_ticket(tid, at(2026, 11, 23, 11))
    (msg,) = outbox_rows(engine)
    assert (msg.channel, msg.target) == ("slack", "C0ENG")
    assert "unassigned" in msg.text and "50%" in msg.text  # channel posts in English


def test_customers_never_get_reminders(engine: Engine, policy: Policy) -> None:
    tid = seed(engine, policy, at(2026, 11, 23, 9))
    core = SlaCore(engine, policy, ROUTES)
    for day in range(23, 31):
        core.process_ticket(tid, at(2026, 11, day, 18))
    assert outbox_rows(engine)
    assert all(m.target != "U0ACME" for m in outbox_rows(engine))


def _change(engine: Engine, tid: int, **fields: object) -> None:
    with session_scope(engine) as s:
        ticket = s.get(Ticket, tid)
        assert ticket is not None
        for k, v in fields.items():
            setattr(ticket, k, v)
        s.add(ticket)
        tickets.add_event(s, ticket, "changed", str(fields))


def test_reschedule_on_every_command(engine: Engine, policy: Policy) -> None:
    tid = seed(engine, policy, at(2026, 11, 23, 9))  # Monday 09:00, S2 standard
    svc = SchedulerService(engine=engine, policy=policy, routing=ROUTES, deliver=False,
                           settings=object())
    now = at(2026, 11, 23, 9, 30)
    assert svc.reschedule_ticket(tid, now) == at(2026, 11, 23, 11)
    assert svc.next_due() == at(2026, 11, 23, 11)

    # pause (waiting for the customer): every clock stops, no job left for the ticket
    with session_scope(engine) as s:
        s.add(TicketPause(ticket_id=tid, started_at=at(2026, 11, 23, 10), reason="logs"))
    _change(engine, tid, status="pending")
    assert svc.reschedule_ticket(tid, at(2026, 11, 23, 10)) is None
    assert svc.next_due() is None

    # resume at 12:00: 2 h paused, the 50 % reminder moves to 13:00
    with session_scope(engine) as s:
        p = tickets.open_pause(s, tid)
        assert p is not None
        p.ended_at = at(2026, 11, 23, 12)
        s.add(p)
    _change(engine, tid, status="open")
    assert svc.reschedule_ticket(tid, at(2026, 11, 23, 12)) == at(2026, 11, 23, 13)

    # reclassify to S1: standard S1 response 2 h → 50 % after 1 h of running time (12:00)
    # has passed, so it is sent now and the next is 75 % at 12:30
    _change(engine, tid, severity="S1")
    assert svc.reschedule_ticket(tid, at(2026, 11, 23, 12, 10)) == at(2026, 11, 23, 12, 30)
    assert [m.key.split(":")[2] for m in outbox_rows(engine)] == ["50%"]

    # acknowledge (response met): the next threshold is the workaround clock's
    _change(engine, tid, responded_at=at(2026, 11, 23, 12, 15))
    nxt = svc.reschedule_ticket(tid, at(2026, 11, 23, 12, 15))
    plan = SlaCore(engine, policy, ROUTES)
    with Session(engine) as s:
        th = [x for x in plan.plan_ticket(s, s.get(Ticket, tid), at(2026, 11, 23, 12, 15))  # type: ignore[arg-type]
              if x.at == nxt]
    assert th and th[0].kind == "workaround" and th[0].fraction == 0.5

    # workaround given: resolution clock next
    _change(engine, tid, workaround_at=at(2026, 11, 23, 12, 20))
    nxt = svc.reschedule_ticket(tid, at(2026, 11, 23, 12, 20))
    with Session(engine) as s:
        th = [x for x in plan.plan_ticket(s, s.get(Ticket, tid), at(2026, 11, 23, 12, 20))  # type: ignore[arg-type]
              if x.at == nxt]
    assert th and th[0].kind == "resolution"

    # resolved: nothing left
    _change(engine, tid, resolved_at=at(2026, 11, 23, 12, 30), status="resolved")
    assert svc.reschedule_ticket(tid, at(2026, 11, 23, 12, 30)) is None
    assert svc.next_due() is None

    # reopened: the resolution clock runs again
    _change(engine, tid, resolved_at=None, status="open")
    assert svc.reschedule_ticket(tid, at(2026, 11, 23, 13)) == nxt
    # the 75 % reminder of the response clock was never due (acknowledged first)
    assert [m.key.split(":")[2] for m in outbox_rows(engine)] == ["50%"]


def test_pause_after_a_threshold_does_not_repeat_it(engine: Engine, policy: Policy) -> None:
    tid = seed(engine, policy, at(2026, 11, 23, 9))
    core = SlaCore(engine, policy, ROUTES)
    assert core.process_ticket(tid, at(2026, 11, 23, 11, 5)).enqueued == 1  # 50 %
    with session_scope(engine) as s:
        s.add(TicketPause(ticket_id=tid, started_at=at(2026, 11, 23, 11, 30),
                          ended_at=at(2026, 11, 23, 14)))
    # the deadline moved, the 50 % instant did not: no second 50 % reminder
    assert core.process_ticket(tid, at(2026, 11, 23, 14, 5)).enqueued == 0
    out = core.process_ticket(tid, at(2026, 11, 23, 14, 31))  # 75 % at 14:30 now
    assert out.enqueued == 1


def test_restart_reconciles_overdue_thresholds_once_marked_late(
    engine: Engine, policy: Policy
) -> None:
    tid = seed(engine, policy, at(2026, 11, 23, 9))
    seed(engine, policy, at(2026, 11, 23, 16), code="GULF", calendar="ME")
    core = SlaCore(engine, policy, ROUTES)
    first = core.reconcile(at(2026, 11, 23, 11, 0, ))  # 50 % of #1 exactly now
    assert first.enqueued == 1 and first.late == 0 and first.tickets == 2
    # "down" from 11:00 to 14:00: 75 % (12:00), 90 % (12:36), breach (13:00) passed
    again = SlaCore(engine, policy, ROUTES).reconcile(at(2026, 11, 23, 14))
    rows = outbox_rows(engine)[1:]
    assert again.enqueued == len(rows) == again.late
    assert {m.key.split(":")[2] for m in rows} == {"75%", "90%", "breach"}
    assert all(m.late for m in rows) and all("late" in m.text or "gecikmeli" in m.text for m in rows)
    # another restart: nothing twice
    assert SlaCore(engine, policy, ROUTES).reconcile(at(2026, 11, 23, 14, 5)).enqueued == 0
    assert tid in again.next


def test_late_grace_is_a_policy_setting(engine: Engine, policy: Policy) -> None:
    from sla import PolicyError
    from sla.policy import DEFAULT_POLICY_PATH, parse_policy, parse_target

    seed(engine, policy, at(2026, 11, 23, 9))  # 50 % at 11:00
    tight = policy.model_copy(update={"late_after": parse_target("1m")})
    past_50 = at(2026, 11, 23, 11, 1) + timedelta(seconds=30)
    assert SlaCore(engine, policy, ROUTES).reconcile(past_50).late == 0
    # The next threshold of the same ticket, 90 s late: over the tighter one-minute grace.
    past_75 = at(2026, 11, 23, 12, 1) + timedelta(seconds=30)  # 75 % at 12:00
    out = SlaCore(engine, tight, ROUTES).reconcile(past_75)
    assert out.enqueued == 1 and out.late == 1
    assert policy.late_after_seconds == 120  # the shipped default
    with pytest.raises(PolicyError, match="late_after"):
        parse_policy(DEFAULT_POLICY_PATH.read_text(encoding="utf-8").replace(
            "late_after: 2m", "late_after: 2d"))


def test_reminders_say_the_time_actually_left(engine: Engine, policy: Policy) -> None:
    tid = seed(engine, policy, at(2026, 11, 23, 9))  # Monday, S2 response 4 h: due 13:00
    core = SlaCore(engine, policy, ROUTES)
    core.process_ticket(tid, at(2026, 11, 23, 11))  # 50 % on time
    assert "2sa 00dk kaldı" in outbox_rows(engine)[-1].text
    core.process_ticket(tid, at(2026, 11, 23, 12, 59) + timedelta(seconds=15))  # 45 s left
    late = outbox_rows(engine)[1:]
    assert len(late) == 2 and all("bir dakikadan az süre kaldı" in m.text for m in late)
    assert not any("0dk kaldı" in m.text for m in late)
    other = seed(engine, policy, at(2026, 11, 23, 9), code="BETA")
    core.process_ticket(other, at(2026, 11, 23, 13, 5))  # first seen after the breach
    reminders = [m for m in outbox_rows(engine) if m.key.startswith(f"t{other}:")
                 and ":breach:" not in m.key]
    assert len(reminders) == 3 and all("hiç süre kaldı" in m.text for m in reminders)


def test_digest_lists_open_tickets_by_remaining_time(engine: Engine, policy: Policy) -> None:
    a = seed(engine, policy, at(2026, 11, 23, 9))
    b = seed(engine, policy, at(2026, 11, 23, 8), code="BETA", severity="S1")
    core = SlaCore(engine, policy, ROUTES)
    assert core.digest(at(2026, 11, 24, 8)) == 1
    assert core.digest(at(2026, 11, 24, 8, 1)) == 0  # once a day
    (msg,) = outbox_rows(engine)
    assert msg.target == "C0ENG" and "2026-11-24" in msg.text
    lines = msg.text.splitlines()
    assert lines[1].startswith(f"#{b}") and lines[2].startswith(f"#{a}")
