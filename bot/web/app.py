"""The dashboard app: Starlette routes behind a login, reading the database per request.

The login, logout, static files and attachments are here; the desk's pages and actions are
in :mod:`.views`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse
from starlette.responses import Response as HTTPResponse
from starlette.routing import Route
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from handlers.types import Routing
from sla import Policy
from storage import tickets as ticket_store
from storage.clock import system_clock
from storage.db import engine_for, session_scope
from storage.models import Attachment

from . import sessions as web_sessions
from .assets import static_files
from .auth import REFUSED, account_key, check_login, resolve
from .pages import login_page
from .security import COOKIE, SecurityHeaders, WebOptions, same_origin
from .views import CROSS_SITE, Desk, desk_routes

log = logging.getLogger("destek.dashboard")


def create_app(
    database_url: str | None = None,
    policy: Policy | None = None,
    now: Callable[[], datetime] | None = None,
    refresh_seconds: int = 15,
    engine: Engine | None = None,
    options: WebOptions | None = None,
    routing: Routing | None = None,
) -> Starlette:
    """The dashboard app on ``engine`` (or ``database_url``). ``options``: cookies, the trusted
    proxy, session lifetime and login throttling (``WebOptions.from_settings``); ``routing``:
    where the actions' engineer notices go and the default zone (else from the settings)."""
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
    desk = Desk(eng, pol, clock, refresh_seconds, routing or _settings_routing())
    user_of = desk.user_of
    static_data = static_files()

    async def login_get(request: Request) -> HTTPResponse:
        return login_page(request)

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
            locked = login_page(request, outcome.message, 429)
            locked.headers["Retry-After"] = str(outcome.minutes * 60)
            return locked
        if outcome is None:
            log.info("dashboard login refused for %r from %s", name[:80], address)
            return login_page(request, REFUSED, 401)
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
        body, kind = static_data.get(name, ("", ""))
        if not kind:
            return PlainTextResponse("not found", status_code=404)
        return HTTPResponse(body, media_type=kind, headers={"Cache-Control": "no-cache"})

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

    async def health(request: Request) -> HTTPResponse:
        return PlainTextResponse("ok")

    routes = [
        Route("/login", login_get, methods=["GET"]),
        Route("/login", login_post, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/static/{name}", static),
        Route("/ticket/{number}/attachments/{aid}", attachment),
        Route("/healthz", health),
        *desk_routes(desk),
    ]
    # Outermost first: the proxy's X-Forwarded-For / -Proto are applied (only from a trusted
    # proxy), then every response gets the security headers.
    middleware = [Middleware(ProxyHeadersMiddleware, trusted_hosts=opts.trusted_proxies or []),
                  Middleware(SecurityHeaders)]
    return Starlette(routes=routes, middleware=middleware)



def _settings_routing() -> Routing:
    """The routing of the process's settings (``destek run`` / ``destek dashboard``); the
    empty routing (nobody told, DESTEK_ENGINEERS_TZ's default) when they cannot be read."""
    try:
        from ..config import get_settings
        from ..routing import routing_from_settings

        return routing_from_settings(get_settings())
    except Exception:  # noqa: BLE001 - the dashboard still serves; actions tell nobody extra
        log.exception("dashboard: no routing from the settings; engineers' notices are off")
        return Routing()
