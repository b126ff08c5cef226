"""Leadership among replicas: the lease holder alone runs the leader-only services.

Every replica serves Slack HTTP requests and Telegram webhooks (stateless: all state is in the
database). A few things must run ONCE across replicas: the SLA scheduler (APScheduler's job
store must not be shared by two schedulers), the dialog sweeper, the outbox delivery worker
and Telegram polling (two pollers on one token get 409 Conflict). :class:`Leadership` is a
runner service that takes the ``leader`` lease (:mod:`storage.leases`), renews it every
``renew`` seconds and starts those services while it holds it; when the holder dies its lease
runs out after ``ttl`` seconds and another replica takes over at its next renewal tick.

The holder steps down by its OWN clock before the lease can have run out in the database
(``ttl - renew`` after the last successful renewal), so two leaders never overlap for long
even when the database is unreachable. Overlap would not duplicate messages anyway: every
notification is an outbox row with a unique key, claimed under a row lock.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.engine import Engine

from storage import leases

from .tasks import cancel_and_wait

log = logging.getLogger("destek.leadership")

DEFAULT_TTL = 15.0


def default_holder() -> str:
    """hostname:pid:random: unique per process, readable in the leases table."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def lease_settings() -> tuple[float, float]:
    """(ttl, renew) from DESTEK_LEASE_SECONDS (default 15) and DESTEK_LEASE_RENEW (ttl / 3)."""
    ttl = float(os.environ.get("DESTEK_LEASE_SECONDS") or DEFAULT_TTL)
    renew = float(os.environ.get("DESTEK_LEASE_RENEW") or ttl / 3)
    if not 0 < renew < ttl:
        raise ValueError("DESTEK_LEASE_RENEW must be positive and below DESTEK_LEASE_SECONDS")
    return ttl, renew


class Leadership:
    """Runner service: hold the ``leader`` lease and run ``services`` while holding it."""

    def __init__(
        self,
        engine: Engine,
        services: Sequence[Any],
        *,
        name: str = leases.LEADER,
        holder: str | None = None,
        ttl: float | None = None,
        renew: float | None = None,
        on_change: Callable[[bool], None] | None = None,
    ) -> None:
        env_ttl, env_renew = lease_settings()
        self.engine = engine
        self.services = list(services)
        self.lease_name = name
        self.holder = holder or default_holder()
        self.ttl = ttl or env_ttl
        self.renew = renew or (self.ttl / 3 if ttl else env_renew)
        self.on_change = on_change
        self.name = "leadership"
        self.leading = False
        self.term = 0
        self._started: list[Any] = []
        self._valid_until = 0.0  # monotonic: step down after this without a renewal
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        # First attempt inline so a lone replica is leader as soon as `run` reports started.
        await self._tick()
        self._task = asyncio.create_task(self._loop(), name="leadership")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.renew)
            await self._tick()

    async def _tick(self) -> None:
        asked = time.monotonic()
        try:
            state = await asyncio.to_thread(
                leases.acquire, self.engine, self.lease_name, self.holder, self.ttl)
        except Exception:  # noqa: BLE001 - database unreachable: keep going until unsafe
            log.exception("lease renewal failed")
            state = None
            if self.leading and time.monotonic() < self._valid_until:
                return
        if state is not None:
            # The database computed expiry after we asked: stepping down `renew` before
            # asked + ttl keeps us inside the lease by our own clock.
            self._valid_until = asked + self.ttl - self.renew
            if not self.leading:
                self.term = state.term
                log.info("%s is the leader (term %d)", self.holder, state.term)
                await self._lead()
        elif self.leading:
            log.warning("%s lost the lease: stepping down", self.holder)
            await self._step_down()

    async def join(self, svc: Any) -> None:
        """Add a leader-only service (started at once when this replica leads)."""
        self.services.append(svc)
        if self.leading:
            await self._start_one(svc)

    async def leave(self, svc: Any) -> None:
        """Remove a service, stopping it when it runs."""
        if svc in self.services:
            self.services.remove(svc)
        if svc in self._started:
            self._started.remove(svc)
            await svc.stop()

    @property
    def running(self) -> bool:
        return self._task is not None

    async def _lead(self) -> None:
        self.leading = True
        for svc in list(self.services):
            await self._start_one(svc)
        if self.on_change is not None:
            self.on_change(True)

    async def _start_one(self, svc: Any) -> None:
        if svc in self._started:
            return
        try:
                await svc.start()
        except Exception:  # noqa: BLE001 - a broken service must not block the others
            log.exception("starting %s failed", svc.name)
            return
        self._started.append(svc)
        log.info("leader started %s", svc.name)

    async def _step_down(self) -> None:
        self.leading = False
        while self._started:
            svc = self._started.pop()
            try:
                await svc.stop()
            except Exception:  # noqa: BLE001
                log.exception("stopping %s failed", svc.name)
        if self.on_change is not None:
            self.on_change(False)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        was_leading = self.leading
        await self._step_down()
        if was_leading:
            try:
                await asyncio.to_thread(leases.release, self.engine, self.lease_name,
                                        self.holder)
            except Exception:  # noqa: BLE001 - it expires anyway
                log.exception("releasing the lease failed")


