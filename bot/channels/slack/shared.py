"""Slack channels as Destek reads them: Slack Connect channels shared with a customer, and
the threads of the engineers' channel.

A channel a manager mapped to a customer (``destek customer set CODE --slack-channel C...``,
:mod:`storage.chats`) is where that customer's people write: a top-level message (or a mention
of the bot) starts a conversation in that message's thread, and everything of it (the
dialog's questions and buttons, follow-ups, the engineers' public replies) stays in that
thread. Its people belong to another organisation: their Slack team is the workspace of their
identity (``user_team`` as Bolt reads it: ``context.actor_team_id``; the home team is the
install's, ``authorizations[0]`` / auth.test). What a message means is the one dispatch's
business; here it is only translated, and the replies posted back. A refusal (someone unknown,
untrained, of another organisation) is never posted in the customer's channel: it is an
ephemeral message to that person, once a day per channel and person (a claimed key, so it
holds across restarts and replicas).

In the engineers' channel only thread replies are passed on (top-level chatter is not ours);
a message that mentions the bot arrives as ``app_mention`` too and is handled from that one.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from handlers.customer_verbs import VERBS as CUSTOMER_VERBS
from handlers.i18n import t
from handlers.identity import contact_language, lookup_contact
from handlers.types import Incoming, IncomingFile, Reply
from storage import deliveries
from storage.chats import customer_of_chat
from storage.clock import clock_of
from storage.identities import HOME

from . import blocks

if TYPE_CHECKING:
    from ..pipeline import Pipeline
    from .app import SlackBot

log = logging.getLogger("destek.slack")
CHANNEL = "slack"
# Channel messages that are someone writing: plain, with files, a thread reply also sent to
# the channel. Edits (message_changed), deletions, joins, topics, bots' posts are not.
WRITTEN = (None, "file_share", "thread_broadcast")
_MENTION = re.compile(r"^\s*<@([A-Z0-9]+)(?:\|[^>]*)?>[\s:,]*")


def home_team(context: Mapping[str, Any]) -> str | None:
    """The vendor's own Slack team: the install the event came through (auth.test, or
    Bolt's ``authorizations[0].team_id``)."""
    result = context.get("authorize_result")
    return (getattr(result, "team_id", None) if result is not None else None) or \
        context.get("team_id")


def workspace_of(context: Mapping[str, Any], team: str | None) -> str:
    """The workspace of a user of ``team``: HOME for the vendor's own people."""
    return HOME if not team or team == home_team(context) else str(team)


def event_team(context: Mapping[str, Any], event: Mapping[str, Any]) -> str | None:
    """The writer's Slack team: Bolt's ``actor_team_id`` (an event's ``user_team`` in a
    Slack Connect channel), else what the event says (an Enterprise Grid org id, E..., when
    Bolt cannot tell the team)."""
    return context.get("actor_team_id") or event.get("user_team") or event.get("team")


def bot_mention(text: str, bot_user: str | None) -> tuple[bool, str]:
    """Whether ``text`` starts with a mention of the bot, and the text without it."""
    m = _MENTION.match(text)
    if m is None or (bot_user and m.group(1) != bot_user):
        return False, text
    return True, text[m.end():]


def mentions(text: str, bot_user: str | None) -> bool:
    """Whether ``text`` mentions the bot anywhere (then Slack also sends ``app_mention``)."""
    return bool(bot_user) and f"<@{bot_user}" in text


def shared_incoming(event: Mapping[str, Any], workspace: str, bot_user: str | None,
                    files: Sequence[IncomingFile] = ()) -> Incoming:
    """A message in a customer's shared channel: its thread is the conversation (a top-level
    message starts its own); ``@destek VERB`` is the customer's command VERB."""
    mentioned, text = bot_mention(event.get("text") or "", bot_user)
    text = blocks.mrkdwn_unescape(text)
    words = text.split()
    command = words[0].lower() if mentioned and words else None
    if command is not None and command not in CUSTOMER_VERBS:
        command = None
    return Incoming(
        CHANNEL, str(event.get("user")), chat=str(event.get("channel")),
        text=None if command else text, command=command,
        args=tuple(words[1:]) if command else (), files=tuple(files),
        thread=event.get("thread_ts") or event.get("ts"), workspace=workspace)


def refusal_key(msg: Incoming, day: date) -> str:
    """The once-a-day key of a refusal to this person in this channel."""
    return f"slack-refused:{msg.chat}:{msg.workspace}:{msg.user_key}:{day.isoformat()}"


def dispatch_in_chat(session: Session, pipeline: Pipeline, key: str | None, msg: Incoming,
                     ) -> tuple[list[Reply] | None, bool]:
    """The dispatch of a message in a shared channel, in one transaction: (the replies to
    post, whether they are a refusal). A refusal already sent today to this person in this
    channel is not sent again (no replies)."""
    replies = pipeline.dispatch_in(session, key, msg)
    if not replies or not all(r.meta.get("refused") for r in replies):
        return replies, False
    now = clock_of(session)()
    if deliveries.claim(session, refusal_key(msg, now.date()), now):
        return replies, True
    log.info("slack refusal to %s in %s already sent today", msg.user_key, msg.chat)
    return [], True


def is_shared(session: Session, channel: str) -> bool:
    """Whether ``channel`` is mapped to a customer."""
    return customer_of_chat(session, CHANNEL, channel) is not None


