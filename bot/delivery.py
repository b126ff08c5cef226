"""Outbox delivery: claims queued messages and sends them through Slack, Telegram or the console.

A channel that is down delays delivery only: the SLA logic just enqueues. Retries back off
exponentially; Slack's 429 ``Retry-After`` and Telegram's ``retry_after`` are honoured. A claim
is one conditional UPDATE (plus ``SKIP LOCKED`` on PostgreSQL), so two workers never send the
same row; a crash mid-send returns the row after its lease (120 s).

A running worker is woken as soon as a transaction of its own process that queued rows commits
(:func:`storage.outbox.on_queued_commit`), so a customer hears of an engineer's command within
milliseconds; rows queued by another process (a replica that is not the leader, the CLI) are
found at the next idle poll (``idle_poll``, 5 s), and rows not due yet when they are due.

Such a returned row, and a row whose last attempt ended ambiguously (timeout, 5xx: the channel
may have received it), is marked "maybe sent". Slack messages carry the outbox key in message
metadata (``event_type`` ``destek_outbox``); before sending a maybe-sent Slack message again,
the worker looks for its key in ``conversations.history`` / ``conversations.replies`` since
the row was created and, when found, records that message instead of posting a second one.
Telegram has no such lookup: there a crash between send and record can repeat one message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn, Protocol

from sqlalchemy.engine import Engine

from storage import outbox
from storage.clock import Clock, system_clock
from storage.db import session_scope
from storage.models import OutboxMessage

from .tasks import ServiceThreads, cancel_and_wait

log = logging.getLogger(__name__)

# last_error prefix of a row whose previous attempt may have reached the channel.
MAYBE_SENT = "maybe sent: "
SLACK_EVENT_TYPE = "destek_outbox"


class RetryLater(Exception):
    """The channel asked us to wait (rate limit) before trying again."""

    def __init__(self, seconds: float, reason: str = "rate limited") -> None:
        super().__init__(f"{reason}; retry after {seconds:g}s")
        self.seconds = seconds


class PermanentFailure(Exception):
    """The channel refused the message for good (unknown channel, forbidden, bad request)."""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What a sender needs from an outbox row (detached from the session)."""

    id: int
    key: str
    channel: str
    target: str
    thread: str | None
    text: str
    late: bool
    maybe_sent: bool = False  # a previous attempt may have been delivered
    created_at: datetime | None = None
    # What the message carries besides text: {"kind": "ticket_opened", "ticket": N} becomes a
    # Slack card with the engineers' buttons; {"file": PATH} is uploaded with the text.
    payload: Mapping[str, Any] | None = None

    @classmethod
    def of(cls, m: OutboxMessage) -> Outgoing:
        return cls(m.id or 0, m.key, m.channel, m.target, m.thread, m.text, m.late,
                   (m.last_error or "").startswith(MAYBE_SENT), m.created_at,
                   _payload(m.payload))

    @property
    def file(self) -> Path | None:
        """An attachment to upload (a report chart), when it still exists."""
        raw = (self.payload or {}).get("file")
        path = Path(raw) if isinstance(raw, str) and raw else None
        return path if path is not None and path.is_file() else None


def _payload(raw: str | None) -> Mapping[str, Any] | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class Sender(Protocol):
    async def send(self, msg: Outgoing) -> str | None:
        """Deliver; return the channel's message id. Raise RetryLater / PermanentFailure."""
        ...

    async def close(self) -> None: ...


class SlackSender:
    """chat.postMessage through the real slack_sdk client (base URL from SLACK_API_URL)."""

    def __init__(self, token: str, base_url: str = "https://slack.com/api/") -> None:
        from slack_sdk.web.async_client import AsyncWebClient

        self.client = AsyncWebClient(token=token, base_url=base_url, timeout=10)

    async def send(self, msg: Outgoing) -> str | None:
        from slack_sdk.errors import SlackApiError

        try:
            if msg.file is not None:
                return await self._upload(msg, msg.file)
            resp = await self.client.chat_postMessage(
                channel=msg.target, text=msg.text, thread_ts=msg.thread or None,
                blocks=self._blocks(msg),
                metadata={"event_type": SLACK_EVENT_TYPE, "event_payload": {"key": msg.key}},
            )
        except SlackApiError as exc:
            _raise_for(exc)
        ts = resp.get("ts")
        return str(ts) if ts else None

    @staticmethod
    def _blocks(msg: Outgoing) -> list[dict[str, Any]] | None:
        payload = msg.payload or {}
        ticket = payload.get("ticket")
        if payload.get("kind") == "ticket_opened" and isinstance(ticket, int):
            from .slack_blocks import card_blocks

            return card_blocks(msg.text, ticket)
        if payload.get("kind") == "page" and isinstance(ticket, int):
            from .slack_blocks import page_blocks

            return page_blocks(msg.text, ticket, str(payload.get("lang") or "en"))
        return None

    async def _upload(self, msg: Outgoing, path: Path) -> str | None:
        """The text as the comment of an uploaded file (files_upload_v2: one message)."""
        channel = msg.target
        if channel[:1] in ("U", "W"):  # files.completeUploadExternal wants a channel id
            opened = await self.client.conversations_open(users=channel)
            channel = str((opened.get("channel") or {}).get("id") or channel)
        resp = await self.client.files_upload_v2(
            channel=channel, file=str(path), filename=path.name, title=path.stem,
            initial_comment=msg.text, thread_ts=msg.thread or None,
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
            else:
                sent = await self.bot.send_message(
                    chat_id=msg.target, text=msg.text, reply_parameters=reply,
                    reply_markup=_telegram_buttons(msg),
                )
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
    """A page's "Take it" button: callback ``cmd|ack N`` runs ``ack N`` as whoever presses it."""
    payload = msg.payload or {}
    ticket = payload.get("ticket")
    if payload.get("kind") != "page" or not isinstance(ticket, int):
        return None
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    from handlers.oncall import take_label

    label = take_label(str(payload.get("lang") or "en"))
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=f"cmd|ack {ticket}")]])


