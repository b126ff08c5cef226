"""Enums, the creation stamp and the before-flush stamping every table shares."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import event
from sqlmodel import Field, Session

from ..clock import stamp_new_rows
from ..types import UTCDateTime

# Every session, however it was opened, stamps its new rows from the clock it carries: here,
# beside the tables, so no session can write a row without it.
event.listen(Session, "before_flush", stamp_new_rows)


# Creation stamps default to None and are filled at flush from the session's clock
# (storage.clock.stamp_new_rows): the product has one clock, and it is handed in.
def _stamp(index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=False, index=index)


class Role(StrEnum):
    CUSTOMER = "customer"
    ENGINEER = "engineer"
    MANAGER = "manager"


class TicketStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"  # waiting for the customer (P17)
    RESOLVED = "resolved"  # fix applied, customer asked to confirm
    CLOSED = "closed"


class TicketKind(StrEnum):
    DEFECT = "defect"
    PROBLEM = "problem"
    QUESTION = "question"
    SERVICE_REQUEST = "service_request"  # P10/P11: billed separately, no SLA clock
