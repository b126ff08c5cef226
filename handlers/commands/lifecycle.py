"""The verbs that change a ticket: ack, assign, sev, pending, resume, workaround, resolve,
close, reopen, escalate, note, reply, exception.

Each checks its arguments and the ticket's state (a refusal changes nothing), changes the
ticket, then records the change through :func:`handlers.ticket_actions.record`: audit event
first, then the customer's message (P21), then the scheduler. Clock rules:

- ``ack``/``assign`` is the response (P3): ``responded_at`` is set once, the first time.
- ``pending`` opens a :class:`TicketPause`; ``resume`` (or a customer reply, see
  :func:`handlers.ticket_actions.customer_replied`) closes every open pause (P17).
- ``sev`` only changes the severity: deadlines are recomputed from ``reported_at`` with every
  pause already recorded, so waiting time is never lost on a reclassification.
- ``reopen`` records the resolved interval as a pause (kind ``reopen``) from ``resolved_at`` to
  the reopen instant and clears ``resolved_at``: the resolution clock resumes with the time it
  had already used, and the time the ticket sat resolved is not counted.
- ``close`` of a ticket that was never resolved stops the resolution clock at the close.
"""

from __future__ import annotations

from typing import Any

from storage import tickets as store
from storage.models import Customer, Ticket, TicketEvent, TicketPause, TicketStatus

from .. import satisfaction
from .. import ticket_actions as actions
from .. import ticket_updates as updates
from ..i18n import t
from ..notify import tell_engineers_about
from ..oncall import take_pages
from ..types import Reply
from .parsing import CommandError, Ctx, named_ticket, refuse_finished, text_from, usage_error
from .staff import find_engineer

TIERS = {"tier2": 2, "tier3": 3, "2": 2, "3": 3, "t2": 2, "t3": 3}  # what ``escalate`` accepts


def ack(ctx: Ctx, args: list[str], verb: str = "ack") -> list[Reply]:
    """``ack N``: the actor takes the ticket (the response, P3); ``assign`` names someone."""
    if verb == "ack" and len(args) != 1:
        raise usage_error(verb)
    ticket = named_ticket(ctx, verb, args)
    if verb == "assign":
        if len(args) < 2:
            raise usage_error(verb)
        who = " ".join(args[1:])
        engineer = find_engineer(ctx.session, who)
        if engineer is None:
            raise CommandError("cmd.err.no_engineer", who=who)
        if ticket.assignee_id == engineer.id:  # nothing changes, so nobody is told
            raise CommandError("cmd.err.already_assigned", n=ticket.id, engineer=engineer.name)
    else:
        engineer = ctx.actor
    refuse_finished(ticket, allow_resolved=False)
    first = ticket.responded_at is None
    if first:
        ticket.responded_at = ctx.now
    ticket.assignee_id = engineer.id
    ctx.session.add(ticket)
    tz = store.ticket_calendar(ctx.session, ticket).tz
    text = updates.response(ticket.id or 0, engineer.name, ctx.now, tz,
                            ticket.severity, ctx.policy, ticket.language, first)
    _record(ctx, ticket, "assigned" if verb == "assign" else "acknowledged", engineer.name, text,
            {"assignee_id": engineer.id, "response": first})
    take_pages(ctx.session, ticket, engineer, ctx.now)  # taking a page is the response (P3)
    return [_done(ctx, "cmd.done.ack", ticket, engineer=engineer.name)]


def assign(ctx: Ctx, args: list[str]) -> list[Reply]:
    """``assign N @engineer``: as ``ack``, for the named engineer."""
    return ack(ctx, args, "assign")


def sev(ctx: Ctx, args: list[str]) -> list[Reply]:
    """``sev N S1..S4 reason``: reclassify; deadlines recomputed, waiting time kept."""
    ticket = named_ticket(ctx, "sev", args)
    if len(args) < 3:
        raise usage_error("sev")
    severity = args[1].upper()
    if severity not in ctx.policy.severities:
        raise CommandError("cmd.err.bad_severity", sev=args[1],
                           choices=", ".join(ctx.policy.severities))
    reason = text_from("sev", args, 2)
    refuse_finished(ticket)
    old = ticket.severity
    if severity == old:
        raise CommandError("cmd.err.same_severity", n=ticket.id, sev=severity)
    ticket.severity = severity
    ticket.severity_reason = reason
    ctx.session.add(ticket)
    text = updates.severity(ticket.id or 0, old, severity, reason, ctx.policy, ticket.language)
    _record(ctx, ticket, "severity", reason, text, {"from": old, "to": severity})
    return [_done(ctx, "cmd.done.sev", ticket, old=old, sev=severity)]


