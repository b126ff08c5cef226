"""``destek run``: every configured channel and periodic job as async services.

A service has ``name``, ``async start()`` and ``async stop()``. The channels' services come
from :mod:`bot.channels.registry` (each channel says when its settings turn it on); a job is a
factory ``(RunContext) -> Service | None`` in :data:`JOB_FACTORIES`, None when its settings are
absent. Services start in order and stop in reverse on SIGINT/SIGTERM.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.engine import Engine

from handlers.intake import IntakeConfig, sweep_dialogs
from storage.clock import Clock, system_clock
from storage.db import session_scope

from .channels import registry
from .config import Settings
from .jobs.tasks import cancel_and_wait, freeze_startup_heap

if TYPE_CHECKING:
    from sla import Policy

    from .channels.outbound import Sender

log = logging.getLogger("destek.runner")


class Service(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class RunContext:
    settings: Settings
    engine: Engine
    intake: IntakeConfig
    now: Clock = system_clock
    # The policy the jobs apply (None: the settings' policy file); ``destek demo`` adds its
    # minute-scale plan (bot.demo_plan).
    policy: Policy | None = None
    # The SLA scheduler's outbox senders, and then only their channels are delivered by it
    # (None: every configured channel's). ``destek demo`` leaves the console's rows to the
    # terminals (bot.channels.console.presence).
    senders: Mapping[str, Sender] | None = None

    def load_policy(self) -> Policy:
        from sla import load_policy

        return self.policy or load_policy(self.settings.policy_path)


class PeriodicTask:
    """Runs ``job()`` every ``interval`` seconds until stopped (errors are logged, not fatal)."""

    def __init__(self, name: str, interval: float, job: Callable[[], object]) -> None:
        self.name = name
        self.interval = interval
        self.job = job
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=self.name)

    async def _loop(self) -> None:
        while True:
            try:
                result = self.job()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:  # noqa: BLE001 - one failed round must not stop the job
                log.exception("%s failed", self.name)
            await asyncio.sleep(self.interval)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None


async def sweep_once(ctx: RunContext) -> int:
    """Remind/expire abandoned dialogs (queued in the outbox); returns how many were queued."""
    def work() -> int:
        with session_scope(ctx.engine, ctx.now) as s:
            return len(sweep_dialogs(s, ctx.now(), ctx.intake))

    return await asyncio.to_thread(work)


def _sweeper(ctx: RunContext) -> Service | None:
    return PeriodicTask("dialog-sweeper", 60.0, lambda: sweep_once(ctx))


def _sla_scheduler(ctx: RunContext) -> Service | None:
    # SLA reminders/breach alerts (APScheduler) and the outbox delivery worker.
    from .jobs.scheduler import SchedulerService

    svc = SchedulerService(ctx.settings, engine=ctx.engine, now=ctx.now, policy=ctx.policy,
                           senders=None if ctx.senders is None else dict(ctx.senders))
    if ctx.senders is not None and svc.worker is not None:
        svc.worker.other_channels = False  # the other channels' rows are someone else's
    return svc


def _dashboard(ctx: RunContext) -> Service | None:
    # The manager's read-only dashboard on DESTEK_DASHBOARD_PORT (0 = off).
    if ctx.settings.dashboard_port <= 0:
        return None
    from .web import DashboardService, WebOptions, create_app

    web = create_app(policy=ctx.load_policy(), engine=ctx.engine, now=ctx.now,
                     refresh_seconds=ctx.settings.dashboard_refresh,
                     options=WebOptions.from_settings(ctx.settings))
    return DashboardService(web, ctx.settings.http_host, ctx.settings.dashboard_port)


def _ai_drafts(ctx: RunContext) -> Service | None:
    # Optional OpenAI workaround drafts for new tickets (off unless a key is configured:
    # globally or for a customer, so the service always listens and checks per ticket).
    from .ai import AIDraftService
    from .routing import routing_from_settings

    return AIDraftService(
        ctx.engine, ctx.settings,
        to_customers_policy=ctx.load_policy().ai_suggestions_to_customers,
        routing=routing_from_settings(ctx.settings), clock=ctx.now,
    )


# The channels' services (bot.channels.registry) first, then the jobs.
JOB_FACTORIES: list[Callable[[RunContext], Service | None]] = [_sweeper, _sla_scheduler,
                                                                _dashboard, _ai_drafts]


def build_services(ctx: RunContext) -> tuple[list[Service], bool]:
    """The services to run, and whether any channel is among them."""
    services = registry.services(ctx)
    has_channel = bool(services)
    for factory in JOB_FACTORIES:
        svc = factory(ctx)
        if svc is not None:
            services.append(svc)
    return _with_leadership(ctx, services), has_channel


def job_services(ctx: RunContext, names: Collection[str]) -> list[Service]:
    """Only the jobs named (no channel), under the same leadership as in ``destek run``:
    ``destek demo`` runs the dialog sweeper and the SLA scheduler beside its console chat."""
    services = [svc for svc in (factory(ctx) for factory in JOB_FACTORIES)
                if svc is not None and svc.name in names]
    return _with_leadership(ctx, services)


def _with_leadership(ctx: RunContext, services: list[Service]) -> list[Service]:
    """Replicas: the leader-only services run on whichever replica holds the database lease."""
    if any(_leader_only(ctx, svc) for svc in services):
        from .jobs.leadership import LeaderOnly, Leadership, TicketChangeFeed

        lease = Leadership(ctx.engine, [])
        wrapped: list[Service] = []
        for svc in services:
            wrapped.append(LeaderOnly(svc, lease) if _leader_only(ctx, svc) else svc)
            if svc.name == "sla-scheduler":  # changes made on the other replicas
                wrapped.append(LeaderOnly(TicketChangeFeed(ctx.engine, svc), lease))
        services = wrapped
    return services


def _leader_only(ctx: RunContext, svc: Service) -> bool:
    """Once across replicas: the SLA scheduler with the outbox worker, the dialog sweeper and
    the channels that say so (Telegram polling: a second poller gets 409 Conflict)."""
    if svc.name in ("sla-scheduler", "dialog-sweeper"):
        return True
    return registry.leader_only(ctx.settings, svc.name)


async def run_services(services: list[Service], stop: asyncio.Event | None = None,
                       freeze_heap: bool = True) -> None:
    """Start every service, wait for SIGINT/SIGTERM (or ``stop``), stop them in reverse.

    Once all have started, what start-up built is frozen out of the garbage collector's full
    passes (:func:`bot.jobs.tasks.freeze_startup_heap`); in-process tests pass
    ``freeze_heap=False``.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):  # not the main thread / platform
            pass
    started: list[Service] = []
    try:
        for svc in services:
            await svc.start()
            started.append(svc)
            log.info("started %s", svc.name)
        if freeze_heap:
            freeze_startup_heap()
        await stop.wait()
        log.info("stopping")
    finally:
        for svc in reversed(started):
            try:
                await svc.stop()
            except Exception:  # noqa: BLE001 - stop the others anyway
                log.exception("stopping %s failed", svc.name)
        for sig in installed:
            loop.remove_signal_handler(sig)
