"""On-call rotation and paging (issue 9): schedules, the paging chain, taking a page.

Time is a controllable clock; the scheduler service runs for real (AsyncIOScheduler with its
job store, the outbox worker) and delivers through the real slack_sdk / python-telegram-bot
clients to the fake Slack and Telegram servers.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from bot.channels.slack import SlackSender
from bot.channels.telegram import TelegramChannel, TelegramSender
from bot.config import Settings
from bot.demo import seed as demo_seed
from bot.jobs.scheduler import PAGE_JOB, SchedulerService
from bot.routing import intake_config, routing_from_settings
from handlers import hooks
from handlers.commands import execute_command
from handlers.types import Destination, Routing
from sla import Policy, PolicyError
from sla.oncall import Override, Rotation, on_call, page_steps, shift_at
from sla.policy import parse_policy
from storage import directory, oncall, tickets
from storage.db import make_engine, session_scope
from storage.identities import external_id
from storage.models import Contact, OutboxMessage, Page, Ticket, TicketEvent

from .conftest import Clock
from .fakes.slack_api import FakeSlackApi
from .fakes.telegram_server import FakeTelegram

IST = ZoneInfo("Europe/Istanbul")
CHI = ZoneInfo("America/Chicago")
FRIDAY_10 = datetime(2026, 11, 27, 10, 0, tzinfo=IST)  # business hours: demo data seeded
SUNDAY_0310 = datetime(2026, 11, 29, 3, 10, tzinfo=IST)
TOKEN = "123456:TEST-TOKEN"


# -- the schedule's math (pure) ----------------------------------------------------------------


def test_weekly_rotation_hands_over_at_local_time_across_dst() -> None:
    # Monday 09:00 Chicago; daylight saving ends on Sunday 2026-11-01.
    rot = Rotation("L2", "primary", (1, 2, 3), datetime(2026, 10, 26, 9, 0, tzinfo=CHI),
                   "America/Chicago")
    first = shift_at(rot, datetime(2026, 10, 26, 9, 0, tzinfo=CHI))
    assert first is not None and first.engineer == 1
    assert first.start.astimezone(UTC).hour == 14  # 09:00 CDT
    assert first.end == datetime(2026, 11, 2, 9, 0, tzinfo=CHI)
    assert first.end is not None and first.end.astimezone(UTC).hour == 15  # 09:00 CST
    assert shift_at(rot, datetime(2026, 11, 2, 8, 59, tzinfo=CHI)).engineer == 1  # type: ignore[union-attr]
    assert shift_at(rot, datetime(2026, 11, 2, 9, 0, tzinfo=CHI)).engineer == 2  # type: ignore[union-attr]
    assert shift_at(rot, datetime(2026, 11, 16, 9, 0, tzinfo=CHI)).engineer == 1  # type: ignore[union-attr]
    assert shift_at(rot, datetime(2026, 10, 26, 8, 59, tzinfo=CHI)) is None  # not started


def test_overrides_win_newest_first_and_cut_the_shift_short() -> None:
    rot = Rotation("L2", "primary", (1, 2), datetime(2026, 11, 23, 9, 0, tzinfo=IST),
                   "Europe/Istanbul")
    holiday = Override("primary", 7, datetime(2026, 11, 28, 0, 0, tzinfo=IST),
                       datetime(2026, 11, 29, 12, 0, tzinfo=IST), id=1, reason="holiday")
    swap = Override("primary", 8, datetime(2026, 11, 29, 2, 0, tzinfo=IST),
                    datetime(2026, 11, 29, 4, 0, tzinfo=IST), id=2, reason="swap")
    before = on_call([rot], [holiday, swap], "primary", datetime(2026, 11, 27, 20, 0, tzinfo=IST))
    assert before is not None and before.engineer == 1
    assert before.end == holiday.start  # "until" says when the override takes over
    assert on_call([rot], [holiday, swap], "primary", SUNDAY_0310).engineer == 8  # type: ignore[union-attr]
    at5 = on_call([rot], [holiday, swap], "primary", datetime(2026, 11, 29, 5, 0, tzinfo=IST))
    assert at5 is not None and at5.engineer == 7 and "holiday" in at5.source
    assert on_call([rot], [holiday], "secondary", SUNDAY_0310) is None
    # A newer rotation of the layer replaces the older one from its first hand-over.
    new = Rotation("L2 new", "primary", (5,), datetime(2026, 12, 7, 9, 0, tzinfo=IST),
                   "Europe/Istanbul")
    assert on_call([rot, new], [], "primary", datetime(2026, 12, 8, tzinfo=IST)).engineer == 5  # type: ignore[union-attr]
    assert on_call([rot, new], [], "primary", datetime(2026, 12, 6, tzinfo=IST)).engineer == 2  # type: ignore[union-attr]


@settings(max_examples=200, deadline=None)
@given(minutes=st.integers(min_value=0, max_value=60 * 24 * 7 * 52),
       size=st.integers(min_value=1, max_value=5))
def test_rotation_property_everyone_in_turn_and_shift_contains_the_instant(
    minutes: int, size: int
) -> None:
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    rot = Rotation("r", "primary", tuple(range(size)), start, "UTC")
    at = start + timedelta(minutes=minutes)
    shift = shift_at(rot, at)
    assert shift is not None and shift.end is not None
    assert shift.start <= at < shift.end and shift.end - shift.start == timedelta(days=7)
    assert shift.engineer == (minutes // (60 * 24 * 7)) % size


def test_page_steps_and_policy_validation(policy: Policy) -> None:
    paging = policy.paging
    steps = page_steps(paging.chain, timedelta(seconds=paging.interval_seconds), SUNDAY_0310)
    assert [(s.target, s.at.strftime("%H:%M")) for s in steps] == [
        ("primary", "03:10"), ("primary", "03:15"), ("secondary", "03:20"), ("managers", "03:25")]
    from sla.policy import ClockKind

    assert policy.pages("premium", "S1", None, ClockKind.RESPONSE)
    assert policy.pages("premium", "S1", None, ClockKind.WORKAROUND)
    assert not policy.pages("premium", "S1", None, ClockKind.RESOLUTION)  # business days
    assert not any(policy.pages("standard", s, None, k) for s in ("S1", "S2") for k in ClockKind)
    text = open(policy_path(), encoding="utf-8").read()
    with pytest.raises(PolicyError, match=r"paging\.chain\.0|paging\.chain"):
        parse_policy(text.replace("chain: [primary, primary, secondary, managers]",
                                  "chain: [primary, boss]"))
    with pytest.raises(PolicyError, match="paging.cells.0"):
        parse_policy(text.replace("cells: 24x7 ", "cells: [gold/S1]"))
    with pytest.raises(PolicyError, match="paging.interval"):
        parse_policy(text.replace("interval: 5m", "interval: 2d"))
    listed = parse_policy(text.replace("cells: 24x7 ", "cells: [standard/S1]"))
    assert listed.pages("standard", "S1", None, ClockKind.RESPONSE)


def policy_path() -> str:
    from sla.policy import DEFAULT_POLICY_PATH

    return str(DEFAULT_POLICY_PATH)


# -- the service: paging through the fake Slack server ------------------------------------

ROUTES = Routing(channels=("slack",), engineers=(Destination("slack", "C0ENG"),),
                 alerts=(Destination("slack", "C0ALERT"),), engineers_tz="Europe/Istanbul")


@pytest.fixture
def demo(db_url: str, policy: Policy) -> Iterator[Engine]:
    """The demo data (rotations L2 primary: Deniz then Can; L2 secondary: Can then Deniz),
    seeded on a Friday morning, when its own tickets page nobody."""
    engine = make_engine(db_url)
    with session_scope(engine) as s:
        demo_seed(s, policy, FRIDAY_10.astimezone(UTC))
    yield engine
    engine.dispose()


@pytest.fixture
async def sunday(demo: Engine, policy: Policy,
                 slack: FakeSlackApi) -> AsyncIterator[tuple[SchedulerService, Clock]]:
    """The scheduler service on the demo data, its clock at Sunday 03:10, paging by Slack."""
    clock = Clock(SUNDAY_0310.astimezone(UTC))
    svc = service(demo, policy, clock, {"slack": SlackSender("xoxb-test", slack.base_url)})
    await svc.start()
    yield svc, clock
    await svc.stop()


def open_at(engine: Engine, policy: Policy, code: str, when: datetime, severity: str = "S1",
            **fields: Any) -> int:
    """A complete report filed at ``when`` (what the intake does), announced after commit."""
    with session_scope(engine) as s:
        customer = directory.get_customer(s, code)
        contact = s.exec(select(Contact).where(Contact.customer_id == customer.id,
                                               Contact.trained == True)).first()  # noqa: E712
        contract = directory.active_contract(s, customer.id or 0, when.date())
        assert contact is not None and contract is not None
        product = directory.contract_products(s, contract)[0]
        ticket = tickets.open_ticket(
            s, policy, customer, contact, contract.plan, "Production down: no calls answered",
            severity, when.astimezone(UTC), product=product, environment="production",
            remote_access=fields.pop("remote_access", True), channel="slack",
            channel_user=external_id(s, contact.id or 0, "slack") or f"U0{code}", **fields)
        tid = ticket.id or 0
    hooks.ticket_changed(tid)
    return tid


def service(engine: Engine, policy: Policy, clock: Clock, senders: dict[str, Any],
            routes: Routing = ROUTES) -> SchedulerService:
    return SchedulerService(settings=object(), engine=engine, policy=policy, routing=routes,
                            senders=senders, now=clock)


async def delivered(svc: SchedulerService, timeout: float = 30.0) -> None:
    """Wait until the outbox worker has sent (or given up on) every queued message."""
    import asyncio
    import time

    assert svc.worker is not None
    svc.worker.wake()
    deadline = time.monotonic() + timeout
    while True:
        with Session(svc.engine) as s:
            busy = s.exec(select(OutboxMessage.id).where(
                col(OutboxMessage.status).in_(("pending", "sending")))).first()
        if busy is None:
            return
        assert time.monotonic() < deadline, "outbox not drained"
        await asyncio.sleep(0.02)


def pages_sent(engine: Engine, tid: int) -> list[OutboxMessage]:
    with Session(engine) as s:
        return list(s.exec(select(OutboxMessage).where(
            OutboxMessage.ticket_id == tid, col(OutboxMessage.key).startswith("page:"))
            .order_by(col(OutboxMessage.id))))


def page_of(engine: Engine, tid: int) -> Page:
    with Session(engine) as s:
        page = s.exec(select(Page).where(Page.ticket_id == tid)).one()
        return page


def dm(slack: FakeSlackApi, user: str, tid: int | None = None) -> list[dict[str, Any]]:
    """Direct messages to ``user`` (about ticket ``tid`` only, when given)."""
    import re

    return [m for m in slack.messages if m["channel"] == user
            and (tid is None or re.search(rf"#{tid}\b", m["text"]))]


async def test_nobody_takes_it_primary_twice_secondary_manager_then_alert(
    sunday: tuple[SchedulerService, Clock], demo: Engine, policy: Policy,
    slack: FakeSlackApi
) -> None:
    svc, clock = sunday
    tid = open_at(demo, policy, "ACME", SUNDAY_0310)  # premium S1, Sunday 03:10
    await delivered(svc)
    deniz = dm(slack, "U0ENG001")
    assert len(deniz) == 1 and f"#{tid}" in deniz[0]["text"]
    assert "Nöbet çağrısı" in deniz[0]["text"]  # Deniz reads Turkish
    button = json.loads(json.dumps(deniz[0]["blocks"]))[1]["elements"][0]
    assert (button["action_id"], button["value"]) == ("ticket_ack", str(tid))
    assert svc.armed_at(PAGE_JOB) == SUNDAY_0310 + timedelta(minutes=5)
    # The customer is told who is on it.
    with Session(demo) as s:
        told = s.exec(select(OutboxMessage).where(
            OutboxMessage.key == f"page:{page_of(demo, tid).id}:customer")).one()
        assert "Deniz Yılmaz" in told.text

    # Nobody answers: every five minutes the next step, at the right minute.
    expected = [(5, "U0ENG001", "çağrı 2/4"), (10, "U0ENG002", "second on call"),
                (15, "U0MGR001", "yönetici")]
    for minutes, user, words in expected:
        clock.set(SUNDAY_0310 + timedelta(minutes=minutes) - timedelta(seconds=1))
        await svc.advance_pages()  # a second early: nothing moves
        assert len(pages_sent(demo, tid)) == 1 + minutes // 5  # +1: the customer's
        clock.set(SUNDAY_0310 + timedelta(minutes=minutes))
        await svc.advance_pages()
        await delivered(svc)
        assert words in dm(slack, user)[-1]["text"], (minutes, user)
        assert svc.armed_at(PAGE_JOB) == clock.now + timedelta(
            minutes=5)
    assert len(dm(slack, "U0ENG001")) == 2 and len(dm(slack, "U0ENG002")) == 1
    clock.set(SUNDAY_0310 + timedelta(minutes=20))
    await svc.advance_pages()
    await delivered(svc)
    alert = [m for m in slack.messages if m["channel"] == "C0ALERT" and f"#{tid}" in m["text"]]
    assert len(alert) == 1 and "Nobody took the page" in alert[0]["text"]
    assert page_of(demo, tid).status == "exhausted"
    assert svc.scheduler.get_job(PAGE_JOB) is None
    with Session(demo) as s:
        kinds = [e.kind for e in s.exec(select(TicketEvent).where(
            TicketEvent.ticket_id == tid).order_by(col(TicketEvent.id)))]
    assert kinds.count("paged") == 4 and kinds[-1] == "page-exhausted"


async def test_taking_the_page_is_the_response_and_stops_paging(
    sunday: tuple[SchedulerService, Clock], demo: Engine, policy: Policy,
    slack: FakeSlackApi
) -> None:
    svc, clock = sunday
    tid = open_at(demo, policy, "ACME", SUNDAY_0310)
    clock.set(SUNDAY_0310 + timedelta(minutes=5))
    await svc.advance_pages()
    clock.set(SUNDAY_0310 + timedelta(minutes=7))
    with session_scope(demo, clock) as s:
        deniz = directory.find_contact(s, "Deniz Yılmaz")
        (reply,) = execute_command(s, policy, deniz, f"ack {tid}", clock.now, Routing())
    assert f"#{tid}" in reply.text
    for minutes in (10, 15, 20, 25):
        clock.set(SUNDAY_0310 + timedelta(minutes=minutes))
        await svc.advance_pages()
    await delivered(svc)
    assert len(dm(slack, "U0ENG001", tid)) == 2 and not dm(slack, "U0ENG002", tid)
    assert not dm(slack, "U0MGR001", tid)
    page = page_of(demo, tid)
    assert page.status == "acked" and page.acked_by_id is not None
    with Session(demo) as s:
        ticket = s.get(Ticket, tid)
        assert ticket is not None and ticket.responded_at == SUNDAY_0310 + timedelta(minutes=7)
        events = [e.kind for e in s.exec(select(TicketEvent).where(
            TicketEvent.ticket_id == tid).order_by(col(TicketEvent.id)))]
        assert events[-2:] == ["acknowledged", "page-taken"]
        customer = [m.text for m in s.exec(select(OutboxMessage).where(
            OutboxMessage.ticket_id == tid, col(OutboxMessage.key).contains(":customer")))]
    assert any("Deniz Yılmaz" in text and "atandı" in text for text in customer)  # P3, tr


async def test_an_override_in_force_gets_the_page(
    sunday: tuple[SchedulerService, Clock], demo: Engine, policy: Policy,
    slack: FakeSlackApi
) -> None:
    svc, _ = sunday
    with session_scope(demo) as s:
        elif_ = directory.find_contact(s, "Elif Şahin")
        assert elif_ is not None
        oncall.add_override(s, "primary", elif_, SUNDAY_0310 - timedelta(hours=3),
                            SUNDAY_0310 + timedelta(hours=6), reason="Deniz on holiday")
    tid = open_at(demo, policy, "ACME", SUNDAY_0310)
    await delivered(svc)
    assert len(dm(slack, "U0MGR001", tid)) == 1 and not dm(slack, "U0ENG001", tid)


async def test_restart_between_two_pages_neither_loses_nor_repeats_a_step(
    demo: Engine, policy: Policy, slack: FakeSlackApi
) -> None:
    clock = Clock(SUNDAY_0310.astimezone(UTC))
    senders = {"slack": SlackSender("xoxb-test", slack.base_url)}
    svc = service(demo, policy, clock, senders)
    await svc.start()
    tid = open_at(demo, policy, "ACME", SUNDAY_0310)
    await delivered(svc)
    await svc.stop()
    assert len(dm(slack, "U0ENG001", tid)) == 1

    clock.set(SUNDAY_0310 + timedelta(minutes=7))  # the second page fell due while down
    svc2 = service(demo, policy, clock, {"slack": SlackSender("xoxb-test", slack.base_url)})
    await svc2.start()
    try:
        # Armed from the database at 03:15, already past: the job runs at once (or the
        # advance below does it); either way the step goes out exactly once.
        assert svc2.armed_at(PAGE_JOB) is not None
        await svc2.advance_pages()
        await svc2.advance_pages()  # a second run finds nothing due
        await delivered(svc2)
        second = dm(slack, "U0ENG001", tid)
        assert len(second) == 2 and "2/4" in second[-1]["text"]
        assert svc2.armed_at(PAGE_JOB) == clock.now + timedelta(minutes=5)
        clock.set(SUNDAY_0310 + timedelta(minutes=12))
        await svc2.advance_pages()
        await delivered(svc2)
        assert len(dm(slack, "U0ENG002", tid)) == 1 and len(dm(slack, "U0ENG001", tid)) == 2
        assert len({m.key for m in pages_sent(demo, tid)}) == len(pages_sent(demo, tid)) == 4
    finally:
        await svc2.stop()


async def test_standard_at_night_and_premium_in_business_hours_page_nobody(
    sunday: tuple[SchedulerService, Clock], demo: Engine, policy: Policy,
    slack: FakeSlackApi
) -> None:
    svc, clock = sunday
    night = open_at(demo, policy, "NORTHWIND", SUNDAY_0310)  # standard S1
    monday = datetime(2026, 11, 30, 10, 0, tzinfo=IST)
    clock.set(monday)
    day = open_at(demo, policy, "ACME", monday)  # premium S1 in business hours
    for minutes in range(0, 60, 5):
        clock.set(monday + timedelta(minutes=minutes))
        await svc.sweep()
        await svc.advance_pages()
    await delivered(svc)
    with Session(demo) as s:
        assert list(s.exec(select(Page))) == []
    assert pages_sent(demo, night) == [] and pages_sent(demo, day) == []
    # The engineers still hear of the business-hours breach in their channel as usual.
    assert any(f"#{day}" in m["text"] for m in slack.messages if m["channel"] == "C0ALERT")


async def test_a_breach_out_of_hours_pages_even_when_opened_in_hours(
    demo: Engine, policy: Policy, slack: FakeSlackApi
) -> None:
    friday = datetime(2026, 11, 27, 16, 45, tzinfo=IST)  # response (30 m 24x7) due 17:15
    clock = Clock(friday.astimezone(UTC))
    svc = service(demo, policy, clock, {"slack": SlackSender("xoxb-test", slack.base_url)})
    await svc.start()
    try:
        tid = open_at(demo, policy, "ACME", friday)
        assert pages_sent(demo, tid) == []
        clock.set(datetime(2026, 11, 27, 17, 12, tzinfo=IST))  # 90 %: after 17:00, paged
        await svc.sweep()
        await delivered(svc)
        (page,) = [m for m in dm(slack, "U0ENG001", tid)]
        assert "%90" in page["text"] and "yanıt" in page["text"]
        assert page_of(demo, tid).trigger.startswith(f"t{tid}:response:90%")
        clock.set(datetime(2026, 11, 27, 17, 15, tzinfo=IST))  # the breach: one chain at a time
        await svc.sweep()
        with Session(demo) as s:
            assert len(list(s.exec(select(Page)))) == 1
    finally:
        await svc.stop()


# -- the 03:10 Sunday case end to end on Telegram ----------------------------------------------

SCRIPT = [
    ("/start", "In one sentence"),
    ("Every inbound call is dropped by the voice bot", ("known issues", "What kind")),
]
ANSWERS = ["defect", "Voice Bot", "4.2", "production",
           "Since 03:00 every inbound call is dropped after the greeting.",
           "Call the main number and wait for the greeting.",
           "SIP 503 from the media server", "not available", "Nothing was logged at all.",
           "yes", "no", "many", "S1", "yes", "VPN via the jump host", "confirm"]


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram(TOKEN).start()
    yield server
    await server.stop()


async def test_sunday_0310_premium_s1_pages_on_call_by_telegram_end_to_end(
    sqlite_url: str, policy: Policy, tg: FakeTelegram, tmp_path: Any
) -> None:
    engine = make_engine(sqlite_url)
    with session_scope(engine) as s:
        demo_seed(s, policy, FRIDAY_10.astimezone(UTC))
        directory.add_contact(s, "ACME", "John Carter", "customer", True, "en", None, 1010)
    clock = Clock(SUNDAY_0310.astimezone(UTC))
    settings_ = Settings(
        _env_file=None,  # type: ignore[call-arg]
        TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=tg.base_url,
        DESTEK_DATA_DIR=str(tmp_path / "data"),
        DESTEK_ENGINEERS_TELEGRAM_CHAT="-100200300",
    )
    routes = routing_from_settings(settings_)
    svc = service(engine, policy, clock, {"telegram": TelegramSender(TOKEN, tg.base_url)},
                  routes)
    channel = TelegramChannel(settings_, engine, intake_config(settings_, policy), now=clock,
                              poll_timeout=1)
    await svc.start()
    await channel.start()
    try:
        john, deniz = 1010, 9001
        for text, expect in SCRIPT:
            n = len(tg.sent(chat_id=john))
            tg.text(john, text)
            await _until(tg, john, n, expect)
        if any("known issues" in c.text for c in tg.sent(chat_id=john)[-2:]):
            n = len(tg.sent(chat_id=john))
            tg.text(john, "continue")
            await _until(tg, john, n, "What kind")
        for answer in ANSWERS:
            n = len(tg.sent(chat_id=john))
            tg.text(john, answer)
            await tg.wait_sent(n + 1, chat_id=john, timeout=30)
        opened = await _until(tg, john, 0, "Ticket #")
        assert any("Severity S1" in c.text and "Premium" in c.text for c in opened)
        with Session(engine) as s:
            ticket = s.exec(select(Ticket).order_by(col(Ticket.id).desc())).first()
            assert ticket is not None and ticket.severity == "S1"
            assert ticket.reported_at == SUNDAY_0310
            tid = ticket.id

        # Within a minute (here: at once) the primary is paged on Telegram, with a button.
        await delivered(svc)
        (page,) = tg.sent(chat_id=deniz)
        assert page.text.startswith("📟 Nöbet çağrısı") and f"#{tid}" in page.text
        assert page.buttons() == {"Üstlen": f"cmd|ack {tid}"}
        told = await _until(tg, john, 0, "on-call engineer Deniz Yılmaz")
        assert told

        # Five minutes on: paged again. Deniz presses the button on his phone.
        clock.advance(minutes=5)
        await svc.advance_pages()
        await delivered(svc)
        second = tg.sent(chat_id=deniz)[-1]
        assert "çağrı 2/4" in second.text
        clock.advance(minutes=1)
        n = len(tg.sent(chat_id=deniz))
        tg.press(deniz, f"cmd|ack {tid}", message=second.result, lang="tr")
        await tg.wait_sent(n + 1, chat_id=deniz, timeout=30)
        assert f"#{tid}" in tg.sent(chat_id=deniz)[-1].text
        with Session(engine) as s:
            ticket = s.get(Ticket, tid)
            assert ticket is not None and ticket.responded_at == clock.now
            assert ticket.assignee_id == directory.find_contact(s, "Deniz Yılmaz").id  # type: ignore[union-attr]
        await delivered(svc)
        await _until(tg, john, 0, "assigned to our support engineer Deniz Yılmaz")

        # Nobody else is woken.
        for _ in range(4):
            clock.advance(minutes=5)
            await svc.advance_pages()
        await delivered(svc)
        assert len(tg.sent(chat_id=deniz)) == 3  # two pages and the ack's reply
        assert not [c for c in tg.sent(chat_id=9002) + tg.sent(chat_id=9101)
                    if f"#{tid}" in c.text]
    finally:
        await channel.stop()
        await svc.stop()
        engine.dispose()


async def _until(tg: FakeTelegram, chat: int, start: int,
                 expect: str | tuple[str, ...]) -> list[Any]:
    wanted = (expect,) if isinstance(expect, str) else expect
    while True:
        new = tg.sent(chat_id=chat)[start:]
        if any(w in c.text for c in new for w in wanted):
            return new
        await tg.wait_sent(start + len(new) + 1, chat_id=chat, timeout=30)


# -- the chat verbs and the CLI ----------------------------------------------------------------


def test_oncall_verbs_in_chat(demo: Engine, policy: Policy) -> None:
    now = SUNDAY_0310.astimezone(UTC)
    with session_scope(demo) as s:
        deniz = directory.find_contact(s, "Deniz Yılmaz")
        can = directory.find_contact(s, "Can Öztürk")
        ayse = directory.find_contact(s, "Ayşe Demir")
        (who,) = execute_command(s, policy, can, "oncall", now, Routing())
        assert "Primary: Deniz Yılmaz until 2026-11-30 09:00" in who.text
        assert "Secondary: Can Öztürk" in who.text
        (swap,) = execute_command(s, policy, can, "oncall swap @Deniz until 2026-11-29T12:00",
                                  now, Routing())
        assert "Can Öztürk holds the primary layer instead of Deniz Yılmaz" in swap.text
        (who,) = execute_command(s, policy, deniz, "oncall", now, Routing())
        # Deniz reads Turkish; every time is local with its zone named.
        assert "Birincil: Can Öztürk, bitiş 2026-11-29 12:00 (Europe/Istanbul)" in who.text
        (later,) = execute_command(s, policy, can, "oncall 2026-11-29T13:00", now, Routing())
        assert "Primary: Deniz Yılmaz" in later.text
        bad = [execute_command(s, policy, can, line, now, Routing())[0].text for line in (
            "oncall swap @Nobody until 2026-11-29T12:00", "oncall swap @Deniz until soon",
            "oncall swap @Deniz until 2026-11-01T00:00", "oncall swap @Can until 2026-12-01",
            "oncall swap @Deniz 2026-12-01", "oncall tomorrow")]
        assert [b.split()[0] for b in bad] == ["I", "'soon'", "The", "Swap", "Usage:", "'tomorrow'"]
        (refused,) = execute_command(s, policy, ayse, "oncall", now, Routing())
        assert "yalnızca destek mühendislerimiz" in refused.text  # Ayşe: tr, refused
        assert len(oncall.overrides(s)) == 2  # the swap: two layers; the refusals: nothing


def test_oncall_cli_answers_for_the_demo_data(tmp_path: Any, monkeypatch: Any) -> None:
    from bot.cli import load_commands
    from bot.config import get_settings

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    runner = CliRunner()
    app = load_commands()
    assert runner.invoke(app, ["demo", "--no-chat"]).exit_code == 0
    result = runner.invoke(app, ["oncall", "who"])
    assert result.exit_code == 0, result.output
    assert "Primary: " in result.output and "(L2 primary)" in result.output
    result = runner.invoke(app, ["oncall", "override", "Elif", "2026-12-31T18:00",
                                 "2027-01-01T10:00", "--reason", "new year"])
    assert result.exit_code == 0 and "Elif Şahin holds primary" in result.output
    result = runner.invoke(app, ["oncall", "who", "--at", "2026-12-31T23:00", "--json"])
    rows = json.loads(result.output)
    assert rows[0]["engineer"] == "Elif Şahin" and rows[0]["source"] == "override: new year"
    result = runner.invoke(app, ["oncall", "add-rotation", "Night", "--engineers",
                                 "Ayşe Demir", "--layer", "secondary"])
    assert result.exit_code == 2 and "not an active engineer" in result.output or \
        "no active engineer" in result.output
    result = runner.invoke(app, ["oncall", "override", "Can", "2027-01-02T10:00",
                                 "2027-01-01T10:00"])
    assert result.exit_code == 2 and "must end after it starts" in result.output
    get_settings.cache_clear()


@pytest.mark.parametrize("start_at, paged", [
    (SUNDAY_0310 + timedelta(minutes=20), True),  # still night: paged late, once
    (datetime(2026, 11, 30, 10, 0, tzinfo=IST), False),  # Monday 10:00: the channel has it
])
async def test_a_ticket_opened_while_no_scheduler_ran(
    demo: Engine, policy: Policy, slack: FakeSlackApi, start_at: datetime, paged: bool
) -> None:
    tid = open_at(demo, policy, "ACME", SUNDAY_0310)  # no listener: nobody planned it
    clock = Clock(start_at.astimezone(UTC))
    for _ in range(2):  # a second start (a restart) changes nothing
        svc = service(demo, policy, clock, {"slack": SlackSender("xoxb-test", slack.base_url)})
        await svc.start()
        try:
            await delivered(svc)
        finally:
            await svc.stop()
    assert len(dm(slack, "U0ENG001", tid)) == (1 if paged else 0)