class Channels:
    """The listeners' side of channel messages: translate, dispatch, post in the thread."""

    def __init__(self, bot: SlackBot) -> None:
        self.bot = bot

    def engineers_channels(self) -> set[str]:
        """The Slack channels of the routing's engineers' destinations (tickets' cards)."""
        return {d.target for d in self.bot.cfg.routing.engineers if d.channel == CHANNEL}

    async def on_message(self, body: Mapping[str, Any], event: Mapping[str, Any],
                         context: Mapping[str, Any]) -> None:
        """A ``message`` event in a channel (``message.channels`` / ``message.groups``)."""
        user, channel = event.get("user"), str(event.get("channel") or "")
        if not user or not channel or event.get("bot_id") or \
                event.get("subtype") not in WRITTEN:
            return
        self.seen_bot(context)
        bot_user = context.get("bot_user_id")
        if user == bot_user or mentions(event.get("text") or "", bot_user):
            return  # our own post; or handled as its app_mention
        bot = self.bot
        key = f"slack:{body.get('event_id') or event.get('ts')}"
        workspace = workspace_of(context, event_team(context, event))
        if await bot.db(is_shared, channel):
            files = await bot.api.download(event.get("files") or [])
            await self.in_shared(key, shared_incoming(event, workspace, bot_user, files))
            return
        thread = event.get("thread_ts")
        if channel in self.engineers_channels() and thread and thread != event.get("ts"):
            files = await bot.api.download(event.get("files") or [])
            msg = Incoming(CHANNEL, str(user), chat=channel,
                           text=blocks.mrkdwn_unescape(event.get("text") or ""),
                           thread=str(thread), files=tuple(files), workspace=workspace)
            replies = await bot.inbound.dispatch(key, msg)
            for reply in replies or ():  # to the writer only: the card's thread stays theirs
                await self.ephemeral(msg, reply, shared=False)
        # Any other channel (top-level chatter in the engineers' one): not ours.

    async def on_shared_mention(self, body: Mapping[str, Any], event: Mapping[str, Any],
                                context: Mapping[str, Any]) -> bool:
        """``app_mention`` in a shared channel, handled here (True); False elsewhere."""
        channel = str(event.get("channel") or "")
        if not event.get("user") or not await self.bot.db(is_shared, channel):
            return False
        self.seen_bot(context)
        workspace = workspace_of(context, event_team(context, event))
        files = await self.bot.api.download(event.get("files") or [])
        msg = shared_incoming(event, workspace, context.get("bot_user_id"), files)
        await self.in_shared(f"slack:{body.get('event_id') or event.get('ts')}", msg)
        return True

    async def in_shared(self, key: str | None, msg: Incoming) -> None:
        """Dispatch ``msg`` from a shared channel; its replies in its thread, or the refusal
        to the writer alone."""
        bot = self.bot
        replies, refused = await bot.db(dispatch_in_chat, bot.inbound, key, msg)
        if replies is None:
            log.info("slack retry of %s ignored", key)
            return
        for reply in replies:
            if refused:
                await self.ephemeral(msg, reply)
            else:
                await self.post(msg, reply)

    async def post(self, msg: Incoming, reply: Reply) -> None:
        """A reply in the message's thread."""
        bot = self.bot
        reply = blocks.for_slack(reply, self.mention_command())
        resp = await bot.api.call(bot.api.client.chat_postMessage, channel=msg.chat,
                                  text=reply.text, blocks=blocks.reply_blocks(reply),
                                  thread_ts=msg.thread)
        if resp is not None:
            await bot.inbound.posted(reply, str(resp.get("ts") or "") or None)

    async def ephemeral(self, msg: Incoming, reply: Reply, shared: bool = True) -> None:
        """A reply only the writer sees, in the message's thread."""
        bot = self.bot
        reply = blocks.for_slack(reply, self.mention_command() if shared else bot.command_name)
        await bot.api.call(bot.api.client.chat_postEphemeral, channel=msg.chat,
                           user=msg.user_key, text=reply.text,
                           blocks=blocks.reply_blocks(reply), thread_ts=msg.thread)

    async def send_to_customer(self, body: Mapping[str, Any]) -> None:
        """The "Send to customer" message action on a message in a ticket's thread: its text
        goes to the customer as the public reply of whoever chose the action (staff only: the
        dispatch checks). The thread's first message (the card) is never sent."""
        message = body.get("message") or {}
        channel = str((body.get("channel") or {}).get("id") or "")
        user = str((body.get("user") or {}).get("id") or "")
        thread = message.get("thread_ts")
        text = blocks.mrkdwn_unescape(message.get("text") or "").strip()
        msg = Incoming(CHANNEL, user, chat=channel, thread=thread, text=f"reply {text}")
        if not thread or thread == message.get("ts") or message.get("bot_id") or not text:
            lang = await self.bot.db(
                lambda s: contact_language(lookup_contact(s, CHANNEL, user), None, None))
            await self.ephemeral(msg, Reply(t("slack.send.only_thread", lang)), shared=False)
            return
        for reply in await self.bot.inbound.dispatch(None, msg) or ():
            await self.ephemeral(msg, reply, shared=False)

    def mention_command(self) -> str:
        """How people in a shared channel type a command: ``@destek VERB`` (the vendor's
        slash command is not their workspace's)."""
        bot_user = self.bot.bot_user
        return f"<@{bot_user}>" if bot_user else self.bot.command_name

    def seen_bot(self, context: Mapping[str, Any]) -> None:
        """Remember the bot's user id (Bolt's ``context.bot_user_id``, from auth.test)."""
        self.bot.bot_user = context.get("bot_user_id") or self.bot.bot_user
