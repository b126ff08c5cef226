"""Which OpenAI endpoint, key and model serve a customer, and an SDK client for it.

A per-product subscription wins over a per-customer one, which wins over the global key. Keys
stay out of prompts, logs, events and listings (:func:`mask`)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

import openai
from sqlmodel import Session, select

from storage.models import AISubscription
from storage.sealed import Sealer, SecretKeyError

from ..config import Settings

MAX_RETRIES = 2
AZURE_API_VERSION = "2024-10-21"

log = logging.getLogger("destek.ai")


def mask(key: str | None) -> str:
    """``sk-…wxyz``: enough to tell keys apart, never enough to use one."""
    if not key:
        return ""
    return (key[:3] + "…" + key[-4:]) if len(key) > 10 else "…"


@dataclass(frozen=True)
class Route:
    """Which endpoint, key and model serve one customer (and product)."""

    api_key: str
    base_url: str | None
    model: str
    source: str  # product | customer | global

    @property
    def endpoint(self) -> str:
        """Breaker key: the endpoint plus a fingerprint of the key (never the key itself)."""
        fp = hashlib.sha256(self.api_key.encode()).hexdigest()[:12]
        return f"{self.base_url or 'openai'}#{fp}"

    @property
    def azure(self) -> bool:
        return bool(self.base_url and ".openai.azure.com" in self.base_url)


def resolve_route(session: Session, settings: Settings, customer_id: int | None,
                  product_id: int | None) -> Route | None:
    """Per-product subscription over per-customer over the global key; None: hook is off."""
    layers: list[tuple[str, Any]] = []
    if customer_id is not None:
        rows = session.exec(select(AISubscription).where(
            AISubscription.customer_id == customer_id)).all()
        by_product = {r.product_id: r for r in rows}
        if product_id is not None and product_id in by_product:
            layers.append(("product", by_product[product_id]))
        if None in by_product:
            layers.append(("customer", by_product[None]))
    key = base = model = None
    source = "global"
    sealer = Sealer.from_setting(settings.secret_keys)
    for name, row in layers:
        if key is None and row.api_key:
            try:
                key, source = sealer.open(row.api_key), name
            except SecretKeyError as exc:
                # The customer pays for their own calls (P26): never fall back to ours.
                log.error("AI hook off for customer %s: %s", customer_id, exc)
                return None
        base = base or row.base_url
        model = model or row.model
    key = key or settings.openai_api_key
    if not key:
        return None
    return Route(key, base or settings.openai_base_url, model or settings.openai_model, source)


def make_client(route: Route, timeout: float,
                max_retries: int = MAX_RETRIES) -> openai.AsyncOpenAI:
    """An SDK client for ``route`` (OpenAI-compatible or Azure OpenAI)."""
    if route.azure:
        return openai.AsyncAzureOpenAI(
            api_key=route.api_key, azure_endpoint=route.base_url or "",
            api_version=AZURE_API_VERSION, timeout=timeout, max_retries=max_retries,
        )
    return openai.AsyncOpenAI(api_key=route.api_key, base_url=route.base_url, timeout=timeout,
                              max_retries=max_retries)
