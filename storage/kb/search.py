"""Search of published known errors, used by self-help (P20) and Tier 2 (P22).

Candidates come from the database's own full-text index (:mod:`.search_index`), ranked by the
engine (bm25 / ts_rank) and then boosted by exact error-signature hits and the ticket's
product and version."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from ..models import KnownError, Product
from .normalise import fold, query_terms
from .search_index import FTS_TABLE, has_search_column
from .signatures import signature_hits
from .versions import version_affected, version_fixed

MAX_QUERY_TERMS = 64

# Weights of the final score; FTS relevance is normalised to 0..1 within a query.
SIGNATURE_BOOST = 3.0
PRODUCT_BOOST = 1.0
FAMILY_BOOST = 0.3
VERSION_BOOST = 0.5
FIXED_PENALTY = 0.5
LANGUAGE_BOOST = 0.2
KEEP_RAREST = 2  # query words searched when all of them are common
PRUNE_FROM = 1000  # entries from which common words are left out
COMMON = 0.05  # other words found in more than this share of entries are left out
RANK_WINDOW = 2000  # PostgreSQL: matches ranked at most
CANDIDATES = 40  # full-text candidates re-ranked with the boosts


@dataclass(frozen=True)
class KBMatch:
    """A known error found for a text, with its score (higher is better)."""

    entry: KnownError
    score: float


def _fts_candidates(session: Session, terms: list[str], n: int) -> list[tuple[str, float]]:
    """(id, relevance > 0) from the engine's own full-text index, best first."""
    conn = session.connection()
    terms, prefixes = _prune(conn, terms)
    if not terms and not prefixes:
        return []
    if conn.dialect.name == "postgresql":
        words = terms + [p + ":*" for p in prefixes]
        q = " | ".join(words)
        # ts_rank favours an entry repeating one word over a short entry holding every word
        # asked for (FTS5's bm25 does not): count the query words an entry covers first, and
        # normalise the rank by document length (flag 1) as bm25 does.
        params: dict[str, object] = {"q": q, "n": n, "w": RANK_WINDOW}
        covers = []
        for i, word in enumerate(words):
            params[f"t{i}"] = word
            covers.append(f"(k.search_tsv @@ to_tsquery('simple', :t{i}))::int")
        rows = conn.execute(
            text(
                # ts_rank reads every matching vector: a query of only common words is ranked
                # within its first RANK_WINDOW matches (it says little about any entry anyway).
                "SELECT id, cover + r / (1 + r) AS relevance FROM ("
                f"SELECT k.id, ts_rank(k.search_tsv, q, 1) AS r, {' + '.join(covers)} AS cover "
                "FROM (SELECT id, search_tsv "
                "FROM known_errors WHERE search_tsv @@ to_tsquery('simple', :q) AND published "
                "LIMIT :w) k, to_tsquery('simple', :q) q) ranked "
                "ORDER BY relevance DESC, id LIMIT :n"
            ),
            params,
        )
        return [(r[0], float(r[1])) for r in rows]
    parts = [f'"{t}"' for t in terms] + [f'"{p}"*' for p in prefixes]
    # Only the text column: kb_key exists so triggers can find a row by id without a scan.
    q = "search_text : (" + " OR ".join(parts) + ")"
    rows = conn.execute(
        text(
            f"SELECT f.kb_id, bm25({FTS_TABLE}) AS r FROM {FTS_TABLE} f "
            f"WHERE {FTS_TABLE} MATCH :q ORDER BY r LIMIT :n"
        ),
        {"q": q, "n": n},
    )
    return [(r[0], -float(r[1])) for r in rows]


_DF_CACHE: dict[tuple[str, str], tuple[int, float]] = {}
DF_CACHE_SECONDS = 600.0  # frequencies only steer pruning: a few minutes stale is harmless


def _document_frequencies(conn: Connection, terms: list[str], cap: int) -> dict[str, int]:
    """How many entries contain each word, up to ``cap`` (cached: common words cost most)."""
    url, now = str(conn.engine.url), time.monotonic()
    out: dict[str, int] = {}
    missing: list[str] = []
    for t in terms:
        hit = _DF_CACHE.get((url, t))
        if hit and now - hit[1] < DF_CACHE_SECONDS:
            out[t] = hit[0]
        else:
            missing.append(t)
    if missing:
        # One equality lookup per word (an IN list makes fts5vocab walk the whole vocabulary).
        if conn.dialect.name == "postgresql":
            # Counting stops at the cap: past it the word is "common" and that is all we need.
            sql = " UNION ALL ".join(
                f"SELECT :t{i}, (SELECT count(*) FROM (SELECT 1 FROM known_errors "
                f"WHERE search_tsv @@ to_tsquery('simple', :t{i}) LIMIT :cap) c)"
                for i in range(len(missing)))
        else:
            sql = " UNION ALL ".join(
                f"SELECT term, doc FROM {FTS_TABLE}_vocab WHERE term = :t{i}"
                for i in range(len(missing)))
        params: dict[str, Any] = {f"t{i}": t for i, t in enumerate(missing)}
        if conn.dialect.name == "postgresql":
            params["cap"] = cap
        found: dict[str, int] = {str(r[0]): int(r[1]) for r in conn.execute(text(sql), params)}
        if len(_DF_CACHE) > 50_000:
            _DF_CACHE.clear()
        for t in missing:
            out[t] = int(found.get(t, 0))
            if out[t]:  # an unknown word is asked again: a new entry may bring it any time
                _DF_CACHE[(url, t)] = (out[t], now)
    return out


