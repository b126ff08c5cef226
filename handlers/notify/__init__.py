"""Telling people through the outbox (:mod:`.tell`) and every outbox key (:mod:`.keys`).

No alert (``Routing.alerts``) is queued from ``handlers/``: the scheduler and the pager in
``bot/`` send those, with keys from :mod:`.keys`.
"""

from . import keys
from .tell import (
    CHANNEL_LANG,
    card_message,
    choices_payload,
    person_destination,
    person_language,
    tell_customer,
    tell_customer_about,
    tell_engineers_about,
    tell_ticket_engineers,
)

__all__ = ["CHANNEL_LANG", "card_message", "choices_payload", "keys", "person_destination",
           "person_language", "tell_customer", "tell_customer_about", "tell_engineers_about",
           "tell_ticket_engineers"]
