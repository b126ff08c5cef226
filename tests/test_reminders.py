"""Reminder planning (pure): thresholds at business instants, across weekends, holidays, pauses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from sla import ClockKind, Policy, TicketClocks, make_calendar
from sla.reminders import (
    fractions_for,
    next_threshold,
    plan_reminders,
)

IST = ZoneInfo("Europe/Istanbul")


def at(y: int, mo: int, d: int, h: int, mi: int = 0, tz: ZoneInfo = IST) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=tz)


def response(plan, kind=ClockKind.RESPONSE):  # type: ignore[no-untyped-def]
    return [(th.fraction, th.at) for th in plan if th.kind == kind]


def clocks(start: datetime, sev: str = "S2", plan: str = "standard", pauses=(),  # type: ignore[no-untyped-def]
           stops=None, cal: str = "TR") -> TicketClocks:
    return TicketClocks(plan, sev, None, make_calendar(cal), start, tuple(pauses), stops)


def test_thresholds_across_a_weekend(policy: Policy) -> None:
    # Standard S2 response 4 h, reported Friday 15:00: 2 h left on Friday, the rest on Monday.
    plan = plan_reminders(policy, clocks(at(2026, 11, 27, 15)), at(2026, 11, 27, 15))
    assert response(plan) == [
        (0.5, at(2026, 11, 27, 17)),  # lands exactly on the closing time: that closing time
        (0.75, at(2026, 11, 30, 9)),
        (0.9, at(2026, 11, 30, 9, 36)),
        (1.0, at(2026, 11, 30, 10)),
    ]
    assert all(th.deadline == at(2026, 11, 30, 10) for th in plan if th.kind == "response")


def test_thresholds_across_a_half_day_and_a_holiday(policy: Policy) -> None:
    # 28 Oct 2026 closes at 13:00, 29 Oct (Republic Day) is closed.
    plan = plan_reminders(policy, clocks(at(2026, 10, 28, 11)), at(2026, 10, 28, 11))
    assert response(plan) == [
        (0.5, at(2026, 10, 28, 13)),
        (0.75, at(2026, 10, 30, 9)),
        (0.9, at(2026, 10, 30, 9, 36)),
        (1.0, at(2026, 10, 30, 10)),
    ]


def test_thresholds_skip_a_pause(policy: Policy) -> None:
    start = at(2026, 11, 23, 9)
    pause = (at(2026, 11, 23, 10), at(2026, 11, 23, 14))
    plan = plan_reminders(policy, clocks(start, pauses=[pause]), at(2026, 11, 23, 15))
    assert response(plan) == [
        (0.5, at(2026, 11, 23, 15)),
        (0.75, at(2026, 11, 23, 16)),
        (0.9, at(2026, 11, 23, 16, 36)),
        (1.0, at(2026, 11, 23, 17)),
    ]


def test_open_pause_keeps_only_the_thresholds_reached_before_it(policy: Policy) -> None:
    start = at(2026, 11, 23, 9)
    plan = plan_reminders(policy, clocks(start, pauses=[(at(2026, 11, 23, 11, 30), None)]),
                          at(2026, 11, 23, 12))
    # 50 % (2 h) was reached at 11:00; nothing later exists while the pause lasts.
    assert response(plan) == [(0.5, at(2026, 11, 23, 11))]
    assert plan[0].deadline is None


def test_stopped_clock_has_no_thresholds(policy: Policy) -> None:
    start = at(2026, 11, 23, 9)
    stops = {ClockKind.RESPONSE: at(2026, 11, 23, 9, 30)}
    plan = plan_reminders(policy, clocks(start, stops=stops), at(2026, 11, 23, 10))
    assert response(plan) == []
    assert response(plan, ClockKind.WORKAROUND)  # the others still run
    # A stop recorded in the future of ``now`` does not stop it yet.
    later = plan_reminders(policy, clocks(start, stops=stops), at(2026, 11, 23, 9, 10))
    assert len(response(later)) == 4


def test_around_the_clock_cell_reminds_at_night(policy: Policy) -> None:
    # Premium S1 response is 30 m 24x7: a Saturday 02:00 report counts at once.
    start = at(2026, 11, 28, 2)
    plan = plan_reminders(policy, clocks(start, sev="S1", plan="premium"), start)
    assert response(plan) == [
        (0.5, at(2026, 11, 28, 2, 15)), (0.75, at(2026, 11, 28, 2, 22) + timedelta(seconds=30)),
        (0.9, at(2026, 11, 28, 2, 27)), (1.0, at(2026, 11, 28, 2, 30)),
    ]


@pytest.mark.parametrize("cal,tz", [("TR", "Europe/Istanbul"), ("US", "America/New_York"),
                                    ("ME", "Asia/Dubai")])
def test_business_clock_never_reminds_at_night(policy: Policy, cal: str, tz: str) -> None:
    calendar = make_calendar(cal)
    zone = ZoneInfo(calendar.tz)
    start = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
    for i in range(60):  # every 7 h 13 min over 18 days: all times of day and week
        s = start + timedelta(minutes=433 * i)
        for sev in ("S1", "S2", "S3"):
            plan = plan_reminders(policy, TicketClocks("standard", sev, None, calendar, s), s)
            for th in plan:
                local = th.at.astimezone(zone)
                assert local.weekday() in calendar.days
                opened = local.replace(hour=calendar.hours.open.hour, minute=0, second=0)
                closes = calendar.hours.close
                assert closes is not None
                closed = local.replace(hour=closes.hour, minute=closes.minute, second=0)
                assert opened < local <= closed or (local == opened and th.fraction == 0), th


def test_fractions_include_escalation_points(policy: Policy) -> None:
    assert fractions_for(policy, "S1", ClockKind.RESPONSE) == [0.5, 0.75, 0.9, 1.0]
    custom = policy.model_copy(update={"escalations": [
        *policy.escalations,
        type(policy.escalations[0])(clock=ClockKind.RESPONSE, severities=["S2"], at=0.6,
                                    notify_managers=True),
    ]})
    assert fractions_for(custom, "S2", ClockKind.RESPONSE) == [0.5, 0.6, 0.75, 0.9, 1.0]
    assert fractions_for(custom, "S3", ClockKind.RESPONSE) == [0.5, 0.75, 0.9, 1.0]


def test_next_threshold(policy: Policy) -> None:
    start = at(2026, 11, 27, 15)
    plan = plan_reminders(policy, clocks(start), start)
    nxt = next_threshold(plan, at(2026, 11, 27, 17))
    assert nxt is not None and (nxt.kind, nxt.fraction) == (ClockKind.RESPONSE, 0.75)
    assert nxt.label == "75%" and plan[-1].breach
