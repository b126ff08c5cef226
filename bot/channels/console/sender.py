"""Outbox messages on the console channel: one line each in a log file (the demo's channel)."""

from __future__ import annotations

import logging
from pathlib import Path

from ..outbound import Outgoing

log = logging.getLogger("destek.delivery")


class ConsoleSender:
    """The demo channel: one line per message appended to a log file (and the log)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path

    async def send(self, msg: Outgoing) -> str | None:
        line = f"[{msg.target}] {msg.text}"
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
