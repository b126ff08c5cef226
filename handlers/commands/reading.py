"""The verbs that only read: ``status N`` (a ticket's whole report), ``list`` (open tickets
with their next deadline), ``help``. They change nothing, so they run without a savepoint."""

from __future__ import annotations

from datetime import datetime, tzinfo

from sqlmodel import Session, col, select

from sla import ClockState, ClockStatus, Policy, format_duration
from storage import tickets as store
from storage.models import Contact, Customer, Ticket, TicketStatus

from .. import ticket_report
from ..i18n import t
from ..merging import links_line
from ..ticket_report_text import CHAT, body_lines
from ..types import Reply
from ..vocabulary import clock_name, local_when, status_name, target_text
from .parsing import CommandError, Ctx, named_ticket, usage_error

LIST_LIMIT = 50  # lines of a ``list`` reply

ICONS = {
    ClockStatus.RUNNING: "⏳",
    ClockStatus.PAUSED: "⏸️",
    ClockStatus.MET: "✅",
    ClockStatus.BREACHED: "🔴",
    ClockStatus.NO_TARGET: "➖",
}
WARN_ICON = "⚠️"
# What the status header already says: not repeated in the report below it.
IN_HEADER = ("summary", "severity", "tier")


def _clock_line(state: ClockState, lang: str, zone: tzinfo) -> str:
    """One clock's countdown; its times in the ticket's zone, named."""
    icon = ICONS[state.status]
    clock = clock_name(state.kind, lang)
    target = target_text(state.target, lang)
    due = local_when(state.deadline, zone) if state.deadline else "—"
    if state.status is ClockStatus.NO_TARGET:
        return t("cmd.clock.none", lang, icon=icon, clock=clock, target=target)
    if state.stopped_at is not None:
        at = local_when(state.stopped_at, zone)
        key = "cmd.clock.met" if state.status is ClockStatus.MET else "cmd.clock.late"
        return t(key, lang, icon=icon, clock=clock, target=target, at=at)
    if state.status is ClockStatus.BREACHED:
        over = format_duration(-state.remaining if state.remaining is not None else None, lang)
        return t("cmd.clock.overdue", lang, icon=icon, clock=clock, target=target, over=over,
                 due=due)
    left = format_duration(state.remaining, lang)
    if state.status is ClockStatus.PAUSED:
        return t("cmd.clock.paused", lang, icon=icon, clock=clock, target=target, left=left)
    if state.fraction is not None and state.fraction >= 0.75:
        icon = WARN_ICON
    return t("cmd.clock.left", lang, icon=icon, clock=clock, target=target, left=left, due=due)


def status_text(session: Session, policy: Policy, ticket: Ticket, now: datetime,
                lang: str) -> str:
    """The ticket's whole report for staff: header, one countdown line per clock, then every
    field, attachments, pauses, the conversation and the audit trail (clipped for chat)."""
    report = ticket_report.build(session, policy, ticket, now, recent=CHAT.entries)
    head = t("cmd.status.head", lang, n=ticket.id, customer=report.customer,
             sev=ticket.severity,
             sev_name=report.severity_names.get(lang) or report.severity_names.get("en", ""),
             status=status_name(ticket.status, lang), tier=ticket.tier,
             assignee=report.assignee or t("cmd.status.unassigned", lang),
             summary=ticket.summary)
    clocks = [_clock_line(s, lang, report.zone) for s in report.clocks] or [
        t("cmd.status.no_clock", lang)]
    linked = links_line(session, ticket.id or 0, lang)  # issue #19: link N M, merge N into M
    return "\n".join([head, *([linked] if linked else []), *clocks,
                      *body_lines(report, lang, CHAT, IN_HEADER)])


def status(ctx: Ctx, args: list[str]) -> list[Reply]:
    """``status N``: :func:`status_text`; without a number, ``list``."""
    if not args:
        return list_tickets(ctx, [])
    if len(args) != 1:
        raise usage_error("status")
    ticket = named_ticket(ctx, "status", args)
    return [Reply(status_text(ctx.session, ctx.policy, ticket, ctx.now, ctx.lang),
                  meta={"ticket": str(ticket.id)})]


