"""Who counts as staff, and finding a support engineer from what someone typed."""

from __future__ import annotations

import re

from sqlmodel import Session, col, select

from storage.directory import name_key
from storage.identities import owners
from storage.models import Contact, Role

STAFF_ROLES = (Role.ENGINEER.value, Role.MANAGER.value)

_MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")


def find_engineer(session: Session, ref: str) -> Contact | None:
    """An active engineer or manager by Slack mention/id, Telegram id, contact id or name
    (full name or a unique first name, case-insensitive)."""
    ref = ref.strip()
    m = _MENTION.match(ref)
    ref = m.group(1) if m else ref.lstrip("@")
    if not ref:
        return None
    staff = list(session.exec(
        select(Contact).where(col(Contact.role).in_(STAFF_ROLES), Contact.active == True)  # noqa: E712
        .order_by(col(Contact.id))
    ))
    named = owners(session, ref)  # whoever has this user id on a chat channel
    for c in staff:
        if ref == c.name or c.id in named or (ref.isdigit() and int(ref) == c.id):
            return c
    # Typed without case or accents ("elif sahin", "Deniz"): only when one person matches.
    key = name_key(ref)
    exact = [c for c in staff if name_key(c.name) == key]
    if len(exact) == 1:
        return exact[0]
    first = [c for c in staff if name_key(c.name.split()[0]) == key]
    return first[0] if len(first) == 1 else None
