"""Outbox delivery through the real slack_sdk and python-telegram-bot clients against fakes on
127.0.0.1: retries with backoff, 429 Retry-After / retry_after, permanent failures, threads,
two workers racing on one database (each message sent once), and the running worker woken
by a commit that queued rows (not by a rollback)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.channels.console import ConsoleSender
from bot.channels.outbound import Outgoing
from bot.channels.slack import SlackSender
from bot.channels.telegram import TelegramSender
from bot.jobs.delivery import DeliveryWorker
from storage import outbox
from storage.db import make_engine, session_scope
from storage.models import OutboxMessage

from .conftest import Clock
from .fakes.slack_api import FakeSlackApi
from .fakes.telegram_server import FakeTelegram


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    fake = await FakeTelegram().start()
    yield fake
    await fake.stop()


def put(engine: Engine, key: str, channel: str = "slack", target: str = "C0ALERT",
        thread: str | None = None, clock: Clock | None = None) -> None:
    with session_scope(engine) as s:
        outbox.enqueue(s, key, channel, target, f"text of {key}", thread=thread,
                       not_before=clock.now if clock else None)


def row(engine: Engine, key: str) -> OutboxMessage:
    with Session(engine) as s:
        m = s.exec(select(OutboxMessage).where(OutboxMessage.key == key)).one()
        s.expunge(m)
        return m


def slack_worker(engine: Engine, fake: FakeSlackApi, clock: Clock, **kw: object) -> DeliveryWorker:
    return DeliveryWorker(engine, {"slack": SlackSender("xoxb-test", fake.base_url)},
                          now=clock, **kw)  # type: ignore[arg-type]


async def test_slack_failing_then_recovering_delivers_once(
    sqlite_url: str, slack: FakeSlackApi, clock: Clock
) -> None:
    engine = make_engine(sqlite_url)
    put(engine, "k1", thread="1700000000.000100", clock=clock)
    slack.fail("chat.postMessage", status=500, times=2)
    worker = slack_worker(engine, slack, clock, base_delay=2)
    assert await worker.run_once() == 0
    m = row(engine, "k1")
    assert (m.status, m.attempts) == ("pending", 1) and "500" in (m.last_error or "")
    assert m.next_attempt_at == clock.now + timedelta(seconds=2)
    assert await worker.run_once() == 0  # not due yet: nothing is tried
    clock.advance(seconds=2)
    assert await worker.run_once() == 0
    assert row(engine, "k1").next_attempt_at == clock.now + timedelta(seconds=4)  # backoff
    clock.advance(seconds=4)
    assert await worker.run_once() == 1
    clock.advance(hours=1)
    assert await worker.run_once() == 0
    assert len(slack.messages) == 1
    sent = slack.messages[0]
    assert sent["channel"] == "C0ALERT" and sent["thread_ts"] == "1700000000.000100"
    m = row(engine, "k1")
    assert m.status == "sent" and m.attempts == 3 and m.external_id
    await worker.stop()


async def test_slack_429_honours_retry_after(sqlite_url: str, slack: FakeSlackApi,
                                             clock: Clock) -> None:
    engine = make_engine(sqlite_url)
    put(engine, "k429", clock=clock)
    slack.fail("chat.postMessage", status=429, retry_after=30)
    worker = slack_worker(engine, slack, clock)
    await worker.run_once()
    assert row(engine, "k429").next_attempt_at == clock.now + timedelta(seconds=30)
    clock.advance(seconds=29)
    assert await worker.run_once() == 0 and not slack.messages
    clock.advance(seconds=1)
    assert await worker.run_once() == 1 and len(slack.messages) == 1
    await worker.stop()


async def test_permanent_failure_and_giving_up(sqlite_url: str, slack: FakeSlackApi,
                                               clock: Clock) -> None:
    engine = make_engine(sqlite_url)
    put(engine, "bad", clock=clock)
    slack.fail("chat.postMessage", status=200, error="channel_not_found")
    worker = slack_worker(engine, slack, clock, max_attempts=2, base_delay=1, concurrency=1)
    await worker.run_once()
    assert row(engine, "bad").status == "failed"
    put(engine, "flaky", target="C0FLAKY", clock=clock)
    slack.fail("chat.postMessage", status=503, times=-1)
    for _ in range(3):
        clock.advance(seconds=10)
        await worker.run_once()
    m = row(engine, "flaky")
    assert m.status == "failed" and m.attempts == 2
    await worker.stop()


async def test_telegram_retry_after_and_reply(sqlite_url: str, telegram: FakeTelegram,
                                              clock: Clock) -> None:
    engine = make_engine(sqlite_url)
    put(engine, "tg", channel="telegram", target="-100500", thread="1042", clock=clock)
    telegram.fail_next("sendMessage", 429, "Too Many Requests: retry after 5", retry_after=5)
    worker = DeliveryWorker(
        engine, {"telegram": TelegramSender(telegram.token, telegram.base_url)}, now=clock)
    assert await worker.run_once() == 0
    assert row(engine, "tg").next_attempt_at == clock.now + timedelta(seconds=5)
    clock.advance(seconds=5)
    assert await worker.run_once() == 1
    (call,) = telegram.sent(chat_id=-100500)
    assert call.params["text"] == "text of tg"
    assert "1042" in str(call.params.get("reply_parameters"))
    assert row(engine, "tg").external_id
    await worker.stop()


async def test_console_sender_appends_to_a_log(sqlite_url: str, tmp_path: Path,
                                               clock: Clock) -> None:
    engine = make_engine(sqlite_url)
    put(engine, "c1", channel="console", target="engineers", clock=clock)
    log = tmp_path / "outbox.log"
    worker = DeliveryWorker(engine, {"console": ConsoleSender(log)}, now=clock)
    assert await worker.run_once() == 1
    assert log.read_text(encoding="utf-8") == "[engineers] text of c1\n"


async def test_two_workers_racing_send_each_message_once(
    db_url: str, slack: FakeSlackApi, clock: Clock
) -> None:
    engine_a, engine_b = make_engine(db_url), make_engine(db_url)
    for i in range(120):
        put(engine_a, f"race-{i}", clock=clock)
    a = slack_worker(engine_a, slack, clock, batch=10, concurrency=4)
    b = slack_worker(engine_b, slack, clock, batch=10, concurrency=4)
    await asyncio.gather(a.drain(), b.drain(), a.drain(), b.drain())
    texts = [m["text"] for m in slack.messages]
    assert len(texts) == 120 == len(set(texts))
    assert a.sent > 0 and b.sent > 0
    with Session(engine_a) as s:
        assert all(m.status == "sent" and m.attempts == 1 for m in s.exec(select(OutboxMessage)))
    await a.stop()
    await b.stop()
    engine_a.dispose()
    engine_b.dispose()


async def test_crashed_worker_lease_returns_the_message(sqlite_url: str, slack: FakeSlackApi,
                                                        clock: Clock) -> None:
    engine = make_engine(sqlite_url)
    put(engine, "lease", clock=clock)
    with session_scope(engine) as s:  # a worker claims it and dies before sending
        assert len(outbox.claim(s, clock.now, lease_seconds=60)) == 1
    worker = slack_worker(engine, slack, clock)
    assert await worker.run_once() == 0  # still leased to the dead worker
    clock.advance(seconds=61)
    assert await worker.run_once() == 1 and len(slack.messages) == 1
    await worker.stop()


async def test_ticket_cards_carry_buttons_and_report_charts_are_uploaded(
    sqlite_url: str, slack: FakeSlackApi, telegram: FakeTelegram, clock: Clock, tmp_path: Path
) -> None:
    """The new-ticket card gets the engineers' buttons; a report's chart goes up as a file
    (Slack's external upload, Telegram's sendPhoto) with the summary as its text."""
    import json

    engine = make_engine(sqlite_url)
    chart = tmp_path / "sla-2026-11.png"
    chart.write_bytes(b"\x89PNG\r\n\x1a\n" + b"chart" * 100)
    with session_scope(engine) as s:
        outbox.enqueue(s, "ticket:7:opened:slack:C0ENG", "slack", "C0ENG", "#7 S1 ACME: silence",
                       payload={"kind": "ticket_opened", "ticket": 7, "severity": "S1"},
                       not_before=clock.now)
        outbox.enqueue(s, "report:2026-11:all:slack:C0ENG", "slack", "C0ENG",
                       "SLA report 2026-11: 92 % met", payload={"file": str(chart)},
                       not_before=clock.now)
        outbox.enqueue(s, "report:2026-11:all:telegram:-42", "telegram", "-42",
                       "SLA report 2026-11: 92 % met", payload={"file": str(chart)},
                       not_before=clock.now)
    worker = DeliveryWorker(engine, {
        "slack": SlackSender("xoxb-test", slack.base_url),
        "telegram": TelegramSender(telegram.token, telegram.base_url),
    }, now=clock)
    assert await worker.run_once() == 3
    [card] = slack.messages
    blocks = card["blocks"] if isinstance(card["blocks"], list) else json.loads(card["blocks"])
    actions = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert actions == ["ticket_ack", "ticket_pending", "ticket_resolve"]
    [up] = slack.uploads.values()
    assert up["data"] == chart.read_bytes() and up["shared"] == "C0ENG"
    assert up["comment"] == "SLA report 2026-11: 92 % met"
    [photo] = telegram.sent("sendPhoto")
    assert photo.params["caption"] == "SLA report 2026-11: 92 % met"
    assert row(engine, "report:2026-11:all:slack:C0ENG").status == "sent"
    await worker.stop()


# -- waking: a commit that queued rows has the running worker look at once ------------------


class CountingWorker(DeliveryWorker):
    """A worker that counts its passes (each pass claims once)."""

    passes = 0

    def _claim(self) -> list[Outgoing]:
        self.passes += 1
        return super()._claim()


async def until(pred: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait for ``pred()``; the bound is generous, the wake takes milliseconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not pred():
        assert asyncio.get_running_loop().time() < deadline, "not delivered in time"
        await asyncio.sleep(0.01)


async def idle_worker(engine: Engine, slack: FakeSlackApi, clock: Clock) -> CountingWorker:
    """A started worker whose idle poll is an hour, past its first (empty) pass."""
    worker = CountingWorker(engine, {"slack": SlackSender("xoxb-test", slack.base_url)},
                            now=clock, idle_poll=3600)
    await worker.start()
    await until(lambda: worker.passes >= 1)
    await asyncio.sleep(0.3)  # the pass ends with the wait for the poll
    return worker


async def test_a_committed_enqueue_wakes_the_idle_worker_at_once(
    db_url: str, slack: FakeSlackApi, clock: Clock
) -> None:
    """Queued and committed on another thread (as the channel adapters do): sent at once, not
    after the hour-long idle poll; a second transaction is woken for just the same."""
    engine = make_engine(db_url)
    worker = await idle_worker(engine, slack, clock)
    try:
        await asyncio.to_thread(put, engine, "woken-1", clock=clock)
        await until(lambda: row(engine, "woken-1").status == "sent")
        await asyncio.sleep(0.3)  # back to waiting for the poll
        await asyncio.to_thread(put, engine, "woken-2", clock=clock)
        await until(lambda: row(engine, "woken-2").status == "sent")
        assert [m["text"] for m in slack.messages] == ["text of woken-1", "text of woken-2"]
    finally:
        await worker.stop()
        engine.dispose()


async def test_a_rolled_back_enqueue_wakes_nothing_and_sends_nothing(
    db_url: str, slack: FakeSlackApi, clock: Clock
) -> None:
    engine = make_engine(db_url)
    woken: list[str] = []
    unregister = outbox.on_queued_commit(lambda: woken.append("woken"))
    worker = await idle_worker(engine, slack, clock)
    try:
        passes = worker.passes

        def rolled_back() -> None:
            with Session(engine) as s:
                outbox.enqueue(s, "undone", "slack", "C0ALERT", "never", not_before=clock.now)
                assert woken == []  # its SAVEPOINT is released, but nothing is committed yet
                s.rollback()
            with session_scope(engine) as s:  # a later commit that queues nothing
                s.exec(select(OutboxMessage.id)).all()

        await asyncio.to_thread(rolled_back)
        await asyncio.sleep(0.3)
        assert woken == [] and worker.passes == passes and slack.messages == []
        with Session(engine) as s:
            assert s.exec(select(OutboxMessage)).all() == []
        await asyncio.to_thread(put, engine, "kept", clock=clock)
        assert woken == ["woken"]  # once per committed transaction
        await until(lambda: len(slack.messages) == 1)
    finally:
        unregister()
        await worker.stop()
        engine.dispose()


async def test_rows_not_due_yet_do_not_spin_the_worker(
    db_url: str, slack: FakeSlackApi, clock: Clock
) -> None:
    """A row queued for later and a row in backoff wake the worker for one look; then it
    sleeps until they are due instead of passing again and again."""
    engine = make_engine(db_url)
    worker = await idle_worker(engine, slack, clock)
    try:
        passes = worker.passes
        await asyncio.to_thread(put, engine, "later", clock=Clock(clock.now + timedelta(hours=1)))
        slack.fail("chat.postMessage", status=500, times=1)
        await asyncio.to_thread(put, engine, "backoff", clock=clock)
        # Its failed attempt recorded: back to pending with its retry time (while it is being
        # sent, the row's next_attempt_at is the claim's lease instead).
        await until(lambda: (r := row(engine, "backoff")).attempts == 1
                    and r.status == outbox.PENDING)
        await asyncio.sleep(0.5)
        assert worker.passes - passes <= 4  # a look per wake (and the retry's), no loop
        assert slack.messages == []
        assert row(engine, "backoff").next_attempt_at == clock.now + timedelta(seconds=2)
    finally:
        await worker.stop()
        engine.dispose()


async def test_hostile_text_is_escaped_for_slack_and_long_text_split_for_telegram(
        sqlite_url: str, slack: FakeSlackApi, telegram: FakeTelegram, clock: Clock,
        tmp_path: Path) -> None:
    """A customer's words relayed to the engineers never become Slack markup (no channel-wide
    ping, no mention, no disguised link); an engineer's 10 000-character reply reaches a
    Telegram customer whole, in messages within the 4096 limit (the fake refuses longer)."""
    engine = make_engine(sqlite_url)
    hostile = "<!channel> <@U0ENG001> <https://evil.example|your bank> & co"
    long_reply = "\n".join(f"line {i:04d} " + "x" * 90 for i in range(100))
    with session_scope(engine) as s:
        outbox.enqueue(s, "hostile", "slack", "C0ENG", hostile, not_before=clock.now)
        outbox.enqueue(s, "long", "telegram", "1001", long_reply, not_before=clock.now)
        outbox.enqueue(s, "file", "telegram", "1001", "patch notes", not_before=clock.now,
                       payload={"file": str(tmp_path / "f.bin"), "filename": "notes.txt"})
    (tmp_path / "f.bin").write_bytes(b"the notes")
    worker = DeliveryWorker(engine, {
        "slack": SlackSender("xoxb-test", slack.base_url),
        "telegram": TelegramSender(telegram.token, telegram.base_url)}, now=clock)
    assert await worker.run_once() == 3
    text = slack.messages[-1]["text"]
    assert text == ("&lt;!channel&gt; &lt;@U0ENG001&gt; &lt;https://evil.example|your bank&gt; "
                    "&amp; co")
    parts = [c.params["text"] for c in telegram.sent(chat_id=1001)]
    assert len(parts) == 3 and all(len(p) <= 4096 for p in parts)
    assert "\n".join(parts) == long_reply
    (doc,) = telegram.sent("sendDocument", chat_id=1001)
    assert doc.result["document"]["file_name"] == "notes.txt"
    assert doc.params["caption"] == "patch notes"
    await worker.stop()
