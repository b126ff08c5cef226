"""Message catalogue: every customer-visible text exists in English and Turkish.

Each handler module registers its own messages with :func:`register`; :func:`t` formats one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LANGUAGES = ("en", "tr")
_CATALOGUE: dict[str, dict[str, str]] = {}


def register(messages: Mapping[str, Mapping[str, str]]) -> None:
    """Add messages ``{key: {"en": ..., "tr": ...}}``; both languages are required."""
    for key, texts in messages.items():
        missing = [lang for lang in LANGUAGES if not texts.get(lang)]
        if missing:
            raise ValueError(f"message {key!r} lacks {', '.join(missing)}")
        if key in _CATALOGUE and _CATALOGUE[key] != dict(texts):
            raise ValueError(f"message {key!r} registered twice with different texts")
        _CATALOGUE[key] = dict(texts)


def t(key: str, lang: str | None, **kwargs: Any) -> str:
    """The message ``key`` in ``lang`` (English when unknown), formatted with ``kwargs``."""
    texts = _CATALOGUE[key]
    text = texts.get(lang or "en") or texts["en"]
    return text.format(**kwargs) if kwargs else text


def keys() -> list[str]:
    return sorted(_CATALOGUE)


def normalise_language(code: str | None) -> str | None:
    """``tr-TR`` → ``tr``; None for languages Destek does not speak."""
    if not code:
        return None
    short = code.split("-")[0].split("_")[0].lower()
    return short if short in LANGUAGES else None
