"""The console channel: a chat in the terminal (:mod:`.chat`), typed lines in
(:mod:`.inbound`), replies as text (:mod:`.render`)."""

from __future__ import annotations

from .chat import run_console
from .inbound import CHANNEL, to_incoming
from .render import render

__all__ = ["CHANNEL", "render", "run_console", "to_incoming"]
