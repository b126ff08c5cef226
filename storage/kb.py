"""Knowledge base of known errors: search used by self-help (P20) and Tier 2 (P22).

Search runs on the database's own full-text index (migration 0002): an FTS5 table kept in step
by triggers on SQLite, a generated ``tsvector`` column with a GIN index on PostgreSQL. Both index
``known_errors.search_text``, a normalised text computed here in Python (:func:`fold`) because
neither SQLite's unicode61 tokenizer nor PostgreSQL's 'simple' configuration folds Turkish
dotted/dotless I (İ/I/ı/i). Queries go through the same normalisation. Ranking is the engine's
(bm25 / ts_rank) boosted by exact error-signature hits and the ticket's product and version.
"""

from __future__ import annotations

import functools
import json
import re
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from .clock import clock_of
from .models import KnownError, Product

FTS_TABLE = "known_errors_fts"
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
_TOKEN_RE = re.compile(r"[^\W_]+")


def _looks_like_pattern(sig: str) -> bool:
    """A /.../ signature with regex syntax in it: the old pattern form, no longer run."""
    return (len(sig) > 2 and sig.startswith("/") and sig.endswith("/")
            and any(c in sig for c in "\\()[]+*?{}|"))


MAX_QUERY_TERMS = 64

# Query words too common to carry meaning (the index keeps them; the query drops them).
STOPWORDS = frozenset(
    """a an and are as at be but by for from has have in is it its not of on or that the this
    to was were when with after before all any can cannot no our we you your does did do
    ve veya ile bir bu su da de ki mi mu icin gibi daha cok olan olarak sonra once her hic
    ama fakat ya yok var degil ne nasil""".split()
)
# Turkish dotted/dotless I: map every form to plain "i" so "KAYIT", "kayıt", "Kayit" agree.
_TR_I = {ord("İ"): "i", ord("I"): "i", ord("ı"): "i"}

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

FIELDS = ("title", "family", "product", "affected_versions", "symptoms", "signatures",
          "workaround", "fixed_in", "language", "body", "published")


class KBError(ValueError):
    """Bad knowledge-base input; the message says what and where."""


@dataclass(frozen=True)
class KBMatch:
    entry: KnownError
    score: float


# -- normalisation ---------------------------------------------------------------------------


def fold(value: str) -> str:
    """Case- and accent-folded text, Turkish-aware: İ/I/ı/i → i, ş → s, ğ → g, ü → u …"""
    if value.isascii():
        return value.lower()
    folded = value.translate(_TR_I).casefold()
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("ı", "i")


def tokens(value: str) -> list[str]:
    """Folded word tokens (letters and digits; punctuation and underscores separate)."""
    return _TOKEN_RE.findall(fold(value))


def query_terms(value: str) -> list[str]:
    """Distinct meaningful query tokens, in order."""
    seen: dict[str, None] = {}
    for tok in tokens(value):
        if (len(tok) >= 2 or tok.isdigit()) and tok not in STOPWORDS:
            seen.setdefault(tok, None)
    return list(seen)


def existing_ids(session: Session, candidates: set[str]) -> set[str]:
    """Which of ``candidates`` are ids of known errors (looked up, never guessed by shape)."""
    found: set[str] = set()
    chunk = sorted(candidates)
    for i in range(0, len(chunk), 500):
        found |= set(session.exec(select(KnownError.id).where(
            col(KnownError.id).in_(chunk[i:i + 500]))))
    return found


def signature_list(entry: KnownError) -> list[str]:
    try:
        sigs = json.loads(entry.signatures or "[]")
    except ValueError:
        return [entry.signatures] if entry.signatures else []
    return [str(s) for s in sigs if str(s).strip()] if isinstance(sigs, list) else []


