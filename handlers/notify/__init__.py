"""Telling people through the outbox (:mod:`.tell`) and every outbox key (:mod:`.keys`).

No alert (``Routing.alerts``) is queued from ``handlers/``: the scheduler and the pager in
``bot/`` send those, with keys from :mod:`.keys`.
"""

from . import keys
from .tell import tell_customer, tell_customer_about, tell_engineers_about

__all__ = ["keys", "tell_customer", "tell_customer_about", "tell_engineers_about"]
