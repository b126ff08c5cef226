"""The intake engine: drives the dialog of :mod:`handlers.dialog` for any channel.

Entry points (all take an open SQLModel session; the caller commits once per inbound message,
so each step is durable and a restart continues at the same step):

- :func:`handle` — one inbound message (text, a pressed choice, files, or a customer command)
  -> the replies to send back.
- :func:`validate_answers` / :func:`open_from_answers` — a whole report at once (Slack modal).
- :func:`sweep_dialogs` — remind abandoned dialogs once, expire them later (periodic job).

Adapters translate platform events into :class:`Incoming` and :class:`handlers.types.Reply`
back into platform messages; nothing here knows a platform.
"""

from __future__ import annotations

import json
import logging
import mimetypes
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, inspect, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from sla import Policy
from storage import attachments, kb, outbox, tickets
from storage.directory import customer_calendar, support_window
from storage.models import (
    Attachment,
    Contact,
    Customer,
    Deflection,
    DialogSession,
    KnownError,
    Product,
    Ticket,
    TicketKind,
    TicketStatus,
)

from . import hooks
from .dialog import (
    BY_KEY,
    CONFIRM,
    EDIT_PICK,
    FIELDS,
    FieldContext,
    FieldDef,
    FieldKind,
    Invalid,
    dependents,
    display_value,
    find_field_by_name,
    match_choice,
    next_field,
    propose_severity,
    version_row,
)
from .i18n import normalise_language, register, t
from .identity import Identity, Refusal, identify_with_dialog, lookup_contact
from .types import Choice, Reply, Routing
from .vocabulary import clock_name, status_name

if TYPE_CHECKING:
    from .reports import ChartMaker

log = logging.getLogger("destek.intake")


@dataclass(frozen=True)
class IntakeConfig:
    """What the engine needs from the settings (built by bot/ from ``Settings``)."""

    policy: Policy
    attachments_dir: Path
    max_attachment_bytes: int = 10 * 1024 * 1024
    max_attachments: int = 10  # files per report
    allowed_types: frozenset[str] = frozenset()
    routing: Routing = Routing()
    remind_after: timedelta = timedelta(minutes=30)
    expire_after: timedelta = timedelta(hours=24)
    kb_matches: int = 3
    charts: ChartMaker | None = None  # for the engineers' `report` verb on the same channels


@dataclass(frozen=True)
class IncomingFile:
    """A file the user sent (adapters download it first)."""

    filename: str
    data: bytes
    content_type: str | None = None


@dataclass(frozen=True)
class Incoming:
    """One inbound message, platform-neutral.

    ``user_key`` identifies the person on the channel (Telegram user id, Slack user id, contact
    id on the console); ``chat`` is where replies go. ``command`` is a customer command without
    its slash (start, new, status, list, cancel, lang, help) with ``args``. ``button_step`` is
    set when a choice button was pressed: the step it belonged to (stale buttons are refused).
    """

    channel: str
    user_key: str
    chat: str | None = None
    text: str | None = None
    command: str | None = None
    args: tuple[str, ...] = ()
    files: tuple[IncomingFile, ...] = ()
    button_step: str | None = None
    language_hint: str | None = None


CUSTOMER_COMMANDS = ("start", "new", "status", "list", "access", "cancel", "lang", "help")
BACK = {"back", "geri"}
CANCEL = {"cancel", "iptal"}
EDIT = {"edit", "düzenle", "duzenle"}
HELP = {"help", "yardım", "yardim", "?"}
CONFIRM_WORDS = {"confirm", "onayla", "yes", "evet", "ok", "tamam"}


# -- state ------------------------------------------------------------------------------------


@dataclass
class State:
    answers: dict[str, Any] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)
    picking: bool = False

    @classmethod
    def load(cls, row: DialogSession) -> State:
        raw = json.loads(row.data or "{}")
        return cls(raw.get("answers", {}), raw.get("history", []), raw.get("picking", False))

    def dump(self) -> str:
        return json.dumps({"answers": self.answers, "history": self.history,
                           "picking": self.picking}, ensure_ascii=False)

    def step(self) -> str:
        if self.picking:
            return EDIT_PICK
        f = next_field(self.answers)
        return f.key if f else CONFIRM


def get_dialog(session: Session, channel: str, user_key: str) -> DialogSession | None:
    return session.exec(
        select(DialogSession).where(DialogSession.channel == channel,
                                    DialogSession.user_key == user_key)
    ).first()


_DIALOGS = DialogSession.__table__  # type: ignore[attr-defined]
# The SET clause comes from the parameters' keys; one compiled statement for every step.
_SAVE_STATEMENT = update(_DIALOGS).where(_DIALOGS.c.id == bindparam("row_id"))


def _save(session: Session, row: DialogSession, state: State, now: datetime) -> None:
    values = {"data": state.dump(), "step": state.step(), "updated_at": now,
              "reminded_at": None}
    info = inspect(row)
    if info.persistent and not info.modified:
        # The hot path (every dialog step): one Core UPDATE in the caller's transaction instead
        # of the ORM's unit of work; the loaded object is kept in step without being dirtied.
        session.connection().execute(_SAVE_STATEMENT, {"row_id": row.id, **values})
        for name, value in values.items():
            set_committed_value(row, name, value)
        return
    for name, value in values.items():
        setattr(row, name, value)
    session.add(row)  # a new dialog: inserted with the caller's commit (or the next query)


