"""Customers' planned work and product releases."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from .base import _stamp


class PlannedWork(SQLModel, table=True):
    """Planned upgrade/patch work announced by a customer (P19)."""

    __tablename__ = "planned_work"
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    contact_id: int = Field(foreign_key="contacts.id")
    product_id: int = Field(foreign_key="products.id")
    version: str = Field(max_length=64)
    day: date
    window: str = Field(max_length=32)
    status: str = Field(default="accepted", max_length=16)
    created_at: datetime = _stamp()


class Release(SQLModel, table=True):
    __tablename__ = "releases"
    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(foreign_key="products.id")
    version: str = Field(max_length=64)
    kind: str = Field(max_length=16)  # patch | package
    notes: str = Field(default="", sa_type=Text)
    created_at: datetime = _stamp()

