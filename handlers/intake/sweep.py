"""Abandoned dialogs: reminded once, expired later with their files."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from storage import outbox
from storage.models import DialogSession

from ..dialog import BY_KEY
from ..i18n import t
from ..types import Reply
from .config import IntakeConfig
from .state import discard


def sweep_dialogs(session: Session, now: datetime, cfg: IntakeConfig | None = None, *,
                  remind_after: timedelta | None = None,
                  expire_after: timedelta | None = None) -> list[tuple[str, str, Reply]]:
    """Remind abandoned dialogs once and expire old ones; each message is queued in the outbox
    (delivered once, retried when the platform fails). Returns (channel, chat or user, Reply)
    of what was queued.

    Expired dialogs are deleted with their files: no ticket, no clock.
    """
    remind = remind_after or (cfg.remind_after if cfg else timedelta(minutes=30))
    expire = expire_after or (cfg.expire_after if cfg else timedelta(hours=24))
    out: list[tuple[str, str, Reply]] = []
    rows = session.exec(select(DialogSession).where(DialogSession.updated_at <= now - remind))
    for row in list(rows):
        target = row.chat or row.user_key
        if row.updated_at <= now - expire:
            discard(session, row)
            reply = Reply(t("dialog.expired", row.language))
            what = "expired"
        elif row.reminded_at is None:
            row.reminded_at = now
            session.add(row)
            label = BY_KEY[row.step].label(row.language) if row.step in BY_KEY else row.step
            reply = Reply(t("dialog.reminder", row.language, step=label), meta={"step": row.step})
            what = "reminder"
        else:
            continue
        outbox.enqueue(session, dialog_key(row, what), row.channel, target, reply.text,
                       thread=row.thread)
        out.append((row.channel, target, reply))
    session.flush()
    return out


def dialog_key(row: DialogSession, what: str) -> str:
    """One reminder and one expiry per dialog; the start instant tells apart two dialogs that
    got the same row id (SQLite reuses the highest id once that row is deleted)."""
    return f"dialog:{row.id}:{int(row.created_at.timestamp())}:{what}"
