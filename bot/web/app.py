"""The dashboard app: Starlette routes behind a login, reading the database per request."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy.engine import Engine
from sqlmodel import col, select
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse
from starlette.responses import Response as HTTPResponse
from starlette.routing import Route
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from handlers import ticket_report
from handlers.reports import monthly_report
from sla import Policy
from sla.attainment import Month
from storage import tickets as ticket_store
from storage.clock import system_clock
from storage.db import engine_for, session_scope
from storage.models import Attachment, Contact, Customer, Ticket

from . import sessions as web_sessions
from .assets import CSS, TICKER_JS
from .auth import REFUSED, STAFF, account_key, check_login, resolve
from .data import clock_rows, open_tickets, timeline
from .pages import (
    e,
    login_page,
    page,
    report_body_html,
    report_html,
    ticket_body_html,
    ticket_head_html,
    ticket_list_html,
)
from .security import COOKIE, SecurityHeaders, WebOptions, same_origin

log = logging.getLogger("destek.dashboard")


def create_app(
    database_url: str | None = None,
    policy: Policy | None = None,
    now: Callable[[], datetime] | None = None,
    refresh_seconds: int = 15,
    engine: Engine | None = None,
    options: WebOptions | None = None,
) -> Starlette:
    """The dashboard app on ``engine`` (or ``database_url``). ``options``: cookies, the trusted
    proxy, session lifetime and login throttling (``WebOptions.from_settings``)."""
    if engine is None:
        assert database_url is not None
        engine = engine_for(database_url)
    if policy is None:
        from sla import load_policy

        policy = load_policy()
    pol: Policy = policy
    eng: Engine = engine
    clock = now or system_clock
    opts = options or WebOptions()

    def user_of(request: Request) -> Contact | None:
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        with session_scope(eng, clock) as s:
            uid = web_sessions.session_contact(s, token, clock())
            c = s.get(Contact, uid) if uid is not None else None
            if c is None or c.role not in STAFF or not c.active:
                return None
            s.expunge(c)
            return c

    async def login_get(request: Request) -> HTTPResponse:
        return login_page()

    async def login_post(request: Request) -> HTTPResponse:
        if not same_origin(request):
            log.warning("dashboard login refused: not from the dashboard's own page")
            return PlainTextResponse(CROSS_SITE, status_code=403)
        body = (await request.body()).decode("utf-8", "replace")
        form = {k: v[0] for k, v in parse_qs(body).items()}
        # NUL cannot reach PostgreSQL (and names have none): replaced, so the same queries
        # still run and simply match nobody.
        name = form.get("name", "")[:200].replace("\x00", "\ufffd")
        password = form.get("password", "")[:1000]
        address = request.client.host if request.client else "unknown"
        old_token = request.cookies.get(COOKIE)

        def attempt() -> str | web_sessions.Locked | None:
            at = clock()
            with session_scope(eng, clock) as s:
                contact = resolve(s, name)
                account = account_key(contact, name)
                refused = web_sessions.locked(s, opts.throttle, account, address, at)
                if refused is not None:
                    return refused
                who = check_login(contact, password)
                if who is None or who.id is None:
                    web_sessions.record_failure(s, opts.throttle, account, address, at)
                    return None
                web_sessions.reset_account(s, account)
                web_sessions.end_session(s, old_token)  # no session fixation
                return web_sessions.start_session(s, who.id, at, opts.session_lifetime)

        outcome = await run_in_threadpool(attempt)
        if isinstance(outcome, web_sessions.Locked):
            log.warning("dashboard login throttled (%s) for %r from %s", outcome.scope,
                        name[:80], address)
            locked = login_page(outcome.message, 429)
            locked.headers["Retry-After"] = str(outcome.minutes * 60)
            return locked
        if outcome is None:
            log.info("dashboard login refused for %r from %s", name[:80], address)
            return login_page(REFUSED, 401)
        resp = RedirectResponse("/", status_code=303)
        resp.set_cookie(COOKIE, outcome, max_age=int(opts.session_lifetime.total_seconds()),
                        path="/", secure=opts.secure(request), httponly=True, samesite="lax")
        return resp

    async def logout(request: Request) -> HTTPResponse:
        if not same_origin(request):
            return PlainTextResponse(CROSS_SITE, status_code=403)
        token = request.cookies.get(COOKIE)

        def end() -> None:
            with session_scope(eng, clock) as s:
                web_sessions.end_session(s, token)

        await run_in_threadpool(end)
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(COOKIE, path="/", secure=opts.secure(request), httponly=True,
                           samesite="lax")
        return resp

    async def static(request: Request) -> HTTPResponse:
        name = request.path_params["name"]
        body, kind = STATIC.get(name, ("", ""))
        if not kind:
            return PlainTextResponse("not found", status_code=404)
        return HTTPResponse(body, media_type=kind, headers={"Cache-Control": "no-cache"})

    def filters(request: Request) -> dict[str, str | None]:
        q = request.query_params
        # A NUL cannot reach PostgreSQL: replaced, so such a filter simply matches nothing.
        return {k: ((q.get(k) or "").replace("\x00", "\ufffd")[:200] or None)
                for k in ("customer", "severity", "assignee")}

    def listing(request: Request) -> dict[str, Any]:
        f = filters(request)
        at = clock()
        with session_scope(eng, clock) as s:
            rows = open_tickets(s, pol, at, f["customer"], f["severity"], f["assignee"],
                                horizon=refresh_seconds * 2)
            choices = {
                "customer": [c.code for c in s.exec(select(Customer).order_by(
                    col(Customer.code)))],
                "severity": list(pol.severities),
                "assignee": [c.name for c in s.exec(select(Contact).where(
                    col(Contact.role).in_(STAFF)).order_by(col(Contact.name)))],
            }
        return {"tickets": rows, "choices": choices, "filters": f,
                "as_of": f"{at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"}

    def index(request: Request) -> HTTPResponse:
        user = user_of(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        data = listing(request)
        return page("Open tickets", ticket_list_html(
            data["tickets"], data["filters"], data["choices"], refresh_seconds, data["as_of"]),
            user.name)

    def api_tickets(request: Request) -> HTTPResponse:
        if user_of(request) is None:
            return JSONResponse({"error": "log in first"}, status_code=401)
        data = listing(request)
        return JSONResponse({"tickets": data["tickets"], "as_of": data["as_of"]})

    def ticket_page(request: Request) -> HTTPResponse:
        user = user_of(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        number = ticket_store.parse_ticket_number(str(request.path_params["number"]))
        if number is None:
            return PlainTextResponse("no such ticket", status_code=404)
        at = clock()
        with session_scope(eng, clock) as s:
            t = s.get(Ticket, number)
            if t is None:
                return page("Not found", f"<p>No ticket #{number}.</p>", user.name)
            view = ticket_store.view(s, pol, t, at)
            clocks = clock_rows(s, pol, view, at, refresh_seconds * 2)
            items = timeline(s, pol, t, at)
            tz = view.zone.key
            head = ticket_head_html(t, view, tz)
            report = ticket_report.build(s, pol, t, at, view)
        body = ticket_body_html(head, clocks, items, tz, report_html(report))
        refresh = f"<meta http-equiv='refresh' content='{refresh_seconds}'>"
        return page(f"Ticket #{number}: {t.summary}", body, user.name, refresh)

    def attachment(request: Request) -> HTTPResponse:
        """One attachment of one ticket, to staff only. The file is the one its database row
        names: nothing of the URL reaches the filesystem, and an attachment of another ticket
        is not found."""
        if user_of(request) is None:
            return RedirectResponse("/login", status_code=303)
        number = ticket_store.parse_ticket_number(str(request.path_params["number"]))
        aid = ticket_store.parse_ticket_number(str(request.path_params["aid"]))  # same range
        if number is None or aid is None:
            return PlainTextResponse("no such attachment", status_code=404)
        with session_scope(eng, clock) as s:
            row = s.get(Attachment, aid)
            if row is None or row.ticket_id != number:
                return PlainTextResponse("no such attachment", status_code=404)
            path, name, kind = Path(row.path), row.filename, row.content_type
        if not path.is_file():
            log.warning("attachment %s of ticket #%s is missing on disk", aid, number)
            return PlainTextResponse("the attachment's file is missing", status_code=404)
        # Content-Disposition: attachment (Starlette quotes the name, RFC 5987 when not ASCII);
        # nosniff: the browser keeps to the stored type and downloads, never renders.
        return FileResponse(path, media_type=kind or "application/octet-stream",
                            filename=Path(name).name or "file",
                            headers={"X-Content-Type-Options": "nosniff",
                                     "Cache-Control": "private, no-store"})

    def report_args(request: Request) -> tuple[Month, str | None] | str:
        q = request.query_params
        try:
            month = Month.parse(q["month"]) if q.get("month") else \
                Month.containing(clock(), "UTC")
        except ValueError as exc:
            return str(exc)
        return month, (q.get("customer") or None)

    def report_page(request: Request) -> HTTPResponse:
        user = user_of(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        args = report_args(request)
        if isinstance(args, str):
            return page("Monthly report", f"<p class='err'>{e(args)}</p>", user.name)
        month, code = args
        from ..report_render import to_markdown

        with session_scope(eng, clock) as s:
            codes = [c.code for c in s.exec(select(Customer).order_by(col(Customer.code)))]
            if code and code not in codes:
                return page("Monthly report", f"<p class='err'>unknown customer {e(code)}</p>",
                            user.name)
            report = monthly_report(s, pol, month, code, clock())
        body = report_body_html(month, codes, code, to_markdown(report))
        return page("Monthly report", body, user.name)

    def report_png(request: Request) -> HTTPResponse:
        if user_of(request) is None:
            return PlainTextResponse("log in first", status_code=401)
        args = report_args(request)
        if isinstance(args, str):
            return PlainTextResponse(args, status_code=400)
        import tempfile

        from ..report_render import render_png

        with session_scope(eng, clock) as s:
            try:
                report = monthly_report(s, pol, args[0], args[1], clock())
            except ValueError as exc:
                return PlainTextResponse(str(exc), status_code=400)
        with tempfile.TemporaryDirectory() as tmp:
            data = render_png(report, Path(tmp) / "chart.png").read_bytes()
        return HTTPResponse(data, media_type="image/png")

    async def health(request: Request) -> HTTPResponse:
        return PlainTextResponse("ok")

    routes = [
        Route("/", index),
        Route("/login", login_get, methods=["GET"]),
        Route("/login", login_post, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/static/{name}", static),
        Route("/api/tickets", api_tickets),
        Route("/ticket/{number}", ticket_page),
        Route("/ticket/{number}/attachments/{aid}", attachment),
        Route("/report", report_page),
        Route("/report.png", report_png),
        Route("/healthz", health),
    ]
    # Outermost first: the proxy's X-Forwarded-For / -Proto are applied (only from a trusted
    # proxy), then every response gets the security headers.
    middleware = [Middleware(ProxyHeadersMiddleware, trusted_hosts=opts.trusted_proxies or []),
                  Middleware(SecurityHeaders)]
    return Starlette(routes=routes, middleware=middleware)


CROSS_SITE = "This form must be sent from the dashboard's own page (cross-site request refused)."
STATIC = {"dashboard.css": (CSS, "text/css"), "ticker.js": (TICKER_JS, "text/javascript")}
