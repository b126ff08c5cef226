"""What a channel package declares once, for the registry (:mod:`bot.channels.registry`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.runner import RunContext, Service

    from .outbound import Sender


@dataclass(frozen=True)
class ChannelSpec:
    """A channel: its name (the ``channel`` of contacts' identities, tickets and outbox rows),
    whether the settings turn it on, its outbox sender and its inbound service (None for a
    channel without a listener, like the console, whose chat is a CLI command)."""

    name: str
    configured: Callable[[Settings], bool]
    sender: Callable[[Settings], Sender]
    service: Callable[[RunContext], Service | None] | None = None
    # Whether the runner may run it on every replica (webhooks, HTTP) or only on the leader
    # (a second Telegram poller gets 409 Conflict).
    leader_only: Callable[[Settings], bool] = lambda settings: False
