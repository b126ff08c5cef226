"""Logging for ``destek run``: one format, and no token, key or password in any line."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import IO, Any

from handlers.ai_suggest import redact

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactSecrets(logging.Filter):
    """Replaces the configured secrets, and anything shaped like a key, in every record.

    On the handlers, not a logger: records of every library (httpx logs each request URL,
    and a Telegram URL holds the bot token) pass through them.
    """

    def __init__(self, secrets: Iterable[str | None]) -> None:
        super().__init__()
        # Longest first, so a secret that contains another is cut whole.
        self.secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean, cut = redact(message, self.secrets)
        if record.exc_info and not record.exc_text:  # tracebacks quote URLs and arguments too
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text, more = redact(record.exc_text, self.secrets)
            cut += more
        if cut:
            record.msg, record.args = clean, ()
        return True


def settings_secrets(settings: Any) -> list[str | None]:
    """Every secret the settings hold (tokens, signing secrets, keys, the database password)."""
    from sqlalchemy.engine import make_url

    try:
        db_password = make_url(settings.database_url).password
    except Exception:  # noqa: BLE001 - an unparsable URL has no password to hide
        db_password = None
    return [settings.telegram_bot_token, settings.telegram_webhook_secret,
            settings.slack_bot_token, settings.slack_signing_secret, settings.slack_app_token,
            settings.openai_api_key, settings.dashboard_secret,
            str(db_password) if db_password else None]


def configure_logging(settings: Any, stream: IO[str] | None = None) -> RedactSecrets:
    """The process's logging: the level from the settings, secrets cut from every line."""
    logging.basicConfig(level=settings.log_level.upper(), format=FORMAT, stream=stream,
                        force=stream is not None)
    # httpx logs every request at INFO with its full URL: only its warnings are worth a line.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    guard = RedactSecrets(settings_secrets(settings))
    for handler in logging.getLogger().handlers:
        handler.addFilter(guard)
    return guard
