"""The engineers' and managers' desk: a Starlette app behind a login.

Pages (Jinja2 templates in ``templates/``, CSS and the one script in ``static/``): the ticket
list with search (number, customer, contact, text), filters (status, customer, severity,
assignee, a date range), product, version, age, assignee and tier, live countdowns and the
on-call panel; a ticket's whole report and timeline with forms to act on it (each runs the
chat verb through ``handlers.commands.execute_command`` as the logged-in contact); the
monthly SLA report with md/csv/pdf downloads. Every time is in the viewer's zone, named.

Login: engineer and manager contacts with a password (``destek contact password NAME``),
hashed with scrypt. Sessions live in the database (a random token in an HttpOnly, SameSite=Lax
cookie, Secure per DESTEK_COOKIE_SECURE; only its hash stored; logout deletes it). Failed logins
are throttled per account and per client address. Every response carries a strict
Content-Security-Policy and the other security headers; forms are accepted only from the
dashboard's own origin, and the ticket forms only with the session's CSRF token.

Modules: :mod:`.app` (login, static files, attachments), :mod:`.views` (the desk's routes),
:mod:`.desk` (search and the on-call panel), :mod:`.data` (clocks and timelines),
:mod:`.actions` (forms to command lines, CSRF), :mod:`.pages` (templates and their data),
:mod:`.assets` (static files), :mod:`.auth` (passwords, who may log in), :mod:`.sessions`
(sessions, throttling), :mod:`.security` (headers, proxy, cookies, origin check),
:mod:`.server` (uvicorn inside ``destek run``), :mod:`.demo_access` (``destek demo``).
"""

from .app import create_app
from .auth import authenticate, hash_password, set_password, verify_password
from .security import WebOptions
from .server import DashboardService, dashboard_url

__all__ = ["DashboardService", "WebOptions", "authenticate", "create_app", "dashboard_url",
           "hash_password", "set_password", "verify_password"]
