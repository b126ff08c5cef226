"""Seam between ticket commands and the SLA scheduler: "this ticket changed".

Command handlers call :func:`ticket_changed` after committing a change to a ticket (pause,
resume, reclassify, acknowledge, workaround, resolve, reopen, assign); the scheduler registers
itself with :func:`on_ticket_changed` and reschedules that ticket's reminders. Until a listener
registers, a notification is a no-op, so handlers work the same without a scheduler.
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
    "ticket_opened_on_commit",
]

TicketChanged = Callable[[int], None]

_log = logging.getLogger(__name__)
_listeners: list[TicketChanged] = []
_opened_listeners: list[TicketChanged] = []
_PENDING_KEY = "destek.opened_tickets"


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
    session.info.setdefault(_PENDING_KEY, []).append(ticket_id)


@event.listens_for(Session, "after_commit")
def _fire_opened(session: Session) -> None:
    for ticket_id in session.info.pop(_PENDING_KEY, []):
        ticket_changed(ticket_id)
        for fn in list(_opened_listeners):
            try:
                fn(ticket_id)
            except Exception:  # noqa: BLE001 - opening the ticket already succeeded
                _log.exception("ticket-opened listener failed for ticket %s", ticket_id)


@event.listens_for(Session, "after_rollback")
def _drop_opened(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


def clear_listeners() -> None:
    """Remove every listener (tests)."""
    _listeners.clear()
    _opened_listeners.clear()
