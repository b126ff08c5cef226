"""Settings from the environment and ``.env`` (every key is listed in ``.env.example``)."""

from __future__ import annotations

import functools
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from .channels.slack.settings import SlackSettings
from .channels.telegram.settings import TelegramSettings


class Settings(TelegramSettings, SlackSettings):
    """All runtime settings: the core's here, each channel's in its package (one base class
    each). Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field(default="sqlite:///destek.db", alias="DATABASE_URL")
    policy_path: str | None = Field(default=None, alias="DESTEK_POLICY")
    data_dir: Path = Field(default=Path("destek-data"), alias="DESTEK_DATA_DIR")
    log_level: str = Field(default="INFO", alias="DESTEK_LOG_LEVEL")

    # Intake dialog
    max_attachment_mb: float = Field(default=10.0, alias="DESTEK_MAX_ATTACHMENT_MB")
    max_attachments: int = Field(default=10, ge=1, le=100, alias="DESTEK_MAX_ATTACHMENTS")
    attachment_types: str = Field(
        default="image/png,image/jpeg,image/gif,image/webp,text/plain,application/pdf,"
        "application/zip,application/gzip,application/x-gzip,application/json,"
        "application/octet-stream,text/csv,text/xml,application/xml",
        alias="DESTEK_ATTACHMENT_TYPES",
    )
    dialog_remind_minutes: int = Field(default=30, alias="DESTEK_DIALOG_REMIND_MINUTES")
    dialog_expire_minutes: int = Field(default=24 * 60, alias="DESTEK_DIALOG_EXPIRE_MINUTES")

    # Where engineers and alerts are told
    engineers_slack_channel: str | None = Field(
        default=None, alias="DESTEK_ENGINEERS_SLACK_CHANNEL"
    )
    engineers_telegram_chat: str | None = Field(
        default=None, alias="DESTEK_ENGINEERS_TELEGRAM_CHAT"
    )
    alert_slack_channel: str | None = Field(default=None, alias="DESTEK_ALERT_SLACK_CHANNEL")
    alert_telegram_chat: str | None = Field(default=None, alias="DESTEK_ALERT_TELEGRAM_CHAT")
    engineers_tz: str = Field(default="Europe/Istanbul", alias="DESTEK_ENGINEERS_TZ")

    # OpenAI hook (optional)
    openai_api_key: str | None = Field(default=None, alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, alias="OPENAI_BASE_URL")
    openai_model: str = Field(default="gpt-4o-mini", alias="OPENAI_MODEL")
    openai_timeout: float = Field(default=10.0, alias="DESTEK_OPENAI_TIMEOUT")

    # HTTP (Slack events, webhooks, dashboard)
    http_host: str = Field(default="127.0.0.1", alias="DESTEK_HTTP_HOST")
    http_port: int = Field(default=8080, alias="DESTEK_HTTP_PORT")
    # Dashboard (bot/web/): own port on DESTEK_HTTP_HOST; 0 = not started by `run`.
    dashboard_port: int = Field(default=8090, alias="DESTEK_DASHBOARD_PORT")
    dashboard_secret: str | None = Field(default=None, alias="DESTEK_DASHBOARD_SECRET")
    dashboard_refresh: int = Field(default=15, alias="DESTEK_DASHBOARD_REFRESH")

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    @property
    def allowed_attachment_types(self) -> frozenset[str]:
        return frozenset(t.strip() for t in self.attachment_types.split(",") if t.strip())


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings (tests build their own ``Settings`` instead)."""
    return Settings()