def _attachment_count(session: Session, dialog_id: int | None) -> int:
    if dialog_id is None:
        return 0
    return len(list(session.exec(select(Attachment.id).where(Attachment.dialog_id == dialog_id,
                                                             col(Attachment.ticket_id).is_(None)))))


def _ctx(session: Session, cfg: IntakeConfig, ident: Identity, state: State, lang: str,
         now: datetime, dialog_id: int | None) -> FieldContext:
    # The file count matters only where files are asked for or listed: spare the query.
    counted = state.step() in ("attachments", CONFIRM, EDIT_PICK)
    return FieldContext(session, ident, cfg.policy, state.answers, lang, now,
                        _attachment_count(session, dialog_id) if counted else 0)


# -- prompts ----------------------------------------------------------------------------------


def _clip(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _fmt_local(when: datetime, zone: Any) -> str:
    local = when.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} ({zone})"


def _prompt(f: FieldDef, ctx: FieldContext, channel: str, cfg: IntakeConfig) -> Reply:
    lang = ctx.lang
    kw: dict[str, Any] = {}
    if f.key == "selfhelp":
        lines = [f"• {m[0]}: {m[1]}\n  → {_clip(m[2], 300)}" for m in ctx.answers.get("_kb", [])]
        kw["matches"] = "\n".join(lines)
    elif f.key == "version_text":
        product = ctx.session.get(Product, ctx.answers.get("product_id"))
        kw["product"] = product.name if product else "?"
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


def _confirm_reply(ctx: FieldContext, cfg: IntakeConfig) -> Reply:
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
        note = _out_of_hours_note(ctx.identity, lang, ctx.now)
        if note:
            lines.append(note)
    lines.append(t("confirm.ask", lang))
    choices = (Choice("confirm", t("choice.confirm", lang)), Choice("edit", t("choice.edit", lang)),
               Choice("cancel", t("choice.cancel", lang)))
    return Reply("\n".join(lines), choices, {"step": CONFIRM})


def _edit_pick_reply(ctx: FieldContext) -> Reply:
    choices = tuple(Choice(f.key, f.label(ctx.lang)) for f in FIELDS
                    if f.report and f.applies(ctx.answers) and f.key in ctx.answers)
    return Reply(t("edit.which", ctx.lang), choices, {"step": EDIT_PICK})


def _current_prompt(state: State, ctx: FieldContext, channel: str, cfg: IntakeConfig) -> Reply:
    step = state.step()
    if step == CONFIRM:
        return _confirm_reply(ctx, cfg)
    if step == EDIT_PICK:
        return _edit_pick_reply(ctx)
    return _prompt(BY_KEY[step], ctx, channel, cfg)


def _out_of_hours_note(ident: Identity, lang: str, now: datetime) -> str | None:
    """On the Standard plan outside business hours: when the clock starts (P10, P12)."""
    if ident.plan != "standard":
        return None
    cal = customer_calendar(ident.customer)
    tl = cal.timeline()
    ts = now.timestamp()
    if tl.is_open(ts):
        return None
    opening = datetime.fromtimestamp(tl.next_open(ts), cal.zone)
    return t("note.out_of_hours", lang, opening=_fmt_local(opening, cal.zone))


# -- entry point ------------------------------------------------------------------------------


def handle(session: Session, cfg: IntakeConfig, msg: Incoming, now: datetime) -> list[Reply]:
    """Process one inbound message; the caller commits the session afterwards."""
    if "\x00" in (msg.text or "") or any("\x00" in a for a in msg.args):
        # PostgreSQL text cannot hold NUL: one in an answer made the report impossible to save.
        msg = replace(msg, text=strip_nul(msg.text or "") if msg.text is not None else None,
                      args=tuple(strip_nul(a) for a in msg.args))
    if msg.command and msg.command not in CUSTOMER_COMMANDS:
        return [Reply(t("cmd.unknown", _quick_lang(session, msg), command=msg.command))]
    if msg.command in ("lang",):
        return _cmd_lang(session, msg, now)
    who, row = identify_with_dialog(session, msg.channel, msg.user_key, now, msg.language_hint)
    if isinstance(who, Refusal):
        if row is not None:  # contract expired or training withdrawn mid-dialog
            _discard(session, row)
        return [Reply(who.text, meta={"refused": who.reason})]
    ident = who
    lang = row.language if row is not None else ident.language
    if msg.command == "help":
        return [Reply(t("help", lang))]
    if msg.command == "status":
        return [_cmd_status(session, cfg, ident, lang, msg.args, now)]
    if msg.command == "list":
        return [_cmd_list(session, cfg, ident, lang, now)]
    if msg.command == "access":
        return [_cmd_access(session, cfg, ident, lang, msg.args, now)]
    if msg.command == "cancel":
        if row is None:
            return [Reply(t("cancel.nothing", lang))]
        _discard(session, row)
        return [Reply(t("cancelled", lang))]
    if row is None:
        if not msg.command and (msg.text or msg.files):
            waiting = _ticket_waiting_for(session, ident, msg.channel)
            if waiting is not None:
                return [_answer_waiting_ticket(session, cfg, ident, waiting, msg, lang, now)]
        if msg.files and not msg.command:
            return [Reply(t("files.no_dialog", lang))]
        return _start(session, cfg, ident, msg, lang, now)
    state = State.load(row)
    ctx = _ctx(session, cfg, ident, state, lang, now, row.id)
    if msg.command in ("start", "new"):
        return [Reply(t("dialog.continuing", lang)), _current_prompt(state, ctx, msg.channel, cfg)]
    return _step(session, cfg, ident, row, state, ctx, msg, now)


