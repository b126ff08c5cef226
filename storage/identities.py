"""Who a chat user is: the contact behind a (channel, workspace, external id), and back.

Each chat platform's user id is a ``ContactIdentity`` row, so a new channel needs no column
and no branch here. Channels whose user key *is* the contact id (the console: whoever runs it
names the contact) are listed in :data:`BY_CONTACT_ID` and need no row; every look-up goes
through the same functions either way. Writing identities (with the refusal of an id that
belongs to someone else) is ``storage.directory.set_identity``.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from .models import HOME_WORKSPACE, Contact, ContactIdentity

HOME = HOME_WORKSPACE

# Channels that address a contact by its contact id rather than by a platform user id.
BY_CONTACT_ID: frozenset[str] = frozenset({"console"})


def by_contact_id(channel: str) -> bool:
    """Whether ``channel``'s user key is the contact id itself (no identity row)."""
    return channel in BY_CONTACT_ID


def restrict(query: Any, contact_id_key: bool) -> Any:
    """``query`` (which selects ``Contact``) narrowed to the contact named by the bound
    parameters of :func:`bind_params`: by contact id, or joined through the identity key's
    unique index (one indexed query, for the look-up that runs on every inbound message)."""
    if contact_id_key:
        return query.where(col(Contact.id) == bindparam("ident_key"))
    return query.join(
        ContactIdentity, col(ContactIdentity.contact_id) == col(Contact.id)
    ).where(
        col(ContactIdentity.channel) == bindparam("ident_channel"),
        col(ContactIdentity.workspace) == bindparam("ident_workspace"),
        col(ContactIdentity.external_id) == bindparam("ident_key"),
    )


def bind_params(channel: str, external_id: str, workspace: str = HOME) -> dict[str, Any] | None:
    """The parameters of a :func:`restrict` query, or None when the key can name nobody
    (a console key that is not a number)."""
    if by_contact_id(channel):
        return {"ident_key": int(external_id)} if external_id.isdigit() else None
    return {"ident_channel": channel, "ident_workspace": workspace, "ident_key": external_id}


@functools.cache
def _contact_statement(contact_id_key: bool) -> Any:
    # Built once per key kind: building a select costs more than running it on SQLite.
    return restrict(select(Contact), contact_id_key)


def contact_for(
    session: Session, channel: str, external_id: str, workspace: str = HOME
) -> Contact | None:
    """The contact a channel user is (Slack/Telegram user id, contact id on the console)."""
    params = bind_params(channel, external_id, workspace)
    if params is None:
        return None
    statement = _contact_statement(by_contact_id(channel))
    return session.exec(statement, params=params).first()


def external_id(
    session: Session, contact_id: int, channel: str, workspace: str = HOME
) -> str | None:
    """The contact's user id on ``channel`` (what a direct message is addressed to)."""
    if by_contact_id(channel):
        return str(contact_id)
    return session.exec(
        select(ContactIdentity.external_id).where(
            ContactIdentity.contact_id == contact_id, ContactIdentity.channel == channel,
            ContactIdentity.workspace == workspace)
    ).first()


def external_ids(session: Session, contact_id: int, workspace: str = HOME) -> dict[str, str]:
    """Channel -> the contact's user id there, for every channel they have an identity on, in
    channel-name order (a stable order for "the first channel that reaches them")."""
    rows = session.exec(
        select(ContactIdentity.channel, ContactIdentity.external_id).where(
            ContactIdentity.contact_id == contact_id, ContactIdentity.workspace == workspace)
        .order_by(col(ContactIdentity.channel))
    )
    return dict(rows.all())


def identities_of(
    session: Session, contact_ids: Iterable[int] | None = None
) -> dict[int, list[ContactIdentity]]:
    """Contact id -> its identities (all workspaces), for listings; all contacts when None."""
    wanted = None if contact_ids is None else set(contact_ids)
    out: dict[int, list[ContactIdentity]] = {}
    query = select(ContactIdentity).order_by(col(ContactIdentity.channel),
                                             col(ContactIdentity.workspace))
    for row in session.exec(query):
        if wanted is None or row.contact_id in wanted:
            out.setdefault(row.contact_id, []).append(row)
    return out


def owners(session: Session, external_id: str) -> set[int]:
    """Contacts that have ``external_id`` on some channel: a platform id typed by a person
    ("U0ENG001", "1001") names them whichever platform it comes from."""
    return set(session.exec(
        select(ContactIdentity.contact_id).where(ContactIdentity.external_id == external_id)
    ).all())


def holder(
    session: Session, channel: str, external_id: str, workspace: str = HOME
) -> ContactIdentity | None:
    """The identity row that already has this key, if any (ids are unique per workspace)."""
    return session.exec(
        select(ContactIdentity).where(
            ContactIdentity.channel == channel, ContactIdentity.workspace == workspace,
            ContactIdentity.external_id == external_id)
    ).first()
