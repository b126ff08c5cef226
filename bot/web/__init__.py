"""The support manager's live dashboard: a small read-only Starlette app behind a login.

Pages: open tickets with a countdown per clock (coloured by the elapsed fraction, filtered by
customer, severity and assignee), a ticket's timeline (events, pauses, reminder thresholds,
breaches) and the monthly SLA report. The ticket list refreshes itself from ``/api/tickets``
every ``refresh`` seconds; between refreshes the countdowns tick in the browser, and only for
clocks whose business calendar is open (the server says for how many seconds they may tick).

Login: engineer and manager contacts with a password (``destek contact password NAME``),
hashed with scrypt. Sessions live in the database (a random token in an HttpOnly, SameSite=Lax
cookie, Secure per DESTEK_COOKIE_SECURE; only its hash stored; logout deletes it). Failed logins
are throttled per account and per client address. Customers, inactive contacts, unknown names
and wrong passwords are refused with the same message and the same hashing work. Every
response carries a strict Content-Security-Policy and the other security headers; forms are
accepted only from the dashboard's own origin.

Modules: :mod:`.app` (routes), :mod:`.auth` (passwords, who may log in), :mod:`.data` (what
the pages show), :mod:`.pages` (their HTML), :mod:`.assets` (CSS and the countdown script),
:mod:`.sessions` (sessions, throttling), :mod:`.security` (headers, proxy, cookies, origin
check), :mod:`.server` (uvicorn inside ``destek run``), :mod:`.demo_access` (``destek demo``).
"""

from .app import create_app
from .auth import authenticate, hash_password, set_password, verify_password
from .security import WebOptions
from .server import DashboardService, dashboard_url

__all__ = ["DashboardService", "WebOptions", "authenticate", "create_app", "dashboard_url",
           "hash_password", "set_password", "verify_password"]
