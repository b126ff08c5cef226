"""``destek oncall …``: rotations, overrides and who is on call (pages: bot.jobs.paging)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from sqlmodel import Session, col, select

from handlers.commands import find_engineer
from handlers.oncall import parse_time, schedule_tz, who_text
from handlers.vocabulary import local_when
from sla.oncall import LAYERS
from storage import oncall
from storage.models import Contact, OncallOverride

from .common import JsonOpt, app, emit, fail, now_utc, session

oncall_app = typer.Typer(help="On-call rotations and overrides; who is paged out of hours.",
                         no_args_is_help=True)
app.add_typer(oncall_app, name="oncall")

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LayerOpt = Annotated[str, typer.Option(help="primary or secondary")]


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        fail(f"unknown timezone {tz!r}: use e.g. Europe/Istanbul")


def _engineer(s: Session, ref: str) -> Contact:
    found = find_engineer(s, ref)
    if found is None:
        fail(f"no active engineer or manager {ref!r} (name, first name, Slack or Telegram id)")
    return found


def _handover(text: str) -> tuple[int, time]:
    parts = text.lower().split()
    if len(parts) != 2 or parts[0][:3] not in WEEKDAYS:
        fail(f"hand-over {text!r}: use a weekday and a time, e.g. \"mon 09:00\"")
    try:
        at = time.fromisoformat(parts[1])
    except ValueError:
        fail(f"hand-over time {parts[1]!r}: use HH:MM, e.g. 09:00")
    return WEEKDAYS.index(parts[0][:3]), at


def first_handover(weekday: int, at: time, tz: str, start: date | None,
                   today: date) -> datetime:
    """The first hand-over: on or after ``start``, else the latest one on or before today
    (so a rotation added today is in force at once)."""
    if start is not None:
        day = start + timedelta(days=(weekday - start.weekday()) % 7)
    else:
        day = today - timedelta(days=(today.weekday() - weekday) % 7)
    return datetime.combine(day, at, tzinfo=ZoneInfo(tz))


@oncall_app.command("add-rotation")
def add_rotation(
    name: Annotated[str, typer.Argument(help="A name, e.g. \"L2 primary\"")],
    engineers: Annotated[str, typer.Option(help="Comma-separated, in turn order")],
    layer: LayerOpt = "primary",
    handover: Annotated[str, typer.Option(help="Weekday and time of the hand-over")] =
    "mon 09:00",
    tz: Annotated[str, typer.Option(help="Timezone of the hand-over")] = "Europe/Istanbul",
    start: Annotated[str | None, typer.Option(
        help="Date (YYYY-MM-DD) from which the first hand-over is counted; default: the "
             "latest hand-over day, so the rotation is in force now")] = None,
    period_days: Annotated[int, typer.Option(help="Days per turn")] = 7,
) -> None:
    """Add a weekly rotation: each engineer holds the layer for one period in turn."""
    if layer not in LAYERS:
        fail(f"unknown layer {layer!r}: use primary or secondary")
    weekday, at = _handover(handover)
    zone = _zone(tz)
    try:
        start_day = date.fromisoformat(start) if start else None
    except ValueError:
        fail(f"start {start!r}: use YYYY-MM-DD")
    today = now_utc().astimezone(zone).date()
    first = first_handover(weekday, at, tz, start_day, today)
    with session() as s:
        people = [_engineer(s, ref.strip()) for ref in engineers.split(",") if ref.strip()]
        rotation = oncall.add_rotation(s, name, layer, people, first, tz, period_days)
        typer.echo(f"rotation {rotation.id} {name!r} ({layer}): "
                   f"{', '.join(p.name for p in people)}; hand-over {WEEKDAYS[weekday]} "
                   f"{at:%H:%M} {tz}, first {local_when(first, tz)}")


@oncall_app.command("override")
def add_override(
    engineer: Annotated[str, typer.Argument(help="Who holds the layer instead")],
    start: Annotated[str, typer.Argument(metavar="FROM", help="ISO time, e.g. 2026-12-31T18:00")],
    end: Annotated[str, typer.Argument(metavar="TO", help="ISO time")],
    layer: LayerOpt = "primary",
    reason: Annotated[str, typer.Option(help="Why (holiday, swap, …)")] = "",
    tz: Annotated[str | None, typer.Option(
        help="Zone of times written without an offset (default: the rotations')")] = None,
) -> None:
    """Put an engineer on a layer for a while (holiday cover, a swap)."""
    if layer not in LAYERS:
        fail(f"unknown layer {layer!r}: use primary or secondary")
    with session() as s:
        zone = tz or schedule_tz(s)
        _zone(zone)
        a, b = parse_time(start, zone), parse_time(end, zone)
        if a is None or b is None:
            fail(f"{start if a is None else end!r} is not an ISO time, e.g. 2026-12-31T18:00")
        who = _engineer(s, engineer)
        row = oncall.add_override(s, layer, who, a, b, reason=reason, created_by="cli")
        typer.echo(f"override {row.id}: {who.name} holds {layer} from "
                   f"{local_when(a, zone)} to {local_when(b, zone)}")


@oncall_app.command("who")
def who(
    at: Annotated[str | None, typer.Option(help="ISO time (default: now)")] = None,
    lang: Annotated[str, typer.Option(help="en or tr")] = "en",
    as_json: JsonOpt = False,
) -> None:
    """Who is on call (primary and secondary), until when, and why."""
    with session() as s:
        zone = schedule_tz(s)
        instant = now_utc() if at is None else parse_time(at, zone)
        if instant is None:
            fail(f"{at!r} is not an ISO time, e.g. 2026-11-29T03:10")
        if as_json:
            rows: list[dict[str, Any]] = []
            for layer, held in oncall.who(s, instant).items():
                rows.append({"layer": layer, "engineer": held[1].name if held else None,
                             "from": held[0].start if held else None,
                             "until": held[0].end if held else None,
                             "source": held[0].source if held else None})
            emit(rows, True, [])
            return
        typer.echo(who_text(s, instant, lang if lang in ("en", "tr") else "en", zone))


@oncall_app.command("list")
def list_schedule(as_json: JsonOpt = False) -> None:
    """Rotations and the overrides still to come or running."""
    with session() as s:
        names = {c.id: c.name for c in s.exec(select(Contact))}
        rows: list[dict[str, Any]] = [
            {"kind": "rotation", "name": r.name, "layer": r.layer,
             "engineers": ", ".join(names.get(m, str(m)) for m in r.members),
             "from": r.start, "until": None, "tz": r.tz}
            for r in oncall.rotations(s)
        ]
        now = now_utc()
        for o in s.exec(select(OncallOverride).where(OncallOverride.ends_at > now)
                        .order_by(col(OncallOverride.starts_at))):
            rows.append({"kind": "override", "name": o.reason, "layer": o.layer,
                         "engineers": names.get(o.engineer_id, str(o.engineer_id)),
                         "from": o.starts_at, "until": o.ends_at, "tz": "UTC"})
    emit(rows, as_json, ["kind", "name", "layer", "engineers", "from", "until", "tz"])
