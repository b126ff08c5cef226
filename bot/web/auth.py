"""Dashboard login: scrypt password hashes and who may log in (engineers and managers).

Customers, inactive contacts, unknown names and wrong passwords are refused alike, and every
attempt costs the same work whatever the name: the same two queries, and exactly one scrypt
derivation (against a dummy hash when the name is unknown or has no password).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from sqlmodel import Session, col, select

from storage.directory import RecordError, find_contact, name_key
from storage.models import Contact, ContactIdentity, Role

from .sessions import end_sessions_of

STAFF = (Role.ENGINEER.value, Role.MANAGER.value)
REFUSED = "Unknown name or wrong password, or no dashboard access."

_N, _R, _P = 2**14, 8, 1


def _derive(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    """The one place a password is stretched (scrypt), for hashing and checking alike."""
    return hashlib.scrypt(password.encode("utf-8", "replace"), salt=salt, n=n, r=r, p=p,
                          dklen=dklen, maxmem=64 * 1024 * 1024)


def hash_password(password: str, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64); a fresh 16-byte salt by default."""
    if not password:
        raise ValueError("an empty password is not allowed")
    salt = salt or secrets.token_bytes(16)
    digest = _derive(password, salt, _N, _R, _P, 32)
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
        got = _derive(password, base64.b64decode(salt), int(n), int(r), int(p),
                      len(base64.b64decode(digest)))
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
    if contact.id is not None:
        end_sessions_of(session, contact.id)  # a new password logs out the old sessions
    return contact


def resolve(session: Session, ref: str) -> Contact | None:
    """The staff contact a login name means: a chat user id, an exact name, an id, the e-mail
    or the name without case or accents (when one contact has it). Always the same two queries,
    found or not, so the lookup does not tell names apart by its time."""
    ref = ref.strip()
    by_identity = set(session.exec(select(ContactIdentity.contact_id).where(
        ContactIdentity.external_id == ref)))
    # Staff only: customers never log in, so they need not be candidates (nor loaded).
    contacts = list(session.exec(select(Contact).where(col(Contact.role).in_(STAFF))
                                 .order_by(col(Contact.id))))
    if not ref:
        return None
    lower, key = ref.lower(), name_key(ref)
    tests = (lambda c: c.id in by_identity or c.name == ref or str(c.id) == ref,
             lambda c: (c.email or "").lower() == lower,
             lambda c: c.name.lower() == lower)
    for test in tests:
        found = [c for c in contacts if test(c)]
        if found:
            return found[0]
    alike = [c for c in contacts if key and name_key(c.name) == key]
    return alike[0] if len(alike) == 1 else None


def account_key(contact: Contact | None, ref: str) -> str:
    """What failed logins are counted against: the contact, else the name as typed (so an
    unknown name is throttled exactly like a real one and throttling names nobody)."""
    if contact is not None:
        return f"contact:{contact.id}"
    return f"name:{name_key(ref)[:180]}"


def check_login(contact: Contact | None, password: str) -> Contact | None:
    """``contact`` when it may log in with ``password``, else None. Exactly one scrypt
    derivation either way: against a dummy hash when there is no contact or no password."""
    stored = contact.password_hash if contact is not None and contact.password_hash else None
    ok = verify_password(password, stored or _DUMMY) and stored is not None
    if not ok or contact is None or contact.role not in STAFF or not contact.active:
        return None
    return contact


def authenticate(session: Session, ref: str, password: str) -> Contact | None:
    """The staff contact with this name / e-mail / Slack id and password, else None."""
    return check_login(resolve(session, ref), password)


_DUMMY = hash_password("not-a-password", b"0123456789abcdef")
