"""Planned work (P19): the notice rule across a holiday, the customer's command, the list."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from typer.testing import CliRunner

from handlers.planned_work import (
    check_notice,
    earliest_acceptable,
    parse_request,
    parse_window,
    plan_command,
    planned_reply,
)
from handlers.types import Destination, Routing
from sla import Policy, make_calendar
from storage import directory
from storage.db import session_scope
from storage.models import OutboxMessage, PlannedWork
from tests.pg import database_url

TR = make_calendar("TR")
ROUTING = Routing(engineers=(Destination("slack", "C0ENG"), Destination("telegram", "-100")))


def test_notice_rule_across_a_holiday() -> None:
    # Thu 2026-10-22: a week later is Thu 29 October, Republic Day (closed in Turkey):
    # refused, the first business day after it (Fri 30) is proposed.
    d = check_notice(TR, date(2026, 10, 22), date(2026, 10, 29), 7)
    assert (d.ok, d.reason, d.earliest, d.why) == (False, "not_business_day",
                                                   date(2026, 10, 30), "Republic Day")
    # Six days' notice is too short even on a business (half) day: earliest is the 30th.
    d = check_notice(TR, date(2026, 10, 22), date(2026, 10, 28), 7)
    assert (d.ok, d.reason, d.earliest) == (False, "too_soon", date(2026, 10, 30))
    assert check_notice(TR, date(2026, 10, 22), date(2026, 10, 30), 7).ok
    # Eid al-Adha 2026: 26 May half day (a business day), 27–30 May closed, 31 a Sunday.
    assert earliest_acceptable(TR, date(2026, 5, 19), 7) == date(2026, 5, 26)
    assert earliest_acceptable(TR, date(2026, 5, 20), 7) == date(2026, 6, 1)
    # The same dates on the US calendar: 29 Oct is an ordinary Thursday there.
    assert check_notice(make_calendar("US"), date(2026, 10, 22), date(2026, 10, 29), 7).ok
    # Weekend: Saturday is refused, Monday proposed.
    d = check_notice(TR, date(2026, 11, 2), date(2026, 11, 14), 7)
    assert (d.reason, d.earliest, d.why) == ("not_business_day", date(2026, 11, 16), "weekend")


def test_parsing() -> None:
    assert parse_window("22:00-02:00") == "22:00-02:00"
    assert parse_window("9:30-11:00") == "09:30-11:00"
    assert parse_window("22:00-22:00") is None and parse_window("25:00-01:00") is None
    req = parse_request("Voice Bot 4.3 2026-12-10 22:00-02:00")
    assert not isinstance(req, tuple)
    assert (req.product, req.version, req.day, req.window) == (
        "Voice Bot", "4.3", date(2026, 12, 10), "22:00-02:00")
    assert parse_request("Voice Bot 4.3 10.12.2026 22:00-02:00") == (
        "plan.bad_date", {"text": "10.12.2026"})
    assert parse_request("Voice Bot 4.3")[0] == "plan.usage"  # type: ignore[index]


def seed(engine: Engine) -> None:
    with session_scope(engine) as s:
        directory.add_product(s, "Voice Bot", "conversational-ai")
        directory.add_product(s, "Call Recorder", "call-recording")
        directory.add_customer(s, "ACME", "Acme", "TR", language="tr")
        directory.add_customer(s, "GULF", "Gulf", "ME")
        directory.add_contract(s, "ACME", "premium", date(2026, 1, 1), date(2027, 12, 31))
        directory.add_contract(s, "GULF", "standard", date(2026, 1, 1), date(2027, 12, 31),
                               ["Call Recorder"])
        directory.add_contact(s, "ACME", "Ayşe Demir", trained=True, language="tr",
                              telegram_id=1001)
        directory.add_contact(s, "ACME", "Mehmet Kaya", language="tr", telegram_id=1002)
        directory.add_contact(s, "GULF", "Omar", trained=True, language="en", slack_id="U0GULF")


def test_customer_plan_command(engine: Engine, policy: Policy) -> None:
    seed(engine)
    now = datetime(2026, 10, 22, 9, 0, tzinfo=UTC)  # Thursday 12:00 in Istanbul
    with session_scope(engine) as s:
        r = plan_command(s, policy, "telegram", "1001",
                         "plan Voice Bot 4.3 2026-10-29 22:00-02:00", now, ROUTING)
        assert "2026-10-30 (Cuma)" in r.text and "Republic Day" in r.text
        r = plan_command(s, policy, "telegram", "1001",
                         "plan Voice Bot 4.3 2026-10-27 22:00-02:00", now, ROUTING)
        assert "en az 7 gün önceden" in r.text and r.meta["earliest"] == "2026-10-30"
        assert plan_command(s, policy, "telegram", "1001", "plan", now, ROUTING
                            ).text.startswith("Planlı bir çalışmayı")
        assert "YYYY-AA-GG" in plan_command(s, policy, "telegram", "1001",
                                            "plan Voice Bot 4.3 29/10 22:00-02:00", now).text
        # Not trained (P12): refused, nothing stored.
        assert "eğitim" in plan_command(s, policy, "telegram", "1002",
                                        "plan Voice Bot 4.3 2026-11-02 22:00-02:00", now).text
        # GULF's contract does not cover Voice Bot.
        r = plan_command(s, policy, "slack", "U0GULF",
                         "plan Voice Bot 4.3 2026-11-02 22:00-02:00", now, ROUTING)
        assert "Call Recorder" in r.text and "Voice Bot" in r.text
        assert not s.exec(select(PlannedWork)).all()
        assert not s.exec(select(OutboxMessage)).all()
        r = plan_command(s, policy, "telegram", "1001",
                         "plan voice bot 4.3 2026-10-30 22:00-02:00", now, ROUTING)
        assert "#1" in r.text and "Voice Bot 4.3" in r.text and "Europe/Istanbul" in r.text
        work = s.exec(select(PlannedWork)).one()
        assert (work.day, work.window, work.version) == (date(2026, 10, 30), "22:00-02:00", "4.3")
        sent = s.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        assert [(m.channel, m.target) for m in sent] == [("slack", "C0ENG"), ("telegram", "-100")]
        assert "ACME will install Voice Bot 4.3 on 2026-10-30" in sent[0].text
        listing = planned_reply(s, now)
        assert "#1 2026-10-30 22:00-02:00 (Europe/Istanbul) ACME: Voice Bot 4.3" in listing.text
        assert planned_reply(s, datetime(2026, 12, 1, tzinfo=UTC)).text == "No planned work ahead."


def test_planned_list_cli(tmp_path, monkeypatch: pytest.MonkeyPatch, policy: Policy) -> None:  # type: ignore[no-untyped-def]
    from bot import config
    from bot.cli import load_commands
    from storage.db import make_engine, upgrade

    url = database_url(tmp_path / 'p.db')
    upgrade(url)
    engine = make_engine(url)
    seed(engine)
    with session_scope(engine) as s:
        plan_command(s, policy, "telegram", "1001", "plan Voice Bot 4.3 2026-12-10 22:00-02:00",
                     datetime(2026, 11, 2, 9, tzinfo=UTC))
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    config.get_settings.cache_clear()
    try:
        out = CliRunner().invoke(load_commands(), ["planned", "list", "--all", "--json"])
        assert out.exit_code == 0, out.output
        rows = json.loads(out.output)
        assert [(r["customer"], r["product"], r["day"]) for r in rows] == [
            ("ACME", "Voice Bot", "2026-12-10")]
    finally:
        config.get_settings.cache_clear()
