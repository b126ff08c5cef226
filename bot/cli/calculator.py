"""``destek sla deadline|calendar`` and ``destek policy check|show``."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from sla import CalendarError, PolicyError, load_policy, make_calendar

from .common import fail, now_utc, policy, policy_app, settings, sla_app
from .sla_batch import CaseError, DeadlineCalculator, parse_instant, parse_pause

# -- SLA calculator --------------------------------------------------------------------------


@sla_app.command("deadline")
def sla_deadline(
    calendar: Annotated[str | None, typer.Option(help="TR, ME, US or 24x7")] = None,
    tz: Annotated[str | None, typer.Option(help="Timezone override")] = None,
    start: Annotated[str | None, typer.Option(
        help="ISO 8601 start; one without an offset is read in --tz")
    ] = None,
    minutes: Annotated[float | None, typer.Option(help="Business minutes to add")] = None,
    pause: Annotated[list[str] | None, typer.Option(help="START/END pause (repeat)")] = None,
) -> None:
    """When is it due? With no --start, answers JSON lines from stdin, one case a line."""
    calc = DeadlineCalculator()
    if start is None:
        calc.run(sys.stdin, sys.stdout)
        return
    if calendar is None or minutes is None:
        fail("--calendar and --minutes are required with --start")
    try:
        result = calc.deadline(
            calendar, tz,
            parse_instant(start, "--start", calc.calendar(calendar, tz).zone if tz else None),
            minutes,
            [parse_pause(p) for p in pause or []],
        )
    except (CaseError, CalendarError) as exc:
        fail(str(exc))
    typer.echo(result if result is not None else "paused (an open pause stops the clock)")


WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # not the locale's names


@sla_app.command("calendar")
def sla_calendar(
    calendar: str,
    year: Annotated[int, typer.Option(help="Year to list")] = 0,
    tz: Annotated[str | None, typer.Option()] = None,
) -> None:
    """List a calendar's closed days and half days of a year."""
    try:
        cal = make_calendar(calendar, tz)
    except CalendarError as exc:
        fail(str(exc))
    year = year or now_utc().year
    days = " ".join(WEEKDAYS[d] for d in sorted(cal.days))
    opens, close = f"{cal.hours.open:%H:%M}", cal.hours.close  # close None: until midnight
    hours = ("around the clock" if close is None and opens == "00:00"
             else f"hours {opens}-{'24:00' if close is None else f'{close:%H:%M}'}")
    typer.echo(f"{cal.name}: {cal.tz}, working days {days}, {hours}")
    for d, name in sorted(cal.closed_days(year).items()):
        typer.echo(f"  {d}  closed     {name}")
    for d, name in sorted(cal.half_days(year).items()):
        typer.echo(f"  {d}  until {cal.half_day_close:%H:%M}  {name}")



# -- policy ----------------------------------------------------------------------------------


@policy_app.command("check")
def policy_check(path: Annotated[str | None, typer.Argument()] = None) -> None:
    """Validate a policy file (the configured or shipped one by default)."""
    try:
        pol = load_policy(path or settings().policy_path)
    except PolicyError as exc:
        fail(str(exc))
    typer.echo(f"policy ok: {len(pol.plans)} plans, {len(pol.families)} families, "
               f"reminders at {', '.join(f'{x:.0%}' for x in pol.reminders)}")


@policy_app.command("show")
def policy_show() -> None:
    """Print the service-level table of the policy."""
    pol = policy()
    typer.echo(f"{'plan':<10}{'sev':<5}{'response':<14}{'workaround':<14}{'resolution':<14}")
    for plan_key, plan in pol.plans.items():
        for sev, cell in plan.targets.items():
            typer.echo(f"{plan_key:<10}{sev:<5}{cell.response.label():<14}"
                       f"{cell.workaround.label():<14}{cell.resolution.label():<14}")
