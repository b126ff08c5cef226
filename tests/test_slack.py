"""The Slack app through the real slack-bolt/slack_sdk: signed requests in, a fake Web API out."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.channels.slack import SlackBot, SlackSender
from bot.channels.slack import blocks as slack_blocks
from bot.config import Settings
from bot.demo import seed
from bot.jobs.delivery import DeliveryWorker
from storage import tickets
from storage.db import make_engine
from storage.models import (
    Attachment,
    DialogSession,
    OutboxMessage,
    ProcessedDelivery,
    Ticket,
    TicketEvent,
)
from tests.fakes.slack_api import FakeSlackApi, event_envelope

SECRET = "test-signing-secret"
AYSE, OMAR, DENIZ, CAN, ELIF = "U0ACME01", "U0GULF01", "U0ENG001", "U0ENG002", "U0MGR001"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # Wednesday 12:00 in Istanbul
_ids = itertools.count(1)


def sign(body: str, ts: int | None = None, secret: str = SECRET) -> dict[str, str]:
    stamp = str(ts if ts is not None else int(time.time()))
    sig = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {"x-slack-request-timestamp": stamp, "x-slack-signature": sig}


@dataclass
class Harness:
    bot: SlackBot
    fake: FakeSlackApi
    http: httpx.AsyncClient
    engine: Engine

    async def post(self, body: str, ctype: str, headers: dict[str, str] | None = None,
                   ) -> httpx.Response:
        h = {"content-type": ctype, **sign(body), **(headers or {})}
        resp = await self.http.post("/slack/events", content=body, headers=h)
        await settle()
        return resp

    async def command(self, user: str, text: str, channel: str = "C0ENG") -> httpx.Response:
        n = next(_ids)
        body = urlencode({
            "token": "x", "team_id": "T0TEST", "team_domain": "test", "channel_id": channel,
            "channel_name": "support", "user_id": user, "user_name": user.lower(),
            "command": "/destek", "text": text, "api_app_id": "A0DESTEK",
            "response_url": self.fake.response_url(f"r{n}"), "trigger_id": f"trig.{n}",
        })
        return await self.post(body, "application/x-www-form-urlencoded")

    def replies(self) -> list[str]:
        return [r["text"] for r in self.fake.responses]

    async def event(self, event: dict[str, Any], event_id: str | None = None,
                    headers: dict[str, str] | None = None) -> httpx.Response:
        body = json.dumps(event_envelope(event, event_id or f"Ev{next(_ids):08d}"))
        return await self.post(body, "application/json", headers)

    async def dm(self, user: str, text: str, files: list[dict[str, Any]] | None = None,
                 thread: str | None = None, event_id: str | None = None,
                 headers: dict[str, str] | None = None) -> httpx.Response:
        ev: dict[str, Any] = {"type": "message", "channel": "D" + user[1:], "user": user,
                              "text": text, "ts": f"{time.time():.6f}", "channel_type": "im"}
        if files:
            ev["subtype"] = "file_share"
            ev["files"] = files
        if thread:
            ev["thread_ts"] = thread
        return await self.event(ev, event_id, headers)

    async def interact(self, payload: dict[str, Any]) -> httpx.Response:
        payload = {"team": {"id": "T0TEST"}, "api_app_id": "A0DESTEK", "token": "x", **payload}
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, "application/x-www-form-urlencoded")

    async def press(self, user: str, action_id: str, value: str, channel: str,
                    message_ts: str = "1.000001") -> httpx.Response:
        return await self.interact({
            "type": "block_actions", "user": {"id": user}, "trigger_id": f"trig.{next(_ids)}",
            "channel": {"id": channel}, "message": {"ts": message_ts, "text": "card"},
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
            "actions": [{"action_id": action_id, "block_id": "b", "type": "button",
                         "value": value, "action_ts": str(time.time())}],
        })

    async def submit(self, user: str, view: dict[str, Any], values: dict[str, Any],
                     ) -> httpx.Response:
        state: dict[str, Any] = {}
        for block in view["blocks"]:
            bid = block["block_id"]
            kind = block["element"]["type"]
            v = values.get(bid)
            if kind == "static_select":
                el = {"type": kind, "selected_option": {"value": v, "text": {
                    "type": "plain_text", "text": str(v)}} if v is not None else None}
            elif kind == "file_input":
                el = {"type": kind, "files": [{"id": f} for f in v or []]}
            else:
                el = {"type": kind, "value": v}
            state[bid] = {"v": el}
        return await self.interact({
            "type": "view_submission", "user": {"id": user}, "trigger_id": "t",
            "view": {"id": "V1", "type": "modal", "callback_id": view["callback_id"],
                     "private_metadata": view.get("private_metadata", ""),
                     "state": {"values": state}, "hash": "h"},
        })

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def ticket(self, n: int) -> Ticket:
        with self.session() as s:
            t = s.get(Ticket, n)
            assert t is not None
            return t

    async def deliver(self) -> int:
        sender = SlackSender("xoxb-test", self.fake.base_url)
        worker = DeliveryWorker(self.engine, {"slack": sender}, now=self.bot.clock)
        try:
            return await worker.drain()
        finally:
            await sender.close()


def opened_view(h: Harness) -> dict[str, Any]:
    view = h.fake.calls_to("views.open")[-1].args["view"]
    return json.loads(view) if isinstance(view, str) else view


async def settle(timeout: float = 10) -> None:
    """Wait for Bolt's lazy listeners (they run after the HTTP response)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = [t for t in asyncio.all_tasks() if not t.done() and getattr(
            t.get_coro(), "__qualname__", "") == "to_runnable_function"]
        if not busy:
            return
        await asyncio.wait(busy, timeout=deadline - time.monotonic())
    raise AssertionError("lazy listeners did not finish")


