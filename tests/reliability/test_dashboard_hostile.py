"""The dashboard against hostile use: server-side sessions (logout and expiry end a copied
cookie), login throttling per account and per address (shared by replicas, in the database),
Secure cookies behind a trusted proxy, security headers, CSRF, hostile ticket data and login
input, and the same work for every name. Real app, real Starlette TestClient (httpx), on the
run's store (SQLite, or PostgreSQL under DESTEK_TEST_DB=postgresql)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func
from sqlalchemy.engine import Engine
from sqlmodel import select
from starlette.testclient import TestClient

from bot.web import WebOptions, create_app, set_password
from bot.web import auth as web_auth
from bot.web.sessions import Throttle, token_hash
from sla import Policy
from storage import directory
from storage.db import make_engine, session_scope
from storage.models import DashboardSession, LoginFailure
from tests.conftest import Clock
from tests.test_dashboard import NOW, seed

from .conftest import figures

ORIGIN = {"Origin": "http://testserver"}
ELIF = {"name": "Elif Şahin", "password": "manager-pass"}
# Summaries that would break a page that embeds data carelessly: end the script, comment it
# out (`<!--<script>` puts the HTML parser in "script data double escaped" state, swallowing
# the real </script>), inject markup or attributes, or break JavaScript string literals.
PAYLOADS = [
    "<!--<script>",
    "</script><script>alert(1)</script>",
    "<!--",
    "-->",
    "<script>alert(2)</script>",
    "<img src=x onerror=alert(3)>",
    "' onmouseover='alert(4)",
    '" onmouseover="alert(5)',
    "`${alert(6)}`",
    "\u2028\u2029 line separators",
    "&lt;already escaped&gt; &amp;",
    "</SCRIPT ><!--<SCRIPT a>",
    "<![CDATA[ ]]>",
    "\\u003c/script\\u003e",
    "<svg><script>alert(7)</script></svg>",
    "<style>body{display:none}</style>",
]


@pytest.fixture
def engine(sqlite_url: str, policy: Policy) -> Iterator[Engine]:
    eng = make_engine(sqlite_url)
    seed(eng, policy)
    yield eng
    eng.dispose()


def client(web: Any, **kwargs: Any) -> TestClient:
    """A browser-like client: its form posts carry the dashboard's Origin."""
    return TestClient(web, headers=ORIGIN, **kwargs)


def failures(eng: Engine, scope: str) -> int:
    with session_scope(eng) as s:
        return s.exec(select(func.count()).select_from(LoginFailure).where(
            LoginFailure.scope == scope)).one()


