"""Slack and Telegram deliver every event up to 3 times, the copies out of order: one ticket
per dialog, one audit event per command.

Each customer reports an incident by typing the whole dialog; then an engineer drives every
ticket through ack, note, sev, pending, resume, workaround, resolve and close. Every update is
delivered 1-3 times (seeded); the extra copies arrive later, shuffled among the next updates
(a window of ``WINDOW``), and different users' updates interleave at random. A user's first
deliveries keep their order (both platforms number them; out-of-order first deliveries would
be a different conversation, not a duplicate). Telegram goes through the real PTB webhook
server (Telegram retries webhook deliveries), Slack through signed Events API requests with
``x-slack-retry-num``. ``DESTEK_DUP_DIALOGS`` scales the run.
"""

from __future__ import annotations

import itertools
import os
import random
import socket
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any, TypeVar

import aiohttp
import httpx
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.channels.slack import SlackBot
from bot.channels.telegram import TelegramChannel
from bot.config import Settings
from bot.demo import seed
from bot.routing import intake_config
from sla import Policy
from storage.db import make_engine
from storage.models import DialogSession, ProcessedDelivery, Ticket, TicketEvent, TicketPause
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.telegram_server import FakeTelegram
from tests.test_slack import SECRET, Harness

from .conftest import REPORT_FIELDS, add_customers, dialog_script, figures

DIALOGS = int(os.environ.get("DESTEK_DUP_DIALOGS", "6"))  # per channel
WINDOW = 6
SEED = int(os.environ.get("DESTEK_DUP_SEED", "20261125"))
NOW = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
TOKEN = "123456:TEST-TOKEN"
COMMANDS = [("ack {n}", "acknowledged"), ("note {n} checked the logs", "note"),
            ("sev {n} S2 more users affected", "severity"),
            ("pending {n} please send the call IDs", "paused"), ("resume {n}", "resumed"),
            ("workaround {n} restart the TTS engine", "workaround"),
            ("resolve {n} fixed in the TTS config", "resolved"), ("close {n}", "closed")]
X = TypeVar("X")

WH_SECRET = "s3cret-webhook-0123456789"  # TELEGRAM_WEBHOOK_SECRET: 16+ characters


def deliveries(streams: list[list[X]], rng: random.Random) -> tuple[list[X], int]:
    """Interleave the users' streams at random, then deliver every item 1-3 times: the
    copies land 1..WINDOW positions after the original. Returns (stream, extra copies)."""
    merged: list[X] = []
    pos = [0] * len(streams)
    while any(p < len(s) for p, s in zip(pos, streams, strict=True)):
        i = rng.choice([i for i, s in enumerate(streams) if pos[i] < len(s)])
        merged.append(streams[i][pos[i]])
        pos[i] += 1
    keyed: list[tuple[float, X]] = []
    extra = 0
    for k, item in enumerate(merged):
        keyed.append((k, item))
        for _ in range(rng.randint(1, 3) - 1):
            keyed.append((k + rng.uniform(0.5, WINDOW), item))
            extra += 1
    keyed.sort(key=lambda kv: kv[0])
    return [item for _, item in keyed], extra


def prepared(url: str, policy: Policy, n: int, tg_base: int, slack_prefix: str) -> tuple[
        Engine, list[tuple[str, int, str]]]:
    engine = make_engine(url)
    with Session(engine) as s:
        seed(s, policy, NOW)
        users = add_customers(s, n, tg_base, slack_prefix)
        s.commit()
    return engine, users


def check_outcome(engine: Engine, summaries: dict[str, int], commands: bool = True) -> dict[
        str, int]:
    """One complete ticket per summary, ``opened`` once, each command's event once."""
    with Session(engine) as s:
        tickets = list(s.exec(select(Ticket).where(col(Ticket.summary).in_(list(summaries)))))
        assert Counter(t.summary for t in tickets) == Counter(summaries), \
            Counter(t.summary for t in tickets)
        assert list(s.exec(select(DialogSession))) == []
        events = 0
        for t in tickets:
            missing = [f for f in REPORT_FIELDS if getattr(t, f) is None]
            assert not missing, (t.id, missing)
            kinds = Counter(e.kind for e in s.exec(
                select(TicketEvent).where(TicketEvent.ticket_id == t.id)))
            events += sum(kinds.values())
            assert kinds["opened"] == 1, (t.id, kinds)
            if commands:
                for _, kind in COMMANDS:
                    assert kinds[kind] == 1, (t.id, kind, kinds)
                assert t.status == "closed"
                pauses = list(s.exec(select(TicketPause).where(TicketPause.ticket_id == t.id)))
                assert len(pauses) == 1 and pauses[0].ended_at is not None, pauses
        keys = int(s.exec(select(func.count()).select_from(ProcessedDelivery)).one())
    return {"tickets": len(tickets), "events": events, "delivery_keys": keys}


