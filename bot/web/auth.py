"""Dashboard login: scrypt password hashes and who may log in (engineers and managers).

Customers, inactive contacts, unknown names and wrong passwords are refused alike, and an unknown
name costs the same hashing work as a wrong password.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from sqlalchemy import func
from sqlmodel import Session, select

from storage.directory import RecordError, find_contact
from storage.models import Contact, Role

STAFF = (Role.ENGINEER.value, Role.MANAGER.value)
REFUSED = "Unknown name or wrong password, or no dashboard access."

_N, _R, _P = 2**14, 8, 1


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64); a fresh 16-byte salt by default."""
    if not password:
        raise ValueError("an empty password is not allowed")
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str | None) -> bool:
    """Whether ``password`` matches a stored ``scrypt$…`` hash (False for no hash)."""
    if not stored or not password:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n),
                             r=int(r), p=int(p), dklen=len(base64.b64decode(digest)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


def set_password(session: Session, ref: str, password: str) -> Contact:
    """Give a vendor staff contact a dashboard password (customers cannot have one)."""
    contact = find_contact(session, ref)
    if contact is None:
        raise RecordError(f"unknown contact {ref!r}")
    if contact.role not in STAFF:
        raise RecordError(f"{contact.name} is a customer contact: the dashboard is for "
                          "engineers and managers")
    if len(password) < 8:
        raise RecordError("the password needs at least 8 characters")
    contact.password_hash = hash_password(password)
    session.add(contact)
    return contact


def authenticate(session: Session, ref: str, password: str) -> Contact | None:
    """The staff contact with this name / e-mail / Slack id and password, else None."""
    ref = ref.strip()
    contact = None
    if ref:
        contact = find_contact(session, ref) or session.exec(
            select(Contact).where(func.lower(Contact.email) == ref.lower())).first()
        if contact is None:
            contact = session.exec(
                select(Contact).where(func.lower(Contact.name) == ref.lower())).first()
    ok = contact is not None and verify_password(password, contact.password_hash)
    if not ok:
        verify_password(password, _DUMMY)  # same work for unknown names
        return None
    assert contact is not None
    if contact.role not in STAFF or not contact.active:
        return None
    return contact


_DUMMY = hash_password("not-a-password", b"0123456789abcdef")
