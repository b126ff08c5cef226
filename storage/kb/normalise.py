"""Text normalisation shared by the index and the queries: Turkish-aware case and accent folding,
word tokens and the query words that carry meaning."""

from __future__ import annotations

import re
import unicodedata

_TOKEN_RE = re.compile(r"[^\W_]+")

# Query words too common to carry meaning (the index keeps them; the query drops them).
STOPWORDS = frozenset(
    """a an and are as at be but by for from has have in is it its not of on or that the this
    to was were when with after before all any can cannot no our we you your does did do
    ve veya ile bir bu su da de ki mi mu icin gibi daha cok olan olarak sonra once her hic
    ama fakat ya yok var degil ne nasil""".split()
)
# Turkish dotted/dotless I: map every form to plain "i" so "KAYIT", "kayıt", "Kayit" agree.
_TR_I = {ord("İ"): "i", ord("I"): "i", ord("ı"): "i"}


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
