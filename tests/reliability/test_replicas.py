"""Several replicas on one PostgreSQL: one leader at a time, failover, nothing lost or doubled.

Two real ``destek run`` processes (Slack in HTTP mode, each on its own port) share a throwaway
PostgreSQL and a fake Slack Web API. SLA reminders come from a policy with a 30-second S1
response target (counted around the clock), so their thresholds fall during the test: real
time, no clock tricks, because the processes are real. The leader is killed with SIGKILL; the
other must take over within seconds and every reminder must reach Slack exactly once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.channels.slack import SlackSender
from bot.jobs.delivery import DeliveryWorker
from bot.jobs.sla_passes import SlaCore
from bot.routing import routing_from_settings
from sla import load_policy
from storage import leases, outbox, tickets
from storage.db import make_engine, session_scope, upgrade
from storage.directory import add_contact, add_customer
from storage.models import OutboxMessage
from tests.fakes.slack_api import FakeSlackApi
from tests.pg import TEST_DB, _free_port, fresh_pg_database

ROOT = Path(__file__).resolve().parents[2]
TTL, RENEW = 3.0, 1.0


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    """Replicas share a PostgreSQL server (production's store): the PostgreSQL pass runs it."""
    if TEST_DB == "sqlite":
        pytest.skip("several replicas need PostgreSQL: covered by DESTEK_TEST_DB=postgresql")
    url = fresh_pg_database(request.getfixturevalue("pg_server_url"))
    upgrade(url)
    return url


def tiny_policy(tmp_path: Path) -> Path:
    text = (ROOT / "sla" / "default_policy.yaml").read_text(encoding="utf-8")
    text = text.replace("S1: {response: 30m 24x7,", "S1: {response: 0.5m 24x7,", 1)
    assert "0.5m 24x7" in text
    # Wall-clock test: on-call pages (tests/test_oncall.py) would come and go with the hour.
    text = text.replace("paging:\n  enabled: true", "paging:\n  enabled: false", 1)
    assert "enabled: false" in text
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


class Replica:
    def __init__(self, name: str, env: dict[str, str], log: Path) -> None:
        self.name, self.env, self.log = name, env, log
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "from bot.cli import main; main()", "run",
            cwd=ROOT, env={**self.env, "DESTEK_HTTP_PORT": str(_free_port())},
            stdout=self.log.open("wb"), stderr=asyncio.subprocess.STDOUT)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(sig)
            try:
                await asyncio.wait_for(self.proc.wait(), 20)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


async def wait_for(cond, timeout: float, what: str, step: float = 0.1):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await asyncio.to_thread(cond)
        if value:
            return value
        await asyncio.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")


def holder_pid(engine: Engine) -> int | None:
    state = leases.current(engine)
    if state is None or state.remaining <= 0:
        return None
    return int(state.holder.split(":")[1])


def seed(engine: Engine, policy_path: Path, start: datetime, n: int = 6) -> list[int]:
    """Tickets whose S1 response thresholds (15, 22.5, 27, 30 s) fall over the next ~35 s."""
    policy = load_policy(str(policy_path))
    ids = []
    with session_scope(engine) as s:
        customer = add_customer(s, "ACME", calendar="TR", tz="Europe/Istanbul")
        contact = add_contact(s, "ACME", "Ayşe Demir", trained=True, language="tr")
        for k in range(n):
            t = tickets.open_ticket(s, policy, customer, contact, "premium", f"outage {k}",
                                    "S1", start + timedelta(seconds=3 * k - 6),
                                    remote_access=True)
            ids.append(t.id or 0)
    return ids


def slack_keys(fake: FakeSlackApi) -> list[str]:
    return [m["metadata"]["event_payload"]["key"] for m in fake.posted if m.get("metadata")]


