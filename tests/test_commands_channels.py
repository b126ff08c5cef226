"""The engineers' verbs on the console and on Telegram's /commands (the one dispatch)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from sqlmodel import Session

from bot.channels.console import run_console
from bot.config import Settings
from bot.demo import seed
from bot.routing import intake_config
from handlers.dispatch import route
from handlers.types import Incoming
from storage.db import make_engine
from storage.models import Ticket

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _setup(sqlite_url: str, policy, tmp_path):  # type: ignore[no-untyped-def]
    engine = make_engine(sqlite_url)
    with Session(engine) as s:
        seed(s, policy, NOW)
        s.commit()
    settings = Settings(_env_file=None, DATABASE_URL=sqlite_url,  # type: ignore[call-arg]
                        DESTEK_DATA_DIR=str(tmp_path / "data"))
    return engine, intake_config(settings, policy)


def test_console_routes_slash_verbs_for_engineers(sqlite_url, policy, tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine, cfg = _setup(sqlite_url, policy, tmp_path)
    out = io.StringIO()
    code = run_console(engine, cfg, "Can Öztürk", io.StringIO("/ack 1\n/status 1\n/help\n"), out,
                       now=lambda: NOW)
    assert code == 0
    text = out.getvalue()
    assert "#1: assigned to Can Öztürk" in text and "#1 ACME · S1 Critical" in text
    assert "escalate N tier2|tier3" in text
    with Session(engine) as s:
        t = s.get(Ticket, 1)
        assert t is not None and t.responded_at == NOW


def test_console_customer_is_refused_engineer_verbs(sqlite_url, policy, tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine, cfg = _setup(sqlite_url, policy, tmp_path)
    out = io.StringIO()
    run_console(engine, cfg, "Ayşe Demir", io.StringIO("/ack 1\n"), out, now=lambda: NOW)
    assert "yalnızca destek mühendislerimiz" in out.getvalue()


def _command(user: str, verb: str, *args: str) -> Incoming:
    return Incoming("telegram", user, user, command=verb, args=args)


def test_telegram_commands_through_the_dispatch(sqlite_url, policy, tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine, cfg = _setup(sqlite_url, policy, tmp_path)
    with Session(engine) as s:
        replies = route(s, cfg, _command("9002", "resume", "2"), NOW)
        assert replies[0].text.startswith("#2: clocks running again")
        refused = route(s, cfg, _command("1001", "ack", "1"), NOW)
        assert "yalnızca destek mühendislerimiz" in refused[0].text
        unknown = route(s, cfg, _command("1001", "frobnicate"), NOW)
        assert "frobnicate" in unknown[0].text
        s.commit()
        t = s.get(Ticket, 2)
        assert t is not None and t.status == "open"
