"""The support policy (targets, overrides, validation) and a ticket's three clocks."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from sla import (
    ClockKind,
    ClockStatus,
    PolicyError,
    Target,
    TicketClocks,
    evaluate_clocks,
    format_duration,
    load_policy,
    make_calendar,
    parse_target,
)
from sla.policy import DEFAULT_POLICY_PATH

IST = ZoneInfo("Europe/Istanbul")
NY = ZoneInfo("America/New_York")
DXB = ZoneInfo("Asia/Dubai")
TR = make_calendar("TR")
H = 3600
R, W, S = ClockKind.RESPONSE, ClockKind.WORKAROUND, ClockKind.RESOLUTION


def tr(*a: int) -> datetime:
    return datetime(*a, tzinfo=IST)  # type: ignore[arg-type, misc]


@pytest.fixture(scope="module")
def policy():
    return load_policy()


def raw_default() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))


def write(tmp_path: Path, data: Any, name: str = "policy.yaml") -> Path:
    p = tmp_path / name
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
    p.write_text(text, encoding="utf-8")
    return p


def states(policy, clocks: TicketClocks, now: datetime):
    return {s.kind: s for s in evaluate_clocks(policy, clocks, now)}


# -- targets -------------------------------------------------------------------------------------


def test_default_policy_table(policy):
    def cell(plan, sev):
        return tuple(policy.target(plan, sev, None, k).label() for k in (R, W, S))

    assert cell("standard", "S1") == ("2h", "1d", "5d")
    assert cell("standard", "S2") == ("4h", "2d", "10d")
    assert cell("standard", "S3") == ("1d", "5d", "20d")
    assert cell("standard", "S4") == ("2d", "none", "next-release")
    assert cell("premium", "S1") == ("30m 24x7", "4h 24x7", "2d")
    assert cell("premium", "S2") == ("2h", "1d", "5d")
    assert cell("premium", "S3") == ("4h", "3d", "10d")
    assert cell("premium", "S4") == ("1d", "none", "next-release")


@pytest.mark.parametrize(
    "text, kind, amount, unit, a24",
    [
        ("30m", "duration", 30, "m", False),
        ("30 min", "duration", 30, "m", False),
        ("4h", "duration", 4, "h", False),
        ("2d", "duration", 2, "d", False),
        ("1.5h", "duration", 1.5, "h", False),
        ("30m 24x7", "duration", 30, "m", True),
        ({"target": "4h", "clock": "24x7"}, "duration", 4, "h", True),
        ({"target": "4h", "clock": "business"}, "duration", 4, "h", False),
        ("none", "none", 0, "m", False),
        (None, "none", 0, "m", False),
        ("next-release", "next-release", 0, "m", False),
    ],
)
def test_parse_target(text, kind, amount, unit, a24):
    t = parse_target(text)
    assert (t.kind, t.amount, t.unit, t.around_the_clock) == (kind, amount, unit, a24)


@pytest.mark.parametrize("text", ["30x", "h", "4", "-2h", "0m", "24x7", "soon", "2 weeks"])
def test_parse_target_rejects(text):
    with pytest.raises(ValueError):
        parse_target(text)


def test_d_is_one_full_business_day_of_the_calendar():
    two_d = parse_target("2d")
    assert two_d.seconds(TR.business_day_seconds) == 18 * H
    assert two_d.seconds(make_calendar("US", hours="09:00-18:00").business_day_seconds) == 18 * H
    assert two_d.seconds(make_calendar("TR", hours="08:00-12:00").business_day_seconds) == 8 * H
    assert parse_target("1d 24x7").seconds(24 * H) == 24 * H
    assert parse_target("90m").seconds(9 * H) == 90 * 60
    assert parse_target("1.5h").seconds(9 * H) == 90 * 60


def test_target_has_clock(policy):
    assert policy.target("standard", "S4", None, S).has_clock is False
    assert policy.target("standard", "S4", None, W).kind == "none"
    assert policy.target("standard", "S4", None, S).kind == "next-release"
    assert policy.target("standard", "S4", None, R).has_clock is True


def test_family_override(tmp_path):
    raw = raw_default()
    raw["families"]["call-recording"]["overrides"] = {
        "premium": {"S1": {"resolution": "1d", "workaround": "2h 24x7"}},
        "standard": {"S2": {"response": "1h"}},
    }
    pol = load_policy(write(tmp_path, raw))
    assert pol.target("premium", "S1", "call-recording", S).label() == "1d"
    assert pol.target("premium", "S1", "call-recording", W).label() == "2h 24x7"
    # cells not overridden come from the plan
    assert pol.target("premium", "S1", "call-recording", R).label() == "30m 24x7"
    assert pol.target("standard", "S2", "call-recording", R).label() == "1h"
    assert pol.target("standard", "S2", "call-recording", W).label() == "2d"
    # other families and no family are unchanged
    assert pol.target("premium", "S1", "conversational-ai", S).label() == "2d"
    assert pol.target("premium", "S1", None, S).label() == "2d"
    # and the override drives the deadline: 1d = 9 business hours from Fri 16:30
    clocks = TicketClocks("premium", "S1", "call-recording", TR, tr(2026, 11, 27, 16, 30))
    st = states(pol, clocks, tr(2026, 11, 27, 16, 45))
    assert st[S].deadline == tr(2026, 11, 30, 16, 30)
    assert st[W].deadline == tr(2026, 11, 27, 18, 30)
    assert st[W].around_the_clock


def test_override_can_switch_a_cell_off(tmp_path):
    raw = raw_default()
    raw["families"]["conversational-analytics"]["overrides"] = {
        "standard": {"S3": {"workaround": "none"}}
    }
    pol = load_policy(write(tmp_path, raw))
    assert pol.target("standard", "S3", "conversational-analytics", W).kind == "none"


def test_unknown_plan_severity_family_at_lookup(policy):
    with pytest.raises(PolicyError, match="unknown plan 'gold'"):
        policy.target("gold", "S1", None, R)
    with pytest.raises(PolicyError, match="unknown severity 'S9'"):
        policy.target("standard", "S9", None, R)
    with pytest.raises(PolicyError, match="unknown product family 'toasters'"):
        policy.target("standard", "S1", "toasters", R)


def test_default_policy_extras(policy):
    assert policy.reminders == [0.5, 0.75, 0.9]
    assert policy.end_of_support_years == 5
    assert policy.planned_work_notice_days == 7
    assert policy.severity_name("S1", "tr") == "Kritik"
    assert policy.severity_name("S1", "en") == "Critical"
    assert set(policy.families) == {
        "conversational-ai", "conversational-analytics", "call-recording"
    }


# -- a bad policy file: one line naming the key path and the problem ----------------------------


def _mutate(path: tuple[Any, ...], value: Any = None, delete: bool = False):
    def apply(d: dict[str, Any]) -> None:
        for key in path[:-1]:
            d = d[key]
        if delete:
            del d[path[-1]]
        else:
            d[path[-1]] = value
    return apply


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (_mutate(("plans", "standard", "targets", "S1", "response"), "30x"),
         "plans.standard.targets.S1.response: '30x' is not a target"),
        (_mutate(("plans", "premium", "targets", "S2", "workaround"), "0h"),
         "plans.premium.targets.S2.workaround: '0h' must be more than zero"),
        (_mutate(("colour",), "red"), "colour: unknown key"),
        (_mutate(("plans", "standard", "targets", "S1", "fix"), "2h"),
         "plans.standard.targets.S1.fix: unknown key"),
        (_mutate(("plans", "standard", "targets", "S1", "response"), {"target": "2h", "x": 1}),
         "plans.standard.targets.S1.response: unknown key 'x'"),
        (_mutate(("plans", "standard", "targets", "S1", "response"),
                 {"target": "2h", "clock": "weekly"}),
         "plans.standard.targets.S1.response: clock 'weekly' must be business or 24x7"),
        (_mutate(("plans", "standard", "targets", "S3"), delete=True),
         "plans.standard: targets for S3 are missing"),
        (_mutate(("plans", "standard", "targets", "S1", "workaround"), delete=True),
         "plans.standard.targets.S1.workaround: required key is missing"),
        (_mutate(("severities", "S2"), delete=True), "severities: severities S2 are missing"),
        (_mutate(("reminders",), [0.5, 1.5]),
         "reminders: threshold 1.5 must be between 0 and 1"),
        (_mutate(("reminders",), [0, 0.5]), "reminders: threshold 0.0 must be between 0 and 1"),
        (_mutate(("reminders",), [0.5, "soon"]), "reminders.1:"),
        (_mutate(("families", "call-recording", "overrides"),
                 {"gold": {"S1": {"resolution": "1d"}}}),
         "families.call-recording.overrides: unknown plan 'gold'"),
        (_mutate(("families", "call-recording", "overrides"),
                 {"premium": {"S9": {"resolution": "1d"}}}),
         "families.call-recording.overrides.premium: unknown severity 'S9'"),
        (_mutate(("families", "call-recording", "overrides"),
                 {"premium": {"S1": {"resolution": "1y"}}}),
         "families.call-recording.overrides.premium.S1.resolution: '1y' is not a target"),
        (_mutate(("escalations", 0, "at"), 2), "escalations.0.at:"),
        (_mutate(("escalations", 0, "severities"), ["S7"]),
         "escalations.0.severities: unknown severity 'S7'"),
        (_mutate(("end_of_support_years",), 0), "end_of_support_years:"),
    ],
)
def test_bad_policy_file(tmp_path, mutate, expected):
    raw = raw_default()
    mutate(raw)
    p = write(tmp_path, raw)
    with pytest.raises(PolicyError) as exc:
        load_policy(p)
    msg = str(exc.value)
    assert "\n" not in msg
    assert msg.startswith(f"policy file {p}: ")
    assert expected in msg


@pytest.mark.parametrize(
    "text, expected",
    [
        ("version: 1\nplans: [a, b\n", "line 3: expected ',' or ']'"),
        ("a: b: c\n", "line 1: mapping values are not allowed here"),
        ("a:\n\t- b\n", "line 2:"),
        ("- 1\n- 2\n", "expected a mapping at the top level"),
        ("", "expected a mapping at the top level"),
    ],
)
def test_invalid_yaml(tmp_path, text, expected):
    p = write(tmp_path, text)
    with pytest.raises(PolicyError) as exc:
        load_policy(p)
    assert "\n" not in str(exc.value)
    assert expected in str(exc.value)


def test_missing_file(tmp_path):
    with pytest.raises(PolicyError, match="not found") as exc:
        load_policy(tmp_path / "nope.yaml")
    assert "nope.yaml" in str(exc.value) and "\n" not in str(exc.value)


def test_unreadable_files_are_policy_errors(tmp_path):
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path)  # a directory
    p = tmp_path / "latin1.yaml"
    p.write_bytes(b"version: 1\nname: \xff\xfe\n")
    with pytest.raises(PolicyError, match="UTF-8") as exc:
        load_policy(p)
    assert "\n" not in str(exc.value)


def test_policy_error_is_a_value_error():
    assert issubclass(PolicyError, ValueError)


# -- a ticket's clocks ---------------------------------------------------------------------------


def test_premium_s1_from_friday_afternoon(policy):
    clocks = TicketClocks("premium", "S1", None, TR, tr(2026, 11, 27, 16, 30))
    st = states(policy, clocks, tr(2026, 11, 27, 16, 45))
    # response 30m 24x7 -> 17:00; workaround 4h 24x7 -> 20:30;
    # resolution 2d = 18 business hours: Fri 0.5h + Mon 9h + Tue 8.5h -> Tue 16:30
    assert st[R].deadline == tr(2026, 11, 27, 17, 0)
    assert st[W].deadline == tr(2026, 11, 27, 20, 30)
    assert st[S].deadline == tr(2026, 12, 1, 16, 30)
    assert st[S].deadline.isoformat() == "2026-12-01T16:30:00+03:00"
    assert (st[R].target_seconds, st[W].target_seconds, st[S].target_seconds) == (
        1800, 4 * H, 18 * H
    )
    assert st[R].around_the_clock and st[W].around_the_clock and not st[S].around_the_clock
    # 15 minutes in: half the response target
    assert st[R].elapsed == timedelta(minutes=15)
    assert st[R].remaining == timedelta(minutes=15)
    assert st[R].fraction == pytest.approx(0.5)
    assert st[S].fraction == pytest.approx(900 / (18 * H))
    assert all(s.status is ClockStatus.RUNNING for s in st.values())
    for s in st.values():
        assert s.deadline is not None and s.deadline.tzinfo == IST


def test_around_the_clock_cells_count_through_the_night(policy):
    clocks = TicketClocks("premium", "S1", None, TR, tr(2026, 11, 27, 16, 30))
    st = states(policy, clocks, tr(2026, 11, 27, 19, 30))
    assert st[R].status is ClockStatus.BREACHED
    assert st[W].elapsed == timedelta(hours=3)
    assert st[W].fraction == pytest.approx(0.75)
    assert st[W].status is ClockStatus.RUNNING
    # the business clock only saw Friday's last half hour
    assert st[S].elapsed == timedelta(minutes=30)


def test_standard_s1_us_across_thanksgiving(policy):
    us = make_calendar("US")
    start = datetime(2026, 11, 25, 16, tzinfo=NY)
    clocks = TicketClocks("standard", "S1", None, us, start)
    st = states(policy, clocks, start)
    # 2h: Wed 1h, Thu closed, Fri 09:00; 1d = 9h: Fri 16:00; 5d = 45h: Wed 1h + Fri 9 + Mon-Wed
    # 27 + Thu 8h -> Thu 2026-12-03 16:00
    assert st[R].deadline == datetime(2026, 11, 27, 9, tzinfo=NY)
    assert st[W].deadline == datetime(2026, 11, 27, 16, tzinfo=NY)
    assert st[S].deadline == datetime(2026, 12, 3, 16, tzinfo=NY)


def test_me_clock_across_weekend_and_national_day(policy):
    me = make_calendar("ME")
    start = datetime(2026, 12, 1, 15, tzinfo=DXB)
    clocks = TicketClocks("premium", "S2", None, me, start)
    st = states(policy, clocks, start)
    # 2h: Tue 15-17; 1d: Tue 2h, Wed/Thu National Day, Fri/Sat, Sun 08:00 + 7h = 15:00
    assert st[R].deadline == datetime(2026, 12, 1, 17, tzinfo=DXB)
    assert st[W].deadline == datetime(2026, 12, 6, 15, tzinfo=DXB)


def test_status_met_and_breached_at_the_deadline(policy):
    start = tr(2026, 11, 30, 9)
    deadline = tr(2026, 11, 30, 11)  # standard S1 response: 2h
    met = TicketClocks("standard", "S1", None, TR, start, stops={R: deadline})
    st = states(policy, met, tr(2026, 12, 5, 0))
    assert st[R].status is ClockStatus.MET  # stop == deadline is met
    assert st[R].stopped_at == deadline
    assert st[R].fraction == pytest.approx(1.0)
    assert st[R].remaining == timedelta(0)
    assert not st[R].running
    late = TicketClocks("standard", "S1", None, TR, start,
                        stops={R: deadline + timedelta(seconds=1)})
    st = states(policy, late, tr(2026, 12, 5, 0))
    assert st[R].status is ClockStatus.BREACHED and st[R].breached
    assert st[R].remaining == timedelta(seconds=-1)


def test_status_breached_while_running(policy):
    clocks = TicketClocks("standard", "S1", None, TR, tr(2026, 11, 30, 9))
    st = states(policy, clocks, tr(2026, 11, 30, 11))
    assert st[R].status is ClockStatus.RUNNING  # exactly at the deadline: not yet breached
    st = states(policy, clocks, tr(2026, 11, 30, 11, 0, 1))
    assert st[R].status is ClockStatus.BREACHED
    assert st[R].running  # breached but still ticking
    assert st[R].remaining == timedelta(seconds=-1)
    assert st[R].fraction > 1


def test_status_paused_and_resumed(policy):
    start = tr(2026, 11, 30, 9)
    pauses = ((tr(2026, 11, 30, 10), tr(2026, 11, 30, 12)),)
    clocks = TicketClocks("standard", "S1", None, TR, start, pauses=pauses)
    st = states(policy, clocks, tr(2026, 11, 30, 11))
    assert st[R].status is ClockStatus.PAUSED
    assert st[R].deadline == tr(2026, 11, 30, 13)  # 1h, paused 2h, 1h
    assert st[R].elapsed == timedelta(hours=1)
    st = states(policy, clocks, tr(2026, 11, 30, 12, 30))
    assert st[R].status is ClockStatus.RUNNING
    assert st[R].elapsed == timedelta(hours=1, minutes=30)
    assert st[R].remaining == timedelta(minutes=30)


def test_open_pause_has_no_deadline(policy):
    start = tr(2026, 11, 30, 9)
    clocks = TicketClocks("standard", "S2", None, TR, start,
                          pauses=((tr(2026, 11, 30, 10), None),))
    st = states(policy, clocks, tr(2026, 12, 7, 9))
    for kind in (R, W, S):
        assert st[kind].deadline is None
        assert st[kind].status is ClockStatus.PAUSED
        assert st[kind].elapsed == timedelta(hours=1)
    assert st[R].remaining == timedelta(hours=3)


def test_open_pause_after_a_breach_stays_breached(policy):
    start = tr(2026, 11, 30, 9)
    clocks = TicketClocks("standard", "S1", None, TR, start,
                          pauses=((tr(2026, 11, 30, 12), None),))
    st = states(policy, clocks, tr(2026, 11, 30, 13))
    assert st[R].deadline == tr(2026, 11, 30, 11)
    assert st[R].status is ClockStatus.BREACHED


def test_no_target_cells(policy):
    clocks = TicketClocks("standard", "S4", None, TR, tr(2026, 11, 30, 8))
    st = states(policy, clocks, tr(2026, 11, 30, 10))
    for kind in (W, S):
        assert st[kind].status is ClockStatus.NO_TARGET
        assert st[kind].deadline is None
        assert st[kind].fraction is None
        assert st[kind].remaining is None
        assert st[kind].target_seconds is None
    assert st[W].target.kind == "none"
    assert st[S].target.kind == "next-release"
    # S4 response 2d = 18 business hours from Mon 08:00 -> Tue 17:00 (closing time)
    assert st[R].deadline == tr(2026, 12, 1, 17)
    assert st[R].status is ClockStatus.RUNNING


def test_evaluate_with_a_custom_hours_calendar(policy):
    cal = make_calendar("TR", hours="08:00-12:00")  # d = 4h
    clocks = TicketClocks("standard", "S3", None, cal, tr(2026, 11, 30, 8))
    st = states(policy, clocks, tr(2026, 11, 30, 8))
    assert st[R].target_seconds == 4 * H
    assert st[R].deadline == tr(2026, 11, 30, 12)
    assert st[W].target_seconds == 20 * H  # 5d
    assert st[W].deadline == tr(2026, 12, 4, 12)


def test_stops_are_reported_in_the_calendar_timezone(policy):
    stop = datetime(2026, 11, 30, 7, tzinfo=ZoneInfo("UTC"))  # 10:00 Istanbul
    clocks = TicketClocks("standard", "S1", None, TR, tr(2026, 11, 30, 9), stops={R: stop})
    st = states(policy, clocks, tr(2026, 11, 30, 15))
    assert st[R].stopped_at == stop and st[R].stopped_at.tzinfo == IST
    assert st[R].elapsed == timedelta(hours=1)
    assert st[R].status is ClockStatus.MET


def test_format_duration():
    assert format_duration(timedelta(hours=2, minutes=5)) == "2h 05m"
    assert format_duration(timedelta(minutes=7)) == "7m"
    assert format_duration(timedelta(minutes=-90)) == "-1h 30m"
    assert format_duration(timedelta(hours=2, minutes=5), "tr") == "2sa 05dk"
    assert format_duration(None) == "—"


def test_target_model_is_frozen():
    t = parse_target("2h")
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen error
        t.amount = 3  # type: ignore[arg-type, misc]
    assert t == Target(kind="duration", amount=2, unit="h")


def test_policy_is_immutable_and_copyable(policy):
    assert copy.deepcopy(policy) == policy


def test_naive_instants_are_rejected(policy):
    clocks = TicketClocks("standard", "S1", None, TR, tr(2026, 11, 30, 9))
    with pytest.raises(ValueError, match="naive"):
        evaluate_clocks(policy, clocks, datetime(2026, 11, 30, 10))
    naive_start = TicketClocks("standard", "S1", None, TR, datetime(2026, 11, 30, 9))
    with pytest.raises(ValueError, match="naive"):
        evaluate_clocks(policy, naive_start, tr(2026, 11, 30, 10))


def test_stopping_a_clock_without_target(policy):
    stop = datetime(2026, 11, 30, 8, tzinfo=ZoneInfo("UTC"))
    clocks = TicketClocks("standard", "S4", None, TR, tr(2026, 11, 30, 9), stops={S: stop})
    st = states(policy, clocks, tr(2026, 11, 30, 15))
    assert st[S].status is ClockStatus.MET
    assert st[S].stopped_at == stop and st[S].stopped_at.tzinfo == IST
    assert st[S].elapsed == timedelta(hours=2)
