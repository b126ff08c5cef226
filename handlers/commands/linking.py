"""The verbs of issue #19 items 1-2: ``merge N into M``, ``link N M`` (``link N KB-ID`` stays
the knowledge base's), ``away [@engineer]`` and ``back [@engineer]``. The rules are in
``handlers.merging`` and ``handlers.assignment``."""

from __future__ import annotations

import json

from storage import tickets as store

from .. import merging
from ..assignment import set_away
from ..i18n import register, t
from ..types import Reply
from . import delegated
from .parsing import CommandError, Ctx, named_ticket, usage_error
from .staff import find_engineer

register({
    "cmd.done.merge": {
        "en": "Done: #{n} merged into #{m} ({events} conversation event(s), {files} file(s)); "
              "#{n} is closed and its contact told.",
        "tr": "Tamam: #{n}, #{m} ile birleştirildi ({events} yazışma, {files} dosya); #{n} "
              "kapatıldı ve kişisine bilgi verildi.",
    },
    "cmd.done.link": {
        "en": "Done: #{n} and #{m} are related.",
        "tr": "Tamam: #{n} ile #{m} ilişkilendirildi.",
    },
    "cmd.err.merge_self": {"en": "A ticket cannot be merged into itself (#{n}).",
                           "tr": "Bir kayıt kendisiyle birleştirilemez (#{n})."},
    "cmd.err.link_self": {"en": "A ticket cannot be related to itself (#{n}).",
                          "tr": "Bir kayıt kendisiyle ilişkilendirilemez (#{n})."},
    "cmd.err.already_linked": {"en": "#{n} and #{m} are already related.",
                               "tr": "#{n} ile #{m} zaten ilişkili."},
    "cmd.err.merge_customers": {
        "en": "#{n} and #{m} belong to different customers: they cannot be merged.",
        "tr": "#{n} ile #{m} farklı müşterilere ait: birleştirilemezler.",
    },
    "cmd.err.merge_finished": {
        "en": "#{m} is resolved or closed: reopen it before merging into it.",
        "tr": "#{m} çözüldü ya da kapatıldı: birleştirmeden önce yeniden açın.",
    },
    "cmd.err.merge_earlier": {
        "en": "#{n} was reported before #{m}, and the earliest report governs: merge {m} "
              "into {n} instead.",
        "tr": "#{n}, #{m} kaydından önce bildirildi ve en erken bildirim esastır: bunun yerine "
              "merge {m} into {n} yazın.",
    },
    "cmd.done.away": {"en": "{name} is away: no ticket is assigned to them automatically.",
                      "tr": "{name} izinde: kendisine otomatik kayıt atanmıyor."},
    "cmd.done.back": {"en": "{name} is back: tickets may be assigned to them again.",
                      "tr": "{name} döndü: kendisine yeniden kayıt atanabilir."},
    "cmd.err.away_already": {"en": "{name} is already marked away.",
                             "tr": "{name} zaten izinde olarak işaretli."},
    "cmd.err.back_already": {"en": "{name} is not marked away.",
                             "tr": "{name} izinde olarak işaretli değil."},
})


def _refused(exc: merging.MergeRefused) -> CommandError:
    return CommandError(exc.key, **exc.kwargs)


def merge(ctx: Ctx, args: list[str]) -> list[Reply]:
    """``merge N into M`` (``into`` may be left out)."""
    if len(args) == 3 and args[1].lower() == "into":
        args = [args[0], args[2]]
    if len(args) != 2 or store.parse_ticket_number(args[1]) is None:
        raise usage_error("merge")
    n, m = named_ticket(ctx, "merge", args[:1]), named_ticket(ctx, "merge", args[1:])
    try:
        ev = merging.merge(ctx.session, ctx.policy, n, m, actor=ctx.actor, now=ctx.now)
    except merging.MergeRefused as exc:
        raise _refused(exc) from None
    data = json.loads(ev.data or "{}")
    return [Reply(t("cmd.done.merge", ctx.lang, n=n.id, m=m.id, events=data.get("events", 0),
                    files=len(data.get("files", []))), meta={"ticket": str(m.id)})]


def link(ctx: Ctx, args: list[str]) -> list[Reply]:
    """``link N M``: two tickets related; ``link N KB-ID``: the knowledge base's."""
    if len(args) != 2 or store.parse_ticket_number(args[1]) is None:
        return delegated.link(ctx, args)
    a, b = named_ticket(ctx, "link", args[:1]), named_ticket(ctx, "link", args[1:])
    try:
        merging.link(ctx.session, a, b, actor=ctx.actor, now=ctx.now)
    except merging.MergeRefused as exc:
        raise _refused(exc) from None
    return [Reply(t("cmd.done.link", ctx.lang, n=a.id, m=b.id), meta={"ticket": str(a.id)})]


def _away(ctx: Ctx, args: list[str], verb: str, away: bool) -> list[Reply]:
    who = ctx.actor
    if args:
        ref = " ".join(args)
        found = find_engineer(ctx.session, ref)
        if found is None:
            raise CommandError("cmd.err.no_engineer", who=ref)
        who = found
    if not set_away(ctx.session, who, away):
        raise CommandError(f"cmd.err.{verb}_already", name=who.name)
    return [Reply(t(f"cmd.done.{verb}", ctx.lang, name=who.name))]


def away(ctx: Ctx, args: list[str]) -> list[Reply]:
    """``away [@engineer]``: not auto-assigned until ``back``."""
    return _away(ctx, args, "away", True)


def back(ctx: Ctx, args: list[str]) -> list[Reply]:
    """``back [@engineer]``: auto-assigned again."""
    return _away(ctx, args, "back", False)
