"""Channel drivers of the contract suite: one neutral protocol, one implementation per channel.

A driver wraps one channel's real adapter and its fake platform and speaks for three people
of the demo data (:func:`bot.demo.seed`): an unknown platform user, the customer contact
(Omar Haddad of Gulf Bank, English) and an engineer (Can Öztürk, English).

=========  ===================================  =====================================
channel    adapter                              platform
=========  ===================================  =====================================
console    ``bot.channels.console.run_console`` (the   none: each person is a terminal session
           ``destek chat --as`` loop) in a      (stdin lines in, stdout writes out);
           thread                               outbox lines from ``ConsoleSender``
telegram   ``bot.channels.telegram.              ``tests.fakes.telegram_server`` through
           TelegramChannel`` (polling)          python-telegram-bot
slack      ``bot.channels.slack.SlackBot`` (Bolt,    signed requests in (httpx), the fake Web
           HTTP mode)                           API ``tests.fakes.slack_api`` out (slack_sdk)
slack-     the same app, the customer in a      the same, events shaped as from a shared
connect    Slack Connect channel of their org   channel (the customer's own Slack team)
=========  ===================================  =====================================

Every action waits until the channel has handled it, runs a :class:`bot.jobs.delivery.
DeliveryWorker` to completion (``drain``) with the channel's real sender, and returns what the
customer saw because of it: :class:`Seen` messages flattened to plain text, the direct replies
first, then the delivered outbox messages. ``customer_messages()`` is everything so far.

Adding a channel: subclass :class:`Driver` (the abstract methods), declare what the platform
cannot do in ``lacks``, and append the class to :data:`DRIVERS`.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import queue
import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar, TextIO, cast
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.channels.console import ConsoleSender, run_console
from bot.channels.outbound import Sender
from bot.channels.slack import SlackBot, SlackSender
from bot.channels.slack import blocks as slack_blocks
from bot.channels.telegram import TelegramChannel, TelegramSender
from bot.config import Settings
from bot.jobs.delivery import DeliveryWorker
from bot.routing import intake_config
from handlers.i18n import t
from handlers.intake import IntakeConfig
from handlers.types import Destination, Routing
from sla import Policy
from storage.clock import Clock
from storage.directory import find_contact
from tests.fakes.slack_api import FakeSlackApi, channel_message, event_envelope
from tests.fakes.telegram_server import Call, FakeTelegram

# The same people on every channel (bot.demo.DEMO_CONTACTS).
CUSTOMER = "Omar Haddad"
ENGINEER = "Can Öztürk"

# Capabilities a platform may lack (``Driver.lacks`` maps them to the reason).
# The platform may deliver one inbound message twice: ``customer_says(text, twice=True)``.
# Asked for with the message, not after it: Telegram hands an update out again only until the
# bot confirms it (a confirmed update is forgotten), Slack retries an event it got no timely
# answer for; both carry the same id (update_id, event_id) the second time.
REDELIVERY = "redelivery"
UNKNOWN_USERS = "unknown-users"  # anybody can write to the bot, registered or not

SETTLE_TIMEOUT = 10.0


# -- what the customer saw ----------------------------------------------------------------------


_SLACK_LINK = re.compile(r"<((?:https?|mailto):[^|>]*)\|([^>]*)>")
_SLACK_BARE = re.compile(r"<((?:https?|mailto):[^>]*)>")
_SLACK_MENTION = re.compile(r"<([@#!][^|>]*)(?:\|([^>]*))?>")
_HTML_TAG = re.compile(r"</?(?:b|strong|i|em|u|ins|s|strike|del|code|pre|a|tg-spoiler|span|"
                       r"blockquote)(?:\s[^>]*)?>", re.IGNORECASE)
_EMPHASIS = re.compile(r"(?<![\w*_~`])([*_~])(?=\S)(.+?)(?<=\S)\1(?![\w*_~`])")
_CODE = re.compile(r"`([^`\n]+)`")


_SLACK_COMMAND = re.compile(r"/destek (?=[a-z])")


def flatten(text: str) -> str:
    """Plain text of a chat message, the same way for every channel: Slack mrkdwn (links,
    mentions, *bold*, _italic_, ~strike~, `code`) and Telegram HTML (tags, entities) are
    reduced to their words; each line's whitespace is collapsed and empty lines dropped."""
    text = _SLACK_LINK.sub(r"\2", text)
    text = _SLACK_BARE.sub(r"\1", text)
    text = _SLACK_MENTION.sub(lambda m: m.group(2) or m.group(1), text)
    text = _HTML_TAG.sub("", text)
    text = _CODE.sub(r"\1", text)
    text = _EMPHASIS.sub(r"\2", text)
    text = html.unescape(text)
    # Slack writes every command as an argument of its one slash command: "/destek access N"
    # is "/access N" elsewhere.
    text = _SLACK_COMMAND.sub("/", text)
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


