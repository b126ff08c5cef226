"""Seam between ticket commands and the SLA scheduler: "this ticket changed".

Command handlers call :func:`ticket_changed` after committing a change to a ticket (pause,
resume, reclassify, acknowledge, workaround, resolve, reopen, assign); the scheduler registers
itself with :func:`on_ticket_changed` and reschedules that ticket's reminders. Until a listener
registers, a notification is a no-op, so handlers work the same without a scheduler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

__all__ = ["TicketChanged", "clear_listeners", "on_ticket_changed", "ticket_changed"]

TicketChanged = Callable[[int], None]

_log = logging.getLogger(__name__)
_listeners: list[TicketChanged] = []


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


def clear_listeners() -> None:
    """Remove every listener (tests)."""
    _listeners.clear()
