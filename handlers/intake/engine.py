"""The dialog engine: start a report, take one answer, go back, edit, confirm."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlmodel import Session

from storage.directory import customer_calendar, support_window
from storage.models import Deflection, DialogSession, TicketKind

from ..dialog import (
    BY_KEY,
    CONFIRM,
    EDIT_PICK,
    FIELDS,
    FieldContext,
    FieldDef,
    FieldKind,
    Invalid,
    dependents,
    find_field_by_name,
    position_of,
    version_row,
)
from ..i18n import t
from ..identity import Identity
from ..types import Incoming, Reply
from .attachments import size_text, store_attachment
from .config import BACK, CANCEL, CONFIRM_WORDS, EDIT, HELP, IntakeConfig
from .opening import known_errors, open_from_answers
from .prompts import confirm_reply, current_prompt, edit_pick_reply, out_of_hours_note, prompt_for
from .state import State, attachment_count, discard, field_context, save

log = logging.getLogger("destek.intake")

def start(session: Session, cfg: IntakeConfig, ident: Identity, msg: Incoming, lang: str,
          now: datetime) -> list[Reply]:
    """Open a new dialog for ``ident``: the greeting and the first question."""
    row = DialogSession(channel=msg.channel, user_key=msg.user_key, contact_id=ident.contact.id,
                        chat=msg.chat, thread=msg.thread, step=FIELDS[0].key, language=lang,
                        created_at=now, updated_at=now)
    session.add(row)
    state = State()
    save(session, row, state, now)
    log.info("dialog started: %s/%s contact %s", msg.channel, msg.user_key, ident.contact.id)
    ctx = field_context(session, cfg, ident, state, lang, now, row.id)
    greeting = t("dialog.hello", lang, name=ident.contact.name, customer=ident.customer.name)
    note = out_of_hours_note(ident, lang, now)
    if note:
        greeting += "\n" + note
    # "started": adapters that offer more on a new dialog (Slack's form) need not ask the
    # database whether there was one before.
    return [Reply(greeting, meta={"started": "1"}), current_prompt(state, ctx, msg.channel, cfg)]



def resume(session: Session, cfg: IntakeConfig, ident: Identity, row: DialogSession,
           msg: Incoming, lang: str, now: datetime) -> list[Reply]:
    """``/new`` with a report in progress: say so and ask the current question again."""
    state = State.load(row)
    ctx = field_context(session, cfg, ident, state, lang, now, row.id)
    return [Reply(t("dialog.continuing", lang)), current_prompt(state, ctx, msg.channel, cfg)]


def cancel(session: Session, row: DialogSession | None, lang: str) -> list[Reply]:
    """Drop the report in progress, if there is one."""
    if row is None:
        return [Reply(t("cancel.nothing", lang))]
    discard(session, row)
    return [Reply(t("cancelled", lang))]


def take(session: Session, cfg: IntakeConfig, ident: Identity, row: DialogSession,
         msg: Incoming, lang: str, now: datetime) -> list[Reply]:
    """One message in a dialog in progress: an answer, files, or a control word."""
    state = State.load(row)
    ctx = field_context(session, cfg, ident, state, lang, now, row.id)
    return _step(session, cfg, ident, row, state, ctx, msg, now)


def _step(session: Session, cfg: IntakeConfig, ident: Identity, row: DialogSession,
          state: State, ctx: FieldContext, msg: Incoming, now: datetime) -> list[Reply]:
    lang = ctx.lang
    out: list[Reply] = []
    step = state.step()
    if msg.files:
        for upload in msg.files:
            try:
                att = store_attachment(session, cfg, upload, dialog_id=row.id)
                out.append(Reply(t("files.received", lang, name=att.filename,
                                   size=size_text(att.size))))
            except Invalid as exc:
                out.append(Reply(exc.message(lang)))
        ctx.attachments = attachment_count(session, row.id)
        for f in FIELDS:
            if f.kind == FieldKind.ATTACHMENTS and ctx.attachments \
                    and state.answers.get(f.key) == "none":
                # Files after "none": the report has attachments after all (the reason why
                # there were none is dropped with it).
                state.answers[f.key] = "done"
                for dep in dependents(f.key):
                    state.answers.pop(dep, None)
        save(session, row, state, now)
        if not (msg.text or "").strip():
            out.append(current_prompt(state, ctx, msg.channel, cfg))
            return out
    if msg.button_step is not None and msg.button_step != step:
        out += [Reply(t("button.stale", lang)), current_prompt(state, ctx, msg.channel, cfg)]
        return out
    text = (msg.text or "").strip()
    if not text:
        return out + [current_prompt(state, ctx, msg.channel, cfg)]
    if step in (CONFIRM, EDIT_PICK):  # a numbered menu: its number is its choice
        text = position_of(text, list(current_prompt(state, ctx, msg.channel, cfg).choices))
    ctx.pressed = msg.button_step == step
    words = text.split(maxsplit=1)
    head = words[0].casefold()
    # Control words work at every step; a pressed button is always an answer, never a word.
    if msg.button_step is None or step in (CONFIRM, EDIT_PICK):
        if text.casefold() in HELP:
            return out + [Reply(t("dialog.help", lang)),
                          current_prompt(state, ctx, msg.channel, cfg)]
        if text.casefold() in CANCEL:
            discard(session, row)
            return out + [Reply(t("cancelled", lang))]
        if text.casefold() in BACK:
            return out + _back(session, cfg, row, state, ctx, msg, now)
        if head in EDIT:
            if len(words) == 1:
                state.picking = True
                save(session, row, state, now)
                return out + [edit_pick_reply(ctx)]
            return out + _edit(session, cfg, row, state, ctx, msg, words[1], now)
    if step == EDIT_PICK:
        return out + _edit(session, cfg, row, state, ctx, msg, text, now)
    if step == CONFIRM:
        low = text.casefold()
        if low in CONFIRM_WORDS or low == t("choice.confirm", lang).casefold():
            return out + _finish(session, cfg, ident, row, state, ctx, msg, now)
        return out + [Reply(t("confirm.invalid", lang)), confirm_reply(ctx, cfg)]
    f = BY_KEY[step]
    try:
        value = f.validate(text, ctx)
    except Invalid as exc:
        return out + [Reply(exc.message(lang)), current_prompt(state, ctx, msg.channel, cfg)]
    notes = _answer(session, cfg, ident, state, f, value, lang, now)
    if f.key == "selfhelp" and value == "solved":
        return out + _deflect(session, ident, row, state, lang, now)
    save(session, row, state, now)
    return out + notes + [current_prompt(state, ctx, msg.channel, cfg)]


def _answer(session: Session, cfg: IntakeConfig, ident: Identity, state: State, f: FieldDef,
            value: Any, lang: str, now: datetime) -> list[Reply]:
    """Store one answer, drop answers that depended on a changed one, derive what follows."""
    prev = state.answers.pop(f"_prev_{f.key}", _MISSING)
    old = state.answers.get(f.key, prev)
    if old is not _MISSING and old != value:
        for dep in dependents(f.key):
            state.answers.pop(dep, None)
    state.answers[f.key] = value
    if f.key not in state.history:
        state.history.append(f.key)
    notes: list[Reply] = []
    if f.key == "summary":
        matches = known_errors(session, value, language=lang, limit=cfg.kb_matches)
        state.answers["_kb"] = [[m.entry.id, m.entry.title, m.entry.workaround] for m in matches]
        state.answers.pop("selfhelp", None)
    elif f.key == "version_text":
        row = version_row(session, state.answers["product_id"], value)
        state.answers["version_past_eos"] = False
        if row is not None:
            win = support_window(row.released, cfg.policy.end_of_support_years,
                                 now.astimezone(customer_calendar(ident.customer).zone).date())
            state.answers["version_past_eos"] = win.past
            if win.past:
                notes.append(Reply(t("note.eos", lang, version=value, ends=win.ends.isoformat(),
                                     years=cfg.policy.end_of_support_years)))
    elif f.key == "kind" and value == TicketKind.SERVICE_REQUEST:
        notes.append(Reply(t("note.service", lang)))
    elif f.key == "remote_access" and value is False:
        notes.append(Reply(t("note.remote_pending", lang)))
    return notes


_MISSING = object()


def _reopen(state: State, key: str) -> None:
    """Ask ``key`` again, remembering the old answer so a change clears its dependents."""
    if key in state.answers:
        state.answers[f"_prev_{key}"] = state.answers.pop(key)
    if key in state.history:
        state.history.remove(key)


def _back(session: Session, cfg: IntakeConfig, row: DialogSession, state: State,
          ctx: FieldContext, msg: Incoming, now: datetime) -> list[Reply]:
    if state.picking:
        state.picking = False
        save(session, row, state, now)
        return [current_prompt(state, ctx, msg.channel, cfg)]
    while state.history:
        key = state.history.pop()
        if key in state.answers:
            _reopen(state, key)
            break
    else:
        return [Reply(t("back.none", ctx.lang)), current_prompt(state, ctx, msg.channel, cfg)]
    save(session, row, state, now)
    return [current_prompt(state, ctx, msg.channel, cfg)]


def _edit(session: Session, cfg: IntakeConfig, row: DialogSession, state: State,
          ctx: FieldContext, msg: Incoming, name: str, now: datetime) -> list[Reply]:
    f = find_field_by_name(name)
    if f is None or not f.report or not f.applies(state.answers):
        state.picking = True
        save(session, row, state, now)
        return [Reply(t("edit.unknown", ctx.lang, name=name)), edit_pick_reply(ctx)]
    state.picking = False
    _reopen(state, f.key)
    save(session, row, state, now)
    # Asked again now; later answers stay unless this one changes (then dependents are asked).
    return [prompt_for(f, ctx, msg.channel, cfg)]


def _deflect(session: Session, ident: Identity, row: DialogSession, state: State, lang: str,
             now: datetime) -> list[Reply]:
    ids = ",".join(m[0] for m in state.answers.get("_kb", []))
    session.add(Deflection(customer_id=ident.customer.id or 0, contact_id=ident.contact.id or 0,
                           query=state.answers.get("summary", ""), kb_ids=ids[:500], at=now))
    discard(session, row)
    log.info("deflected: contact %s by %s", ident.contact.id, ids)
    return [Reply(t("deflected", lang))]



def _finish(session: Session, cfg: IntakeConfig, ident: Identity, row: DialogSession,
            state: State, ctx: FieldContext, msg: Incoming, now: datetime) -> list[Reply]:
    answers = {k: v for k, v in state.answers.items() if not k.startswith("_")}
    opened = open_from_answers(session, cfg, ident, answers, now, channel=msg.channel,
                               user_key=msg.user_key,
                               # A dialog that ran in a thread: the ticket's thread is that one.
                               chat=row.chat if row.thread else msg.chat or row.chat,
                               thread=row.thread, dialog_id=row.id, lang=ctx.lang)
    session.delete(row)
    session.flush()
    log.info("ticket #%s opened from dialog %s", opened.ticket.id, row.id)
    return opened.replies

