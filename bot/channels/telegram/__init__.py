"""The Telegram channel: updates in (:mod:`.inbound`), replies out (:mod:`.render`), the
service that polls or takes a webhook (:mod:`.service`), outbox messages (:mod:`.sender`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..spec import ChannelSpec
from .inbound import CHANNEL as NAME
from .sender import TelegramSender
from .service import TelegramChannel
from .webhook import WebhookConfigError, webhook_problem

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.runner import RunContext


def _service(ctx: RunContext) -> TelegramChannel:
    return TelegramChannel(ctx.settings, ctx.engine, ctx.intake, now=ctx.now)


def _sender(settings: Settings) -> TelegramSender:
    return TelegramSender(settings.telegram_bot_token or "", settings.telegram_api_url)


CHANNEL = ChannelSpec(
    NAME, configured=lambda settings: bool(settings.telegram_bot_token), sender=_sender,
    service=_service,
    # Polling runs once across replicas (a second poller gets 409 Conflict); webhooks on all.
    leader_only=lambda settings: not settings.telegram_webhook_url,
)

__all__ = ["CHANNEL", "TelegramChannel", "TelegramSender", "WebhookConfigError",
           "webhook_problem"]
