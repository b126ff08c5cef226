"""Prompt templates, versioned by file: ``<name>_v<N>.<lang>.md`` (English and Turkish).

A new wording is a new file (``workaround_v2.en.md``), so usage records and reviews can say
exactly which prompt produced a suggestion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

PROMPTS_DIR = Path(__file__).parent
_NAME_RE = re.compile(r"^(?P<name>[a-z0-9_]+)_v(?P<version>\d+)\.(?P<lang>[a-z]{2})\.md$")


class PromptNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Prompt:
    name: str
    version: int
    lang: str
    text: str

    @property
    def ref(self) -> str:
        """``workaround_v1.tr``: what usage records and events cite."""
        return f"{self.name}_v{self.version}.{self.lang}"


def available(name: str) -> dict[tuple[int, str], Path]:
    """Every version and language of ``name``."""
    out: dict[tuple[int, str], Path] = {}
    for p in PROMPTS_DIR.glob(f"{name}_v*.md"):
        m = _NAME_RE.match(p.name)
        if m and m.group("name") == name:
            out[(int(m.group("version")), m.group("lang"))] = p
    return out


def load(name: str, lang: str | None = "en", version: int | None = None) -> Prompt:
    """The template ``name`` in ``lang`` (English when that language is missing).

    ``version=None`` takes the newest version that exists in English.
    """
    files = available(name)
    if not files:
        raise PromptNotFound(f"no prompt named {name!r} in {PROMPTS_DIR}")
    if version is None:
        version = max(v for v, lg in files if lg == "en")
    lang = lang or "en"
    path = files.get((version, lang)) or files.get((version, "en"))
    if path is None:
        raise PromptNotFound(f"prompt {name!r} has no version {version}")
    used = lang if (version, lang) in files else "en"
    return Prompt(name, version, used, path.read_text(encoding="utf-8").strip())