def test_sessions_live_on_the_server(engine: Engine, policy: Policy) -> None:
    clock = Clock(NOW)
    web = create_app(engine=engine, policy=policy, now=clock)
    cookies = 0
    with client(web) as a, client(web) as b:
        assert a.post("/login", data=ELIF).status_code == 200
        token = a.cookies["destek_dashboard"]
        with session_scope(engine) as s:
            rows = list(s.exec(select(DashboardSession)))
        # Only the token's hash is stored; the cookie says nothing about who it is.
        assert [r.token_hash for r in rows] == [token_hash(token)] and token not in str(
            [r.model_dump() for r in rows])
        assert rows[0].expires_at == NOW + timedelta(hours=12)
        b.cookies.set("destek_dashboard", token)  # a copied cookie works while logged in...
        assert b.get("/api/tickets").status_code == 200
        assert a.post("/logout").status_code == 200  # redirected to the login page
        for c in (a, b):  # ...and not after logout, in either browser
            c.cookies.set("destek_dashboard", token)
            assert c.get("/api/tickets").status_code == 401
            assert c.get("/", follow_redirects=False).headers["location"] == "/login"
            cookies += 1
        with session_scope(engine) as s:
            assert s.exec(select(func.count()).select_from(DashboardSession)).one() == 0
        # Forged and odd cookies: refused, never a 500.
        for forged in ("", "x", "1", token[:-1], token + "A", "A" * 5000, "%C3%A9", "%00",
                       "a=b; c"):
            b.cookies.set("destek_dashboard", forged)
            assert b.get("/api/tickets").status_code == 401, forged
            cookies += 1
        # Expiry: refused after 12 h, and the row goes.
        a.cookies.clear()
        a.post("/login", data=ELIF)
        assert a.get("/api/tickets").status_code == 200
        clock.advance(hours=12)
        assert a.get("/api/tickets").status_code == 401
        cookies += 1
        with session_scope(engine) as s:
            assert s.exec(select(func.count()).select_from(DashboardSession)).one() == 0
        # A new password ends the contact's sessions; a login replaces the old session
        # (no fixation: the cookie from before the login is dead).
        a.post("/login", data=ELIF)
        before = a.cookies["destek_dashboard"]
        a.post("/login", data=ELIF)
        assert a.cookies["destek_dashboard"] != before
        b.cookies.set("destek_dashboard", before)
        assert b.get("/api/tickets").status_code == 401
        with session_scope(engine, clock) as s:
            set_password(s, "Elif Şahin", "another-pass")
        assert a.get("/api/tickets").status_code == 401
        cookies += 2
        # A deactivated contact's live session no longer opens anything.
        with session_scope(engine, clock) as s:
            set_password(s, "Deniz Yılmaz", "engineer-pass")
        a.post("/login", data={"name": "Deniz Yılmaz", "password": "engineer-pass"})
        assert a.get("/api/tickets").status_code == 200
        with session_scope(engine, clock) as s:
            c = directory.find_contact(s, "Deniz Yılmaz")
            assert c is not None
            c.active = False
            s.add(c)
        assert a.get("/api/tickets").status_code == 401
        cookies += 1
    figures("dashboard.sessions", db=engine.dialect.name, cookies_tried=cookies, accepted=0)


