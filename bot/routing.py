"""Engine settings for the handlers, built from ``Settings``: routing and intake limits."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from handlers.intake import IntakeConfig
from handlers.reports import ChartMaker
from handlers.types import Destination, Routing
from sla import Policy

from .config import Settings


def routing_from_settings(settings: Settings) -> Routing:
    """Where engineers' notices and breach alerts go (Slack channel and/or Telegram chat)."""
    engineers: list[Destination] = []
    alerts: list[Destination] = []
    if settings.engineers_slack_channel:
        engineers.append(Destination("slack", settings.engineers_slack_channel))
    if settings.engineers_telegram_chat:
        engineers.append(Destination("telegram", settings.engineers_telegram_chat))
    if settings.alert_slack_channel:
        alerts.append(Destination("slack", settings.alert_slack_channel))
    if settings.alert_telegram_chat:
        alerts.append(Destination("telegram", settings.alert_telegram_chat))
    return Routing(engineers=tuple(engineers), alerts=tuple(alerts))


def intake_config(settings: Settings, policy: Policy) -> IntakeConfig:
    """The intake engine's configuration (attachment limits, reminders, routing)."""
    return IntakeConfig(
        policy=policy,
        attachments_dir=settings.attachments_dir,
        max_attachment_bytes=int(settings.max_attachment_mb * 1024 * 1024),
        max_attachments=settings.max_attachments,
        allowed_types=settings.allowed_attachment_types,
        routing=routing_from_settings(settings),
        remind_after=timedelta(minutes=settings.dialog_remind_minutes),
        expire_after=timedelta(minutes=settings.dialog_expire_minutes),
        charts=report_charts(settings.data_dir),
    )


def report_charts(data_dir: Path) -> ChartMaker:
    """Charts of the `report` verb: drawn with matplotlib into DATA_DIR/reports."""
    from .report_render import render_png

    return ChartMaker(data_dir / "reports", render_png)
