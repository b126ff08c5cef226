"""Outbox messages on the console channel outside a chat: one line each in a log file.

A console chat shows its own contact's messages (:mod:`.terminal`); this sender, in ``destek
run``, leaves the targets some terminal holds to it (:func:`.presence.present_targets`)."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy.engine import Engine

from handlers.types import Reply

from ..outbound import Outgoing
from .render import render

log = logging.getLogger("destek.delivery")


class ConsoleSender:
    """The demo channel: one line per message appended to a log file (and the log)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path

    def claim_targets(self, engine: Engine) -> tuple[str, frozenset[str]]:
        """For the delivery worker: every console row but those a terminal shows."""
        from .presence import present_targets

        return "excluding", present_targets(engine)

    async def send(self, msg: Outgoing) -> str | None:
        # A message's choices (the satisfaction survey) numbered, as a reply's: typed back.
        line = f"[{msg.target}] {render(Reply(msg.text, msg.choices[1]))}"
        log.info("console message: %s", line)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line.replace("\n", " | ") + "\n")
        else:
            print(line, flush=True)
        return None

    async def close(self) -> None:
        return None
