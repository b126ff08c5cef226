"""A minute-long outage of Slack and Telegram, in simulated time: every queued message is
delivered exactly once afterwards.

The fake Slack Web API and the fake Bot API answer, during the first SIMULATED minute, with a
seeded mix of 500s, 429s (Slack ``Retry-After``, Telegram ``parameters.retry_after``) and
timeouts: the request is swallowed (the server never saw it) or, on Slack, the message is
posted and the response lost (the ambiguous case the worker settles with the outbox key in
the message metadata). The delivery worker runs with its production defaults on the test's
clock; the loop moves that clock to the next due attempt, so the test waits only for the
real client timeouts (shortened to 0.4 s). ``DESTEK_OUTAGE_MESSAGES`` scales the run.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web
from sqlmodel import Session, col, select

from bot.channels.slack import SlackSender
from bot.channels.telegram import TelegramSender
from bot.jobs.delivery import DeliveryWorker
from storage import outbox
from storage.db import make_engine, session_scope
from storage.models import OutboxMessage
from tests.conftest import Clock
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.telegram_server import FakeTelegram

from .conftest import figures

MESSAGES = int(os.environ.get("DESTEK_OUTAGE_MESSAGES", "30"))  # per channel
SEED = int(os.environ.get("DESTEK_OUTAGE_SEED", "7"))
OUTAGE = timedelta(minutes=1)
# Longer than any real answer of the fakes on a loaded CI machine: an answer that is merely slow
# would read as lost, and on Telegram (no look-up) a lost answer is the one documented repeat.
CLIENT_TIMEOUT = 1.5
HANG = CLIENT_TIMEOUT + 0.5
TOKEN = "123456:TEST-TOKEN"


class Outage:
    """During the simulated minute, pick a failure for each request (seeded)."""

    def __init__(self, clock: Clock, seed: int, modes: list[tuple[str, float]]) -> None:
        self.clock, self.until = clock, clock.now + OUTAGE
        self.rng = random.Random(seed)
        self.modes = modes
        self.seen: Counter[str] = Counter()

    def pick(self) -> str:
        if self.clock.now >= self.until:
            self.seen["ok-after"] += 1
            return "ok"
        r, acc = self.rng.random(), 0.0
        for mode, p in self.modes:
            acc += p
            if r < acc:
                self.seen[mode] += 1
                return mode
        self.seen["ok-during"] += 1
        return "ok"


class FlakySlack(FakeSlackApi):
    outage: Outage | None = None

    async def _dispatch(self, request: web.Request) -> web.Response:
        if self.outage is None or request.match_info["method"] != "chat.postMessage":
            return await super()._dispatch(request)
        mode = self.outage.pick()
        if mode == "500":
            return web.json_response({"ok": False, "error": "internal_error"}, status=500)
        if mode == "429":
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": str(self.outage.rng.randint(1, 20))})
        if mode == "timeout-lost":
            await asyncio.sleep(HANG)
            return web.json_response({"ok": False, "error": "request_timeout"}, status=504)
        response = await super()._dispatch(request)
        if mode == "timeout-after-post":  # posted, but the answer never reaches the bot
            await asyncio.sleep(HANG)
        return response


class FlakyTelegram(FakeTelegram):
    outage: Outage | None = None

    async def _api(self, request: web.Request) -> web.StreamResponse:
        if self.outage is None or request.match_info["method"] != "sendMessage":
            return await super()._api(request)
        mode = self.outage.pick()
        if mode == "500":
            return web.json_response({"ok": False, "error_code": 500,
                                      "description": "Internal Server Error"}, status=500)
        if mode == "429":
            wait = self.outage.rng.randint(1, 20)
            return web.json_response({"ok": False, "error_code": 429,
                                      "description": f"Too Many Requests: retry after {wait}",
                                      "parameters": {"retry_after": wait}}, status=429)
        if mode == "timeout-lost":
            await asyncio.sleep(HANG)
            return web.json_response({"ok": False, "error_code": 502,
                                      "description": "Bad Gateway"}, status=502)
        return await super()._api(request)


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FlakySlack, FlakyTelegram]]:
    slack = await FlakySlack().start()
    telegram = await FlakyTelegram(TOKEN).start()
    yield slack, telegram
    await slack.stop()
    await telegram.stop()


def telegram_sender(base_url: str) -> TelegramSender:
    from telegram import Bot
    from telegram.request import HTTPXRequest

    sender = TelegramSender(TOKEN, base_url)
    # Short client timeouts so a swallowed request costs 0.4 s of real time, not 5 s.
    sender.bot = Bot(TOKEN, base_url=base_url,
                     request=HTTPXRequest(read_timeout=CLIENT_TIMEOUT, connect_timeout=2))
    return sender


async def test_one_minute_outage_then_every_message_exactly_once(
    sqlite_url: str, fakes: tuple[FlakySlack, FlakyTelegram], clock: Clock
) -> None:
    slack, telegram = fakes
    engine = make_engine(sqlite_url)
    start = clock.now
    slack.outage = Outage(clock, SEED, [("500", 0.35), ("429", 0.3), ("timeout-lost", 0.08),
                                     ("timeout-after-post", 0.07)])
    # Telegram offers no way to look a message up: an answer lost after the send is the one
    # documented repeat window (bot/jobs/delivery.py), so its timeouts here are lost requests.
    telegram.outage = Outage(clock, SEED + 4, [("500", 0.4), ("429", 0.35), ("timeout-lost", 0.1)])
    with session_scope(engine) as s:
        for i in range(MESSAGES):
            outbox.enqueue(s, f"out:slack:{i}", "slack", f"C0OUT{i % 3}", f"slack message {i}",
                           thread="1700000000.000100" if i % 2 else None, not_before=clock.now)
            outbox.enqueue(s, f"out:tg:{i}", "telegram", str(-100500 - i % 3),
                           f"telegram message {i}", not_before=clock.now)
    ssend = SlackSender("xoxb-test", slack.base_url)
    ssend.client.timeout = CLIENT_TIMEOUT  # seconds; the production default is 10
    worker = DeliveryWorker(engine, {"slack": ssend, "telegram": telegram_sender(
        telegram.base_url)}, now=clock)
    rounds = 0
    try:
        while True:
            rounds += 1
            await worker.run_once()
            with Session(engine) as s:
                left = s.exec(select(OutboxMessage.id).where(
                    col(OutboxMessage.status).in_((outbox.PENDING, outbox.SENDING)))).all()
                due = outbox.next_due_at(s)
            if not left:
                break
            assert clock.now - start < timedelta(hours=1), f"{len(left)} still queued"
            step = clock.now + timedelta(seconds=1)
            clock.set(max(step, due) if due is not None else step)
    finally:
        await worker.stop()

    with Session(engine) as s:
        rows = list(s.exec(select(OutboxMessage)))
    status = Counter(m.status for m in rows)
    assert status == Counter({"sent": 2 * MESSAGES}), (
        status, [(m.key, m.attempts, m.last_error) for m in rows if m.status != "sent"])
    slack_texts = Counter(m["text"] for m in slack.posted)
    tg_texts = Counter(c.text for c in telegram.sent())
    assert slack_texts == Counter(f"slack message {i}" for i in range(MESSAGES)), \
        [t for t, n in slack_texts.items() if n != 1]
    assert tg_texts == Counter(f"telegram message {i}" for i in range(MESSAGES)), \
        [t for t, n in tg_texts.items() if n != 1]
    # The outage really happened, and really ended.
    assert slack.outage.seen["500"] and slack.outage.seen["429"]
    assert slack.outage.seen["timeout-after-post"] and telegram.outage.seen["timeout-lost"]
    attempts = Counter(m.channel for m in rows for _ in range(m.attempts))
    last = max(m.sent_at for m in rows if m.sent_at is not None)
    figures("outage", messages=2 * MESSAGES, delivered_once=len(slack_texts) + len(tg_texts),
            http_posts_slack=sum(slack.outage.seen.values()),
            http_posts_telegram=sum(telegram.outage.seen.values()),
            # Attempts as the worker counts them: rate-limited ones (429) excluded.
            attempts_slack=attempts["slack"], attempts_telegram=attempts["telegram"],
            max_attempts=max(m.attempts for m in rows),
            slack_failures=dict(slack.outage.seen), telegram_failures=dict(telegram.outage.seen),
            slack_lookups=len(slack.calls_to("conversations.history"))
            + len(slack.calls_to("conversations.replies")),
            all_sent_after_s=int((last - start).total_seconds()), rounds=rounds)
    engine.dispose()
