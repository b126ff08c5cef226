"""The dashboard app: Starlette routes behind a login, reading the database per request."""

from __future__ import annotations

import logging
import secrets
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
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse
from starlette.responses import Response as HTTPResponse
from starlette.routing import Route

from handlers import ticket_report
from handlers.reports import monthly_report
from sla import Policy
from sla.attainment import Month
from storage import tickets as ticket_store
from storage.clock import system_clock
from storage.db import engine_for, session_scope
from storage.models import Attachment, Contact, Customer, Ticket

from .auth import REFUSED, STAFF, authenticate
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

log = logging.getLogger("destek.dashboard")


def create_app(
    database_url: str | None = None,
    policy: Policy | None = None,
    secret: str | None = None,
    now: Callable[[], datetime] | None = None,
    refresh_seconds: int = 15,
    engine: Engine | None = None,
    https_only: bool = False,
) -> Starlette:
    """The dashboard app. ``secret`` signs the session cookie (random per process when None:
    sessions then end with a restart)."""
    if engine is None:
        assert database_url is not None
        engine = engine_for(database_url)
    if policy is None:
        from sla import load_policy

        policy = load_policy()
    pol: Policy = policy
    eng: Engine = engine
    clock = now or system_clock

    def user_of(request: Request) -> Contact | None:
        uid = request.session.get("uid")
        if not isinstance(uid, int):
            return None
        with session_scope(eng, clock) as s:
            c = s.get(Contact, uid)
            if c is None or c.role not in STAFF or not c.active:
                return None
            s.expunge(c)
            return c

    async def login_get(request: Request) -> HTTPResponse:
        return login_page()

    async def login_post(request: Request) -> HTTPResponse:
        body = (await request.body()).decode("utf-8", "replace")
        form = {k: v[0] for k, v in parse_qs(body).items()}

        def check() -> tuple[int, str] | None:
            with session_scope(eng, clock) as s:
                c = authenticate(s, form.get("name", ""), form.get("password", ""))
                return None if c is None else (c.id or 0, c.name)

        who = await run_in_threadpool(check)
        if who is None:
            log.info("dashboard login refused for %r", form.get("name", "")[:80])
            return login_page(REFUSED, 401)
        request.session.clear()
        request.session["uid"] = who[0]
        return RedirectResponse("/", status_code=303)

    async def logout(request: Request) -> HTTPResponse:
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    def filters(request: Request) -> dict[str, str | None]:
        q = request.query_params
        return {k: (q.get(k) or None) for k in ("customer", "severity", "assignee")}

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
        Route("/logout", logout, methods=["POST", "GET"]),
        Route("/api/tickets", api_tickets),
        Route("/ticket/{number}", ticket_page),
        Route("/ticket/{number}/attachments/{aid}", attachment),
        Route("/report", report_page),
        Route("/report.png", report_png),
        Route("/healthz", health),
    ]
    middleware = [Middleware(SessionMiddleware, secret_key=secret or secrets.token_hex(32),
                             session_cookie="destek_dashboard", max_age=12 * 3600,
                             same_site="strict", https_only=https_only)]
    return Starlette(routes=routes, middleware=middleware)