def strip_nul(text: str) -> str:
    """Text without NUL characters (never meaningful in chat; PostgreSQL refuses them)."""
    return text.replace("\x00", "")


def _quick_lang(session: Session, msg: Incoming) -> str:
    contact = lookup_contact(session, msg.channel, msg.user_key)
    if contact is not None and contact.language:
        return contact.language
    return normalise_language(msg.language_hint) or "en"


def _start(session: Session, cfg: IntakeConfig, ident: Identity, msg: Incoming, lang: str,
           now: datetime) -> list[Reply]:
    row = DialogSession(channel=msg.channel, user_key=msg.user_key, contact_id=ident.contact.id,
                        chat=msg.chat, step=FIELDS[0].key, language=lang, created_at=now,
                        updated_at=now)
    session.add(row)
    state = State()
    _save(session, row, state, now)
    log.info("dialog started: %s/%s contact %s", msg.channel, msg.user_key, ident.contact.id)
    ctx = _ctx(session, cfg, ident, state, lang, now, row.id)
    greeting = t("dialog.hello", lang, name=ident.contact.name, customer=ident.customer.name)
    note = _out_of_hours_note(ident, lang, now)
    if note:
        greeting += "\n" + note
    # "started": adapters that offer more on a new dialog (Slack's form) need not ask the
    # database whether there was one before.
    return [Reply(greeting, meta={"started": "1"}), _current_prompt(state, ctx, msg.channel, cfg)]


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
                                   size=_size(att.size))))
            except Invalid as exc:
                out.append(Reply(exc.message(lang)))
        ctx.attachments = _attachment_count(session, row.id)
        _save(session, row, state, now)
        if not (msg.text or "").strip():
            out.append(_current_prompt(state, ctx, msg.channel, cfg))
            return out
    if msg.button_step is not None and msg.button_step != step:
        out += [Reply(t("button.stale", lang)), _current_prompt(state, ctx, msg.channel, cfg)]
        return out
    text = (msg.text or "").strip()
    if not text:
        return out + [_current_prompt(state, ctx, msg.channel, cfg)]
    words = text.split(maxsplit=1)
    head = words[0].casefold()
    # Control words work at every step; a pressed button is always an answer, never a word.
    if msg.button_step is None or step in (CONFIRM, EDIT_PICK):
        if text.casefold() in HELP:
            return out + [Reply(t("dialog.help", lang)),
                          _current_prompt(state, ctx, msg.channel, cfg)]
        if text.casefold() in CANCEL:
            _discard(session, row)
            return out + [Reply(t("cancelled", lang))]
        if text.casefold() in BACK:
            return out + _back(session, cfg, row, state, ctx, msg, now)
        if head in EDIT:
            if len(words) == 1:
                state.picking = True
                _save(session, row, state, now)
                return out + [_edit_pick_reply(ctx)]
            return out + _edit(session, cfg, row, state, ctx, msg, words[1], now)
    if step == EDIT_PICK:
        return out + _edit(session, cfg, row, state, ctx, msg, text, now)
    if step == CONFIRM:
        low = text.casefold()
        if low in CONFIRM_WORDS or low == t("choice.confirm", lang).casefold():
            return out + _finish(session, cfg, ident, row, state, ctx, msg, now)
        return out + [Reply(t("confirm.invalid", lang)), _confirm_reply(ctx, cfg)]
    f = BY_KEY[step]
    try:
        value = f.validate(text, ctx)
    except Invalid as exc:
        return out + [Reply(exc.message(lang)), _current_prompt(state, ctx, msg.channel, cfg)]
    notes = _answer(session, cfg, ident, state, f, value, lang, now)
    if f.key == "selfhelp" and value == "solved":
        return out + _deflect(session, ident, row, state, lang, now)
    _save(session, row, state, now)
    return out + notes + [_current_prompt(state, ctx, msg.channel, cfg)]


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
        matches = _known_errors(session, value, language=lang, limit=cfg.kb_matches)
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
        _save(session, row, state, now)
        return [_current_prompt(state, ctx, msg.channel, cfg)]
    while state.history:
        key = state.history.pop()
        if key in state.answers:
            _reopen(state, key)
            break
    else:
        return [Reply(t("back.none", ctx.lang)), _current_prompt(state, ctx, msg.channel, cfg)]
    _save(session, row, state, now)
    return [_current_prompt(state, ctx, msg.channel, cfg)]


def _edit(session: Session, cfg: IntakeConfig, row: DialogSession, state: State,
          ctx: FieldContext, msg: Incoming, name: str, now: datetime) -> list[Reply]:
    f = find_field_by_name(name)
    if f is None or not f.report or not f.applies(state.answers):
        state.picking = True
        _save(session, row, state, now)
        return [Reply(t("edit.unknown", ctx.lang, name=name)), _edit_pick_reply(ctx)]
    state.picking = False
    _reopen(state, f.key)
    _save(session, row, state, now)
    # Asked again now; later answers stay unless this one changes (then dependents are asked).
    return [_prompt(f, ctx, msg.channel, cfg)]


