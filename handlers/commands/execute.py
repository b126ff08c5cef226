"""One command line, run: the verb table and :func:`execute_command`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session

from sla import Policy
from storage.models import Contact

from ..i18n import t
from ..types import Reply, Routing
from . import delegated, lifecycle, linking, oncall, reading
from .parsing import CommandError, Ctx, command_words

if TYPE_CHECKING:
    from ..reports import ChartMaker

HANDLERS: dict[str, Callable[[Ctx, list[str]], list[Reply]]] = {
    "ack": lifecycle.ack,
    "assign": lifecycle.assign,
    "sev": lifecycle.sev,
    "pending": lifecycle.pending,
    "resume": lifecycle.resume,
    "workaround": lifecycle.workaround,
    "resolve": lifecycle.resolve,
    "close": lifecycle.close,
    "reopen": lifecycle.reopen,
    "escalate": lifecycle.escalate,
    "note": lifecycle.note,
    "reply": lifecycle.reply,
    "exception": lifecycle.exception,
    "status": reading.status,
    "list": reading.list_tickets,
    "help": reading.show_help,
    "suggest": delegated.suggest,
    "link": linking.link,  # link N M (tickets) · link N KB-ID (the knowledge base)
    "kb": delegated.kb,
    "report": delegated.report,
    "planned": delegated.planned,
    "oncall": oncall.oncall,
    # issue #19 items 1-2: related tickets and engineers away (handlers.commands.linking)
    "merge": linking.merge,
    "away": linking.away,
    "back": linking.back,
}

VERBS = tuple(HANDLERS)
READ_ONLY_VERBS = frozenset({"help", "status", "list"})  # change nothing, whoever asks


def execute_command(
    session: Session,
    policy: Policy,
    actor: Contact | None,
    text: str,
    now: datetime,
    routing: Routing,
    charts: ChartMaker | None = None,
) -> list[Reply]:
    """Run one command line (``"ack 12"``, ``"/destek sev 12 S1 outage"``) for ``actor``.

    Returns the replies to the actor, in the actor's language. The caller commits the session;
    ``handlers.hooks.ticket_changed`` runs after that commit for every changed ticket.
    """
    lang = (actor.language if actor else None) or "en"
    words = command_words(text)
    if actor is None or not actor.active:
        return [Reply(t("cmd.refused.unknown", lang))]
    if not words:
        return [Reply(t("cmd.err.empty", lang))]
    verb, args = words[0].lower(), words[1:]
    handler = HANDLERS.get(verb)
    if handler is None:
        return [Reply(t("cmd.err.unknown_verb", lang, verb=verb))]
    ctx = Ctx(session, policy, actor, lang, now, routing, charts, line=text)
    if not ctx.staff:  # customers' own status/list/help: handlers.customer_verbs
        return [Reply(t("cmd.refused.customer", lang, verb=verb))]
    try:
        if verb in READ_ONLY_VERBS:  # nothing to undo: no savepoint round trips
            return handler(ctx, args)
        # A savepoint: a command that fails half-way leaves the ticket exactly as it was.
        with session.begin_nested():
            return handler(ctx, args)
    except CommandError as exc:
        return [Reply(t(exc.key, lang, **exc.kwargs))]
