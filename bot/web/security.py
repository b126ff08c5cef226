"""The dashboard's HTTP hardening: options from the settings, security headers on every
response, the trusted proxy, Secure cookies and the same-origin check on forms."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .sessions import Throttle

COOKIE = "destek_dashboard"
# No inline script or style at all (the countdown script and the CSS are files of the app,
# the data they read is JSON in a non-executable <script type="application/json">), no
# plugins, no <base> tricks, forms only to this site, and never inside a frame.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@dataclass(frozen=True)
class WebOptions:
    """What the settings say about cookies, proxies, sessions and login throttling."""

    cookie_secure: str = "auto"  # auto | true | false
    trusted_proxies: str = ""  # addresses / networks whose X-Forwarded-* are believed
    session_lifetime: timedelta = timedelta(hours=12)
    throttle: Throttle = field(default_factory=Throttle)

    @classmethod
    def from_settings(cls, cfg: Any) -> WebOptions:
        """The options of ``bot.config.Settings``."""
        return cls(cookie_secure=cfg.dashboard_cookie_secure,
                   trusted_proxies=cfg.dashboard_trusted_proxy or "",
                   session_lifetime=timedelta(hours=cfg.dashboard_session_hours),
                   throttle=Throttle(cfg.dashboard_login_limit,
                                     cfg.dashboard_login_address_limit,
                                     timedelta(minutes=cfg.dashboard_login_window)))

    def secure(self, request: Request) -> bool:
        """Whether the session cookie gets the Secure flag: always, never, or (auto) when
        the request came over HTTPS, as the trusted proxy's X-Forwarded-Proto tells."""
        if self.cookie_secure == "true":
            return True
        if self.cookie_secure == "false":
            return False
        return request.url.scheme == "https"


class SecurityHeaders:
    """ASGI middleware setting :data:`HEADERS` (and ``Cache-Control: no-store`` unless the
    route chose a cache policy) on every HTTP response, error pages included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                if "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def same_origin(request: Request) -> bool:
    """Whether a form POST comes from a page of this dashboard (the CSRF check beside the
    SameSite=Lax cookie): the browser's Origin header, or its Referer when there is no
    Origin, must name this host. Requests with neither are refused: every browser sends
    Origin with a form POST."""
    if request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
        return False
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        return False
    host = request.headers.get("host", "")
    try:
        given = urlsplit(source)
    except ValueError:
        return False
    return bool(given.netloc) and given.netloc.lower() == host.lower() and \
        given.scheme in ("http", "https")
