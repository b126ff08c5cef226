"""Telegram intake throughput: updates per second through the whole pipeline.

Pipeline: fake Bot API -> python-telegram-bot (polling) -> identity + dialog engine ->
database commit (SQLite file, WAL) -> sendMessage back to the fake server. Every simulated
contact goes through a complete report that ends in a ticket. Compared, in the same run and on
the same fake server, with a bare PTB echo bot (MessageHandler -> reply_text).

    /tmp/v/bin/python benchmarks/bench_telegram.py [--users 50] [--db sqlite|URL]

The overall 30 msg/s limiter of AIORateLimiter is switched off here (it models Telegram's
own limit, not our cost); flood-control retries stay on.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from telegram import Update  # noqa: E402
from telegram.ext import Application, ContextTypes, MessageHandler, filters  # noqa: E402

from bot.channels.telegram import TelegramChannel  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.routing import intake_config  # noqa: E402
from sla import load_policy  # noqa: E402
from storage import directory  # noqa: E402
from storage.db import make_engine, session_scope, upgrade  # noqa: E402
from tests.fakes.telegram_server import FakeTelegram  # noqa: E402

TOKEN = "123456:BENCH"
FIRST_ID = 700_000
SCRIPT = [
    "/start",
    "Zqxv flurbing glitch in widget", "question",
    "Voice Bot", "4.2", "production",
    "The widget flurbs every few minutes and then recovers by itself.",
    "Open the widget page and wait for five minutes.",
    "none", "not available", "Logs are rotated away every hour.",
    "no", "yes", "one", "S4", "yes", "VPN via the jump host", "confirm",
]
DONE_MARK = "Ticket #"


def seed(url: str, users: int) -> None:
    upgrade(url)
    pol = load_policy()
    with session_scope(make_engine(url)) as s:
        directory.add_product(s, "Voice Bot", "conversational-ai", tuple(pol.families))
        directory.add_version(s, "Voice Bot", "4.2", date(2024, 5, 1))
        directory.add_customer(s, "BENCH", "Bench Ltd", "TR", None, None, None, "en")
        directory.add_contract(s, "BENCH", "premium", date(2026, 1, 1), date(2030, 12, 31),
                               None, tuple(pol.plans))
        for i in range(users):
            directory.add_contact(s, "BENCH", f"User {i}", "customer", True, "en",
                                  telegram_id=FIRST_ID + i)


async def wait_until(pred, timeout: float = 300.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark did not finish")
        await asyncio.sleep(0.005)


async def bench_pipeline(fake: FakeTelegram, url: str, users: int, tmp: Path,
                         concurrency: int | None = None) -> float:
    settings = Settings(_env_file=None, TELEGRAM_BOT_TOKEN=TOKEN,  # type: ignore[call-arg]
                        TELEGRAM_API_URL=fake.base_url, DESTEK_DATA_DIR=str(tmp / "data"))
    engine = make_engine(url)
    channel = TelegramChannel(settings, engine, intake_config(settings, load_policy()),
                              now=lambda: datetime(2026, 11, 25, 9, 0, tzinfo=UTC),
                              overall_max_rate=0, poll_timeout=1, concurrency=concurrency)
    await channel.start()
    try:
        before = len(fake.calls)
        start = time.perf_counter()
        for text in SCRIPT:
            for i in range(users):
                fake.text(FIRST_ID + i, text)

        seen = [before, 0]  # calls scanned, tickets confirmed: scan each call once

        def done() -> bool:
            calls = fake.calls
            for c in calls[seen[0]:]:
                if c.method == "sendMessage" and DONE_MARK in c.text:
                    seen[1] += 1
            seen[0] = len(calls)
            return seen[1] >= users

        await wait_until(done)
        elapsed = time.perf_counter() - start
    finally:
        await channel.stop()
        engine.dispose()
    return users * len(SCRIPT) / elapsed


async def bench_echo(fake: FakeTelegram, count: int) -> float:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(update.message.text or "")

    app = Application.builder().token(TOKEN).base_url(fake.base_url).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(timeout=1, poll_interval=0)
    try:
        before = len(fake.calls)
        start = time.perf_counter()
        for i in range(count):
            fake.text(FIRST_ID + i % 100, f"echo {i}")
        seen = [before, 0]  # calls scanned, echoes counted: scan each call once (as below)

        def done() -> bool:
            calls = fake.calls
            seen[1] += sum(1 for c in calls[seen[0]:] if c.method == "sendMessage")
            seen[0] = len(calls)
            return seen[1] >= count

        await wait_until(done)
        elapsed = time.perf_counter() - start
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    return count / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=None,
                        help="concurrent updates (default: the channel's, 1 on SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        url = f"sqlite:///{tmp / 'bench.db'}" if args.db == "sqlite" else args.db
        seed(url, args.users)
        fake = await FakeTelegram(TOKEN).start()
        echo_rates: list[float] = []
        pipe_rates: list[float] = []
        n = args.users * len(SCRIPT)
        try:
            # Alternate the two so a busy machine slows both alike; report each one's best.
            for _ in range(args.rounds):
                echo_rates.append(await bench_echo(fake, n))
                pipe_rates.append(await bench_pipeline(fake, url, args.users, tmp,
                                                       args.concurrency))
        finally:
            await fake.stop()
    echo_rate, pipe_rate = max(echo_rates), max(pipe_rates)
    print(f"updates per round: {n} ({args.users} contacts x {len(SCRIPT)} steps, "
          f"{args.users} tickets); best of {args.rounds} rounds")
    print(f"bare PTB echo bot:      {echo_rate:8.1f} updates/s  "
          f"(rounds: {', '.join(f'{r:.0f}' for r in echo_rates)})")
    print(f"Destek intake pipeline: {pipe_rate:8.1f} updates/s  ({args.db}; rounds: "
          f"{', '.join(f'{r:.0f}' for r in pipe_rates)})")
    print(f"ratio pipeline/echo:    {pipe_rate / echo_rate:8.2f}")


if __name__ == "__main__":
    asyncio.run(main())