@pytest.fixture
async def h(sqlite_url: str, policy, tmp_path) -> AsyncIterator[Harness]:  # type: ignore[no-untyped-def]
    engine = make_engine(sqlite_url)
    with Session(engine) as s:
        seed(s, policy, NOW)
        s.commit()
    fake = await FakeSlackApi().start()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        DATABASE_URL=sqlite_url, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.base_url, DESTEK_DATA_DIR=str(tmp_path / "data"),
        DESTEK_ENGINEERS_SLACK_CHANNEL="C0ENG",
    )
    clock = iter(NOW + timedelta(seconds=i) for i in itertools.count())
    bot = SlackBot(settings, engine=engine, policy=policy, clock=lambda: next(clock))
    transport = httpx.ASGITransport(app=bot.asgi())
    async with httpx.AsyncClient(transport=transport, base_url="http://destek.test") as http:
        yield Harness(bot, fake, http, engine)
    await bot.close()
    await fake.stop()
    engine.dispose()


def slack_ticket(h: Harness, policy, contact: str = "Ayşe Demir") -> int:  # type: ignore[no-untyped-def]
    """A ticket reported from Slack (chat D0ACME01, thread 111.000001)."""
    from storage import directory
    from storage.identities import external_id

    with h.session() as s:
        c = directory.find_contact(s, contact)
        assert c is not None and c.customer_id is not None
        customer = s.get(directory.Customer, c.customer_id)
        t = tickets.open_ticket(s, policy, customer, c, "premium", "voice bot silent", "S2", NOW,
                                product=directory.get_product(s, "Voice Bot"), channel="slack",
                                channel_user=external_id(s, c.id or 0, "slack"),
                                channel_chat="D0ACME01", channel_thread="111.000001")
        s.commit()
        return t.id or 0


# -- transport: signatures, health, retries -------------------------------------------------------


async def test_bad_or_stale_signature_is_refused(h: Harness) -> None:
    body = urlencode({"command": "/destek", "text": "ack 1", "user_id": DENIZ,
                      "team_id": "T0TEST", "response_url": h.fake.response_url("x")})
    ctype = {"content-type": "application/x-www-form-urlencoded"}
    bad = await h.http.post("/slack/events", content=body,
                            headers={**ctype, **sign(body, secret="wrong")})
    stale = await h.http.post("/slack/events", content=body,
                              headers={**ctype, **sign(body, ts=int(time.time()) - 600)})
    unsigned = await h.http.post("/slack/events", content=body, headers=ctype)
    await settle()
    assert (bad.status_code, stale.status_code, unsigned.status_code) == (401, 401, 401)
    assert h.fake.responses == [] and h.ticket(1).responded_at is None


