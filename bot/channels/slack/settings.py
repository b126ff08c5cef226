"""The Slack channel's settings (fields of :class:`bot.config.Settings`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings


class SlackSettings(BaseSettings):
    """``SLACK_*``: the bot token and the signing secret (or an app token for Socket Mode)
    turn the channel on."""

    slack_bot_token: str | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: str | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")
    slack_command: str = Field(default="/destek", alias="DESTEK_SLACK_COMMAND")
