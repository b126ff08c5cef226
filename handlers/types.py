"""Domain-level values exchanged between channel adapters (bot/) and handlers.

Adapters translate platform events into these and handler replies back into platform messages;
no Slack or Telegram type ever crosses this line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The ``button_step`` of a pressed command button (a page's "Take it", suggest's "Link", "Remote
# access is ready"): its value is a command line run as the person who pressed it.
COMMAND_STEP = "cmd"


@dataclass(frozen=True, slots=True)
class IncomingFile:
    """A file the user sent (adapters download it first)."""

    filename: str
    data: bytes
    content_type: str | None = None


@dataclass(frozen=True, slots=True)
class Incoming:
    """One inbound message from any channel, platform-neutral.

    ``user_key`` identifies the person on the channel (Telegram user id, Slack user id, contact
    id on the console); ``chat`` is where replies go and ``thread`` the conversation thread it
    was written in, if the platform has threads. ``command`` is a slash command without its
    slash, with ``args``. ``button_step`` is set when a button was pressed: the dialog step it
    belonged to (stale buttons are refused) or :data:`COMMAND_STEP`.
    """

    channel: str
    user_key: str
    chat: str | None = None
    text: str | None = None
    command: str | None = None
    args: tuple[str, ...] = ()
    files: tuple[IncomingFile, ...] = ()
    button_step: str | None = None
    language_hint: str | None = None
    thread: str | None = None


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
