"""Error signatures of known errors: literal texts, matched ignoring case and accents."""

from __future__ import annotations

import functools
import json

from ..models import KnownError
from .normalise import fold


def signature_list(entry: KnownError) -> list[str]:
    """The entry's error signatures (stored as a JSON list; a bare string is one signature)."""
    try:
        sigs = json.loads(entry.signatures or "[]")
    except ValueError:
        return [entry.signatures] if entry.signatures else []
    return [str(s) for s in sigs if str(s).strip()] if isinstance(sigs, list) else []


def looks_like_pattern(sig: str) -> bool:
    """A /.../ signature with regex syntax in it: the old pattern form, no longer run."""
    return (len(sig) > 2 and sig.startswith("/") and sig.endswith("/")
            and any(c in sig for c in "\\()[]+*?{}|"))


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
