"""Every outbox key, built in one place.

A key makes a queued message idempotent: queueing the same key again is a no-op, so a retried
command, a restarted scheduler pass or a second replica never sends a message twice. The
formats below are stored in production outboxes, and the scheduler recognises the messages of
a threshold by the key's prefix: a changed format would send every pending notice again.
``tests/test_outbox_keys.py`` pins each one.
"""

from __future__ import annotations

from sla.attainment import Month

RowId = int | None  # a row's primary key (None only before its first flush)

__all__ = [
    "ai_suggestion",
    "auto_close_reminder",
    "end_of_support_notice",
    "monthly_report",
    "page_exhausted",
    "page_step",
    "page_to_customer",
    "planned_work",
    "reply_file",
    "release_notice",
    "satisfaction_survey",
    "sla_digest",
    "threshold_escalation",
    "threshold_notice",
    "ticket_confirmation",
    "ticket_event_for_customer",
    "ticket_event_for_engineers",
    "ticket_opened",
]


# -- a ticket's own messages ----------------------------------------------------------------


def ticket_event_for_customer(ticket_id: RowId, event_id: RowId) -> str:
    """The customer's message about one audit event (P21)."""
    return f"ticket:{ticket_id}:event:{event_id}:customer"


def ticket_event_for_engineers(ticket_id: RowId, event_id: RowId, index: int) -> str:
    """The engineers' notice of one audit event, to their ``index``-th destination."""
    return f"ticket:{ticket_id}:event:{event_id}:engineers:{index}"


def ticket_confirmation(ticket_id: RowId) -> str:
    """The customer's "ticket #N is open" (also answered directly; this row is its safety)."""
    return f"ticket:{ticket_id}:confirmation"


def unsent_reply(delivery: str, index: int) -> str:
    """The ``index``-th answer to inbound ``delivery`` that the adapter could not post."""
    return f"reply:{delivery}:{index}"


def reply_file(ticket_id: RowId, event_id: RowId, index: int) -> str:
    """The ``index``-th file of an engineer's public reply (audit event ``event_id``)."""
    return f"ticket:{ticket_id}:event:{event_id}:file:{index}"


def auto_close_reminder(ticket_id: RowId, resolved_at: str) -> str:
    """The customer's reminder that a resolved ticket closes soon, once per resolution
    (``resolved_at``: the resolution's instant, ISO UTC to the second: a ticket reopened and
    resolved again is reminded again)."""
    return f"ticket:{ticket_id}:auto-close:{resolved_at}:reminder"


def satisfaction_survey(ticket_id: RowId) -> str:
    """The satisfaction survey of a closed ticket: asked once per ticket."""
    return f"ticket:{ticket_id}:survey"


def ticket_opened(ticket_id: RowId, channel: str, target: str) -> str:
    """The engineers' notice of a new ticket, to one destination."""
    return f"ticket:{ticket_id}:opened:{channel}:{target}"


def ai_suggestion(ticket_id: RowId, event_id: RowId, channel: str, target: str) -> str:
    """The engineers' copy of an AI-drafted workaround (audit event ``event_id``)."""
    return f"ai-suggestion:{ticket_id}:{event_id}:{channel}:{target}"


# -- SLA thresholds and on-call pages ---------------------------------------------------------


def threshold_notice(threshold_id: str, channel: str, target: str) -> str:
    """A reminder or breach alert of one threshold (``sla.reminders.threshold_id``)."""
    return f"{threshold_id}:{channel}:{target}"


def threshold_escalation(threshold_id: str, channel: str, target: str) -> str:
    """The managers' escalation of one threshold."""
    return f"{threshold_id}:esc:{channel}:{target}"


def page_step(page_id: RowId, step: int, channel: str, target: str) -> str:
    """Step ``step`` of an on-call page, to one engineer."""
    return f"page:{page_id}:{step}:{channel}:{target}"


def page_exhausted(page_id: RowId, channel: str, target: str) -> str:
    """The alert that nobody took a page."""
    return f"page:{page_id}:exhausted:{channel}:{target}"


def page_to_customer(page_id: RowId) -> str:
    """The customer's message that a named engineer is being paged."""
    return f"page:{page_id}:customer"


def sla_digest(day: str, channel: str, target: str) -> str:
    """The engineers' morning digest of ``day`` (ISO date, engineers' zone)."""
    return f"digest:{day}:{channel}:{target}"


# -- customers' notices and reports ---------------------------------------------------------


def release_notice(release_id: RowId, customer_id: RowId, contact_id: RowId) -> str:
    """A release notice to one contact of one customer."""
    return f"release:{release_id}:customer:{customer_id}:{contact_id}"


def end_of_support_notice(version_id: RowId, customer_id: RowId, contact_id: RowId) -> str:
    """An end-of-support notice (P8) of one version to one contact of one customer."""
    return f"eos:{version_id}:customer:{customer_id}:{contact_id}"


def planned_work(work_id: RowId, channel: str, target: str) -> str:
    """The engineers' notice of a customer's planned work, to one destination."""
    return f"planned:{work_id}:engineers:{channel}:{target}"


def monthly_report(month: Month, customer_code: str | None, channel: str, target: str) -> str:
    """The monthly SLA report of one customer (``None``: all customers) to one destination."""
    return f"report:{month}:{customer_code or 'all'}:{channel}:{target}"
