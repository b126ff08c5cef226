"""Replies as Telegram messages: inline keyboards for choices, the bot's command menu, and
long texts split into messages Telegram accepts."""

from __future__ import annotations

from typing import Any

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import MessageLimit

from handlers import customer_verbs
from handlers.i18n import register, t
from handlers.text import line_parts
from handlers.types import COMMAND_STEP, Reply

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


def pressed_label(message: Any, data: str | None) -> str | None:
    """The label of the button whose callback data came back (to mark it as chosen)."""
    markup = getattr(message, "reply_markup", None)
    if markup is None or data is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return str(button.text)
    return None


def _units(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units: an emoji is two)."""
    return len(text.encode("utf-16-le")) // 2


def message_parts(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """``text`` as messages of at most ``limit`` units, cut at line ends where it can (a longer
    line is cut where it must): a staff ``status N`` report can be longer than one message."""
    return line_parts(text, limit, size=_units)