@dataclass(frozen=True)
class Seen:
    """One message as its reader saw it: its text and the labels of its choices (buttons,
    or the console's numbered list), as the platform delivered them."""

    text: str
    choices: tuple[str, ...] = ()

    @property
    def plain(self) -> str:
        return flatten(self.text)

    def normal(self) -> tuple[str, tuple[str, ...]]:
        """What must be equal on every channel (modulo rendering)."""
        return self.plain, tuple(flatten(c) for c in self.choices)


def choice_index(choices: Sequence[str], wanted: str) -> int:
    """The position of the choice labelled ``wanted`` (case-insensitive)."""
    low = wanted.casefold()
    for i, label in enumerate(choices):
        if flatten(label).casefold() == low:
            return i
    raise AssertionError(f"no choice {wanted!r} among {list(choices)}")


# -- the protocol -----------------------------------------------------------------------------


@dataclass
class Env:
    """What every driver is built from: the seeded database, the policy and the test clock."""

    engine: Engine
    url: str
    policy: Policy
    clock: Clock
    tmp: Path


class CapabilityMissing(RuntimeError):
    """The script asked a driver for something its platform cannot do (see ``lacks``)."""


class Driver(ABC):
    """A channel seen from the outside. Each action returns what the customer saw because of
    it (:class:`Seen`, direct replies first, then the delivered outbox messages)."""

    name: ClassVar[str]
    # The channel tickets record (Incoming.channel); the name unless a driver is a second
    # way into one channel (Slack Connect is Slack).
    platform: ClassVar[str] = ""
    # Capability -> why this platform has none; the script skips those steps, saying why.
    lacks: ClassVar[Mapping[str, str]] = {}

    def __init__(self) -> None:
        self.env: Env | None = None
        self.worker: DeliveryWorker | None = None
        self._customer: list[Seen] = []
        self._stranger: list[Seen] = []
        self._engineer: list[Seen] = []
        self.actions: list[tuple[str, str]] = []  # (who, what they typed or pressed), in order
        self._mark = 0

    # lifecycle ---------------------------------------------------------------------------------

    async def start(self, env: Env) -> None:
        self.env = env
        self.worker = DeliveryWorker(env.engine, self.senders(env), now=env.clock)
        await self._start(env)

    async def stop(self) -> None:
        try:
            await self._stop()
        finally:
            if self.worker is not None:
                await self.worker.stop()  # closes the senders

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("platform") and "name" in cls.__dict__:
            cls.platform = cls.name

    def can(self, capability: str) -> bool:
        return capability not in self.lacks

    # what a channel implements -------------------------------------------------------------------

    @abstractmethod
    def senders(self, env: Env) -> dict[str, Sender]:
        """The outbox senders of this channel (its real sender against its fake)."""

    @abstractmethod
    async def _start(self, env: Env) -> None: ...

    @abstractmethod
    async def _stop(self) -> None: ...

    @abstractmethod
    async def _stranger_writes(self, text: str) -> None: ...

    @abstractmethod
    async def _open_chat(self) -> None: ...

    @abstractmethod
    async def _customer_message(self, text: str, thread_of: int | None, twice: bool) -> None:
        """A plain message; ``thread_of``: in the conversation of that ticket (Slack: its
        thread); ``twice``: the platform delivers it twice (see REDELIVERY)."""

    @abstractmethod
    async def _customer_command(self, verb: str, args: Sequence[str]) -> None: ...

    @abstractmethod
    async def _press(self, choice: str) -> None: ...

    @abstractmethod
    async def _engineer_line(self, line: str) -> None: ...

    @abstractmethod
    def _collect(self) -> None:
        """Append what arrived since the last call to the customer's, stranger's and
        engineer's lists (``_customer``, ``_stranger``, ``_engineer``)."""

    # the neutral actions -----------------------------------------------------------------------

    async def unknown_refused_before_chat(self) -> bool:
        """For a channel that lacks UNKNOWN_USERS: whether it refuses an unknown person before
        any message is exchanged (and stores nothing)."""
        return False

    async def unknown_user_writes(self, text: str) -> list[Seen]:
        """Someone the directory does not know writes ``text``; what they saw."""
        self._require(UNKNOWN_USERS)
        before = len(self._stranger)
        await self._stranger_writes(text)
        await self._after()
        return self._stranger[before:]

    async def open_chat(self) -> list[Seen]:
        """The customer opens the conversation with the bot (console: the chat session starts;
        Telegram: /start; Slack: the first DM)."""
        await self._open_chat()
        return await self._after()

    async def customer_says(self, text: str, *, twice: bool = False) -> list[Seen]:
        """A plain message (a dialog answer); ``twice``: delivered twice by the platform."""
        self.actions.append(("customer", text + (" (delivered twice)" if twice else "")))
        if twice:
            self._require(REDELIVERY)
        await self._customer_message(text, None, twice)
        return await self._after()

    async def customer_answers(self, ticket: int, text: str) -> list[Seen]:
        """A message in ticket ``ticket``'s conversation: Slack, a reply in its thread;
        elsewhere the next plain message."""
        self.actions.append(("customer", f"{text} (on #{ticket})"))
        await self._customer_message(text, ticket, False)
        return await self._after()

    async def customer_command(self, verb: str, *args: str) -> list[Seen]:
        """Console and Telegram ``/verb args``; Slack ``/destek verb args``."""
        self.actions.append(("customer", "/" + " ".join((verb, *args))))
        await self._customer_command(verb, args)
        return await self._after()

    async def press(self, choice: str) -> list[Seen]:
        """Press the choice labelled ``choice`` on the customer's latest message with choices
        (Telegram: callback query; Slack: block_actions; console: typing its number)."""
        self.actions.append(("customer", f"[presses {choice}]"))
        await self._press(choice)
        return await self._after()

    async def engineer(self, line: str) -> list[Seen]:
        """The engineer runs a verb line (``ack 3``); what the customer saw because of it."""
        self.actions.append(("engineer", line))
        await self._engineer_line(line)
        return await self._after()

    async def settled(self) -> list[Seen]:
        """After something outside the channel (a scheduler pass) queued messages: what the
        customer saw once they were delivered."""
        return await self._after()

    def customer_messages(self) -> list[Seen]:
        """Every message the customer saw so far, in order."""
        return list(self._customer)

    def engineer_messages(self) -> list[Seen]:
        """What the engineer saw (diagnostics: the replies to the verbs)."""
        return list(self._engineer)

    # plumbing ------------------------------------------------------------------------------------

    def _require(self, capability: str) -> None:
        if not self.can(capability):
            raise CapabilityMissing(f"{self.name} has no {capability}: {self.lacks[capability]}")

    async def _after(self) -> list[Seen]:
        """Direct replies, then the outbox delivered to completion: the customer's new ones."""
        self._collect()
        assert self.worker is not None
        await self.worker.drain()
        self._collect()
        new = self._customer[self._mark:]
        self._mark = len(self._customer)
        return new

    def _last_choices(self) -> Sequence[str]:
        for seen in reversed(self._customer):
            if seen.choices:
                return seen.choices
        raise AssertionError("the customer has seen no message with choices")