def test_login_throttling_per_account_and_address(engine: Engine, policy: Policy) -> None:
    clock = Clock(NOW)
    web = create_app(engine=engine, policy=policy, now=clock)
    replica = create_app(engine=engine, policy=policy, now=clock)  # same database
    tried = 0
    with client(web) as a, client(replica) as b:
        for _ in range(5):
            r = a.post("/login", data={"name": "Elif Şahin", "password": "wrong"})
            assert r.status_code == 401
            tried += 1
        # The sixth, even with the right password and on another replica: 429, clearly said.
        for c in (a, b):
            r = c.post("/login", data=ELIF)
            assert r.status_code == 429, r.text
            assert "Too many failed logins for this account; try again in 15 minutes." in r.text
            assert r.headers["retry-after"] == "900"
            assert c.get("/api/tickets").status_code == 401
            tried += 1
        # Another spelling of the same account is the same account.
        r = b.post("/login", data={"name": "elif sahin", "password": "manager-pass"})
        assert r.status_code == 429
        # An unknown name is throttled exactly like a real one: throttling names nobody.
        for _ in range(5):
            assert b.post("/login", data={"name": "Ghost", "password": "x"}).status_code == 401
        assert "try again in" in b.post("/login", data={"name": "Ghost", "password": "x"}).text
        tried += 7
        clock.advance(minutes=10)
        assert "try again in 5 minutes" in a.post("/login", data=ELIF).text
        clock.advance(minutes=5, seconds=1)
        assert a.post("/login", data=ELIF).status_code == 200  # free again
        # A success resets the account's count: four more failures are not a lockout.
        a.cookies.clear()
        for _ in range(4):
            assert a.post("/login", data={**ELIF, "password": "bad"}).status_code == 401
        assert a.post("/login", data=ELIF).status_code == 200
        for _ in range(4):
            assert a.post("/login", data={**ELIF, "password": "bad"}).status_code == 401
        assert a.post("/login", data=ELIF).status_code == 200
        tried += 10
    # Per address: 20 failures from one address, whatever names, and that address is refused;
    # X-Forwarded-For is believed only from a trusted proxy, so forging it changes nothing.
    clock.advance(hours=1)
    proxied = create_app(engine=engine, policy=policy, now=clock,
                         options=WebOptions(trusted_proxies="testclient"))
    with client(web) as a, client(proxied) as p:
        for i in range(20):
            r = a.post("/login", data={"name": f"guess {i}", "password": "x"},
                       headers={"X-Forwarded-For": f"10.0.0.{i}"})
            assert r.status_code == 401
        r = a.post("/login", data=ELIF, headers={"X-Forwarded-For": "10.9.9.9"})
        assert r.status_code == 429 and "from your address; try again in 15 minutes" in r.text
        # Behind the trusted proxy the forwarded address counts, per client.
        for i in range(20):
            p.post("/login", data={"name": f"other {i}", "password": "x"},
                   headers={"X-Forwarded-For": "203.0.113.7"})
        assert p.post("/login", data=ELIF,
                      headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 429
        assert p.post("/login", data=ELIF,
                      headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 200
        tried += 43
    with session_scope(engine) as s:
        keys = set(s.exec(select(LoginFailure.key).where(LoginFailure.scope == "address")))
    assert keys == {"testclient", "203.0.113.7"}
    figures("dashboard.throttle", db=engine.dialect.name, attempts=tried, replicas=2,
            limits="5/account,20/address/15min")


def test_cookie_flags_and_trusted_proxy(engine: Engine, policy: Policy) -> None:
    def set_cookie(options: WebOptions, base: str = "http://testserver",
                   **headers: str) -> str:
        web = create_app(engine=engine, policy=policy, now=lambda: NOW, options=options)
        origin = {"Origin": base}
        with TestClient(web, base_url=base, headers=origin) as c:
            r = c.post("/login", data=ELIF, headers=headers, follow_redirects=False)
            assert r.status_code == 303
            return r.headers["set-cookie"].lower()

    cases = [
        (WebOptions(), "http://testserver", {}, False),
        (WebOptions(), "https://testserver", {}, True),
        # Behind a proxy that terminates TLS: believed only from a trusted proxy.
        (WebOptions(trusted_proxies="testclient"), "http://testserver",
         {"X-Forwarded-Proto": "https"}, True),
        (WebOptions(trusted_proxies="127.0.0.1"), "http://testserver",
         {"X-Forwarded-Proto": "https"}, False),
        (WebOptions(), "http://testserver", {"X-Forwarded-Proto": "https"}, False),
        (WebOptions(cookie_secure="true"), "http://testserver", {}, True),
        (WebOptions(cookie_secure="false"), "https://testserver", {}, False),
    ]
    for options, base, headers, secure in cases:
        cookie = set_cookie(options, base, **headers)
        assert ("; secure" in cookie) is secure, (options, headers, cookie)
        assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    figures("dashboard.cookies", cases=len(cases))


def test_security_headers_on_every_response(engine: Engine, policy: Policy) -> None:
    web = create_app(engine=engine, policy=policy, now=lambda: NOW)
    with client(web) as c:
        urls = ["/login", "/", "/api/tickets", "/nowhere", "/static/ticker.js", "/healthz"]
        responses = [c.get(u, follow_redirects=False) for u in urls]
        responses.append(c.post("/login", data={"name": "x", "password": "y"}))
        c.post("/login", data=ELIF)
        for u in ("/", "/ticket/1", "/report?month=2026-11", "/static/dashboard.css",
                  "/ticket/1/attachments/99"):
            responses.append(c.get(u))
        for r in responses:
            csp = r.headers["content-security-policy"]
            assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["referrer-policy"] == "same-origin"
            assert r.headers["x-frame-options"] == "DENY"
        page = c.get("/").text
        # No inline script or style the policy would block: data is JSON, code is a file.
        assert re.findall(r"<script[^>]*>", page) == [
            "<script type='application/json' id='tickets-data'>",
            "<script src='/static/ticker.js'>"]
        assert "style=" not in page and "<style" not in page
    figures("dashboard.headers", responses=len(responses))


def test_forms_only_from_the_dashboard(engine: Engine, policy: Policy) -> None:
    """CSRF: SameSite=Lax cookies, and every POST (login, logout) must come from a page of
    this dashboard (Origin, else Referer, naming this host)."""
    web = create_app(engine=engine, policy=policy, now=lambda: NOW)
    hostile = [{"Origin": "http://evil.example"}, {"Origin": "null"},
               {"Origin": "http://testserver.evil.example"},
               {"Origin": "http://testserver", "Sec-Fetch-Site": "cross-site"},
               {"Referer": "http://evil.example/login"}, {}]
    with TestClient(web) as bare, client(web) as good:
        for headers in hostile:
            r = bare.post("/login", data=ELIF, headers=headers)
            assert r.status_code == 403 and "cross-site request refused" in r.text, headers
        assert failures(engine, "account") == 0  # refused before anything is counted
        r = bare.post("/login", data=ELIF, headers={"Referer": "http://testserver/login"})
        assert r.status_code == 200
        good.post("/login", data=ELIF)
        token = good.cookies["destek_dashboard"]
        for headers in hostile:  # a forged logout does not end the session
            bare.cookies.clear()
            bare.cookies.set("destek_dashboard", token)
            assert bare.post("/logout", headers=headers).status_code == 403
        assert good.get("/api/tickets").status_code == 200
        assert good.get("/logout").status_code == 405  # a link cannot log anyone out
    figures("dashboard.csrf", db=engine.dialect.name, forged_posts=2 * len(hostile), accepted=0)


def test_hostile_summaries_neither_run_nor_break_the_page(engine: Engine,
                                                          policy: Policy) -> None:
    from storage import tickets

    numbers = []
    with session_scope(engine, lambda: NOW) as s:
        acme = directory.get_customer(s, "ACME")
        ayse = directory.find_contact(s, "Ayşe Demir")
        for text in PAYLOADS:
            opened = tickets.open_ticket(s, policy, acme, ayse, "premium", text, "S2",
                                         NOW - timedelta(minutes=10))
            opened.version_text = text
            numbers.append(opened.id)
    web = create_app(engine=engine, policy=policy, now=lambda: NOW)
    with client(web) as c:
        c.post("/login", data=ELIF)
        html_page = c.get("/").text
        block = re.search(r"<script type='application/json' id='tickets-data'>(.*?)</script>",
                          html_page, re.S)
        assert block is not None
        # Nothing in the data block can end, comment out or open an element...
        assert "<" not in block.group(1) and ">" not in block.group(1)
        # ...and it reads back as exactly the data the API gives.
        data = json.loads(block.group(1))
        assert {d["summary"] for d in data} >= set(PAYLOADS)
        assert data == c.get("/api/tickets").json()["tickets"]
        assert html_page.count("<script") == 2 and html_page.count("</script>") == 2
        assert "<!--" not in html_page and "<img" not in html_page and "<svg" not in html_page
        for n, text in zip(numbers, PAYLOADS, strict=True):
            page = c.get(f"/ticket/{n}").text
            assert "<script" not in page and "<!--" not in page and "<img" not in page, text
            assert "onmouseover='" not in page and 'onmouseover="' not in page
    figures("dashboard.xss", db=engine.dialect.name, payloads=len(PAYLOADS),
            pages=1 + len(numbers), executed=0)


def test_hostile_login_input_is_refused_plainly(engine: Engine, policy: Policy) -> None:
    web = create_app(engine=engine, policy=policy, now=lambda: NOW,
                     options=WebOptions(throttle=Throttle(0, 0)))  # no limits: all refused
    bodies: list[bytes | dict[str, str]] = [
        {"name": "Elif\x00Şahin", "password": "manager-pass"},
        {"name": "\x00", "password": "\x00"},
        {"name": "' OR 1=1 --", "password": "' OR '1'='1"},
        {"name": "A" * 100_000, "password": "B" * 100_000},
        {"name": "Elif Şahin"}, {"password": "manager-pass"}, {},
        {"name": "%", "password": "x"}, {"name": "_", "password": "x"},
        {"name": "1", "password": "x"}, {"name": "99999999999999999999", "password": "x"},
        {"name": "Ayşe Demir", "password": "customer-pass"},
        {"name": "\u202eElif", "password": "x"}, {"name": "😀" * 50, "password": "😀"},
        b"name=\xff\xfe&password=\xc3", b"name&&&password", b"%zz=%zz", b"name=a&name=b",
    ]
    with client(web) as c:
        for body in bodies:
            r = (c.post("/login", data=body) if isinstance(body, dict) else
                 c.post("/login", content=body,
                        headers={"Content-Type": "application/x-www-form-urlencoded"}))
            assert r.status_code == 401, (body, r.status_code)
            assert "wrong password" in r.text
        c.post("/login", data=ELIF)
        filters = ["customer=%00", "assignee=%00x", "severity=%00", "customer=" + "x" * 5000,
                   "assignee=' OR 1=1 --"]
        for query in filters:
            assert c.get(f"/api/tickets?{query}").status_code == 200, query
            assert c.get(f"/?{query}").status_code == 200, query
    figures("dashboard.login", db=engine.dialect.name, bodies=len(bodies),
            filters=len(filters), server_errors=0)


def test_every_name_costs_the_same_work(engine: Engine, policy: Policy,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """No timing tells staff names apart: every login attempt through the app runs exactly one
    scrypt derivation and the same SQL statements, whatever the name. Counted (not timed) by
    wrapping the one function that stretches passwords and listening to the engine."""
    with session_scope(engine, lambda: NOW) as s:
        directory.add_contact(s, None, "Nopass Engineer", role="engineer", trained=True)
        gone = directory.add_contact(s, None, "Former Engineer", role="engineer", trained=True)
        gone.password_hash = web_auth.hash_password("former-pass")
        gone.active = False
    derive = web_auth._derive
    calls: list[int] = []
    monkeypatch.setattr(web_auth, "_derive", lambda *a: calls.append(1) or derive(*a))
    statements: list[str] = []

    def count(_conn: Any, _cur: Any, statement: str, *_: Any) -> None:
        statements.append(statement.split()[0])

    web = create_app(engine=engine, policy=policy, now=lambda: NOW,
                     options=WebOptions(throttle=Throttle(0, 0)))
    attempts = [("Ghost", "x", 401), ("Elif Şahin", "wrong", 401),
                ("deniz@example.com", "wrong", 401), ("Ayşe Demir", "customer-pass", 401),
                ("Nopass Engineer", "x", 401), ("Former Engineer", "former-pass", 401),
                ("nobody@example.com", "x", 401), ("Elif Şahin", "manager-pass", 303)]
    seen: dict[str, tuple[int, int]] = {}
    with client(web) as c:
        c.post("/login", data={"name": "warm-up", "password": "x"})
        for name, password, status in attempts:
            calls.clear()
            statements.clear()
            event.listen(engine, "before_cursor_execute", count)
            try:
                r = c.post("/login", data={"name": name, "password": password},
                           follow_redirects=False)
            finally:
                event.remove(engine, "before_cursor_execute", count)
            assert r.status_code == status, name
            seen[name] = (len(calls), statements.count("SELECT"))
    assert {n: k for n, (k, _) in seen.items()} == {n: 1 for n, _, _ in attempts}
    refused = {q for n, (_, q) in seen.items() if n != "Elif Şahin"}
    assert len(refused) == 1, seen  # the same lookups for known and unknown names
    figures("dashboard.timing", db=engine.dialect.name, names=len(attempts),
            scrypt_per_attempt=1, selects_per_refusal=refused.pop())

