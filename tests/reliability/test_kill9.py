"""kill -9 of the bot at random moments of 50 dialogs and 50 engineers' command sequences.

The bot is a real subprocess: the Telegram channel (python-telegram-bot, long polling) run by
``bot.runner.run_services`` against the fake Bot API server this test starts. Every update
sits in getUpdates until the bot acknowledges it with the next offset, as Telegram does, so a
killed bot gets its unacknowledged updates again after the restart: the ``telegram:<id>``
delivery key, committed with each update's effect, must make that harmless.

All updates are queued up front, interleaved at random (seeded) across 50 customers typing
the whole intake dialog and 3 staff members driving 50 existing tickets through ack, note,
sev, pending, resume and workaround; each user's own updates keep their order. The test
SIGKILLs the bot at random moments, restarts it and goes on until every update is
acknowledged. Then:
- every dialog ended in exactly one ticket carrying exactly the scripted answers (a lost or
  doubled step would shift the answers), and no dialog ever went back a step across a kill;
- every ticket is whole: complete report fields, one ``opened`` event, pauses consistent;
- every command's audit event exists exactly once.

``DESTEK_KILL9_DIALOGS`` / ``DESTEK_KILL9_SEQUENCES`` / ``DESTEK_KILL9_KILLS`` /
``DESTEK_KILL9_SEED`` scale the run.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.config import Settings
from bot.demo import seed
from bot.routing import intake_config
from sla import Policy
from storage.db import make_engine
from storage.models import DialogSession, ProcessedDelivery, Ticket, TicketEvent, TicketPause
from tests.fakes.telegram_server import FakeTelegram

from .conftest import (
    ANSWERS,
    CORE_FIELDS,
    REPORT_FIELDS,
    ROOT,
    add_customers,
    dialog_script,
    figures,
    open_complete_ticket,
)

DIALOGS = int(os.environ.get("DESTEK_KILL9_DIALOGS", "50"))
SEQUENCES = int(os.environ.get("DESTEK_KILL9_SEQUENCES", "50"))
KILLS = int(os.environ.get("DESTEK_KILL9_KILLS", "12"))
SEED = int(os.environ.get("DESTEK_KILL9_SEED", "9"))
TOKEN = "123456:TEST-TOKEN"
STAFF = (9001, 9002, 9101)  # Deniz, Can (engineers), Elif (manager)
COMMANDS = [("ack {n}", "acknowledged"), ("note {n} looked at the TTS logs", "note"),
            ("sev {n} S2 more users affected now", "severity"),
            ("pending {n} please send the call IDs", "paused"), ("resume {n}", "resumed"),
            ("workaround {n} restart the TTS engine nightly", "workaround")]

BOT = """
import asyncio, logging
from bot.config import Settings
from bot.routing import intake_config
from bot.runner import run_services
from bot.channels.telegram import TelegramChannel
from sla import load_policy
from storage.db import engine_for

logging.basicConfig(level=logging.WARNING)
s = Settings()
channel = TelegramChannel(s, engine_for(s.database_url),
                          intake_config(s, load_policy(s.policy_path)), poll_timeout=1)
asyncio.run(run_services([channel]))
"""


class CountingTelegram(FakeTelegram):
    """Counts how often each update was handed out by getUpdates (redeliveries)."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.handed: Counter[int] = Counter()

    async def _m_getUpdates(self, p: dict[str, Any]) -> Any:
        result = await super()._m_getUpdates(p)
        if isinstance(result, list):
            self.handed.update(u["update_id"] for u in result)
        return result


def spawn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as fh:
        return subprocess.Popen([sys.executable, "-c", BOT], env=env, cwd=ROOT,
                                stdout=fh, stderr=subprocess.STDOUT)


def processed(engine: Any) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(ProcessedDelivery)).one())


def steps_now(engine: Any) -> dict[str, str]:
    with Session(engine) as s:
        return {d.user_key: d.step for d in s.exec(select(DialogSession))}


