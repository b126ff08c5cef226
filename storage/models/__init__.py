"""SQLModel tables, one module per area. All instants are stored as aware UTC (see
``storage.types.UTCDateTime``); new rows are stamped from the session's clock at flush."""

from __future__ import annotations

from .base import Role, TicketKind, TicketStatus
from .delivery import Lease, OutboxMessage, ProcessedDelivery
from .directory import (
    HOME_WORKSPACE,
    Contact,
    ContactIdentity,
    Contract,
    ContractProduct,
    Customer,
    CustomerChat,
    Product,
    ProductVersion,
)
from .knowledge import AISubscription, AIUsage, KnownError
from .links import AssignmentTurn, TicketLink
from .oncall import OncallOverride, OncallRotation, Page
from .planning import PlannedWork, Release
from .satisfaction import SurveyAnswer
from .tickets import (
    Attachment,
    Deflection,
    DialogSession,
    HeldMessage,
    Ticket,
    TicketEvent,
    TicketPause,
)
from .web import DashboardSession, LoginFailure

__all__ = [
    "AISubscription",
    "AIUsage",
    "AssignmentTurn",
    "Attachment",
    "Contact",
    "ContactIdentity",
    "Contract",
    "ContractProduct",
    "Customer",
    "CustomerChat",
    "DashboardSession",
    "Deflection",
    "DialogSession",
    "HeldMessage",
    "HOME_WORKSPACE",
    "KnownError",
    "Lease",
    "LoginFailure",
    "OncallOverride",
    "OncallRotation",
    "OutboxMessage",
    "Page",
    "PlannedWork",
    "ProcessedDelivery",
    "Product",
    "ProductVersion",
    "Release",
    "Role",
    "SurveyAnswer",
    "Ticket",
    "TicketEvent",
    "TicketLink",
    "TicketKind",
    "TicketPause",
    "TicketStatus",
]
