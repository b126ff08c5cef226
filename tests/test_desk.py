"""The desk (#18) through Starlette's TestClient: search, filters and a date range, the columns,
times in the viewer's zone, the on-call panel, report downloads, and acting from the ticket
page — each action changes the ticket exactly as the chat verb does (same audit events, same
outbox rows), behind a per-session CSRF token. Runs on the run's store (SQLite, or PostgreSQL
under DESTEK_TEST_DB=postgresql)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from starlette.testclient import TestClient

from bot.web import create_app
from handlers.commands import execute_command
from handlers.types import Destination, Routing
from sla import Policy
from storage import directory, tickets
from storage import oncall as oncall_store
from storage.db import make_engine, session_scope
from storage.models import OutboxMessage, Ticket, TicketEvent
from storage.models.oncall import Page
from tests.test_dashboard import NOW, ORIGIN, seed

ELIF = {"name": "Elif Şahin", "password": "manager-pass"}
ROUTING = Routing(engineers=(Destination("console", "engineers"),), channels=("console",))


@pytest.fixture
def engine(sqlite_url: str, policy: Policy) -> Iterator[Engine]:
    eng = make_engine(sqlite_url)
    seed(eng, policy)
    with session_scope(eng, lambda: NOW) as s:
        acme, nw = directory.get_customer(s, "ACME"), directory.get_customer(s, "NW")
        ayse = directory.find_contact(s, "Ayşe Demir")
        jane = directory.find_contact(s, "Jane Miller")
        bot = directory.get_product(s, "Voice Bot")
        assert ayse and jane
        # #4 resolved, reported 10 days ago, version 3.2, tier 2; #5 closed, 40 days ago.
        t4 = tickets.open_ticket(s, policy, nw, jane, "standard", "Export fails on Mondays",
                                 "S3", NOW - timedelta(days=10), product=bot,
                                 version_text="3.2", description="the CSV export times out")
        t4.status, t4.resolved_at, t4.tier = "resolved", NOW - timedelta(days=9), 2
        t5 = tickets.open_ticket(s, policy, acme, ayse, "premium", "Old outage", "S2",
                                 NOW - timedelta(days=40), product=bot)
        t5.status, t5.resolved_at, t5.closed_at = "closed", NOW - timedelta(days=39), \
            NOW - timedelta(days=38)
        tickets.add_event(s, tickets.get_ticket(s, 2), tickets.INTERNAL_NOTE,
                          "customer mentioned the zebra proxy", at=NOW - timedelta(hours=1))
        for t in (t4, t5):
            s.add(t)
        # The on-call panel: Deniz holds the primary layer; a page of #3 that Deniz took.
        deniz = directory.find_contact(s, "Deniz Yılmaz")
        assert deniz
        oncall_store.add_rotation(s, "weekly", "primary", [deniz], NOW - timedelta(days=2),
                                  "Europe/Istanbul")
        s.add(Page(ticket_id=3, trigger="open", status="acked", step=1,
                   started_at=NOW - timedelta(minutes=50), ended_at=NOW - timedelta(minutes=40),
                   acked_by_id=deniz.id, note="taken by Deniz Yılmaz"))
        s.add(Page(ticket_id=1, trigger="open", status="active", step=0,
                   started_at=NOW - timedelta(minutes=5), next_at=NOW + timedelta(minutes=5)))
    yield eng
    eng.dispose()


def login(web: Any, **kw: Any) -> TestClient:
    c = TestClient(web, headers=ORIGIN, **kw)
    assert c.post("/login", data=ELIF).status_code == 200
    return c


def numbers(c: TestClient, query: str) -> list[int]:
    return [t["number"] for t in c.get(f"/api/tickets?{query}").json()["tickets"]]


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "no CSRF token in the form"
    return found.group(1)


def test_search_filters_and_date_range(engine: Engine, policy: Policy) -> None:
    web = create_app(engine=engine, policy=policy, now=lambda: NOW, routing=ROUTING)
    with login(web) as c:
        assert numbers(c, "") == [3, 1, 2]  # open and waiting: the most urgent first
        assert numbers(c, "status=all") == [3, 1, 2, 5, 4]
        assert numbers(c, "status=resolved") == [4]
        assert numbers(c, "status=closed") == [5]
        assert numbers(c, "status=pending") == [2]
        assert numbers(c, "status=bogus") == [3, 1, 2]  # unknown: the default
        # By number, customer (code or name), contact, summary, description, a note's text.
        assert numbers(c, "q=%234&status=all") == [4]
        assert numbers(c, "q=4&status=all") == [4]
        assert numbers(c, "q=northwind&status=all") == [2, 4]
        assert numbers(c, "q=jane&status=all") == [2, 4]
        assert numbers(c, "q=calls+drop") == [3]
        assert numbers(c, "q=csv+export&status=all") == [4]
        assert numbers(c, "q=zebra") == [2]
        assert numbers(c, "q=100%25") == []  # % is a literal, not a wildcard
        assert numbers(c, "q=_&status=all") == []
        # Reported between two days of the viewer's calendar (Europe/Istanbul by default).
        assert numbers(c, "status=all&from=2026-11-01&to=2026-11-20") == [4]
        assert numbers(c, "status=all&from=2026-11-24") == [3, 1, 2]
        assert numbers(c, "status=all&to=2026-10-31") == [5]
        assert numbers(c, "status=all&customer=NW&severity=S3") == [4]
        page = c.get("/?from=notadate")
        assert page.status_code == 200 and "is not a date" in page.text
        for q in ("q=%00", "q=" + "x" * 5000, "q=' OR 1=1 --", "customer=nobody",
                  "assignee=nobody"):
            assert c.get(f"/api/tickets?{q}").status_code == 200, q


def test_columns_and_the_viewers_zone(engine: Engine, policy: Policy) -> None:
    web = create_app(engine=engine, policy=policy, now=lambda: NOW, routing=ROUTING)
    with login(web) as c:
        row = next(t for t in c.get("/api/tickets?status=all").json()["tickets"]
                   if t["number"] == 4)
        assert (row["product"], row["version"], row["tier"], row["contact"], row["age"],
                row["assignee"]) == ("Voice Bot", "3.2", 2, "Jane Miller", "1d 0h", None)
        assert row["reported"] == "2026-11-15 12:00"  # Istanbul (+03)
        html = c.get("/?status=all").text
        for head in ("<th>tier</th>", "<th>product · version</th>", "<th>age</th>",
                     "<th>assignee</th>", "<th>reported</th>", "Voice Bot · 3.2"):
            assert head in html, head
        assert "Times in Europe/Istanbul (+03)" in html
        # The browser's zone (its cookie) rules every time on the desk, and is named.
        c.cookies.set("destek_tz", "America/New_York")
        row = next(t for t in c.get("/api/tickets?status=all").json()["tickets"]
                   if t["number"] == 4)
        assert row["reported"] == "2026-11-15 04:00"
        html = c.get("/").text
        assert "Times in America/New_York (EST)" in html and "2026-11-25 04:00" in html
        ticket = c.get("/ticket/1").text
        assert "Times in America/New_York." in ticket and "reported 2026-11-25 03:30" in ticket
        c.cookies.set("destek_tz", "Not/AZone")  # ignored: the engineers' zone
        assert "Times in Europe/Istanbul (+03)" in c.get("/").text


def test_the_oncall_panel(engine: Engine, policy: Policy) -> None:
    web = create_app(engine=engine, policy=policy, now=lambda: NOW, routing=ROUTING)
    with login(web) as c:
        html = c.get("/").text
        panel = html[html.index('id="oncall"'):]
        assert "<td>primary</td><td>Deniz Yılmaz</td>" in panel
        assert "<td>secondary</td><td>nobody</td>" in panel
        assert 'href="/ticket/3">#3</a>' in panel and "<td>Deniz Yılmaz" in panel
        assert "active, step 1, next 2026-11-25 12:05" in panel  # page of #1, in progress


def test_report_page_and_downloads(engine: Engine, policy: Policy) -> None:
    web = create_app(engine=engine, policy=policy, now=lambda: NOW, routing=ROUTING)
    with TestClient(web, headers=ORIGIN) as anon:
        assert anon.get("/report.pdf?month=2026-11").status_code == 401
    with login(web) as c:
        page = c.get("/report?month=2026-11").text
        assert "---|" not in page and "<table id=\"r-targets\">" in page
        assert "SLA report 2026-11 — all customers" in page
        assert "As of 2026-11-25 12:00 (Europe/Istanbul)" in page
        for fmt in ("md", "csv", "pdf"):
            assert f'href="/report.{fmt}?month=2026-11"' in page
        md = c.get("/report.md?month=2026-11")
        assert md.headers["content-type"] == "text/markdown; charset=utf-8"
        assert md.headers["content-disposition"] == \
            'attachment; filename="sla-report-2026-11.md"'
        assert md.text.startswith("# SLA report 2026-11")
        csv = c.get("/report.csv?month=2026-11&customer=NW")
        assert csv.headers["content-type"] == "text/csv; charset=utf-8"
        assert csv.text.startswith("section,month,scope")
        assert 'filename="sla-report-2026-11-NW.csv"' in csv.headers["content-disposition"]
        pdf = c.get("/report.pdf?month=2026-10")  # any month
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF") and len(pdf.content) > 1000
        assert c.get("/report.pdf?month=2026-13").status_code == 400
        assert c.get("/report.exe?month=2026-11").status_code == 404
        assert "unknown customer" in c.get("/report?month=2026-11&customer=ZZ").text


def _twins(engine: Engine, policy: Policy) -> tuple[int, int]:
    """Two identical fresh tickets: one worked from the desk, one from chat."""
    with session_scope(engine, lambda: NOW) as s:
        acme = directory.get_customer(s, "ACME")
        ayse = directory.find_contact(s, "Ayşe Demir")
        assert ayse
        made = [tickets.open_ticket(s, policy, acme, ayse, "premium", "Twin", "S3",
                                    NOW - timedelta(minutes=10), channel="telegram",
                                    channel_chat="5551") for _ in range(2)]
        s.flush()
        return made[0].id or 0, made[1].id or 0


def _trail(engine: Engine, n: int) -> tuple[list[Any], list[Any]]:
    """A ticket's events and outbox rows, with its number written ``#N``."""
    def norm(text: str | None) -> str:
        return re.sub(rf"#{n}\b", "#N", text or "")

    with session_scope(engine) as s:
        events = [(e.kind, e.actor, e.actor_id, norm(e.text), json.loads(e.data or "null"))
                  for e in s.exec(select(TicketEvent).where(TicketEvent.ticket_id == n)
                                  .order_by(col(TicketEvent.id)))]
        rows = [(o.channel, o.target, o.thread, norm(o.text))
                for o in s.exec(select(OutboxMessage).where(OutboxMessage.ticket_id == n)
                                .order_by(col(OutboxMessage.id)))]
    return events, rows


