"""The deadline calculator behind ``destek sla deadline``: one case or JSON lines in and out."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime, tzinfo
from typing import IO, Any

from sla import BusinessCalendar, CalendarError, make_calendar
from sla.clock import add_business_seconds, merge_pauses


class CaseError(ValueError):
    pass


def parse_instant(text: Any, what: str, zone: tzinfo | None = None) -> datetime:
    """An ISO 8601 instant; one without an offset is read as wall-clock time in ``zone``
    (refused when no zone is given)."""
    if not isinstance(text, str):
        raise CaseError(f"{what} must be an ISO 8601 string")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise CaseError(f"{what} {text!r} is not an ISO 8601 instant") from None
    if dt.tzinfo is None:
        if zone is None:
            raise CaseError(f"{what} {text!r} has no UTC offset (give one, or a tz)")
        dt = dt.replace(tzinfo=zone)
    return dt


def parse_pause(value: Any) -> tuple[datetime, datetime | None]:
    """``"START/END"`` or ``[START, END]``; an empty or null END is an open pause."""
    if isinstance(value, str):
        parts = value.split("/")
        if len(parts) != 2:
            raise CaseError(f"pause {value!r} must be START/END")
        value = parts
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise CaseError("each pause must be [start, end]")
    start = parse_instant(value[0], "pause start")
    end = parse_instant(value[1], "pause end") if value[1] else None
    if end is not None and end < start:
        raise CaseError(f"pause ends before it starts: {value[0]} / {value[1]}")
    return start, end


class DeadlineCalculator:
    """Deadlines for (calendar, tz, start, minutes, pauses) cases, calendars cached."""

    def __init__(self, closed: Iterable[date] = ()) -> None:
        self._closed = tuple(closed)
        self._calendars: dict[tuple[str, str | None], BusinessCalendar] = {}

    def calendar(self, name: str, tz: str | None) -> BusinessCalendar:
        key = (name, tz)
        cal = self._calendars.get(key)
        if cal is None:
            cal = make_calendar(name, tz=tz, closed=self._closed)
            self._calendars[key] = cal
        return cal

    def deadline(
        self,
        calendar: str,
        tz: str | None,
        start: datetime,
        minutes: float,
        pauses: list[tuple[datetime, datetime | None]],
    ) -> str | None:
        """ISO 8601 deadline with the calendar timezone's offset; None while an open pause lasts."""
        if minutes < 0:
            raise CaseError("minutes must not be negative")
        cal = self.calendar(calendar, tz)
        tl = cal.timeline()
        end = add_business_seconds(
            tl, start.timestamp(), minutes * 60, merge_pauses(pauses) if pauses else ()
        )
        if end is None:
            return None
        return datetime.fromtimestamp(end, cal.zone).isoformat()

    def case(self, line: str) -> str:
        """One JSON line in, one JSON line out (an ``error`` object for a bad case)."""
        try:
            raw = json.loads(line)
            if not isinstance(raw, dict):
                raise CaseError("each line must be a JSON object")
            name = raw.get("calendar")
            if not isinstance(name, str):
                raise CaseError("calendar is required")
            tz = raw.get("tz")
            if tz is not None and not isinstance(tz, str):
                raise CaseError("tz must be a string")
            minutes = raw.get("minutes")
            if isinstance(minutes, bool) or not isinstance(minutes, int | float):
                raise CaseError("minutes must be a number")
            start = parse_instant(raw.get("start"), "start",
                                  self.calendar(name, tz).zone if tz else None)
            pauses = [parse_pause(p) for p in raw.get("pauses") or ()]
            result = self.deadline(name, tz, start, minutes, pauses)
        except json.JSONDecodeError as exc:
            return json.dumps({"error": f"not JSON: {exc.msg}"})
        except (CaseError, CalendarError) as exc:
            return json.dumps({"error": str(exc)})
        if result is None:
            return '{"deadline": null, "paused": true}'
        return '{"deadline": "' + result + '"}'

    def run(self, lines: Iterable[str], out: IO[str]) -> int:
        """Answer every non-empty line; returns the number of cases."""
        n = 0
        write = out.write
        case = self.case
        for line in lines:
            if line.strip():
                write(case(line))
                write("\n")
                n += 1
        return n
