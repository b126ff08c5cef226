"""The report as one Slack form: the same dialog fields (:data:`handlers.dialog.FIELDS`)
validated at once (:func:`handlers.intake.validate_answers`); run in the caller's transaction."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from handlers import intake
from handlers.dialog import FIELDS, FieldContext, FieldKind, propose_severity
from handlers.identity import Identity, Refusal, identify
from handlers.intake import IntakeConfig
from handlers.types import IncomingFile, Reply
from storage.identities import HOME
from storage.models import Attachment

from . import blocks

log = logging.getLogger("destek.slack")
CHANNEL = "slack"
# Optional in the form: what is asked only for some answers, and the severity (left empty,
# it is the one the answers propose).
CONDITIONAL = {f.key for f in FIELDS if f.conditional} | {"severity"}


def intake_view(session: Session, cfg: IntakeConfig, user: str, now: datetime,
                workspace: str = HOME) -> dict[str, Any] | str:
    """The report form for ``user`` (of Slack team ``workspace``), or why they cannot
    report."""
    who = identify(session, CHANNEL, user, now, workspace=workspace)
    if isinstance(who, Refusal):
        return who.text
    ctx = FieldContext(session, who, cfg.policy, {}, who.language, now)
    fields = [(f, f.choices_for(ctx) if f.kind != FieldKind.ATTACHMENTS else [],
               f.key in CONDITIONAL) for f in FIELDS if f.report]
    return blocks.intake_modal(fields, who.language, {"user": user})


def validate(session: Session, cfg: IntakeConfig, user: str, values: Mapping[str, Any],
             now: datetime, workspace: str = HOME,
             ) -> tuple[Identity | Refusal, dict[str, Any], dict[str, str]]:
    """The submitted form checked: who, the answers, and the errors by field."""
    who = identify(session, CHANNEL, user, now, workspace=workspace)
    if isinstance(who, Refusal):
        return who, {}, {}
    # Files from the modal's file input, plus any shared in the DM dialog in progress.
    dialog = intake.get_dialog(session, CHANNEL, user)
    n_files = len(values.get(blocks.ATTACHMENTS_BLOCK) or []) + (
        _dialog_files(session, dialog.id) if dialog is not None else 0)
    raw = {k: v for k, v in values.items() if isinstance(v, str)}
    raw["attachments"] = "done" if n_files else "none"
    answers, errors = intake.validate_answers(session, cfg, who, raw, now, attachments=n_files)
    if "severity" in errors and not (raw.get("severity") or "").strip():
        raw["severity"] = propose_severity(answers)  # empty: the severity the answers imply
        answers, errors = intake.validate_answers(session, cfg, who, raw, now,
                                                  attachments=n_files)
    if "attachments_missing_reason" in errors and n_files:
        errors.pop("attachments_missing_reason")
    return who, answers, errors


def open_report(session: Session, cfg: IntakeConfig, user: str, values: Mapping[str, Any],
                channel: str, files: Sequence[IncomingFile], now: datetime,
                workspace: str = HOME) -> list[Reply]:
    """Open the ticket from the submitted form (its files kept); the confirmation."""
    who, answers, errors = validate(session, cfg, user, values, now, workspace)
    if isinstance(who, Refusal):
        return [Reply(who.text)]
    if errors:  # changed since the ack (e.g. a version removed): tell, open nothing
        return [Reply("\n".join(errors.values()))]
    dialog = intake.get_dialog(session, CHANNEL, user)
    opened = intake.open_from_answers(session, cfg, who, answers, now, channel=CHANNEL,
                                      user_key=user, chat=channel, lang=who.language,
                                      dialog_id=dialog.id if dialog else None)
    if dialog is not None:  # the form replaced the DM conversation in progress
        session.delete(dialog)
    for refused in intake.attach_to_ticket(session, cfg, opened.ticket, files, who.contact,
                                           now).refused:
        log.info("file refused on ticket #%s: %s", opened.ticket.id, refused.message("en"))
    return opened.replies


def _dialog_files(session: Session, dialog_id: int | None) -> int:
    return len(session.exec(select(Attachment.id).where(
        Attachment.dialog_id == dialog_id, col(Attachment.ticket_id).is_(None))).all())