async def test_oversized_body_is_refused_before_it_is_read(h: Harness) -> None:
    from bot.channels.slack.http import MAX_BODY_BYTES

    huge = urlencode({"command": "/destek", "text": "note 1 " + "x" * MAX_BODY_BYTES,
                      "user_id": DENIZ, "team_id": "T0TEST"})
    ctype = {"content-type": "application/x-www-form-urlencoded"}
    signed = await h.http.post("/slack/events", content=huge, headers={**ctype, **sign(huge)})

    async def chunks():  # no Content-Length: refused while streaming
        for i in range(0, len(huge), 65536):
            yield huge[i:i + 65536].encode()

    streamed = await h.http.post("/slack/events", content=chunks(),
                                 headers={**ctype, **sign(huge)})
    await settle()
    assert (signed.status_code, streamed.status_code) == (413, 413)
    assert h.fake.responses == []  # nothing ran
    # A normal command still works after the refusals.
    resp = await h.command(CAN, "status 1")
    assert resp.status_code == 200


async def test_healthz(h: Harness) -> None:
    resp = await h.http.get("/healthz")
    assert resp.status_code == 200 and resp.json() == {"ok": True}


async def test_retried_event_changes_nothing(h: Harness) -> None:
    await h.dm(AYSE, "merhaba")  # starts the dialog
    await h.dm(AYSE, "Sesli yanıt sistemi hiç ses vermiyor", event_id="EvSAME")
    posted = len(h.fake.messages)
    assert posted >= 2
    retry = await h.dm(AYSE, "Sesli yanıt sistemi hiç ses vermiyor", event_id="EvSAME",
                       headers={"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"})
    assert retry.status_code == 200
    assert len(h.fake.messages) == posted
    with h.session() as s:
        assert s.get(ProcessedDelivery, "slack:EvSAME") is not None
        row = s.exec(select(DialogSession)).one()
        assert json.loads(row.data)["answers"]["summary"].startswith("Sesli")
        assert json.loads(row.data)["history"].count("summary") == 1


async def test_rate_limited_web_api_is_retried(h: Harness) -> None:
    h.fake.fail("chat.postMessage", status=429, retry_after=0, times=1)
    await h.event({"type": "app_mention", "channel": "C0ENG", "user": DENIZ,
                   "text": "<@UBOT> status 1", "ts": "5.000001"})
    assert any("#1 ACME" in m["text"] and m["thread_ts"] == "5.000001"
               for m in h.fake.messages)


async def test_an_answer_slack_refused_is_delivered_by_the_outbox(h: Harness) -> None:
    # Our client retries a server error twice; the third refusal is an outage.
    h.fake.fail("chat.postMessage", status=500, error="internal_error", times=3)
    await h.event({"type": "app_mention", "channel": "C0ENG", "user": DENIZ,
                   "text": "<@UBOT> status 1", "ts": "6.000001"})
    assert not any(m.get("thread_ts") == "6.000001" for m in h.fake.messages)
    with h.session() as s:
        (row,) = s.exec(select(OutboxMessage).where(
            col(OutboxMessage.key).startswith("reply:slack:"))).all()
        assert (row.channel, row.target, row.thread) == ("slack", "C0ENG", "6.000001")
    worker = DeliveryWorker(h.engine, {"slack": SlackSender("xoxb-test", h.fake.base_url)})
    assert await worker.run_once() == 1
    assert sum("#1 ACME" in m["text"] and m.get("thread_ts") == "6.000001"
               for m in h.fake.messages) == 1
    await worker.stop()


# -- engineers' commands --------------------------------------------------------------------------


