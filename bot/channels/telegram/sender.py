"""Outbox messages to Telegram: Bot.send_message / send_photo through python-telegram-bot."""

from __future__ import annotations

import warnings
from datetime import timedelta
from typing import Any

from handlers.types import Reply

from ..outbound import Outgoing, PermanentFailure, RetryLater
from .render import keyboard, message_parts


class TelegramSender:
    """Bot.send_message through python-telegram-bot (base URL from TELEGRAM_API_URL)."""

    def __init__(self, token: str, base_url: str = "https://api.telegram.org/bot") -> None:
        from telegram import Bot

        self.bot = Bot(token=token, base_url=base_url)
        self._ready = False

    async def send(self, msg: Outgoing) -> str | None:
        from telegram import ReplyParameters
        from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter

        try:
            if not self._ready:  # lazily: a Telegram outage must not stop start-up
                await self.bot.initialize()
                self._ready = True
            reply = (
                ReplyParameters(message_id=int(msg.thread), allow_sending_without_reply=True)
                if msg.thread and msg.thread.isdigit() else None
            )
            if msg.file is not None and msg.file.suffix.lower() in (".png", ".jpg", ".jpeg"):
                # Telegram captions stop at 1024 characters: longer text goes first, alone.
                caption = msg.text if len(msg.text) <= 1024 else None
                if caption is None:
                    await self.bot.send_message(chat_id=msg.target, text=msg.text,
                                                reply_parameters=reply)
                with msg.file.open("rb") as fh:
                    sent = await self.bot.send_photo(chat_id=msg.target, photo=fh,
                                                     caption=caption, reply_parameters=reply)
            elif msg.file is not None:  # any other file (an engineer's reply): a document
                with msg.file.open("rb") as fh:
                    sent = await self.bot.send_document(
                        chat_id=msg.target, document=fh, filename=msg.filename,
                        caption=msg.text[:1024], reply_parameters=reply)
            else:
                # Over Telegram's 4096 characters (an engineer's long reply): several messages,
                # cut at line ends; the buttons on the last. The first one's id is recorded.
                parts = message_parts(msg.text)
                first = None
                for i, part in enumerate(parts):
                    last = i == len(parts) - 1
                    sent = await self.bot.send_message(
                        chat_id=msg.target, text=part, reply_parameters=reply,
                        reply_markup=_telegram_buttons(msg) if last else None,
                    )
                    first = first or sent
                sent = first or sent
        except RetryAfter as exc:
            with warnings.catch_warnings():  # int today, timedelta in PTB 23: both handled
                warnings.simplefilter("ignore")
                wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            raise RetryLater(seconds, "telegram retry_after") from None
        except (BadRequest, Forbidden, InvalidToken) as exc:
            raise PermanentFailure(f"telegram: {exc}") from None
        return str(sent.message_id)

    async def close(self) -> None:
        if self._ready:
            await self.bot.shutdown()


def _telegram_buttons(msg: Outgoing) -> Any:
    """A page's "Take it" button: callback ``cmd|ack N`` runs ``ack N`` as whoever presses it;
    a message's choices (the satisfaction survey): ``STEP|VALUE`` as a reply's are."""
    step, choices = msg.choices
    if choices:
        return keyboard(Reply(msg.text, choices, meta={"step": step}))
    payload = msg.payload or {}
    ticket = payload.get("ticket")
    if payload.get("kind") != "page" or not isinstance(ticket, int):
        return None
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    from handlers.oncall import take_label

    label = take_label(str(payload.get("lang") or "en"))
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=f"cmd|ack {ticket}")]])
