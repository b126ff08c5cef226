"""Authorization matrix: every engineers' verb x every role, on both databases, then once per
channel adapter (console, Telegram through the real PTB, Slack through signed requests).

Roles: a customer of ACME (owner of ticket #1), a customer of GULFBANK (owner of #2), an
engineer, a manager, and someone unknown. Staff may run every verb; customers only status,
list and help, and only about their own organisation; the unknown nobody is refused. A
customer asking about another organisation's ticket gets exactly the reply a non-existent
number gets (after the number itself is masked): not even existence leaks. Every cell runs in
a transaction that is rolled back, so each starts from the same demo state; a refused cell must
leave the row counts and the ticket untouched.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.channels.console import run_console
from bot.config import Settings
from bot.demo import seed
from bot.routing import intake_config
from handlers.commands import HANDLERS, execute_command
from handlers.dispatch import route
from handlers.intake import IntakeConfig
from handlers.types import Incoming
from storage import directory
from storage.db import make_engine
from storage.models import (
    Contact,
    OutboxMessage,
    ProcessedDelivery,
    Ticket,
    TicketEvent,
    TicketPause,
)

from .conftest import figures

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
MISSING = 987654  # a ticket number that does not exist

# verb -> (arguments, engineer commands that set the precondition up first)
VERBS: dict[str, tuple[str, tuple[str, ...]]] = {
    "ack": ("{n}", ()),
    "assign": ("{n} Can", ()),
    "sev": ("{n} S3 customer says fewer users are affected", ()),
    "pending": ("{n} please send the TTS logs", ()),
    "resume": ("{n}", ("pending {n} logs please",)),
    "workaround": ("{n} restart the TTS engine nightly", ()),
    "resolve": ("{n} fixed the TTS timeout", ()),
    "close": ("{n}", ("resolve {n} fixed",)),
    "reopen": ("{n} still silent", ("resolve {n} fixed",)),
    "escalate": ("{n} tier2 needs development", ()),
    "note": ("{n} internal only", ()),
    "exception": ("{n} the customer's own network was down", ()),
    "status": ("{n}", ()),
    "list": ("", ()),
    "suggest": ("{n}", ()),
    "link": ("{n} KE-0001", ()),
    "help": ("", ()),
    # Named in the product's help/brief; refused alike for customers whether or not they exist.
    "report": ("ACME 2026-11", ()),
    "planned": ("", ()),
    "oncall": ("", ()),
}
READ_ONLY = {"status", "list", "suggest", "help", "report", "planned", "oncall"}
CUSTOMER_ALLOWED = {"status", "list", "help"}
ROLES = ("customer_A", "customer_B", "engineer", "manager", "unknown")
WHO = {"customer_A": "Ayşe Demir", "customer_B": "Omar Haddad", "engineer": "Can Öztürk",
       "manager": "Elif Şahin"}
REFUSAL = ("yalnızca destek mühendislerimiz", "for our support engineers only")
UNKNOWN = ("do not know you", "sizi tanımıyorum")
NOT_FOUND = ("There is no ticket #", "numaralı bir kayıt yok", "I cannot find ticket",
             "numaralı kaydı bulamıyorum")


def mask(text: str, n: int) -> str:
    """The reply with the asked number masked: "no ticket #1" and "no ticket #987654" match."""
    return re.sub(rf"(?<!\d){n}(?!\d)", "N", text)


def counts(s: Session) -> tuple[int, ...]:
    return tuple(int(s.exec(select(func.count()).select_from(m)).one())  # type: ignore[call-overload]
                 for m in (Ticket, TicketEvent, TicketPause, OutboxMessage, ProcessedDelivery))


def snapshot(s: Session, n: int) -> dict[str, Any] | None:
    t = s.get(Ticket, n)
    if t is None:
        return None
    s.refresh(t)
    return t.model_dump()


def seeded(url: str) -> Engine:
    engine = make_engine(url)
    with Session(engine) as s:
        seed(s, _policy(), NOW)
        s.commit()
    return engine


_POLICY: Any = None


def _policy() -> Any:
    global _POLICY
    if _POLICY is None:
        from sla import load_policy

        _POLICY = load_policy()
    return _POLICY


@dataclass
class Cell:
    verb: str
    role: str
    ticket: int
    text: str
    allowed: bool
    changed: bool


def run_cell(engine: Engine, cfg: IntakeConfig, verb: str, role: str, ticket: int) -> Cell:
    args, setup = VERBS[verb]
    with Session(engine) as s:
        eng = directory.find_contact(s, "Deniz Yılmaz")
        for cmd in setup:  # the precondition, by another engineer, before the cell's command
            out = execute_command(s, cfg.policy, eng, cmd.format(n=ticket), NOW, cfg.routing)
            assert not any(r in o.text for o in out for r in REFUSAL), out
        actor: Contact | None = directory.find_contact(s, WHO[role]) if role in WHO else None
        s.flush()
        before, snap = counts(s), snapshot(s, ticket)
        user = str(actor.id) if actor is not None else "999999"
        msg = Incoming("console", user, user, command=verb,
                       args=tuple(args.format(n=ticket).split()))
        replies = route(s, cfg, msg, NOW)
        s.flush()
        after, snap_after = counts(s), snapshot(s, ticket)
        s.rollback()
    text = "\n".join(r.text for r in replies)
    refused = any(r in text for r in REFUSAL + UNKNOWN + NOT_FOUND) \
        or "Unknown command" in text or "Bilinmeyen komut" in text
    return Cell(verb, role, ticket, text, not refused, before != after or snap != snap_after)


@pytest.fixture
def setup(db_url: str, tmp_path: Any) -> Iterator[tuple[Engine, IntakeConfig]]:
    engine = seeded(db_url)
    settings = Settings(_env_file=None, DATABASE_URL=db_url,  # type: ignore[call-arg]
                        DESTEK_DATA_DIR=str(tmp_path / "data"),
                        DESTEK_ENGINEERS_SLACK_CHANNEL="C0ENG")
    yield engine, intake_config(settings, _policy())
    engine.dispose()


def test_matrix_through_the_dispatch(setup: tuple[Engine, IntakeConfig]) -> None:
    engine, cfg = setup
    cells = allowed = denied = hidden = 0
    for verb in VERBS:
        wired = verb in HANDLERS
        for role in ROLES:
            own = run_cell(engine, cfg, verb, role, 1)  # ticket #1 belongs to ACME (customer A)
            cells += 1
            if role in ("engineer", "manager"):
                assert own.allowed == wired, (verb, role, own.text)
                if wired and verb not in READ_ONLY:
                    assert own.changed, f"{verb} by {role} changed nothing: {own.text}"
            elif role == "customer_A":
                assert own.allowed == (verb in CUSTOMER_ALLOWED), (verb, role, own.text)
            else:
                assert not own.allowed or verb in ("list", "help"), (verb, role, own.text)
            if not own.allowed or verb in READ_ONLY or role.startswith("customer"):
                # Refused, or only read: nothing stored, the ticket untouched.
                assert not own.changed, (verb, role, own.text)
            allowed += own.allowed
            denied += not own.allowed
            if role in ("customer_B", "unknown") or (role == "customer_A" and not own.allowed):
                # Another organisation's number reads exactly like a number that does not exist.
                ghost = run_cell(engine, cfg, verb, role, MISSING)
                assert mask(own.text, 1) == mask(ghost.text, MISSING), (verb, role)
                assert "ACME" not in own.text and "IVR" not in own.text, (verb, role, own.text)
                hidden += 1
    # The other organisation's open tickets never show up in a customer's list.
    b_list = run_cell(engine, cfg, "list", "customer_B", 1).text
    assert "#1 " not in b_list and "ACME" not in b_list and "#2 " in b_list
    unwired = sorted(v for v in VERBS if v not in HANDLERS)
    figures("authorization.dispatch", db=engine.dialect.name, verbs=len(VERBS),
            roles=len(ROLES), cells=cells, allowed=allowed, denied=denied,
            existence_checks=hidden, unwired_verbs=",".join(unwired) or "-")


def test_customer_intake_commands_hide_other_tickets(setup: tuple[Engine, IntakeConfig]) -> None:
    """/status and /access through the intake (how a customer's chat routes them)."""
    engine, cfg = setup
    with Session(engine) as s:
        omar = directory.find_contact(s, "Omar Haddad")
        assert omar is not None
        before = counts(s)
        out: dict[str, str] = {}
        for cmd, ref in (("status", "1"), ("status", str(MISSING)), ("access", "1"),
                         ("access", str(MISSING))):
            msg = Incoming("console", str(omar.id), str(omar.id), command=cmd,
                           args=(ref, "vpn") if cmd == "access" else (ref,))
            out[f"{cmd} {ref}"] = mask("\n".join(r.text for r in route(s, cfg, msg, NOW)),
                                       int(ref))
        s.flush()
        assert counts(s) == before
        s.rollback()
    assert out["status 1"] == out[f"status {MISSING}"]
    assert out["access 1"] == out[f"access {MISSING}"]
    assert "IVR" not in out["status 1"]


# -- once per channel adapter ------------------------------------------------------------------


def test_console_adapter(sqlite_url: str, tmp_path: Any) -> None:
    engine = seeded(sqlite_url)
    settings = Settings(_env_file=None, DATABASE_URL=sqlite_url,  # type: ignore[call-arg]
                        DESTEK_DATA_DIR=str(tmp_path / "data"))
    cfg = intake_config(settings, _policy())
    with Session(engine) as s:
        before = counts(s)

    def chat(who: str, lines: list[str]) -> list[str]:
        out = io.StringIO()
        assert run_console(engine, cfg, who, io.StringIO("\n".join(lines) + "\n"), out,
                           now=lambda: NOW) == 0
        # One block of output per input line, after the greeting.
        return out.getvalue().split("> ")[1:len(lines) + 1]

    omar = chat("Omar Haddad", ["/status 1", f"/status {MISSING}", "/ack 1", "/note 1 x",
                                "/suggest 1", f"/suggest {MISSING}"])
    assert mask(omar[0], 1) == mask(omar[1], MISSING) and "IVR" not in omar[0]
    assert all(any(r in o for r in REFUSAL) for o in omar[2:4])
    assert mask(omar[4], 1) == mask(omar[5], MISSING)
    with Session(engine) as s:
        assert counts(s) == before
    can = chat("Can Öztürk", ["/ack 1", "/status 1"])
    assert "#1: assigned to Can" in can[0] and "#1 ACME" in can[1]
    with Session(engine) as s:
        t = s.get(Ticket, 1)
        assert t is not None and t.responded_at == NOW
    figures("authorization.console", checked=len(omar) + len(can), refused=2)
    engine.dispose()


TOKEN = "123456:TEST-TOKEN"


@pytest.fixture
async def tg_fake() -> AsyncIterator[Any]:
    from tests.fakes.telegram_server import FakeTelegram

    server = await FakeTelegram(TOKEN).start()
    yield server
    await server.stop()


async def test_telegram_adapter(sqlite_url: str, tg_fake: Any, tmp_path: Any) -> None:
    from bot.channels.telegram import TelegramChannel
    from tests.test_telegram import Chat

    engine = seeded(sqlite_url)
    settings = Settings(_env_file=None, TELEGRAM_BOT_TOKEN=TOKEN,  # type: ignore[call-arg]
                        TELEGRAM_API_URL=tg_fake.base_url, DESTEK_DATA_DIR=str(tmp_path / "d"))
    channel = TelegramChannel(settings, engine, intake_config(settings, _policy()),
                              now=lambda: NOW, poll_timeout=1)
    await channel.start()
    try:
        with Session(engine) as s:
            before = counts(s)
        omar, stranger, can = Chat(tg_fake, 2001), Chat(tg_fake, 5555), Chat(tg_fake, 9002)
        own = (await omar.say("/status 1", "1"))[-1].text
        ghost = (await omar.say(f"/status {MISSING}", str(MISSING)))[-1].text
        assert mask(own, 1) == mask(ghost, MISSING) and "IVR" not in own
        refused = (await omar.say("/ack 1", REFUSAL))[-1].text
        note = (await omar.say("/note 1 hello", REFUSAL))[-1].text
        assert refused and note
        unknown = (await stranger.say("/ack 1", UNKNOWN + ("not available",)))[-1].text
        assert "#1" not in unknown
        with Session(engine) as s:
            # Only the delivery keys of the 5 updates were stored; no ticket change.
            after = counts(s)
            assert after[:4] == before[:4] and after[4] == before[4] + 5
        done = (await can.say("/ack 1", "assigned to"))[-1].text
        assert "#1: assigned to Can" in done
    finally:
        await channel.stop()
        engine.dispose()
    figures("authorization.telegram", updates=6, refused=3, existence_checks=1)


async def test_slack_adapter(sqlite_url: str, tmp_path: Any) -> None:
    import httpx

    from bot.channels.slack import SlackBot
    from tests.fakes.slack_api import FakeSlackApi
    from tests.test_slack import SECRET, Harness

    engine = seeded(sqlite_url)
    fake = await FakeSlackApi().start()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        DATABASE_URL=sqlite_url, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.base_url, DESTEK_DATA_DIR=str(tmp_path / "data"),
        DESTEK_ENGINEERS_SLACK_CHANNEL="C0ENG",
    )
    bot = SlackBot(settings, engine=engine, policy=_policy(), clock=lambda: NOW)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bot.asgi()),
                                     base_url="http://destek.test") as http:
            h = Harness(bot, fake, http, engine)
            with Session(engine) as s:
                before = counts(s)
            texts = []
            for user, cmd in (("U0GULF01", "status 1"), ("U0GULF01", f"status {MISSING}"),
                              ("U0GULF01", "ack 1"), ("U0NOBODY", "ack 1"),
                              ("U0GULF01", "list")):
                resp = await h.command(user, cmd)
                assert resp.status_code == 200
                texts.append(h.replies()[-1])
            assert mask(texts[0], 1) == mask(texts[1], MISSING) and "IVR" not in texts[0]
            assert any(r in texts[2] for r in REFUSAL)
            assert any(r in texts[3] for r in UNKNOWN)
            assert "ACME" not in texts[4] and "#1 " not in texts[4]
            with Session(engine) as s:
                assert counts(s) == before
            await h.command("U0ENG002", "ack 1")
            assert "#1: assigned to Can" in h.replies()[-1]
    finally:
        await bot.close()
        await fake.stop()
        engine.dispose()
    figures("authorization.slack", commands=6, refused=2, existence_checks=1)