_COUNT_CACHE: dict[str, tuple[int, float]] = {}


def _entry_count(conn: Connection) -> int:
    url, now = str(conn.engine.url), time.monotonic()
    hit = _COUNT_CACHE.get(url)
    if hit and now - hit[1] < 30:
        return hit[0]
    total = int(conn.execute(text("SELECT count(*) FROM known_errors")).scalar_one())
    _COUNT_CACHE[url] = (total, now)
    return total


def _prune(conn: Connection, terms: list[str]) -> tuple[list[str], list[str]]:
    """Drop query words most entries contain (they cost time and barely move bm25).

    When every word is common, the two rarest are kept. A long word the index does not know (often a
    Turkish inflection such as "kayıtlarında") is searched by its first five letters instead.
    """
    total = _entry_count(conn)
    df = _document_frequencies(conn, terms, int(COMMON * total) + 1 if total >= PRUNE_FROM else 1)
    known = sorted((t for t in terms if df.get(t)), key=lambda t: (df[t], t))
    if total < PRUNE_FROM:  # a small knowledge base is quick to search with every word
        kept = known
    else:
        kept = [t for t in known if df[t] <= COMMON * total] or known[:KEEP_RAREST]
    prefixes = list(dict.fromkeys(t[:5] for t in terms if not df.get(t) and len(t) >= 7))
    return kept, prefixes


def _scan_candidates(session: Session, terms: list[str], n: int) -> list[tuple[str, float]]:
    """Plain LIKE scan: the fallback without the index and the benchmark's baseline."""
    from sqlalchemy import func, or_

    hay = func.lower(KnownError.title + " " + KnownError.symptoms + " " + KnownError.signatures
                     + " " + KnownError.workaround)
    cond = or_(*(hay.like(f"%{t}%") for t in terms))
    out: list[tuple[str, float]] = []
    for entry in session.exec(select(KnownError).where(cond, col(KnownError.published))):
        h = fold(" ".join([entry.title, entry.symptoms, entry.signatures, entry.workaround]))
        score = float(sum(1 for t in terms if t in h))
        if score:
            out.append((entry.id, score))
    out.sort(key=lambda x: (-x[1], x[0]))
    return out[:n]


def _index_present(session: Session) -> bool:
    return has_search_column(session.connection())


def search_known_errors(
    session: Session,
    text: str,
    *,
    product: str | None = None,
    version: str | None = None,
    language: str | None = None,
    limit: int = 3,
    method: str = "fts",
) -> list[KBMatch]:
    """Best published known errors for ``text``, boosted by signatures, product and version.

    ``method="scan"`` uses a plain LIKE scan (baseline for the benchmark; also the automatic
    fallback on a schema without the full-text index). Only the first ``MAX_QUERY_TERMS``
    distinct words are searched (signatures are still matched against the whole text): a
    pasted log of 500+ distinct words went past SQLite's 500 terms in a compound SELECT.
    """
    terms = query_terms(text)[:MAX_QUERY_TERMS]
    if not terms or limit <= 0:
        return []
    pool = max(CANDIDATES, limit * 4)
    if method == "fts" and _index_present(session):
        cands = _fts_candidates(session, terms, pool)
    else:
        cands = _scan_candidates(session, terms, pool)
    if not cands:
        return []
    top = max(r for _, r in cands) or 1.0
    rel = {kb_id: r / top for kb_id, r in cands}
    entries = session.exec(select(KnownError).where(col(KnownError.id).in_(list(rel)))).all()
    family = None
    if product:
        family = session.exec(select(Product.family).where(Product.name == product)).first()
    folded = fold(text)
    pf = fold(product) if product else None
    out: list[KBMatch] = []
    for e in entries:
        score = rel[e.id]
        hits = signature_hits(e, text, folded)
        if hits:
            score += SIGNATURE_BOOST + 0.5 * (hits - 1)
        if pf and e.product and fold(e.product) == pf:
            score += PRODUCT_BOOST
            if version_affected(version, e.affected_versions):
                score += VERSION_BOOST
            if version_fixed(version, e.fixed_in):
                score -= FIXED_PENALTY
        elif family and e.family == family:
            score += FAMILY_BOOST
        if language and e.language == language:
            score += LANGUAGE_BOOST
        out.append(KBMatch(e, round(score, 4)))
    out.sort(key=lambda m: (-m.score, m.entry.id))
    return out[:limit]
