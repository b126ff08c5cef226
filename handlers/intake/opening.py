"""Opening the ticket from a complete report: validation, the audit trail, the cards."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from storage import kb, outbox, tickets
from storage.directory import customer_calendar, support_window
from storage.models import Attachment, Product, Ticket, TicketKind

from .. import hooks
from ..assignment import Choice, auto_assign
from ..dialog import FIELDS, FieldContext, Invalid, get_field, propose_severity, version_row
from ..i18n import t
from ..identity import Identity
from ..notify import keys, tell_customer
from ..related import similar_open
from ..text import strip_nul
from ..types import OUTBOX_META, Reply
from ..vocabulary import clock_name, local_when, target_text
from .attachments import files_added
from .config import IntakeConfig
from .prompts import out_of_hours_note

log = logging.getLogger("destek.intake")

# -- the ticket -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    ticket: Ticket
    replies: list[Reply]


# How long the confirmation's outbox row waits for the adapter's direct answer to settle it.
CONFIRMATION_GRACE = timedelta(minutes=3)
REPORT_COLUMNS = ("version_text", "environment", "description", "steps", "error_text",
                  "attachments_missing_reason", "production_down", "workaround_available",
                  "users_affected", "severity_reason", "remote_access", "remote_access_how",
                  "service_category")


def validate_answers(session: Session, cfg: IntakeConfig, ident: Identity,
                     raw: Mapping[str, str], now: datetime, lang: str | None = None,
                     attachments: int = 0) -> tuple[dict[str, Any], dict[str, str]]:
    """Validate a whole report at once (e.g. a Slack modal): (answers, errors by field key).

    ``raw`` maps field keys to the submitted text (choice values or labels); ``attachments`` is
    how many files the caller already stored. The self-help field is not part of a report.
    """
    lang = lang or ident.language
    answers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    # A form's choices come back as their values (a select's option), never as positions.
    ctx = FieldContext(session, ident, cfg.policy, answers, lang, now, attachments, pressed=True)
    for f in FIELDS:
        if not f.report or not f.applies(answers):
            continue
        text = strip_nul(raw.get(f.key) or "").strip()
        if not text:
            errors[f.key] = t("invalid.required", lang)
            continue
        try:
            answers[f.key] = f.validate(text, ctx)
        except Invalid as exc:
            errors[f.key] = exc.message(lang)
            continue
        if f.key == "version_text" and "product_id" in answers:
            row = version_row(session, answers["product_id"], answers[f.key])
            answers["version_past_eos"] = bool(row) and support_window(
                row.released, cfg.policy.end_of_support_years,  # type: ignore[union-attr]
                now.astimezone(customer_calendar(ident.customer).zone).date()).past
    return answers, errors


def open_from_answers(session: Session, cfg: IntakeConfig, ident: Identity,
                      answers: Mapping[str, Any], now: datetime, *, channel: str,
                      user_key: str | None = None, chat: str | None = None,
                      thread: str | None = None, dialog_id: int | None = None,
                      lang: str | None = None) -> Opened:
    """Open the ticket from a complete, validated report; its clocks start now (P15).

    Links the dialog's attachments, writes the audit trail, queues the engineers' cards and
    returns the customer's confirmation (number, severity, plan, local due times, tier).
    """
    lang = lang or ident.language
    missing = [f.key for f in FIELDS if f.report and f.applies(answers) and f.key not in answers]
    if missing:
        raise ValueError(f"report incomplete: {', '.join(missing)}")
    product = session.get(Product, answers["product_id"])
    version = version_row(session, answers["product_id"], answers["version_text"])
    kind = answers["kind"]
    # An answer that no longer applies (the kind changed to a service request) is not kept.
    fields = {k: answers.get(k) for k in REPORT_COLUMNS
              if k in answers and get_field(k).applies(answers)}
    ticket = tickets.open_ticket(
        session, cfg.policy, ident.customer, ident.contact, ident.plan,
        answers["summary"], answers.get("severity") or propose_severity(answers), now,
        product=product,
        version_id=version.id if version else None,
        version_past_eos=bool(answers.get("version_past_eos")),
        proposed_severity=propose_severity(answers), kind=kind,
        channel=channel, channel_user=user_key, channel_chat=chat, channel_thread=thread,
        **fields,
    )
    ticket.language = lang
    n_files = 0
    if dialog_id is not None:
        for att in session.exec(select(Attachment).where(Attachment.dialog_id == dialog_id,
                                                         col(Attachment.ticket_id).is_(None))):
            att.ticket_id = ticket.id
            session.add(att)
            n_files += 1
    files_added(session, ticket, n_files, ident.contact, now)
    if ticket.version_past_eos:
        tickets.add_event(session, ticket, "note", "version past end of support (P8)", at=now)
    if kind == TicketKind.SERVICE_REQUEST:
        tickets.add_event(session, ticket, "note", "service request: billed separately, no SLA "
                          "clock (P10/P11)", at=now)
    session.flush()
    # Before the cards, so they name the assignee (its "assigned" event comes first).
    choice = auto_assign(session, cfg.policy, ticket, now)
    enqueue_cards(session, cfg, ticket, ident, product, now, choice)
    hooks.ticket_opened_on_commit(session, ticket.id)  # type: ignore[arg-type]
    reply = opened_reply(session, cfg, ident, ticket, lang, now)
    # The adapter answers with this at once and settles the row (bot.channels.pipeline); if
    # it dies between this commit and its answer, the worker sends it after the grace: the
    # customer always learns their ticket opened.
    key = keys.ticket_confirmation(ticket.id)
    tell_customer(session, ticket, key, reply.text, not_before=now + CONFIRMATION_GRACE)
    return Opened(ticket, [replace(reply, meta={**reply.meta, OUTBOX_META: key})])


def opened_reply(session: Session, cfg: IntakeConfig, ident: Identity, ticket: Ticket,
                  lang: str, now: datetime) -> Reply:
    pol = cfg.policy
    zone = customer_calendar(ident.customer).zone
    lines = [t("opened", lang, number=ticket.id, severity=ticket.severity,
               severity_name=pol.severity_name(ticket.severity, lang),
               plan=getattr(pol.plans[ticket.plan].name, lang), tier=ticket.tier)]
    if ticket.kind == TicketKind.SERVICE_REQUEST:
        lines.append(t("note.service", lang))
    else:
        paused = not ticket.remote_access
        for state in tickets.clock_states(session, pol, ticket, now):
            name = clock_name(state.kind, lang)
            if not state.target.has_clock:
                lines.append(t("due.none", lang, clock=name, target=target_text(state.target,
                                                                                 lang)))
            elif paused or state.deadline is None:
                lines.append(t("due.paused", lang, clock=name,
                               target=target_text(state.target, lang)))
            else:
                lines.append(t("due.at", lang, clock=name, target=target_text(state.target, lang),
                               at=local_when(state.deadline, zone)))
        if paused:
            lines.append(t("note.remote_pending", lang))
        note = out_of_hours_note(ident, lang, now)
        if note:
            lines.append(note)
    if ticket.version_past_eos:
        lines.append(t("note.eos_short", lang))
    return Reply("\n".join(lines), meta={"ticket": str(ticket.id)})


def known_errors(session: Session, text: str, **kwargs: Any) -> list[kb.KBMatch]:
    """Self-help and card matches; a failing look-up costs the matches, never the report.

    In a SAVEPOINT, because on PostgreSQL a failed statement would spoil the transaction
    that is about to open the ticket."""
    try:
        with session.begin_nested():
            return kb.search_known_errors(session, text, **kwargs)
    except Exception:  # noqa: BLE001 - logged; the customer's report goes on without matches
        log.exception("knowledge-base look-up failed; going on without matches")
        return []


def enqueue_cards(session: Session, cfg: IntakeConfig, ticket: Ticket, ident: Identity,
                   product: Product | None, now: datetime, choice: Choice | None = None) -> None:
    """One "new ticket" card per engineers' destination, with the top KB matches (P22), the
    customer's open tickets that look like it, and who automatic assignment chose."""
    if not cfg.routing.engineers:
        return
    query = " ".join(x for x in (ticket.summary, ticket.error_text or "") if x)
    matches = known_errors(session, query, product=product.name if product else None,
                            version=ticket.version_text, limit=cfg.kb_matches)
    lines = [
        f"New ticket #{ticket.id} [{ticket.severity} {ticket.plan}] {ident.customer.code}: "
        f"{ticket.summary}",
        f"Product: {product.name if product else '-'} {ticket.version_text or ''}"
        f"{' (past end of support)' if ticket.version_past_eos else ''}; "
        f"{ticket.environment or '-'}; kind {ticket.kind}; tier {ticket.tier}",
        f"Contact: {ident.contact.name}; remote access: "
        f"{ticket.remote_access_how if ticket.remote_access else 'not yet (clock paused)'}",
    ]
    if ticket.response_due:
        # The engineers' zone, named: the same format as every other engineer notice.
        lines.append("Response due: "
                     + local_when(ticket.response_due, cfg.routing.engineers_tz))
    if matches:
        lines.append("Known errors: " + "; ".join(f"{m.entry.id} {m.entry.title}" for m in matches))
    alike = similar_open(session, ticket)
    if alike:
        lines.append("Possibly the same as " + "; ".join(
            f"#{a.ticket.id} ({'same error' if a.why == 'error' else 'similar summary'}: "
            f"{a.ticket.summary})" for a in alike) + f" — merge {ticket.id} into N if so")
    if choice is not None:
        lines.append(f"Assigned automatically to {choice.engineer.name} ({choice.reason}; "
                     f"{choice.open_tickets} other open)" if choice.engineer else
                     f"Not assigned automatically: {choice.reason}; take it with ack "
                     f"{ticket.id}")
    payload = {"kind": "ticket_opened", "ticket": ticket.id, "severity": ticket.severity,
               "kb": [m.entry.id for m in matches], "related": [a.ticket.id for a in alike],
               "assignee": ticket.assignee_id}
    for dest in cfg.routing.engineers:
        outbox.enqueue(session, keys.ticket_opened(ticket.id, dest.channel, dest.target),
                       dest.channel, dest.target, "\n".join(lines), thread=dest.thread,
                       payload=payload, ticket_id=ticket.id)

