"""The Telegram channel's settings (fields of :class:`bot.config.Settings`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings


class TelegramSettings(BaseSettings):
    """``TELEGRAM_*``: the bot token turns the channel on; a webhook URL needs its secret."""

    telegram_bot_token: str | None = Field(default=None, alias="TELEGRAM_BOT_TOKEN")
    telegram_api_url: str = Field(default="https://api.telegram.org/bot", alias="TELEGRAM_API_URL")
    telegram_file_url: str | None = Field(default=None, alias="TELEGRAM_FILE_URL")
    telegram_webhook_url: str | None = Field(default=None, alias="TELEGRAM_WEBHOOK_URL")
    telegram_webhook_secret: str | None = Field(default=None, alias="TELEGRAM_WEBHOOK_SECRET")
