"""The console channel: a chat in the terminal (:mod:`.chat`), typed lines in
(:mod:`.inbound`), replies as text (:mod:`.render`), the outbox messages of the contacts at a
terminal shown there (:mod:`.terminal`, :mod:`.presence`), the others' in a file under
``destek run`` (:mod:`.sender`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..spec import ChannelSpec
from .chat import run_console
from .inbound import CHANNEL as NAME
from .inbound import to_incoming
from .render import render
from .sender import ConsoleSender

if TYPE_CHECKING:
    from bot.config import Settings


def _sender(settings: Settings) -> ConsoleSender:
    return ConsoleSender(settings.data_dir / "outbox.log")


# Always on (the demo's channel); its chat is `destek chat`, not a service of `destek run`.
CHANNEL = ChannelSpec(NAME, configured=lambda settings: True, sender=_sender)

__all__ = ["CHANNEL", "ConsoleSender", "render", "run_console", "to_incoming"]
