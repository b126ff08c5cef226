"""The admin CLI through its real entry point: records, tickets, calculator, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot import config
from bot.cli import load_commands
from tests.pg import database_url

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url(tmp_path / 'cli.db'))
    monkeypatch.delenv("DESTEK_POLICY", raising=False)
    config.get_settings.cache_clear()
    app = load_commands()
    runner = CliRunner()

    def run(*args: str, input: str | None = None, ok: bool = True):  # type: ignore[no-untyped-def]
        result = runner.invoke(app, list(args), input=input)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    run("db", "upgrade")
    yield run
    config.get_settings.cache_clear()


def test_describe_records_and_list_as_json(cli) -> None:  # type: ignore[no-untyped-def]
    cli("customer", "add", "ACME", "--calendar", "TR", "--language", "tr")
    cli("customer", "add", "NW", "--calendar", "US", "--tz", "America/Chicago")
    cli("product", "add", "Voice Bot", "--family", "conversational-ai")
    cli("version", "add", "Voice Bot", "4.2", "--released", "2024-05-01")
    r = cli("contract", "add", "ACME", "--plan", "premium", "--start", "2026-01-01",
            "--end", "2027-12-31", "--product", "Voice Bot")
    assert "covers Voice Bot" in r.output
    r = cli("contract", "add", "NW", "--plan", "standard", "--start", "2026-01-01",
            "--end", "2026-12-31")
    assert "covers every product" in r.output
    cli("contact", "add", "ACME", "Ayşe Demir", "--role", "customer", "--trained",
        "--telegram-id", "123", "--slack-id", "U123", "--language", "tr")
    customers = json.loads(cli("customer", "list", "--json").output)
    assert [(c["code"], c["tz"]) for c in customers] == [
        ("ACME", "Europe/Istanbul"), ("NW", "America/Chicago")]
    contacts = json.loads(cli("contact", "list", "--json").output)
    assert contacts[0]["name"] == "Ayşe Demir" and contacts[0]["telegram_id"] == 123
    assert contacts[0]["slack_id"] == "U123"
    assert contacts[0]["identities"] == [
        {"channel": "slack", "workspace": "", "external_id": "U123"},
        {"channel": "telegram", "workspace": "", "external_id": "123"}]
    # a platform id that is someone else's: one clear line, and no contact added
    r = cli("contact", "add", "ACME", "Mehmet Kaya", "--slack-id", "U999", "--telegram-id",
            "123", ok=False)
    assert r.exit_code != 0 and "Traceback" not in r.output
    assert "Telegram user 123 is already a contact: Ayşe Demir" in r.output
    cli("contact", "add", "-", "Deniz Yılmaz", "--role", "engineer", "--slack-id", "U999")
    table = cli("contact", "list").output
    assert "SLACK_ID" in table and "TELEGRAM_ID" in table and "U999" in table
    contacts = json.loads(cli("contact", "list", "--json").output)
    assert [(c["name"], c["slack_id"], c["telegram_id"]) for c in contacts] == [
        ("Ayşe Demir", "U123", 123), ("Deniz Yılmaz", "U999", None)]
    contracts = json.loads(cli("contract", "list", "--json").output)
    assert contracts[0]["plan"] == "premium" and contracts[0]["products"] == ["Voice Bot"]
    versions = json.loads(cli("version", "list", "--json").output)
    assert versions[0]["end_of_support"] == "2029-05-01"
    assert json.loads(cli("ticket", "list", "--json").output) == []


def test_bad_arguments_give_one_clear_line(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("customer", "add", "X", "--calendar", "MARS", ok=False)
    assert r.exit_code != 0 and "unknown calendar 'MARS'" in r.output
    assert "Traceback" not in r.output
    r = cli("contract", "add", "NOPE", "--plan", "premium", "--start", "2026-01-01",
            "--end", "2026-12-31", ok=False)
    assert r.exit_code != 0 and "unknown customer 'NOPE'" in r.output
    r = cli("contract", "add", "NOPE", "--plan", "premium", "--start", "01/02/2026",
            "--end", "2026-12-31", ok=False)
    assert "is not a date" in r.output
    r = cli("customer", "add", "Y", "--tz", "Mars/Olympus", ok=False)
    assert "unknown timezone" in r.output
    r = cli("ticket", "show", "42", ok=False)
    assert r.exit_code != 0 and "no ticket #42" in r.output
    r = cli("sla", "deadline", "--calendar", "XX", "--start", "2026-11-27T16:30:00+03:00",
            "--minutes", "60", ok=False)
    assert r.exit_code != 0 and "unknown calendar 'XX'" in r.output


def test_sla_deadline_single_and_batch(cli) -> None:  # type: ignore[no-untyped-def]
    r = cli("sla", "deadline", "--calendar", "TR", "--start", "2026-11-27T16:30:00+03:00",
            "--minutes", "240", "--pause", "2026-11-30T09:00:00+03:00/2026-11-30T10:00:00+03:00")
    assert r.output.strip() == "2026-11-30T12:30:00+03:00"
    r = cli("sla", "deadline", "--calendar", "US", "--tz", "America/Chicago",
            "--start", "2026-11-25T16:00:00-06:00", "--minutes", "120")
    assert r.output.strip() == "2026-11-27T09:00:00-06:00"  # Thanksgiving in between
    lines = "\n".join([
        json.dumps({"calendar": "TR", "tz": "Europe/Istanbul",
                    "start": "2026-11-27T16:30:00+03:00", "minutes": 240,
                    "pauses": [["2026-11-30T09:00:00+03:00", "2026-11-30T10:00:00+03:00"]]}),
        json.dumps({"calendar": "TR", "start": "2026-11-27T13:00:00+03:00", "minutes": 240}),
        json.dumps({"calendar": "NOPE", "start": "2026-11-27T13:00:00+03:00", "minutes": 1}),
        "not json",
        json.dumps({"calendar": "TR", "start": "2026-11-27T13:00:00", "minutes": 1}),
        json.dumps({"calendar": "ME", "start": "2026-11-27T13:00:00+04:00", "minutes": 60}),
    ]) + "\n"
    r = cli("sla", "deadline", input=lines)
    out = [json.loads(x) for x in r.output.splitlines()]
    assert out[0] == {"deadline": "2026-11-30T12:30:00+03:00"}
    assert out[1] == {"deadline": "2026-11-27T17:00:00+03:00"}  # exactly at closing
    assert "unknown calendar" in out[2]["error"]
    assert "not JSON" in out[3]["error"]
    assert "no UTC offset" in out[4]["error"]
    assert out[5] == {"deadline": "2026-11-29T09:00:00+04:00"}  # ME: Fri/Sat weekend
    # With a zone, a start without an offset is wall-clock time there; 24x7 answers in it too.
    r = cli("sla", "deadline", "--calendar", "TR", "--tz", "Europe/Istanbul",
            "--start", "2026-11-27T16:30:00", "--minutes", "60")
    assert r.output.strip() == "2026-11-30T08:30:00+03:00"
    r = cli("sla", "deadline", "--calendar", "24x7", "--tz", "America/Chicago",
            "--start", "2026-11-27T16:30:00", "--minutes", "60")
    assert r.output.strip() == "2026-11-27T17:30:00-06:00"
    r = cli("sla", "calendar", "TR", "--year", "2026")
    assert r.output.splitlines()[0] == (
        "TR: Europe/Istanbul, working days Mon Tue Wed Thu Fri, hours 08:00-17:00")
    r = cli("sla", "calendar", "ME", "--year", "2026")
    assert "working days Mon Tue Wed Thu Sun" in r.output
    assert "around the clock" in cli("sla", "calendar", "24x7", "--year", "2026").output


def test_bad_policy_file_is_one_line(cli, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "policy.yaml"
    text = (ROOT / "sla" / "default_policy.yaml").read_text(encoding="utf-8")
    bad.write_text(text.replace("S2: {response: 4h,", "S2: {response: 4x,", 1), encoding="utf-8")
    r = cli("policy", "check", str(bad), ok=False)
    assert r.exit_code != 0
    lines = [x for x in r.output.splitlines() if x.strip()]
    assert len(lines) == 1
    assert "plans.standard.targets.S2.response" in lines[0] and "'4x'" in lines[0]
    monkeypatch.setenv("DESTEK_POLICY", str(bad))
    config.get_settings.cache_clear()
    r = cli("product", "add", "X", "--family", "call-recording", ok=False)
    assert "plans.standard.targets.S2.response" in r.output


def test_console_script_entry_point(tmp_path: Path) -> None:
    """The installed `destek` entry point answers the batch format on stdin."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    case = {"calendar": "TR", "tz": "Europe/Istanbul", "start": "2026-11-27T16:30:00+03:00",
            "minutes": 240, "pauses": [["2026-11-30T09:00:00+03:00", "2026-11-30T10:00:00+03:00"]]}
    proc = subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", "sla", "deadline"],
        input=json.dumps(case) + "\n", capture_output=True, text=True, cwd=ROOT, env=env,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {"deadline": "2026-11-30T12:30:00+03:00"}
    proc = subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", "sla", "deadline",
         "--calendar", "XX", "--start", "2026-11-27T16:30:00+03:00", "--minutes", "1"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: unknown calendar 'XX': choose one of TR, ME, US, 24x7"]


