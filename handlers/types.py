"""Domain-level values exchanged between channel adapters (bot/) and handlers.

Adapters translate platform events into these and handler replies back into platform messages;
no Slack or Telegram type ever crosses this line.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Choice:
    """A button / select option: ``value`` comes back as the user's answer."""

    value: str
    label: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to the person the handler is talking to."""

    text: str
    choices: tuple[Choice, ...] = ()
    # Free-form hints an adapter may use (e.g. "ticket": 12 to thread updates).
    meta: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Destination:
    """Where a notification goes: a channel name and a target on it."""

    channel: str  # slack | telegram | console
    target: str  # Slack channel/user id, Telegram chat id, console user
    thread: str | None = None


@dataclass(frozen=True, slots=True)
class Routing:
    """Where engineers' notices and breach alerts go (built by bot/ from the settings)."""

    engineers: tuple[Destination, ...] = ()
    alerts: tuple[Destination, ...] = ()
