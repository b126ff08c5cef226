"""Reads kept for the rest of one transaction.

A Telegram batch runs many dialog steps in one transaction, and every step that shows the
product or version menu read the same catalogue rows again (the session's identity map holds
rows weakly, so even ``session.get`` went back to the database). Only for reads the
transaction itself does not write: the memo belongs to the transaction it was filled in, so
the next one, after a commit or a rollback, reads afresh.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from sqlalchemy.orm import Session as OrmSession

T = TypeVar("T")
_KEY = "destek.memo"


def memo(session: OrmSession, key: Hashable, load: Callable[[], T]) -> T:
    """``load()``, run once per ``key`` in the session's current transaction."""
    if session.get_transaction() is None:
        session.connection()  # begins the transaction the read would begin
    transaction = session.get_transaction()  # the outermost: a SAVEPOINT keeps the memo
    owner, kept = session.info.get(_KEY, (None, {}))
    if owner is not transaction:
        kept = {}
        session.info[_KEY] = (transaction, kept)
    if key not in kept:
        kept[key] = load()
    return kept[key]  # type: ignore[no-any-return]
