"""The desk's pages behind the login: the ticket list with search and filters, a ticket's page
and its actions, the monthly report with its downloads. :class:`Desk` holds what every route
needs (database, policy, clock, routing); :func:`desk_routes` lists the routes."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from sqlalchemy.engine import Engine
from sqlmodel import col, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse
from starlette.responses import Response as HTTPResponse
from starlette.routing import Route

from handlers import ticket_report
from handlers.commands import execute_command
from handlers.reports import monthly_report
from handlers.types import Routing
from sla import Policy
from sla.attainment import Month, local
from storage import tickets as ticket_store
from storage.db import session_scope
from storage.models import Contact, Customer, Ticket

from . import sessions as web_sessions
from .actions import ActionError, command_line, csrf_ok, csrf_token, read_flash, sign_flash
from .auth import STAFF
from .data import clock_rows, timeline
from .desk import (
    LIMIT,
    STATUSES,
    TZ_COOKIE,
    Filters,
    desk_rows,
    oncall_panel,
    viewer_zone,
    zone_label,
)
from .pages import monthly_context, render, report_context, script_json, ticket_head
from .security import COOKIE, same_origin

log = logging.getLogger("destek.dashboard")

CROSS_SITE = "This form must be sent from the dashboard's own page (cross-site request refused)."
BAD_TOKEN = ("This form's security token is missing or stale (cross-site request refused); "
             "reload the page and try again.")
STATUS_NAMES = {"active": "open and waiting", "open": "open", "pending": "waiting",
                "resolved": "resolved", "closed": "closed", "all": "every status"}
DOWNLOADS = {"md": "text/markdown; charset=utf-8", "csv": "text/csv; charset=utf-8",
             "pdf": "application/pdf"}


@dataclass
class Desk:
    """What the desk's routes share."""

    engine: Engine
    policy: Policy
    clock: Callable[[], datetime]
    refresh: int
    routing: Routing

    def user_of(self, request: Request) -> Contact | None:
        """The logged-in staff contact of this request's session cookie, else None."""
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        with session_scope(self.engine, self.clock) as s:
            uid = web_sessions.session_contact(s, token, self.clock())
            c = s.get(Contact, uid) if uid is not None else None
            if c is None or c.role not in STAFF or not c.active:
                return None
            s.expunge(c)
            return c

    def zone(self, request: Request) -> str:
        """The viewer's zone: their browser's (cookie), else DESTEK_ENGINEERS_TZ."""
        return viewer_zone(request.cookies.get(TZ_COOKIE), self.routing.engineers_tz)

    def page(self, request: Request, user: Contact, name: str, status: int = 200,
             **context: Any) -> HTTPResponse:
        """A template for a logged-in user, the zone named in the navigation."""
        tz = self.zone(request)
        return render(request, name, status, user=user.name,
                      zone=zone_label(tz, self.clock()), zone_name=tz, **context)

    # -- the ticket list ---------------------------------------------------------------------

    def listing(self, request: Request) -> dict[str, Any]:
        f = Filters.from_query(request.query_params)
        at, tz = self.clock(), self.zone(request)
        with session_scope(self.engine, self.clock) as s:
            rows = desk_rows(s, self.policy, at, f, tz, horizon=self.refresh * 2)
            choices = {
                "customer": [c.code for c in s.exec(select(Customer).order_by(
                    col(Customer.code)))],
                "severity": list(self.policy.severities),
                "assignee": [c.name for c in s.exec(select(Contact).where(
                    col(Contact.role).in_(STAFF)).order_by(col(Contact.name)))],
            }
            oncall = oncall_panel(s, at, tz)
        return {"tickets": rows, "choices": choices, "filters": f, "oncall": oncall,
                "as_of": f"{local(at, tz)} ({zone_label(tz, at)})"}

    def index(self, request: Request) -> HTTPResponse:
        user = self.user_of(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        d = self.listing(request)
        return self.page(request, user, "index.html", title="Tickets", tickets=d["tickets"],
                         filters=d["filters"].as_dict(), choices=d["choices"],
                         oncall=d["oncall"], as_of=d["as_of"], refresh=self.refresh,
                         statuses=STATUSES, status_names=STATUS_NAMES, limit=LIMIT,
                         error=d["filters"].error, data_json=script_json(d["tickets"]))

    def api_tickets(self, request: Request) -> HTTPResponse:
        if self.user_of(request) is None:
            return JSONResponse({"error": "log in first"}, status_code=401)
        d = self.listing(request)
        return JSONResponse({"tickets": d["tickets"], "as_of": d["as_of"]})

    # -- one ticket --------------------------------------------------------------------------

    def ticket_page(self, request: Request) -> HTTPResponse:
        user = self.user_of(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        number = ticket_store.parse_ticket_number(str(request.path_params["number"]))
        if number is None:
            return PlainTextResponse("no such ticket", status_code=404)
        at, tz = self.clock(), self.zone(request)
        token = request.cookies.get(COOKIE) or ""
        q = request.query_params
        flash = read_flash(token, q.get("said"), q.get("sig"))
        with session_scope(self.engine, self.clock) as s:
            t = s.get(Ticket, number)
            if t is None:
                return self.page(request, user, "message.html", 404, title="Not found",
                                 message=f"No ticket #{number}.")
            view = ticket_store.view(s, self.policy, t, at)
            ctx = {
                "head": ticket_head(t, view, tz),
                "clocks": clock_rows(s, self.policy, view, at, self.refresh * 2, tz),
                "items": timeline(s, self.policy, t, at, tz),
                **report_context(ticket_report.build(s, self.policy, t, at, view), tz),
                "engineers": [c.name for c in s.exec(select(Contact).where(
                    col(Contact.role).in_(STAFF), col(Contact.active).is_(True)).order_by(
                    col(Contact.name)))],
            }
            title = f"Ticket #{number}: {t.summary}"
        return self.page(request, user, "ticket.html", title=title, number=number,
                         csrf=csrf_token(token), flash=flash, severities=self.policy.severities,
                         **ctx)

    async def act(self, request: Request) -> HTTPResponse:
        """A ticket page form: checked (origin, token), turned into the chat verb's line and
        run as the logged-in contact; back to the ticket page with the verb's answer."""
        if not same_origin(request):
            log.warning("desk action refused: not from the dashboard's own page")
            return PlainTextResponse(CROSS_SITE, status_code=403)
        body = (await request.body()).decode("utf-8", "replace")
        form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        token = request.cookies.get(COOKIE)
        if not csrf_ok(token, form.get("csrf")):
            log.warning("desk action refused: no or wrong CSRF token")
            return PlainTextResponse(BAD_TOKEN, status_code=403)
        user = await run_in_threadpool(self.user_of, request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        number = ticket_store.parse_ticket_number(str(request.path_params["number"]))
        if number is None:
            return PlainTextResponse("no such ticket", status_code=404)
        try:
            line = command_line(number, form)
        except ActionError as exc:
            said = str(exc)
        else:
            said = await run_in_threadpool(self.run_line, user, line)
        raw, sig = sign_flash(token or "", said)
        return RedirectResponse(f"/ticket/{number}?{urlencode({'said': raw, 'sig': sig})}",
                                status_code=303)

    def run_line(self, user: Contact, line: str) -> str:
        """``line`` run exactly as the chat runs a staff command (one transaction; the hooks
        after its commit); the replies as one text."""
        with session_scope(self.engine, self.clock) as s:
            actor = s.get(Contact, user.id)
            replies = execute_command(s, self.policy, actor, line, self.clock(), self.routing)
        log.info("desk: %s ran %r", user.name, line.split(None, 2)[:2])
        return "\n".join(r.text for r in replies if r.text) or "done"

    # -- the monthly report ------------------------------------------------------------------

    def report_args(self, request: Request) -> tuple[Month, str | None] | str:
        q = request.query_params
        try:
            month = Month.parse(q["month"]) if q.get("month") else \
                Month.containing(self.clock(), self.zone(request))
        except ValueError as exc:
            return str(exc)
        return month, (q.get("customer") or None)

    def report_page(self, request: Request) -> HTTPResponse:
        user = self.user_of(request)
        if user is None:
            return RedirectResponse("/login", status_code=303)
        from ..report_render import DEFINITION

        args = self.report_args(request)
        title = "Monthly report"
        with session_scope(self.engine, self.clock) as s:
            codes = [c.code for c in s.exec(select(Customer).order_by(col(Customer.code)))]
            if isinstance(args, str):
                return self.page(request, user, "report.html", title=title, error=args,
                                 codes=codes, r=None, month="", code=None)
            month, code = args
            if code and code not in codes:
                return self.page(request, user, "report.html", title=title, codes=codes,
                                 error=f"unknown customer {code}", r=None, month=str(month),
                                 code=None)
            report = monthly_report(s, self.policy, month, code, self.clock())
        query = urlencode({"month": str(month), **({"customer": code} if code else {})})
        return self.page(request, user, "report.html", title=title, codes=codes, code=code,
                         month=str(month), query=query,
                         r=monthly_context(report, self.zone(request), DEFINITION))

    def report_file(self, request: Request) -> HTTPResponse:
        """``/report.{md,csv,pdf,png}``: the month's report as a download (the chart inline)."""
        if self.user_of(request) is None:
            return PlainTextResponse("log in first", status_code=401)
        fmt = str(request.path_params["fmt"])
        if fmt not in (*DOWNLOADS, "png"):
            return PlainTextResponse("unknown format", status_code=404)
        args = self.report_args(request)
        if isinstance(args, str):
            return PlainTextResponse(args, status_code=400)
        from ..report_render import render as render_report

        with session_scope(self.engine, self.clock) as s:
            try:
                report = monthly_report(s, self.policy, args[0], args[1], self.clock())
            except ValueError as exc:
                return PlainTextResponse(str(exc), status_code=400)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / f"report.{fmt}"
            made = render_report(report, fmt, out)
            data = made.read_bytes() if isinstance(made, Path) else made.encode("utf-8")
        if fmt == "png":
            return HTTPResponse(data, media_type="image/png")
        name = f"sla-report-{args[0]}{'-' + args[1] if args[1] else ''}.{fmt}"
        return HTTPResponse(data, media_type=DOWNLOADS[fmt], headers={
            "Content-Disposition": f'attachment; filename="{_safe_name(name)}"',
            "Cache-Control": "private, no-store"})


def _safe_name(name: str) -> str:
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in name)


def desk_routes(desk: Desk) -> list[Route]:
    """The desk's routes (behind the login; each checks it)."""
    return [
        Route("/", desk.index),
        Route("/api/tickets", desk.api_tickets),
        Route("/ticket/{number}", desk.ticket_page),
        Route("/ticket/{number}/act", desk.act, methods=["POST"]),
        Route("/report", desk.report_page),
        Route("/report.{fmt}", desk.report_file),
    ]