def pending(ctx: Ctx, args: list[str]) -> list[Reply]:
    """``pending N what-is-missing``: wait for the customer; every clock pauses (P17)."""
    ticket = named_ticket(ctx, "pending", args)
    reason = text_from("pending", args, 1)
    refuse_finished(ticket)
    if ticket.status == TicketStatus.PENDING:
        raise CommandError("cmd.err.already_pending", n=ticket.id)
    ticket.status = TicketStatus.PENDING
    ctx.session.add(TicketPause(ticket_id=ticket.id or 0, started_at=ctx.now, reason=reason,
                                kind="customer"))
    ctx.session.add(ticket)
    ctx.session.flush()
    _record(ctx, ticket, "paused", reason, updates.pending(ticket.id or 0, reason, ticket.language))
    return [_done(ctx, "cmd.done.pending", ticket)]


def resume(ctx: Ctx, args: list[str]) -> list[Reply]:
    """``resume N``: end every pause of a waiting ticket."""
    if len(args) != 1:
        raise usage_error("resume")
    ticket = named_ticket(ctx, "resume", args)
    refuse_finished(ticket)
    if ticket.status != TicketStatus.PENDING:
        raise CommandError("cmd.err.not_pending", n=ticket.id)
    actions.end_pauses(ctx.session, ticket, ctx.now)
    ticket.status = TicketStatus.OPEN
    ctx.session.add(ticket)
    ctx.session.flush()
    _record(ctx, ticket, "resumed", "", updates.resumed(ticket.id or 0, ticket.language))
    return [_done(ctx, "cmd.done.resume", ticket)]


def workaround(ctx: Ctx, args: list[str]) -> list[Reply]:
    """``workaround N text``: sent to the customer; the workaround clock stops (first time)."""
    ticket = named_ticket(ctx, "workaround", args)
    text = text_from("workaround", args, 1)
    refuse_finished(ticket)
    if ticket.workaround_at is None:
        ticket.workaround_at = ctx.now
    ticket.workaround_text = text
    ctx.session.add(ticket)
    _record(ctx, ticket, "workaround", text,
            updates.workaround(ticket.id or 0, text, ticket.language))
    return [_done(ctx, "cmd.done.workaround", ticket)]


def _split_fix_version(args: list[str]) -> tuple[list[str], str | None]:
    """``resolve``'s arguments without ``--fix-version V`` (or ``--fix-version=V``), and V."""
    out: list[str] = []
    version: str | None = None
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--fix-version":
            if i + 1 >= len(args):
                raise usage_error("resolve")
            version = args[i + 1]
            i += 2
            continue
        if a.startswith("--fix-version="):
            version = a.split("=", 1)[1]
            if not version:
                raise usage_error("resolve")
        else:
            out.append(a)
        i += 1
    return out, version


def resolve(ctx: Ctx, args: list[str]) -> list[Reply]:
    """``resolve N text [--fix-version V]``: the resolution clock stops; the customer is asked
    to confirm."""
    args, version = _split_fix_version(args)
    ticket = named_ticket(ctx, "resolve", args)
    text = text_from("resolve", args, 1)
    refuse_finished(ticket)
    actions.end_pauses(ctx.session, ticket, ctx.now)
    ticket.status = TicketStatus.RESOLVED
    ticket.resolved_at = ctx.now
    ticket.resolution_text = text
    ticket.fix_version = version
    ctx.session.add(ticket)
    ctx.session.flush()
    _record(ctx, ticket, "resolved", text,
            updates.resolved(ticket.id or 0, text, version, ticket.language),
            {"fix_version": version} if version else None)
    return [_done(ctx, "cmd.done.resolve", ticket)]


def close(ctx: Ctx, args: list[str]) -> list[Reply]:
    """``close N``: closed (a ticket never resolved stops its resolution clock now)."""
    if len(args) != 1:
        raise usage_error("close")
    ticket = named_ticket(ctx, "close", args)
    refuse_finished(ticket, allow_resolved=True)
    actions.end_pauses(ctx.session, ticket, ctx.now)
    if ticket.resolved_at is None:
        ticket.resolved_at = ctx.now
    ticket.status = TicketStatus.CLOSED
    ticket.closed_at = ctx.now
    ctx.session.add(ticket)
    ctx.session.flush()
    _record(ctx, ticket, "closed", "", updates.closed(ticket.id or 0, ticket.language))
    satisfaction.ask(ctx.session, ticket, ctx.now)  # issue #19: the survey, once per ticket
    return [_done(ctx, "cmd.done.close", ticket)]


