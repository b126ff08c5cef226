"""Domain-level values exchanged between channel adapters (bot/) and handlers.

Adapters translate platform events into these and handler replies back into platform messages;
no Slack or Telegram type ever crosses this line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The ``button_step`` of a pressed command button (a page's "Take it", suggest's "Link", "Remote
# access is ready"): its value is a command line run as the person who pressed it.
COMMAND_STEP = "cmd"
# A reply's meta key: the reply is also queued in the outbox under this key (delayed), and the
# adapter that answered with it settles that row (``bot.channels.pipeline.Pipeline.posted``).
OUTBOX_META = "outbox"


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
    belonged to (stale buttons are refused) or :data:`COMMAND_STEP`. ``workspace`` is the
    platform workspace the user belongs to when it is not the deployment's own (a Slack
    Connect customer's Slack team, ``T...``); ``""`` is the home workspace
    (``storage.identities.HOME``).
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
    workspace: str = ""


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


# Engineers read deadlines in this zone unless DESTEK_ENGINEERS_TZ says otherwise.
DEFAULT_ENGINEERS_TZ = "Europe/Istanbul"


@dataclass(frozen=True, slots=True)
class Routing:
    """Where engineers' notices and breach alerts go, and on which channels a person (an
    assignee, the engineer on call, a manager) can get a direct message. Built once from the
    settings by ``bot.routing.routing_from_settings``; the empty default tells nobody.

    ``channels`` are the configured channels a direct message may use (see
    :func:`handlers.notify.person_destination`); ``engineers_tz`` is the zone in which
    engineers read deadlines (and get their 08:00 digest)."""

    engineers: tuple[Destination, ...] = ()
    alerts: tuple[Destination, ...] = ()
    channels: tuple[str, ...] = ()
    engineers_tz: str = DEFAULT_ENGINEERS_TZ