@pytest.mark.parametrize("args, says", [
    (["ticket", "show", "abc"], "ticket show: Invalid value for 'number'"),
    (["contact", "add", "ACME", "X", "customer", "--telegram-id", "abc"],
     "contact add: Invalid value for '--telegram-id'"),
    (["report", "sla", "--month", "2026-10", "--out", "/missing/dir/r.md"],
     "No such file or directory: /missing/dir/r.md"),
    (["backup", "--keep-days", "3"], "keep at least 7 days of backups (P28)"),
    (["ticket", "show", "4242"], "no ticket #4242"),
    (["no-such-command"], "No such command 'no-such-command'"),
])
def test_bad_input_is_one_error_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    args: list[str], says: str,
) -> None:
    from bot.cli import main
    from storage.db import upgrade

    url = database_url(tmp_path / "x.db")
    upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["destek", *args])
    config.get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as exit_:
            main()
    finally:
        config.get_settings.cache_clear()
    err = capsys.readouterr().err
    assert exit_.value.code == 2, err
    assert err.splitlines() == [err.strip()] and err.startswith("error: ") and says in err
    assert not (tmp_path / "backups").exists()  # refused before anything was written


@pytest.mark.parametrize("today", ["2026-12-01T09:00:00+00:00", "2029-06-15T10:00:00+00:00",
                                   "2024-02-29T23:30:00+00:00", "2031-12-31T23:59:00+00:00"])
