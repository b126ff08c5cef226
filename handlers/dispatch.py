"""The one decision of what an inbound message is, for every channel.

Adapters translate a platform event into an :class:`~handlers.types.Incoming` and call
:func:`route` inside the transaction that records the delivery; they render the replies and
decide nothing themselves. In order:

0. In a chat shared with one customer (a Slack Connect channel), anyone but that customer's
   contacts is refused (:mod:`handlers.shared_chats`).
1. A pressed command button: its command line runs as the person who pressed it.
2. A command: a customer verb (:mod:`handlers.customer_verbs`) or an engineer verb
   (:mod:`handlers.commands`); staff get the engineers' ``status``/``list``.
3. A message the platform ties to a ticket (its thread, a reply to our message about it):
   from a contact of that ticket's organisation, a message on that ticket; from staff, an
   internal note, or with ``reply`` the engineer's words to the customer
   (:mod:`handlers.conversation`).
4. Staff writing outside a thread: a command line.
5. A customer: the satisfaction survey's answer or comment (:mod:`handlers.satisfaction`); a
   message on a resolved ticket awaiting its auto-close reopens it (:mod:`handlers.auto_close`);
   the pick of a held message (:mod:`handlers.follow_up`); the next step of their
   dialog in progress (asked which when a ticket began to wait for their answer meanwhile);
   else the answer to a ticket that waits for them (P17, P13); else a follow-up on their one
   open ticket (with several: which one?); else a new report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlmodel import Session

from storage.models import Contact, DialogSession, Ticket, TicketStatus

from . import (
    auto_close,
    conversation,
    customer_verbs,
    follow_up,
    intake,
    satisfaction,
    shared_chats,
)
from .commands import STAFF_ROLES, VERBS, execute_command
from .i18n import t
from .identity import Identity, Sender, contact_language, identify_sender
from .intake import IntakeConfig
from .text import strip_nul
from .types import COMMAND_STEP, Incoming, Reply


def route(session: Session, cfg: IntakeConfig, msg: Incoming, now: datetime) -> list[Reply]:
    """What ``msg`` means and the replies to its sender; the caller commits afterwards."""
    msg = _clean(msg)
    if msg.button_step == COMMAND_STEP:
        words = (msg.text or "").split()
        if not words:
            return []
        msg = replace(msg, command=words[0].lstrip("/"), args=tuple(words[1:]), text=None,
                      button_step=None)
    # One query says who this is, with their report in progress, their held message and the
    # ticket waiting for their answer: every rule below reads it.
    sender = identify_sender(session, msg.channel, msg.user_key, now, msg.language_hint,
                             msg.workspace)
    actor = sender.who.contact
    staff = actor is not None and actor.active and actor.role in STAFF_ROLES
    refused = shared_chats.outsider(session, msg, actor, staff)
    if refused is not None:  # another organisation's person in a customer's shared chat
        return refused
    if msg.command:
        return _command(session, cfg, sender, staff, msg, now)
    ticket = conversation.ticket_in_thread(session, msg)
    if ticket is not None and actor is not None:
        if actor.customer_id == ticket.customer_id and not staff:
            return _customer(session, cfg, sender, msg, now, on=ticket)
        if staff:
            return conversation.staff_on_ticket(session, cfg, actor, ticket, msg, now)
    if staff:
        return _as_command(session, cfg, actor, msg.text or "help", now)
    return _customer(session, cfg, sender, msg, now)


def _command(session: Session, cfg: IntakeConfig, sender: Sender, staff: bool,
             msg: Incoming, now: datetime) -> list[Reply]:
    verb = (msg.command or "").lower()
    # Staff get the engineers' verb where both have one (status, list, help); everyone's
    # language is their own; a customer asking for an engineers' verb is told it is not theirs.
    if verb == "lang" or (verb in customer_verbs.VERBS and not (staff and verb in VERBS)):
        return customer_verbs.run(session, cfg, replace(msg, command=verb), now, sender)
    actor = sender.who.contact
    if verb in VERBS:
        return _as_command(session, cfg, actor, " ".join((verb, *msg.args)), now)
    lang = contact_language(actor, None, msg.language_hint)
    return [Reply(t("cmd.unknown", lang, command=verb))]


def _as_command(session: Session, cfg: IntakeConfig, actor: Contact | None, line: str,
                now: datetime) -> list[Reply]:
    """An engineers' command line; its choices come back as command buttons."""
    replies = execute_command(session, cfg.policy, actor, line, now, cfg.routing,
                              charts=cfg.charts)
    return [replace(r, meta={**r.meta, "step": COMMAND_STEP, "command": "1"}) if r.choices
            else replace(r, meta={**r.meta, "command": "1"}) for r in replies]


