"""Durable outbox: every outgoing notification is a row with a unique key before delivery."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from .clock import clock_of
from .models import OutboxMessage

log = logging.getLogger(__name__)


def enqueue(
    session: Session,
    key: str,
    channel: str,
    target: str,
    text: str,
    *,
    thread: str | None = None,
    payload: dict[str, Any] | None = None,
    ticket_id: int | None = None,
    late: bool = False,
    not_before: datetime | None = None,
) -> OutboxMessage | None:
    """Queue a message once per ``key``; returns None when that key was already queued.

    Runs in a SAVEPOINT so a duplicate key does not spoil the caller's transaction.
    """
    if session.exec(select(OutboxMessage.id).where(OutboxMessage.key == key)).first():
        return None
    msg = OutboxMessage(
        key=key, channel=channel, target=target, thread=thread, text=text,
        payload=json.dumps(payload, ensure_ascii=False) if payload else None,
        ticket_id=ticket_id, late=late,
        next_attempt_at=not_before or clock_of(session)(),
    )
    try:
        with session.begin_nested():
            session.add(msg)
    except IntegrityError:
        return None
    _queued(session)
    return msg


# -- waking a worker ----------------------------------------------------------------------
# A worker in this process need not find a new row at its idle poll: once the transaction that
# queued it commits, every callback registered here runs, on the committing thread (so each
# must be cheap and thread-safe: DeliveryWorker.wake hands over to its event loop). A rollback
# wakes nothing. A SAVEPOINT rolled back after queueing keeps the mark: at worst one pass that
# finds nothing, never a row that waits for the poll.

_QUEUED_KEY = "destek.outbox_queued"
_wakers: list[Callable[[], None]] = []
_wakers_lock = threading.Lock()


def on_queued_commit(fn: Callable[[], None]) -> Callable[[], None]:
    """Call ``fn()`` after each commit that queued messages; returns the unregister function."""
    with _wakers_lock:
        _wakers.append(fn)

    def unregister() -> None:
        with _wakers_lock:
            if fn in _wakers:
                _wakers.remove(fn)

    return unregister


def _queued(session: Session) -> None:
    session.info[_QUEUED_KEY] = True


@event.listens_for(OrmSession, "after_commit")
def _wake_after_commit(session: OrmSession) -> None:
    # after_commit also fires when a SAVEPOINT is released: the rows are not visible yet.
    if session.in_nested_transaction() or not session.info.pop(_QUEUED_KEY, False):
        return
    with _wakers_lock:
        wakers = list(_wakers)
    for fn in wakers:
        try:
            fn()
        except Exception:  # noqa: BLE001 - the messages are queued; the poll finds them anyway
            log.exception("outbox wake callback failed")


@event.listens_for(OrmSession, "after_rollback")
def _forget_queued(session: OrmSession) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_QUEUED_KEY, None)


# -- delivery side ------------------------------------------------------------------------
# Statuses: pending (waiting for its next attempt), sending (claimed by one worker until the
# lease in next_attempt_at runs out), sent, failed (gave up). A claim is one conditional UPDATE,
# so two workers never both win the same row.

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


@dataclass(frozen=True)
class Claimable:
    """Which rows a worker takes, when it is not the only one (a console chat delivers the rows
    of the contacts at its terminal; ``destek run`` the rest). Per channel in ``only``: just
    those targets (an empty set: none); per channel in ``excluding``: every target but those;
    any other channel: all its rows when ``other_channels``, none otherwise. Rows left out stay
    queued for the worker that takes them."""

    only: Mapping[str, frozenset[str]] = field(default_factory=dict)
    excluding: Mapping[str, frozenset[str]] = field(default_factory=dict)
    other_channels: bool = True

    def condition(self) -> Any:
        """The SQL condition on outbox rows (``false()`` when nothing is claimable)."""
        from sqlalchemy import and_, false, or_, true

        channel, target = col(OutboxMessage.channel), col(OutboxMessage.target)
        parts: list[Any] = [and_(channel == ch, target.in_(sorted(ts)))
                            for ch, ts in self.only.items() if ts]
        parts += [and_(channel == ch, target.not_in(sorted(ts))) if ts else channel == ch
                  for ch, ts in self.excluding.items()]
        named = sorted({*self.only, *self.excluding})
        if self.other_channels:
            parts.append(channel.not_in(named) if named else true())
        return or_(*parts) if parts else false()


def claim(session: Session, now: datetime, lease_seconds: float = 60, limit: int = 50,
          only: Claimable | None = None) -> list[OutboxMessage]:
    """Claim up to ``limit`` due messages for this worker (on SQLite each claim commits);
    ``only`` narrows the rows it may take (None: every row).

    On PostgreSQL the candidate rows are locked with ``FOR UPDATE SKIP LOCKED`` so concurrent
    workers take different rows; everywhere the ``UPDATE ... WHERE status='pending'`` decides.
    """
    from datetime import timedelta

    from sqlalchemy import update

    query = (
        select(OutboxMessage.id)
        .where(OutboxMessage.status == PENDING, col(OutboxMessage.next_attempt_at) <= now)
        .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
        .limit(limit)
    )
    if only is not None:
        query = query.where(only.condition())
    sqlite = session.get_bind().dialect.name == "sqlite"
    if not sqlite:
        query = query.with_for_update(skip_locked=True)
    ids = list(session.exec(query))
    if sqlite:
        # End the read transaction first: on SQLite a reader that later writes after another
        # writer committed fails at once (SQLITE_BUSY_SNAPSHOT) instead of waiting.
        session.commit()
    lease = now + timedelta(seconds=lease_seconds)
    won: list[int] = []
    for mid in ids:
        result = session.exec(  # type: ignore[call-overload]
            update(OutboxMessage)
            .where(col(OutboxMessage.id) == mid, col(OutboxMessage.status) == PENDING)
            .values(status=SENDING, attempts=OutboxMessage.attempts + 1, next_attempt_at=lease)
        )
        if result.rowcount == 1 and mid is not None:
            won.append(mid)
        if sqlite:
            session.commit()
    if not won:
        return []
    session.expire_all()
    return list(
        session.exec(select(OutboxMessage).where(col(OutboxMessage.id).in_(won))
                     .order_by(col(OutboxMessage.id)))
    )


def mark_sent(session: Session, message_id: int, now: datetime, external_id: str | None) -> None:
    msg = session.get(OutboxMessage, message_id)
    if msg is not None:
        msg.status, msg.sent_at, msg.external_id, msg.last_error = SENT, now, external_id, None
        session.add(msg)


def settle(session: Session, key: str, now: datetime, external_id: str | None) -> bool:
    """The message of ``key`` was delivered another way (answered directly by the channel
    adapter): marked sent, unless a worker has claimed it already (one conditional UPDATE, as
    a claim is). True when it was settled."""
    done = session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.key) == key, col(OutboxMessage.status) == PENDING)
        .values(status=SENT, sent_at=now, external_id=external_id, last_error=None))
    return bool(getattr(done, "rowcount", 0))


def mark_retry(session: Session, message_id: int, at: datetime, error: str) -> None:
    msg = session.get(OutboxMessage, message_id)
    if msg is not None:
        msg.status, msg.next_attempt_at, msg.last_error = PENDING, at, error[:2000]
        session.add(msg)


def mark_failed(session: Session, message_id: int, error: str) -> None:
    msg = session.get(OutboxMessage, message_id)
    if msg is not None:
        msg.status, msg.last_error = FAILED, error[:2000]
        session.add(msg)


def release_expired(session: Session, now: datetime) -> int:
    """Put back messages whose worker died mid-send (lease over). Such a message may have
    reached the channel just before the crash: this is the one window of a repeat."""
    from sqlalchemy import update

    result = session.exec(  # type: ignore[call-overload]
        update(OutboxMessage)
        .where(col(OutboxMessage.status) == SENDING, col(OutboxMessage.next_attempt_at) <= now)
        .values(status=PENDING, next_attempt_at=now)
    )
    return int(result.rowcount or 0)


def keys_for_tickets(session: Session, ticket_ids: list[int] | None = None) -> set[str]:
    """Keys already queued for these tickets (all tickets when None)."""
    query = select(OutboxMessage.key)
    if ticket_ids is not None:
        query = query.where(col(OutboxMessage.ticket_id).in_(ticket_ids))
    return set(session.exec(query))


def for_ticket(session: Session, ticket_id: int) -> list[OutboxMessage]:
    return list(session.exec(
        select(OutboxMessage).where(OutboxMessage.ticket_id == ticket_id)
        .order_by(col(OutboxMessage.created_at), col(OutboxMessage.id))
    ))


def next_due_at(session: Session, only: Claimable | None = None) -> datetime | None:
    """When the earliest pending message (of those ``only`` lets a worker take) may be tried."""
    query = select(OutboxMessage.next_attempt_at).where(OutboxMessage.status == PENDING)
    if only is not None:
        query = query.where(only.condition())
    return session.exec(query.order_by(col(OutboxMessage.next_attempt_at)).limit(1)).first()


def enqueue_many(session: Session, rows: list[dict[str, Any]]) -> int:
    """Queue many messages at once (``key``, ``channel``, ``target``, ``text`` and optionally
    ``thread``, ``ticket_id``, ``late``, ``next_attempt_at``); keys already queued are skipped
    (``ON CONFLICT DO NOTHING``, so a racing writer cannot fail the transaction).
    Returns how many were new."""
    if not rows:
        return 0
    keys = [r["key"] for r in rows]
    existing: set[str] = set()
    for i in range(0, len(keys), 500):
        existing |= set(session.exec(
            select(OutboxMessage.key).where(col(OutboxMessage.key).in_(keys[i:i + 500]))))
    now = clock_of(session)()
    fresh: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["key"] in existing or r["key"] in fresh:
            continue
        fresh[r["key"]] = {
            "thread": None, "payload": None, "ticket_id": None, "late": False,
            "next_attempt_at": now, "status": PENDING, "attempts": 0, "last_error": None,
            "created_at": now, "sent_at": None, "external_id": None, **r,
        }
    if not fresh:
        return 0
    dialect = session.get_bind().dialect.name
    stmt: Any
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(OutboxMessage).on_conflict_do_nothing(index_elements=["key"])
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(OutboxMessage).on_conflict_do_nothing(index_elements=["key"])
    else:  # pragma: no cover - other databases: one savepoint per message
        n = 0
        for r in fresh.values():
            n += enqueue(session, r["key"], r["channel"], r["target"], r["text"],
                         thread=r["thread"], ticket_id=r["ticket_id"], late=r["late"]) is not None
        return n
    session.execute(stmt, list(fresh.values()))
    _queued(session)
    return len(fresh)