STEPS: list[tuple[dict[str, str], str]] = [
    ({"action": "assign", "engineer": "Deniz Yılmaz"}, "assign {n} Deniz Yılmaz"),
    ({"action": "reply", "text": "Hello Ayşe,\n  please try <b>again</b> & tell us"},
     "reply {n} Hello Ayşe,\n  please try <b>again</b> & tell us"),
    ({"action": "note", "text": "checked the logs"}, "note {n} checked the logs"),
    ({"action": "sev", "severity": "S2", "text": "more users hit"}, "sev {n} S2 more users hit"),
    ({"action": "pending", "text": "the pcap"}, "pending {n} the pcap"),
    ({"action": "resume"}, "resume {n}"),
    ({"action": "workaround", "text": "restart the bot"}, "workaround {n} restart the bot"),
    ({"action": "escalate", "tier": "tier2", "text": "needs R&D"},
     "escalate {n} tier2 needs R&D"),
    ({"action": "resolve", "text": "fixed", "fix_version": "3.3"},
     "resolve {n} fixed --fix-version 3.3"),
    ({"action": "resume"}, "resume {n}"),  # refused alike: nothing waits
]


def test_each_action_is_the_chat_verb(engine: Engine, policy: Policy) -> None:
    desk_n, chat_n = _twins(engine, policy)
    web = create_app(engine=engine, policy=policy, now=lambda: NOW, routing=ROUTING)
    with login(web) as c:
        for form, line in STEPS:
            token = csrf_of(c.get(f"/ticket/{desk_n}").text)
            r = c.post(f"/ticket/{desk_n}/act", data={**form, "csrf": token})
            assert r.status_code == 200, (form, r.text[:300])
            with session_scope(engine, lambda: NOW) as s:
                elif_ = directory.find_contact(s, "Elif Şahin")
                said = execute_command(s, policy, elif_, line.format(n=chat_n), NOW, ROUTING)
            # The desk shows the verb's own answer (for the ticket's number).
            flash = re.search(r'<p class="flash" id="flash">(.*?)</p>', r.text, re.S)
            assert flash, form
            expected = re.sub(rf"\b{chat_n}\b", str(desk_n), "\n".join(x.text for x in said))
            assert flash.group(1) == expected.replace("&", "&amp;").replace(
                "<", "&lt;").replace(">", "&gt;").replace('"', "&#34;").replace("'", "&#39;")
            assert _trail(engine, desk_n) == _trail(engine, chat_n), form
    events, rows = _trail(engine, desk_n)
    kinds = [e[0] for e in events]
    for kind in ("assigned", "reply", "note", "severity", "paused", "resumed", "workaround",
                 "escalated", "resolved"):
        assert kind in kinds, kind
    assert all(e[1] == "Elif Şahin" for e in events if e[0] != "opened")
    # The customer got the reply (in their Telegram chat), never the internal note.
    to_customer = [r[3] for r in rows if r[:2] == ("telegram", "5551")]
    assert any("please try <b>again</b> & tell us" in t for t in to_customer)
    assert not any("checked the logs" in t for t in to_customer)
    with session_scope(engine) as s:
        t = s.get(Ticket, desk_n)
        assert t and (t.status, t.severity, t.tier, t.fix_version) == ("resolved", "S2", 2, "3.3")


