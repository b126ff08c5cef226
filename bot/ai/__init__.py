"""Optional OpenAI workaround hook (P26, P27): drafted workarounds grounded in known errors.

Off unless a key is configured (globally, per customer or per customer and product). Every call
is recorded in ``ai_usage`` for the monthly breakdown. The hook never stands in anyone's way: a
hard time limit, bounded retries and a circuit breaker per endpoint; a failure is recorded as a
third-party outage (ticket event + usage outcome) and never touches a ticket's SLA clocks.
Keys stay out of prompts, logs, events and listings.

Modules: :mod:`.endpoints` (which key and model, the SDK client), :mod:`.breaker`,
:mod:`.client` (one draft: retrieval, the call, checking, recording), :mod:`.drafts` (for
tickets, and the ``destek run`` service), and :mod:`.billing` (subscriptions, the monthly usage).
"""

from .billing import (
    OUTCOMES,
    month_bounds,
    reseal_keys,
    set_subscription,
    subscriptions,
    usage_report,
)
from .breaker import BREAKER, CircuitBreaker
from .client import Suggestion, draft_workaround
from .drafts import (
    AIDraftService,
    report_for_ticket,
    run_blocking,
    start_for_ticket,
    suggest_for_ticket,
)
from .endpoints import MAX_RETRIES, Route, make_client, mask, resolve_route

__all__ = [
    "BREAKER",
    "MAX_RETRIES",
    "OUTCOMES",
    "AIDraftService",
    "CircuitBreaker",
    "Route",
    "Suggestion",
    "draft_workaround",
    "make_client",
    "mask",
    "month_bounds",
    "report_for_ticket",
    "resolve_route",
    "run_blocking",
    "reseal_keys",
    "set_subscription",
    "start_for_ticket",
    "subscriptions",
    "suggest_for_ticket",
    "usage_report",
]
