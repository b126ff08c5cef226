"""Every channel Destek speaks, one line each. A new channel is a package under
``bot/channels/`` that declares a :class:`~bot.channels.spec.ChannelSpec`, plus its line here
(and its settings class among :class:`bot.config.Settings`' bases)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import console, slack, telegram
from .spec import ChannelSpec

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.runner import RunContext, Service

    from .outbound import Sender

CHANNELS: tuple[ChannelSpec, ...] = (
    console.CHANNEL,
    telegram.CHANNEL,
    slack.CHANNEL,
)


def configured(settings: Settings) -> list[str]:
    """The names of the channels the settings turn on (the console always)."""
    return [c.name for c in CHANNELS if c.configured(settings)]


def senders(settings: Settings) -> dict[str, Sender]:
    """The outbox sender of every configured channel."""
    return {c.name: c.sender(settings) for c in CHANNELS if c.configured(settings)}


def services(ctx: RunContext) -> list[Service]:
    """The inbound services of the configured channels, for ``destek run``."""
    out: list[Service] = []
    for c in CHANNELS:
        if c.service is not None and c.configured(ctx.settings):
            svc = c.service(ctx)
            if svc is not None:
                out.append(svc)
    return out


def leader_only(settings: Settings, name: str) -> bool:
    """Whether the channel ``name``'s service may run on one replica only."""
    return any(c.name == name and c.leader_only(settings) for c in CHANNELS)
