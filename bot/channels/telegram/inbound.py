"""Telegram updates as neutral :class:`~handlers.types.Incoming` messages (files downloaded)."""

from __future__ import annotations

from typing import Any

from telegram import Update

from handlers.types import Incoming, IncomingFile

from .render import pressed_label

CHANNEL = "telegram"
TELEGRAM_FILE_LIMIT = 20 * 1024 * 1024  # bots cannot download bigger files


async def to_incoming(update: Update, bot: Any, max_bytes: int,
                      ) -> tuple[Incoming | None, str | None]:
    """The neutral message for an update, plus the label of a pressed button; (None, None)
    for what is not a message to us (a bot's, an empty one)."""
    query = update.callback_query
    if query is not None and query.from_user is not None:
        user = query.from_user
        chat = query.message.chat.id if query.message is not None else user.id
        step, _, value = (query.data or "").partition("|")
        label = pressed_label(query.message, query.data)
        return Incoming(CHANNEL, str(user.id), str(chat), text=value, button_step=step or None,
                        language_hint=user.language_code), label
    msg = update.message
    if msg is None or msg.from_user is None or msg.from_user.is_bot:
        return None, None
    user = msg.from_user
    # A reply to one of our messages names it: the dispatch finds the ticket it was about.
    replied = msg.reply_to_message
    base: dict[str, Any] = {"channel": CHANNEL, "user_key": str(user.id),
                            "chat": str(msg.chat.id), "language_hint": user.language_code,
                            "thread": str(replied.message_id) if replied is not None else None}
    text = msg.text or msg.caption or None
    if text and text.startswith("/") and text[1:].split():  # a bare "/" is just text
        head, *args = text[1:].split()
        command = head.split("@")[0].lower()  # "/status@destek_bot"
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
        if (doc.file_size or 0) > min(max_bytes, TELEGRAM_FILE_LIMIT):
            # Too big to fetch: the engine still says why, from a size-only stand-in.
            files.append(IncomingFile(name, b"\0" * (max_bytes + 1), doc.mime_type))
        else:
            data = await (await bot.get_file(doc.file_id)).download_as_bytearray()
            files.append(IncomingFile(name, bytes(data), doc.mime_type))
    if not text and not files:
        return None, None
    return Incoming(**base, text=text, files=tuple(files)), None