def _deflect(session: Session, ident: Identity, row: DialogSession, state: State, lang: str,
             now: datetime) -> list[Reply]:
    ids = ",".join(m[0] for m in state.answers.get("_kb", []))
    session.add(Deflection(customer_id=ident.customer.id or 0, contact_id=ident.contact.id or 0,
                           query=state.answers.get("summary", ""), kb_ids=ids[:500], at=now))
    _discard(session, row)
    log.info("deflected: contact %s by %s", ident.contact.id, ids)
    return [Reply(t("deflected", lang))]


def _discard(session: Session, row: DialogSession) -> None:
    """Drop a dialog and the files it collected (no ticket, no clock)."""
    for att in session.exec(select(Attachment).where(Attachment.dialog_id == row.id,
                                                     col(Attachment.ticket_id).is_(None))):
        _remove_file(session, att)
        session.delete(att)
    session.delete(row)
    session.flush()


def _remove_file(session: Session, att: Attachment) -> None:
    others = session.exec(select(Attachment.id).where(Attachment.sha256 == att.sha256,
                                                      Attachment.id != att.id)).first()
    if others is None:
        Path(att.path).unlink(missing_ok=True)


# -- attachments ------------------------------------------------------------------------------


def _size(n: int) -> str:
    return f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


def store_attachment(session: Session, cfg: IntakeConfig, f: IncomingFile,
                     dialog_id: int | None = None, ticket_id: int | None = None) -> Attachment:
    """Check size and content type, store the bytes by sha256 and add the Attachment row."""
    ctype = (f.content_type or mimetypes.guess_type(f.filename)[0]
             or "application/octet-stream").split(";")[0].strip().lower()
    if len(f.data) > cfg.max_attachment_bytes:
        raise Invalid("files.too_big", name=f.filename, size=_size(len(f.data)),
                      limit=_size(cfg.max_attachment_bytes))
    if len(f.data) == 0:
        raise Invalid("files.empty", name=f.filename)
    owner = (col(Attachment.ticket_id) == ticket_id if ticket_id is not None
             else col(Attachment.dialog_id) == dialog_id)
    if len(session.exec(select(Attachment.id).where(owner)).all()) >= cfg.max_attachments:
        raise Invalid("files.too_many", name=f.filename, limit=cfg.max_attachments)
    if cfg.allowed_types and ctype not in cfg.allowed_types:
        raise Invalid("files.type", name=f.filename, type=ctype)
    return attachments.store(session, cfg.attachments_dir, f.filename, ctype, f.data,
                             dialog_id=dialog_id, ticket_id=ticket_id)


