"""The ``oncall`` verb: ``oncall [ISO]`` says who holds each layer (now, or at an instant);
``oncall swap @engineer until ISO`` hands the layer the actor (or the named engineer) holds to
the other until then, as an override. Who is on call is ``handlers.oncall``'s."""

from __future__ import annotations

from sla.oncall import LAYERS, Shift
from storage import oncall as store
from storage.directory import RecordError
from storage.models import Contact

from ..i18n import t
from ..oncall import local_time, parse_time, schedule_tz, who_text
from ..types import Reply
from .parsing import Ctx
from .staff import find_engineer


def oncall(ctx: Ctx, args: list[str]) -> list[Reply]:
    """Who is on call, or a swap (an override until the given time)."""
    return [_oncall_reply(ctx, args)]


def _oncall_reply(ctx: Ctx, args: list[str]) -> Reply:
    session, actor, now, lang = ctx.session, ctx.actor, ctx.now, ctx.lang
    tz = schedule_tz(session)
    if not args:
        return Reply(who_text(session, now, lang, tz))
    if args[0].lower() != "swap":
        if len(args) != 1:
            return Reply(t("oncall.err.usage", lang))
        at = parse_time(args[0], tz)
        if at is None:
            return Reply(t("oncall.err.time", lang, value=args[0], tz=tz))
        return Reply(who_text(session, at, lang, tz))
    if len(args) != 4 or args[2].lower() != "until":
        return Reply(t("oncall.err.usage", lang))
    other = find_engineer(session, args[1])
    if other is None:
        return Reply(t("oncall.err.no_engineer", lang, who=args[1]))
    if other.id == actor.id:
        return Reply(t("oncall.err.self", lang))
    end = parse_time(args[3], tz)
    if end is None:
        return Reply(t("oncall.err.time", lang, value=args[3], tz=tz))
    if end <= now:
        return Reply(t("oncall.err.past", lang, end=local_time(end, tz)))
    moves = _swap(store.who(session, now), actor, other)
    if not moves:
        return Reply(t("oncall.err.neither", lang, who=other.name))
    lines = []
    try:
        for layer, frm, to in moves:
            store.add_override(session, layer, to, now, end,
                               reason=f"swap: {to.name} for {frm.name}", created_by=actor.name)
            lines.append(t("oncall.swapped", lang, to=to.name, frm=frm.name,
                           layer=t(f"oncall.layer.{layer}", lang).lower(),
                           start=local_time(now, tz), end=local_time(end, tz)))
    except RecordError as exc:
        return Reply(t("oncall.err.record", lang, error=str(exc)))
    return Reply("\n".join(lines))


def _swap(held: dict[str, tuple[Shift, Contact] | None], actor: Contact,
          other: Contact) -> list[tuple[str, Contact, Contact]]:
    """(layer, who gives it, who takes it) for each layer one of the two holds: the two
    exchange their layers, or the one not on call takes the other's."""
    moves = []
    for layer in LAYERS:
        h = held.get(layer)
        if h is not None and h[1].id == actor.id:
            moves.append((layer, actor, other))
        elif h is not None and h[1].id == other.id:
            moves.append((layer, other, actor))
    return moves
