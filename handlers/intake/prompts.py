"""What the dialog asks next: one field's prompt, the summary to confirm, the edit picker."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.directory import customer_calendar
from storage.models import TicketKind

from ..dialog import (
    BY_KEY,
    CONFIRM,
    EDIT_PICK,
    FIELDS,
    FieldContext,
    FieldDef,
    display_value,
    product_name,
    propose_severity,
)
from ..i18n import t
from ..identity import Identity
from ..text import clip
from ..types import Choice, Reply
from ..vocabulary import local_when
from .config import IntakeConfig
from .state import State


def prompt_for(f: FieldDef, ctx: FieldContext, channel: str, cfg: IntakeConfig) -> Reply:
    lang = ctx.lang
    kw: dict[str, Any] = {}
    if f.key == "selfhelp":
        lines = [f"• {m[0]}: {m[1]}\n  → {clip(m[2], 300)}" for m in ctx.answers.get("_kb", [])]
        kw["matches"] = "\n".join(lines)
    elif f.key == "version_text":
        kw["product"] = product_name(ctx.session, ctx.answers.get("product_id")) or "?"
    elif f.key == "severity":
        proposed = propose_severity(ctx.answers)
        defs = ctx.policy.severities
        kw["proposed"] = f"{proposed} {ctx.policy.severity_name(proposed, lang)}"
        kw["definition"] = getattr(defs[proposed].definition, lang)
        kw["definitions"] = "\n".join(
            f"{s} {ctx.policy.severity_name(s, lang)}: {getattr(d.definition, lang)}"
            for s, d in defs.items()
        )
    elif f.key == "severity_reason":
        kw["chosen"] = ctx.answers.get("severity")
        kw["proposed"] = propose_severity(ctx.answers)
    elif f.key == "attachments":
        mb = cfg.max_attachment_bytes / (1024 * 1024)
        kw["hint"] = t("hint.attach.console" if channel == "console" else "hint.attach", lang,
                       mb=f"{mb:g}", n=ctx.attachments)
    text = t(f"ask.{f.key}", lang, **kw) if kw else f.prompt(lang)
    meta = {"step": f.key}
    if f.key == "severity":
        meta["proposed"] = propose_severity(ctx.answers)  # adapters may highlight it
    return Reply(text, tuple(f.choices_for(ctx)), meta)


def confirm_reply(ctx: FieldContext, cfg: IntakeConfig) -> Reply:
    lang = ctx.lang
    lines = [t("confirm.title", lang)]
    for f in FIELDS:
        if f.report and f.applies(ctx.answers) and f.key in ctx.answers:
            lines.append(f"• {f.label(lang)}: {display_value(f.key, ctx.answers[f.key], ctx)}")
    if ctx.answers.get("version_past_eos"):
        lines.append(t("note.eos_short", lang))
    if ctx.answers.get("kind") == TicketKind.SERVICE_REQUEST:
        lines.append(t("note.service", lang))
    else:
        note = out_of_hours_note(ctx.identity, lang, ctx.now)
        if note:
            lines.append(note)
    lines.append(t("confirm.ask", lang))
    choices = (Choice("confirm", t("choice.confirm", lang)), Choice("edit", t("choice.edit", lang)),
               Choice("cancel", t("choice.cancel", lang)))
    return Reply("\n".join(lines), choices, {"step": CONFIRM})


def edit_pick_reply(ctx: FieldContext) -> Reply:
    choices = tuple(Choice(f.key, f.label(ctx.lang)) for f in FIELDS
                    if f.report and f.applies(ctx.answers) and f.key in ctx.answers)
    return Reply(t("edit.which", ctx.lang), choices, {"step": EDIT_PICK})


def current_prompt(state: State, ctx: FieldContext, channel: str, cfg: IntakeConfig) -> Reply:
    step = state.step()
    if step == CONFIRM:
        return confirm_reply(ctx, cfg)
    if step == EDIT_PICK:
        return edit_pick_reply(ctx)
    return prompt_for(BY_KEY[step], ctx, channel, cfg)


def out_of_hours_note(ident: Identity, lang: str, now: datetime) -> str | None:
    """On the Standard plan outside business hours: when the clock starts (P10, P12)."""
    if ident.plan != "standard":
        return None
    cal = customer_calendar(ident.customer)
    tl = cal.timeline()
    ts = now.timestamp()
    if tl.is_open(ts):
        return None
    opening = datetime.fromtimestamp(tl.next_open(ts), cal.zone)
    return t("note.out_of_hours", lang, opening=local_when(opening, cal.zone))

