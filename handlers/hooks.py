"""Seam between ticket changes and the SLA scheduler: "this ticket changed", "this one opened".

A change to a ticket (pause, resume, reclassify, acknowledge, workaround, resolve, reopen,
assign) calls :func:`ticket_changed_on_commit`, the intake :func:`ticket_opened_on_commit`: the
listeners hear of it once the session commits (before that, another connection could not see
it), never if it rolls back. The scheduler registers itself with :func:`on_ticket_changed` and
reschedules that ticket's reminders. Until a listener registers, a notification is a no-op, so
handlers work the same without a scheduler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

__all__ = [
    "TicketChanged",
    "clear_listeners",
    "on_ticket_changed",
    "on_ticket_opened",
    "ticket_changed",
    "ticket_changed_on_commit",
    "ticket_opened_on_commit",
]

TicketChanged = Callable[[int], None]

_log = logging.getLogger(__name__)
_listeners: list[TicketChanged] = []
_opened_listeners: list[TicketChanged] = []
_OPENED_KEY = "destek.opened_tickets"  # session.info: tickets opened in this transaction
_CHANGED_KEY = "destek.changed_tickets"  # session.info: tickets changed in this transaction


def on_ticket_changed(fn: TicketChanged) -> Callable[[], None]:
    """Register ``fn(ticket_id)``; returns a function that unregisters it."""
    _listeners.append(fn)

    def unregister() -> None:
        if fn in _listeners:
            _listeners.remove(fn)

    return unregister


def ticket_changed(ticket_id: int) -> None:
    """Tell every listener that ``ticket_id`` changed (after the change is committed).

    A failing listener is logged, never raised: the change itself has already happened and
    the scheduler's start-up reconciliation catches up with anything missed.
    """
    for fn in list(_listeners):
        try:
            fn(ticket_id)
        except Exception:  # noqa: BLE001 - the command must not fail because of a listener
            _log.exception("ticket-changed listener failed for ticket %s", ticket_id)


def ticket_changed_on_commit(session: Session, ticket_id: int) -> None:
    """Call :func:`ticket_changed` for ``ticket_id`` once ``session`` commits (nothing if it
    rolls back): before the commit another connection could not see the change yet."""
    pending: set[int] | None = session.info.get(_CHANGED_KEY)
    if pending is None:
        pending = set()
        session.info[_CHANGED_KEY] = pending
        event.listen(session, "after_commit", _fire_changed)
        event.listen(session, "after_rollback", _forget_changed)
    pending.add(ticket_id)


def _fire_changed(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT released: not committed yet
        return
    ids = sorted(session.info.get(_CHANGED_KEY) or ())
    session.info[_CHANGED_KEY] = set()
    for ticket_id in ids:
        try:
            ticket_changed(ticket_id)
        except Exception:  # the scheduler's trouble must not undo a committed change
            _log.exception("ticket_changed(%s) failed", ticket_id)


def _forget_changed(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info[_CHANGED_KEY] = set()


def on_ticket_opened(fn: TicketChanged) -> Callable[[], None]:
    """Register ``fn(ticket_id)`` for new tickets (e.g. the AI workaround draft)."""
    _opened_listeners.append(fn)

    def unregister() -> None:
        if fn in _opened_listeners:
            _opened_listeners.remove(fn)

    return unregister


def ticket_opened_on_commit(session: Session, ticket_id: int) -> None:
    """Announce a new ticket once ``session`` commits (nothing if it rolls back).

    The intake opens tickets inside the adapter's transaction; the scheduler must plan the new
    clocks at once (not at its next reconciliation), but only after the ticket is visible.
    """
    session.info.setdefault(_OPENED_KEY, []).append(ticket_id)


@event.listens_for(Session, "after_commit")
def _fire_opened(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT released: the ticket is not visible yet
        return
    for ticket_id in session.info.pop(_OPENED_KEY, []):
        ticket_changed(ticket_id)
        for fn in list(_opened_listeners):
            try:
                fn(ticket_id)
            except Exception:  # noqa: BLE001 - opening the ticket already succeeded
                _log.exception("ticket-opened listener failed for ticket %s", ticket_id)


@event.listens_for(Session, "after_rollback")
def _drop_opened(session: Session) -> None:
    session.info.pop(_OPENED_KEY, None)


def clear_listeners() -> None:
    """Remove every listener (tests)."""
    _listeners.clear()
    _opened_listeners.clear()