async def test_kill9_during_dialogs_and_commands(sqlite_url: str, policy: Policy,
                                                 tmp_path: Path) -> None:
    rng = random.Random(SEED)
    engine = make_engine(sqlite_url)
    now = datetime.now(UTC)
    with Session(engine) as s:
        seed(s, policy, now)
        users = add_customers(s, DIALOGS, 3100, "U0K9")
        targets = [open_complete_ticket(s, policy, "ACME" if i % 2 else "NORTHWIND",
                                        "Ayşe Demir" if i % 2 else "Jane Miller",
                                        f"Command target {i}", now) for i in range(SEQUENCES)]
        s.commit()
        numbers = [t.id for t in targets]
    settings = Settings(_env_file=None, DATABASE_URL=sqlite_url,  # type: ignore[call-arg]
                        DESTEK_DATA_DIR=str(tmp_path / "data"))
    cfg = intake_config(settings, policy)

    # The scripts: each customer's dialog, each staff member's commands.
    scripts: dict[int, list[tuple[str, str]]] = {}
    summaries: dict[int, str] = {}
    for i, (_, tg, _) in enumerate(users):
        summaries[tg] = f"Claims line {i} drops calls after the greeting"
        scripts[tg] = dialog_script(engine, cfg, "telegram", str(tg), summaries[tg], now)
    commands: dict[int, list[tuple[str, str]]] = {u: [] for u in STAFF}
    for k, n in enumerate(numbers):
        for c, kind in COMMANDS:
            commands[STAFF[k % len(STAFF)]].append((kind, "/" + c.format(n=n)))

    fake = await CountingTelegram(TOKEN).start()
    # Queue every update up front, users interleaved at random, each user's order kept.
    streams = {**{u: [t for _, t in sc] for u, sc in scripts.items()},
               **{u: [t for _, t in cm] for u, cm in commands.items()}}
    pos = dict.fromkeys(streams, 0)
    sent: dict[int, list[int]] = {u: [] for u in streams}
    while any(pos[u] < len(streams[u]) for u in streams):
        u = rng.choice([u for u in streams if pos[u] < len(streams[u])])
        update = fake.text(u, streams[u][pos[u]], "en")
        sent[u].append(update["update_id"])
        pos[u] += 1
    total = sum(len(v) for v in sent.values())

    env = {**os.environ, "DATABASE_URL": sqlite_url, "TELEGRAM_BOT_TOKEN": TOKEN,
           "TELEGRAM_API_URL": fake.base_url, "DESTEK_DATA_DIR": str(tmp_path / "data"),
           "PYTHONPATH": str(ROOT), "SLACK_BOT_TOKEN": "", "DESTEK_DASHBOARD_PORT": "0",
           "DESTEK_LOG_LEVEL": "WARNING"}
    log = tmp_path / "bot.log"
    kills, killed_at, regressions, caught_mid = 0, [], 0, set()
    last_steps: dict[str, str] = {}
    order = {str(u): [step for step, _ in sc] for u, sc in scripts.items()}
    started = time.monotonic()
    proc = spawn(env, log)
    try:
        while kills < KILLS and processed(engine) < total:
            await asyncio.sleep(rng.uniform(0.8, 3.0))
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            kills += 1
            done = processed(engine)
            killed_at.append(done)
            # Across the kill no dialog went back: it resumes where the last commit left it.
            steps = steps_now(engine)
            for user, step in steps.items():
                caught_mid.add(user)
                before = last_steps.get(user)
                if before is not None and order[user].index(step) < order[user].index(before):
                    regressions += 1
            last_steps = steps
            proc = spawn(env, log)
        deadline = time.monotonic() + 150
        # Finished: every update processed and acknowledged (Telegram forgot them all).
        while processed(engine) < total or fake.updates:
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, (processed(engine), total, len(fake.updates))
            await asyncio.sleep(0.2)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        await fake.stop()
    elapsed = time.monotonic() - started
    assert kills == KILLS or processed(engine) == total
    assert regressions == 0

    with Session(engine) as s:
        assert processed(engine) == total
        keys = {k for k in s.exec(select(ProcessedDelivery.key))}
        assert keys == {f"telegram:{i}" for ids in sent.values() for i in ids}
        assert list(s.exec(select(DialogSession))) == []  # no dialog left hanging
        all_tickets = list(s.exec(select(Ticket)))
        by_summary = Counter(t.summary for t in all_tickets)
        events = 0
        for t in all_tickets:  # no ticket half-written
            missing = [f for f in CORE_FIELDS if getattr(t, f) is None]
            assert not missing, (t.id, missing)
            kinds = Counter(e.kind for e in s.exec(
                select(TicketEvent).where(TicketEvent.ticket_id == t.id)))
            events += sum(kinds.values())
            assert kinds["opened"] == 1, (t.id, kinds)
            pauses = list(s.exec(select(TicketPause).where(TicketPause.ticket_id == t.id)))
            open_pauses = [p for p in pauses if p.ended_at is None]
            assert len(open_pauses) == (1 if t.status == "pending" else 0), (t.id, pauses)
            assert all(p.ended_at is None or p.ended_at >= p.started_at for p in pauses)
        for tg, summary in summaries.items():  # each dialog: one ticket, the scripted answers
            assert by_summary[summary] == 1, (summary, by_summary[summary])
            t = next(t for t in all_tickets if t.summary == summary)
            assert not [f for f in REPORT_FIELDS if getattr(t, f) is None], t.id
            assert (t.description, t.steps, t.version_text, t.environment) == (
                ANSWERS["description"], ANSWERS["steps"], "4.2", "test")
            assert (t.severity, t.severity_reason, t.remote_access_how, t.users_affected) == (
                "S3", ANSWERS["severity_reason"], ANSWERS["remote_access_how"], "few")
            assert t.channel == "telegram" and t.channel_chat == str(tg)
            assert t.response_due is not None and t.status == "open"
        for n in numbers:  # each command's event exactly once
            kinds = Counter(e.kind for e in s.exec(
                select(TicketEvent).where(TicketEvent.ticket_id == n)))
            for _, kind in COMMANDS:
                assert kinds[kind] == 1, (n, kind, kinds)
            t = s.get(Ticket, n)
            assert t is not None and t.status == "open" and t.severity == "S2"
            assert t.responded_at is not None and t.workaround_at is not None
        ticket_count = len(all_tickets)
        with_pauses = int(s.exec(select(func.count(col(TicketPause.id)))).one())
    redelivered = sum(1 for c in fake.handed.values() if c > 1)
    figures("kill9", dialogs=DIALOGS, command_sequences=SEQUENCES, updates=total, kills=kills,
            processed_at_kills="/".join(map(str, killed_at)), dialogs_caught_mid=len(caught_mid),
            step_regressions=regressions, redelivered_updates=redelivered,
            handed_out=sum(fake.handed.values()), tickets=ticket_count, events=events,
            pauses=with_pauses, seconds=round(elapsed, 1))
    engine.dispose()
