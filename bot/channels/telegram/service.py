"""Telegram channel (python-telegram-bot 22): updates in, the one dispatch, replies out.

Polling by default, a webhook when TELEGRAM_WEBHOOK_URL is set. Choices become inline
keyboards (callback data ``STEP|VALUE``), photos and documents become attachments. Every update
is processed once: its ``telegram:<update_id>`` key is stored in the same transaction as its
effect (:mod:`bot.channels.pipeline`). Sending goes through PTB's AIORateLimiter, which honours
429 ``retry_after``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from sqlalchemy.engine import Engine
from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ContextTypes, TypeHandler

from handlers.i18n import t
from handlers.intake import IntakeConfig
from handlers.types import Incoming, Reply
from storage.clock import Clock, system_clock

from ..pipeline import FAILED, Pipeline
from .inbound import CHANNEL, to_incoming
from .render import bot_commands, keyboard, message_parts
from .webhook import file_url, webhook_problem

log = logging.getLogger("destek.telegram")

if TYPE_CHECKING:
    from bot.config import Settings


class TelegramChannel:
    """The Telegram service for the runner: polling or a webhook, ``start``/``stop``."""

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
        # Updates of different users may run concurrently; one user's updates keep their
        # order. On SQLite (one writer) one at a time measured fastest: see the benchmark.
        sqlite = engine.dialect.name == "sqlite"
        self.concurrency = concurrency or (1 if sqlite else 8)
        # The database work, in threads so the event loop never blocks: SQLite has one
        # writer (one thread); on PostgreSQL eight, as many as updates run at once.
        self.inbound = Pipeline(engine, cfg, now, threads=1 if sqlite else 8,
                                name="destek-telegram-db")
        self.app: Application[Any, Any, Any, Any, Any, Any] | None = None
        self._poller: asyncio.Task[None] | None = None
        self._stopping = False
        self._waiting = False

    # -- lifecycle -----------------------------------------------------------------------

    def build(self) -> Application[Any, Any, Any, Any, Any, Any]:
        s = self.settings
        file_url_ = s.telegram_file_url or file_url(s.telegram_api_url)
        builder = (
            Application.builder()
            .token(s.telegram_bot_token or "")
            .base_url(s.telegram_api_url)
            .base_file_url(file_url_)
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
                incoming, label = await to_incoming(update, app.bot,
                                                    self.cfg.max_attachment_bytes)
            except Exception:  # noqa: BLE001 - one update must not stop the poller
                log.exception("telegram update %s failed", update.update_id)
                continue
            if incoming is not None:
                items.append((update, f"telegram:{update.update_id}", incoming, label))
        if not items:
            return
        results = await self.inbound.dispatch_many([(key, msg) for _, key, msg, _ in items])
        for (update, key, incoming, label), replies in zip(items, results, strict=True):
            if replies is FAILED:
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

    # -- updates -------------------------------------------------------------------------

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram update failed: %s", context.error, exc_info=context.error)

    async def on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        async with self.inbound.in_order(str(user.id) if user is not None else ""):
            await self._on_update(update, context)

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        key = f"telegram:{update.update_id}"
        incoming, answer_to = await to_incoming(update, context.bot,
                                                self.cfg.max_attachment_bytes)
        if incoming is None:
            return
        replies = await self.inbound.dispatch(key, incoming)
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
        for i, reply in enumerate(replies):
            try:
                await self._send(bot, chat_id, reply)
            except TelegramError as exc:  # committed already: the worker retries the rest
                log.warning("telegram answer to %s failed (%s); queued", key, exc)
                await self.inbound.undelivered(CHANNEL, str(chat_id), None, key, replies[i:])
                return

    async def _send(self, bot: Any, chat_id: int, reply: Reply) -> None:
        *first, last = message_parts(reply.text)  # Telegram: 4096 characters a message
        for part in first:
            await bot.send_message(chat_id, part)
        sent = await bot.send_message(chat_id, last, reply_markup=keyboard(reply))
        await self.inbound.posted(reply, str(sent.message_id))
        chart = Path(reply.meta["file"]) if reply.meta.get("file") else None
        if chart is not None and chart.is_file():  # /report: the chart follows its summary
            with chart.open("rb") as fh:
                await bot.send_photo(chat_id, fh)

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
