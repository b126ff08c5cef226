"""Chats shared with a customer (Slack Connect channels): which customer a chat belongs to.

A manager maps a channel shared between the vendor's workspace and a customer's to that
customer (``destek customer set CODE --slack-channel C...``); what is written there is that
customer's, so a chat belongs to one customer only. Read on every message of a channel
(:func:`customer_of_chat`: one indexed look-up).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from .directory import RecordError, get_customer
from .models import Customer, CustomerChat

# Slack conversation ids: public channels C..., private channels (older ids) G...; upper-case
# letters and digits. Direct messages (D...) are never shared with a customer organisation.
SLACK_CHAT = re.compile(r"[CG][A-Z0-9]{2,31}")
_FORMATS = {"slack": SLACK_CHAT}


def check_chat(channel: str, chat: str) -> str:
    """The chat id, or a RecordError saying what an id on ``channel`` looks like."""
    pattern = _FORMATS.get(channel)
    if pattern is None:
        raise RecordError(f"{channel} has no shared chats: only Slack channels can be mapped")
    chat = chat.strip()
    if not pattern.fullmatch(chat):
        raise RecordError(f"Slack channel id {chat!r}: give the channel's id, C or G and then "
                          "upper-case letters and digits (e.g. C0ACME001), not its name")
    return chat


def map_chat(session: Session, customer_code: str, channel: str, chat: str) -> CustomerChat:
    """Map ``chat`` to the customer; a chat mapped to another customer is refused (nothing
    changes), the same mapping again is kept as it is."""
    chat = check_chat(channel, chat)
    customer = get_customer(session, customer_code)
    row = session.exec(select(CustomerChat).where(
        CustomerChat.channel == channel, CustomerChat.chat == chat)).first()
    if row is not None:
        if row.customer_id == customer.id:
            return row
        other = session.get(Customer, row.customer_id)
        raise RecordError(f"Slack channel {chat} is already mapped to customer "
                          f"{other.code if other else row.customer_id}: a channel belongs to "
                          "one customer (remove it there first)")
    row = CustomerChat(customer_id=customer.id or 0, channel=channel, chat=chat)
    session.add(row)
    session.flush()
    return row


def unmap_chat(session: Session, customer_code: str, channel: str, chat: str) -> None:
    """Remove the mapping of ``chat`` to the customer; refused when it is not theirs."""
    chat = check_chat(channel, chat)
    customer = get_customer(session, customer_code)
    row = session.exec(select(CustomerChat).where(
        CustomerChat.channel == channel, CustomerChat.chat == chat,
        CustomerChat.customer_id == customer.id)).first()
    if row is None:
        raise RecordError(f"Slack channel {chat} is not mapped to customer {customer_code}")
    session.delete(row)
    session.flush()


@functools.cache
def _owner_statement() -> Any:
    # Built once: building a select costs more than running it on SQLite.
    return select(CustomerChat.customer_id).where(
        col(CustomerChat.channel) == bindparam("channel"),
        col(CustomerChat.chat) == bindparam("chat"))


def customer_of_chat(session: Session, channel: str, chat: str | None) -> int | None:
    """The id of the customer ``chat`` is shared with; None for any other chat."""
    if not chat:
        return None
    return session.exec(_owner_statement(), params={"channel": channel, "chat": chat}).first()


def chats_by_customer(session: Session, channel: str = "slack") -> dict[int, list[str]]:
    """Customer id -> its shared chats on ``channel``, in id order (for listings)."""
    out: dict[int, list[str]] = {}
    rows = session.exec(select(CustomerChat).where(CustomerChat.channel == channel)
                        .order_by(col(CustomerChat.chat)))
    for row in rows:
        out.setdefault(row.customer_id, []).append(row.chat)
    return out
