"""The commercial side of the hook (P26): OpenAI subscriptions per customer (and product), with
keys masked in listings, and the monthly usage breakdown for billing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from storage.models import AISubscription, AIUsage, Customer, Product
from storage.sealed import Sealer, SecretKeyError

from .endpoints import mask

# Outcomes of a call as recorded in ai_usage; the usage report has a column for each.
OUTCOMES = ("ok", "dropped", "timeout", "error", "circuit-open")


def set_subscription(session: Session, customer: Customer, product: Product | None,
                     api_key: str, base_url: str | None, model: str | None,
                     sealer: Sealer) -> AISubscription:
    """Create or replace the subscription of a customer (and product); the key is stored
    sealed (P26: the vendor secures the customer's subscription)."""
    pid = product.id if product else None
    same_product = (col(AISubscription.product_id) == pid if pid is not None
                    else col(AISubscription.product_id).is_(None))
    row = session.exec(select(AISubscription).where(
        AISubscription.customer_id == customer.id, same_product)).first()
    if row is None:
        row = AISubscription(customer_id=customer.id,  # type: ignore[arg-type]
                             product_id=product.id if product else None)
    row.api_key, row.base_url, row.model = sealer.seal(api_key), base_url, model
    session.add(row)
    session.flush()
    return row


def reseal_keys(session: Session, sealer: Sealer) -> int:
    """Seal every stored key under the first configured key (keys stored in plain text before
    sealing, and keys of an older secret); how many rows changed."""
    changed = 0
    for row in session.exec(select(AISubscription)):
        resealed = sealer.reseal(row.api_key)
        if resealed != row.api_key:
            row.api_key = resealed
            session.add(row)
            changed += 1
    return changed


def subscriptions(session: Session, sealer: Sealer) -> list[dict[str, Any]]:
    """Every subscription with its key masked (and whether it is sealed at rest)."""
    out = []
    for row, code in session.exec(select(AISubscription, Customer.code).join(
            Customer, col(Customer.id) == AISubscription.customer_id)).all():
        product = session.get(Product, row.product_id) if row.product_id else None
        out.append({"customer": code, "product": product.name if product else "(all)",
                    "key": _masked(sealer, row.api_key),
                    "sealed": "yes" if Sealer.is_sealed(row.api_key) else "NO",
                    "base_url": row.base_url or "", "model": row.model or ""})
    out.sort(key=lambda r: (r["customer"], r["product"]))
    return out


def _masked(sealer: Sealer, stored: str | None) -> str:
    try:
        return mask(sealer.open(stored))
    except SecretKeyError:
        return "(sealed)"


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """``2026-11`` → [1 Nov 00:00 UTC, 1 Dec 00:00 UTC)."""
    try:
        y, m = (int(p) for p in month.split("-"))
        start = datetime(y, m, 1, tzinfo=UTC)
    except ValueError:
        raise ValueError(f"month {month!r} must look like 2026-11") from None
    end = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=UTC)
    return start, end


def usage_report(session: Session, month: str,
                 customer_code: str | None = None) -> list[dict[str, Any]]:
    """Monthly breakdown per customer, product and model: calls, tokens, outcomes (P26)."""
    start, end = month_bounds(month)
    q = select(AIUsage).where(AIUsage.at >= start, AIUsage.at < end)
    codes = {c.id: c.code for c in session.exec(select(Customer))}
    if customer_code is not None:
        ids = [i for i, c in codes.items() if c == customer_code]
        if not ids:
            raise ValueError(f"no customer {customer_code!r}")
        q = q.where(AIUsage.customer_id == ids[0])
    products = {p.id: p.name for p in session.exec(select(Product))}
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for u in session.exec(q):
        key = (codes.get(u.customer_id, "(none)") if u.customer_id else "(none)",
               products.get(u.product_id, "(none)") if u.product_id else "(none)", u.model)
        g = groups.setdefault(key, {
            "customer": key[0], "product": key[1], "model": key[2], "calls": 0,
            "prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0,
            **{o: 0 for o in OUTCOMES},
        })
        g["calls"] += 1
        g["prompt_tokens"] += u.prompt_tokens
        g["completion_tokens"] += u.completion_tokens
        g["total_tokens"] += u.prompt_tokens + u.completion_tokens
        g[u.outcome] = g.get(u.outcome, 0) + 1
    return [groups[k] for k in sorted(groups)]