def _settings(env: Env, **values: Any) -> Settings:
    return Settings(_env_file=None, DATABASE_URL=env.url,  # type: ignore[call-arg]
                    DESTEK_DATA_DIR=env.tmp / "data", **values)


# -- console ---------------------------------------------------------------------------------


_CHOICE_LINE = re.compile(r"^  (\d+)\) (.*)$")


class _Terminal:
    """One ``destek chat --as REF`` session (``run_console``) in a thread: ``type`` a line,
    then wait for the next prompt; every ``stdout.write`` but the prompt is one message."""

    PROMPT = "> "

    def __init__(self, engine: Engine, cfg: IntakeConfig, ref: str, clock: Clock) -> None:
        self.chunks: list[str] = []
        self.status: int | None = None
        self._lines: queue.Queue[str] = queue.Queue()
        self._cond = threading.Condition()
        self._prompts = 0
        self._args = (engine, cfg, ref, clock)
        self._thread = threading.Thread(target=self._main, name=f"console-{ref}", daemon=True)

    # the terminal, as run_console sees it
    def readline(self) -> str:
        return self._lines.get()

    def write(self, text: str) -> int:
        with self._cond:
            if text == self.PROMPT:
                self._prompts += 1
            else:
                self.chunks.append(text)
            self._cond.notify_all()
        return len(text)

    def flush(self) -> None:
        return None

    def _main(self) -> None:
        engine, cfg, ref, clock = self._args
        try:
            self.status = run_console(engine, cfg, ref, cast(TextIO, self), cast(TextIO, self),
                                      now=clock)
        finally:
            with self._cond:
                self._cond.notify_all()

    # the person at the keyboard
    async def open(self) -> int | None:
        """Start the session; waits for its first prompt (or its end: a refusal)."""
        self._thread.start()
        await self._wait(0)
        return self.status

    async def type(self, line: str) -> None:
        prompts = self._prompts
        self._lines.put(line + "\n")
        await self._wait(prompts)

    async def close(self) -> None:
        if self._thread.is_alive():
            self._lines.put("")  # end of input: run_console says goodbye and returns
            await asyncio.to_thread(self._thread.join, SETTLE_TIMEOUT)

    async def _wait(self, prompts: int) -> None:
        def wait() -> bool:
            with self._cond:
                return self._cond.wait_for(
                    lambda: self._prompts > prompts or not self._thread.is_alive(),
                    SETTLE_TIMEOUT)

        if not await asyncio.to_thread(wait):
            raise TimeoutError(f"the console did not answer within {SETTLE_TIMEOUT}s")

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()


def _console_seen(chunk: str) -> Seen:
    """``bot.channels.console.render`` read back: the text, then its choices numbered."""
    lines = chunk.rstrip("\n").split("\n")
    choices: list[str] = []
    while lines and (m := _CHOICE_LINE.match(lines[-1])):
        choices.insert(0, m.group(2))
        lines.pop()
    return Seen("\n".join(lines), tuple(choices))


