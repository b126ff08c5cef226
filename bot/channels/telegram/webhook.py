"""Webhook mode's safety rules and the Bot API's file URL."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings


class WebhookConfigError(RuntimeError):
    """Webhook mode asked for without what makes it safe; the message says what to set."""


# Telegram's rule for setWebhook's secret_token: 1-256 of A-Z, a-z, 0-9, _ and -.
_SECRET_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def webhook_problem(settings: Settings) -> None:
    """Refuse webhook mode without ``TELEGRAM_WEBHOOK_SECRET``: anyone who finds the URL could
    post updates as any user (an engineer's verb ran from an unauthenticated POST). Telegram
    sends the secret in ``X-Telegram-Bot-Api-Secret-Token``; PTB rejects requests without it.
    One secret from the settings, not a generated one: every replica must register the same."""
    if not settings.telegram_webhook_url:
        return
    secret = settings.telegram_webhook_secret or ""
    if not secret:
        raise WebhookConfigError(
            "TELEGRAM_WEBHOOK_URL is set but TELEGRAM_WEBHOOK_SECRET is not: set it to a random "
            "string of 16-256 letters, digits, _ or - (e.g. `python -c \"import secrets; "
            "print(secrets.token_urlsafe(32))\"`), or unset the URL to poll")
    if not 16 <= len(secret) <= 256 or not set(secret) <= _SECRET_CHARS:
        raise WebhookConfigError(
            "TELEGRAM_WEBHOOK_SECRET must be 16-256 characters of letters, digits, _ or -")


def file_url(api_url: str) -> str:
    """``https://api.telegram.org/bot`` -> ``https://api.telegram.org/file/bot``."""
    head, sep, tail = api_url.rstrip("/").rpartition("/")
    return f"{head}/file/{tail}" if sep else api_url + "/file"
