"""Console channel: the intake dialog in a terminal, for trying Destek without a chat platform.

Each line is one message; a line that names an existing local file is sent as an attachment;
``/status N``, ``/list``, ``/access N HOW``, ``/plan ...``, ``/new``, ``/cancel``,
``/lang tr|en``, ``/help`` and the engineers' verbs work as on Telegram (the one dispatch);
a number picks a command button of the last reply; ``/quit`` or end of input leaves (the
dialog is saved and continues next time).

With ``live`` (``destek chat``, ``destek demo``), services run beside the chat for as long as
it is open: the delivery of this contact's outbox messages to the terminal, as they arrive
(:mod:`.terminal`), and in the demo the SLA scheduler too (:mod:`.live`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TextIO

from sqlalchemy.engine import Engine

from handlers.dispatch import route
from handlers.i18n import register, t
from handlers.intake import IntakeConfig
from handlers.types import COMMAND_STEP, Incoming, Reply
from storage.clock import Clock, system_clock
from storage.db import session_scope
from storage.directory import find_contact

from ..pipeline import answered_keys, settle_posted
from .inbound import CHANNEL, to_incoming
from .render import render
from .terminal import Terminal

register({
    "console.bye": {
        "en": "Bye. An unfinished report is kept: run the chat again to continue.",
        "tr": "Hoşça kalın. Tamamlanmamış bildirim saklanır: devam etmek için sohbeti yeniden "
              "başlatın.",
    },
})


@dataclass(frozen=True)
class ChatUser:
    """Who is chatting (detached from the session)."""

    id: int
    name: str
    role: str
    language: str


# Started once the contact is known and may chat; its context lasts as long as the chat.
Live = Callable[[ChatUser, Terminal], AbstractContextManager[object]]


def run_console(
    engine: Engine,
    cfg: IntakeConfig,
    contact_ref: str,
    stdin: TextIO,
    stdout: TextIO,
    now: Clock = system_clock,
    live: Live | None = None,
) -> int:
    """Chat as the contact ``contact_ref`` (name, id or Telegram id); returns the exit status."""
    with session_scope(engine, now) as s:
        contact = find_contact(s, contact_ref)
        if contact is None:
            return 2  # the command line says so on stderr
        user_key = str(contact.id)
        user = ChatUser(contact.id or 0, contact.name, str(contact.role),
                        contact.language or "en")
    screen = Terminal(stdout, user.language)

    buttons: tuple[str, ...] = ()  # the command lines of the last reply's numbered choices

    def send(msg: Incoming) -> list[Reply]:
        nonlocal buttons
        with session_scope(engine, now) as s:
            replies = route(s, cfg, msg, now())
            settle_posted(s, answered_keys(replies))  # shown right below, in this process
        commands = [r for r in replies if r.choices and r.meta.get("step") == COMMAND_STEP]
        buttons = tuple(c.value for c in commands[-1].choices) if commands else ()
        return replies

    replies = send(Incoming(CHANNEL, user_key, user_key, command="start"))
    for reply in replies:
        screen.say(render(reply))
    if any(r.meta.get("refused") and r.meta.get("refused") != "not_customer" for r in replies):
        return 0
    with live(user, screen) if live is not None else nullcontext():
        return _loop(stdin, screen, user_key, send, lambda: buttons)


def _loop(stdin: TextIO, screen: Terminal, user_key: str,
          send: Callable[[Incoming], list[Reply]], buttons: Callable[[], tuple[str, ...]]) -> int:
    """Read and answer lines until ``/quit``, end of input or Ctrl-C."""
    while True:
        screen.prompt()
        try:
            line = stdin.readline()
        except KeyboardInterrupt:
            line = ""
        screen.answered()
        if not line:
            screen.say("\n" + t("console.bye", screen.lang))
            return 0
        text = line.strip()
        if not text:
            continue
        if text.lower() in ("/quit", "/exit", "/q"):
            screen.say(t("console.bye", screen.lang))
            return 0
        msg = to_incoming(user_key, text)
        choices = buttons()
        if text.isdigit() and 0 < int(text) <= len(choices):  # the number of a command button
            msg = Incoming(CHANNEL, user_key, user_key, text=choices[int(text) - 1],
                           button_step=COMMAND_STEP)
        if msg.command == "lang" and msg.args:
            screen.lang = msg.args[0] if msg.args[0] in ("en", "tr") else screen.lang
        for reply in send(msg):
            screen.say(render(reply))