class ConsoleDriver(Driver):
    """The terminal chat (``destek chat --as``): the customer and the engineer each have a
    session; outbox messages are the ``ConsoleSender`` log lines addressed to the customer.

    The console has no engineers' channel of its own: engineers' notices go to a console
    destination (a log line), so that they can be observed like on the other channels."""

    name = "console"
    lacks = {
        REDELIVERY: "a terminal line is read once: the console has no platform that could "
                    "deliver a message twice",
        UNKNOWN_USERS: "the console chat is opened for a directory contact (destek chat --as "
                       "CONTACT); an unknown one is refused by the command line (exit status 2) "
                       "before any message is exchanged",
    }
    ENGINEERS = "engineers"

    def __init__(self) -> None:
        super().__init__()
        self._log = Path()
        self._log_lines = 0
        self._cursor = 0
        self._eng_cursor = 0
        self._customer_term: _Terminal | None = None
        self._engineer_term: _Terminal | None = None
        self._cfg: IntakeConfig | None = None
        self._target = ""
        self.unknown_status: int | None = None

    def senders(self, env: Env) -> dict[str, Sender]:
        self._log = env.tmp / "data" / "console-outbox.log"
        return {"console": ConsoleSender(self._log)}

    async def _start(self, env: Env) -> None:
        cfg = intake_config(_settings(env), env.policy)
        self._cfg = replace(cfg, routing=Routing(
            engineers=(Destination("console", self.ENGINEERS),)))
        with Session(env.engine) as s:
            contact = find_contact(s, CUSTOMER)
            assert contact is not None
            self._target = str(contact.id)  # a console ticket's conversation: the contact id
        self._customer_term = self._terminal(CUSTOMER)

    def _terminal(self, ref: str) -> _Terminal:
        assert self.env is not None and self._cfg is not None
        return _Terminal(self.env.engine, self._cfg, ref, self.env.clock)

    async def _stop(self) -> None:
        for term in (self._customer_term, self._engineer_term):
            if term is not None:
                await term.close()

    async def _stranger_writes(self, text: str) -> None:  # pragma: no cover - lacks it
        raise CapabilityMissing(self.lacks[UNKNOWN_USERS])

    async def unknown_refused_before_chat(self) -> bool:
        """``destek chat --as`` a contact the directory does not know: run_console returns 2
        (the command line's "unknown contact") without a word of chat."""
        term = self._terminal("Nobody Here")
        self.unknown_status = await term.open()
        return self.unknown_status == 2 and not term.chunks

    async def _open_chat(self) -> None:
        assert self._customer_term is not None
        await self._customer_term.open()

    async def _customer_message(self, text: str, thread_of: int | None, twice: bool) -> None:
        assert self._customer_term is not None
        await self._customer_term.type(text)
        if thread_of is None:
            return
        # A flat conversation cannot say which ticket a message is about: with several open,
        # the bot asks (handlers.follow_up) and the customer picks the ticket.
        self._collect()
        last = self._customer[-1].choices if self._customer else ()
        pick = next((i for i, label in enumerate(last) if label.startswith(f"#{thread_of} ")),
                    None)
        if pick is not None:
            await self._customer_term.type(str(pick + 1))

    async def _customer_command(self, verb: str, args: Sequence[str]) -> None:
        await self._customer_message("/" + " ".join((verb, *args)), None, False)

    async def _press(self, choice: str) -> None:
        number = choice_index(self._last_choices(), choice) + 1
        await self._customer_message(str(number), None, False)

    async def _engineer_line(self, line: str) -> None:
        if self._engineer_term is None:
            self._engineer_term = self._terminal(ENGINEER)
            await self._engineer_term.open()
        await self._engineer_term.type("/" + line)

    def _canonical(self, text: str) -> str:
        """The console's attachment hint says how to attach on a terminal (type a path):
        rendering, so it reads as the other channels' hint."""
        assert self._cfg is not None
        mb = f"{self._cfg.max_attachment_bytes / (1024 * 1024):g}"
        for n in range(self._cfg.max_attachments + 1):
            for lang in ("en", "tr"):
                text = text.replace(t("hint.attach.console", lang, mb=mb, n=n),
                                    t("hint.attach", lang, mb=mb, n=n))
        return text

    def _collect(self) -> None:
        if self._customer_term is not None:
            for chunk in self._customer_term.chunks[self._cursor:]:
                seen = _console_seen(chunk)
                self._customer.append(replace(seen, text=self._canonical(seen.text)))
            self._cursor = len(self._customer_term.chunks)
        if self._engineer_term is not None:
            self._engineer += [_console_seen(c)
                               for c in self._engineer_term.chunks[self._eng_cursor:]]
            self._eng_cursor = len(self._engineer_term.chunks)
        if self._log.is_file():
            lines = self._log.read_text(encoding="utf-8").splitlines()
            for line in lines[self._log_lines:]:
                target, _, text = line.partition("] ")
                if target == f"[{self._target}":  # ConsoleSender: "[target] text | more"
                    # its choices (the survey's) numbered as a reply's: typed back
                    self._customer.append(_console_seen(text.replace(" | ", "\n")))
            self._log_lines = len(lines)


