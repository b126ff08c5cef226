"""The Slack channel: the Bolt app and its listeners (:mod:`.app`), the HTTP endpoint
(:mod:`.http`), the report form (:mod:`.form`), Block Kit rendering (:mod:`.blocks`), our Web
API calls (:mod:`.webapi`), the runner's service (:mod:`.service`), outbox messages
(:mod:`.sender`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..spec import ChannelSpec
from .app import CHANNEL as NAME
from .app import SlackBot
from .sender import SlackSender
from .service import SlackService, slack_service

if TYPE_CHECKING:
    from bot.config import Settings


def _configured(settings: Settings) -> bool:
    return bool(settings.slack_bot_token and (settings.slack_signing_secret
                                              or settings.slack_app_token))


def _sender(settings: Settings) -> SlackSender:
    return SlackSender(settings.slack_bot_token or "", settings.slack_api_url,
                       settings.slack_command)


CHANNEL = ChannelSpec(NAME, configured=_configured, sender=_sender, service=slack_service)

__all__ = ["CHANNEL", "SlackBot", "SlackSender", "SlackService", "slack_service"]
