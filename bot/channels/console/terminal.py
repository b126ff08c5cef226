"""The chat's screen: its replies, and the outbox messages that arrive while the prompt waits.

The chat reads stdin on the main thread; messages arrive on the delivery worker's event loop
(another thread). :class:`Terminal` serialises both under one lock: an arriving message is
printed on its own marked lines and the prompt is drawn again under it (on a real terminal
the half-typed line is cleared from view first; what was typed is still read as one line).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TextIO

from handlers.i18n import register, t
from handlers.types import Reply

from ..outbound import Outgoing
from .presence import Presence, row_targets
from .render import render

register({
    "console.inbox.you": {"en": "message for you", "tr": "size mesaj"},
    "console.inbox.person": {"en": "message for {name}", "tr": "{name} için mesaj"},
    "console.inbox.engineers": {
        "en": "engineers' channel (what the support team sees)",
        "tr": "mühendis kanalı (destek ekibinin gördüğü)",
    },
    "console.inbox.alerts": {
        "en": "alert channel (what the support team sees)",
        "tr": "alarm kanalı (destek ekibinin gördüğü)",
    },
    "console.inbox.late": {"en": "sent late", "tr": "geç gönderildi"},
    "console.inbox.file": {"en": "file: {path}", "tr": "dosya: {path}"},
    "console.elsewhere": {
        "en": "Messages for you are shown in your other open chat, not here.",
        "tr": "Size gelen mesajlar burada değil, açık olan diğer sohbetinizde gösteriliyor.",
    },
})

PROMPT = "> "


class Terminal:
    """One chat's output: replies (:meth:`say`), the prompt, and arriving messages
    (:meth:`show`), never interleaved mid-line."""

    def __init__(self, out: TextIO, lang: str = "en") -> None:
        self.out = out
        self.lang = lang
        self._lock = threading.Lock()
        self._prompting = False
        try:
            self._tty = bool(out.isatty())
        except (AttributeError, ValueError):
            self._tty = False

    def say(self, text: str) -> None:
        """A reply to what was typed (or the chat's own words)."""
        with self._lock:
            self.out.write(text + "\n")
            self.out.flush()

    def prompt(self) -> None:
        with self._lock:
            self.out.write(PROMPT)
            self.out.flush()
            self._prompting = True

    def answered(self) -> None:
        """A line was read: the prompt is no longer on screen waiting."""
        with self._lock:
            self._prompting = False

    def show(self, label: str, text: str) -> None:
        """An arriving message, marked with ``label``, above a fresh prompt."""
        body = "\n".join("  │ " + line for line in text.splitlines() or [""])
        with self._lock:
            if self._prompting:
                # clear the prompt's line on a terminal; elsewhere end it
                self.out.write("\r\033[K" if self._tty else "\n")
            self.out.write(f"  ┌─ 📨 {label}\n{body}\n")
            if self._prompting:
                self.out.write(PROMPT)
            self.out.flush()


class TerminalSender:
    """The console channel's sender in a chat: prints the rows of the targets this terminal
    holds (:class:`~.presence.Presence`) and claims no others."""

    def __init__(self, terminal: Terminal, presence: Presence,
                 names: Mapping[str, str] | None = None, me: str | None = None) -> None:
        self.terminal = terminal
        self.presence = presence
        self.names = dict(names or {})  # target -> the contact's name
        self.me = me  # the chatting contact's target
        self.shown = 0

    def claim_targets(self, engine: object = None) -> tuple[str, frozenset[str]]:
        """For the delivery worker: only the console rows of the targets held here."""
        return "only", row_targets(self.presence.held_now())

    def label(self, msg: Outgoing) -> str:
        lang = self.terminal.lang
        if self.me is not None and msg.target in (self.me, f"contact:{self.me}"):
            label = t("console.inbox.you", lang)
        elif msg.target in ("engineers", "alerts"):
            label = t(f"console.inbox.{msg.target}", lang)
        else:
            who = msg.target.removeprefix("contact:")
            label = t("console.inbox.person", lang, name=self.names.get(who, msg.target))
        if msg.late:
            label += f" ({t('console.inbox.late', lang)})"
        return label

    async def send(self, msg: Outgoing) -> str | None:
        text = render(Reply(msg.text, msg.choices[1]))  # choices numbered: typed back
        if msg.file is not None:
            text += "\n" + t("console.inbox.file", self.terminal.lang, path=str(msg.file))
        self.terminal.show(self.label(msg), text)
        self.shown += 1
        return None

    async def close(self) -> None:
        return None
