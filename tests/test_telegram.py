"""The Telegram channel through the real python-telegram-bot against a fake Bot API server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.channels.telegram import TelegramChannel
from bot.config import Settings
from bot.demo import seed
from bot.routing import intake_config
from sla import Policy
from storage.db import make_engine, session_scope
from storage.models import Attachment, DialogSession, OutboxMessage, Ticket, TicketPause

from .fakes.telegram_server import Call, FakeTelegram

TOKEN = "123456:TEST-TOKEN"
SELFHELP_OR_KIND = ("known issues look similar", "What kind")
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 2048


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram(TOKEN).start()
    yield server
    await server.stop()


@pytest.fixture
def engine(sqlite_url: str, policy: Policy, clock: Any) -> Iterator[Engine]:
    eng = make_engine(sqlite_url)
    with session_scope(eng) as s:
        seed(s, policy, clock.now)
    yield eng
    eng.dispose()


@pytest.fixture
def make_channel(
    fake: FakeTelegram, engine: Engine, policy: Policy, clock: Any, tmp_path: Any
) -> Callable[[], TelegramChannel]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=fake.base_url,
        DESTEK_DATA_DIR=str(tmp_path / "data"),
        DESTEK_ENGINEERS_TELEGRAM_CHAT="-100200300",
    )

    def make() -> TelegramChannel:
        return TelegramChannel(settings, engine, intake_config(settings, policy), now=clock,
                               poll_timeout=1)

    return make


@pytest.fixture
async def channel(make_channel: Callable[[], TelegramChannel]) -> AsyncIterator[TelegramChannel]:
    ch = make_channel()
    await ch.start()
    yield ch
    await ch.stop()


class Chat:
    """One Telegram user talking to the bot through the fake server."""

    def __init__(self, fake: FakeTelegram, uid: int, lang: str = "en") -> None:
        self.fake, self.uid, self.lang = fake, uid, lang

    def seen(self) -> list[Call]:
        return self.fake.sent(chat_id=self.uid)

    async def until(self, start: int, expect: str | tuple[str, ...]) -> list[Call]:
        """Messages since ``start`` once one contains ``expect`` (the last reply of a step)."""
        wanted = (expect,) if isinstance(expect, str) else expect
        while True:
            new = self.seen()[start:]
            if any(w in c.text for c in new for w in wanted):
                return new
            await self.fake.wait_sent(start + len(new) + 1, chat_id=self.uid, timeout=30)

    async def say(self, text: str, expect: str | tuple[str, ...]) -> list[Call]:
        n = len(self.seen())
        self.fake.text(self.uid, text, self.lang)
        return await self.until(n, expect)

    def last_with_buttons(self) -> Call:
        return next(c for c in reversed(self.seen()) if c.buttons())

    async def press(self, label: str, expect: str) -> list[Call]:
        msg = self.last_with_buttons()
        data = msg.buttons()[label]
        n = len(self.seen())
        self.fake.press(self.uid, data, message=msg.result, lang=self.lang)
        return await self.until(n, expect)

    async def photo(self, data: bytes, expect: str, caption: str | None = None) -> list[Call]:
        n = len(self.seen())
        self.fake.photo(self.uid, data, caption, self.lang)
        return await self.until(n, expect)


def tickets_of(engine: Engine, customer_id: int | None = None) -> list[Ticket]:
    with Session(engine) as s:
        q = select(Ticket).order_by(Ticket.id)  # type: ignore[arg-type]
        if customer_id is not None:
            q = q.where(Ticket.customer_id == customer_id)
        return list(s.exec(q))


async def test_unknown_user_is_refused_and_nothing_is_stored(
    fake: FakeTelegram, channel: TelegramChannel, engine: Engine
) -> None:
    before = len(tickets_of(engine))
    await Chat(fake, 5555).say("/start", "I do not know you")
    await Chat(fake, 5556, "tr-TR").say("/start", "sizi henüz tanımıyorum")  # Telegram's language
    await Chat(fake, 1002, "tr").say("merhaba", "eğitim almış")  # Mehmet: untrained
    await Chat(fake, 4001).say("/new", "no active maintenance and support contract")  # OLDCO
    with Session(engine) as s:
        assert list(s.exec(select(DialogSession))) == []
    assert len(tickets_of(engine)) == before
    # Commands registered in both languages.
    assert {c["command"] for c in fake.commands[""]} >= {"start", "new", "status", "list",
                                                        "cancel", "lang", "help"}
    assert fake.commands["tr"][0]["description"] != fake.commands[""][0]["description"]


async def _maybe_selfhelp(chat: Chat, calls: list[Call], cont: str, expect: str) -> None:
    if any(c.buttons() and cont in c.buttons() for c in calls):
        await chat.press(cont, expect)


async def test_full_dialog_in_english_with_buttons_and_screenshot(
    fake: FakeTelegram, channel: TelegramChannel, engine: Engine
) -> None:
    omar = Chat(fake, 2001)
    await omar.say("/start", "In one sentence")
    calls = await omar.say("Recordings of branch twelve are lost", SELFHELP_OR_KIND)
    await _maybe_selfhelp(omar, calls, "Not solved, continue", "What kind")
    await omar.press("Product defect", "Which product")
    # GULFBANK's contract covers only Call Recorder and Speech Analytics.
    product_msg = omar.last_with_buttons()
    assert set(product_msg.buttons()) == {"Call Recorder", "Speech Analytics"}
    await omar.press("Call Recorder", "Which version of Call Recorder")
    calls = await omar.press("4.0", "production or the test")
    assert any("end of support" in c.text for c in calls)
    assert fake.sent("answerCallbackQuery")
    assert any("✔ 4.0" in c.text for c in fake.sent("editMessageText"))
    await omar.press("Production", "describe the problem in detail")
    await omar.say("No recordings are stored for extensions 1200-1299 since Sunday.",
                   "reproduce")
    await omar.say("Search recordings for branch 12 in the web UI.", "error message")
    await omar.say("Storage quota exceeded (E-4012)", "screenshots")
    calls = await omar.photo(PNG, "1 received so far")
    assert "Received photo_" in calls[0].text
    await omar.press("Done", "production down")
    await omar.press("No", "workaround")
    await omar.press("No", "How many users")
    calls = await omar.press("Many (more than 10)", "propose severity S2")
    await omar.press("S3 Medium", "You chose S3 instead of S2")
    await omar.say("Only archive search is affected, live recording works.", "remote access")
    calls = await omar.press("No", "Please check your report")
    assert any("waiting for remote access" in c.text for c in calls)
    calls = await omar.press("Confirm", "Ticket #")
    opened = next(c.text for c in calls if "Ticket #" in c.text)
    assert "Severity S3" in opened and "plan Standard" in opened and "tier 1" in opened
    assert "paused, waiting for remote access" in opened

    ticket = tickets_of(engine)[-1]
    assert ticket.channel == "telegram" and ticket.channel_chat == "2001"
    assert ticket.version_text == "4.0" and ticket.version_past_eos
    assert (ticket.severity, ticket.proposed_severity) == ("S3", "S2")
    assert ticket.severity_reason and ticket.error_text == "Storage quota exceeded (E-4012)"
    assert not ticket.remote_access and ticket.status == "pending"
    with Session(engine) as s:
        atts = list(s.exec(select(Attachment).where(Attachment.ticket_id == ticket.id)))
        assert len(atts) == 1 and atts[0].content_type == "image/jpeg" and atts[0].size == len(PNG)
        pauses = list(s.exec(select(TicketPause).where(TicketPause.ticket_id == ticket.id)))
        assert pauses[0].kind == "remote-access" and pauses[0].ended_at is None
        rows = list(s.exec(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id)))
        assert [c.key for c in rows] == [f"ticket:{ticket.id}:opened:telegram:-100200300",
                                         f"ticket:{ticket.id}:confirmation"]
        assert list(s.exec(select(DialogSession))) == []
    # The confirmation was answered directly, so its safety row is settled (just after the
    # answer reached Telegram), not re-sent, with the message id Telegram gave the answer.
    for _ in range(500):
        with Session(engine) as s:
            safety = s.exec(select(OutboxMessage).where(
                OutboxMessage.key == f"ticket:{ticket.id}:confirmation")).one()
        if safety.status == "sent":
            break
        await asyncio.sleep(0.01)
    assert safety.status == "sent" and safety.external_id

    # /status and /list show only the customer's own organisation.
    await omar.say(f"/status {ticket.id}", f"#{ticket.id}")
    await omar.say("/status 1", "cannot find ticket 1")  # #1 is ACME's
    calls = await omar.say("/list", "Open tickets of Gulf Bank")
    assert "#1 " not in calls[-1].text
    await omar.say("/frobnicate", "Unknown command /frobnicate")


async def test_turkish_dialog_typed_answers_back_edit_invalid(
    fake: FakeTelegram, channel: TelegramChannel, engine: Engine
) -> None:
    ayse = Chat(fake, 1001, "tr")
    await ayse.say("/new", "Tek cümleyle")
    calls = await ayse.say("kısa", "Tek cümleyle")  # too short
    assert "en az 8 karakter" in calls[0].text
    calls = await ayse.say("Sesli bot çağrılarda sessiz kalıyor",
                           ("bilinen sorunlar", "Talebin türü"))
    await _maybe_selfhelp(ayse, calls, "Çözülmedi, devam", "Talebin türü")
    await ayse.say("1", "Hangi ürün")
    calls = await ayse.say("Olmayan Ürün", "Hangi ürün")
    assert "Lütfen şunlardan birini seçin" in calls[0].text
    await ayse.say("Voice Bot", "Voice Bot ürününün hangi sürümü")
    calls = await ayse.say("9.9", "hangi sürümü")
    assert "Bu sürümü tanımıyorum" in calls[0].text
    await ayse.say("geri", "Hangi ürün")  # back to the product
    await ayse.say("Chatbot", "Chatbot ürününün hangi sürümü")
    await ayse.say("2.8", "Üretim (canlı)")
    await ayse.say("Üretim", "ayrıntılı anlatın")
    await ayse.say("Arayanlar karşılama anonsu yerine sessizlik duyuyor.", "tekrarlayabiliriz")
    await ayse.say("Ana IVR numarasını arayın ve bekleyin.", "Hata mesajının")
    await ayse.say("yok", "ekran görüntüsü")
    calls = await ayse.say("tamam", "Mevcut değil\" seçin.")  # done without a file
    assert "Henüz dosya gelmedi" in calls[0].text
    await ayse.photo(PNG, "şu ana kadar 1 dosya alındı")
    await ayse.say("tamam", "Üretim durdu mu")
    calls = await ayse.say("belki", "Üretim durdu mu")
    assert "evet ya da hayır" in calls[0].text
    await ayse.say("evet", "Anlık bir çözüm")
    await ayse.say("hayır", "Kaç kullanıcı")
    await ayse.say("250", "S1 Kritik öneriyorum")
    await ayse.say("S1", "uzaktan erişebilir")
    await ayse.say("evet", "Nasıl bağlanacağız")
    await ayse.say("VPN ve AnyDesk, NOC'u arayın", "kontrol edin")
    await ayse.say("düzenle ürün", "Hangi ürün")  # changing it asks the version again
    await ayse.say("Voice Bot", "Voice Bot ürününün hangi sürümü")
    calls = await ayse.say("4.2", "kontrol edin")
    assert "Voice Bot" in calls[-1].text and "Sürüm: 4.2" in calls[-1].text
    calls = await ayse.say("onayla", "numaralı kayıt açıldı")
    assert "Premium" in calls[-1].text and "Europe/Istanbul" in calls[-1].text
    ticket = tickets_of(engine)[-1]
    assert ticket.language == "tr" and ticket.severity == "S1" and ticket.remote_access
    assert ticket.version_text == "4.2" and ticket.response_due is not None


async def test_cancel_and_language_switch(
    fake: FakeTelegram, channel: TelegramChannel, engine: Engine
) -> None:
    jane = Chat(fake, 3001)
    await jane.say("/start", "In one sentence")
    await jane.say("/lang tr", "Türkçe")
    await jane.say("Rapor ekranı boş geliyor her sabah", ("bilinen sorunlar", "Talebin türü"))
    await jane.say("iptal", "İptal edildi")
    with Session(engine) as s:
        assert list(s.exec(select(DialogSession))) == []
    await jane.say("/lang en", "English")
    await jane.say("/cancel", "no report in progress")


async def test_restart_mid_dialog_continues_at_the_same_step(
    fake: FakeTelegram, make_channel: Callable[[], TelegramChannel], engine: Engine
) -> None:
    first = make_channel()
    await first.start()
    jane = Chat(fake, 3001)
    await jane.say("/start", "In one sentence")
    calls = await jane.say("Claims voice bot drops calls after greeting", SELFHELP_OR_KIND)
    await _maybe_selfhelp(jane, calls, "Not solved, continue", "What kind")
    await jane.say("defect", "Which product")
    await jane.say("Voice Bot", "Which version of Voice Bot")
    await first.stop()

    second = make_channel()
    await second.start()
    try:
        calls = await jane.say("4.2", "production or the test")
        assert not any("Hello" in c.text for c in calls)
    finally:
        await second.stop()
    with Session(engine) as s:
        row = s.exec(select(DialogSession)).one()
        assert row.step == "environment"


async def test_duplicate_delivery_has_one_effect(
    fake: FakeTelegram, channel: TelegramChannel, engine: Engine
) -> None:
    jane = Chat(fake, 3001)
    await jane.say("/start", "In one sentence")
    answers = ["Claims voice bot drops calls after greeting"]
    calls = await jane.say(answers[0], SELFHELP_OR_KIND)
    await _maybe_selfhelp(jane, calls, "Not solved, continue", "What kind")
    await jane.say("defect", "Which product")
    for text, expect in [
        ("Voice Bot", "version"), ("4.2", "production"), ("test", "in detail"),
        ("The bot hangs up right after the greeting prompt.", "reproduce"),
        ("Call the claims line from any phone.", "error message"), ("none", "screenshots"),
        ("not available", "Why are no"), ("Logs are on an isolated network.", "production down"),
        ("no", "workaround"), ("yes", "How many"), ("few", "propose severity"),
        ("S3", "Why?"), ("The claims line is our busiest test line.", "remote access"),
        ("yes", "How do we connect"), ("Via the customer VPN", "check your report"),
    ]:
        await jane.say(text, expect)
    before = len(tickets_of(engine))
    n = len(jane.seen())
    update = fake.text(3001, "confirm")
    fake.push(update, update_id=update["update_id"])  # the same update delivered again
    await jane.until(n, "Ticket #")
    await jane.say("/help", "/new")  # processed after both deliveries
    assert len(tickets_of(engine)) == before + 1
    assert sum("Ticket #" in c.text for c in jane.seen()) == 1


async def test_flood_control_retry_after_is_honoured(
    fake: FakeTelegram, channel: TelegramChannel
) -> None:
    fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    started = time.monotonic()
    calls = await Chat(fake, 3001).say("/help", "/new")
    errors = [c for c in fake.calls if c.method == "sendMessage:error"]
    assert len(errors) == 1
    assert calls[-1].at - errors[0].at >= 1.0
    assert sum("/new" in c.text for c in calls) == 1
    assert time.monotonic() - started < 8



async def test_an_answer_that_fails_to_send_is_delivered_by_the_outbox(
    fake: FakeTelegram, channel: TelegramChannel, engine: Engine, clock: Any
) -> None:
    from bot.channels.telegram import TelegramSender
    from bot.jobs.delivery import DeliveryWorker

    fake.fail_next("sendMessage", 502, "Bad Gateway")  # the answer's first message is lost
    update = fake.text(3001, "/start")
    await fake.wait_confirmed(update["update_id"])
    assert not Chat(fake, 3001).seen()
    with Session(engine) as s:
        rows = s.exec(select(OutboxMessage).where(
            OutboxMessage.key.startswith(f"reply:telegram:{update['update_id']}:"))).all()
    assert rows and all(r.target == "3001" and r.channel == "telegram" for r in rows)
    worker = DeliveryWorker(engine, {"telegram": TelegramSender(TOKEN, fake.base_url)},
                            now=clock)
    assert await worker.run_once() == len(rows)
    texts = [c.text for c in Chat(fake, 3001).seen()]
    assert sum("In one sentence" in x for x in texts) == 1
    assert await worker.run_once() == 0  # delivered once
    await worker.stop()


async def test_runner_reminds_over_telegram_and_stops_on_sigterm(
    fake: FakeTelegram, engine: Engine, policy: Policy, clock: Any, tmp_path: Any
) -> None:
    import asyncio
    import os
    import signal

    from bot.runner import RunContext, build_services, run_services, sweep_once

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=fake.base_url,
        DESTEK_DATA_DIR=str(tmp_path / "data"), DESTEK_DIALOG_REMIND_MINUTES=5,
    )
    ctx = RunContext(settings, engine, intake_config(settings, policy), now=clock)
    services, has_channel = build_services(ctx)
    names = [s.name for s in services]
    assert has_channel and names.index("telegram") < names.index("dialog-sweeper")
    # The channel, the sweeper and the outbox worker (in the SLA scheduler) that delivers its
    # reminder; the others have their own tests.
    services = [s for s in services if s.name in ("telegram", "dialog-sweeper", "sla-scheduler")]
    runner = asyncio.create_task(run_services(services, freeze_heap=False))
    await fake.wait_sent(2, "setMyCommands")
    jane = Chat(fake, 3001)
    await jane.say("/start", "In one sentence")
    clock.advance(minutes=6)
    n = len(jane.seen())
    assert await sweep_once(ctx) == 1
    await jane.until(n, "not finished yet")
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(runner, 15)


SECRET = "wh-secret-0123456789_abcdef"


async def test_webhook_mode_when_a_webhook_url_is_configured(
    fake: FakeTelegram, engine: Engine, policy: Policy, clock: Any, tmp_path: Any
) -> None:
    import socket

    import aiohttp

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=fake.base_url,
        TELEGRAM_WEBHOOK_URL="https://bot.example.com/telegram/hook",
        TELEGRAM_WEBHOOK_SECRET=SECRET, DESTEK_HTTP_HOST="127.0.0.1", DESTEK_HTTP_PORT=port,
        DESTEK_DATA_DIR=str(tmp_path / "data"),
    )
    # Without a secret (or with a weak one) webhook mode refuses to start, before anything is
    # registered with Telegram: an unauthenticated POST once ran an engineer's verb.
    from bot.channels.telegram import WebhookConfigError

    for weak in (None, "s3cret", "has spaces in it, sixteen+"):
        unsafe = settings.model_copy(update={"telegram_webhook_secret": weak})
        with pytest.raises(WebhookConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
            await TelegramChannel(unsafe, engine, intake_config(unsafe, policy),
                                  now=clock).start()
    assert not fake.sent("setWebhook") and not fake.sent("getMe")
    channel = TelegramChannel(settings, engine, intake_config(settings, policy), now=clock)
    await channel.start()
    try:
        assert fake.webhook == "https://bot.example.com/telegram/hook"
        assert fake.sent("setWebhook")[0].params["secret_token"] == SECRET
        update = {"update_id": 99, "message": {
            "message_id": 5, "date": 1, "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            "chat": {"id": 3001, "type": "private"},
            "from": {"id": 3001, "is_bot": False, "first_name": "Jane"}}}
        url = f"http://127.0.0.1:{port}/telegram/hook"
        async with aiohttp.ClientSession() as http:
            for headers in ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {}):
                async with http.post(url, json=update, headers=headers) as r:
                    assert r.status == 403
            async with http.post(url, json=update,
                                 headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as r:
                assert r.status == 200
        sent = await fake.wait_sent(1, chat_id=3001)
        assert "/new" in sent[0].text
    finally:
        await channel.stop()


async def test_engineer_verbs_over_telegram_and_the_report_chart(
    fake: FakeTelegram, channel: TelegramChannel
) -> None:
    """The engineers' verbs work as /VERB on Telegram; /report sends its chart after the text."""
    deniz = Chat(fake, 9001, "tr")
    await deniz.say("/ack 1", "Deniz Yılmaz")
    await deniz.say("/report ACME 2026-11", "2026-11")
    for _ in range(100):
        if fake.sent("sendPhoto", chat_id=9001):
            break
        await asyncio.sleep(0.05)
    [photo] = fake.sent("sendPhoto", chat_id=9001)
    assert photo.params["photo"].startswith(b"\x89PNG")