class ConsoleSender:
    """The demo channel: one line per message appended to a log file (and the log)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path

    async def send(self, msg: Outgoing) -> str | None:
        line = f"[{msg.target}] {msg.text}"
        log.info("console message: %s", line)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line.replace("\n", " | ") + "\n")
        else:
            print(line, flush=True)
        return None

    async def close(self) -> None:
        return None


class DeliveryWorker:
    """Sends due outbox messages; any number of workers may share one database."""

    def __init__(
        self,
        engine: Engine,
        senders: Mapping[str, Sender],
        *,
        now: Clock = system_clock,
        concurrency: int = 8,
        batch: int = 100,
        max_attempts: int = 8,
        base_delay: float = 2.0,
        max_delay: float = 900.0,
        lease_seconds: float | None = None,
        idle_poll: float = 5.0,
    ) -> None:
        self.engine = engine
        self.senders = dict(senders)
        self.now = now
        self.concurrency = concurrency
        self.batch = batch
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        # How long a claim holds a row (DESTEK_OUTBOX_CLAIM_SECONDS, default 120 s): longer
        # than any send; a worker that dies mid-send delays its rows this long.
        self.lease_seconds = lease_seconds or float(
            os.environ.get("DESTEK_OUTBOX_CLAIM_SECONDS") or 120.0)
        self.idle_poll = idle_poll
        self.sent = 0
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._unwatch: Callable[[], None] | None = None
        self._threads = ServiceThreads("outbox", workers=concurrency + 1)

    # -- one pass ----------------------------------------------------------------------------

    def _claim(self) -> list[Outgoing]:
        now = self.now()
        with session_scope(self.engine, self.now) as s:
            _mark_expired_maybe_sent(s, now)
            outbox.release_expired(s, now)
        with session_scope(self.engine, self.now) as s:
            return [Outgoing.of(m) for m in outbox.claim(s, now, self.lease_seconds, self.batch)]

    def _finish(self, msg: Outgoing, result: str | None | BaseException, attempts: int) -> None:
        now = self.now()
        with session_scope(self.engine, self.now) as s:
            if not isinstance(result, BaseException):
                outbox.mark_sent(s, msg.id, now, result)
                return
            error = f"{type(result).__name__}: {result}"
            if isinstance(result, RetryLater):
                outbox.mark_retry(s, msg.id, now + timedelta(seconds=result.seconds), error)
                # A rate limit is the channel's "not now", not a failed attempt: it must not use
                # up the attempts after which a message is given up (nor grow the backoff).
                row = s.get(OutboxMessage, msg.id)
                if row is not None and row.attempts > 0:
                    row.attempts -= 1
                    s.add(row)
                return
            if not isinstance(result, PermanentFailure) and (
                    msg.maybe_sent or _ambiguous(result)):
                # A timeout or 5xx may hide a delivered message: check before the next send.
                error = MAYBE_SENT + error
            if isinstance(result, PermanentFailure) or attempts >= self.max_attempts:
                log.error("giving up on outbox %s (%s): %s", msg.id, msg.key, error)
                outbox.mark_failed(s, msg.id, error)
            else:
                delay = min(self.max_delay, self.base_delay * 2 ** (attempts - 1))
                outbox.mark_retry(s, msg.id, now + timedelta(seconds=delay), error)

    async def _deliver(self, msg: Outgoing, attempts: int, gate: asyncio.Semaphore) -> bool:
        async with gate:
            sender = self.senders.get(msg.channel)
            result: str | None | BaseException
            if sender is None:
                result = PermanentFailure(f"no sender for channel {msg.channel!r}")
            else:
                try:
                    found = None
                    finder = getattr(sender, "find_sent", None)
                    if msg.maybe_sent and finder is not None:
                        found = await finder(msg)
                        if found is not None:
                            log.info("outbox %s (%s) was already delivered: not sent again",
                                     msg.id, msg.key)
                    result = found if found is not None else await sender.send(msg)
                except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row
                    result = exc
            await self._threads.run(self._finish, msg, result, attempts)
            return not isinstance(result, BaseException)

    async def run_once(self) -> int:
        """Claim and send one batch of due messages; returns how many were delivered."""
        claimed = await self._threads.run(self._claim)
        if not claimed:
            return 0
        attempts = await self._threads.run(self._attempts, [m.id for m in claimed])
        gate = asyncio.Semaphore(self.concurrency)
        results = await asyncio.gather(
            *(self._deliver(m, attempts.get(m.id, 1), gate) for m in claimed)
        )
        delivered = sum(results)
        self.sent += delivered
        return delivered

    def _attempts(self, ids: list[int]) -> dict[int, int]:
        from sqlmodel import Session, col, select

        with Session(self.engine) as s:
            rows = s.exec(select(OutboxMessage.id, OutboxMessage.attempts)
                          .where(col(OutboxMessage.id).in_(ids)))
            return {int(i): int(a) for i, a in rows if i is not None}

    async def drain(self, max_rounds: int = 1000) -> int:
        """Run passes until nothing is due now (tests, benchmarks)."""
        total = 0
        for _ in range(max_rounds):
            claimed_any = await self.run_once()
            total += claimed_any
            pending_now = await self._threads.run(self._due_now)
            if not pending_now:
                break
        return total

    def _due_now(self) -> bool:
        from sqlmodel import Session

        with Session(self.engine) as s:
            at = outbox.next_due_at(s)
        return at is not None and at <= self.now()

    # -- service -----------------------------------------------------------------------------

    def wake(self) -> None:
        """Something was queued: look now (safe from any thread)."""
        loop, wake = self._loop, self._wake
        if loop is None or wake is None:
            return
        try:
            loop.call_soon_threadsafe(wake.set)
        except RuntimeError:  # the loop closed under us (shutdown): the next start looks
            pass

    async def start(self) -> None:
        """Run the delivery loop on this event loop; a commit in this process that queued
        messages wakes it at once (:func:`storage.outbox.on_queued_commit`)."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox-delivery")
        if self._unwatch is None:
            self._unwatch = outbox.on_queued_commit(self.wake)

    async def _run(self) -> None:
        assert self._wake is not None
        while not self._stopping:
            # Cleared before the pass, not after: a wake() (or stop()) that arrives while the
            # pass runs must cut the next wait short, not be lost for a whole idle poll.
            self._wake.clear()
            try:
                while await self.run_once():
                    pass
                wait = self.idle_poll
                at = await self._threads.run(self._next_at)
                if at is not None:
                    wait = max(0.0, min(wait, (at - self.now()).total_seconds()))
            except Exception:  # noqa: BLE001 - the database may be briefly unavailable
                log.exception("delivery pass failed")
                wait = self.idle_poll
            if self._stopping:
                break
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            except TimeoutError:
                pass

    def _next_at(self) -> datetime | None:
        from sqlmodel import Session

        with Session(self.engine) as s:
            return outbox.next_due_at(s)

    async def stop(self) -> None:
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, timeout=15)
            except TimeoutError:
                await cancel_and_wait(self._task)
            self._task = None
        await self._threads.close()
        for sender in self.senders.values():
            try:
                await sender.close()
            except Exception:  # noqa: BLE001
                log.exception("closing sender failed")