# -- the ticket -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    ticket: Ticket
    replies: list[Reply]


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
    ctx = FieldContext(session, ident, cfg.policy, answers, lang, now, attachments)
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
    fields = {k: answers.get(k) for k in REPORT_COLUMNS if k in answers}
    ticket = tickets.open_ticket(
        session, cfg.policy, ident.customer, ident.contact, ident.plan,
        answers["summary"], answers["severity"], now, product=product,
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
    if n_files:
        tickets.add_event(session, ticket, "attachments", f"{n_files} file(s)", actor=ident.contact,
                          at=now, data={"count": n_files})
    if ticket.version_past_eos:
        tickets.add_event(session, ticket, "note", "version past end of support (P8)", at=now)
    if kind == TicketKind.SERVICE_REQUEST:
        tickets.add_event(session, ticket, "note", "service request: billed separately, no SLA "
                          "clock (P10/P11)", at=now)
    session.flush()
    _enqueue_cards(session, cfg, ticket, ident, product, now)
    hooks.ticket_opened_on_commit(session, ticket.id)  # type: ignore[arg-type]
    return Opened(ticket, [_opened_reply(session, cfg, ident, ticket, lang, now)])


def _opened_reply(session: Session, cfg: IntakeConfig, ident: Identity, ticket: Ticket,
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
                lines.append(t("due.none", lang, clock=name, target=state.target.label()))
            elif paused or state.deadline is None:
                lines.append(t("due.paused", lang, clock=name, target=state.target.label()))
            else:
                lines.append(t("due.at", lang, clock=name, target=state.target.label(),
                               at=_fmt_local(state.deadline, zone)))
        if paused:
            lines.append(t("note.remote_pending", lang))
        note = _out_of_hours_note(ident, lang, now)
        if note:
            lines.append(note)
    if ticket.version_past_eos:
        lines.append(t("note.eos_short", lang))
    return Reply("\n".join(lines), meta={"ticket": str(ticket.id)})


def _known_errors(session: Session, text: str, **kwargs: Any) -> list[kb.KBMatch]:
    """Self-help and card matches; a failing look-up costs the matches, never the report.

    In a SAVEPOINT, because on PostgreSQL a failed statement would spoil the transaction
    that is about to open the ticket."""
    try:
        with session.begin_nested():
            return kb.search_known_errors(session, text, **kwargs)
    except Exception:  # noqa: BLE001 - logged; the customer's report goes on without matches
        log.exception("knowledge-base look-up failed; going on without matches")
        return []


def _enqueue_cards(session: Session, cfg: IntakeConfig, ticket: Ticket, ident: Identity,
                   product: Product | None, now: datetime) -> None:
    """One "new ticket" card per engineers' destination, with the top KB matches (P22)."""
    if not cfg.routing.engineers:
        return
    query = " ".join(x for x in (ticket.summary, ticket.error_text or "") if x)
    matches = _known_errors(session, query, product=product.name if product else None,
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
        lines.append(f"Response due: {ticket.response_due:%Y-%m-%d %H:%M} UTC")
    if matches:
        lines.append("Known errors: " + "; ".join(f"{m.entry.id} {m.entry.title}" for m in matches))
    payload = {"kind": "ticket_opened", "ticket": ticket.id, "severity": ticket.severity,
               "kb": [m.entry.id for m in matches]}
    for dest in cfg.routing.engineers:
        outbox.enqueue(session, f"ticket:{ticket.id}:opened:{dest.channel}:{dest.target}",
                       dest.channel, dest.target, "\n".join(lines), thread=dest.thread,
                       payload=payload, ticket_id=ticket.id)


def _finish(session: Session, cfg: IntakeConfig, ident: Identity, row: DialogSession,
            state: State, ctx: FieldContext, msg: Incoming, now: datetime) -> list[Reply]:
    answers = {k: v for k, v in state.answers.items() if not k.startswith("_")}
    opened = open_from_answers(session, cfg, ident, answers, now, channel=msg.channel,
                               user_key=msg.user_key, chat=msg.chat or row.chat,
                               dialog_id=row.id, lang=ctx.lang)
    session.delete(row)
    session.flush()
    log.info("ticket #%s opened from dialog %s", opened.ticket.id, row.id)
    return opened.replies


# -- customer commands ------------------------------------------------------------------------


def _cmd_lang(session: Session, msg: Incoming, now: datetime) -> list[Reply]:
    wanted = normalise_language(msg.args[0]) if msg.args else None
    lang = _quick_lang(session, msg)
    if wanted is None:
        return [Reply(t("lang.usage", lang))]
    contact = lookup_contact(session, msg.channel, msg.user_key)
    if contact is not None:
        contact.language = wanted
        session.add(contact)
    row = get_dialog(session, msg.channel, msg.user_key)
    if row is not None:
        row.language = wanted
        session.add(row)
    session.flush()
    return [Reply(t("lang.set", wanted))]


def _ticket_line(session: Session, cfg: IntakeConfig, ticket: Ticket, lang: str, zone: Any,
                 now: datetime) -> str:
    status = status_name(ticket.status, lang)
    line = f"#{ticket.id} [{ticket.severity}] {status}: {ticket.summary}"
    due = [s for s in tickets.clock_states(session, cfg.policy, ticket, now)
           if s.deadline is not None and s.stopped_at is None and s.target.has_clock]
    if due:
        nxt = min(due, key=lambda s: s.deadline)  # type: ignore[arg-type,return-value]
        assert nxt.deadline is not None
        line += " — " + t("due.next", lang, clock=clock_name(nxt.kind, lang),
                          at=_fmt_local(nxt.deadline, zone), state=nxt.status.value)
    return line


def _cmd_list(session: Session, cfg: IntakeConfig, ident: Identity, lang: str,
              now: datetime) -> Reply:
    rows = tickets.list_tickets(session, customer_id=ident.customer.id, open_only=True)
    if not rows:
        return Reply(t("list.none", lang))
    zone = customer_calendar(ident.customer).zone
    return Reply("\n".join([t("list.title", lang, customer=ident.customer.name)]
                           + [_ticket_line(session, cfg, r, lang, zone, now) for r in rows]))


def _cmd_status(session: Session, cfg: IntakeConfig, ident: Identity, lang: str,
                args: Sequence[str], now: datetime) -> Reply:
    if not args:
        return _cmd_list(session, cfg, ident, lang, now)
    number = tickets.parse_ticket_number(args[0])
    ticket = session.get(Ticket, number) if number is not None else None
    if ticket is None or ticket.customer_id != ident.customer.id:
        return Reply(t("status.not_found", lang, ref=args[0]))
    view = tickets.view(session, cfg.policy, ticket, now)
    zone = customer_calendar(ident.customer).zone
    lines = [_ticket_line(session, cfg, ticket, lang, zone, now)]
    if view.product:
        product = f"{view.product.name} {ticket.version_text or ''}"
        lines.append(f"{t('field.product_id', lang)}: {product}")
    if view.assignee:
        lines.append(t("status.assignee", lang, name=view.assignee.name))
    for s in view.clocks:
        if s.deadline is not None and s.target.has_clock:
            lines.append(f"  {t('clock.' + s.kind.value, lang)}: {_fmt_local(s.deadline, zone)} "
                         f"({s.status.value})")
    return Reply("\n".join(lines), meta={"ticket": str(ticket.id)})


def _cmd_access(session: Session, cfg: IntakeConfig, ident: Identity, lang: str,
                args: Sequence[str], now: datetime) -> Reply:
    """``/access N [how]``: the customer says remote access is given (P13): clocks resume."""
    number = tickets.parse_ticket_number(args[0]) if args else None
    if number is None:
        return Reply(t("access.usage", lang))
    ticket = session.get(Ticket, number)
    if ticket is None or ticket.customer_id != ident.customer.id:
        return Reply(t("status.not_found", lang, ref=args[0]))
    pause = tickets.open_pause(session, ticket.id or 0)
    if ticket.remote_access and (pause is None or pause.kind != "remote-access"):
        return Reply(t("access.already", lang, number=ticket.id))
    how = " ".join(args[1:]).strip()
    ticket.remote_access = True
    if how:
        ticket.remote_access_how = how
    session.add(ticket)
    tickets.add_event(session, ticket, "remote-access", how or "given", actor=ident.contact,
                      at=now)
    # Resuming a waiting ticket (audit, deadlines, engineers told) is the commands' job.
    from .commands import customer_replied

    customer_replied(session, ticket.id or 0, now=now, text="remote access given",
                     actor=ident.contact, policy=cfg.policy, routing=cfg.routing)
    zone = customer_calendar(ident.customer).zone
    return Reply("\n".join([t("access.thanks", lang, number=ticket.id),
                            _ticket_line(session, cfg, ticket, lang, zone, now)]),
                 meta={"ticket": str(ticket.id)})


def _ticket_waiting_for(session: Session, ident: Identity, channel: str) -> Ticket | None:
    """The contact's latest ticket on this channel that waits for their answer (P17)."""
    candidates = session.exec(
        select(Ticket).where(
            Ticket.contact_id == ident.contact.id, Ticket.channel == channel,
            Ticket.status == TicketStatus.PENDING,
        ).order_by(col(Ticket.id).desc())
    )
    for ticket in candidates:
        pause = tickets.open_pause(session, ticket.id or 0)
        # Remote access (P13) is confirmed explicitly with /access, not by any message.
        if pause is not None and pause.kind != "remote-access":
            return ticket
    return None


def _answer_waiting_ticket(session: Session, cfg: IntakeConfig, ident: Identity, ticket: Ticket,
                           msg: Incoming, lang: str, now: datetime) -> Reply:
    """A message from a customer whose ticket waits for them is their answer: it is added to
    the ticket (files too) and every clock runs again (P17). /new still starts a new report."""
    for f in msg.files:
        try:
            store_attachment(session, cfg, f, ticket_id=ticket.id)
        except Invalid as exc:
            return Reply(exc.message(lang))
    from .commands import customer_replied

    text = (msg.text or "").strip() or ", ".join(f.filename for f in msg.files)
    customer_replied(session, ticket.id or 0, now=now, text=text, actor=ident.contact,
                     policy=cfg.policy, routing=cfg.routing)
    zone = customer_calendar(ident.customer).zone
    return Reply("\n".join([t("waiting.answered", lang, number=ticket.id),
                            _ticket_line(session, cfg, ticket, lang, zone, now)]),
                 meta={"ticket": str(ticket.id)})


# -- abandoned dialogs ------------------------------------------------------------------------


def sweep_dialogs(session: Session, now: datetime, cfg: IntakeConfig | None = None, *,
                  remind_after: timedelta | None = None,
                  expire_after: timedelta | None = None) -> list[tuple[str, str, Reply]]:
    """Remind abandoned dialogs once and expire old ones: (channel, chat or user, Reply) to send.

    Expired dialogs are deleted with their files: no ticket, no clock.
    """
    remind = remind_after or (cfg.remind_after if cfg else timedelta(minutes=30))
    expire = expire_after or (cfg.expire_after if cfg else timedelta(hours=24))
    out: list[tuple[str, str, Reply]] = []
    rows = session.exec(select(DialogSession).where(DialogSession.updated_at <= now - remind))
    for row in list(rows):
        target = row.chat or row.user_key
        if row.updated_at <= now - expire:
            _discard(session, row)
            out.append((row.channel, target, Reply(t("dialog.expired", row.language))))
        elif row.reminded_at is None:
            row.reminded_at = now
            session.add(row)
            label = BY_KEY[row.step].label(row.language) if row.step in BY_KEY else row.step
            out.append((row.channel, target, Reply(t("dialog.reminder", row.language, step=label),
                                                   meta={"step": row.step})))
    session.flush()
    return out


def contact_for(session: Session, contact_id: int) -> tuple[Contact, Customer | None]:
    contact = session.get(Contact, contact_id)
    assert contact is not None
    return contact, session.get(Customer, contact.customer_id) if contact.customer_id else None


def kb_titles(session: Session, ids: Sequence[str]) -> list[str]:
    return [e.title for i in ids if (e := session.get(KnownError, i)) is not None]


def answer_choice(f: FieldDef, ctx: FieldContext, text: str) -> str:
    """Helper for adapters that show choices as a list: the value for a typed answer."""
    return match_choice(text, f.choices_for(ctx)) if f.kind != FieldKind.TEXT else text


register({
    "hint.attach": {
        "en": "up to {mb} MB each; {n} received so far",
        "tr": "her biri en fazla {mb} MB; şu ana kadar {n} dosya alındı",
    },
    "hint.attach.console": {
        "en": "type the path of a local file, up to {mb} MB; {n} received so far",
        "tr": "yerel bir dosyanın yolunu yazın, en fazla {mb} MB; şu ana kadar {n} dosya alındı",
    },
    "dialog.hello": {
        "en": "Hello {name} ({customer}). I will take your report step by step. You can type "
              "\"back\", \"cancel\" or \"edit FIELD\" at any time.",
        "tr": "Merhaba {name} ({customer}). Bildiriminizi adım adım alacağım. İstediğiniz an "
              "\"geri\", \"iptal\" ya da \"düzenle ALAN\" yazabilirsiniz.",
    },
    "dialog.continuing": {
        "en": "You have a report in progress; let us continue (type \"cancel\" to start over).",
        "tr": "Devam eden bir bildiriminiz var; kaldığımız yerden sürdürelim (baştan başlamak "
              "için \"iptal\" yazın).",
    },
    "dialog.help": {
        "en": "Answer the question below. \"back\" goes to the previous question, \"edit FIELD\" "
              "changes an answer (e.g. edit summary), \"cancel\" drops the report.",
        "tr": "Aşağıdaki soruyu yanıtlayın. \"geri\" önceki soruya döner, \"düzenle ALAN\" bir "
              "yanıtı değiştirir (ör. düzenle özet), \"iptal\" bildirimi siler.",
    },
    "dialog.reminder": {
        "en": "Your report is not finished yet (we stopped at: {step}). Answer to continue, or "
              "type \"cancel\". No ticket is open and no clock runs until you confirm.",
        "tr": "Bildiriminiz henüz tamamlanmadı (kaldığımız yer: {step}). Devam etmek için "
              "yanıtlayın ya da \"iptal\" yazın. Onaylayana kadar kayıt açılmaz, süre işlemez.",
    },
    "dialog.expired": {
        "en": "Your unfinished report has expired and was discarded; no ticket was opened. "
              "Write to me again to start a new one.",
        "tr": "Tamamlanmamış bildiriminizin süresi doldu ve silindi; kayıt açılmadı. Yeni bir "
              "bildirim için bana tekrar yazın.",
    },
    "cancelled": {
        "en": "Cancelled. Nothing was filed. Write to me again whenever you need.",
        "tr": "İptal edildi. Hiçbir kayıt açılmadı. İhtiyaç duyduğunuzda yine yazın.",
    },
    "cancel.nothing": {
        "en": "There is no report in progress.",
        "tr": "Devam eden bir bildirim yok.",
    },
    "back.none": {"en": "This is the first question.", "tr": "Bu ilk soru."},
    "button.stale": {
        "en": "That button belongs to an earlier question.",
        "tr": "Bu düğme önceki bir soruya ait.",
    },
    "edit.which": {"en": "Which answer do you want to change?",
                   "tr": "Hangi yanıtı değiştirmek istiyorsunuz?"},
    "edit.unknown": {
        "en": "I cannot edit \"{name}\". Pick one of the answers below.",
        "tr": "\"{name}\" düzenlenemiyor. Aşağıdaki yanıtlardan birini seçin.",
    },
    "confirm.title": {
        "en": "Please check your report:",
        "tr": "Lütfen bildiriminizi kontrol edin:",
    },
    "confirm.ask": {
        "en": "Open the ticket now? The clocks start when you confirm.",
        "tr": "Kayıt şimdi açılsın mı? Süreler onayladığınızda başlar.",
    },
    "confirm.invalid": {
        "en": "Please choose: confirm, edit or cancel.",
        "tr": "Lütfen seçin: onayla, düzenle ya da iptal.",
    },
    "choice.confirm": {"en": "Confirm", "tr": "Onayla"},
    "choice.edit": {"en": "Edit", "tr": "Düzenle"},
    "choice.cancel": {"en": "Cancel", "tr": "İptal"},
    "deflected": {
        "en": "Glad it is solved! I noted that the knowledge base helped; no ticket was opened.",
        "tr": "Çözülmesine sevindim! Bilgi bankasının yardımcı olduğunu not ettim; kayıt "
              "açılmadı.",
    },
    "note.eos": {
        "en": "Please note: version {version} reached its end of support on {ends} ({years} years "
              "after release). We record this on the ticket; the vendor decides what support is "
              "possible and a fix will need an upgrade.",
        "tr": "Lütfen dikkat: {version} sürümünün destek süresi {ends} tarihinde doldu "
              "(yayından {years} yıl sonra). Bunu kayda işliyoruz; hangi desteğin verilebileceğine "
              "firma karar verir ve düzeltme için sürüm yükseltmesi gerekir.",
    },
    "note.eos_short": {
        "en": "Version past end of support: recorded on the ticket.",
        "tr": "Destek süresi dolmuş sürüm: kayda işlendi.",
    },
    "note.service": {
        "en": "This is a service request: it is outside maintenance, billed separately, and runs "
              "no SLA clock.",
        "tr": "Bu bir hizmet talebidir: bakım kapsamı dışındadır, ayrıca faturalandırılır ve SLA "
              "süresi işlemez.",
    },
    "note.remote_pending": {
        "en": "Without remote access the clock waits: the ticket is paused as \"waiting for "
              "remote access\" until access is given.",
        "tr": "Uzaktan erişim olmadan süre bekler: erişim verilene kadar kayıt \"uzaktan erişim "
              "bekleniyor\" olarak duraklatılır.",
    },
    "note.out_of_hours": {
        "en": "It is outside your business hours. On the Standard plan the clock starts at the "
              "next opening, {opening}; out-of-hours support is an additional, separately billed "
              "service.",
        "tr": "Şu an mesai saatleriniz dışındayız. Standart planda süre bir sonraki mesai "
              "başlangıcında, {opening}, başlar; mesai dışı destek ayrıca faturalandırılan ek bir "
              "hizmettir.",
    },
    "opened": {
        "en": "Ticket #{number} is open. Severity {severity} ({severity_name}), plan {plan}, "
              "assigned to Tier {tier}.",
        "tr": "#{number} numaralı kayıt açıldı. Önem derecesi {severity} ({severity_name}), plan "
              "{plan}, Seviye {tier} ekibine atandı.",
    },
    "due.at": {"en": "{clock} ({target}): due {at}", "tr": "{clock} ({target}): son {at}"},
    "due.none": {"en": "{clock}: {target}", "tr": "{clock}: {target}"},
    "due.paused": {
        "en": "{clock} ({target}): paused, waiting for remote access",
        "tr": "{clock} ({target}): duraklatıldı, uzaktan erişim bekleniyor",
    },
    "due.next": {"en": "{clock} due {at} ({state})", "tr": "{clock} son {at} ({state})"},
    "files.received": {"en": "Received {name} ({size}).", "tr": "{name} alındı ({size})."},
    "files.too_big": {
        "en": "{name} is {size}; the limit is {limit}. Please send a smaller file (e.g. zipped).",
        "tr": "{name} {size}; sınır {limit}. Lütfen daha küçük bir dosya gönderin (ör. "
              "sıkıştırılmış).",
    },
    "files.empty": {"en": "{name} is empty.", "tr": "{name} boş."},
    "files.too_many": {
        "en": "{name} was not added: a report takes {limit} files at most. Zip them together, "
              "or say \"done\" to go on.",
        "tr": "{name} eklenmedi: bir kayda en fazla {limit} dosya eklenebilir. Dosyaları "
              "sıkıştırıp tek dosya gönderin ya da devam etmek için \"tamam\" yazın.",
    },
    "files.type": {
        "en": "{name} has a file type I cannot accept ({type}). Screenshots, text logs, PDF or "
              "zip files are fine.",
        "tr": "{name} kabul edemediğim bir dosya türünde ({type}). Ekran görüntüsü, metin log, "
              "PDF ya da zip dosyaları uygundur.",
    },
    "files.no_dialog": {
        "en": "Please start a report first (/new); then send files when I ask for them.",
        "tr": "Lütfen önce bir bildirim başlatın (/new); dosyaları sorduğumda gönderin.",
    },
    "invalid.required": {"en": "This answer is required.", "tr": "Bu yanıt zorunludur."},
    "cmd.unknown": {"en": "Unknown command /{command}. Try /help.",
                    "tr": "Bilinmeyen komut /{command}. /help yazın."},
    "help": {
        "en": "I take support reports. /new starts a report, /status N shows ticket N, /list "
              "your organisation's open tickets, /access N HOW says remote access is given, "
              "/cancel drops a report in progress, /lang tr|en switches language.",
        "tr": "Destek bildirimlerini alırım. /new yeni bildirim başlatır, /status N N numaralı "
              "kaydı gösterir, /list kurumunuzun açık kayıtlarını listeler, /access N NASIL "
              "uzaktan erişimin verildiğini bildirir, /cancel devam eden bildirimi siler, "
              "/lang tr|en dili değiştirir.",
    },
    "access.usage": {
        "en": "Use /access N followed by how to connect, e.g. /access 12 VPN via AnyDesk.",
        "tr": "/access N ve bağlantı yolunu yazın, ör. /access 12 AnyDesk ile VPN.",
    },
    "access.already": {
        "en": "Ticket #{number} is not waiting for remote access.",
        "tr": "#{number} numaralı kayıt uzaktan erişim beklemiyor.",
    },
    "access.thanks": {
        "en": "Thank you: remote access for ticket #{number} is recorded and its clocks run "
              "again.",
        "tr": "Teşekkürler: #{number} numaralı kayıt için uzaktan erişim kaydedildi, süreler "
              "yeniden işliyor.",
    },
    "lang.usage": {"en": "Use /lang tr or /lang en.", "tr": "/lang tr ya da /lang en kullanın."},
    "waiting.answered": {
        "en": "Thank you: your answer is added to ticket #{number} and its clocks run again. "
              "To report something new, send /new.",
        "tr": "Teşekkürler: yanıtınız #{number} numaralı kayda eklendi, süreler yeniden "
              "işliyor. Yeni bir bildirim için /new yazın.",
    },
    "lang.set": {"en": "I will speak English with you.", "tr": "Sizinle Türkçe konuşacağım."},
    "list.none": {"en": "Your organisation has no open tickets.",
                  "tr": "Kurumunuzun açık kaydı yok."},
    "list.title": {"en": "Open tickets of {customer}:", "tr": "{customer} açık kayıtları:"},
    "status.not_found": {
        "en": "I cannot find ticket {ref} for your organisation.",
        "tr": "Kurumunuza ait {ref} numaralı kaydı bulamıyorum.",
    },
    "status.assignee": {"en": "Engineer: {name}", "tr": "Mühendis: {name}"},
})
