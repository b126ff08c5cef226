"""The full-text index of known errors: the normalised ``search_text`` and keeping it current.

Migration 0002 made an FTS5 table kept in step by triggers on SQLite and a generated ``tsvector``
column with a GIN index on PostgreSQL; both index ``known_errors.search_text``, computed here in
Python (:func:`search_text_for`) because neither engine folds Turkish dotted/dotless I."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from ..models import KnownError
from .normalise import tokens

FTS_TABLE = "known_errors_fts"


def search_text_for(entry: KnownError | dict[str, Any]) -> str:
    """The normalised text the full-text index holds for one entry."""
    get = entry.get if isinstance(entry, dict) else lambda k, d=None: getattr(entry, k, d)
    sigs = get("signatures") or "[]"
    try:
        # Regex signatures are indexed by their literal words (escapes such as \d dropped).
        sig_text = " ".join(re.sub(r"\\[A-Za-z]", " ", str(s)) for s in json.loads(sigs))
    except (ValueError, TypeError):
        sig_text = str(sigs)
    parts = [get("id", ""), get("title", ""), get("title", ""), get("product", "") or "",
             get("symptoms", ""), sig_text, sig_text, get("workaround", ""), get("body", "")]
    return " ".join(tokens(" ".join(p or "" for p in parts)))


_HAS_SEARCH: dict[str, bool] = {}


def has_search_column(conn: Connection) -> bool:
    """Whether migration 0002 ran on this database (schemas made by create_all lack it)."""
    key = str(conn.engine.url)
    if key not in _HAS_SEARCH:
        cols = {c["name"] for c in inspect(conn).get_columns("known_errors")}
        if "search_text" not in cols:
            return False  # asked again next time: an upgrade may add it while we run
        _HAS_SEARCH[key] = True
    return _HAS_SEARCH[key]


@event.listens_for(KnownError, "after_insert")
@event.listens_for(KnownError, "after_update")
def _store_search_text(_mapper: Any, conn: Connection, target: KnownError) -> None:
    # The column is not on the model: the index is an implementation detail of this module.
    if has_search_column(conn):
        conn.execute(text("UPDATE known_errors SET search_text = :t WHERE id = :id"),
                     {"t": search_text_for(target), "id": target.id})


def reindex(session: Session) -> int:
    """Recompute ``search_text`` of every entry (after a bulk load); returns the count."""
    conn = session.connection()
    n = 0
    for entry in session.exec(select(KnownError)):
        conn.execute(text("UPDATE known_errors SET search_text = :t WHERE id = :id"),
                     {"t": search_text_for(entry), "id": entry.id})
        n += 1
    return n
