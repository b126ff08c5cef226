"""The scheduler service for real: AsyncIOScheduler with its SQLAlchemyJobStore on SQLite, the
delivery worker and the fake Slack Web API; start-up reconciliation, restart, the hook."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.channels.slack import SlackSender
from bot.jobs.scheduler import DIGEST_JOB, SWEEP_JOB, SchedulerService
from handlers import hooks
from handlers.types import Destination, Routing
from sla import Policy
from storage.db import make_engine, session_scope
from storage.models import Ticket

from .fakes.slack_api import FakeSlackApi
from .test_scheduler import seed

ROUTES = Routing(channels=("slack",), engineers=(Destination("slack", "C0ENG"),),
                 alerts=(Destination("slack", "C0ALERT"),), engineers_tz="Europe/Istanbul")


@pytest.fixture
def policy(policy: Policy) -> Policy:
    """These tests run on the wall clock: on-call paging (tests/test_oncall.py) would add a
    page whenever they run out of Istanbul's business hours, so it is off here."""
    return policy.model_copy(update={"paging": policy.paging.model_copy(
        update={"enabled": False})})


def service(engine: Engine, policy: Policy, slack: FakeSlackApi) -> SchedulerService:
    return SchedulerService(
        settings=object(), engine=engine, policy=policy, routing=ROUTES,
        senders={"slack": SlackSender("xoxb-test", slack.base_url)},
    )


async def wait_for(cond, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


async def test_start_reconciles_arms_jobs_and_survives_restart(
    sqlite_url: str, policy: Policy, slack: FakeSlackApi
) -> None:
    engine = make_engine(sqlite_url)
    reported = now() - timedelta(minutes=20)  # premium S1 response 30 m 24x7: 50 % passed
    tid = seed(engine, policy, reported, severity="S1", plan="premium")
    svc = service(engine, policy, slack)
    await svc.start()
    try:
        await wait_for(lambda: len(slack.messages) == 1)
        msg = slack.messages[0]
        assert msg["channel"] == "U0ENG001" and msg["text"].startswith("[gecikmeli]")  # late, tr
        assert svc.armed_at(SWEEP_JOB) == reported + timedelta(minutes=22, seconds=30)  # 75 %
        digest = svc.scheduler.get_job(DIGEST_JOB).next_run_time
        local = digest.astimezone(ZoneInfo("Europe/Istanbul"))
        assert (local.hour, local.minute) == (8, 0) and digest > datetime.now(UTC)
        with engine.connect() as conn:
            ids = {r[0] for r in conn.execute(text("SELECT id FROM apscheduler_jobs"))}
        assert {"sla-sweep", "sla-digest", "sla-reconcile", "sla-monthly-report",
                "eos-notices", "auto-close"} <= ids
        monthly = svc.scheduler.get_job("sla-monthly-report").next_run_time
        local = monthly.astimezone(ZoneInfo("Europe/Istanbul"))
        assert (local.day, local.hour, local.minute) == (1, 8, 0)

        # acknowledge through the hook: the response clock's jobs go, the workaround's come
        with session_scope(engine) as s:
            ticket = s.get(Ticket, tid)
            assert ticket is not None
            ticket.responded_at = now()
            s.add(ticket)
        hooks.ticket_changed(tid)
        assert svc.armed_at(SWEEP_JOB) == reported + timedelta(hours=2)
    finally:
        await svc.stop()

    # restart: the persisted jobs are there, nothing is sent twice
    svc2 = service(engine, policy, slack)
    await svc2.start()
    try:
        assert svc2.armed_at(SWEEP_JOB) == reported + timedelta(hours=2)
        await svc2.worker.drain()  # type: ignore[union-attr]
        await asyncio.sleep(0.1)
        assert len(slack.messages) == 1
    finally:
        await svc2.stop()
    hooks.ticket_changed(tid)  # no listener after stop: a no-op
    engine.dispose()


async def test_sweep_job_fires_on_time_and_channel_outage_only_delays(
    sqlite_url: str, policy: Policy, slack: FakeSlackApi
) -> None:
    engine = make_engine(sqlite_url)
    reported = now() - timedelta(minutes=15) + timedelta(seconds=1)  # 50 % in ~1 s
    seed(engine, policy, reported, severity="S1", plan="premium")
    slack.fail("chat.postMessage", status=503)  # first attempt fails
    svc = service(engine, policy, slack)
    svc.worker.base_delay = 0.2  # type: ignore[union-attr]
    await svc.start()
    try:
        await wait_for(lambda: len(slack.messages) == 1)
        lateness = time.time() - (reported + timedelta(minutes=15)).timestamp()
        # Seconds, not the next reconciliation (60 s) or the "late" grace (2 min); it is
        # about 1 s here, the bound is for a loaded CI machine running two suites at once.
        assert lateness < 20.0
        assert "[" not in slack.messages[0]["text"][:2]  # on time: not marked late
        assert svc.armed_at(SWEEP_JOB) == reported + timedelta(
            minutes=22, seconds=30)
    finally:
        await svc.stop()
    engine.dispose()


async def test_stop_ends_a_pass_that_is_mid_await(
    sqlite_url: str, policy: Policy, slack: FakeSlackApi
) -> None:
    """stop() while a job awaits its database pass on a thread: the job is cancelled, the pass
    finishes, and nothing of the service is left for the loop's close to wait on (the suite's
    teardown hang)."""
    import threading

    engine = make_engine(sqlite_url)
    svc = service(engine, policy, slack)
    await svc.start()
    entered, release, finished = threading.Event(), threading.Event(), threading.Event()
    real_reconcile = svc.core.reconcile

    def slow_reconcile(at: datetime):  # type: ignore[no-untyped-def]
        entered.set()
        release.wait(5)
        try:
            return real_reconcile(at)
        finally:
            finished.set()

    svc.core.reconcile = slow_reconcile  # type: ignore[method-assign]
    job = asyncio.create_task(svc.reconcile())
    await wait_for(entered.is_set)
    stopping = asyncio.create_task(svc.stop())
    await asyncio.sleep(0.1)
    assert not stopping.done()  # stop() waits for the pass on its thread
    release.set()
    await asyncio.wait_for(stopping, 5)
    assert finished.is_set()
    await asyncio.wait_for(asyncio.gather(job, return_exceptions=True), 1)
    assert not [t for t in threading.enumerate() if t.name.startswith(("sla-pass", "outbox"))
                and t.is_alive()]
    engine.dispose()
