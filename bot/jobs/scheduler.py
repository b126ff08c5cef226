"""SLA scheduler: countdown reminders, breach alerts, escalations and the daily digest.

Design (see the report / README): the durable truth is the database — tickets, pauses and the
outbox, whose unique keys make every notification happen once. Planning is pure
(:mod:`sla.reminders`). APScheduler (AsyncIOScheduler, SQLAlchemyJobStore on DATABASE_URL)
holds only a few jobs: ONE ``sla-sweep`` job armed at the earliest pending threshold of all
tickets, the 08:00 ``sla-digest`` cron job and a periodic ``sla-reconcile`` backstop. An
in-memory heap keeps each ticket's next threshold; it is rebuilt from the database by the
start-up reconciliation, which also sends (once, marked late) what passed while we were down.
One job per threshold (100 000 tickets × 3 clocks × 4 points) would mean 1.2 M pickled rows
rewritten on every change; one job per ticket still 100 000 rows: the sweep keeps the job store
tiny and restart cost proportional to the tickets, not to the jobs.

This module is the "when": the jobs, the heap and the timers. A pass over the tickets is
:mod:`bot.jobs.sla_passes`; who hears what when a threshold passes is
:mod:`handlers.sla_notices` (the pages :mod:`handlers.paging`). Job functions only enqueue: the
delivery worker (:mod:`bot.jobs.delivery`) talks to the channels, so a channel that is down
delays messages, never the clock logic. Nothing here calls OpenAI (P27): an AI outage cannot
hold up, or count against, a clock.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from handlers.auto_close import PassOutcome
from handlers.hooks import on_ticket_changed
from handlers.types import Routing
from sla import Policy, load_policy
from storage.clock import Clock, system_clock
from storage.db import make_engine

from ..channels import registry
from ..channels.outbound import Sender
from ..routing import routing_from_settings
from .auto_close import AUTO_CLOSE_MINUTES, auto_close_pass
from .delivery import DeliveryWorker
from .sla_passes import Outcome, SlaCore
from .tasks import ServiceThreads

log = logging.getLogger(__name__)

SWEEP_JOB, DIGEST_JOB, RECONCILE_JOB = "sla-sweep", "sla-digest", "sla-reconcile"
# The manager's jobs (issue 7): last month's SLA report on the 1st, end-of-support notices daily.
MONTHLY_REPORT_JOB, EOS_NOTICES_JOB = "sla-monthly-report", "eos-notices"
PAGE_JOB = "oncall-page"  # the next step of the earliest on-call page (handlers.paging)
AUTO_CLOSE_JOB = "auto-close"  # resolved tickets reminded and closed (handlers.auto_close)


# -- the service ---------------------------------------------------------------------------

_ACTIVE: SchedulerService | None = None


async def sla_sweep_job() -> None:
    """APScheduler job (module level, pickled by reference): handle every due ticket."""
    if _ACTIVE is not None:
        await _ACTIVE.sweep()


async def sla_digest_job() -> None:
    if _ACTIVE is not None:
        await _ACTIVE.digest()


async def sla_reconcile_job() -> None:
    if _ACTIVE is not None:
        await _ACTIVE.reconcile()


async def monthly_report_tick() -> None:
    """APScheduler job: last month's SLA reports, as of the service's clock."""
    from ..report_render import monthly_report_job

    if _ACTIVE is not None:
        await _ACTIVE.run_as_of(monthly_report_job, _ACTIVE.routing)


async def eos_notices_tick() -> None:
    """APScheduler job: the end-of-support notices due, as of the service's clock."""
    from ..report_render import eos_notices_job

    if _ACTIVE is not None:
        await _ACTIVE.run_as_of(eos_notices_job, getattr(_ACTIVE.settings, "policy_path", None))


async def auto_close_tick() -> None:
    """APScheduler job: remind and close the resolved tickets that are due."""
    if _ACTIVE is not None:
        await _ACTIVE.auto_close()