# -- Telegram: the real PTB webhook server ------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_msg_ids = itertools.count(5000)


def tg_update(update_id: int, uid: int, text: str) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "message_id": next(_msg_ids), "date": int(time.time()), "text": text,
        "chat": {"id": uid, "type": "private"},
        "from": {"id": uid, "is_bot": False, "first_name": f"U{uid}", "language_code": "en"}}
    if text.startswith("/"):
        msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": msg}


async def test_telegram_duplicates_out_of_order(sqlite_url: str, policy: Policy,
                                                tmp_path: Any) -> None:
    rng = random.Random(SEED)
    engine, users = prepared(sqlite_url, policy, DIALOGS, 3100, "U0TGD")
    fake = await FakeTelegram(TOKEN).start()
    port = _free_port()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=fake.base_url,
        TELEGRAM_WEBHOOK_URL="https://bot.example.com/telegram/hook",
        TELEGRAM_WEBHOOK_SECRET=WH_SECRET, DESTEK_HTTP_HOST="127.0.0.1", DESTEK_HTTP_PORT=port,
        DESTEK_DATA_DIR=str(tmp_path / "data"),
    )
    cfg = intake_config(settings, policy)
    channel = TelegramChannel(settings, engine, cfg, now=lambda: NOW)
    ids = itertools.count(1)
    url = f"http://127.0.0.1:{port}/telegram/hook"
    sent = extra_total = 0
    await channel.start()
    try:
        async with aiohttp.ClientSession() as http:

            async def deliver(updates: list[dict[str, Any]]) -> None:
                nonlocal sent
                for u in updates:
                    async with http.post(url, json=u, headers={
                            "X-Telegram-Bot-Api-Secret-Token": WH_SECRET}) as r:
                        assert r.status == 200
                    sent += 1

            async def drained(uid: int, marker: str) -> None:
                """A /help after everything else: its answer means the user's queue is done."""
                before = len(fake.sent(chat_id=uid))
                await deliver([tg_update(next(ids), uid, "/help")])
                deadline = time.monotonic() + 60
                while not any(marker in c.text for c in fake.sent(chat_id=uid)[before:]):
                    assert time.monotonic() < deadline, f"user {uid} not drained"
                    await fake.wait_sent(len(fake.sent(chat_id=uid)) + 1, chat_id=uid,
                                         timeout=5)

            summaries = {f"Claims line {i} drops calls after greeting": tg
                         for i, (_, tg, _) in enumerate(users)}
            streams = []
            for summary, tg in summaries.items():
                script = dialog_script(engine, cfg, "telegram", str(tg), summary, NOW)
                streams.append([tg_update(next(ids), tg, text) for _, text in script])
            stream, extra = deliveries(streams, rng)
            extra_total += extra
            await deliver(stream)
            for tg in summaries.values():
                await drained(tg, "/new")
            for tg in summaries.values():  # one confirmation per dialog, whatever the copies
                assert sum("Ticket #" in c.text for c in fake.sent(chat_id=tg)) == 1

            with Session(engine) as s:
                numbers = [t.id for t in s.exec(select(Ticket).where(
                    col(Ticket.summary).in_(list(summaries))).order_by(col(Ticket.id)))]
            # One engineer per ticket (Telegram ids of the demo staff), interleaved.
            staff = [9001, 9002, 9101]
            cmd_streams: dict[int, list[dict[str, Any]]] = {u: [] for u in staff}
            for k, n in enumerate(numbers):
                uid = staff[k % len(staff)]
                cmd_streams[uid] += [tg_update(next(ids), uid, "/" + c.format(n=n))
                                     for c, _ in COMMANDS]
            stream, extra = deliveries(list(cmd_streams.values()), rng)
            extra_total += extra
            await deliver(stream)
            for uid in staff:
                await drained(uid, "escalate N")
    finally:
        await channel.stop()
        await fake.stop()
    out = check_outcome(engine, dict.fromkeys(summaries, 1))
    unique = sent - extra_total
    assert out["delivery_keys"] == unique  # every update recorded once, copies not at all
    figures("duplicates.telegram", dialogs=len(summaries), commands=len(numbers) * len(COMMANDS),
            deliveries=sent, unique_updates=unique, duplicate_copies=extra_total, **out)
    engine.dispose()


