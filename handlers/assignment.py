"""Automatic assignment (issue #19): who gets a new ticket when nobody typed ``assign``.

The rules (policy ``assignment``; README "Ticket life"):

- the team is every active contact whose role is engineer (managers are never chosen), or the
  people the policy's ``assignment.engineers`` names;
- of them, those **working now**: inside the engineers' business hours (the policy's
  ``assignment`` calendar, zone and hours), or holding an on-call layer now when the ticket's
  cell pages (policy ``paging``: a 24x7 cell is worked around the clock by whoever is on call);
- skipping those marked **away** (the ``away`` / ``back`` verbs, ``destek contacts away``);
- **round-robin** in rounds: nobody gets a second ticket of a round before every engineer
  working now had one; of those still due in the round, the one with the **fewest open
  tickets** (open or pending) gets it (the tie-break), and among equals the next in contact-id
  order after the last one chosen. When everyone working was served, a new round starts. The
  round is a row (``assignment_turns``), so a restart goes on where it was;
- nobody working: the ticket stays unassigned and the card says so.

Assignment is not the response (P3): ``responded_at`` stays empty until the engineer's
``ack N``; the assignee is the one the SLA reminders reach (``handlers.sla_notices``). The
"assigned" event (actor ``system (auto)``) is written before the cards are queued.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from sla import ClockKind, Policy
from storage import oncall
from storage import tickets as store
from storage.directory import name_key
from storage.models import AssignmentTurn, Contact, Role, Ticket, TicketStatus

AUTO_ACTOR = "system (auto)"
NOT_ASSIGNED = "not-assigned"  # the event when nobody was working
TEAM = "engineers"  # the one team today; the turn's key, so more teams can follow
OPEN_STATES = (TicketStatus.OPEN.value, TicketStatus.PENDING.value)


@dataclass(frozen=True)
class Choice:
    """Who automatic assignment chose (``None``: nobody), why, and how many were working."""

    engineer: Contact | None
    reason: str  # "hours" | "on call" | "nobody working" | "no team"
    open_tickets: int = 0
    new_round: bool = False  # everyone working had a ticket this round: it starts again


def team(session: Session, policy: Policy) -> list[Contact]:
    """The engineers automatic assignment chooses among, in round-robin (contact id) order."""
    query = select(Contact).where(Contact.active == True).order_by(col(Contact.id))  # noqa: E712
    names = {name_key(n) for n in policy.assignment.engineers}
    if names:
        rows = session.exec(query.where(col(Contact.role).in_(oncall.STAFF)))
        return [c for c in rows if name_key(c.name) in names]
    return list(session.exec(query.where(Contact.role == Role.ENGINEER.value)))


def on_call_ids(session: Session, now: datetime) -> set[int]:
    """The engineers holding an on-call layer at ``now``."""
    return {held[1].id or 0 for held in oncall.who(session, now).values() if held}


def working(session: Session, policy: Policy, ticket: Ticket, members: list[Contact],
            now: datetime) -> tuple[list[Contact], str]:
    """Those of ``members`` working now and not away, and why they count as working."""
    present = [c for c in members if not c.away]
    if policy.assignment.working_calendar().timeline().is_open(now.timestamp()):
        return present, "hours"
    if policy.pages(ticket.plan, ticket.severity, ticket.family, ClockKind.RESPONSE):
        holders = on_call_ids(session, now)
        return [c for c in present if c.id in holders], "on call"
    return [], "nobody working"


def open_counts(session: Session, ids: list[int]) -> dict[int, int]:
    """Open (or pending) tickets per assignee."""
    rows = session.exec(
        select(Ticket.assignee_id, func.count())
        .where(col(Ticket.assignee_id).in_(ids), col(Ticket.status).in_(OPEN_STATES))
        .group_by(col(Ticket.assignee_id)))
    return {int(a): int(n) for a, n in rows if a is not None}


def choose(session: Session, policy: Policy, ticket: Ticket, now: datetime) -> Choice:
    """The engineer the rules above give ``ticket`` to at ``now`` (nothing is changed)."""
    members = team(session, policy)
    if not members:
        return Choice(None, "no team")
    candidates, why = working(session, policy, ticket, members, now)
    if not candidates:
        return Choice(None, "nobody working")
    turn = session.get(AssignmentTurn, TEAM)
    served = set(json.loads(turn.served)) if turn else set()
    fresh = [c for c in candidates if c.id not in served]
    due = fresh or candidates  # everyone working was served: a new round
    order = [c.id for c in members]
    last = order.index(turn.last_contact_id) if turn and turn.last_contact_id in order else -1
    counts = open_counts(session, [c.id or 0 for c in due])

    def rank(c: Contact) -> tuple[int, int]:
        # Fewest open tickets first; among equals, the next after the last one chosen.
        return counts.get(c.id or 0, 0), (order.index(c.id) - last - 1) % len(order)

    best = min(due, key=rank)
    return Choice(best, why, counts.get(best.id or 0, 0), new_round=not fresh)


def auto_assign(session: Session, policy: Policy, ticket: Ticket, now: datetime) -> Choice | None:
    """Give a new ticket to the engineer :func:`choose` finds, when the policy says so
    (``None``: automatic assignment is off). The "assigned" event comes first; the turn
    moves on; ``responded_at`` is not touched (assignment is not the response, P3)."""
    if not policy.assignment.auto or ticket.assignee_id is not None:
        return None
    choice = choose(session, policy, ticket, now)
    if choice.engineer is None:
        # Its own kind, not a "note": it is no part of the ticket's conversation.
        store.add_event(session, ticket, NOT_ASSIGNED, f"not auto-assigned: {choice.reason}",
                        at=now, data={"auto_assign": choice.reason})
        return choice
    engineer = choice.engineer
    ev = store.add_event(session, ticket, "assigned", engineer.name, at=now,
                         data={"assignee_id": engineer.id, "response": False, "auto": True,
                               "why": choice.reason, "open_tickets": choice.open_tickets})
    ev.actor = AUTO_ACTOR
    session.add(ev)
    ticket.assignee_id = engineer.id
    session.add(ticket)
    turn = session.get(AssignmentTurn, TEAM) or AssignmentTurn(team=TEAM, updated_at=now)
    served = [] if choice.new_round else json.loads(turn.served)
    turn.served = json.dumps([*served, engineer.id])
    turn.last_contact_id, turn.updated_at = engineer.id, now
    session.add(turn)
    session.flush()
    return choice


def set_away(session: Session, contact: Contact, away: bool) -> bool:
    """Mark ``contact`` away (or back); False when nothing changed."""
    if contact.away == away:
        return False
    contact.away = away
    session.add(contact)
    session.flush()
    return True
