"""``destek demo`` shows the main job: console chats with the real services beside them.

The chats run as the command line runs them (:func:`bot.channels.console.run_console` with the
``live`` hook of :mod:`bot.live_chat`): the stdin of each is a line queue the test types into,
its stdout a screen the test reads. The SLA scheduler runs for real (AsyncIOScheduler, the
outbox workers); its clock is moved, nothing sleeps for SLA time.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.channels.console import run_console
from bot.channels.console.presence import Presence
from bot.config import Settings
from bot.demo import MINUTE_CUSTOMER, open_minute_ticket, seed, seed_minute_demo
from bot.demo_plan import DEMO_PLAN, policy_for, with_demo_plan
from bot.live_chat import Background, live_chat, scheduler_jobs
from bot.routing import intake_config
from sla import Policy
from storage import directory, outbox
from storage.db import make_engine, session_scope
from storage.models import OutboxMessage, Ticket, TicketEvent
from tests.pg import database_url

from .conftest import Clock

ROOT = Path(__file__).resolve().parents[1]
FRIDAY_10 = datetime(2026, 11, 27, 10, 0, tzinfo=ZoneInfo("Europe/Istanbul"))  # in hours


class Lines:
    """A chat's stdin: blocks until the test types a line; ``close()`` is end of input."""

    def __init__(self) -> None:
        self._q: queue.Queue[str] = queue.Queue()

    def type(self, line: str) -> None:
        self._q.put(line + "\n")

    def close(self) -> None:
        self._q.put("")

    def readline(self) -> str:
        return self._q.get()


