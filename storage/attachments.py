"""Attachment bytes on disk, addressed by their sha256, and their rows."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlmodel import Session

from .models import Attachment


def store(session: Session, folder: Path, filename: str, content_type: str, data: bytes,
          *, dialog_id: int | None = None, ticket_id: int | None = None) -> Attachment:
    """Write ``data`` once under ``folder/ab/abcdef…`` (atomically) and add its row."""
    digest = hashlib.sha256(data).hexdigest()
    sub = folder / digest[:2]
    sub.mkdir(parents=True, exist_ok=True)
    path = sub / digest
    if not path.exists():
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)  # a half-written file never carries the final name
    att = Attachment(ticket_id=ticket_id, dialog_id=dialog_id,
                     filename=Path(filename).name[:255] or "file", content_type=content_type,
                     size=len(data), sha256=digest, path=str(path))
    session.add(att)
    session.flush()
    return att