# -- Telegram --------------------------------------------------------------------------------


class TelegramDriver(Driver):
    """python-telegram-bot (polling) against the fake Bot API: each update is waited for
    until the bot confirms it (its next getUpdates offset), which it does once handled."""

    name = "telegram"
    TOKEN = "123456:CONTRACT-TOKEN"
    CUSTOMER_ID, ENGINEER_ID, STRANGER_ID = 2001, 9002, 5555
    ENGINEERS_CHAT = "-100200300"

    def __init__(self) -> None:
        super().__init__()
        self.fake = FakeTelegram(self.TOKEN)
        self.channel: TelegramChannel | None = None
        self._cursors = {self.CUSTOMER_ID: 0, self.STRANGER_ID: 0, self.ENGINEER_ID: 0}

    def senders(self, env: Env) -> dict[str, Sender]:
        return {"telegram": TelegramSender(self.TOKEN, self.fake.base_url)}

    async def start(self, env: Env) -> None:
        await self.fake.start()  # the senders need its address
        await super().start(env)

    async def _start(self, env: Env) -> None:
        settings = _settings(env, TELEGRAM_BOT_TOKEN=self.TOKEN,
                             TELEGRAM_API_URL=self.fake.base_url,
                             DESTEK_ENGINEERS_TELEGRAM_CHAT=self.ENGINEERS_CHAT)
        self.channel = TelegramChannel(settings, env.engine, intake_config(settings, env.policy),
                                       now=env.clock, poll_timeout=1)
        await self.channel.start()

    async def _stop(self) -> None:
        try:
            if self.channel is not None:
                await self.channel.stop()
        finally:
            await self.fake.stop()

    async def _handled(self, *updates: dict[str, Any]) -> None:
        for update in updates:
            await self.fake.wait_confirmed(int(update["update_id"]), SETTLE_TIMEOUT)

    async def _stranger_writes(self, text: str) -> None:
        await self._handled(self.fake.text(self.STRANGER_ID, text, "en"))

    async def _open_chat(self) -> None:
        await self._handled(self.fake.text(self.CUSTOMER_ID, "/start", "en"))

    async def _customer_message(self, text: str, thread_of: int | None, twice: bool) -> None:
        # In a ticket's conversation: a reply to the bot's latest message about that ticket.
        about = None if thread_of is None else next(
            (c.result["message_id"] for c in reversed(self.fake.sent(chat_id=self.CUSTOMER_ID))
             if isinstance(c.result, dict) and f"#{thread_of}" in str(c.params.get("text"))),
            None)
        update = self.fake.text(self.CUSTOMER_ID, text, "en", reply_to=about)
        if twice:
            # Telegram hands an update out again until the bot confirms it: the second
            # delivery is queued before the bot's next getUpdates, with the same update_id.
            self.fake.push(update, update_id=update["update_id"])
        await self._handled(update)
        if twice and self.fake.handed_out.count(int(update["update_id"])) < 2:
            raise AssertionError(f"update {update['update_id']} was not handed out twice")

    async def _customer_command(self, verb: str, args: Sequence[str]) -> None:
        text = "/" + " ".join((verb, *args))
        await self._handled(self.fake.text(self.CUSTOMER_ID, text, "en"))

    async def _press(self, choice: str) -> None:
        msg = next((c for c in reversed(self.fake.sent(chat_id=self.CUSTOMER_ID))
                    if c.buttons()), None)
        if msg is None:
            raise AssertionError("the customer has seen no message with buttons")
        buttons = msg.buttons()
        label = list(buttons)[choice_index(list(buttons), choice)]
        update = self.fake.press(self.CUSTOMER_ID, buttons[label], message=msg.result, lang="en")
        await self._handled(update)

    async def _engineer_line(self, line: str) -> None:
        await self._handled(self.fake.text(self.ENGINEER_ID, "/" + line, "en"))

    @staticmethod
    def _seen(call: Call) -> Seen:
        return Seen(call.text, tuple(call.buttons()))

    def _collect(self) -> None:
        for chat, into in ((self.CUSTOMER_ID, self._customer), (self.STRANGER_ID, self._stranger),
                           (self.ENGINEER_ID, self._engineer)):
            sent = self.fake.sent("sendMessage", chat_id=chat)
            into += [self._seen(c) for c in sent[self._cursors[chat]:]]
            self._cursors[chat] = len(sent)


# -- Slack -----------------------------------------------------------------------------------


