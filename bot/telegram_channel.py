"""Telegram channel (python-telegram-bot 22): translates updates to the intake engine and back.

Polling by default, a webhook when TELEGRAM_WEBHOOK_URL is set. Choices become inline
keyboards (callback data ``STEP|VALUE``), photos and documents become attachments. Every update
is processed once: its ``telegram:<update_id>`` key is stored in the same transaction as its
effect. Sending goes through PTB's AIORateLimiter, which honours 429 ``retry_after``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ContextTypes, TypeHandler

from handlers import customer_verbs
from handlers.dispatch import route
from handlers.i18n import register, t
from handlers.intake import IntakeConfig
from handlers.types import COMMAND_STEP, Incoming, IncomingFile, Reply
from storage import deliveries
from storage.clock import Clock, system_clock
from storage.db import session_scope

from .config import Settings

log = logging.getLogger("destek.telegram")
CHANNEL = "telegram"
TELEGRAM_FILE_LIMIT = 20 * 1024 * 1024  # bots cannot download bigger files

register({
    "tg.cmd.start": {"en": "Start reporting an incident", "tr": "Arıza bildirmeye başla"},
    "tg.cmd.new": {"en": "New report", "tr": "Yeni bildirim"},
    "tg.cmd.status": {"en": "Status of a ticket: /status N", "tr": "Kayıt durumu: /status N"},
    "tg.cmd.list": {"en": "Your organisation's open tickets", "tr": "Kurumunuzun açık kayıtları"},
    "tg.cmd.access": {"en": "Remote access given: /access N HOW",
                      "tr": "Uzaktan erişim verildi: /access N NASIL"},
    "tg.cmd.plan": {"en": "Announce planned work: /plan PRODUCT VERSION DATE HH:MM-HH:MM",
                    "tr": "Planlı çalışma bildir: /plan ÜRÜN SÜRÜM TARİH SS:DD-SS:DD"},
    "tg.cmd.cancel": {"en": "Cancel the report in progress", "tr": "Devam eden bildirimi iptal et"},
    "tg.cmd.lang": {"en": "Language: /lang tr or /lang en", "tr": "Dil: /lang tr ya da /lang en"},
    "tg.cmd.help": {"en": "Help", "tr": "Yardım"},
    "tg.chosen": {"en": "✔ {label}", "tr": "✔ {label}"},
})


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """Inline buttons for a reply's choices; ``STEP|VALUE`` comes back as callback data."""
    if not reply.choices:
        return None
    step = reply.meta.get("step", "")
    buttons = []
    for i, c in enumerate(reply.choices):
        data = f"{step}|{c.value}"
        if len(data.encode()) > 64:  # Telegram's callback_data limit: send the position
            if step == COMMAND_STEP:
                continue  # a command line has no position to send: it is typed instead
            data = f"{step}|{i + 1}"
        buttons.append(InlineKeyboardButton(c.label[:64], callback_data=data))
    short = all(len(c.label) <= 14 for c in reply.choices)
    width = 2 if short else 1
    return InlineKeyboardMarkup([buttons[i:i + width] for i in range(0, len(buttons), width)])


def bot_commands(lang: str) -> list[BotCommand]:
    return [BotCommand(c, t(f"tg.cmd.{c}", lang)) for c in customer_verbs.VERBS]


class WebhookConfigError(RuntimeError):
    """Webhook mode asked for without what makes it safe; the message says what to set."""


# Telegram's rule for setWebhook's secret_token: 1-256 of A-Z, a-z, 0-9, _ and -.
_SECRET_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def webhook_problem(settings: Settings) -> None:
    """Refuse webhook mode without ``TELEGRAM_WEBHOOK_SECRET``: anyone who finds the URL could
    post updates as any user (an engineer's verb ran from an unauthenticated POST). Telegram
    sends the secret in ``X-Telegram-Bot-Api-Secret-Token``; PTB rejects requests without it.
    One secret from the settings, not a generated one: every replica must register the same."""
    if not settings.telegram_webhook_url:
        return
    secret = settings.telegram_webhook_secret or ""
    if not secret:
        raise WebhookConfigError(
            "TELEGRAM_WEBHOOK_URL is set but TELEGRAM_WEBHOOK_SECRET is not: set it to a random "
            "string of 16-256 letters, digits, _ or - (e.g. `python -c \"import secrets; "
            "print(secrets.token_urlsafe(32))\"`), or unset the URL to poll")
    if not 16 <= len(secret) <= 256 or not set(secret) <= _SECRET_CHARS:
        raise WebhookConfigError(
            "TELEGRAM_WEBHOOK_SECRET must be 16-256 characters of letters, digits, _ or -")


