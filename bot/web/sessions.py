"""Server-side dashboard sessions and login throttling, both in the database.

A session is a random token in the cookie and the SHA-256 of it in ``dashboard_sessions``: the
cookie means nothing once its row is gone (logout, expiry, a new password), and the database
alone lets nobody in. Failed logins are rows of ``login_failures`` counted over a window per
account and per client address, so every replica behind a load balancer counts the same
failures. Two replicas refusing at the same instant may each let one more attempt through
(count, then insert, without a lock): a few extra tries in a window, never unlimited ones.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from storage.models import DashboardSession, LoginFailure

ACCOUNT, ADDRESS = "account", "address"


def token_hash(token: str) -> str:
    """The stored form of a session token (hex SHA-256: the token is 256 random bits, so a
    fast hash is enough, unlike a password)."""
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def start_session(session: Session, contact_id: int, now: datetime, lifetime: timedelta) -> str:
    """A new session for ``contact_id``; returns the token for the cookie (stored hashed).
    Expired sessions of everybody are removed on the way."""
    session.exec(delete(DashboardSession).where(  # type: ignore[call-overload]
        col(DashboardSession.expires_at) <= now))
    token = secrets.token_urlsafe(32)
    session.add(DashboardSession(token_hash=token_hash(token), contact_id=contact_id,
                                 expires_at=now + lifetime))
    return token


def session_contact(session: Session, token: str | None, now: datetime) -> int | None:
    """The contact id of a live session with this token, else None (expired rows go)."""
    if not token or len(token) > 200:
        return None
    row = session.exec(select(DashboardSession).where(
        DashboardSession.token_hash == token_hash(token))).first()
    if row is None:
        return None
    if row.expires_at <= now:
        session.delete(row)
        return None
    return row.contact_id


def end_session(session: Session, token: str | None) -> bool:
    """Log out: delete the session's row, so the same cookie (or a copy) no longer works."""
    if not token or len(token) > 200:
        return False
    result = session.exec(delete(DashboardSession).where(  # type: ignore[call-overload]
        col(DashboardSession.token_hash) == token_hash(token)))
    return bool(result.rowcount)


def end_sessions_of(session: Session, contact_id: int) -> None:
    """Every session of a contact ends (their password changed, or they left)."""
    session.exec(delete(DashboardSession).where(  # type: ignore[call-overload]
        col(DashboardSession.contact_id) == contact_id))


@dataclass(frozen=True)
class Throttle:
    """How many failed logins an account and a client address may have within ``window``."""

    per_account: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class Locked:
    """A refused attempt: which limit was reached and for how many more minutes."""

    scope: str
    minutes: int

    @property
    def message(self) -> str:
        """What the login page says."""
        unit = "minute" if self.minutes == 1 else "minutes"
        whose = "for this account" if self.scope == ACCOUNT else "from your address"
        return (f"Too many failed logins {whose}; try again in {self.minutes} {unit}.")


def locked(session: Session, rules: Throttle, account: str, address: str,
           now: datetime) -> Locked | None:
    """Whether the account or the address has reached its limit of failures in the window."""
    since = now - rules.window
    for scope, key, limit in ((ACCOUNT, account, rules.per_account),
                              (ADDRESS, address, rules.per_address)):
        if limit <= 0:
            continue
        count, oldest = session.exec(
            select(func.count(), func.min(LoginFailure.at)).where(
                LoginFailure.scope == scope, LoginFailure.key == key[:200],
                col(LoginFailure.at) > since)).one()
        if count >= limit and oldest is not None:
            # Free again when enough of the counted failures have left the window; the oldest
            # leaving is the earliest that can happen, so say that (rounded up).
            seconds = (oldest + rules.window - now).total_seconds()
            return Locked(scope, max(1, math.ceil(seconds / 60)))
    return None


def record_failure(session: Session, rules: Throttle, account: str, address: str,
                   now: datetime) -> None:
    """Count one refused login against the account and the address (and drop old rows)."""
    session.exec(delete(LoginFailure).where(  # type: ignore[call-overload]
        col(LoginFailure.at) <= now - rules.window))
    session.add(LoginFailure(scope=ACCOUNT, key=account[:200], at=now))
    session.add(LoginFailure(scope=ADDRESS, key=address[:200], at=now))


def reset_account(session: Session, account: str) -> None:
    """A successful login clears the account's failures (the address keeps its count)."""
    session.exec(delete(LoginFailure).where(  # type: ignore[call-overload]
        col(LoginFailure.scope) == ACCOUNT, col(LoginFailure.key) == account[:200]))
