"""What every channel's sender is handed and may answer: the outbound contract of the outbox.

The delivery worker (:mod:`bot.jobs.delivery`) claims queued rows and gives each channel's
:class:`Sender` an :class:`Outgoing`; the sender delivers it through the platform's client
library and returns the platform's message id, or raises :class:`RetryLater` (rate limited)
or :class:`PermanentFailure` (refused for good). Any other error is retried with backoff.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from handlers.types import Choice
from storage.models import OutboxMessage

# last_error prefix of a row whose previous attempt may have reached the channel.
MAYBE_SENT = "maybe sent: "


class RetryLater(Exception):
    """The channel asked us to wait (rate limit) before trying again."""

    def __init__(self, seconds: float, reason: str = "rate limited") -> None:
        super().__init__(f"{reason}; retry after {seconds:g}s")
        self.seconds = seconds


class PermanentFailure(Exception):
    """The channel refused the message for good (unknown channel, forbidden, bad request)."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What a sender needs from an outbox row (detached from the session)."""

    id: int
    key: str
    channel: str
    target: str
    thread: str | None
    text: str
    late: bool
    maybe_sent: bool = False  # a previous attempt may have been delivered
    created_at: datetime | None = None
    # What the message carries besides text: {"kind": "ticket_opened", "ticket": N} becomes a
    # Slack card with the engineers' buttons; {"file": PATH} is uploaded with the text;
    # {"choices": [[VALUE, LABEL], ...], "step": STEP} are buttons pressed back as STEP
    # (the satisfaction survey), as a reply's choices are.
    payload: Mapping[str, Any] | None = None

    @classmethod
    def of(cls, m: OutboxMessage) -> Outgoing:
        return cls(m.id or 0, m.key, m.channel, m.target, m.thread, m.text, m.late,
                   (m.last_error or "").startswith(MAYBE_SENT), m.created_at,
                   _payload(m.payload))

    @property
    def file(self) -> Path | None:
        """An attachment to upload (a report chart), when it still exists."""
        raw = (self.payload or {}).get("file")
        path = Path(raw) if isinstance(raw, str) and raw else None
        return path if path is not None and path.is_file() else None

    @property
    def choices(self) -> tuple[str, tuple[Choice, ...]]:
        """The step and the buttons the message carries (none: ``("", ())``)."""
        raw = (self.payload or {}).get("choices")
        if not isinstance(raw, list):
            return "", ()
        buttons = tuple(Choice(str(c[0]), str(c[1])) for c in raw
                        if isinstance(c, list | tuple) and len(c) == 2)
        return str((self.payload or {}).get("step") or ""), buttons

    @property
    def filename(self) -> str:
        """The name the file is shown with (stored files are named by their hash)."""
        name = (self.payload or {}).get("filename")
        return name if isinstance(name, str) and name else (self.file.name if self.file else "")


def _payload(raw: str | None) -> Mapping[str, Any] | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class Sender(Protocol):
    async def send(self, msg: Outgoing) -> str | None:
        """Deliver; return the channel's message id. Raise RetryLater / PermanentFailure."""
        ...

    async def close(self) -> None: ...