def _ambiguous(exc: BaseException) -> bool:
    """Errors after which the channel may or may not have the message."""
    return isinstance(exc, (ConnectionError, TimeoutError, OSError)) or (
        type(exc).__module__.startswith(("aiohttp", "httpx", "telegram"))
        and "Timed" in type(exc).__name__)


def _mark_expired_maybe_sent(session: Any, now: datetime) -> None:
    """Claims that ran out (the worker died mid-send) may have been delivered: say so on the
    row before it is released, so the next attempt checks first."""
    from sqlalchemy import update
    from sqlmodel import col

    session.exec(
        update(OutboxMessage)
        .where(col(OutboxMessage.status) == outbox.SENDING,
               col(OutboxMessage.next_attempt_at) <= now)
        .values(last_error=MAYBE_SENT + "claim expired while sending")
    )


def senders_from_settings(settings: Any) -> dict[str, Sender]:
    """A sender for every configured channel; the console always exists (demo)."""
    senders: dict[str, Sender] = {"console": ConsoleSender(settings.data_dir / "outbox.log")}
    if settings.slack_bot_token:
        senders["slack"] = SlackSender(settings.slack_bot_token, settings.slack_api_url)
    if settings.telegram_bot_token:
        senders["telegram"] = TelegramSender(settings.telegram_bot_token,
                                             settings.telegram_api_url)
    return senders
