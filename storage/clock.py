"""The product's one clock.

Every instant Destek writes or compares comes from a ``Clock`` handed in by whoever built the
service (``bot`` wiring in production, a test's movable clock in the suite). ``system_clock``
is the only place that reads the real time of day; nothing else calls ``datetime.now()``.

A session carries its clock (``session_scope(engine, clock)``): rows created without an
explicit instant (``created_at``, ``at``, ``next_attempt_at`` ...) are stamped from it at flush,
so a moved clock moves every stamp with it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

Clock = Callable[[], datetime]

# The columns a new row gets from its session's clock when nobody set them.
STAMPED_FIELDS = ("created_at", "updated_at", "at", "next_attempt_at")


def system_clock() -> datetime:
    """The real clock, aware UTC: the one place the product reads the time of day."""
    return datetime.now(UTC)


def clock_of(session: Any) -> Clock:
    """The clock a session was opened with (the real clock when none was handed in)."""
    clock: Clock | None = session.info.get("clock")
    return clock or system_clock


def stamp_new_rows(session: Any, _context: Any = None, _instances: Any = None) -> None:
    """``before_flush``: fill the unset creation stamps of new rows from the session's clock."""
    now: datetime | None = None
    for obj in session.new:
        for name in STAMPED_FIELDS:
            if getattr(obj, name, 0) is None:
                now = now or clock_of(session)()
                setattr(obj, name, now)


def frozen(instant: datetime) -> Clock:
    """A clock stopped at ``instant``: one pass (a sweep, a report) runs "as of" one moment."""
    return lambda: instant
