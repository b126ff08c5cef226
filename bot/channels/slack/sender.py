"""Outbox messages to Slack: chat.postMessage (files with files_upload_v2) through slack_sdk.

Each message carries its outbox key in message metadata (``event_type`` ``destek_outbox``), so a
"maybe sent" row is looked up in the conversation before it is posted again (:meth:`find_sent`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, NoReturn

from handlers.types import Reply

from ..outbound import Outgoing, PermanentFailure, RetryLater
from .blocks import card_blocks, mrkdwn_escape, page_blocks, reply_blocks, slack_commands

log = logging.getLogger("destek.delivery")
SLACK_EVENT_TYPE = "destek_outbox"


class SlackSender:
    """chat.postMessage through the real slack_sdk client (base URL from SLACK_API_URL)."""

    def __init__(self, token: str, base_url: str = "https://slack.com/api/",
                 command: str = "/destek") -> None:
        from slack_sdk.web.async_client import AsyncWebClient

        self.client = AsyncWebClient(token=token, base_url=base_url, timeout=10)
        self.command = command  # how Slack users type the commands a message names

    async def send(self, msg: Outgoing) -> str | None:
        from slack_sdk.errors import SlackApiError

        try:
            if msg.file is not None:
                return await self._upload(msg, msg.file)
            # Every text is escaped: a customer's words relayed to the engineers must not
            # become markup (``<!channel>``, ``<@U…>``, links); our messages carry none.
            text = slack_commands(mrkdwn_escape(msg.text), self.command)
            resp = await self.client.chat_postMessage(
                channel=msg.target, text=text, thread_ts=msg.thread or None,
                blocks=self._blocks(msg, text),
                metadata={"event_type": SLACK_EVENT_TYPE, "event_payload": {"key": msg.key}},
            )
        except SlackApiError as exc:
            _raise_for(exc)
        ts = resp.get("ts")
        return str(ts) if ts else None

    @staticmethod
    def _blocks(msg: Outgoing, mrkdwn: str) -> list[dict[str, Any]] | None:
        payload = msg.payload or {}
        ticket = payload.get("ticket")
        if payload.get("kind") == "ticket_opened" and isinstance(ticket, int):
            return card_blocks(msg.text, ticket)  # escapes the plain text itself
        if payload.get("kind") == "page" and isinstance(ticket, int):
            return page_blocks(mrkdwn, ticket, str(payload.get("lang") or "en"))
        step, choices = msg.choices
        if choices:  # buttons pressed back as a reply's choices (the satisfaction survey)
            return reply_blocks(Reply(mrkdwn, choices, meta={"step": step}))
        return None

    async def _upload(self, msg: Outgoing, path: Path) -> str | None:
        """The text as the comment of an uploaded file (files_upload_v2: one message)."""
        channel = msg.target
        if channel[:1] in ("U", "W"):  # files.completeUploadExternal wants a channel id
            opened = await self.client.conversations_open(users=channel)
            channel = str((opened.get("channel") or {}).get("id") or channel)
        resp = await self.client.files_upload_v2(
            channel=channel, file=str(path), filename=msg.filename, title=msg.filename,
            initial_comment=mrkdwn_escape(msg.text), thread_ts=msg.thread or None,
        )
        files = resp.get("files") or [resp.get("file") or {}]
        fid = files[0].get("id") if files else None
        return str(fid) if fid else None

    async def find_sent(self, msg: Outgoing, pages: int = 10) -> str | None:
        """The ts of an earlier post of this outbox row, found by its metadata key; None when
        there is none, or when we may not read the conversation (then sending again is the
        lesser evil: at-least-once)."""
        from slack_sdk.errors import SlackApiError

        oldest = f"{(msg.created_at.timestamp() - 60) if msg.created_at else 0:.6f}"
        try:
            channel = msg.target
            if channel[:1] in ("U", "W"):  # a DM by user id: the IM channel holds the history
                opened = await self.client.conversations_open(users=channel)
                channel = str(opened["channel"]["id"])
            cursor: str | None = None
            for _ in range(pages):
                if msg.thread:
                    resp = await self.client.conversations_replies(
                        channel=channel, ts=msg.thread, oldest=oldest, limit=200,
                        include_all_metadata=True, cursor=cursor)
                else:
                    resp = await self.client.conversations_history(
                        channel=channel, oldest=oldest, limit=200, include_all_metadata=True,
                        cursor=cursor)
                for m in resp.get("messages") or []:
                    meta = m.get("metadata") or {}
                    payload = meta.get("event_payload") or {}
                    if meta.get("event_type") == SLACK_EVENT_TYPE and payload.get("key") == msg.key:
                        return str(m.get("ts"))
                cursor = (resp.get("response_metadata") or {}).get("next_cursor") or None
                if not cursor:
                    break
        except SlackApiError as exc:
            try:
                _raise_for(exc)
            except PermanentFailure as perm:  # e.g. missing_scope: cannot check
                log.warning("cannot look for outbox %s in Slack (%s): sending it again",
                            msg.key, perm)
        return None

    async def close(self) -> None:
        session = getattr(self.client, "session", None)
        if session is not None:
            await session.close()


def _raise_for(exc: Any) -> NoReturn:
    """Translate a SlackApiError: RetryLater (429), ConnectionError (transient), else
    PermanentFailure."""
    status = exc.response.status_code
    if status == 429:
        headers = exc.response.headers or {}
        retry = headers.get("Retry-After") or headers.get("retry-after") or 1
        if isinstance(retry, list):
            retry = retry[0]
        raise RetryLater(float(retry), "slack 429") from None
    error = str(exc.response.get("error", "")) if exc.response.data else ""
    if status >= 500 or error in ("ratelimited", "internal_error", "fatal_error",
                                  "service_unavailable", "request_timeout"):
        raise ConnectionError(f"slack {status} {error}") from None
    raise PermanentFailure(f"slack {status} {error}") from None