async def test_every_engineer_verb_through_the_slash_command(h: Harness, policy) -> None:  # type: ignore[no-untyped-def]
    n = slack_ticket(h, policy)
    verbs = [
        (CAN, f"ack {n}", "assigned to Can Öztürk"),
        (ELIF, f"assign {n} <@{DENIZ}|deniz>", "Deniz Yılmaz"),
        (CAN, f"sev {n} S1 all calls silent", "S2 → S1"),
        (CAN, f"pending {n} please send TTS logs", "waiting for the customer"),
        (CAN, f"resume {n}", "running again"),
        (CAN, f"workaround {n} restart TTS", "workaround recorded"),
        (CAN, f"resolve {n} patched --fix-version 4.2.1", "resolved"),
        (CAN, f"reopen {n} silent again", "reopened"),
        (CAN, f"escalate {n} tier3 code fix needed", "tier 3"),
        (CAN, f"note {n} VPN flaky", "internal note"),
        (CAN, f"exception {n} needs DB window", "SLA exception"),
        (CAN, f"status {n}", "voice bot silent"),
        (CAN, "list", f"#{n}"),
        (CAN, "help", "escalate N"),
        (CAN, f"resolve {n} fixed for good", "resolved"),
        (CAN, f"close {n}", "closed"),
    ]
    for user, text, expected in verbs:
        resp = await h.command(user, text)
        assert resp.status_code == 200 and resp.text == ""  # acknowledged at once, empty
        assert expected in h.replies()[-1], (text, h.replies()[-1])
    assert len(h.fake.responses) == len(verbs)
    status = [r for r in h.fake.responses if "voice bot silent" in r["text"]][0]
    assert [e["action_id"] for e in status["blocks"][-1]["elements"]] == list(
        slack_blocks.CARD_ACTIONS)
    # The card is the whole report: the note marked internal, the audit trail.
    card = "\n".join(b["text"]["text"] for b in status["blocks"][:-1])
    assert "[internal] Can Öztürk (note): VPN flaky" in card and "Audit trail:" in card
    assert all(len(b["text"]["text"]) <= 3000 for b in status["blocks"][:-1])
    t = h.ticket(n)
    assert t.status == "closed" and t.tier == 3 and t.severity == "S1"
    # the customer hears every change in Turkish, in the thread of her report
    sent = await h.deliver()
    to_ayse = [m for m in h.fake.messages if m["channel"] == "D0ACME01"]
    # all but note, status, list, help; and the satisfaction survey after the close (#19)
    assert sent >= len(to_ayse) == 13
    assert all(m["thread_ts"] == "111.000001" for m in to_ayse)
    assert [b["text"]["text"] for b in to_ayse[-1]["blocks"][-1]["elements"]] == [
        "1", "2", "3", "4", "5"]
    assert "Atanan mühendis: Can Öztürk" in to_ayse[0]["text"]
    assert "VPN flaky" not in " ".join(m["text"] for m in to_ayse)
    assert any(m["channel"] == "C0ENG" and "tier 3" in m["text"] for m in h.fake.messages)


async def test_report_verb_posts_its_chart_to_the_channel(h: Harness, policy) -> None:  # type: ignore[no-untyped-def]
    slack_ticket(h, policy)
    resp = await h.command(CAN, "report ACME 2026-11")
    assert resp.status_code == 200
    assert "SLA report 2026-11 (ACME)" in h.replies()[-1]
    [up] = h.fake.uploads.values()
    assert up["shared"] == "C0ENG" and up["name"] == "sla-2026-11-ACME.png"
    assert up["data"].startswith(b"\x89PNG")


async def test_roles_are_enforced(h: Harness, policy) -> None:  # type: ignore[no-untyped-def]
    n = slack_ticket(h, policy)
    await h.command(AYSE, f"ack {n}")
    assert "yalnızca destek mühendislerimiz" in h.replies()[-1]
    await h.command(OMAR, f"status {n}")  # another organisation's ticket: as if none
    assert h.replies()[-1] == f"I cannot find ticket {n} for your organisation."
    await h.command(OMAR, "status 999")
    assert h.replies()[-1] == "I cannot find ticket 999 for your organisation."
    await h.command("U0STRANGER", "list")
    assert "do not know you" in h.replies()[-1]
    await h.command(AYSE, f"status {n}")
    assert "voice bot silent" in h.replies()[-1]
    assert h.ticket(n).responded_at is None
    await h.command(DENIZ, "sev 1 S9 bad")
    assert "S9" in h.replies()[-1]


async def test_ticket_card_buttons_and_modals(h: Harness, policy) -> None:  # type: ignore[no-untyped-def]
    n = slack_ticket(h, policy)
    await h.press(CAN, "ticket_ack", str(n), "C0ENG", "7.000001")
    assert h.ticket(n).assignee_id is not None
    assert h.fake.messages[-1]["thread_ts"] == "7.000001"
    await h.press(CAN, "ticket_pending", str(n), "C0ENG", "7.000001")
    view = opened_view(h)
    assert view["callback_id"] == slack_blocks.VERB_CALLBACK
    empty = await h.submit(CAN, view, {"text": "  "})
    assert empty.json()["response_action"] == "errors" and "text" in empty.json()["errors"]
    assert h.ticket(n).status == "open"
    ok = await h.submit(CAN, view, {"text": "Please send the TTS logs"})
    assert ok.status_code == 200
    assert h.ticket(n).status == "pending"
    assert "waiting for the customer" in h.fake.messages[-1]["text"]
    # the customer answers in the ticket's thread: the clocks run again
    await h.dm(AYSE, "Loglar ekte", thread="111.000001")
    assert h.ticket(n).status == "open"
    await h.press(CAN, "ticket_resolve", str(n), "C0ENG", "7.000001")
    view = opened_view(h)
    await h.submit(CAN, view, {"text": "TTS timeout raised", "fix_version": "4.2.1"})
    t = h.ticket(n)
    assert t.status == "resolved" and t.fix_version == "4.2.1"
    # a customer pressing an engineer's button is refused
    await h.press(AYSE, "ticket_ack", str(n), "D0ACME01")
    assert "yalnızca destek mühendislerimiz" in h.fake.messages[-1]["text"]


