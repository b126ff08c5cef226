"""The Telegram channel: updates in (:mod:`.inbound`), replies out (:mod:`.render`), the
service that polls or takes a webhook (:mod:`.service`)."""

from __future__ import annotations

from .inbound import CHANNEL
from .service import TelegramChannel
from .webhook import WebhookConfigError, webhook_problem

__all__ = ["CHANNEL", "TelegramChannel", "WebhookConfigError", "webhook_problem"]
