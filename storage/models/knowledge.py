"""The knowledge base and the OpenAI hook's subscriptions and usage."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from .base import _stamp


class KnownError(SQLModel, table=True):
    """Knowledge-base entry: a known error with its workaround (P22)."""

    __tablename__ = "known_errors"
    id: str = Field(primary_key=True, max_length=32)  # e.g. KE-0001
    title: str = Field(max_length=300)
    family: str | None = Field(default=None, max_length=64)
    product: str | None = Field(default=None, max_length=200)
    affected_versions: str | None = Field(default=None, max_length=200)
    symptoms: str = Field(default="", sa_type=Text)
    signatures: str = Field(default="[]", sa_type=Text)  # JSON list of strings / regexes
    workaround: str = Field(default="", sa_type=Text)
    fixed_in: str | None = Field(default=None, max_length=64)
    language: str = Field(default="en", max_length=2)
    body: str = Field(default="", sa_type=Text)
    published: bool = True
    source_ticket_id: int | None = Field(default=None)
    updated_at: datetime = _stamp()


class AISubscription(SQLModel, table=True):
    """Per-customer (and optionally per-product) OpenAI subscription (P26)."""

    __tablename__ = "ai_subscriptions"
    __table_args__ = (UniqueConstraint("customer_id", "product_id"),)
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    product_id: int | None = Field(default=None, foreign_key="products.id")
    api_key: str | None = Field(default=None, sa_type=Text)  # sealed (storage.sealed)
    base_url: str | None = Field(default=None, max_length=300)
    model: str | None = Field(default=None, max_length=100)


class AIUsage(SQLModel, table=True):
    __tablename__ = "ai_usage"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _stamp(index=True)
    customer_id: int | None = Field(default=None, index=True)
    product_id: int | None = None
    ticket_id: int | None = None
    model: str = Field(max_length=100)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    outcome: str = Field(max_length=32)  # ok | dropped | timeout | error | circuit-open