# -- Slack: signed Events API requests, retried ---------------------------------------------------


async def test_slack_duplicates_out_of_order(sqlite_url: str, policy: Policy,
                                             tmp_path: Any) -> None:
    rng = random.Random(SEED + 1)
    engine, users = prepared(sqlite_url, policy, DIALOGS, 3300, "U0SLD")
    fake = await FakeSlackApi().start()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        DATABASE_URL=sqlite_url, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.base_url, DESTEK_DATA_DIR=str(tmp_path / "data"),
        DESTEK_ENGINEERS_SLACK_CHANNEL="C0ENG",
    )
    bot = SlackBot(settings, engine=engine, policy=policy, clock=lambda: NOW)
    cfg = intake_config(settings, policy)
    copies: Counter[str] = Counter()
    posted = 0
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bot.asgi()),
                                     base_url="http://destek.test") as http:
            h = Harness(bot, fake, http, engine)

            async def deliver(stream: list[tuple[str, dict[str, Any]]]) -> None:
                nonlocal posted
                for event_id, event in stream:
                    retry = copies[event_id]
                    copies[event_id] += 1
                    headers = ({"x-slack-retry-num": str(retry),
                                "x-slack-retry-reason": "http_timeout"} if retry else None)
                    resp = await h.event(event, event_id=event_id, headers=headers)
                    assert resp.status_code == 200
                    posted += 1

            def dm(user: str, text: str, k: int) -> tuple[str, dict[str, Any]]:
                return (f"EvDUP{user}{k:03d}", {
                    "type": "message", "channel": "D" + user[1:], "user": user, "text": text,
                    "ts": f"{1764000000 + k}.{posted:06d}", "channel_type": "im"})

            summaries = {f"Report {i} of the claims bot is empty": sl
                         for i, (_, _, sl) in enumerate(users)}
            streams = []
            for summary, sl in summaries.items():
                script = dialog_script(engine, cfg, "slack", sl, summary, NOW)
                # Slack has no /start: a greeting opens the dialog.
                texts = ["hello"] + [text for _, text in script[1:]]
                streams.append([dm(sl, text, k) for k, text in enumerate(texts)])
            stream, extra = deliveries(streams, rng)
            await deliver(stream)
            with Session(engine) as s:
                numbers = [t.id for t in s.exec(select(Ticket).where(
                    col(Ticket.summary).in_(list(summaries))).order_by(col(Ticket.id)))]
            staff = ["U0ENG001", "U0ENG002", "U0MGR001"]
            cmd_streams: dict[str, list[tuple[str, dict[str, Any]]]] = {u: [] for u in staff}
            for k, n in enumerate(numbers):
                user = staff[k % len(staff)]
                for j, (c, _) in enumerate(COMMANDS):
                    eid = f"EvCMD{n:04d}{j:02d}"
                    if j % 2:  # an @mention in the engineers' channel
                        ev = {"type": "app_mention", "channel": "C0ENG", "user": user,
                              "text": "<@UBOT> " + c.format(n=n), "ts": f"{1764100000 + n}.{j}"}
                    else:  # a DM to the bot
                        ev = dm(user, c.format(n=n), 500 + n * 10 + j)[1]
                    cmd_streams[user].append((eid, ev))
            stream2, extra2 = deliveries(list(cmd_streams.values()), rng)
            await deliver(stream2)
    finally:
        await bot.close()
        await fake.stop()
    out = check_outcome(engine, dict.fromkeys(summaries, 1))
    assert out["delivery_keys"] == len(copies)
    retried = sum(1 for n in copies.values() if n > 1)
    figures("duplicates.slack", dialogs=len(summaries), commands=len(numbers) * len(COMMANDS),
            deliveries=posted, unique_events=len(copies), retried_events=retried,
            duplicate_copies=extra + extra2, **out)
    engine.dispose()