async def test_a_long_staff_status_arrives_in_several_messages(
    fake: FakeTelegram, channel: TelegramChannel, engine: Engine
) -> None:
    """A staff /status N longer than Telegram's 4096 characters is delivered whole, cut at line
    ends (the fake server refuses a longer message, as Telegram does)."""
    with session_scope(engine) as s:
        t = s.get(Ticket, 1)
        assert t is not None
        # Seven free-text fields just under the chat clip (800 each), one far over it.
        for field in ("steps", "error_text", "severity_reason", "remote_access_how",
                      "attachments_missing_reason", "workaround_text", "resolution_text"):
            setattr(t, field, "\n".join(f"{field} {i}: " + "x" * 50 for i in range(11)))
        t.description = "line 0: " + "d" * 5000
        s.add(t)
    deniz = Chat(fake, 9001, "en")
    calls = await deniz.say("/status 1", "Kayıt geçmişi")
    texts = [c.text for c in calls]
    assert len(texts) >= 2 and all(len(x) <= 4096 for x in texts)
    whole = "\n".join(texts)
    assert whole.startswith("#1 ACME") and "line 0: " in whole
    assert "resolution_text 10: " in whole and "Kayıt geçmişi" in texts[-1]
    assert "kısaltıldı" in whole  # the long fields are clipped for chat, saying so