def reopen(ctx: Ctx, args: list[str]) -> list[Reply]:
    """``reopen N reason``: the resolution clock resumes with the time it had used."""
    ticket = named_ticket(ctx, "reopen", args)
    reason = text_from("reopen", args, 1)
    if ticket.status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED) or not ticket.resolved_at:
        raise CommandError("cmd.err.not_resolved", n=ticket.id)
    # The resolved interval becomes waiting time: the clock keeps what it had used.
    ctx.session.add(TicketPause(ticket_id=ticket.id or 0, started_at=ticket.resolved_at,
                                ended_at=max(ctx.now, ticket.resolved_at), reason=reason,
                                kind="reopen"))
    resolved_at = ticket.resolved_at
    ticket.resolved_at = None
    ticket.closed_at = None
    ticket.status = TicketStatus.OPEN
    ctx.session.add(ticket)
    ctx.session.flush()
    _record(ctx, ticket, "reopened", reason, updates.reopened(ticket.id or 0, reason,
                                                              ticket.language),
            {"resolved_at": resolved_at.isoformat()})
    return [_done(ctx, "cmd.done.reopen", ticket)]


def escalate(ctx: Ctx, args: list[str]) -> list[Reply]:
    """``escalate N tier2|tier3 reason``: the customer and the engineers are told."""
    ticket = named_ticket(ctx, "escalate", args)
    if len(args) < 3:
        raise usage_error("escalate")
    raw = args[1].lower()
    if raw not in TIERS:
        raise CommandError("cmd.err.bad_tier", tier=args[1])
    tier = TIERS[raw]
    reason = text_from("escalate", args, 2)
    refuse_finished(ticket, allow_resolved=True)
    if ticket.tier == tier:
        raise CommandError("cmd.err.same_tier", n=ticket.id, tier=tier)
    old = ticket.tier
    ticket.tier = tier
    ctx.session.add(ticket)
    ev = _record(ctx, ticket, "escalated", reason,
                 updates.escalated(ticket.id or 0, tier, reason, ticket.language),
                 {"from": old, "to": tier})
    customer = ctx.session.get(Customer, ticket.customer_id)
    tell_engineers_about(ctx.session, ctx.routing, ticket, ev, t(
        "cmd.eng.escalated", "en", n=ticket.id, customer=customer.code if customer else "?",
        sev=ticket.severity, tier=tier, actor=ctx.actor.name, reason=reason))
    return [_done(ctx, "cmd.done.escalate", ticket, tier=tier)]


def note(ctx: Ctx, args: list[str]) -> list[Reply]:
    """``note N text``: an internal note, never sent to the customer."""
    ticket = named_ticket(ctx, "note", args)
    text = text_from("note", args, 1, ctx.line)
    store.add_event(ctx.session, ticket, store.INTERNAL_NOTE, text, actor=ctx.actor, at=ctx.now)
    return [_done(ctx, "cmd.done.note", ticket)]


def reply(ctx: Ctx, args: list[str]) -> list[Reply]:
    """``reply N text``: the engineer's words to the customer, in their conversation (P21)."""
    ticket = named_ticket(ctx, "reply", args)
    text = text_from("reply", args, 1, ctx.line)
    refuse_finished(ticket, allow_resolved=True)
    actions.engineer_replied(ctx.session, ctx.policy, ticket, text, actor=ctx.actor,
                             now=ctx.now)
    return [_done(ctx, "cmd.done.reply", ticket)]


def exception(ctx: Ctx, args: list[str]) -> list[Reply]:
    """``exception N text``: an SLA exception, sent to the customer in writing."""
    ticket = named_ticket(ctx, "exception", args)
    text = text_from("exception", args, 1)
    refuse_finished(ticket, allow_resolved=True)
    _record(ctx, ticket, "sla-exception", text,
            updates.exception(ticket.id or 0, text, ticket.language))
    return [_done(ctx, "cmd.done.exception", ticket)]


def _record(ctx: Ctx, ticket: Ticket, kind: str, text: str, customer_text: str | None,
            data: dict[str, Any] | None = None) -> TicketEvent:
    return actions.record(ctx.session, ctx.policy, ticket, kind, text, customer_text,
                          actor=ctx.actor, now=ctx.now, data=data)


def _done(ctx: Ctx, key: str, ticket: Ticket, **kw: Any) -> Reply:
    return Reply(t(key, ctx.lang, n=ticket.id, **kw), meta={"ticket": str(ticket.id)})
