"""Console channel: the intake dialog in a terminal, for trying Destek without a chat platform.

Each line is one message; a line that names an existing local file is sent as an attachment;
``/status N``, ``/list``, ``/access N HOW``, ``/plan ...``, ``/new``, ``/cancel``,
``/lang tr|en``, ``/help`` and the engineers' verbs work as on Telegram (the one dispatch);
a number picks a command button of the last reply; ``/quit`` or end of input leaves (the
dialog is saved and continues next time).
"""

from __future__ import annotations

from typing import TextIO

from sqlalchemy.engine import Engine

from handlers.dispatch import route
from handlers.i18n import register, t
from handlers.intake import IntakeConfig
from handlers.types import COMMAND_STEP, Incoming, Reply
from storage.clock import Clock, system_clock
from storage.db import session_scope
from storage.directory import find_contact

from .inbound import CHANNEL, to_incoming
from .render import render

register({
    "console.bye": {
        "en": "Bye. An unfinished report is kept: run the chat again to continue.",
        "tr": "Hoşça kalın. Tamamlanmamış bildirim saklanır: devam etmek için sohbeti yeniden "
              "başlatın.",
    },
})



def run_console(
    engine: Engine,
    cfg: IntakeConfig,
    contact_ref: str,
    stdin: TextIO,
    stdout: TextIO,
    now: Clock = system_clock,
) -> int:
    """Chat as the contact ``contact_ref`` (name, id or Telegram id); returns the exit status."""
    with session_scope(engine, now) as s:
        contact = find_contact(s, contact_ref)
        if contact is None:
            return 2  # the command line says so on stderr
        user_key = str(contact.id)
        lang = contact.language or "en"

    buttons: tuple[str, ...] = ()  # the command lines of the last reply's numbered choices

    def send(msg: Incoming) -> list[Reply]:
        nonlocal buttons
        with session_scope(engine, now) as s:
            replies = route(s, cfg, msg, now())
        commands = [r for r in replies if r.choices and r.meta.get("step") == COMMAND_STEP]
        buttons = tuple(c.value for c in commands[-1].choices) if commands else ()
        return replies

    replies = send(Incoming(CHANNEL, user_key, user_key, command="start"))
    for reply in replies:
        stdout.write(render(reply) + "\n")
    if any(r.meta.get("refused") and r.meta.get("refused") != "not_customer" for r in replies):
        stdout.flush()
        return 0
    while True:
        stdout.write("> ")
        stdout.flush()
        line = stdin.readline()
        if not line:
            stdout.write("\n" + t("console.bye", lang) + "\n")
            stdout.flush()
            return 0
        text = line.strip()
        if not text:
            continue
        if text.lower() in ("/quit", "/exit", "/q"):
            stdout.write(t("console.bye", lang) + "\n")
            return 0
        msg = to_incoming(user_key, text)
        if text.isdigit() and 0 < int(text) <= len(buttons):  # the number of a command button
            msg = Incoming(CHANNEL, user_key, user_key, text=buttons[int(text) - 1],
                           button_step=COMMAND_STEP)
        if msg.command == "lang" and msg.args:
            lang = msg.args[0] if msg.args[0] in ("en", "tr") else lang
        for reply in send(msg):
            stdout.write(render(reply) + "\n")
