"""Small text rules every handler shares: NUL characters out, long text clipped."""

from __future__ import annotations

from collections.abc import Callable


def strip_nul(text: str) -> str:
    """Text without NUL characters (never meaningful in chat; PostgreSQL refuses them)."""
    return text.replace("\x00", "")


def shorten(text: str, n: int) -> str:
    """``text`` cut to ``n`` characters with an ellipsis, its lines kept (a pasted log)."""
    text = text.strip()
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def clip(text: str, n: int) -> str:
    """``text`` on one line, cut to ``n`` characters with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def line_parts(text: str, limit: int, size: Callable[[str], int] = len,
               cut: Callable[[str, int], int] | None = None) -> list[str]:
    """``text`` in parts of at most ``limit`` (as ``size`` measures), cut at line ends where
    it can; a longer line is cut where it must: at ``cut(line, limit)`` (a platform's rule,
    e.g. never inside an entity), else at the longest prefix that fits. Empty parts dropped."""
    def fits(line: str) -> int:
        if cut is not None:
            return cut(line, limit)
        end = min(len(line), limit)
        while end > 1 and size(line[:end]) > limit:
            end -= max(1, (size(line[:end]) - limit + 1) // 2)  # a character may count twice
        return end

    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while size(line) > limit:
            at = fits(line)
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:at])
            line = line[at:]
        joined = f"{current}\n{line}" if current else line
        if size(joined) > limit:
            parts.append(current)
            current = line
        else:
            current = joined
    if current:
        parts.append(current)
    return [p for p in parts if p.strip()] or [text[:limit]]
