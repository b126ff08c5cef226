"""Leases in the database: which replica is the leader, without any other coordinator.

``acquire(engine, name, holder, ttl)`` takes the lease when it is free or expired, or renews it
when ``holder`` already has it, in ONE conditional statement, so two replicas can never both
win. Expiry is computed by the database's clock (``clock_timestamp()`` on PostgreSQL,
``julianday('now')`` on SQLite): replicas whose clocks disagree still agree on who holds it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

LEADER = "leader"


@dataclass(frozen=True, slots=True)
class LeaseState:
    name: str
    holder: str
    term: int
    expires_at: float  # epoch seconds (database clock)
    now: float  # the database clock when read

    @property
    def remaining(self) -> float:
        return self.expires_at - self.now


def _now_sql(conn: Connection) -> str:
    if conn.dialect.name == "postgresql":
        return "extract(epoch from clock_timestamp())::float8"
    return "((julianday('now') - 2440587.5) * 86400.0)"


def db_now(engine: Engine) -> float:
    """Epoch seconds by the database's clock."""
    with engine.connect() as conn:
        return float(conn.execute(text(f"SELECT {_now_sql(conn)}")).scalar_one())


def acquire(engine: Engine, name: str, holder: str, ttl: float) -> LeaseState | None:
    """Take or renew ``name`` for ``holder`` for ``ttl`` seconds; None when someone else holds
    an unexpired lease. The term grows when the holder changes."""
    with engine.begin() as conn:
        now = _now_sql(conn)
        params = {"name": name, "holder": holder, "ttl": float(ttl)}
        row = conn.execute(text(
            f"UPDATE leases SET "
            f"term = CASE WHEN holder = :holder THEN term ELSE term + 1 END, "
            f"acquired_at = CASE WHEN holder = :holder THEN acquired_at ELSE {now} END, "
            f"holder = :holder, expires_at = {now} + :ttl "
            f"WHERE name = :name AND (holder = :holder OR expires_at <= {now}) "
            f"RETURNING holder, term, expires_at, {now}"
        ), params).first()
        if row is None:
            row = conn.execute(text(
                f"INSERT INTO leases (name, holder, term, acquired_at, expires_at) "
                f"VALUES (:name, :holder, 1, {now}, {now} + :ttl) "
                f"ON CONFLICT (name) DO NOTHING "
                f"RETURNING holder, term, expires_at, {now}"
            ), params).first()
        if row is None:
            return None
        return LeaseState(name, str(row[0]), int(row[1]), float(row[2]), float(row[3]))


def release(engine: Engine, name: str, holder: str) -> bool:
    """Give the lease up at once (clean shutdown) so another replica need not wait for expiry."""
    with engine.begin() as conn:
        result = conn.execute(text(
            f"UPDATE leases SET expires_at = {_now_sql(conn)} - 1 "
            f"WHERE name = :name AND holder = :holder"
        ), {"name": name, "holder": holder})
        return bool(result.rowcount)


def current(engine: Engine, name: str = LEADER) -> LeaseState | None:
    """The lease as stored (expired or not), or None when never taken."""
    with engine.connect() as conn:
        row = conn.execute(text(
            f"SELECT holder, term, expires_at, {_now_sql(conn)} FROM leases WHERE name = :name"
        ), {"name": name}).first()
    if row is None:
        return None
    return LeaseState(name, str(row[0]), int(row[1]), float(row[2]), float(row[3]))


def held(engine: Engine, prefix: str) -> list[LeaseState]:
    """The unexpired leases whose name starts with ``prefix`` (the console's terminals)."""
    with engine.connect() as conn:
        now = _now_sql(conn)
        rows = conn.execute(text(
            f"SELECT name, holder, term, expires_at, {now} FROM leases "
            f"WHERE substr(name, 1, :n) = :prefix AND expires_at > {now}"
        ), {"prefix": prefix, "n": len(prefix)}).all()
    return [LeaseState(str(r[0]), str(r[1]), int(r[2]), float(r[3]), float(r[4])) for r in rows]