class TelegramChannel:
    """The Telegram service: ``start``/``stop`` for the runner, ``send`` for notifications."""

    name = CHANNEL

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        cfg: IntakeConfig,
        *,
        now: Clock = system_clock,
        overall_max_rate: float = 30,
        max_retries: int = 3,
        poll_timeout: int = 10,
        poll_interval: float = 0.0,
        offload: bool = True,
        concurrency: int | None = None,
    ) -> None:
        if not settings.telegram_bot_token:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        self.settings = settings
        self.engine = engine
        self.cfg = cfg
        self.now = now
        self.overall_max_rate = overall_max_rate
        self.max_retries = max_retries
        self.poll_timeout = poll_timeout
        self.poll_interval = poll_interval
        self.offload = offload  # database work in a thread, so the event loop never blocks
        # Updates of different users may run concurrently; one user's updates keep their
        # order. On SQLite (one writer) one at a time measured fastest: see the benchmark.
        sqlite = engine.dialect.name == "sqlite"
        self.concurrency = concurrency or (1 if sqlite else 8)
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        # SQLite has one writer: one database thread avoids lock waits; PostgreSQL takes more.
        workers = 1 if sqlite else 8
        self._db = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="destek-db")
        self.app: Application[Any, Any, Any, Any, Any, Any] | None = None
        self._poller: asyncio.Task[None] | None = None
        self._stopping = False
        self._waiting = False

    # -- lifecycle -----------------------------------------------------------------------

    def build(self) -> Application[Any, Any, Any, Any, Any, Any]:
        s = self.settings
        file_url = s.telegram_file_url or _file_url(s.telegram_api_url)
        builder = (
            Application.builder()
            .token(s.telegram_bot_token or "")
            .base_url(s.telegram_api_url)
            .base_file_url(file_url)
            .rate_limiter(AIORateLimiter(overall_max_rate=self.overall_max_rate,
                                         max_retries=self.max_retries))
            .get_updates_read_timeout(self.poll_timeout + 10)
            .concurrent_updates(self.concurrency)
        )
        app = builder.build()
        app.add_handler(TypeHandler(Update, self.on_update))
        app.add_error_handler(self._on_error)
        return app

    async def start(self) -> None:
        webhook_problem(self.settings)  # before anything is registered with Telegram
        self.app = app = self.build()
        await app.initialize()
        await app.bot.set_my_commands(bot_commands("en"))
        await app.bot.set_my_commands(bot_commands("tr"), language_code="tr")
        await app.start()
        assert app.updater is not None
        if self.settings.telegram_webhook_url:
            url = self.settings.telegram_webhook_url
            await app.updater.start_webhook(
                listen=self.settings.http_host, port=self.settings.http_port,
                url_path=urlparse(url).path.lstrip("/"), webhook_url=url,
                secret_token=self.settings.telegram_webhook_secret,
                allowed_updates=["message", "callback_query"],
            )
            log.info("telegram: webhook at %s", url)
        else:
            # Our own long-polling loop, not app.updater.start_polling: PTB's updater confirms a
            # batch (the next getUpdates offset) as soon as it is queued, so a crash lost every
            # fetched but unprocessed update. Here a batch is confirmed only once processed; a
            # crash gets it again and the delivery key makes the repeat harmless.
            await app.bot.delete_webhook(drop_pending_updates=False)
            self._stopping = False
            self._poller = asyncio.create_task(self._poll(app), name="telegram-polling")
            log.info("telegram: polling")

    async def _poll(self, app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        """Fetch, process, then confirm: the offset moves past a batch only after it ran."""
        offset: int | None = None
        delay = 1.0
        gate = asyncio.Semaphore(self.concurrency)
        while not self._stopping:
            try:
                self._waiting = True
                updates = await app.bot.get_updates(
                    offset=offset, timeout=self.poll_timeout,
                    allowed_updates=["message", "callback_query"],
                    read_timeout=self.poll_timeout + 10)
            except Exception as exc:  # noqa: BLE001 - network, 409 Conflict, flood control:
                log.warning("telegram getUpdates failed: %s", exc)  # the poller must go on
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            finally:
                self._waiting = False
            delay = 1.0
            if updates:
                if self.concurrency == 1:
                    await self._batch(app, updates)
                else:
                    await asyncio.gather(*(self._one(app, gate, u) for u in updates))
                offset = updates[-1].update_id + 1
            elif self.poll_interval:
                await asyncio.sleep(self.poll_interval)
        if offset is not None:  # confirm the last batch, so a clean restart does not repeat it
            try:
                await app.bot.get_updates(offset=offset, timeout=0, limit=1)
            except TelegramError as exc:
                log.info("could not confirm the last updates: %s", exc)

    @staticmethod
    async def _one(app: Application[Any, Any, Any, Any, Any, Any], gate: asyncio.Semaphore,
                   update: Update) -> None:
        async with gate:  # FIFO: one user's updates still start in order
            try:
                await app.process_update(update)
            except Exception:  # noqa: BLE001 - one update must not stop the poller
                log.exception("telegram update %s failed", update.update_id)

    async def _batch(self, app: Application[Any, Any, Any, Any, Any, Any],
                     updates: Sequence[Update]) -> None:
        """One fetched batch, in order, with one database transaction for all of it.

        Each update's delivery key still commits with its effect (the same transaction), and
        every reply goes out only after that commit; a crash before it gets the whole batch
        again, unconfirmed. One transaction instead of one per update is most of the cost
        saved on SQLite (a single writer, so updates ran one at a time anyway).
        """
        items: list[tuple[Update, str, Incoming, str | None]] = []
        for update in updates:
            try:
                incoming, label = await self._incoming(update, app.bot)
            except Exception:  # noqa: BLE001 - one update must not stop the poller
                log.exception("telegram update %s failed", update.update_id)
                continue
            if incoming is not None:
                items.append((update, f"telegram:{update.update_id}", incoming, label))
        if not items:
            return
        results = await self._run(self._process_batch, [(key, msg) for _, key, msg, _ in items])
        for (update, key, incoming, label), replies in zip(items, results, strict=True):
            if replies is _FAILED:
                continue  # logged where it failed
            try:
                await self._deliver(app.bot, update, key, incoming, label, replies)
            except Exception:  # noqa: BLE001 - one update must not stop the poller
                log.exception("telegram update %s failed", update.update_id)

    async def _stop_polling(self) -> None:
        task, self._poller = self._poller, None
        if task is None:
            return
        self._stopping = True
        if self._waiting:  # idle in a long poll: nothing half-done, stop at once
            task.cancel()
        try:
            await asyncio.wait_for(task, timeout=30)  # else let the running batch finish
        except (asyncio.CancelledError, TimeoutError):
            pass
        except Exception:  # noqa: BLE001 - stopping anyway
            log.exception("telegram polling failed")

    async def stop(self) -> None:
        app, self.app = self.app, None
        if app is None:
            return
        await self._stop_polling()
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    async def send(self, target: str, reply: Reply) -> None:
        """Send a reply to a chat (used by the runner for reminders and notices)."""
        assert self.app is not None, "telegram channel is not started"
        await self.app.bot.send_message(int(target), reply.text, reply_markup=keyboard(reply))

    # -- updates -------------------------------------------------------------------------

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram update failed: %s", context.error, exc_info=context.error)

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        who = str(user.id) if user is not None else ""
        # Taken before the first await: tasks start in update order and the lock is FIFO.
        lock, users = self._locks.get(who) or (asyncio.Lock(), 0)
        self._locks[who] = (lock, users + 1)
        try:
            async with lock:
                await self._on_update(update, context)
        finally:
            lock, users = self._locks[who]
            if users <= 1:
                del self._locks[who]
            else:
                self._locks[who] = (lock, users - 1)

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        key = f"telegram:{update.update_id}"
        incoming, answer_to = await self._incoming(update, context.bot)
        if incoming is None:
            return
        replies = await self._run(self._process, key, incoming)
        await self._deliver(context.bot, update, key, incoming, answer_to, replies)

    async def _deliver(self, bot: Any, update: Update, key: str, incoming: Incoming,
                       answer_to: str | None, replies: list[Reply] | None) -> None:
        """Send what one committed update answered (nothing new for a duplicate)."""
        if replies is None:  # delivered twice: the first delivery had the effect
            log.info("duplicate delivery %s ignored", key)
            if update.callback_query is not None:
                await update.callback_query.answer()
            return
        if update.callback_query is not None:
            await self._acknowledge(update, answer_to)
        chat_id = int(incoming.chat or incoming.user_key)
        for reply in replies:
            await bot.send_message(chat_id, reply.text, reply_markup=keyboard(reply))
            chart = Path(reply.meta["file"]) if reply.meta.get("file") else None
            if chart is not None and chart.is_file():  # /report: the chart follows its summary
                with chart.open("rb") as fh:
                    await bot.send_photo(chat_id, fh)

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self.offload:
            return await asyncio.get_running_loop().run_in_executor(self._db, fn, *args)
        return fn(*args)

    async def _acknowledge(self, update: Update, label: str | None) -> None:
        """Answer the callback query and mark the pressed choice on its message."""
        query = update.callback_query
        assert query is not None
        await query.answer()
        msg = query.message
        if label and isinstance(msg, Message) and msg.text:
            try:
                await query.edit_message_text(f"{msg.text}\n{t('tg.chosen', 'en', label=label)}")
            except TelegramError as exc:  # e.g. message too old to edit: the answer counts
                log.info("could not edit message: %s", exc)

    async def _incoming(self, update: Update, bot: Any) -> tuple[Incoming | None, str | None]:
        """The platform-neutral message for an update (files downloaded), plus a pressed label."""
        query = update.callback_query
        if query is not None and query.from_user is not None:
            user = query.from_user
            chat = query.message.chat.id if query.message is not None else user.id
            step, _, value = (query.data or "").partition("|")
            label = _button_label(query.message, query.data)
            return Incoming(CHANNEL, str(user.id), str(chat), text=value, button_step=step or None,
                            language_hint=user.language_code), label
        msg = update.message
        if msg is None or msg.from_user is None or msg.from_user.is_bot:
            return None, None
        user = msg.from_user
        base: dict[str, Any] = {"channel": CHANNEL, "user_key": str(user.id),
                                "chat": str(msg.chat.id), "language_hint": user.language_code}
        text = msg.text or msg.caption or None
        if text and text.startswith("/") and text[1:].split():  # a bare "/" is just text
            head, *args = text[1:].split()
            command = head.split("@")[0].lower()
            return Incoming(**base, command=command, args=tuple(args)), None
        files: list[IncomingFile] = []
        if msg.photo:
            largest = msg.photo[-1]
            data = await (await bot.get_file(largest.file_id)).download_as_bytearray()
            files.append(IncomingFile(f"photo_{largest.file_unique_id}.jpg", bytes(data),
                                      "image/jpeg"))
        if msg.document is not None:
            doc = msg.document
            name = doc.file_name or f"file_{doc.file_unique_id}"
            if (doc.file_size or 0) > min(self.cfg.max_attachment_bytes, TELEGRAM_FILE_LIMIT):
                # Too big to fetch: the engine still says why, from a size-only stand-in.
                files.append(IncomingFile(name, b"\0" * (self.cfg.max_attachment_bytes + 1),
                                          doc.mime_type))
            else:
                data = await (await bot.get_file(doc.file_id)).download_as_bytearray()
                files.append(IncomingFile(name, bytes(data), doc.mime_type))
        if not text and not files:
            return None, None
        return Incoming(**base, text=text, files=tuple(files)), None

    def _process(self, key: str, msg: Incoming) -> list[Reply] | None:
        """Apply one update exactly once: the delivery key commits with the effect."""
        now = self.now()
        with session_scope(self.engine, self.now) as session:
            if not deliveries.claim(session, key, now):
                return None  # delivered before, or committed concurrently by another replica
            return self._effect(session, msg, now)

    def _process_batch(self, items: Sequence[tuple[str, Incoming]]) -> list[Any]:
        """:meth:`_process` for a batch in one transaction: per update its replies, None for a
        duplicate, or ``_FAILED``. If anything fails, nothing of the batch is kept and each
        update runs again alone, so one bad update costs only itself."""
        if len(items) > 1:
            try:
                with session_scope(self.engine, self.now) as session:
                    out: list[Any] = []
                    for key, msg in items:
                        now = self.now()
                        # Delivered before, or twice in this batch: the claim says so.
                        claimed = deliveries.claim(session, key, now)
                        out.append(self._effect(session, msg, now) if claimed else None)
                    return out
            except Exception:  # noqa: BLE001 - rolled back: retried one by one below
                log.info("telegram batch of %d failed; one update at a time", len(items),
                         exc_info=True)
        out = []
        for key, msg in items:
            try:
                out.append(self._process(key, msg))
            except Exception:  # noqa: BLE001 - one update must not stop the others
                log.exception("telegram update %s failed", key)
                out.append(_FAILED)
        return out

    def _effect(self, session: Session, msg: Incoming, now: datetime) -> list[Reply]:
        """What one update does, inside the caller's transaction: the one dispatch decides."""
        return route(session, self.cfg, msg, now)


_FAILED = object()  # an update whose processing raised (logged)


def _button_label(message: Any, data: str | None) -> str | None:
    markup = getattr(message, "reply_markup", None)
    if markup is None or data is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return str(button.text)
    return None


def _file_url(api_url: str) -> str:
    """``https://api.telegram.org/bot`` -> ``https://api.telegram.org/file/bot``."""
    head, sep, tail = api_url.rstrip("/").rpartition("/")
    return f"{head}/file/{tail}" if sep else api_url + "/file"