async def settle_bolt(timeout: float = SETTLE_TIMEOUT) -> None:
    """Wait for Bolt's lazy listeners (they run after the HTTP response)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = [task for task in asyncio.all_tasks() if not task.done() and getattr(
            task.get_coro(), "__qualname__", "") == "to_runnable_function"]
        if not busy:
            return
        await asyncio.wait(busy, timeout=max(0.0, deadline - time.monotonic()))
    raise TimeoutError("Bolt's lazy listeners did not finish")


class SlackDriver(Driver):
    """The Bolt app in HTTP mode: signed events, slash commands and interactivity posted to
    /slack/events (httpx, in process), Web API calls answered by the fake (slack_sdk).

    The customer talks in the DM with the app; their slash commands' answers (ephemeral,
    through response_url) are theirs too. The DM's "open the report form" offer is a Slack
    affordance (a button opening the modal), not a message of the contract: it is left out."""

    name = "slack"
    SECRET = "contract-signing-secret"
    CUSTOMER_ID, ENGINEER_ID, STRANGER_ID = "U0GULF01", "U0ENG002", "U0STRANGER"
    ENGINEERS_CHANNEL = "C0ENG"

    def __init__(self) -> None:
        super().__init__()
        self.fake = FakeSlackApi()
        self.bot: SlackBot | None = None
        self.http: httpx.AsyncClient | None = None
        self._ids = itertools.count(1)
        self._posted = 0
        self._responses = 0

    @staticmethod
    def dm(user: str) -> str:
        return "D" + user[1:]  # the fake's conversations.open names IMs this way too

    def senders(self, env: Env) -> dict[str, Sender]:
        return {"slack": SlackSender("xoxb-contract", self.fake.base_url)}

    async def start(self, env: Env) -> None:
        await self.fake.start()
        await super().start(env)

    async def _start(self, env: Env) -> None:
        settings = _settings(env, SLACK_BOT_TOKEN="xoxb-contract",
                             SLACK_SIGNING_SECRET=self.SECRET, SLACK_API_URL=self.fake.base_url,
                             DESTEK_ENGINEERS_SLACK_CHANNEL=self.ENGINEERS_CHANNEL)
        self.bot = SlackBot(settings, engine=env.engine, policy=env.policy, clock=env.clock)
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.bot.asgi()),
                                      base_url="http://destek.test")

    async def _stop(self) -> None:
        try:
            if self.http is not None:
                await self.http.aclose()
            if self.bot is not None:
                await self.bot.close()
        finally:
            await self.fake.stop()

    # requests ----------------------------------------------------------------------------------

    async def _post(self, body: str, ctype: str, headers: Mapping[str, str] | None = None) -> None:
        assert self.http is not None
        stamp = str(int(time.time()))
        signature = SignatureVerifier(self.SECRET).generate_signature(timestamp=stamp, body=body)
        assert signature is not None
        resp = await self.http.post("/slack/events", content=body, headers={
            "content-type": ctype, "x-slack-request-timestamp": stamp,
            "x-slack-signature": signature, **(headers or {})})
        if resp.status_code != 200:
            raise AssertionError(f"/slack/events answered {resp.status_code}: {resp.text}")
        await settle_bolt()

    async def _command(self, user: str, text: str, channel: str, who: str) -> None:
        n = next(self._ids)
        await self._post(urlencode({
            "token": "x", "team_id": "T0TEST", "team_domain": "test", "channel_id": channel,
            "channel_name": "directmessage" if channel.startswith("D") else "support",
            "user_id": user, "user_name": user.lower(), "command": "/destek", "text": text,
            "api_app_id": "A0DESTEK", "response_url": self.fake.response_url(f"{who}-{n}"),
            "trigger_id": f"trig.{n}",
        }), "application/x-www-form-urlencoded")

    async def _dm(self, user: str, text: str, thread: str | None = None,
                  twice: bool = False) -> None:
        event: dict[str, Any] = {"type": "message", "channel": self.dm(user), "user": user,
                                 "text": text, "ts": f"{time.time():.6f}", "channel_type": "im"}
        if thread:
            event["thread_ts"] = thread
        body = json.dumps(event_envelope(event, f"EvC{next(self._ids):08d}"))
        await self._post(body, "application/json")
        if twice:  # Slack's retry of the same event (same event_id), as after a slow answer
            await self._post(body, "application/json", {"x-slack-retry-num": "1",
                                                         "x-slack-retry-reason": "http_timeout"})

    def _posts(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(stored message with its ts, chat.postMessage arguments), in order."""
        calls = self.fake.calls_to("chat.postMessage")
        assert len(calls) == len(self.fake.posted)  # both recorded once per successful post
        return list(zip(self.fake.posted, (c.args for c in calls), strict=True))

    @staticmethod
    def _blocks(args: Mapping[str, Any]) -> list[dict[str, Any]]:
        raw = args.get("blocks") or []
        return json.loads(raw) if isinstance(raw, str) else list(raw)

    @classmethod
    def _buttons(cls, args: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [el for block in cls._blocks(args) if block.get("type") == "actions"
                for el in block.get("elements") or [] if el.get("type") == "button"]

    @classmethod
    def _seen(cls, args: Mapping[str, Any]) -> Seen | None:
        buttons = cls._buttons(args)
        if any(b.get("action_id") == slack_blocks.FORM_ACTION for b in buttons):
            return None  # the modal's offer: a Slack affordance (see the class docstring)
        labels = tuple(b["text"]["text"] for b in buttons
                       if str(b.get("action_id", "")).startswith(slack_blocks.CHOICE_ACTION))
        return Seen(str(args.get("text") or ""), labels)

    # the actions ---------------------------------------------------------------------------------

    async def _stranger_writes(self, text: str) -> None:
        await self._dm(self.STRANGER_ID, text)

    async def _open_chat(self) -> None:
        await self._dm(self.CUSTOMER_ID, "Hello")

    def _thread_of(self, ticket: int) -> str | None:
        """The thread of ticket ``ticket`` in the DM, as the customer finds it: where the
        latest message about ``#ticket`` was posted (the confirmation is the thread's root)."""
        mention = re.compile(rf"#{ticket}(?!\d)")
        for stored, _ in reversed(self._posts()):
            if stored["channel"] == self.dm(self.CUSTOMER_ID) and mention.search(
                    stored["text"] or ""):
                return str(stored["thread_ts"] or stored["ts"])
        return None

    async def _customer_message(self, text: str, thread_of: int | None, twice: bool) -> None:
        thread = self._thread_of(thread_of) if thread_of is not None else None
        if thread_of is not None and thread is None:
            raise AssertionError(f"no thread of ticket #{thread_of} in the customer's DM")
        await self._dm(self.CUSTOMER_ID, text, thread, twice)

    async def _customer_command(self, verb: str, args: Sequence[str]) -> None:
        await self._command(self.CUSTOMER_ID, " ".join((verb, *args)), self.dm(self.CUSTOMER_ID),
                            "customer")

    async def _press(self, choice: str) -> None:
        channel = self.dm(self.CUSTOMER_ID)
        for stored, args in reversed(self._posts()):
            buttons = [b for b in self._buttons(args) if str(b.get("action_id", "")).startswith(
                slack_blocks.CHOICE_ACTION)]
            if stored["channel"] != channel or not buttons:
                continue
            button = buttons[choice_index([b["text"]["text"] for b in buttons], choice)]
            payload = {
                "type": "block_actions", "team": {"id": "T0TEST"}, "api_app_id": "A0DESTEK",
                "token": "x", "user": {"id": self.CUSTOMER_ID},
                "trigger_id": f"trig.{next(self._ids)}", "channel": {"id": channel},
                "message": {"ts": stored["ts"], "text": stored["text"]},
                "container": {"type": "message", "message_ts": stored["ts"],
                              "channel_id": channel},
                "actions": [{"action_id": button["action_id"], "block_id": "b",
                             "type": "button", "value": button["value"],
                             "action_ts": str(time.time())}],
            }
            await self._post(urlencode({"payload": json.dumps(payload)}),
                             "application/x-www-form-urlencoded")
            return
        raise AssertionError("the customer has seen no message with buttons")

    async def _engineer_line(self, line: str) -> None:
        await self._command(self.ENGINEER_ID, line, self.ENGINEERS_CHANNEL, "engineer")

    def _collect(self) -> None:
        who_of: dict[str, list[Seen]] = {"customer": self._customer, "stranger": self._stranger,
                                         "engineer": self._engineer}
        for response in self.fake.responses[self._responses:]:
            into = who_of.get(str(response.get("key", "")).split("-")[0])
            if into is not None:
                into.append(Seen(str(response.get("text") or ""), tuple(
                    b["text"]["text"] for b in self._buttons(response))))
        self._responses = len(self.fake.responses)
        channels = {self.dm(self.CUSTOMER_ID): self._customer,
                    self.dm(self.STRANGER_ID): self._stranger}
        posts = self._posts()
        for stored, args in posts[self._posted:]:
            into = channels.get(stored["channel"])
            seen = self._seen(args)
            if into is not None and seen is not None:
                into.append(seen)
        self._posted = len(posts)


class SlackConnectDriver(SlackDriver):
    """The Bolt app serving a Slack Connect channel shared with the customer's organisation:
    the customer (a user of Gulf Bank's own Slack team) writes in the channel mapped to Gulf
    Bank, each report and each ``@destek VERB`` in the thread of the message that started it,
    dialog answers in the dialog's thread, answers on a ticket in the ticket's thread. The
    stranger writes there too and is answered by an ephemeral message; the engineer works from
    the engineers' channel. Events are shaped as Slack sends them from a shared channel
    (``is_ext_shared_channel``, the writer's team in ``user_team``)."""

    name = "slack-connect"
    platform = "slack"
    CHANNEL_ID, TEAM = "C0GULF001", "T0GULF000"

    async def _start(self, env: Env) -> None:
        from sqlmodel import select

        from storage.chats import map_chat
        from storage.directory import set_identity
        from storage.models import ContactIdentity

        with Session(env.engine) as s:  # Omar is a user of his own organisation's Slack team
            contact = find_contact(s, CUSTOMER)
            assert contact is not None
            for row in s.exec(select(ContactIdentity).where(
                    ContactIdentity.contact_id == contact.id,
                    ContactIdentity.channel == "slack")):
                s.delete(row)
            s.flush()
            set_identity(s, contact, "slack", self.CUSTOMER_ID, self.TEAM)
            map_chat(s, "GULFBANK", "slack", self.CHANNEL_ID)
            s.commit()
        await super()._start(env)

    async def _say(self, user: str, text: str, thread: str | None = None,
                   twice: bool = False) -> str:
        ts = f"{time.time():.6f}"
        event = channel_message(self.CHANNEL_ID, user, self.TEAM, text, ts, thread_ts=thread)
        body = json.dumps(event_envelope(event, f"EvC{next(self._ids):08d}", shared=True))
        await self._post(body, "application/json")
        if twice:
            await self._post(body, "application/json", {"x-slack-retry-num": "1",
                                                         "x-slack-retry-reason": "http_timeout"})
        return ts

    def _dialog_thread(self) -> str | None:
        from sqlmodel import select

        from storage.models import DialogSession

        assert self.env is not None
        with Session(self.env.engine) as s:
            row = s.exec(select(DialogSession).where(
                DialogSession.user_key == self.CUSTOMER_ID)).first()
            return row.thread if row is not None else None

    def _ticket_thread(self, ticket: int) -> str | None:
        from storage.models import Ticket

        assert self.env is not None
        with Session(self.env.engine) as s:
            row = s.get(Ticket, ticket)
            return row.channel_thread if row is not None else None

    async def _stranger_writes(self, text: str) -> None:
        await self._say(self.STRANGER_ID, text)

    async def _open_chat(self) -> None:
        await self._say(self.CUSTOMER_ID, "Hello")

    async def _customer_message(self, text: str, thread_of: int | None, twice: bool) -> None:
        thread = (self._ticket_thread(thread_of) if thread_of is not None
                  else self._dialog_thread())
        if thread_of is not None and thread is None:
            raise AssertionError(f"ticket #{thread_of} has no thread in the shared channel")
        await self._say(self.CUSTOMER_ID, text, thread, twice)

    async def _customer_command(self, verb: str, args: Sequence[str]) -> None:
        ts = f"{time.time():.6f}"
        text = " ".join(("<@UBOT>", verb, *args))
        for kind in (True, False):  # Slack sends a mention as app_mention and as message
            event = channel_message(self.CHANNEL_ID, self.CUSTOMER_ID, self.TEAM, text, ts,
                                    mention=kind)
            await self._post(json.dumps(event_envelope(event, f"EvC{next(self._ids):08d}",
                                                       shared=True)), "application/json")

    async def _press(self, choice: str) -> None:
        for stored, args in reversed(self._posts()):
            buttons = [b for b in self._buttons(args) if str(b.get("action_id", "")).startswith(
                slack_blocks.CHOICE_ACTION)]
            if stored["channel"] != self.CHANNEL_ID or not buttons:
                continue
            button = buttons[choice_index([b["text"]["text"] for b in buttons], choice)]
            thread = stored["thread_ts"]
            payload = {
                "type": "block_actions", "team": {"id": self.TEAM}, "api_app_id": "A0DESTEK",
                "token": "x", "user": {"id": self.CUSTOMER_ID, "team_id": self.TEAM},
                "trigger_id": f"trig.{next(self._ids)}", "channel": {"id": self.CHANNEL_ID},
                "message": {"ts": stored["ts"], "text": stored["text"], "thread_ts": thread},
                "container": {"type": "message", "message_ts": stored["ts"],
                              "channel_id": self.CHANNEL_ID, "thread_ts": thread},
                "actions": [{"action_id": button["action_id"], "block_id": "b",
                             "type": "button", "value": button["value"],
                             "action_ts": str(time.time())}],
            }
            await self._post(urlencode({"payload": json.dumps(payload)}),
                             "application/x-www-form-urlencoded")
            return
        raise AssertionError("the customer has seen no message with buttons")

    @classmethod
    def _seen(cls, args: Mapping[str, Any]) -> Seen | None:
        seen = super()._seen(args)
        # In the shared channel a command is written as a mention of the bot ("@destek
        # access N"), the slash command elsewhere on Slack.
        return replace(seen, text=seen.text.replace("<@UBOT> ", "/destek ")) if seen else None

    def _collect(self) -> None:
        self._engineer_collect()
        ephemerals = self.fake.calls_to("chat.postEphemeral")
        for call in ephemerals[self._ephemerals:]:
            if call.args.get("user") == self.STRANGER_ID:
                self._stranger.append(Seen(str(call.args.get("text") or "")))
        self._ephemerals = len(ephemerals)
        posts = self._posts()
        for stored, args in posts[self._posted:]:
            seen = self._seen(args)
            if stored["channel"] == self.CHANNEL_ID and seen is not None:
                self._customer.append(seen)
        self._posted = len(posts)

    def _engineer_collect(self) -> None:
        for response in self.fake.responses[self._responses:]:
            if str(response.get("key", "")).startswith("engineer"):
                self._engineer.append(Seen(str(response.get("text") or "")))
        self._responses = len(self.fake.responses)

    _ephemerals = 0


# -- the registry ------------------------------------------------------------------------------

# Every registered channel runs the contract (tests/contract/conftest.py ``driver``); a new
# channel is one more entry here.
DRIVERS: list[type[Driver]] = [ConsoleDriver, TelegramDriver, SlackDriver,
                              SlackConnectDriver]