async def test_leader_killed_other_takes_over_nothing_lost_or_doubled(
    pg_url: str, slack: FakeSlackApi, tmp_path: Path
) -> None:
    engine = make_engine(pg_url)
    policy_path = tiny_policy(tmp_path)
    start = datetime.now(UTC)
    ids = seed(engine, policy_path, start)
    env = {
        **os.environ, "DATABASE_URL": pg_url, "DESTEK_POLICY": str(policy_path),
        "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s3cret",
        "SLACK_API_URL": slack.base_url, "TELEGRAM_BOT_TOKEN": "",
        "DESTEK_ENGINEERS_SLACK_CHANNEL": "C0ENG", "DESTEK_ALERT_SLACK_CHANNEL": "C0ALERT",
        "DESTEK_DASHBOARD_PORT": "0", "DESTEK_DATA_DIR": str(tmp_path / "data"),
        "DESTEK_LEASE_SECONDS": str(TTL), "DESTEK_LEASE_RENEW": str(RENEW),
        "DESTEK_OUTBOX_CLAIM_SECONDS": "5", "DESTEK_LOG_LEVEL": "INFO", "PYTHONPATH": str(ROOT),
    }
    a = Replica("a", env, tmp_path / "a.log")
    b = Replica("b", env, tmp_path / "b.log")
    try:
        await a.start()
        await wait_for(lambda: holder_pid(engine) == a.pid, 30, "replica a to lead")
        await b.start()
        await asyncio.sleep(3)  # b is up (its Slack endpoint answers), not leading
        assert holder_pid(engine) == a.pid
        # Kill the leader once some reminders went out and more are still to come.
        await wait_for(lambda: len(slack.posted) >= 3, 40, "the first reminders")
        before = len(slack.posted)
        killed_at = time.monotonic()
        await a.stop(signal.SIGKILL)
        await wait_for(lambda: holder_pid(engine) == b.pid, 15, "replica b to take over",
                       step=0.05)
        takeover = time.monotonic() - killed_at
        print(f"takeover after SIGKILL: {takeover:.2f} s (lease {TTL:g} s, renew {RENEW:g} s)")
        assert takeover <= TTL + RENEW + 1.5, takeover

        # Every threshold up to the last breach (start + 9 + 30 s) must reach Slack.
        end = start + timedelta(seconds=3 * (len(ids) - 1) - 6 + 30)
        await wait_for(lambda: datetime.now(UTC) > end + timedelta(seconds=2), 60, "the end")

        def all_sent() -> bool:
            with Session(engine) as s:
                rows = s.exec(select(OutboxMessage)).all()
                return bool(rows) and all(r.status == outbox.SENT for r in rows)

        await wait_for(all_sent, 20, "the outbox to drain")
        assert len(slack.posted) > before  # b delivered after the failover
        # Nothing lost: a fresh planning pass finds no due threshold without its message.
        core = SlaCore(engine, load_policy(str(policy_path)),
                       routing_from_settings(_settings(env)))
        assert core.reconcile(datetime.now(UTC)).enqueued == 0
        # Nothing doubled: each outbox row reached Slack exactly once (by its metadata key).
        with Session(engine) as s:
            keys = [r.key for r in s.exec(select(OutboxMessage))]
        posted = Counter(slack_keys(slack))
        assert sorted(posted) == sorted(keys)
        assert [k for k, n in posted.items() if n > 1] == []
        print(f"{len(keys)} notifications for {len(ids)} tickets, "
              f"{len(slack.posted) - before} sent after the failover, none lost or doubled")
        # Every ticket got its 50 %, 75 %, 90 % reminders and its breach alert.
        for tid in ids:
            labels = {k.split(":")[2] for k in keys if k.startswith(f"t{tid}:response:")}
            assert {"50%", "75%", "90%", "breach"} <= labels or len(labels) >= 4, labels
    finally:
        await a.stop(signal.SIGKILL)
        await b.stop()
        engine.dispose()
    b_log = (tmp_path / "b.log").read_text(errors="replace")
    assert "is the leader" in b_log, b_log[-3000:]


def _settings(env: dict[str, str]):  # type: ignore[no-untyped-def]
    from bot.config import Settings

    return Settings(_env_file=None, **{k: v for k, v in env.items()  # type: ignore[arg-type]
                                       if k.startswith(("SLACK_", "DESTEK_", "TELEGRAM_"))})


async def test_expired_claim_is_not_sent_twice_to_slack(
    sqlite_url: str, slack: FakeSlackApi
) -> None:
    """A worker posts, then dies before recording it: the next worker finds the post by its
    metadata key and records it instead of posting again (exactly once on Slack)."""
    engine = make_engine(sqlite_url)
    with session_scope(engine) as s:
        outbox.enqueue(s, "t1:response:50%:1", "slack", "C0ENG", "half the time is gone")
        outbox.enqueue(s, "dm:1", "slack", "U0ENG001", "a direct message")
        outbox.enqueue(s, "never:1", "slack", "C0ENG", "claimed, not posted")
        parent = outbox.enqueue(s, "thread:1", "slack", "C0ENG", "a reply", thread="1.000001")
        assert parent is not None
    now = datetime.now(UTC)
    sender = SlackSender("xoxb-test", slack.base_url)
    with session_scope(engine) as s:  # the dying worker: claims all, posts three of them
        claimed = {m.key: m for m in outbox.claim(s, now, lease_seconds=5)}
    from bot.channels.outbound import Outgoing

    for key in ("t1:response:50%:1", "dm:1", "thread:1"):
        await sender.send(Outgoing.of(claimed[key]))
    assert len(slack.posted) == 3
    worker = DeliveryWorker(engine, {"slack": sender}, now=lambda: now + timedelta(seconds=6))
    assert await worker.run_once() == 4
    assert len(slack.posted) == 4  # only "never:1" was posted now
    assert Counter(slack_keys(slack)) == {"t1:response:50%:1": 1, "dm:1": 1, "never:1": 1,
                                          "thread:1": 1}
    assert len(slack.calls_to("conversations.history")) == 3  # C0ENG twice, the DM once
    assert len(slack.calls_to("conversations.replies")) == 1
    with Session(engine) as s:
        rows = {r.key: r for r in s.exec(select(OutboxMessage))}
    assert all(r.status == outbox.SENT and r.external_id for r in rows.values())
    assert rows["dm:1"].external_id == slack.posted[1]["ts"]
    await worker.stop()
    engine.dispose()


