"""Engine settings for the handlers, built from ``Settings``: routing and intake limits.

The one routing builder: every part of Destek that tells engineers or raises an alert (the
intake's cards, the commands' notices, the SLA scheduler and the pager, the AI drafts, the
monthly report) gets its :class:`~handlers.types.Routing` from :func:`routing_from_settings`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from pathlib import Path

from handlers.intake import IntakeConfig
from handlers.reports import ChartMaker
from handlers.types import DEFAULT_ENGINEERS_TZ, Destination, Routing
from sla import Policy
from storage.identities import by_contact_id

from .channels import console, registry
from .config import Settings, parse_destinations

# With nowhere else to go (no chat platform, no destination set), notices go to the console.
CONSOLE_ENGINEERS = Destination(console.CHANNEL.name, "engineers")
CONSOLE_ALERTS = Destination(console.CHANNEL.name, "alerts")


def routing_from_settings(settings: Settings) -> Routing:
    """Where engineers' notices and alerts go: ``DESTEK_ENGINEERS`` / ``DESTEK_ALERTS``, then
    the older per-channel settings (``DESTEK_ENGINEERS_SLACK_CHANNEL`` and the like), under
    the rules of :func:`make_routing` over the channels the settings turn on."""
    engineers = [
        *parse_destinations(settings.engineers_destinations, "DESTEK_ENGINEERS"),
        *_legacy(("slack", settings.engineers_slack_channel),
                 ("telegram", settings.engineers_telegram_chat)),
    ]
    alerts = [
        *parse_destinations(settings.alert_destinations, "DESTEK_ALERTS"),
        *_legacy(("slack", settings.alert_slack_channel),
                 ("telegram", settings.alert_telegram_chat)),
    ]
    return make_routing(engineers, alerts, registry.configured(settings), settings.engineers_tz)


def _legacy(*pairs: tuple[str, str | int | None]) -> list[Destination]:
    return [Destination(channel, str(target)) for channel, target in pairs if target]


def make_routing(
    engineers: Iterable[Destination] = (),
    alerts: Iterable[Destination] = (),
    configured: Sequence[str] = (console.CHANNEL.name,),
    engineers_tz: str = DEFAULT_ENGINEERS_TZ,
) -> Routing:
    """The routing rules, one place for all:

    - a destination counts only on a configured channel (one without a sender would fail);
      the same destination twice counts once, in the order first given;
    - no engineers' destination left: the console's ``engineers``;
    - alerts default to the engineers' destinations, and to the console's ``alerts`` when
      those fell back to the console too;
    - direct messages go on the configured chat platforms; with none, on the console.
    """
    on = set(configured)
    eng = _usable(engineers, on)
    chats = tuple(c for c in configured if not by_contact_id(c))
    return Routing(
        engineers=eng or (CONSOLE_ENGINEERS,),
        alerts=_usable(alerts, on) or eng or (CONSOLE_ALERTS,),
        channels=chats or tuple(c for c in configured if by_contact_id(c)),
        engineers_tz=engineers_tz,
    )


def _usable(dests: Iterable[Destination], on: set[str]) -> tuple[Destination, ...]:
    return tuple(dict.fromkeys(d for d in dests if d.channel in on))


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