def _customer(session: Session, cfg: IntakeConfig, sender: Sender,
              msg: Incoming, now: datetime, on: Ticket | None = None) -> list[Reply]:
    found = customer_verbs.admitted(session, sender.who, sender.dialog)
    if isinstance(found, Reply):
        return [found]
    who, lang = found
    # -- issue #19 items 3-4 (handlers.satisfaction, handlers.auto_close) ------------------
    # The survey's answer or comment; a message on a resolved ticket awaiting its auto-close
    # reopens it. Both come before the rest: the platform may tie them to the closed ticket.
    done = (satisfaction.incoming(session, who, msg, sender, lang, now, on)
            or auto_close.reopen_on_reply(session, cfg, who, on, msg, sender, lang, now))
    if done is not None:
        return done
    # -- end of issue #19 items 3-4 ------------------------------------------------------
    if on is not None and on.status == TicketStatus.CLOSED:
        # Written on a closed ticket: a merged one's conversation goes on in the ticket it
        # was merged into; else the message is nobody's work, so it is read as if untied
        # (another open ticket, or a new report), and the customer is told why.
        live = conversation.live_ticket(session, on)
        if live is None:
            note = Reply(t("conversation.closed", lang, number=on.id))
            return [note, *_untied(session, cfg, who, sender, msg, lang, now)]
        on = live
    if on is not None:  # the platform says which ticket: the dialog stays where it was
        return conversation.on_ticket(session, cfg, who, on, msg, lang, now)
    return _untied(session, cfg, who, sender, msg, lang, now)


def _untied(session: Session, cfg: IntakeConfig, who: Identity, sender: Sender, msg: Incoming,
            lang: str, now: datetime) -> list[Reply]:
    """A customer's message the platform ties to no (live) ticket: a held message's pick,
    the report in progress, the ticket waiting for them, or a new report."""
    row, held = sender.dialog, sender.held  # read with who they are
    if held is not None:
        done = follow_up.picked(
            session, who, msg, held, row, lang, now,
            lambda ticket, m: conversation.on_ticket(session, cfg, who, ticket, m, lang, now),
            lambda m, files: _into_report(session, cfg, who, row, m, files, lang, now))
        if done is not None:
            return done
        if msg.button_step is None and (msg.text or msg.files):  # more before they pick
            return follow_up.hold(session, cfg, who, msg,
                                  _choices(session, who, msg, row), row, lang, held)
    if msg.button_step == follow_up.PICK_STEP:
        return [Reply(t("followup.nothing_held", lang))]  # a stale "which ticket?" button
    if row is not None:
        # A ticket began to wait for their answer while this report was being written: their
        # next message may well be that answer, so they are asked which it is for.
        waiting = (session.get(Ticket, sender.waiting_id)
                   if sender.waiting_id is not None and msg.button_step is None
                   and (msg.text or msg.files) else None)
        if waiting is not None:
            return follow_up.hold(session, cfg, who, msg, [waiting], row, lang)
        return intake.take(session, cfg, who, row, msg, lang, now)
    if not (msg.text or msg.files):
        return intake.start(session, cfg, who, msg, lang, now)
    if (msg.text or "").strip().lower() in customer_verbs.NEW_REPORT_WORDS and not msg.files:
        return customer_verbs.run(session, cfg, replace(msg, command="new", text=None), now,
                                  sender)
    ticket = conversation.ticket_awaiting(session, who, msg.channel)
    if ticket is not None:
        return conversation.on_ticket(session, cfg, who, ticket, msg, lang, now)
    tickets = follow_up.open_tickets(session, who, msg.channel)
    if len(tickets) == 1:
        return conversation.on_ticket(session, cfg, who, tickets[0], msg, lang, now)
    if tickets:
        return follow_up.hold(session, cfg, who, msg, tickets, None, lang)
    if msg.files:
        return [Reply(t("files.no_dialog", lang))]
    return intake.start(session, cfg, who, msg, lang, now)


def _choices(session: Session, who: Identity, msg: Incoming,
             row: DialogSession | None) -> list[Ticket]:
    """The tickets a held message may go to: those being worked on (with a report in
    progress, the one waiting for the customer's answer)."""
    if row is not None:
        waiting = conversation.ticket_awaiting(session, who, msg.channel)
        return [waiting] if waiting is not None else []
    return follow_up.open_tickets(session, who, msg.channel)


def _into_report(session: Session, cfg: IntakeConfig, who: Identity, row: DialogSession | None,
                 msg: Incoming, files: Sequence[int], lang: str, now: datetime) -> list[Reply]:
    """A held message picked for a report: the one in progress takes it as its next answer;
    else it begins a new report as its summary (a customer's words are never dropped)."""
    replies: list[Reply] = []
    if row is None:
        replies = intake.start(session, cfg, who, msg, lang, now)[:1]  # the greeting
        row = intake.get_dialog(session, msg.channel, msg.user_key)
        assert row is not None  # start() made it
    intake.adopt_files(session, files, row)
    if msg.text is None:
        return replies + intake.resume(session, cfg, who, row, msg, lang, now)[1:]
    return replies + intake.take(session, cfg, who, row, msg, lang, now)


def _clean(msg: Incoming) -> Incoming:
    """NUL out of every text: PostgreSQL cannot store it, and it never means anything."""
    if "\x00" not in (msg.text or "") and not any("\x00" in a for a in msg.args):
        return msg
    return replace(msg, text=strip_nul(msg.text) if msg.text is not None else None,
                   args=tuple(strip_nul(a) for a in msg.args))
