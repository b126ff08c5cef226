"""A dialog's durable state: answers so far, the way back, and the row it lives in."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, inspect, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from storage.models import Attachment, DialogSession

from ..dialog import CONFIRM, EDIT_PICK, FieldContext, next_field
from ..identity import Identity
from .config import IntakeConfig

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


def save(session: Session, row: DialogSession, state: State, now: datetime) -> None:
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


def attachment_count(session: Session, dialog_id: int | None) -> int:
    if dialog_id is None:
        return 0
    return len(list(session.exec(select(Attachment.id).where(Attachment.dialog_id == dialog_id,
                                                             col(Attachment.ticket_id).is_(None)))))


def field_context(session: Session, cfg: IntakeConfig, ident: Identity, state: State, lang: str,
         now: datetime, dialog_id: int | None) -> FieldContext:
    # The file count matters only where files are asked for or listed: spare the query.
    counted = state.step() in ("attachments", CONFIRM, EDIT_PICK)
    return FieldContext(session, ident, cfg.policy, state.answers, lang, now,
                        attachment_count(session, dialog_id) if counted else 0)



def discard(session: Session, row: DialogSession) -> None:
    """Drop a dialog and the files it collected (no ticket, no clock)."""
    for att in session.exec(select(Attachment).where(Attachment.dialog_id == row.id,
                                                     col(Attachment.ticket_id).is_(None))):
        remove_file(session, att)
        session.delete(att)
    session.delete(row)
    session.flush()


def remove_file(session: Session, att: Attachment) -> None:
    others = session.exec(select(Attachment.id).where(Attachment.sha256 == att.sha256,
                                                      Attachment.id != att.id)).first()
    if others is None:
        Path(att.path).unlink(missing_ok=True)

