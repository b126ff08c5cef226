"""Abandoned dialogs: reminded once, expired later with their files."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from storage.models import DialogSession

from ..dialog import BY_KEY
from ..i18n import t
from ..types import Reply
from .config import IntakeConfig
from .state import discard


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
            discard(session, row)
            out.append((row.channel, target, Reply(t("dialog.expired", row.language))))
        elif row.reminded_at is None:
            row.reminded_at = now
            session.add(row)
            label = BY_KEY[row.step].label(row.language) if row.step in BY_KEY else row.step
            out.append((row.channel, target, Reply(t("dialog.reminder", row.language, step=label),
                                                   meta={"step": row.step})))
    session.flush()
    return out

