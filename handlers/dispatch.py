"""The one decision of what an inbound message is, for every channel.

Adapters translate a platform event into an :class:`~handlers.types.Incoming` and call
:func:`route` inside the transaction that records the delivery; they render the replies and
decide nothing themselves. In order:

0. In a chat shared with one customer (a Slack Connect channel), anyone but that customer's
   contacts is refused (:mod:`handlers.shared_chats`).
1. A pressed command button: its command line runs as the person who pressed it.
2. A command: a customer verb (:mod:`handlers.customer_verbs`) or an engineer verb
   (:mod:`handlers.commands`); staff get the engineers' ``status``/``list``.
3. A message in a ticket's thread, from a contact of that ticket's organisation: a message
   on that ticket (:mod:`handlers.conversation`).
4. Staff writing outside a thread: a command line.
5. A customer: the next step of their dialog in progress; else the answer to a ticket that
   waits for them (P17, P13); else a new report.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlmodel import Session

from storage.models import Contact, Ticket

from . import conversation, customer_verbs, intake, shared_chats
from .commands import STAFF_ROLES, VERBS, execute_command
from .i18n import t
from .identity import contact_language, identify_with_dialog
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
    # One query says who this is (and their dialog in progress): every rule below reads it.
    sender = identify_with_dialog(session, msg.channel, msg.user_key, now, msg.language_hint,
                                  msg.workspace)
    actor = sender[0].contact
    staff = actor is not None and actor.active and actor.role in STAFF_ROLES
    refused = shared_chats.outsider(session, msg, actor, staff)
    if refused is not None:  # another organisation's person in a customer's shared chat
        return refused
    if msg.command:
        return _command(session, cfg, sender, staff, msg, now)
    ticket = conversation.ticket_in_thread(session, msg)
    if ticket is not None and actor is not None and actor.customer_id == ticket.customer_id:
        return _customer(session, cfg, sender, msg, now, on=ticket)
    if staff:
        return _as_command(session, cfg, actor, msg.text or "help", now)
    return _customer(session, cfg, sender, msg, now)


def _command(session: Session, cfg: IntakeConfig, sender: customer_verbs.Sender, staff: bool,
             msg: Incoming, now: datetime) -> list[Reply]:
    verb = (msg.command or "").lower()
    # Staff get the engineers' verb where both have one (status, list, help); everyone's
    # language is their own; a customer asking for an engineers' verb is told it is not theirs.
    if verb == "lang" or (verb in customer_verbs.VERBS and not (staff and verb in VERBS)):
        return customer_verbs.run(session, cfg, replace(msg, command=verb), now, sender)
    actor = sender[0].contact
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


def _customer(session: Session, cfg: IntakeConfig, sender: customer_verbs.Sender,
              msg: Incoming, now: datetime, on: Ticket | None = None) -> list[Reply]:
    found = customer_verbs.admitted(session, *sender)
    if isinstance(found, Reply):
        return [found]
    who, lang = found
    row = sender[1]
    ticket = on
    if ticket is None and row is None and (msg.text or msg.files):
        ticket = conversation.ticket_awaiting(session, who, msg.channel)
    if ticket is not None:
        return conversation.on_ticket(session, cfg, who, ticket, msg, lang, now)
    if row is not None:
        return intake.take(session, cfg, who, row, msg, lang, now)
    if msg.files:
        return [Reply(t("files.no_dialog", lang))]
    return intake.start(session, cfg, who, msg, lang, now)


def _clean(msg: Incoming) -> Incoming:
    """NUL out of every text: PostgreSQL cannot store it, and it never means anything."""
    if "\x00" not in (msg.text or "") and not any("\x00" in a for a in msg.args):
        return msg
    return replace(msg, text=strip_nul(msg.text) if msg.text is not None else None,
                   args=tuple(strip_nul(a) for a in msg.args))
