"""Inbound deliveries seen (Slack event ids, Telegram update ids): each has its effect once.

The key is claimed in the same transaction as the delivery's effect, so a crash before the
commit forgets both and a redelivery is processed; after the commit a redelivery is refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from .models import ProcessedDelivery

_TABLE = ProcessedDelivery.__table__  # type: ignore[attr-defined]
# Built once per dialect: only the values change from one delivery to the next.
_CLAIM: dict[str, Any] = {
    name: dialect.insert(_TABLE).on_conflict_do_nothing(index_elements=["key"])
    .returning(_TABLE.c.key)  # psycopg reports no rowcount here: a row back, or none
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_SEEN = select(_TABLE.c.key).where(_TABLE.c.key.in_(bindparam("keys", expanding=True)))


def claim(session: Session, key: str, at: datetime) -> bool:
    """Record a delivery; False when it was already recorded (a retry or a duplicate).

    One ``INSERT .. ON CONFLICT DO NOTHING`` with no SAVEPOINT or ORM flush. A concurrent
    first delivery holds the key's lock until it commits; this one then gets False."""
    conn = session.connection()
    return conn.execute(_CLAIM[conn.dialect.name], {"key": key, "at": at}).first() is not None


def seen(session: Session, keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` were recorded already."""
    wanted = list(keys)
    if not wanted:
        return set()
    return set(session.connection().execute(_SEEN, {"keys": wanted}).scalars())
