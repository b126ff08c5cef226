"""Known errors as records: insert or update by id, list, number and describe them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from ..clock import clock_of
from ..models import KnownError
from .signatures import signature_list

FIELDS = ("title", "family", "product", "affected_versions", "symptoms", "signatures",
          "workaround", "fixed_in", "language", "body", "published")


@dataclass
class ImportChange:
    """What importing one entry did."""

    id: str
    status: str  # added | updated | unchanged
    fields: list[str] = field(default_factory=list)
    path: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "fields": self.fields, "path": self.path}


def upsert(session: Session, data: dict[str, Any], path: str = "") -> ImportChange:
    """Insert or update one entry by id; reports which fields changed."""
    entry = session.get(KnownError, data["id"])
    if entry is None:
        entry = KnownError(**data)
        session.add(entry)
        session.flush()
        return ImportChange(data["id"], "added", [], path)
    changed = [f for f in FIELDS if f in data and getattr(entry, f) != data[f]]
    if not changed:
        return ImportChange(entry.id, "unchanged", [], path)
    for f in changed:
        setattr(entry, f, data[f])
    entry.updated_at = clock_of(session)()
    session.add(entry)
    session.flush()
    return ImportChange(entry.id, "updated", changed, path)


def list_entries(session: Session) -> list[KnownError]:
    """Every known error, by id."""
    return list(session.exec(select(KnownError).order_by(col(KnownError.id))))


def next_id(session: Session, prefix: str = "KE-") -> str:
    """The next free ``KE-NNNN`` id."""
    ids = session.exec(select(KnownError.id).where(col(KnownError.id).startswith(prefix))).all()
    numbers = [int(m.group(1)) for i in ids if (m := re.match(rf"^{re.escape(prefix)}(\d+)$", i))]
    return f"{prefix}{(max(numbers) if numbers else 0) + 1:04d}"


def existing_ids(session: Session, candidates: set[str]) -> set[str]:
    """Which of ``candidates`` are ids of known errors (looked up, never guessed by shape)."""
    found: set[str] = set()
    chunk = sorted(candidates)
    for i in range(0, len(chunk), 500):
        found |= set(session.exec(select(KnownError.id).where(
            col(KnownError.id).in_(chunk[i:i + 500]))))
    return found


def entry_dict(entry: KnownError) -> dict[str, Any]:
    """One entry as plain data (``kb list --json``)."""
    return {
        "id": entry.id, "title": entry.title, "family": entry.family, "product": entry.product,
        "affected_versions": entry.affected_versions, "symptoms": entry.symptoms,
        "signatures": signature_list(entry), "workaround": entry.workaround,
        "fixed_in": entry.fixed_in, "language": entry.language, "published": entry.published,
        "source_ticket_id": entry.source_ticket_id,
    }