def test_forms_need_the_sessions_token(engine: Engine, policy: Policy) -> None:
    desk_n, _ = _twins(engine, policy)
    web = create_app(engine=engine, policy=policy, now=lambda: NOW, routing=ROUTING)
    before = _trail(engine, desk_n)
    form = {"action": "reply", "text": "forged"}
    with login(web) as c, login(web) as other:
        mine = csrf_of(c.get(f"/ticket/{desk_n}").text)
        theirs = csrf_of(other.get(f"/ticket/{desk_n}").text)
        assert mine != theirs  # one token per session
        for data, headers in [(form, ORIGIN), ({**form, "csrf": ""}, ORIGIN),
                              ({**form, "csrf": "0" * 64}, ORIGIN),
                              ({**form, "csrf": theirs}, ORIGIN),
                              ({**form, "csrf": mine}, {"Origin": "http://evil.example"}),
                              ({**form, "csrf": mine}, {"Origin": "http://testserver",
                                                        "Sec-Fetch-Site": "cross-site"})]:
            r = c.post(f"/ticket/{desk_n}/act", data=data, headers=headers)
            assert r.status_code == 403 and "cross-site request refused" in r.text, data
        assert _trail(engine, desk_n) == before  # nothing changed, nobody told
        # A flash message is signed with the session's token: a crafted link shows nothing.
        page = c.get(f"/ticket/{desk_n}?said=SGFja2Vk&sig=00").text
        assert 'id="flash"' not in page
        # Bad forms are refused plainly and change nothing.
        for bad in ({"action": "reply", "text": "  "}, {"action": "fly"},
                    {"action": "sev", "severity": "S1 S2", "text": "x"},
                    {"action": "escalate", "tier": "tier9", "text": "x"}):
            r = c.post(f"/ticket/{desk_n}/act", data={**bad, "csrf": mine})
            assert r.status_code == 200 and 'id="flash"' in r.text, bad
        assert _trail(engine, desk_n) == before
    with TestClient(web, headers=ORIGIN) as anon:
        r = anon.post(f"/ticket/{desk_n}/act", data={**form, "csrf": mine})
        assert r.status_code == 403  # no session: no token matches