class LeaderOnly:
    """A runner service that runs only on the lease holder: keeps the wrapped service's name
    (and ``send`` for channels); the first one started starts the shared lease loop, the last
    one stopped releases the lease."""

    def __init__(self, service: Any, leadership: Leadership) -> None:
        self.service = service
        self.leadership = leadership
        self.name = service.name

    async def start(self) -> None:
        await self.leadership.join(self.service)
        if not self.leadership.running:
            await self.leadership.start()
        if not self.leadership.leading:
            log.info("%s runs on the leader only: standing by", self.name)

    async def stop(self) -> None:
        await self.leadership.leave(self.service)
        if not self.leadership.services and self.leadership.running:
            await self.leadership.stop()

    def __getattr__(self, attr: str) -> Any:  # send(), worker, ... of the wrapped service
        return getattr(self.service, attr)


class TicketChangeFeed:
    """Leader-only: re-plans tickets changed on OTHER replicas.

    A change made on a replica that is not the leader calls no scheduler hook there, so the
    leader learns of it from the audit trail (every change of a ticket writes a ticket event
    first): every ``interval`` seconds it reads the events it has not seen and re-plans their
    tickets (idempotent: reminders are keyed). Ids are read from a little below the high-water
    mark, because on PostgreSQL a transaction holding a smaller id may commit later.
    """

    name = "ticket-change-feed"

    def __init__(self, engine: Engine, scheduler: Any, interval: float = 2.0,
                 lookback: int = 500) -> None:
        self.engine = engine
        self.scheduler = scheduler
        self.interval = interval
        self.lookback = lookback
        self._seen: set[int] = set()
        self._high = 0
        self._task: asyncio.Task[None] | None = None

    def _poll(self) -> list[int]:
        from sqlalchemy import func
        from sqlmodel import Session, col, select

        from storage.models import TicketEvent

        with Session(self.engine) as s:
            if not self._high and not self._seen:  # start: the scheduler just reconciled
                self._high = int(s.exec(select(func.max(TicketEvent.id))).one() or 0)
                return []
            low = max(0, self._high - self.lookback)
            rows = s.exec(select(TicketEvent.id, TicketEvent.ticket_id)
                          .where(col(TicketEvent.id) > low)).all()
        changed: set[int] = set()
        for eid, tid in rows:
            if eid is not None and eid not in self._seen:
                self._seen.add(eid)
                self._high = max(self._high, eid)
                if eid > low:
                    changed.add(tid)
        floor = self._high - self.lookback
        self._seen = {e for e in self._seen if e > floor}
        return sorted(changed)

    async def run_once(self) -> int:
        changed = await asyncio.to_thread(self._poll)
        for tid in changed:
            await asyncio.to_thread(self.scheduler.reschedule_ticket, tid)
        return len(changed)

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:  # noqa: BLE001 - the database may be briefly unavailable
                log.exception("ticket change feed failed")
            await asyncio.sleep(self.interval)

    async def start(self) -> None:
        self._seen, self._high = set(), 0
        await self.run_once()
        self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
