"""The dashboard's server-side sessions and its failed-login record (see :mod:`bot.web`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from ..types import UTCDateTime
from .base import _stamp


class DashboardSession(SQLModel, table=True):
    """A logged-in browser. Only the SHA-256 of the cookie's random token is stored, so a copy
    of the database logs nobody in; logging out deletes the row, so a copied cookie stops
    working at once."""

    __tablename__ = "dashboard_sessions"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)  # hex SHA-256 of the cookie's token
    contact_id: int = Field(foreign_key="contacts.id", index=True)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    created_at: datetime = _stamp()


class LoginFailure(SQLModel, table=True):
    """One refused dashboard login, counted per account and per client address over a window
    (in the database, so every replica counts the same failures)."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_scope_key_at", "scope", "key", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=16)  # account | address
    key: str = Field(max_length=200)  # contact:<id>, name:<typed name, folded>, or the address
    at: datetime = Field(sa_type=UTCDateTime)
