"""Knowledge base of known errors: search used by self-help (P20) and Tier 2 (P22).

A plain case-insensitive text search for now; the knowledge-base issue replaces it with the
database's own full-text search. Signature of :func:`search_known_errors` stays.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from .models import KnownError


@dataclass(frozen=True)
class KBMatch:
    entry: KnownError
    score: float


def search_known_errors(
    session: Session,
    text: str,
    *,
    product: str | None = None,
    version: str | None = None,
    language: str | None = None,
    limit: int = 3,
) -> list[KBMatch]:
    """Best published known errors for ``text`` (title, symptoms, signatures)."""
    words = {w.casefold() for w in text.split() if len(w) > 3}
    if not words:
        return []
    out: list[KBMatch] = []
    for entry in session.exec(select(KnownError).where(KnownError.published == True)):  # noqa: E712
        hay = " ".join([entry.title, entry.symptoms, entry.signatures]).casefold()
        score = float(sum(1 for w in words if w in hay))
        if product and entry.product == product:
            score += 0.5
        if score >= 1:
            out.append(KBMatch(entry, score))
    out.sort(key=lambda m: -m.score)
    return out[:limit]
