"""``destek demo``: dashboard passwords for the demo staff, and how to log in."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from storage.directory import find_contact

from .auth import STAFF, hash_password, verify_password
from .server import dashboard_url

DEMO_PASSWORD = "destek-demo"
DEMO_STAFF = ("Elif Şahin", "Deniz Yılmaz")


def demo_dashboard_lines(session: Session, cfg: Any) -> list[str]:
    """``destek demo``: give the demo manager and engineer the demo password; say where the
    dashboard is and how to log in."""
    names = []
    for name in DEMO_STAFF:
        contact = find_contact(session, name)
        if contact is not None and contact.role in STAFF:
            if not verify_password(DEMO_PASSWORD, contact.password_hash):
                contact.password_hash = hash_password(DEMO_PASSWORD)
                session.add(contact)
            names.append(name)
    if not names:
        return []
    port = cfg.dashboard_port or 8090
    return ["", f"Dashboard: {dashboard_url(cfg.http_host, port)} (served by `destek run`, "
                f"or alone by `destek dashboard --port {port}`)",
            f"  log in as {' or '.join(names)} with the password {DEMO_PASSWORD!r}"]
