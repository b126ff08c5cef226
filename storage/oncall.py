"""On-call records: rotations, overrides and pages (the schedule's math is in sla.oncall)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, col, select

from sla.oncall import LAYERS, Override, Rotation, Shift, on_call

from .directory import RecordError
from .models import Contact, OncallOverride, OncallRotation, Page, Role

STAFF = (Role.ENGINEER.value, Role.MANAGER.value)
ACTIVE = "active"


def _check_layer(layer: str) -> None:
    if layer not in LAYERS:
        raise RecordError(f"unknown layer {layer!r}: use primary or secondary")


def _check_staff(engineers: list[Contact]) -> None:
    for e in engineers:
        if e.role not in STAFF or not e.active:
            raise RecordError(f"{e.name} is not an active engineer or manager")


def add_rotation(
    session: Session, name: str, layer: str, engineers: list[Contact], starts_at: datetime,
    tz: str, period_days: int = 7,
) -> OncallRotation:
    """A rotation taking effect at its first hand-over ``starts_at`` (aware)."""
    _check_layer(layer)
    if not engineers:
        raise RecordError("a rotation needs at least one engineer")
    _check_staff(engineers)
    if not 1 <= period_days <= 366:
        raise RecordError("the period is 1 to 366 days (7 for a weekly rotation)")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise RecordError(f"unknown timezone {tz!r}: use e.g. Europe/Istanbul") from None
    if starts_at.tzinfo is None:
        raise RecordError("the first hand-over needs a timezone")
    if session.exec(select(OncallRotation).where(OncallRotation.name == name)).first():
        raise RecordError(f"a rotation named {name!r} exists already")
    rotation = OncallRotation(
        name=name, layer=layer, members=json.dumps([e.id for e in engineers]),
        starts_at=starts_at, tz=tz, period_days=period_days,
    )
    session.add(rotation)
    session.flush()
    return rotation


def add_override(
    session: Session, layer: str, engineer: Contact, starts_at: datetime, ends_at: datetime,
    reason: str = "", created_by: str = "system",
) -> OncallOverride:
    """``engineer`` holds ``layer`` from ``starts_at`` until ``ends_at``."""
    _check_layer(layer)
    _check_staff([engineer])
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise RecordError("override times need a timezone")
    if ends_at <= starts_at:
        raise RecordError("an override must end after it starts")
    if ends_at - starts_at > timedelta(days=366):
        raise RecordError("an override lasts at most a year: add a rotation instead")
    override = OncallOverride(
        layer=layer, engineer_id=engineer.id or 0, starts_at=starts_at, ends_at=ends_at,
        reason=reason[:300], created_by=created_by[:200],
    )
    session.add(override)
    session.flush()
    return override


def rotations(session: Session) -> list[Rotation]:
    return [
        Rotation(r.name, r.layer, tuple(json.loads(r.members)), r.starts_at, r.tz,
                 r.period_days)
        for r in session.exec(select(OncallRotation).order_by(col(OncallRotation.id)))
    ]


def overrides(session: Session, ending_after: datetime | None = None) -> list[Override]:
    """Overrides (those still running or to come after ``ending_after``), oldest first."""
    query = select(OncallOverride).order_by(col(OncallOverride.id))
    if ending_after is not None:
        query = query.where(OncallOverride.ends_at > ending_after)
    return [Override(o.layer, o.engineer_id, o.starts_at, o.ends_at, o.id or 0, o.reason)
            for o in session.exec(query)]


def who(session: Session, at: datetime) -> dict[str, tuple[Shift, Contact] | None]:
    """Each layer's shift at ``at`` and its engineer."""
    rots, ovs = rotations(session), overrides(session, at - timedelta(seconds=1))
    out: dict[str, tuple[Shift, Contact] | None] = {}
    for layer in LAYERS:
        shift = on_call(rots, ovs, layer, at)
        contact = session.get(Contact, shift.engineer) if shift else None
        out[layer] = (shift, contact) if shift and contact else None
    return out


# -- pages ----------------------------------------------------------------------------------


def active_page(session: Session, ticket_id: int) -> Page | None:
    return session.exec(select(Page).where(Page.ticket_id == ticket_id,
                                           Page.status == ACTIVE)).first()


def has_page(session: Session, ticket_id: int, trigger: str) -> bool:
    return session.exec(select(Page.id).where(Page.ticket_id == ticket_id,
                                              Page.trigger == trigger)).first() is not None


def end_pages(session: Session, ticket_id: int, status: str, now: datetime,
              by: int | None = None, note: str = "") -> list[Page]:
    """End every active page of a ticket (``acked`` by someone, or ``stopped``)."""
    pages = list(session.exec(select(Page).where(Page.ticket_id == ticket_id,
                                                 Page.status == ACTIVE)))
    for page in pages:
        page.status, page.next_at, page.ended_at = status, None, now
        page.acked_by_id, page.note = by, note[:300]
        session.add(page)
    return pages


def due_pages(session: Session, now: datetime, limit: int = 500) -> list[Page]:
    return list(session.exec(
        select(Page).where(Page.status == ACTIVE, col(Page.next_at) <= now)
        .order_by(col(Page.next_at)).limit(limit)))


def next_page_at(session: Session) -> datetime | None:
    """The earliest pending step of any page."""
    return session.exec(select(Page.next_at).where(Page.status == ACTIVE,
                                                   col(Page.next_at).is_not(None))
                        .order_by(col(Page.next_at)).limit(1)).first()