class Screen:
    """A chat's stdout, readable while the chat writes to it from two threads."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._parts.append(text)
        return len(text)

    def flush(self) -> None:
        return None

    def isatty(self) -> bool:
        return False

    @property
    def text(self) -> str:
        with self._lock:
            return "".join(self._parts)

    def wait_for(self, words: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while words not in self.text:
            assert time.monotonic() < deadline, f"{words!r} not shown:\n{self.text[-3000:]}"
            time.sleep(0.02)
        return self.text


class Chat:
    """One console chat in a thread, as ``destek chat`` (``demo``: as ``destek demo``)."""

    def __init__(self, settings: Settings, engine: Engine, pol: Policy, clock: Clock,
                 contact: str, demo: bool = False) -> None:
        self.stdin, self.screen = Lines(), Screen()
        self.code: int | None = None
        self.bg: Background | None = None
        self._started = threading.Event()
        intake = intake_config(settings, pol)

        def on_start(bg: Background, sender: Any) -> None:
            self.bg = bg
            self._started.set()

        live = live_chat(engine, now=clock, demo=demo, idle_poll=0.2, on_start=on_start,
                         jobs=(lambda: scheduler_jobs(settings, engine, intake, pol, clock))
                         if demo else None)

        def main() -> None:
            self.code = run_console(engine, intake, contact, self.stdin, self.screen,  # type: ignore[arg-type]
                                    clock, live=live)

        self._thread = threading.Thread(target=main, daemon=True)
        self._thread.start()
        assert self._started.wait(60), self.screen.text

    def service(self, name: str) -> Any:
        assert self.bg is not None
        return next(s for s in self.bg.services if s.name == name)

    def quit(self) -> int | None:
        self.stdin.close()
        self._thread.join(60)
        assert not self._thread.is_alive()
        return self.code


@pytest.fixture
def demo_db(db_url: str, policy: Policy, tmp_path: Path) -> Iterator[tuple[Settings, Engine,
                                                                            Policy, Clock]]:
    """The demo's data with its minute-scale customer, on a Friday morning (no page: in
    business hours), and settings without any chat platform."""
    engine = make_engine(db_url)
    pol = with_demo_plan(policy)
    clock = Clock(FRIDAY_10.astimezone(UTC))
    with session_scope(engine, clock) as s:
        seed(s, pol, clock.now)
        seed_minute_demo(s, pol, clock.now)
    settings = Settings(_env_file=None, DATABASE_URL=db_url,  # type: ignore[call-arg]
                        DESTEK_DATA_DIR=str(tmp_path / "data"), TELEGRAM_BOT_TOKEN="",
                        SLACK_BOT_TOKEN="", SLACK_APP_TOKEN="", SLACK_SIGNING_SECRET="")
    yield settings, engine, pol, clock
    engine.dispose()


def rows(engine: Engine, **where: Any) -> list[OutboxMessage]:
    with Session(engine) as s:
        query = select(OutboxMessage).order_by(col(OutboxMessage.id))
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        return list(s.exec(query))


def wait_until(cond: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_the_customer_sees_the_engineers_status_change_once(demo_db: Any) -> None:
    settings, engine, pol, clock = demo_db
    ayse = Chat(settings, engine, pol, clock, "Ayşe Demir")
    deniz = Chat(settings, engine, pol, clock, "Deniz Yılmaz")  # the second terminal
    try:
        with Session(engine) as s:
            ayse_id = directory.find_contact(s, "Ayşe Demir").id  # type: ignore[union-attr]
            tid = s.exec(select(Ticket.id).where(Ticket.contact_id == ayse_id)).first()
        deniz.stdin.type(f"ack {tid}")
        deniz.screen.wait_for(f"#{tid}: kaydı Deniz Yılmaz üstlendi")
        shown = ayse.screen.wait_for("Atanan mühendis: Deniz Yılmaz")
        assert "📨 size mesaj" in shown  # marked as a message for her
        (row,) = [r for r in rows(engine, ticket_id=tid, target=str(ayse_id))
                  if "atandı" in r.text]
        wait_until(lambda: rows(engine, id=row.id)[0].status == outbox.SENT)
        time.sleep(0.5)  # a second delivery would have come by now (idle poll 0.2 s)
        assert ayse.screen.text.count("Atanan mühendis: Deniz Yılmaz. Önem") == 1
        assert "Atanan mühendis: Deniz Yılmaz. Önem" not in deniz.screen.text  # the customer's
        # The chat goes on under the message: she can still type.
        ayse.stdin.type(f"/status {tid}")
        ayse.screen.wait_for(f"#{tid}")
    finally:
        assert deniz.quit() == 0
        assert ayse.quit() == 0


def test_the_minute_plan_reminds_and_breaches_within_two_minutes(demo_db: Any) -> None:
    settings, engine, pol, clock = demo_db
    start = clock.now
    with session_scope(engine, clock) as s:
        tid = open_minute_ticket(s, pol, start)
    chat = Chat(settings, engine, pol, clock, "Ayşe Demir", demo=True)
    try:
        sla = chat.service("sla-scheduler")
        assert chat.bg is not None
        clock.set(start + timedelta(seconds=31))  # half the 1-minute response target
        chat.bg.call(sla.sweep())
        chat.screen.wait_for(f"⏳ #{tid} {MINUTE_CUSTOMER[0]} S2: 50% of the response target "
                             "(1m 24x7)")
        clock.set(start + timedelta(seconds=61))
        chat.bg.call(sla.sweep())
        shown = chat.screen.wait_for(f"🚨 SLA breach: #{tid} {MINUTE_CUSTOMER[0]} S2")
        assert "alarm kanalı" in shown and "mühendis kanalı" in shown  # the team's view
        assert clock.now - start < timedelta(minutes=2)
        # The manager's escalation is for her terminal: queued, neither shown nor failed.
        with Session(engine) as s:
            elif_ = directory.find_contact(s, "Elif Şahin")
        assert elif_ is not None
        (esc,) = [r for r in rows(engine, ticket_id=tid) if r.target == f"contact:{elif_.id}"]
        assert esc.status == outbox.PENDING and "Eskalasyon" not in chat.screen.text
    finally:
        assert chat.quit() == 0


def test_the_demo_plan_is_only_on_the_demo_database(policy: Policy, db_url: str) -> None:
    assert DEMO_PLAN not in policy.plans  # the procedure's plans: untouched
    engine = make_engine(db_url)
    assert policy_for(engine, policy) is policy  # no demo contract: the policy as loaded
    demo = with_demo_plan(policy)
    assert {k: demo.plans[k] for k in policy.plans} == policy.plans
    assert demo.plans[DEMO_PLAN].name.en == "DEMO plan: minutes, not hours"
    with session_scope(engine) as s:
        seed(s, demo, datetime(2026, 11, 27, 7, tzinfo=UTC))
        seed_minute_demo(s, demo, datetime(2026, 11, 27, 7, tzinfo=UTC))
    assert DEMO_PLAN in policy_for(engine, policy).plans
    engine.dispose()


def test_one_row_is_shown_in_one_terminal_only(demo_db: Any) -> None:
    """Two chats as the same contact: one holds its lease and shows its rows; the other
    shows none of them (and says so), and each row is delivered once."""
    settings, engine, pol, clock = demo_db
    first = Chat(settings, engine, pol, clock, "Ayşe Demir")
    second = Chat(settings, engine, pol, clock, "Ayşe Demir")
    try:
        second.screen.wait_for("diğer sohbetinizde")
        with session_scope(engine, clock) as s:
            ayse = directory.find_contact(s, "Ayşe Demir")
            assert ayse is not None
            for i in range(20):
                outbox.enqueue(s, f"test:{i}", "console", str(ayse.id), f"message {i}")
        wait_until(lambda: all(r.status == outbox.SENT for r in rows(engine, channel="console")
                               if r.key.startswith("test:")))
        for i in range(20):
            assert first.screen.text.count(f"message {i}\n") == 1
        assert "message " not in second.screen.text
    finally:
        first.quit()
        second.quit()


def test_presence_leases_and_the_team_view_yields_to_an_engineer(demo_db: Any) -> None:
    settings, engine, pol, clock = demo_db
    demo = Presence(engine, ["1"], team=True, yield_team=True, holder="demo")
    other = Presence(engine, ["1"], holder="other")
    assert demo.tick() == {"1", "engineers", "alerts"}
    assert other.tick() == frozenset()  # held by the demo
    with Session(engine) as s:
        deniz = directory.find_contact(s, "Deniz Yılmaz")
    assert deniz is not None
    engineer = Presence(engine, [str(deniz.id)], team=True, holder="engineer")
    assert engineer.tick() == {str(deniz.id)}  # the team's view is the demo's still
    assert demo.tick() == {"1"}  # an engineer is at a terminal: the demo lets it go
    assert engineer.tick() == {str(deniz.id), "engineers", "alerts"}
    from bot.channels.console import ConsoleSender

    mode, left_out = ConsoleSender(None).claim_targets(engine)
    assert mode == "excluding"
    assert {"1", f"contact:{deniz.id}", "engineers", "alerts"} <= left_out


def test_claimable_narrows_claims_and_next_due(engine: Engine) -> None:
    now = datetime(2026, 11, 27, 7, tzinfo=UTC)
    with session_scope(engine) as s:
        for key, channel, target in [("a", "console", "1"), ("b", "console", "2"),
                                     ("c", "slack", "C1"), ("d", "console", "contact:1")]:
            outbox.enqueue(s, key, channel, target, key, not_before=now)
    only_one = outbox.Claimable(only={"console": frozenset({"1", "contact:1"})},
                                other_channels=False)
    with session_scope(engine) as s:
        assert outbox.next_due_at(s, outbox.Claimable(other_channels=False)) is None
        assert outbox.next_due_at(s, only_one) is not None
        assert [m.key for m in outbox.claim(s, now, only=only_one)] == ["a", "d"]
    with session_scope(engine) as s:  # the rest: all but the held targets
        rest = outbox.Claimable(excluding={"console": frozenset({"2"})})
        assert [m.key for m in outbox.claim(s, now, only=rest)] == ["c"]
    with session_scope(engine) as s:
        assert outbox.next_due_at(s, only_one) is None
        assert [m.key for m in outbox.claim(s, now)] == ["b"]


def test_two_workers_claim_each_console_row_once(engine: Engine) -> None:
    """Claims from two threads that both may take the rows: each row is won once."""
    now = datetime(2026, 11, 27, 7, tzinfo=UTC)
    with session_scope(engine) as s:
        for i in range(200):
            outbox.enqueue(s, f"k{i}", "console", "1", "x", not_before=now)
    only = outbox.Claimable(only={"console": frozenset({"1"})}, other_channels=False)
    won: list[list[int]] = [[], []]

    def work(n: int) -> None:
        while True:
            with session_scope(engine) as s:
                got = [m.id or 0 for m in outbox.claim(s, now, only=only, limit=7)]
            if not got:
                return
            won[n] += got

    threads = [threading.Thread(target=work, args=(n,)) for n in (0, 1)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    assert len(won[0]) + len(won[1]) == 200 and not set(won[0]) & set(won[1])


def test_destek_demo_at_end_of_input_exits_0(tmp_path: Path) -> None:
    """`make demo </dev/null` (CI): the demo starts its services, ends at end of input and
    stops them, in bounded time."""
    env = {**os.environ, "DATABASE_URL": database_url(tmp_path / "destek.db"),
           "DESTEK_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT),
           "TELEGRAM_BOT_TOKEN": "", "SLACK_BOT_TOKEN": "", "DESTEK_DASHBOARD_PORT": "0"}
    res = subprocess.run([sys.executable, "-c", "from bot.cli import main; main()", "demo"],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=180)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "DEMO plan: minutes, not hours" in res.stdout
    assert 'destek chat --as "Deniz Yılmaz"' in res.stdout
    assert "Hoşça kalın" in res.stdout
    assert "Traceback" not in res.stderr, res.stderr[-3000:]


def test_the_demo_auto_assigns_its_ticket(demo_db: Any) -> None:
    """``destek demo`` runs with automatic assignment on (issue #19): its minute ticket opens
    assigned to a working engineer, by "system (auto)", not yet responded to (P3)."""
    from bot.demo import with_auto_assignment
    from handlers.assignment import AUTO_ACTOR

    _, engine, pol, clock = demo_db
    auto = with_auto_assignment(pol)
    assert auto.assignment.auto and not pol.assignment.auto
    with session_scope(engine, clock) as s:
        number = open_minute_ticket(s, auto, clock.now)
    with Session(engine) as s:
        ticket = s.get(Ticket, number)
        assert ticket is not None and ticket.assignee_id is not None
        assert ticket.responded_at is None
        ev = s.exec(select(TicketEvent).where(TicketEvent.ticket_id == number,
                                              TicketEvent.kind == "assigned")).one()
        assert ev.actor == AUTO_ACTOR
