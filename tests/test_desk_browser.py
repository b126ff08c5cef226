"""The desk in a real browser (#18): Playwright drives Debian's Chromium (as in
tests/test_dashboard.py) in the viewer's own time zone: log in, find a ticket by search, reply
to the customer from the ticket page, then the delivery worker sends the outbox through
python-telegram-bot to the fake Telegram server and the reply arrives in the customer's chat;
download the month's PDF and read its text. Screenshots: test-artifacts/desk-*.png.

Without Chromium this test FAILS (DESTEK_SKIP_BROWSER=1 skips it, for local convenience only).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from bot.web import create_app
from handlers.types import Routing
from sla import Policy
from storage import tickets
from storage.db import make_engine, session_scope
from tests.test_dashboard import CHROMIUM, CHROMIUM_ARGS, NOW, ROOT, seed

CHAT = 7770001  # Ayşe's Telegram chat, where ticket #1 was reported
REPLY = "Merhaba Ayşe, please install build 3.3 <and> tell us"


@pytest.fixture
def desk(sqlite_url: str, policy: Policy) -> Iterator[tuple[str, Engine]]:
    import uvicorn

    engine = make_engine(sqlite_url)
    seed(engine, policy)
    with session_scope(engine, lambda: NOW) as s:
        t1 = tickets.get_ticket(s, 1)
        t1.channel, t1.channel_chat = "telegram", str(CHAT)
        s.add(t1)
    web = create_app(engine=engine, policy=policy, now=lambda: NOW, refresh_seconds=30,
                     routing=Routing())
    sock = socket.create_server(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(web, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "dashboard server did not start"
    yield f"http://127.0.0.1:{port}", engine
    server.should_exit = True
    thread.join(5)
    engine.dispose()


def deliver(engine: Engine) -> list[Any]:
    """Run the delivery worker once against a fresh fake Telegram; the calls it received."""
    from bot.channels.telegram import TelegramSender
    from bot.jobs.delivery import DeliveryWorker

    from .fakes.telegram_server import FakeTelegram

    async def go() -> list[Any]:
        fake = await FakeTelegram().start()
        try:
            worker = DeliveryWorker(engine, {"telegram": TelegramSender(
                fake.token, fake.base_url)}, now=lambda: NOW, other_channels=False)
            await worker.drain(max_rounds=5)
            await worker.stop()
            return fake.sent(chat_id=CHAT)
        finally:
            await fake.stop()

    out: list[Any] = []
    # Its own thread and loop: Playwright's sync API owns this thread's loop.
    runner = threading.Thread(target=lambda: out.extend(asyncio.run(go())))
    runner.start()
    runner.join(60)
    return out


def pdf_text(path: Path) -> str:
    """The PDF's text by pdftotext (poppler-utils); without it, only its header is checked."""
    if shutil.which("pdftotext") is None:
        head = path.read_bytes()[:5]
        assert head == b"%PDF-", head
        return ""
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stdout


def test_desk_in_chromium(desk: tuple[str, Engine]) -> None:
    if os.environ.get("DESTEK_SKIP_BROWSER") == "1":
        pytest.skip("DESTEK_SKIP_BROWSER=1 (local convenience only)")
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install -y chromium "
                    "(or set DESTEK_SKIP_BROWSER=1 locally)")
    from playwright.sync_api import sync_playwright

    base, engine = desk
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    pdf_path = artifacts / "desk-report.pdf"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900},
                                          timezone_id="America/New_York", accept_downloads=True)
            page = context.new_page()
            blocked: list[str] = []  # the desk must not trip its own Content-Security-Policy
            page.on("console", lambda m: blocked.append(m.text)
                    if "Content Security Policy" in m.text else None)
            page.goto(base + "/login")
            page.fill("#name", "Deniz Yılmaz")
            page.fill("#password", "engineer-pass")
            page.click("#login")
            page.wait_for_selector("#tickets")
            # The browser's zone, set by the page's script, names every time.
            assert "America/New_York" in page.inner_text("#zone")
            page.fill("#q", "silent")
            page.click("#filter")
            page.wait_for_url("**/?q=silent*")
            assert page.locator("#rows tr").count() == 1
            row = page.inner_text("#t1")
            assert "Voice bot is silent" in row and "Voice Bot" in row
            assert "2026-11-25 03:30" in row  # 08:30 UTC, in New York
            page.screenshot(path=str(artifacts / "desk-search.png"), full_page=True)
            page.click("#t1 a")
            page.wait_for_selector("#reply-form")
            page.fill("#reply-text", REPLY)
            page.click("#reply")
            page.wait_for_selector("#flash")
            assert "#1" in page.inner_text("#flash")
            conversation = page.inner_text("#conversation")
            assert REPLY in conversation and "Deniz Yılmaz" in conversation
            assert "Times in America/New_York." in page.inner_text("body")
            page.screenshot(path=str(artifacts / "desk-ticket.png"), full_page=True)
            page.goto(base + "/report?month=2026-11")
            page.wait_for_function(
                "() => document.getElementById('chart').complete && "
                "document.getElementById('chart').naturalWidth > 0", timeout=20000)
            assert "---|" not in page.inner_text("body")
            page.screenshot(path=str(artifacts / "desk-report.png"), full_page=True)
            with page.expect_download(timeout=60000) as got:
                page.click("#dl-pdf")
            download = got.value
            assert download.suggested_filename == "sla-report-2026-11.pdf"
            download.save_as(str(pdf_path))
            assert blocked == [], blocked
        finally:
            browser.close()
    text = pdf_text(pdf_path)
    if text:
        assert "Monthly SLA report" in text and "November 2026" in text, text[:500]
    assert pdf_path.stat().st_size > 1000
    # The reply reaches the customer's Telegram chat, as a chat `reply 1 …` would.
    sent = deliver(engine)
    texts = [c.params["text"] for c in sent]
    assert any("please install build 3.3 &lt;and&gt; tell us" in t or
               "please install build 3.3 <and> tell us" in t for t in texts), texts
    assert any("Deniz Yılmaz" in t for t in texts), texts
    for shot in ("desk-search.png", "desk-ticket.png", "desk-report.png"):
        assert (artifacts / shot).stat().st_size > 10_000, shot
    with session_scope(engine) as s:
        assert [e.kind for e in tickets.events(s, 1)].count(tickets.PUBLIC_REPLY) == 1
