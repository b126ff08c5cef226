"""The inbound pipeline every channel shares: claim the delivery, keep one user's messages in
order, run the one dispatch in a database thread, commit, then let the adapter send.

A channel adapter translates its platform event into an :class:`~handlers.types.Incoming` and
hands it here with its delivery key (``telegram:<update_id>``, ``slack:<event_id>``); the key
commits in the same transaction as the effect, so a redelivery changes nothing.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from handlers.dispatch import route
from handlers.intake import IntakeConfig
from handlers.notify import choices_payload, keys
from handlers.types import OUTBOX_META, Incoming, Reply
from storage import deliveries, outbox
from storage.clock import Clock, clock_of, system_clock
from storage.db import session_scope

log = logging.getLogger("destek.inbound")
T = TypeVar("T")
FAILED: Any = object()  # a message of a batch whose processing raised (logged)


class Pipeline:
    """Database work of one channel: ``threads`` worker threads, one transaction per call."""

    def __init__(self, engine: Engine, cfg: IntakeConfig, clock: Clock = system_clock, *,
                 threads: int | None = None, name: str = "destek-db") -> None:
        self.engine = engine
        self.cfg = cfg
        self.clock = clock
        # SQLite has one writer: one database thread avoids lock waits (a read transaction
        # upgraded to a write while another thread commits fails at once, which no busy
        # timeout helps); PostgreSQL takes more.
        sqlite = engine.dialect.name == "sqlite"
        self.threads = threads or (1 if sqlite else 2)
        self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix=name)
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    async def db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(session, *args)`` in one transaction, in a worker thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(self.tx, fn, *args))

    def tx(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(session, *args)`` in one transaction here; retried while another process holds
        SQLite's write lock."""
        for attempt in range(5):
            try:
                with session_scope(self.engine, self.clock) as session:
                    return fn(session, *args)
            except OperationalError as exc:
                if "locked" not in str(exc) or attempt == 4:
                    raise
                log.info("database locked; retrying (%d)", attempt + 1)
        raise AssertionError("unreachable")

    async def dispatch(self, key: str | None, msg: Incoming) -> list[Reply] | None:
        """The replies to ``msg``, once per delivery ``key``; None for a repeat delivery.
        ``key`` None: a request the platform never repeats (a slash command, a button)."""
        return await self.db(self.dispatch_in, key, msg)

    def dispatch_in(self, session: Session, key: str | None, msg: Incoming,
                    ) -> list[Reply] | None:
        """:meth:`dispatch` inside the caller's transaction."""
        now = clock_of(session)()
        if key is not None and not deliveries.claim(session, key, now):
            return None  # delivered before, or committed concurrently by another replica
        return route(session, self.cfg, msg, now)

    async def dispatch_many(self, items: Sequence[tuple[str, Incoming]]) -> list[Any]:
        """:meth:`dispatch_batch` in a worker thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.dispatch_batch, items)

    def dispatch_batch(self, items: Sequence[tuple[str, Incoming]]) -> list[Any]:
        """Several deliveries in order in one transaction: per item its replies, None for a
        repeat, or :data:`FAILED`. If anything fails, nothing of the batch is kept and each
        runs again alone, so one bad message costs only itself."""
        if len(items) > 1:
            try:
                with session_scope(self.engine, self.clock) as session:
                    # Delivered before, or twice in this batch: the claim says so.
                    return [self.dispatch_in(session, key, msg) for key, msg in items]
            except Exception:  # noqa: BLE001 - rolled back: retried one by one below
                log.info("batch of %d failed; one message at a time", len(items), exc_info=True)
        out: list[Any] = []
        for key, msg in items:
            try:
                out.append(self.tx(self.dispatch_in, key, msg))
            except Exception:  # noqa: BLE001 - one message must not stop the others
                log.exception("inbound %s failed", key)
                out.append(FAILED)
        return out

    async def posted(self, reply: Reply, external_id: str | None = None) -> None:
        """The adapter answered with ``reply``: a reply also queued in the outbox (the new
        ticket's confirmation) is settled, so the worker does not send it again."""
        key = reply.meta.get(OUTBOX_META)
        if key:
            await self.db(settle_posted, [(key, external_id)])

    async def undelivered(self, channel: str, target: str, thread: str | None,
                          delivery: str, replies: Sequence[Reply]) -> None:
        """Replies the adapter could not post (a timeout, an outage) go to the outbox, whose
        worker retries them: an answer already committed is never lost to a failed send."""
        if replies:
            await self.db(queue_unsent, channel, target, thread, delivery, replies)

    @asynccontextmanager
    async def in_order(self, user: str) -> AsyncIterator[None]:
        """One user's messages one after another, in arrival order (the lock is FIFO and is
        taken before the first await, so tasks queue in the order they started)."""
        lock, users = self._locks.get(user) or (asyncio.Lock(), 0)
        self._locks[user] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[user]
            if users <= 1:
                del self._locks[user]
            else:
                self._locks[user] = (lock, users - 1)


def settle_posted(session: Session, posted: Sequence[tuple[str, str | None]]) -> None:
    """Mark the outbox rows of replies an adapter answered with as sent."""
    now = clock_of(session)()
    for key, external_id in posted:
        outbox.settle(session, key, now, external_id)


def queue_unsent(session: Session, channel: str, target: str, thread: str | None,
                 delivery: str, replies: Sequence[Reply]) -> None:
    """Queue ``replies`` once per ``delivery`` (a second failure of the same answer adds
    nothing); a reply with an outbox row of its own (the confirmation) is already queued."""
    for i, reply in enumerate(replies):
        if reply.meta.get(OUTBOX_META):
            continue
        payload = (choices_payload(reply.meta.get("step", ""), reply.choices)
                   if reply.choices else {})
        if reply.meta.get("file"):
            payload["file"] = reply.meta["file"]
        outbox.enqueue(session, keys.unsent_reply(delivery, i), channel, target, reply.text,
                       thread=thread, payload=payload or None)
    log.warning("%d answer(s) to %s queued for the delivery worker", len(replies), delivery)


def answered_keys(replies: Sequence[Reply]) -> list[tuple[str, str | None]]:
    """The outbox keys of ``replies`` that an in-process channel (the console) shows itself."""
    return [(r.meta[OUTBOX_META], None) for r in replies if r.meta.get(OUTBOX_META)]
