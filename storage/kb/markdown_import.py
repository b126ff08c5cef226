"""Known errors written as Markdown with YAML front matter: parsing one, importing a folder."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session

from .entries import ImportChange, upsert
from .signatures import looks_like_pattern

ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")


class KBError(ValueError):
    """Bad knowledge-base input; the message says what and where."""


_SECTIONS = {
    "symptoms": ("symptoms", "belirtiler", "semptomlar"),
    "workaround": ("workaround", "geçici çözüm", "gecici cozum", "çözüm yolu", "cozum"),
}


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
        if isinstance(s, str) and looks_like_pattern(s):
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
