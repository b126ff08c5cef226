"""The verbs another handlers module answers: the knowledge base (``suggest``, ``link``,
``kb``, from ``handlers.knowledge``), ``report`` (``handlers.reports``) and ``planned``
(``handlers.planned_work``). Here only their arguments are read."""

from __future__ import annotations

from .. import knowledge
from ..planned_work import planned_reply
from ..reports import report_reply
from ..types import Reply
from .parsing import Ctx, named_ticket, usage_error


def suggest(ctx: Ctx, args: list[str]) -> list[Reply]:
    """``suggest N``: known errors that match the ticket."""
    if len(args) != 1:
        raise usage_error("suggest")
    ticket = named_ticket(ctx, "suggest", args)
    return [knowledge.suggest(ctx.session, ticket.id or 0, lang=ctx.lang)]


def link(ctx: Ctx, args: list[str]) -> list[Reply]:
    """``link N KB-ID``: the ticket is an occurrence of that known error."""
    if len(args) != 2:
        raise usage_error("link")
    ticket = named_ticket(ctx, "link", args)
    return [knowledge.link(ctx.session, ticket.id or 0, args[1], ctx.actor, lang=ctx.lang)]


def kb(ctx: Ctx, args: list[str]) -> list[Reply]:
    """``kb add N [KB-ID]`` · ``kb edit KB-ID FIELD TEXT`` · ``kb publish KB-ID``."""
    sub = args[0].lower() if args else ""
    if sub == "publish" and len(args) == 2:
        return [knowledge.kb_publish(ctx.session, args[1], actor=ctx.actor, lang=ctx.lang)]
    if sub == "edit" and len(args) >= 4:
        return [knowledge.kb_edit(ctx.session, args[1], args[2], " ".join(args[3:]),
                                  lang=ctx.lang)]
    if sub != "add" or len(args) not in (2, 3):
        raise usage_error("kb")
    ticket = named_ticket(ctx, "kb", args[1:2])
    return [knowledge.kb_add_from_ticket(ctx.session, ticket.id or 0,
                                         kb_id=args[2] if len(args) == 3 else None,
                                         actor=ctx.actor, lang=ctx.lang)]


def report(ctx: Ctx, args: list[str]) -> list[Reply]:
    """``report [CUSTOMER] [YYYY-MM]``: the monthly SLA report."""
    return [report_reply(ctx.session, ctx.policy, args, ctx.now, ctx.lang, ctx.charts).reply]


def planned(ctx: Ctx, args: list[str]) -> list[Reply]:
    """``planned``: the customers' planned work ahead."""
    if args:
        raise usage_error("planned")
    return [planned_reply(ctx.session, ctx.now, ctx.lang)]
