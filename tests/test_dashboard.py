"""The dashboard: passwords, login refusals, and a real headless Chromium session.

Chromium comes from Debian's ``chromium`` package (driven by the Playwright Python package with
``executable_path``). Without it this test FAILS, so CI notices; DESTEK_SKIP_BROWSER=1 skips
the browser part for local convenience only.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from bot.web import authenticate, create_app, hash_password, set_password, verify_password
from sla import Policy
from storage import directory, tickets
from storage.db import make_engine, session_scope
from storage.directory import RecordError
from storage.models import TicketPause
from tests.pg import database_url

ROOT = Path(__file__).resolve().parent.parent
ORIGIN = {"Origin": "http://testserver"}  # what a browser sends with the login form
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # Wednesday 12:00 in Istanbul: open
CHROMIUM = os.environ.get("DESTEK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def seed(engine: Engine, policy: Policy) -> None:
    with session_scope(engine) as s:
        directory.add_product(s, "Voice Bot", "conversational-ai")
        directory.add_customer(s, "ACME", "Acme", "TR", language="tr")
        directory.add_customer(s, "NW", "Northwind", "US", "America/Chicago")
        directory.add_contract(s, "ACME", "premium", date(2026, 1, 1), date(2027, 12, 31))
        directory.add_contract(s, "NW", "standard", date(2026, 1, 1), date(2027, 12, 31))
        ayse = directory.add_contact(s, "ACME", "Ayşe Demir", trained=True, language="tr")
        ayse.password_hash = hash_password("customer-pass")  # must still be refused
        jane = directory.add_contact(s, "NW", "Jane Miller", trained=True)
        elif_ = directory.add_contact(s, None, "Elif Şahin", role="manager", trained=True)
        deniz = directory.add_contact(s, None, "Deniz Yılmaz", role="engineer", trained=True,
                                      email="deniz@example.com")
        set_password(s, "Elif Şahin", "manager-pass")
        set_password(s, "Deniz Yılmaz", "engineer-pass")
        bot = directory.get_product(s, "Voice Bot")
        acme = directory.get_customer(s, "ACME")
        nw = directory.get_customer(s, "NW")
        # #1 premium S2, reported 30 min ago: response 2h, 1h 30m left (25 %).
        t1 = tickets.open_ticket(s, policy, acme, ayse, "premium", "Voice bot is silent", "S2",
                                 NOW - timedelta(minutes=30), product=bot)
        t1.assignee_id = deniz.id
        # #2 standard S2 in Chicago (03:00 there: closed), reported yesterday and waiting.
        t2 = tickets.open_ticket(s, policy, nw, jane, "standard", "Reports are slow", "S2",
                                 NOW - timedelta(days=1), product=bot)
        s.add(TicketPause(ticket_id=t2.id or 0, started_at=NOW - timedelta(hours=20),
                          reason="waiting for the customer's logs"))
        t2.status = "pending"
        # #3 premium S1 reported 2 h ago: the 30 min 24x7 response is breached.
        tickets.open_ticket(s, policy, acme, ayse, "premium", "All calls drop", "S1",
                            NOW - timedelta(hours=2), product=bot)
        assert elif_.id


@pytest.fixture
def app_engine(sqlite_url: str, policy: Policy) -> Iterator[Engine]:
    engine = make_engine(sqlite_url)
    seed(engine, policy)
    yield engine
    engine.dispose()


def test_password_hashing() -> None:
    stored = hash_password("s3cret-pass")
    assert stored.startswith("scrypt$") and "s3cret" not in stored
    assert verify_password("s3cret-pass", stored)
    assert not verify_password("s3cret-pasS", stored)
    assert not verify_password("x", None) and not verify_password("x", "garbage")
    assert hash_password("same", b"0" * 16) == hash_password("same", b"0" * 16)
    assert hash_password("same") != hash_password("same")  # salted


def test_login_refusals(app_engine: Engine, policy: Policy) -> None:
    with session_scope(app_engine) as s:
        assert authenticate(s, "Elif Şahin", "manager-pass") is not None
        assert authenticate(s, "deniz@example.com", "engineer-pass") is not None
        assert authenticate(s, "Ayşe Demir", "customer-pass") is None  # customers: never
        assert authenticate(s, "Elif Şahin", "wrong") is None
        assert authenticate(s, "Nobody", "manager-pass") is None
        with pytest.raises(RecordError, match="customer contact"):
            set_password(s, "Ayşe Demir", "long-enough")
        with pytest.raises(RecordError, match="8 characters"):
            set_password(s, "Elif Şahin", "short")
    web = create_app(engine=app_engine, policy=policy, now=lambda: NOW)
    with TestClient(web, headers=ORIGIN) as client:
        assert client.get("/", follow_redirects=False).headers["location"] == "/login"
        assert client.get("/api/tickets").status_code == 401
        for name, pw in [("Ayşe Demir", "customer-pass"), ("Elif Şahin", "nope"),
                         ("Ghost", "manager-pass"), ("", "")]:
            r = client.post("/login", data={"name": name, "password": pw})
            assert r.status_code == 401 and "wrong password" in r.text
            assert client.get("/api/tickets").status_code == 401
        r = client.post("/login", data={"name": "Elif Şahin", "password": "manager-pass"})
        assert r.status_code == 200 and "<h1>Tickets</h1>" in r.text
        data = client.get("/api/tickets").json()["tickets"]
        assert [t["number"] for t in data] == [3, 1, 2]  # the breached one first
        t1 = next(t for t in data if t["number"] == 1)
        response = t1["clocks"][0]
        assert (response["remaining"], response["colour"], response["text"]) == (
            5400, "ok", "1h 30m")
        assert response["tick"] == 30  # open now: may tick for 2 × the 15 s refresh
        t2 = next(t for t in data if t["number"] == 2)
        assert t2["clocks"][0]["colour"] == "paused" and t2["clocks"][0]["tick"] == 0
        assert next(t for t in data if t["number"] == 3)["clocks"][0]["colour"] == "breached"
        only = client.get("/api/tickets?customer=NW").json()["tickets"]
        assert [t["number"] for t in only] == [2]
        assert [t["number"] for t in client.get("/api/tickets?severity=S1").json()["tickets"]
                ] == [3]
        assert [t["number"] for t in client.get(
            "/api/tickets?assignee=Deniz Yılmaz").json()["tickets"]] == [1]
        assert client.get("/report.png?month=2026-11").headers["content-type"] == "image/png"
        assert client.get("/report?month=2026-99").status_code == 200
        # Ticket numbers in the URL: ASCII digits in the id range, else a plain 404 (a
        # 24-digit number was a 500).
        assert client.get("/ticket/1").status_code == 200
        for bad in ("123456789012345678901234", "²", "0", "abc", "2147483648"):
            assert client.get(f"/ticket/{bad}").status_code == 404, bad
        token = client.cookies["destek_dashboard"]
        client.post("/logout")
        assert client.get("/api/tickets").status_code == 401
        # Logout ended the session on the server: the same cookie, copied back, is refused.
        client.cookies.set("destek_dashboard", token)
        assert client.get("/api/tickets").status_code == 401
    # Sessions are rows of the shared database: a second app (replica) knows them.
    other = create_app(engine=app_engine, policy=policy, now=lambda: NOW)
    with TestClient(web, headers=ORIGIN) as a, TestClient(other) as b:
        a.post("/login", data={"name": "Elif Şahin", "password": "manager-pass"})
        b.cookies.set("destek_dashboard", a.cookies["destek_dashboard"])
        assert b.get("/api/tickets").status_code == 200


@pytest.fixture
def served(app_engine: Engine, policy: Policy) -> Iterator[str]:
    import socket

    import uvicorn

    # Hostile summaries on the page the countdowns run on: `<!--<script>` once disabled them
    # (the HTML parser swallowed the script's end), `</script>…` would run code.
    with session_scope(app_engine, lambda: NOW) as s:
        first = tickets.get_ticket(s, 1)
        first.summary = "<!--<script>"
        s.add(first)
        tickets.open_ticket(s, policy, directory.get_customer(s, "ACME"),
                            directory.find_contact(s, "Ayşe Demir"), "premium",
                            "</script><script>alert(1)</script>", "S3",
                            NOW - timedelta(minutes=5))
    web = create_app(engine=app_engine, policy=policy, now=lambda: NOW, refresh_seconds=30)
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(web, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "dashboard server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


def test_dashboard_in_chromium(served: str) -> None:
    if os.environ.get("DESTEK_SKIP_BROWSER") == "1":
        pytest.skip("DESTEK_SKIP_BROWSER=1 (local convenience only)")
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium "
                    "(or set DESTEK_SKIP_BROWSER=1 locally)")
    from playwright.sync_api import sync_playwright

    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            blocked: list[str] = []  # the page must not trip its own Content-Security-Policy
            page.on("console", lambda m: blocked.append(m.text)
                    if "Content Security Policy" in m.text else None)
            page.goto(served + "/")
            assert page.url.endswith("/login")
            page.fill("#name", "Elif Şahin")
            page.fill("#password", "wrong-password")
            page.click("#login")
            assert "wrong password" in page.inner_text("#error")
            page.fill("#name", "Elif Şahin")
            page.fill("#password", "manager-pass")
            page.click("#login")
            page.wait_for_selector("#tickets")
            cell = page.locator("#t1 td.clock[data-kind=response]")
            assert cell.inner_text() == "1h 30m"
            assert "ok" in (cell.get_attribute("class") or "")
            assert "breached" in (page.locator("#t3 td.clock[data-kind=response]")
                                  .get_attribute("class") or "")
            assert "paused" in page.locator("#t2 td.clock[data-kind=response]").inner_text()
            # The countdown ticks in the browser while the calendar is open.
            before = page.evaluate("DATA.find(t => t.number === 1).clocks[0].remaining")
            # A function, not an expression string: the page's CSP forbids eval, which
            # Playwright would use to poll a string.
            page.wait_for_function(
                "b => DATA.find(t => t.number === 1).clocks[0].remaining < b", arg=before,
                timeout=5000)
            assert page.inner_text("#t1 td:nth-child(6)") == "<!--<script>"
            assert page.inner_text("#t4 td:nth-child(6)") == \
                "</script><script>alert(1)</script>"
            paused = page.evaluate("DATA.find(t => t.number === 2).clocks[0].remaining")
            assert paused == 4 * 3600 - 0  # nothing elapsed: reported and paused off hours
            page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)
            page.click("#t2 a")
            page.wait_for_selector("#timeline")
            text = page.inner_text("#timeline")
            assert "opened" in text and "waiting (P17)" in text
            assert "waiting for the customer's logs" in text
            page.goto(served + "/ticket/1")
            text = page.inner_text("#timeline")
            assert "response 50%" in text and "response breach" in text
            page.screenshot(path=str(artifacts / "dashboard-ticket.png"), full_page=True)
            page.goto(served + "/report?month=2026-11")
            page.wait_for_function(
                "() => document.getElementById('chart').complete && "
                "document.getElementById('chart').naturalWidth > 0", timeout=20000)
            assert "Service levels" in page.inner_text("body")
            assert dialogs == [] and blocked == [], (dialogs, blocked)
            page.click("#logout")
            page.wait_for_selector("#login")
            assert page.url.endswith("/login")
        finally:
            browser.close()
    assert (artifacts / "dashboard.png").stat().st_size > 10_000


def test_contact_password_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              policy: Policy) -> None:
    from typer.testing import CliRunner

    from bot import config
    from bot.cli import load_commands
    from storage.db import upgrade

    url = database_url(tmp_path / 'pw.db')
    upgrade(url)
    engine = make_engine(url)
    seed(engine, policy)
    monkeypatch.setenv("DATABASE_URL", url)
    config.get_settings.cache_clear()
    runner, app = CliRunner(), load_commands()
    try:
        ok = runner.invoke(app, ["contact", "password", "Deniz Yılmaz"],
                           input="new-engineer-pass\nnew-engineer-pass\n")
        assert ok.exit_code == 0 and "password set for Deniz Yılmaz" in ok.output, ok.output
        bad = runner.invoke(app, ["contact", "password", "Ayşe Demir", "--password", "12345678"])
        assert bad.exit_code == 2 and "customer contact" in bad.output
        with session_scope(engine) as s:
            assert authenticate(s, "Deniz Yılmaz", "new-engineer-pass") is not None
            assert authenticate(s, "Deniz Yılmaz", "engineer-pass") is None
    finally:
        config.get_settings.cache_clear()
        engine.dispose()


def test_ticket_page_is_the_whole_report_with_downloads(app_engine: Engine, policy: Policy,
                                                        tmp_path: Path) -> None:
    """The ticket page shows every field, the conversation (public/internal marked) and the
    attachments; a download is for logged-in staff only, of that ticket's own attachment, the
    stored file with its type, as an attachment with a safe name."""
    from storage import attachments
    from storage.models import Attachment

    from . import report_seed as rs

    with session_scope(app_engine, lambda: NOW) as s:
        found = rs.seed_full(s, policy, NOW, tmp_path / "files")
        t = tickets.get_ticket(s, found.ticket)
        evil = attachments.store(s, tmp_path / "files", 'a"b;c\r\n.html', "text/html",
                                 b"<script>alert(1)</script>", ticket_id=found.ticket)
        gone = attachments.store(s, tmp_path / "files", "gone.txt", "text/plain", b"gone",
                                 ticket_id=found.ticket)
        t.description = "<img src=x onerror=alert(1)> & more"
        s.add(t)
        evil_id, gone_id, gone_path = evil.id, gone.id, Path(gone.path)
    gone_path.unlink()  # a row whose file is lost: a 404, not a 500
    n = found.ticket
    url = f"/ticket/{n}/attachments/{found.trace_id}"
    web = create_app(engine=app_engine, policy=policy, now=lambda: NOW)
    with TestClient(web, headers=ORIGIN) as client:
        r = client.get(url, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login"
        assert client.get(f"/ticket/{n}", follow_redirects=False).status_code == 303
        # A customer's password never logs in, so never downloads.
        client.post("/login", data={"name": "Ayşe Demir", "password": "customer-pass"})
        assert client.get(url, follow_redirects=False).status_code == 303
        client.post("/login", data={"name": "Deniz Yılmaz", "password": "engineer-pass"})
        page = client.get(f"/ticket/{n}")
        assert page.status_code == 200
        html = page.text
        for shown in ("Steps to reproduce", "1. Call the IVR\n2. Press 1", rs.ERROR,
                      rs.ACCESS_HOW, "the pcap is too big", "Log analysis",
                      "Severity proposed by the customer", "100+",
                      "2026-11-25 11:00 (Europe/Istanbul)", "Times in Europe/Istanbul.",
                      f'<a href="{url}">trace.log</a>', "text/plain", "105 B",
                      f'/ticket/{n}/attachments/{found.png_id}">screen shot.png</a>',
                      '<tr class="internal">', "<td>internal</td>", "<td>public</td>",
                      "Suspect the &lt;rtp&gt; &amp; jitter buffer", rs.REPLY,
                      "&lt;img src=x onerror=alert(1)&gt; &amp; more", "a&#34;b;c"):
            assert shown in html, shown
        assert "<img src=x" not in html and "<rtp>" not in html
        r = client.get(url)
        assert r.status_code == 200 and r.content == rs.TRACE
        assert r.headers["content-type"].startswith("text/plain")
        assert r.headers["content-disposition"] == 'attachment; filename="trace.log"'
        assert r.headers["x-content-type-options"] == "nosniff"
        r = client.get(f"/ticket/{n}/attachments/{found.png_id}")
        assert r.content == rs.PNG and r.headers["content-type"] == "image/png"
        assert r.headers["content-disposition"] == \
            "attachment; filename*=utf-8''screen%20shot.png"
        r = client.get(f"/ticket/{n}/attachments/{evil_id}")
        assert r.status_code == 200 and "\r" not in r.headers["content-disposition"]
        assert r.headers["content-disposition"].startswith("attachment; filename*=utf-8''a%22b")
        # Another ticket's number with this attachment, unknown ids, path tricks: not found.
        for bad in (f"/ticket/1/attachments/{found.trace_id}", f"/ticket/{n}/attachments/999",
                    f"/ticket/{n}/attachments/abc", f"/ticket/{n}/attachments/..%2F..%2Fetc",
                    f"/ticket/{n}/attachments/-1", f"/ticket/x/attachments/{found.trace_id}",
                    f"/ticket/{n}/attachments/{gone_id}"):
            assert client.get(bad).status_code == 404, bad
        with session_scope(app_engine) as s:  # the row still names its file: nothing moved
            row = s.get(Attachment, found.trace_id)
            assert row is not None and Path(row.path).read_bytes() == rs.TRACE
        client.post("/logout")
        assert client.get(url, follow_redirects=False).status_code == 303