def search_text_for(entry: KnownError | dict[str, Any]) -> str:
    """The normalised text the full-text index holds for one entry."""
    get = entry.get if isinstance(entry, dict) else lambda k, d=None: getattr(entry, k, d)
    sigs = get("signatures") or "[]"
    try:
        # Regex signatures are indexed by their literal words (escapes such as \d dropped).
        sig_text = " ".join(re.sub(r"\\[A-Za-z]", " ", str(s)) for s in json.loads(sigs))
    except (ValueError, TypeError):
        sig_text = str(sigs)
    parts = [get("id", ""), get("title", ""), get("title", ""), get("product", "") or "",
             get("symptoms", ""), sig_text, sig_text, get("workaround", ""), get("body", "")]
    return " ".join(tokens(" ".join(p or "" for p in parts)))


# -- keeping search_text current -------------------------------------------------------------

_HAS_SEARCH: dict[str, bool] = {}


def _has_search_column(conn: Connection) -> bool:
    """Whether migration 0002 ran on this database (schemas made by create_all lack it)."""
    key = str(conn.engine.url)
    if key not in _HAS_SEARCH:
        cols = {c["name"] for c in inspect(conn).get_columns("known_errors")}
        if "search_text" not in cols:
            return False  # asked again next time: an upgrade may add it while we run
        _HAS_SEARCH[key] = True
    return _HAS_SEARCH[key]


@event.listens_for(KnownError, "after_insert")
@event.listens_for(KnownError, "after_update")
def _store_search_text(_mapper: Any, conn: Connection, target: KnownError) -> None:
    # The column is not on the model: the index is an implementation detail of this module.
    if _has_search_column(conn):
        conn.execute(text("UPDATE known_errors SET search_text = :t WHERE id = :id"),
                     {"t": search_text_for(target), "id": target.id})


def reindex(session: Session) -> int:
    """Recompute ``search_text`` of every entry (after a bulk load); returns the count."""
    conn = session.connection()
    n = 0
    for entry in session.exec(select(KnownError)):
        conn.execute(text("UPDATE known_errors SET search_text = :t WHERE id = :id"),
                     {"t": search_text_for(entry), "id": entry.id})
        n += 1
    return n


# -- versions --------------------------------------------------------------------------------


def _vkey(v: str) -> tuple[int, ...] | None:
    parts = re.findall(r"\d+", v)
    return tuple(int(p) for p in parts) if parts else None


def _cmp(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    n = max(len(a), len(b))
    a2, b2 = a + (0,) * (n - len(a)), b + (0,) * (n - len(b))
    return (a2 > b2) - (a2 < b2)


def version_affected(version: str | None, affected: str | None) -> bool:
    """Whether ``version`` falls in ``affected`` ("4.2", "4.x", "4.0-4.2", ">=4.0,<4.3", "*")."""
    if not version or not affected:
        return False
    v = _vkey(version)
    if v is None:
        return False
    items = [i.strip() for i in re.split(r"[,;]|\s+or\s+", affected) if i.strip()]
    comparators = [i for i in items if i[:1] in "<>="]
    plain = [i for i in items if i[:1] not in "<>="]
    for item in plain:
        if item in ("*", "all", "any"):
            return True
        if "-" in item and not item.startswith("-"):
            lo_s, hi_s = (s.strip() for s in item.split("-", 1))
            lo, hi = _vkey(lo_s), _vkey(hi_s)
            if lo and hi and _cmp(v, lo) >= 0 and _cmp(v, hi) <= 0:
                return True
            continue
        if item.endswith((".x", ".*")):
            pre = _vkey(item[:-2])
            if pre and v[: len(pre)] == pre:
                return True
            continue
        k = _vkey(item)
        if k and (_cmp(v, k) == 0 or v[: len(k)] == k):
            return True
    if comparators:
        ok = True
        for c in comparators:
            m = re.match(r"(>=|<=|>|<|==|=)\s*(.+)", c)
            k = _vkey(m.group(2)) if m else None
            if not m or k is None:
                return False
            r = _cmp(v, k)
            ok = ok and {">=": r >= 0, "<=": r <= 0, ">": r > 0, "<": r < 0,
                         "==": r == 0, "=": r == 0}[m.group(1)]
        return ok
    return False


def version_fixed(version: str | None, fixed_in: str | None) -> bool:
    """Whether ``version`` already contains the fix."""
    v, f = _vkey(version or ""), _vkey(fixed_in or "")
    return bool(v and f and _cmp(v, f) >= 0)


# -- search ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _fold_sig(sig: str) -> str:
    return fold(sig).strip()


def signature_hits(entry: KnownError, raw: str, folded: str | None = None) -> int:
    """How many of the entry's error signatures appear in ``raw``.

    A signature is literal text, matched ignoring case and accents: signatures come from
    customers' error texts (``kb add N``), and one compiled as a pattern (``/(x+x+)+y/``) once
    froze the whole bot on every incoming message. A substring test is linear.
    """
    folded = fold(raw) if folded is None else folded
    return sum(1 for sig in signature_list(entry) if (f := _fold_sig(sig)) and f in folded)


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
    return _has_search_column(session.connection())


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


# -- import ----------------------------------------------------------------------------------

_SECTIONS = {
    "symptoms": ("symptoms", "belirtiler", "semptomlar"),
    "workaround": ("workaround", "geçici çözüm", "gecici cozum", "çözüm yolu", "cozum"),
}


@dataclass
class ImportChange:
    id: str
    status: str  # added | updated | unchanged
    fields: list[str] = field(default_factory=list)
    path: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "fields": self.fields, "path": self.path}