async def test_a_timed_out_send_is_checked_before_the_retry(
    sqlite_url: str, slack: FakeSlackApi
) -> None:
    """Slack answered 503 after (perhaps) posting: the retry looks before it posts."""
    engine = make_engine(sqlite_url)
    with session_scope(engine) as s:
        outbox.enqueue(s, "k:1", "slack", "C0ALERT", "breach")
    now = datetime.now(UTC)
    slack.fail("chat.postMessage", status=503, error="service_unavailable", times=1)
    clock = [now]
    worker = DeliveryWorker(engine, {"slack": SlackSender("xoxb-test", slack.base_url)},
                            now=lambda: clock[0])
    assert await worker.run_once() == 0
    with Session(engine) as s:
        row = s.exec(select(OutboxMessage)).one()
        assert row.status == outbox.PENDING and (row.last_error or "").startswith("maybe sent")
    clock[0] = now + timedelta(minutes=1)
    assert await worker.run_once() == 1
    assert slack_keys(slack) == ["k:1"] and len(slack.calls_to("conversations.history")) == 1
    await worker.stop()
    engine.dispose()


class Probe:
    """A leader-only service that records its starts and stops."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.running = False
        self.starts = 0

    async def start(self) -> None:
        self.running, self.starts = True, self.starts + 1

    async def stop(self) -> None:
        self.running = False


async def test_lease_one_leader_release_and_expiry(db_url: str) -> None:
    from bot.jobs.leadership import LeaderOnly, Leadership

    engine = make_engine(db_url)
    a_probe, b_probe = Probe("sla-scheduler"), Probe("sla-scheduler")
    a = Leadership(engine, [], holder="a", ttl=2, renew=0.5)
    b = Leadership(engine, [], holder="b", ttl=2, renew=0.5)
    a_svc, b_svc = LeaderOnly(a_probe, a), LeaderOnly(b_probe, b)
    await a_svc.start()
    await b_svc.start()
    assert a.leading and a_probe.running and not b.leading and not b_probe.running
    await asyncio.sleep(1.2)  # a renews, b keeps trying
    assert a_probe.running and not b_probe.running
    assert leases.current(engine).holder == "a"  # type: ignore[union-attr]
    await a_svc.stop()  # clean stop: the lease is released at once
    assert not a_probe.running
    await wait_for(lambda: b_probe.running, 2, "b to lead after a released")
    term_b = leases.current(engine).term  # type: ignore[union-attr]
    # b "freezes" (its loop stops renewing): a takes over only once the lease expired
    assert b._task is not None
    b._task.cancel()
    a2_probe = Probe("sla-scheduler")
    a2 = Leadership(engine, [], holder="a2", ttl=2, renew=0.5)
    a2_svc = LeaderOnly(a2_probe, a2)
    t0 = time.monotonic()
    await a2_svc.start()
    assert not a2_probe.running
    await wait_for(lambda: a2_probe.running, 10, "a2 to take over the expired lease")
    assert 1.0 < time.monotonic() - t0 < 8.0  # after the 2 s lease ends; loose for a loaded CI
    assert leases.current(engine).term == term_b + 1  # type: ignore[union-attr]
    await a2_svc.stop()
    b._task = None
    await b_svc.stop()
    engine.dispose()


async def test_leader_replans_tickets_changed_on_other_replicas(
    db_url: str, slack: FakeSlackApi, tmp_path: Path
) -> None:
    """A ticket opened on a replica that is not the leader (no scheduler hook there) is
    planned by the leader from the audit trail within seconds."""
    from bot.jobs.leadership import TicketChangeFeed
    from bot.jobs.scheduler import SchedulerService
    from handlers.types import Destination, Routing

    engine = make_engine(db_url)
    policy_path = tiny_policy(tmp_path)
    policy = load_policy(str(policy_path))
    routes = Routing(channels=("slack",), engineers=(Destination("slack", "C0ENG"),),
                     alerts=(Destination("slack", "C0ALERT"),))
    svc = SchedulerService(settings=object(), engine=engine, policy=policy, routing=routes,
                           senders={"slack": SlackSender("xoxb-test", slack.base_url)})
    feed = TicketChangeFeed(engine, svc, interval=0.2)
    await svc.start()
    await feed.start()
    try:
        start = datetime.now(UTC)
        # opened "elsewhere": reported 10 s ago, so its 50 % reminder is due in 5 s
        [tid] = seed(engine, policy_path, start - timedelta(seconds=4), n=1)
        await wait_for(lambda: svc.ticket_next(tid) is not None, 3, "the leader to plan it")
        await wait_for(lambda: any(k.startswith(f"t{tid}:response:50%")
                                   for k in slack_keys(slack)), 10, "the 50 % reminder")
    finally:
        await feed.stop()
        await svc.stop()
        engine.dispose()