async def oncall_page_job() -> None:
    """APScheduler job: the next step of every on-call page that is due."""
    if _ACTIVE is not None:
        await _ACTIVE.advance_pages(fired=True)


class SchedulerService:
    """The scheduler and the outbox delivery worker as one async service (start/stop)."""

    name = "sla-scheduler"

    def __init__(
        self,
        settings: Any = None,
        *,
        engine: Engine | None = None,
        policy: Policy | None = None,
        routing: Routing | None = None,
        senders: dict[str, Sender] | None = None,
        now: Clock = system_clock,
        deliver: bool = True,
        reconcile_minutes: float = 15,
    ) -> None:
        if settings is None:
            from ..config import get_settings

            settings = get_settings()
        self.settings = settings
        self.engine = engine or make_engine(settings.database_url)
        self.policy = policy or load_policy(settings.policy_path)
        self.routing = routing if routing is not None else routing_from_settings(settings)
        self.now = now
        self.core = SlaCore(self.engine, self.policy, self.routing)
        self.worker = DeliveryWorker(
            self.engine, senders if senders is not None else registry.senders(settings),
            now=now,
        ) if deliver else None
        self.reconcile_minutes = reconcile_minutes
        self.scheduler: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._heap: list[tuple[float, int]] = []
        self._next: dict[int, float] = {}
        self._armed: float | None = None
        self._page_next: datetime | None = None
        self._page_armed: datetime | None = None
        self._unhook: Callable[[], None] | None = None
        self._sweeping = asyncio.Lock()
        self._threads = ServiceThreads("sla-pass")

    # -- next-threshold heap -----------------------------------------------------------------

    def _set_next(self, updates: dict[int, datetime | None]) -> None:
        with self._lock:
            for tid, at in updates.items():
                if at is None:
                    self._next.pop(tid, None)
                    continue
                epoch = at.timestamp()
                self._next[tid] = epoch
                heapq.heappush(self._heap, (epoch, tid))
            if len(self._heap) > 4 * len(self._next) + 1024:  # drop stale entries
                self._heap = [(e, t) for t, e in self._next.items()]
                heapq.heapify(self._heap)

    def next_due(self) -> datetime | None:
        """The earliest pending threshold over all tickets."""
        with self._lock:
            while self._heap and self._next.get(self._heap[0][1]) != self._heap[0][0]:
                heapq.heappop(self._heap)
            return datetime.fromtimestamp(self._heap[0][0], UTC) if self._heap else None

    def ticket_next(self, ticket_id: int) -> datetime | None:
        epoch = self._next.get(ticket_id)
        return None if epoch is None else datetime.fromtimestamp(epoch, UTC)

    def _pop_due(self, now: datetime) -> list[int]:
        limit = now.timestamp()
        due: list[int] = []
        with self._lock:
            while self._heap and self._heap[0][0] <= limit:
                epoch, tid = heapq.heappop(self._heap)
                if self._next.get(tid) == epoch:
                    del self._next[tid]
                    due.append(tid)
        return due

    # -- entry points ------------------------------------------------------------------------

    def reschedule_ticket(self, ticket_id: int, now: datetime | None = None) -> datetime | None:
        """Re-plan one ticket after any change (call after the change is committed).

        Thresholds the change made due are queued at once; the ticket's next threshold
        replaces its old one (or is removed when its clocks stopped). Safe from any thread.
        """
        out = self.core.process_ticket(ticket_id, now or self.now())
        nxt = out.next.get(ticket_id)
        self._set_next({ticket_id: nxt})
        if out.paged:
            self._page_next = out.page_next
        self._after_change(bool(out.enqueued or out.paged))
        return nxt

    async def sweep(self, now: datetime | None = None) -> Outcome:
        """Handle every ticket whose next threshold has come, then re-arm the sweep job."""
        self._armed = None  # a date job is gone once it fired
        async with self._sweeping:  # one sweep at a time; a late second one finds less to do
            now = now or self.now()
            ids = self._pop_due(now)
            out = await self._threads.run(self.core.process_ids, ids, now) if ids else Outcome()
            self._set_next({tid: out.next.get(tid) for tid in ids})
        return self._after_pass(out)

    async def reconcile(self, now: datetime | None = None) -> Outcome:
        out = await self._threads.run(self.core.reconcile, now or self.now())
        with self._lock:
            self._next = {tid: at.timestamp() for tid, at in out.next.items()}
            self._heap = [(e, tid) for tid, e in self._next.items()]
            heapq.heapify(self._heap)
        return self._after_pass(out)

    async def advance_pages(self, now: datetime | None = None, fired: bool = False) -> Outcome:
        """Send the due steps of the on-call pages and arm the page job at the next one."""
        if fired:
            self._page_armed = None  # a date job is gone once it fired
        async with self._sweeping:
            out = await self._threads.run(self.core.advance_pages, now or self.now())
        return self._after_pass(out)

    def _after_pass(self, out: Outcome) -> Outcome:
        """After any pass: the page job follows the pages, the jobs are re-armed, and the
        delivery worker is woken when something was queued (pages queue their own rows)."""
        if out.paged:
            self._page_next = out.page_next
        self._rearm()
        if (out.enqueued or out.paged) and self.worker is not None:
            self.worker.wake()
        return out

    async def digest(self, now: datetime | None = None) -> int:
        n = await self._threads.run(self.core.digest, now or self.now())
        if n and self.worker is not None:
            self.worker.wake()
        return n

    async def auto_close(self, now: datetime | None = None) -> PassOutcome:
        """The auto-close pass as of ``now`` (the service's clock); wakes the delivery."""
        out = await self._threads.run(auto_close_pass, self.engine, self.policy, self.routing,
                                      now or self.now())
        if (out.reminded or out.closed) and self.worker is not None:
            self.worker.wake()
        return out

    async def run_as_of(self, job: Callable[..., object], *args: Any) -> None:
        """``job(database_url, *args, now)`` on this service's threads, as of its clock; the
        delivery worker is woken for what it queued."""
        url = self.engine.url.render_as_string(hide_password=False)
        await self._threads.run(job, url, *args, self.now())
        if self.worker is not None:
            self.worker.wake()

    def _after_change(self, queued: bool) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._rearm()
        else:
            loop.call_soon_threadsafe(self._rearm)
        if queued and self.worker is not None:
            self.worker.wake()

    def _rearm(self) -> None:
        """Point the single sweep job at the earliest pending threshold (event-loop thread)."""
        if self.scheduler is None or not self.scheduler.running:
            return
        self._rearm_pages()
        at = self.next_due()
        epoch = None if at is None else at.timestamp()
        if epoch == self._armed and (epoch is None or self.scheduler.get_job(SWEEP_JOB)):
            return
        if at is None:
            if self.scheduler.get_job(SWEEP_JOB) is not None:
                self.scheduler.remove_job(SWEEP_JOB)
        else:
            self.scheduler.add_job(
                sla_sweep_job, "date", run_date=self._timer_instant(at), id=SWEEP_JOB,
                replace_existing=True,
                # the job re-arms itself before its run is over: allow the next to overlap
                misfire_grace_time=None, coalesce=True, max_instances=4,
            )
        self._armed = epoch

    def _timer_instant(self, at: datetime) -> datetime:
        """APScheduler's timer runs on the real clock and the instants here are on the
        service's clock: a job due at ``at`` is armed after the same delay, so a moved clock
        (tests) and the real one (production, where both agree) behave alike."""
        return system_clock() + (at - self.now())

    def armed_at(self, job_id: str) -> datetime | None:
        """When the sweep or page job is due, on the service's clock (None: not armed)."""
        if self.scheduler is None or self.scheduler.get_job(job_id) is None:
            return None
        if job_id == PAGE_JOB:
            return self._page_armed
        return None if self._armed is None else datetime.fromtimestamp(self._armed, UTC)

    def _rearm_pages(self) -> None:
        """Point the page job at the earliest due step (``_page_armed``: the job we left)."""
        at = self._page_next
        if at == self._page_armed:
            return
        if at is None:
            if self.scheduler.get_job(PAGE_JOB) is not None:
                self.scheduler.remove_job(PAGE_JOB)
        else:
            self.scheduler.add_job(oncall_page_job, "date", run_date=self._timer_instant(at),
                                   id=PAGE_JOB,
                                   replace_existing=True, misfire_grace_time=None,
                                   coalesce=True, max_instances=4)
        self._page_armed = at

    def _on_ticket_changed(self, ticket_id: int) -> None:
        self.reschedule_ticket(ticket_id)

    def _on_skipped(self, event: Any) -> None:
        # A skipped date job is removed by APScheduler: arm the sweep again right after.
        if event.job_id in (SWEEP_JOB, PAGE_JOB) and self._loop is not None:
            self._armed = self._page_armed = None
            self._loop.call_later(0.01, self._rearm)

    async def start(self) -> None:
        """Reconcile, start APScheduler in this loop, register the hook, start delivery."""
        from apscheduler.events import EVENT_JOB_MAX_INSTANCES
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        global _ACTIVE
        _ACTIVE = self
        self._loop = asyncio.get_running_loop()
        out = await self.reconcile()
        log.info("SLA reconciliation: %d tickets, %d messages queued (%d late)",
                 out.tickets, out.enqueued, out.late)
        self.scheduler = AsyncIOScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.engine)},
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        self.scheduler.add_listener(self._on_skipped, EVENT_JOB_MAX_INSTANCES)
        self.scheduler.start()
        self._armed = self._page_armed = None
        zone = ZoneInfo(self.routing.engineers_tz)  # the engineers' mornings
        self.scheduler.add_job(
            sla_digest_job, "cron", hour=8, minute=0, timezone=zone,
            id=DIGEST_JOB, replace_existing=True, misfire_grace_time=4 * 3600,
        )
        self.scheduler.add_job(
            sla_reconcile_job, "interval", minutes=self.reconcile_minutes, id=RECONCILE_JOB,
            replace_existing=True, misfire_grace_time=None,
        )
        # Both are idempotent through their outbox keys, so a misfire re-run sends nothing twice.
        self.scheduler.add_job(
            monthly_report_tick, "cron", day=1, hour=8, minute=0,
            timezone=zone,
            id=MONTHLY_REPORT_JOB, replace_existing=True, misfire_grace_time=24 * 3600,
        )
        self.scheduler.add_job(
            eos_notices_tick, "cron", hour=9, minute=0, timezone=zone,
            id=EOS_NOTICES_JOB, replace_existing=True, misfire_grace_time=24 * 3600,
        )
        self.scheduler.add_job(
            auto_close_tick, "interval", minutes=AUTO_CLOSE_MINUTES, id=AUTO_CLOSE_JOB,
            replace_existing=True, misfire_grace_time=None,
        )
        self._rearm()
        self._unhook = on_ticket_changed(self._on_ticket_changed)
        if self.worker is not None:
            await self.worker.start()

    async def stop(self) -> None:
        global _ACTIVE
        if self._unhook is not None:
            self._unhook()
            self._unhook = None
        if self.scheduler is not None and self.scheduler.running:
            # Cancels the jobs in flight (AsyncIOExecutor); their passes end on our threads.
            self.scheduler.shutdown(wait=False)
        self.scheduler = None
        await self._threads.close()
        if self.worker is not None:
            await self.worker.stop()
        if _ACTIVE is self:
            _ACTIVE = None
