"""The monthly SLA report on a hand-built month, every number checked against a hand count.

Customer ACME, TR calendar (Europe/Istanbul, UTC+3, Mon–Fri 08:00–17:00), Standard plan:
S1 2h / 1d / 5d, S2 4h / 2d / 10d, S3 1d / 5d / 20d, S4 2d / none / next-release
(1d = 9 business hours). October 2026: Wed 28 is a half day (closes 13:00), Thu 29 is
Republic Day (closed), weekends 24–25 and 31 Oct–1 Nov. The report is taken as of
Mon 2026-11-02 12:00 local (09:00 UTC).

T1 S2 call-recording, reported Fri 23 15:00.
   response due: Fri 15–17 (2h) + Mon 26 08–10 (2h) = Mon 10:00; responded Mon 09:30
   → met, 2h + 1h30 = 3h30m.
   workaround 18h due: Fri 2 + Mon 9 + Tue 7 = Tue 27 15:00; given Tue 16:00
   → breached, 2 + 9 + 8 = 19h.
   waiting (P17): Tue 27 16:30 → Wed 28 10:00 = 0h30 (Tue) + 2h (Wed 08–10) = 2h30m business,
   17h30m clock time.
   resolved Fri 30 12:00 → 2 + 9 + 8h30 (Tue to 16:30) + 3 (Wed 10–13) + 0 (Thu) + 4 (Fri)
   = 26h30m, target 90h → met.
T2 S2 call-recording, reported Wed 28 11:00 (half day).
   response due: Wed 11–13 (2h) + Fri 30 08–10 (2h) = Fri 10:00; responded Fri 10:30
   → breached, 4h30m.
   workaround due 18h: Wed 2 + Fri 9 + Mon 7 = Mon 2 Nov 15:00 → pending at 12:00.
   resolution → pending. A written exception (P18) is recorded on it.
T3 S3 call-recording, reported Sat 24 10:00 (counts from Mon 08:00).
   response 9h due Mon 26 17:00; responded Mon 08:45 → met, 45m.
   no workaround; resolved Fri 30 17:00 stops workaround and resolution:
   Mon 9 + Tue 9 + Wed 5 + Fri 9 = 32h → met (45h, 180h).
T4 S1 conversational-ai, reported Thu 29 09:00 (holiday: counts from Fri 08:00).
   response 2h due Fri 10:00, nothing yet → breached (running).
   workaround 9h due Fri 17:00 → breached (running). resolution 45h → pending.
T5 S4 call-recording, reported Sat 31 Oct 23:30 local = 20:30 UTC: October locally.
   response 18h from Mon 08:00 → pending; workaround none, resolution next-release: no target.
T6 S2 reported Sun 1 Nov 00:30 local = Sat 31 Oct 21:30 UTC: November locally → left out.
T7 service request reported Thu 1 Oct 00:10 local = Wed 30 Sep 21:10 UTC → in, no clock.

Totals:  response   met 2 (T1 T3) breached 2 (T2 T4) pending 1 (T5) → 50.0 %
                    stopped: 45m, 3h30m, 4h30m → median 3h30m, p90 (rank 3 of 3) 4h30m
         workaround met 1 (T3) breached 2 (T1 T4) pending 1 (T2)    → 33.3 %
                    stopped: 19h, 32h → median 25h30m, p90 (rank 2 of 2) 32h
         resolution met 2 (T1 T3) breached 0 pending 2 (T2 T4)     → 100.0 %
                    stopped: 26h30m, 32h → median 29h15m, p90 32h
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from bot import config
from bot.cli import load_commands
from bot.report_render import render, render_png, to_csv, to_markdown
from handlers.reports import ChartMaker, monthly_report, parse_report_args, report_reply
from sla import ClockKind, Policy
from sla.attainment import Month, percentile
from storage import directory, tickets
from storage.db import session_scope
from storage.models import AIUsage, TicketKind, TicketPause
from tests.pg import database_url

TR = timezone(timedelta(hours=3))
H = 3600


def at(day: int, hour: int, minute: int = 0, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TR)


AS_OF = at(2, 12, month=11)


def build_month(engine: Engine, policy: Policy) -> None:
    with session_scope(engine) as s:
        directory.add_product(s, "Call Recorder", "call-recording")
        directory.add_product(s, "Voice Bot", "conversational-ai")
        directory.add_customer(s, "ACME", "Acme", "TR", language="tr")
        directory.add_customer(s, "NW", "Northwind", "US", "America/Chicago")
        directory.add_contract(s, "ACME", "standard", date(2026, 1, 1), date(2027, 12, 31))
        directory.add_contract(s, "NW", "standard", date(2026, 1, 1), date(2027, 12, 31))
        acme = directory.get_customer(s, "ACME")
        nw = directory.get_customer(s, "NW")
        ayse = directory.add_contact(s, "ACME", "Ayşe", trained=True, language="tr")
        jane = directory.add_contact(s, "NW", "Jane", trained=True)
        rec = directory.get_product(s, "Call Recorder")
        bot = directory.get_product(s, "Voice Bot")

        def ticket(sev: str, reported: datetime, product=rec, **kw):  # type: ignore[no-untyped-def]
            return tickets.open_ticket(s, policy, acme, ayse, "standard", f"{sev} case", sev,
                                       reported.astimezone(UTC), product=product, **kw)

        t1 = ticket("S2", at(23, 15))
        t1.responded_at = at(26, 9, 30)
        t1.workaround_at = at(27, 16)
        t1.resolved_at = at(30, 12)
        s.add(TicketPause(ticket_id=t1.id, started_at=at(27, 16, 30), ended_at=at(28, 10),
                          reason="waiting for the customer's logs"))
        t2 = ticket("S2", at(28, 11))
        t2.responded_at = at(30, 10, 30)
        tickets.add_event(s, t2, "exception", "Remote access was down; agreed in writing.",
                          at=at(30, 11))
        t3 = ticket("S3", at(24, 10))
        t3.responded_at = at(26, 8, 45)
        t3.resolved_at = at(30, 17)
        ticket("S1", at(29, 9), product=bot)
        ticket("S4", at(31, 23, 30))
        ticket("S2", at(1, 0, 30, month=11))
        ticket("S4", at(1, 0, 10), kind=TicketKind.SERVICE_REQUEST)
        # Another customer's ticket: in the "all" report, not in ACME's.
        tickets.open_ticket(s, policy, nw, jane, "standard", "NW case", "S3",
                            datetime(2026, 10, 14, 15, tzinfo=UTC), product=rec)
        s.add(AIUsage(at=at(5, 10), customer_id=acme.id, model="gpt-4o-mini",
                      prompt_tokens=1200, completion_tokens=300, outcome="ok"))
        s.add(AIUsage(at=at(6, 10), customer_id=acme.id, model="gpt-4o-mini",
                      prompt_tokens=800, completion_tokens=0, outcome="timeout"))
        s.add(AIUsage(at=at(1, 1, month=11), customer_id=acme.id, model="gpt-4o-mini",
                      prompt_tokens=999, completion_tokens=999, outcome="ok"))


def row(report, severity: str, kind: ClockKind):  # type: ignore[no-untyped-def]
    return next(r for r in report.targets if r.severity == severity and r.kind == kind)


def test_percentile_nearest_rank() -> None:
    assert percentile([], 0.9) is None
    assert percentile([5.0], 0.9) == 5.0
    assert percentile([float(x) for x in range(1, 11)], 0.9) == 9.0
    assert percentile([float(x) for x in range(1, 12)], 0.9) == 10.0


def test_month_arithmetic_to_the_minute(engine: Engine, policy: Policy) -> None:
    build_month(engine, policy)
    with session_scope(engine) as s:
        report = monthly_report(s, policy, Month(2026, 10), "ACME", AS_OF)
    assert [f.id for f in report.tickets] == [1, 2, 3, 4, 5, 7]
    assert report.by_severity == {"S1": 1, "S2": 2, "S3": 1, "S4": 2}
    assert report.by_family == {"call-recording": 5, "conversational-ai": 1}
    assert report.by_severity_family[("S2", "call-recording")] == 2
    assert report.service_requests == 1

    resp = row(report, "ALL", ClockKind.RESPONSE)
    assert (resp.met, resp.breached, resp.pending) == (2, 2, 1)
    assert resp.attainment == 50.0
    assert resp.median_seconds == 3.5 * H and resp.p90_seconds == 4.5 * H
    work = row(report, "ALL", ClockKind.WORKAROUND)
    assert (work.met, work.breached, work.pending) == (1, 2, 1)
    assert work.attainment == pytest.approx(100 / 3)
    assert work.median_seconds == 25.5 * H and work.p90_seconds == 32 * H
    res = row(report, "ALL", ClockKind.RESOLUTION)
    assert (res.met, res.breached, res.pending) == (2, 0, 2)
    assert res.attainment == 100.0
    assert res.median_seconds == 29.25 * H and res.p90_seconds == 32 * H

    s2 = row(report, "S2", ClockKind.RESPONSE)
    assert (s2.met, s2.breached, s2.pending, s2.attainment) == (1, 1, 0, 50.0)
    s1 = row(report, "S1", ClockKind.WORKAROUND)
    assert (s1.met, s1.breached, s1.pending, s1.attainment) == (0, 1, 0, 0.0)
    assert report.attainment("S3") == 100.0
    assert report.attainment() == pytest.approx(100 * 5 / 9)  # 5 met of 9 decided

    clocks = {(c.ticket_id, c.kind): c for c in report.clocks}
    assert clocks[(1, ClockKind.RESPONSE)].elapsed_seconds == 3.5 * H
    assert clocks[(1, ClockKind.WORKAROUND)].elapsed_seconds == 19 * H
    assert clocks[(1, ClockKind.RESOLUTION)].elapsed_seconds == 26.5 * H
    assert clocks[(2, ClockKind.RESPONSE)].deadline == at(30, 10)
    assert clocks[(2, ClockKind.WORKAROUND)].deadline == at(2, 15, month=11)
    assert clocks[(4, ClockKind.RESPONSE)].deadline == at(30, 10)
    assert (5, ClockKind.WORKAROUND) not in clocks  # no target
    assert [(c.ticket_id, c.kind.value) for c in report.breaches] == [
        (1, "workaround"), (2, "response"), (4, "response"), (4, "workaround")]  # by deadline

    assert len(report.waiting) == 1
    wait = report.waiting[0]
    assert (wait.ticket_id, wait.business_seconds, wait.wall_seconds) == (1, 2.5 * H, 17.5 * H)
    assert report.waiting_by_ticket == {1: 2.5 * H}
    assert [(e.ticket_id, e.text) for e in report.exceptions] == [
        (2, "Remote access was down; agreed in writing.")]
    assert len(report.usage) == 1
    u = report.usage[0]
    assert (u.calls, u.prompt_tokens, u.completion_tokens, u.outcomes) == (
        2, 2000, 300, {"ok": 1, "timeout": 1})

    with session_scope(engine) as s:
        everyone = monthly_report(s, policy, Month(2026, 10), None, AS_OF)
        november = monthly_report(s, policy, Month(2026, 11), "ACME", AS_OF)
    assert [f.id for f in everyone.tickets] == [1, 2, 3, 4, 5, 7, 8]
    assert [f.id for f in november.tickets] == [6]


def test_renderings(sqlite_url: str, policy: Policy, tmp_path: Path) -> None:
    from storage.db import make_engine

    engine = make_engine(sqlite_url)
    build_month(engine, policy)
    with session_scope(engine) as s:
        report = monthly_report(s, policy, Month(2026, 10), "ACME", AS_OF)
    md = to_markdown(report)
    assert "| all severities | response | 2 | 2 | 1 | 50.0% | 3h 30m | 4h 30m |" in md
    assert "| all severities | workaround | 1 | 2 | 1 | 33.3% | 25h 30m | 32h 00m |" in md
    assert "| 1 | 2026-10-27 16:30 | 2026-10-28 10:00 | waiting for the customer's logs" in md
    assert "Remote access was down" in md and "gpt-4o-mini | 2 | 2000 | 300" in md
    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    total = next(r for r in rows if r["section"] == "target" and r["severity"] == "ALL"
                 and r["target"] == "response")
    assert (total["met"], total["breached"], total["pending"], total["attainment_pct"]) == (
        "2", "2", "1", "50.00")
    # Every row has exactly the header's fields (DictReader files extras under None).
    assert all(None not in r and None not in r.values() for r in rows)
    by = {sec: [r for r in rows if r["section"] == sec]
          for sec in ("target", "clock", "waiting", "exception", "usage")}
    assert all(by.values()), {k: len(v) for k, v in by.items()}
    wait = by["waiting"][0]
    assert (wait["ticket"], wait["from_utc"][:16], wait["text"]) == (
        "1", "2026-10-27T13:30", "waiting for the customer's logs")
    assert wait["business_s"].isdigit() and wait["model"] == ""
    assert "Remote access was down" in by["exception"][0]["text"]
    assert by["exception"][0]["from_utc"].startswith("2026-10")
    usage = by["usage"][0]
    assert (usage["model"], usage["calls"], usage["prompt_tokens"],
            usage["completion_tokens"]) == ("gpt-4o-mini", "2", "2000", "300")
    assert render(report, "pdf", tmp_path / "r.pdf") == tmp_path / "r.pdf"
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    render(report, "png", tmp_path / "r.png")
    assert (tmp_path / "r.png").read_bytes().startswith(b"\x89PNG")

    with session_scope(engine) as s:
        answer = report_reply(s, policy, ["ACME", "2026-10"], AS_OF, "tr",
                              ChartMaker(tmp_path / "out", render_png))
        bad = report_reply(s, policy, ["NOPE"], AS_OF)
    assert answer.path is not None and answer.path.read_bytes().startswith(b"\x89PNG")
    assert "SLA raporu 2026-10 (ACME)" in answer.reply.text
    assert "Yanıt: 50.0% karşılandı (2 karşılandı, 2 aşıldı, 1 devam ediyor)" in answer.reply.text
    assert bad.path is None and 'no customer "NOPE"' in bad.reply.text
    assert parse_report_args(["2026-10", "ACME"]) == ("ACME", Month(2026, 10))
    with pytest.raises(ValueError):
        parse_report_args(["ACME", "NW"])
    engine.dispose()


def test_report_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, policy: Policy) -> None:
    from storage.db import make_engine, upgrade

    url = database_url(tmp_path / 'cli.db')
    upgrade(url)
    engine = make_engine(url)
    build_month(engine, policy)
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    config.get_settings.cache_clear()
    app = load_commands()
    runner = CliRunner()
    try:
        ok = runner.invoke(app, ["report", "sla", "--month", "2026-10", "--customer", "ACME",
                                 "--format", "md"])
        assert ok.exit_code == 0, ok.output
        assert "# SLA report 2026-10 — ACME" in ok.output
        out = runner.invoke(app, ["report", "sla", "--month", "2026-10", "--format", "csv",
                                  "--out", str(tmp_path / "r.csv")])
        assert out.exit_code == 0 and (tmp_path / "r.csv").exists()
        pdf = runner.invoke(app, ["report", "sla", "--month", "2026-10", "--customer", "ACME",
                                  "--format", "pdf", "--out", str(tmp_path / "r.pdf")])
        assert pdf.exit_code == 0, pdf.output
        assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
        if shutil.which("pdftotext"):  # ACME speaks Turkish: so does its typeset report
            text = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], check=True,
                                  capture_output=True, text=True).stdout
            assert "Aylık SLA raporu" in text and "Sayfa 1 / " in text
        for args, message in [
            (["--month", "2026-13"], "is not YYYY-MM"),
            (["--month", "2026-10", "--format", "pdf"], "needs --out"),
            (["--month", "2026-10", "--format", "doc"], "unknown format"),
            (["--month", "2026-10", "--customer", "NOPE"], "unknown customer"),
        ]:
            bad = runner.invoke(app, ["report", "sla", *args])
            assert bad.exit_code == 2 and message in bad.output, bad.output
    finally:
        config.get_settings.cache_clear()


def test_monthly_job_posts_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                policy: Policy) -> None:
    from sqlmodel import select

    from bot.report_render import monthly_report_job
    from bot.routing import routing_from_settings
    from storage.db import make_engine, upgrade
    from storage.models import OutboxMessage

    url = database_url(tmp_path / 'job.db')
    upgrade(url)
    engine = make_engine(url)
    build_month(engine, policy)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DESTEK_ENGINEERS_SLACK_CHANNEL", "C0MGR")
    # A destination counts only on a configured channel (bot.routing): a Slack deployment.
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.delenv("DESTEK_POLICY", raising=False)
    config.get_settings.cache_clear()
    try:
        first_of_november = datetime(2026, 11, 1, 8, tzinfo=TR)
        routing = routing_from_settings(config.get_settings())
        files = monthly_report_job(url, routing, first_of_november, str(tmp_path / "reports"))
        assert sorted(p.name for p in files if p.suffix == ".pdf") == [
            "sla-2026-10-ACME.pdf", "sla-2026-10-NW.pdf", "sla-2026-10-all.pdf"]
        monthly_report_job(url, routing, first_of_november, str(tmp_path / "reports"))
        with session_scope(engine) as s:
            msgs = s.exec(select(OutboxMessage)).all()
        assert sorted(m.key for m in msgs) == [
            "report:2026-10:ACME:slack:C0MGR", "report:2026-10:NW:slack:C0MGR",
            "report:2026-10:all:slack:C0MGR"]
        assert "response: 50.0% met" in next(m.text for m in msgs if ":ACME:" in m.key).lower()
        if shutil.which("pdftotext"):  # the job's PDFs are typeset, each in its language
            def text(name: str) -> str:
                return subprocess.run(["pdftotext", str(tmp_path / "reports" / name), "-"],
                                      check=True, capture_output=True, text=True).stdout
            assert "Aylık SLA raporu" in text("sla-2026-10-ACME.pdf")
            assert "Monthly SLA report" in text("sla-2026-10-NW.pdf")
            assert "All customers" in text("sla-2026-10-all.pdf")
    finally:
        config.get_settings.cache_clear()
        engine.dispose()
