"""The dashboard's static files (``bot/web/static``), served as files of the app
(``/static/dashboard.css``, ``/static/ticker.js``) so the Content-Security-Policy can forbid
every inline script and style. Only the files named here are served; nothing of the URL
reaches the filesystem.

The script reads the ticket list from ``<script type="application/json" id="tickets-data">``
(JSON with ``<``, ``>`` and ``&`` as ``\\u003c``…, so no data can end or comment out that
element) and the refresh interval from ``data-refresh`` on ``#tickets``; it writes every value
into the table through ``textContent``-safe escaping, and puts the browser's time zone in the
``destek_tz`` cookie.
"""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
KINDS = {"dashboard.css": "text/css", "ticker.js": "text/javascript"}


def static_files() -> dict[str, tuple[str, str]]:
    """``name -> (text, media type)`` of every static file, read once at start."""
    return {name: ((STATIC_DIR / name).read_text(encoding="utf-8"), kind)
            for name, kind in KINDS.items()}
