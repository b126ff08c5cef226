"""Settings from the environment and ``.env`` (every key is listed in ``.env.example``)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import SettingsConfigDict

from handlers.types import DEFAULT_ENGINEERS_TZ, Destination

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

    # Where engineers and alerts are told: comma-separated ``channel:target[/thread]`` entries
    # (bot.routing.routing_from_settings). The four older per-channel settings below still
    # work: their destinations are added after these.
    engineers_destinations: str = Field(default="", alias="DESTEK_ENGINEERS")
    alert_destinations: str = Field(default="", alias="DESTEK_ALERTS")
    engineers_slack_channel: str | None = Field(
        default=None, alias="DESTEK_ENGINEERS_SLACK_CHANNEL"
    )
    engineers_telegram_chat: str | None = Field(
        default=None, alias="DESTEK_ENGINEERS_TELEGRAM_CHAT"
    )
    alert_slack_channel: str | None = Field(default=None, alias="DESTEK_ALERT_SLACK_CHANNEL")
    alert_telegram_chat: str | None = Field(default=None, alias="DESTEK_ALERT_TELEGRAM_CHAT")
    engineers_tz: str = Field(default=DEFAULT_ENGINEERS_TZ, alias="DESTEK_ENGINEERS_TZ")
    # The support vendor's name, on the title page of the PDF SLA report when set.
    vendor_name: str | None = Field(default=None, alias="DESTEK_VENDOR_NAME")

    # OpenAI hook (optional)
    openai_api_key: str | None = Field(default=None, alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, alias="OPENAI_BASE_URL")
    openai_model: str = Field(default="gpt-4o-mini", alias="OPENAI_MODEL")
    openai_timeout: float = Field(default=10.0, alias="DESTEK_OPENAI_TIMEOUT")
    # Fernet keys sealing customers' API keys at rest (storage.sealed); the first seals.
    secret_keys: str | None = Field(default=None, alias="DESTEK_SECRET_KEYS", repr=False)

    # HTTP (Slack events, webhooks, dashboard)
    http_host: str = Field(default="127.0.0.1", alias="DESTEK_HTTP_HOST")
    http_port: int = Field(default=8080, alias="DESTEK_HTTP_PORT")
    # Dashboard (bot/web/): own port on DESTEK_HTTP_HOST; 0 = not started by `run`.
    dashboard_port: int = Field(default=8090, alias="DESTEK_DASHBOARD_PORT")
    # No longer used: dashboard sessions are server-side (kept so old .env files still load).
    dashboard_secret: str | None = Field(default=None, alias="DESTEK_DASHBOARD_SECRET")
    dashboard_refresh: int = Field(default=15, alias="DESTEK_DASHBOARD_REFRESH")
    # Dashboard security (bot/web/security.py, sessions.py). Secure cookie: auto = when the
    # request is HTTPS (X-Forwarded-Proto counts only from a trusted proxy).
    dashboard_cookie_secure: Literal["auto", "true", "false"] = Field(
        default="auto", alias="DESTEK_COOKIE_SECURE")
    # Addresses / networks (comma-separated) of reverse proxies whose X-Forwarded-For and
    # X-Forwarded-Proto are believed; empty = none ("*" = any: only behind a private network).
    dashboard_trusted_proxy: str = Field(default="", alias="DESTEK_TRUSTED_PROXY")
    dashboard_session_hours: float = Field(default=12.0, gt=0,
                                           alias="DESTEK_DASHBOARD_SESSION_HOURS")
    dashboard_login_limit: int = Field(default=5, ge=0, alias="DESTEK_LOGIN_LIMIT")
    dashboard_login_address_limit: int = Field(default=20, ge=0,
                                               alias="DESTEK_LOGIN_ADDRESS_LIMIT")
    dashboard_login_window: int = Field(default=15, gt=0, alias="DESTEK_LOGIN_WINDOW_MINUTES")

    @field_validator("engineers_destinations", "alert_destinations")
    @classmethod
    def _check_destinations(cls, value: str, info: ValidationInfo) -> str:
        # Refused at load, naming the setting, rather than a notice that never arrives.
        field = cls.model_fields[info.field_name or ""]
        parse_destinations(value, field.alias or info.field_name or "")
        return value

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"

    @property
    def allowed_attachment_types(self) -> frozenset[str]:
        return frozenset(t.strip() for t in self.attachment_types.split(",") if t.strip())


def parse_destinations(value: str, setting: str) -> tuple[Destination, ...]:
    """``slack:C0ENG,telegram:-1001234/42`` -> destinations (``/thread`` optional). A bad entry
    (no ``:``, a channel Destek does not have, an empty target or thread) raises ValueError
    naming ``setting``."""
    from .channels.registry import CHANNELS  # the channel packages import this module

    known = [c.name for c in CHANNELS]
    out: list[Destination] = []
    for entry in (e.strip() for e in value.split(",")):
        if not entry:
            continue
        channel, sep, rest = entry.partition(":")
        channel = channel.strip()
        target, slash, thread = rest.strip().partition("/")
        if not sep:
            problem = "is not channel:target"
        elif channel not in known:
            problem = f"names an unknown channel {channel!r} (use {', '.join(known)})"
        elif not target.strip():
            problem = "has an empty target"
        elif slash and not thread.strip():
            problem = "has an empty thread after '/'"
        else:
            out.append(Destination(channel, target.strip(), thread.strip() or None))
            continue
        raise ValueError(f"{setting}: entry {entry!r} {problem}; write channel:target or "
                         "channel:target/thread, comma-separated, e.g. "
                         "slack:C0ENG,telegram:-100123")
    return tuple(out)


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings (tests build their own ``Settings`` instead)."""
    return Settings()
