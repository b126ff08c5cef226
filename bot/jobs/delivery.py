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
import logging
import os
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine

from storage import outbox
from storage.clock import Clock, system_clock
from storage.db import session_scope
from storage.models import OutboxMessage

from ..channels.outbound import MAYBE_SENT, Outgoing, PermanentFailure, RetryLater, Sender
from .tasks import ServiceThreads, cancel_and_wait

log = logging.getLogger(__name__)

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
        other_channels: bool = True,
    ) -> None:
        self.engine = engine
        self.senders = dict(senders)
        # False: only the channels of ``senders`` (a console chat's worker leaves the rest to
        # ``destek run``); True: also the rows of channels without a sender (they fail).
        self.other_channels = other_channels
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

    def claimable(self) -> outbox.Claimable | None:
        """The rows this worker may take: a sender with ``claim_targets(engine)`` (the
        console's) narrows its channel's rows to those targets; None: every row, as one worker
        would."""
        only: dict[str, frozenset[str]] = {}
        excluding: dict[str, frozenset[str]] = {}
        for name, sender in self.senders.items():
            pick = getattr(sender, "claim_targets", None)
            if pick is not None:
                mode, targets = pick(self.engine)
                (only if mode == "only" else excluding)[name] = frozenset(targets)
            elif not self.other_channels:
                excluding[name] = frozenset()
        if not only and not excluding and self.other_channels:
            return None
        return outbox.Claimable(only, excluding, self.other_channels)

    def _claim(self) -> list[Outgoing]:
        now = self.now()
        with session_scope(self.engine, self.now) as s:
            _mark_expired_maybe_sent(s, now)
            outbox.release_expired(s, now)
        only = self.claimable()
        with session_scope(self.engine, self.now) as s:
            return [Outgoing.of(m) for m in outbox.claim(s, now, self.lease_seconds, self.batch,
                                                         only)]

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

        only = self.claimable()
        with Session(self.engine) as s:
            at = outbox.next_due_at(s, only)
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

        only = self.claimable()
        with Session(self.engine) as s:
            return outbox.next_due_at(s, only)

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