def test_demo_data_serves_on_any_day(sqlite_url: str, today: str) -> None:
    """`make demo` on any day: three customers under contract, Oldco's expired, and both a
    supported and an out-of-support version (the demo was dated 2026 before)."""
    from datetime import datetime

    from bot.demo import seed
    from sla import load_policy
    from storage import directory
    from storage.db import make_engine, session_scope

    now = datetime.fromisoformat(today)
    policy = load_policy()
    engine = make_engine(sqlite_url)
    with session_scope(engine, lambda: now) as s:
        assert seed(s, policy, now)
        day = now.date()
        in_force = {code: directory.active_contract(s, directory.get_customer(s, code).id or 0,
                                                    day) is not None
                    for code in ("ACME", "GULFBANK", "NORTHWIND", "OLDCO")}
        assert in_force == {"ACME": True, "GULFBANK": True, "NORTHWIND": True, "OLDCO": False}
        windows = [directory.support_window(v.released, policy.end_of_support_years, day).past
                   for v in directory.list_versions(s)]
        assert True in windows and False in windows
    engine.dispose()


def test_ticket_show_is_the_whole_report(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`ticket show N` (text and --json): every field, the attachments, the remote-access
    instructions, pauses, events and the conversation with public/internal marked; the keys
    scripts read before are all still there."""
    from datetime import UTC, datetime

    from sla import load_policy
    from storage.db import make_engine, session_scope

    from . import report_seed as rs

    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    engine = make_engine(database_url(tmp_path / "cli.db"))
    with session_scope(engine, lambda: now) as s:
        found = rs.seed_full(s, load_policy(), now, tmp_path / "files")
    engine.dispose()
    n = str(found.ticket)
    data = json.loads(cli("ticket", "show", n, "--json").output)
    assert {"number", "customer", "contact", "product", "version", "severity", "kind", "status",
            "tier", "plan", "assignee", "summary", "reported_at", "targets"} <= set(data)
    assert (data["number"], data["contact"], data["product"], data["version"]) == (
        found.ticket, rs.CONTACT, "Voice Bot", "4.2.1")
    assert data["reported_at"] == "2026-11-25T11:00:00+03:00" and data["timezone"] == \
        "Europe/Istanbul"
    assert set(data["targets"]) == {"response", "workaround", "resolution"}
    assert (data["steps"], data["error_text"], data["environment"]) == (
        rs.STEPS, rs.ERROR, "production")
    assert data["remote_access"] is True and data["remote_access_how"] == rs.ACCESS_HOW
    assert data["production_down"] is True and data["workaround_available"] is False
    assert (data["proposed_severity"], data["users_affected"], data["service_category"]) == (
        "S1", "100+", "Log analysis")
    assert data["attachments_missing_reason"] == "the pcap is too big"
    assert data["responded_at"] == "2026-11-25T11:20:00+03:00"
    assert [(a["filename"], a["content_type"], a["size"]) for a in data["attachments"]] == [
        ("trace.log", "text/plain", len(rs.TRACE)), ("screen shot.png", "image/png",
                                                    len(rs.PNG))]
    assert data["pauses"] == [{"started_at": "2026-11-25T11:25:00+03:00",
                               "ended_at": "2026-11-25T11:40:00+03:00", "kind": "customer",
                               "reason": "waiting for the logs"}]
    assert [e["kind"] for e in data["events"]] == [
        "opened", "paused", "customer-reply", "note", "reply", "follow-up"]
    assert [(c["kind"], c["visibility"], c["text"]) for c in data["conversation"]] == [
        ("customer-reply", "public", rs.ANSWER), ("note", "internal", rs.NOTE),
        ("reply", "public", rs.REPLY), ("follow-up", "public", rs.FOLLOW_UP)]
    text = cli("ticket", "show", n).output
    for shown in (f"      number: {n}", "     summary: IVR silent after greeting",
                  "Times in Europe/Istanbul.", "Steps to reproduce:", "  2. Press 1",
                  f"  {rs.ERROR}", "Environment: production",
                  f"  {rs.ACCESS_HOW}", "- trace.log (text/plain, 105 B)",
                  "- screen shot.png (image/png, 72 B)",
                  "- 2026-11-25 11:25 → 2026-11-25 11:40 customer: waiting for the logs",
                  f"[internal] {rs.ENGINEER} (note): {rs.NOTE}",
                  f"[public] {rs.ENGINEER} (reply): {rs.REPLY}",
                  "Audit trail:", "(paused): waiting for the logs"):
        assert shown in text, shown
    # 4h of business time, plus the 15 minutes' pause:
    assert "response: 4h, due 2026-11-25 15:15 (Europe/Istanbul), met" in text


def test_an_engineer_away_and_back(cli) -> None:  # type: ignore[no-untyped-def]
    """``destek contact away|back NAME`` (issue #19): away engineers are not auto-assigned."""
    cli("contact", "add", "-", "Deniz Yılmaz", "--role", "engineer", "--trained")
    assert "Deniz Yılmaz is away" in cli("contact", "away", "deniz").output
    assert "already away" in cli("contact", "away", "Deniz Yılmaz").output
    assert "Deniz Yılmaz is back" in cli("contact", "back", "Deniz").output
    r = cli("contact", "away", "Nobody", ok=False)
    assert r.exit_code == 2 and "not an active engineer" in r.output
