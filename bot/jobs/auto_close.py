"""The scheduler's auto-close pass (issue #19 item 3): remind and close resolved tickets.

What is due and what it says is the domain's (:mod:`handlers.auto_close`); here is the
transaction it runs in. Leader-only with the rest of the scheduler (``SchedulerService`` is a
leader service); idempotent (the tickets' states and the outbox keys), so a misfire re-run or
a new leader's first pass sends nothing twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine

from handlers.auto_close import PassOutcome, run_pass
from handlers.types import Routing
from sla import Policy
from storage.clock import frozen
from storage.db import session_scope

# How often the pass runs: a reminder or a close is at most this late.
AUTO_CLOSE_MINUTES = 15.0


def auto_close_pass(engine: Engine, policy: Policy, routing: Routing,
                    now: datetime) -> PassOutcome:
    """One pass as of ``now``, in its own transaction."""
    with session_scope(engine, frozen(now)) as session:
        return run_pass(session, policy, routing, now)