def _split_front_matter(raw: str, where: str) -> tuple[dict[str, Any], str]:
    raw = raw.lstrip("\ufeff")
    if not raw.startswith("---"):
        raise KBError(f"{where}: no YAML front matter (the file must start with '---')")
    parts = raw.split("\n---", 1)
    if len(parts) != 2:
        raise KBError(f"{where}: front matter is not closed by a '---' line")
    head = parts[0][3:]
    body = parts[1].split("\n", 1)[1] if "\n" in parts[1] else ""
    try:
        meta = yaml.safe_load(head) or {}
    except yaml.YAMLError as exc:
        raise KBError(f"{where}: front matter is not valid YAML: {exc}") from None
    if not isinstance(meta, dict):
        raise KBError(f"{where}: front matter must be a mapping of fields")
    return meta, body.strip()


def _sections(body: str) -> dict[str, str]:
    out: dict[str, str] = {}
    current: str | None = None
    lines: list[str] = []

    def flush() -> None:
        if current and "\n".join(lines).strip():
            out[current] = "\n".join(lines).strip()

    for line in body.splitlines():
        m = re.match(r"^#{1,6}\s+(.+?)\s*$", line)
        if m:
            flush()
            heading = m.group(1).strip().lower()
            current = next((k for k, names in _SECTIONS.items()
                            if any(heading.startswith(n) for n in names)), None)
            lines = []
        elif current:
            lines.append(line)
    flush()
    return out


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value).strip()


