"""Version ranges of known errors: which versions an entry affects and which contain its fix."""

from __future__ import annotations

import re


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
