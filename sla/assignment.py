"""The policy of automatic assignment (issue #19): who gets a new ticket without anyone
typing ``assign``. The choice itself is ``handlers.assignment``'s; here only what the policy
file may say, validated."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .calendar import BusinessCalendar, make_calendar
from .hours import CalendarError, parse_hours


class Assignment(BaseModel):
    """``assignment:`` in the policy file. Off unless ``auto: true``.

    The engineers work on ``calendar`` (a preset such as ``TR``), in ``tz`` and ``hours``
    when given: "working now" is that calendar's business hours, or holding an on-call layer
    for a ticket whose cell pages (policy ``paging``). ``engineers`` names the team; empty
    means every active contact whose role is engineer (managers are never auto-assigned).
    """

    model_config = ConfigDict(extra="forbid")

    auto: bool = False
    calendar: str = "TR"
    tz: str | None = None
    hours: str | None = None
    engineers: list[str] = Field(default_factory=list)

    @field_validator("calendar")
    @classmethod
    def _calendar(cls, v: str) -> str:
        try:
            make_calendar(v)
        except CalendarError as exc:
            raise ValueError(str(exc)) from None
        return v

    @field_validator("tz")
    @classmethod
    def _tz(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                make_calendar("TR", v)
            except (CalendarError, ValueError) as exc:
                raise ValueError(str(exc)) from None
        return v

    @field_validator("hours")
    @classmethod
    def _hours(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                parse_hours(v)
            except (CalendarError, ValueError) as exc:
                raise ValueError(str(exc)) from None
        return v

    def working_calendar(self) -> BusinessCalendar:
        """The engineers' business calendar (their zone and hours)."""
        return make_calendar(self.calendar, self.tz, self.hours)