def parse_entry(raw: str, where: str = "<text>") -> dict[str, Any]:
    """Fields of one known error from Markdown with YAML front matter."""
    meta, body = _split_front_matter(raw, where)
    kb_id = _as_text(meta.get("id"))
    if not kb_id or not ID_RE.match(kb_id):
        raise KBError(f"{where}: 'id' is missing or not a short code like KE-0001")
    title = _as_text(meta.get("title"))
    if not title:
        raise KBError(f"{where}: 'title' is missing")
    sections = _sections(body)
    sigs = meta.get("signatures", meta.get("error_signatures", []))
    if isinstance(sigs, str):
        sigs = [sigs]
    if not isinstance(sigs, list):
        raise KBError(f"{where}: 'signatures' must be a list of strings")
    for s in sigs:
        if isinstance(s, str) and _looks_like_pattern(s):
            raise KBError(f"{where}: signature {s!r} looks like a /pattern/: signatures are "
                          "literal text (matched ignoring case and accents)")
    language = (_as_text(meta.get("language")) or "en").lower()
    if language not in ("en", "tr"):
        raise KBError(f"{where}: language {language!r} must be en or tr")
    published = meta.get("published", True)
    return {
        "id": kb_id,
        "title": title[:300],
        "family": _as_text(meta.get("family") or meta.get("product_family")),
        "product": _as_text(meta.get("product")),
        "affected_versions": _as_text(meta.get("affected_versions") or meta.get("versions")),
        "symptoms": _as_text(meta.get("symptoms")) or sections.get("symptoms", ""),
        "signatures": json.dumps([str(s) for s in sigs], ensure_ascii=False),
        "workaround": _as_text(meta.get("workaround")) or sections.get("workaround", ""),
        "fixed_in": _as_text(meta.get("fixed_in") or meta.get("fixed_in_version")),
        "language": language,
        "body": body,
        "published": bool(published),
    }


def upsert(session: Session, data: dict[str, Any], path: str = "") -> ImportChange:
    """Insert or update one entry by id; reports which fields changed."""
    entry = session.get(KnownError, data["id"])
    if entry is None:
        entry = KnownError(**data)
        session.add(entry)
        session.flush()
        return ImportChange(data["id"], "added", [], path)
    changed = [f for f in FIELDS if f in data and getattr(entry, f) != data[f]]
    if not changed:
        return ImportChange(entry.id, "unchanged", [], path)
    for f in changed:
        setattr(entry, f, data[f])
    entry.updated_at = clock_of(session)()
    session.add(entry)
    session.flush()
    return ImportChange(entry.id, "updated", changed, path)


def import_dir(session: Session, directory: str | Path) -> list[ImportChange]:
    """Import every ``*.md`` in ``directory`` (re-import updates by id).

    All files are checked first: one bad file raises :class:`KBError` and changes nothing.
    """
    d = Path(directory)
    if not d.is_dir():
        raise KBError(f"{d}: not a folder")
    files = sorted(p for p in d.glob("*.md") if p.is_file() and p.name.lower() != "readme.md")
    if not files:
        raise KBError(f"{d}: no Markdown (*.md) files")
    parsed: list[tuple[dict[str, Any], str]] = []
    errors: list[str] = []
    seen: dict[str, str] = {}
    for p in files:
        try:
            data = parse_entry(p.read_text(encoding="utf-8"), p.name)
        except (KBError, UnicodeDecodeError) as exc:
            errors.append(str(exc))
            continue
        if data["id"] in seen:
            errors.append(f"{p.name}: id {data['id']} already used by {seen[data['id']]}")
            continue
        seen[data["id"]] = p.name
        parsed.append((data, p.name))
    if errors:
        raise KBError("; ".join(errors))
    return [upsert(session, data, name) for data, name in parsed]


def list_entries(session: Session) -> list[KnownError]:
    return list(session.exec(select(KnownError).order_by(col(KnownError.id))))


def next_id(session: Session, prefix: str = "KE-") -> str:
    """The next free ``KE-NNNN`` id."""
    ids = session.exec(select(KnownError.id).where(col(KnownError.id).startswith(prefix))).all()
    numbers = [int(m.group(1)) for i in ids if (m := re.match(rf"^{re.escape(prefix)}(\d+)$", i))]
    return f"{prefix}{(max(numbers) if numbers else 0) + 1:04d}"


def entry_dict(entry: KnownError) -> dict[str, Any]:
    return {
        "id": entry.id, "title": entry.title, "family": entry.family, "product": entry.product,
        "affected_versions": entry.affected_versions, "symptoms": entry.symptoms,
        "signatures": signature_list(entry), "workaround": entry.workaround,
        "fixed_in": entry.fixed_in, "language": entry.language, "published": entry.published,
        "source_ticket_id": entry.source_ticket_id,
    }