async def test_app_mention_runs_a_command_in_the_thread(h: Harness) -> None:
    await h.event({"type": "app_mention", "channel": "C0ENG", "user": CAN,
                   "text": "<@UBOT> list breaching", "ts": "9.000001"})
    msg = h.fake.messages[-1]
    assert msg["channel"] == "C0ENG" and msg["thread_ts"] == "9.000001"


# -- customers' intake ----------------------------------------------------------------------------


def _values(view: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    [product_block] = [b for b in view["blocks"] if b["block_id"] == "product_id"]
    [product] = [o["value"] for o in product_block["element"]["options"]
                 if o["text"]["text"] == "Voice Bot"]
    vals: dict[str, Any] = {
        "summary": "IVR plays no prompt to callers", "product_id": product,
        "version_text": "4.2", "environment": "production",
        "description": "Since 09:10 the voice bot plays no prompt; callers hear silence.",
        "steps": "Call the main IVR number.", "error_text": "TTS engine timeout after 3000 ms",
        "attachments": ["F0LOG"], "production_down": "yes", "workaround_available": "no",
        "users_affected": "all", "severity": None, "remote_access": "yes",
        "remote_access_how": "VPN and RDP, credentials in the vault", "kind": "defect",
    }
    vals.update(overrides)
    return vals


async def test_intake_through_the_modal(h: Harness) -> None:
    h.fake.add_file("F0LOG", "tts.log", b"ERROR TTS timeout\n", "text/plain")
    await h.command(AYSE, "new", channel="D0ACME01")
    view = opened_view(h)
    assert view["callback_id"] == slack_blocks.INTAKE_CALLBACK
    assert view["title"]["text"] == "Sorun bildir"  # Ayşe reads Turkish
    kinds = {b["block_id"]: b["element"]["type"] for b in view["blocks"]}
    assert kinds["product_id"] == "static_select" and kinds["attachments"] == "file_input"
    assert kinds["description"] == "plain_text_input"
    # validation errors come back in the modal, nothing is opened
    bad = await h.submit(AYSE, view, _values(view, summary="short", version_text="9.9",
                                             attachments=[]))
    errors = bad.json()["errors"]
    assert bad.json()["response_action"] == "errors"
    assert {"summary", "version_text", "attachments_missing_reason"} <= set(errors)
    with h.session() as s:
        assert len(s.exec(select(Ticket)).all()) == 2  # the demo's two
    ok = await h.submit(AYSE, view, _values(view))
    assert ok.status_code == 200 and ok.text == ""
    with h.session() as s:
        t = s.exec(select(Ticket).order_by(col(Ticket.id).desc())).first()
        assert t is not None and t.channel == "slack" and t.severity == "S1"
        [att] = s.exec(select(Attachment).where(Attachment.ticket_id == t.id)).all()
        assert att.filename == "tts.log"
    confirm = h.fake.messages[-1]
    assert confirm["channel"] == "D0ACME01" and f"#{t.id}" in confirm["text"]
    # the confirmation message is the thread for every later update
    resp_ts = [c for c in h.fake.calls if c.method == "chat.postMessage"][-1]
    assert t.channel_chat == "D0ACME01" and t.channel_thread
    await h.command(CAN, f"ack {t.id}")
    await h.deliver()
    update = h.fake.messages[-1]
    assert (update["channel"], update["thread_ts"]) == ("D0ACME01", t.channel_thread)
    assert resp_ts is not None


async def test_intake_through_the_dm_conversation(h: Harness) -> None:
    h.fake.add_file("F0SHOT", "screen.png", b"\x89PNG fake", "image/png")
    answers: dict[str, Callable[[], Any]] = {
        "summary": lambda: "IVR plays no prompt to callers",
        "selfhelp": lambda: "continue",
        "version_text": lambda: "4.2",
        "environment": lambda: "production",
        "description": lambda: "Since 09:10 the voice bot plays no prompt; callers hear silence.",
        "steps": lambda: "Call the main IVR number.",
        "error_text": lambda: "TTS engine timeout",
        "attachments": lambda: "done",
        "production_down": lambda: "yes",
        "workaround_available": lambda: "no",
        "users_affected": lambda: "all",
        "severity": lambda: "S1",
        "remote_access": lambda: "yes",
        "remote_access_how": lambda: "VPN and RDP",
        "kind": lambda: "defect",
        "confirm": lambda: "confirm",
    }
    await h.dm(AYSE, "merhaba")
    for _ in range(30):
        with h.session() as s:
            row = s.exec(select(DialogSession)).first()
        if row is None:
            break
        if row.step == "product_id":  # press the button the bot posted
            raw = h.fake.messages[-1]["blocks"]
            blocks = json.loads(raw) if isinstance(raw, str) else raw
            [btn] = [b for b in blocks[1]["elements"] if b["text"]["text"] == "Voice Bot"]
            await h.press(AYSE, btn["action_id"], btn["value"], "D0ACME01")
            continue
        if row.step == "attachments":
            await h.dm(AYSE, "", files=[{"id": "F0SHOT"}])
        await h.dm(AYSE, answers[row.step]())
    with h.session() as s:
        t = s.exec(select(Ticket).order_by(col(Ticket.id).desc())).first()
        assert t is not None and t.channel == "slack" and t.summary.startswith("IVR")
        assert t.channel_chat == "D0ACME01" and t.channel_thread
        assert s.exec(select(Attachment).where(Attachment.ticket_id == t.id)).one().filename \
            == "screen.png"
        assert s.exec(select(TicketEvent).where(TicketEvent.ticket_id == t.id)).first()
    thread_root = [m for m in h.fake.messages if f"#{t.id}" in m["text"]][0]
    assert thread_root["channel"] == "D0ACME01" and not thread_root.get("thread_ts")
    with h.session() as s:
        assert s.exec(select(OutboxMessage).where(OutboxMessage.target == "C0ENG")).first()


async def test_suggest_and_link_buttons(h: Harness) -> None:
    await h.command(CAN, "suggest 1")
    resp = h.fake.responses[-1]
    buttons = [e for b in resp.get("blocks") or [] if b["type"] == "actions"
               for e in b["elements"]]
    assert buttons and buttons[0]["action_id"].startswith(slack_blocks.COMMAND_ACTION)
    assert buttons[0]["value"].startswith("link 1 KE-")
    await h.press(CAN, buttons[0]["action_id"], buttons[0]["value"], "C0ENG", "8.000001")
    with h.session() as s:
        kinds = [e.kind for e in tickets.events(s, 1)]
    assert any("link" in k or "kb" in k for k in kinds), kinds
    assert h.fake.messages[-1]["thread_ts"] == "8.000001"


async def test_dm_offers_the_form_and_keeps_files_shared_in_the_dm(h: Harness) -> None:
    h.fake.add_file("F0DM", "trace.txt", b"trace 1\ntrace 2\n", "text/plain")
    await h.dm(AYSE, "merhaba")
    offer = h.fake.messages[-1]
    [button] = offer["blocks"][1]["elements"]
    assert button["action_id"] == slack_blocks.FORM_ACTION
    await h.dm(AYSE, "", files=[{"id": "F0DM"}])  # shared in the DM while the dialog runs
    await h.press(AYSE, button["action_id"], button["value"], "D0ACME01")
    view = opened_view(h)
    assert view["callback_id"] == slack_blocks.INTAKE_CALLBACK
    ok = await h.submit(AYSE, view, _values(view, attachments=[]))
    assert ok.text == ""
    with h.session() as s:
        t = s.exec(select(Ticket).order_by(col(Ticket.id).desc())).first()
        assert t is not None and t.channel == "slack"
        assert [a.filename for a in s.exec(select(Attachment).where(
            Attachment.ticket_id == t.id))] == ["trace.txt"]
        assert s.exec(select(DialogSession)).first() is None


async def test_customer_verbs_on_slack_read_as_slack_commands(h: Harness) -> None:
    """The customer verbs work through the slash command, and the commands a reply names are
    written the Slack way ("/destek access N"), not as Telegram's "/access N"."""
    await h.command(AYSE, "help")
    helped = h.replies()[-1]
    assert "/destek access N" in helped and "/destek plan" in helped
    assert " /access" not in helped
    await h.command(AYSE, "lang en")
    assert h.replies()[-1] == "I will speak English with you."
    await h.command(AYSE, "list")
    assert h.replies()[-1].startswith("Open tickets of")
