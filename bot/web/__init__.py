"""The support manager's live dashboard: a small read-only Starlette app behind a login.

Pages: open tickets with a countdown per clock (coloured by the elapsed fraction, filtered by
customer, severity and assignee), a ticket's timeline (events, pauses, reminder thresholds,
breaches) and the monthly SLA report. The ticket list refreshes itself from ``/api/tickets``
every ``refresh`` seconds; between refreshes the countdowns tick in the browser, and only for
clocks whose business calendar is open (the server says for how many seconds they may tick).

Login: engineer and manager contacts with a password (``destek contact password NAME``),
hashed with scrypt; the session cookie is signed (Starlette's SessionMiddleware). Customers,
inactive contacts, unknown names and wrong passwords are refused with the same message.

Modules: :mod:`.app` (routes), :mod:`.auth` (passwords, who may log in), :mod:`.data` (what
the pages show), :mod:`.pages` (their HTML), :mod:`.server` (uvicorn inside ``destek run``),
:mod:`.demo_access` (``destek demo``).
"""

from .app import create_app
from .auth import authenticate, hash_password, set_password, verify_password
from .server import DashboardService, dashboard_url

__all__ = ["DashboardService", "authenticate", "create_app", "dashboard_url",
           "hash_password", "set_password", "verify_password"]
