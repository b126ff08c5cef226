"""Small text rules every handler shares: NUL characters out, long text clipped."""

from __future__ import annotations


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