def _breaching(states: list[ClockState], policy: Policy) -> bool:
    """Breached, or past the last reminder threshold, on a clock still running."""
    last = policy.reminders[-1] if policy.reminders else 0.9
    return any(
        s.stopped_at is None and (
            s.status is ClockStatus.BREACHED
            or (s.status is ClockStatus.RUNNING and (s.fraction or 0) >= last)
        )
        for s in states
    )


def list_tickets(ctx: Ctx, args: list[str]) -> list[Reply]:
    """``list [mine|breaching|customer CODE]``: open tickets, the first LIST_LIMIT of them."""
    query = select(Ticket).where(Ticket.status != TicketStatus.CLOSED).order_by(col(Ticket.id))
    mode = args[0].lower() if args else ""
    if mode == "mine" and len(args) == 1:
        query = query.where(Ticket.assignee_id == ctx.actor.id)
    elif mode == "customer" and len(args) == 2:
        customer = ctx.session.exec(
            select(Customer).where(Customer.code == args[1].upper())
        ).first() or ctx.session.exec(select(Customer).where(Customer.code == args[1])).first()
        if customer is None:
            raise CommandError("cmd.err.no_customer", code=args[1])
        query = query.where(Ticket.customer_id == customer.id)
    elif args and not (mode == "breaching" and len(args) == 1):
        raise CommandError("cmd.err.bad_list")
    found = list(ctx.session.exec(query))
    breaching = mode == "breaching"
    # Only "breaching" needs every ticket's clocks; the others only those shown.
    considered = found if breaching else found[:LIST_LIMIT]
    states_of = store.clock_states_many(ctx.session, ctx.policy, considered, ctx.now)
    shown = [(tk, states_of[tk.id or 0]) for tk in considered
             if not (breaching and not _breaching(states_of[tk.id or 0], ctx.policy))]
    if not shown:
        return [Reply(t("cmd.list.empty", ctx.lang))]
    hidden = (len(shown) if breaching else len(found)) - LIST_LIMIT
    codes = {c.id or 0: c.code for c in ctx.session.exec(select(Customer).where(
        col(Customer.id).in_({tk.customer_id for tk, _ in shown})))}
    names: dict[int, str] = {}
    # A chat message, not a report: the first LIST_LIMIT, then how many more and how to narrow.
    lines = [_list_line(ctx, tk, states, codes, names) for tk, states in shown[:LIST_LIMIT]]
    if hidden > 0:
        lines.append(t("cmd.list.more", ctx.lang, count=hidden))
    return [Reply("\n".join(lines))]


def _list_line(ctx: Ctx, ticket: Ticket, states: list[ClockState], codes: dict[int, str],
               names: dict[int, str]) -> str:
    assignee = t("cmd.status.unassigned", ctx.lang)
    if ticket.assignee_id is not None:
        if ticket.assignee_id not in names:
            a = ctx.session.get(Contact, ticket.assignee_id)
            names[ticket.assignee_id] = a.name if a else "?"
        assignee = names[ticket.assignee_id]
    running = [s for s in states if s.stopped_at is None and s.remaining is not None]
    nxt = min(running, key=lambda s: s.remaining or s.elapsed) if running else None
    if nxt is None:
        icon, nxt_text = (ICONS[ClockStatus.MET] if states else ICONS[ClockStatus.NO_TARGET]), "—"
    else:
        icon = ICONS[nxt.status]
        if nxt.status is ClockStatus.RUNNING and (nxt.fraction or 0) >= 0.75:
            icon = WARN_ICON
        nxt_text = t("cmd.list.next", ctx.lang, clock=clock_name(nxt.kind, ctx.lang),
                     left=format_duration(nxt.remaining, ctx.lang))
    summary = ticket.summary if len(ticket.summary) <= 60 else ticket.summary[:59] + "…"
    return t("cmd.list.line", ctx.lang, icon=icon, n=ticket.id,
             customer=codes.get(ticket.customer_id, "?"),
             sev=ticket.severity, status=status_name(ticket.status, ctx.lang),
             assignee=assignee, next=nxt_text, summary=summary)


def show_help(ctx: Ctx, args: list[str]) -> list[Reply]:
    """``help``: every verb with its arguments."""
    return [Reply(t("cmd.help.staff", ctx.lang))]
