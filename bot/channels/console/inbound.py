"""A typed line as a neutral :class:`~handlers.types.Incoming`: a file path is an attachment,
``/verb args`` a command, anything else text."""

from __future__ import annotations

import mimetypes
import shlex
from pathlib import Path

from handlers.types import Incoming, IncomingFile

CHANNEL = "console"


def to_incoming(user_key: str, line: str) -> Incoming:
    """One typed line as a platform-neutral message."""
    text = line.strip()
    path = _as_path(text)  # before commands: /home/... is a file, not a command
    if path is not None:
        ctype = mimetypes.guess_type(path.name)[0]
        data = path.read_bytes()
        return Incoming(CHANNEL, user_key, user_key, files=(IncomingFile(path.name, data, ctype),))
    if text.startswith("/") and len(text) > 1:
        parts = text[1:].split()
        return Incoming(CHANNEL, user_key, user_key, command=parts[0].lower(),
                        args=tuple(parts[1:]))
    return Incoming(CHANNEL, user_key, user_key, text=text)


def _as_path(text: str) -> Path | None:
    if not text or len(text) > 1024:
        return None
    try:
        candidate = shlex.split(text)[0] if text[0] in "'\"" else text
    except ValueError:
        return None
    path = Path(candidate).expanduser()
    try:
        return path if path.is_file() else None
    except OSError:
        return None
