"""Files sent during a report or on a ticket: checked, then stored by content hash."""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlmodel import Session, col, select

from storage import attachments, tickets
from storage.models import Attachment, Contact, DialogSession, Ticket

from ..dialog import Invalid
from ..types import IncomingFile
from .config import IntakeConfig

# -- attachments ------------------------------------------------------------------------------


def size_text(n: int) -> str:
    return f"{n / 1024:.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


def store_attachment(session: Session, cfg: IntakeConfig, f: IncomingFile,
                     dialog_id: int | None = None, ticket_id: int | None = None) -> Attachment:
    """Check size and content type, store the bytes by sha256 and add the Attachment row."""
    ctype = (f.content_type or mimetypes.guess_type(f.filename)[0]
             or "application/octet-stream").split(";")[0].strip().lower()
    if len(f.data) > cfg.max_attachment_bytes:
        raise Invalid("files.too_big", name=f.filename, size=size_text(len(f.data)),
                      limit=size_text(cfg.max_attachment_bytes))
    if len(f.data) == 0:
        raise Invalid("files.empty", name=f.filename)
    # A file of no ticket or dialog yet (a held message) is counted by its holder.
    if ticket_id is not None or dialog_id is not None:
        owner = (col(Attachment.ticket_id) == ticket_id if ticket_id is not None
                 else col(Attachment.dialog_id) == dialog_id)
        if len(session.exec(select(Attachment.id).where(owner)).all()) >= cfg.max_attachments:
            raise Invalid("files.too_many", name=f.filename, limit=cfg.max_attachments)
    if cfg.allowed_types and ctype not in cfg.allowed_types:
        raise Invalid("files.type", name=f.filename, type=ctype)
    return attachments.store(session, cfg.attachments_dir, f.filename, ctype, f.data,
                             dialog_id=dialog_id, ticket_id=ticket_id)



class Attached(NamedTuple):
    """Files sent on a ticket: those kept, and the refusals (each says why)."""

    stored: list[Attachment]
    refused: list[Invalid]


def files_added(session: Session, ticket: Ticket, count: int, actor: Contact | None,
                now: datetime) -> None:
    """The audit event of ``count`` files that became the ticket's (none: no event)."""
    if count:
        tickets.add_event(session, ticket, "attachments", f"{count} file(s)", actor=actor,
                          at=now, data={"count": count})


def attach_to_ticket(session: Session, cfg: IntakeConfig, ticket: Ticket,
                     files: Sequence[IncomingFile], actor: Contact | None,
                     now: datetime) -> Attached:
    """Store ``files`` on an open ticket, with one audit event; the refused ones say why in
    the sender's language, the others are kept."""
    out = Attached([], [])
    for f in files:
        try:
            out.stored.append(store_attachment(session, cfg, f, ticket_id=ticket.id))
        except Invalid as exc:
            out.refused.append(exc)
    files_added(session, ticket, len(out.stored), actor, now)
    return out


def adopt_files(session: Session, ids: Sequence[int], row: DialogSession) -> None:
    """Stored files of no owner yet (a held message's) become the report's in progress."""
    if not ids:
        return
    for att in session.exec(select(Attachment).where(col(Attachment.id).in_(ids))):
        att.dialog_id, att.ticket_id = row.id, None
        session.add(att)
