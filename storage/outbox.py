"""Durable outbox: every outgoing notification is a row with a unique key before delivery."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from .models import OutboxMessage


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
        next_attempt_at=not_before or datetime.now(UTC),
    )
    try:
        with session.begin_nested():
            session.add(msg)
    except IntegrityError:
        return None
    return msg
