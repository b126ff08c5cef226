"""SLA engine: business calendars, business-time clocks and the support policy. Pure, no I/O."""

from .calendar import PRESETS, BusinessCalendar, make_calendar
from .clock import add_business_time, business_time_between, merge_pauses
from .hours import CalendarError, Hours, parse_hours
from .policy import ClockKind, Policy, PolicyError, Target, load_policy, parse_target
from .ticket_clocks import ClockState, ClockStatus, TicketClocks, evaluate_clocks, format_duration

__all__ = [
    "PRESETS",
    "BusinessCalendar",
    "CalendarError",
    "ClockKind",
    "ClockState",
    "ClockStatus",
    "Hours",
    "Policy",
    "PolicyError",
    "Target",
    "TicketClocks",
    "add_business_time",
    "business_time_between",
    "evaluate_clocks",
    "format_duration",
    "load_policy",
    "make_calendar",
    "merge_pauses",
    "parse_hours",
    "parse_target",
]
