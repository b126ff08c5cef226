"""Slack Connect: a channel shared with a customer's own Slack team, mapped to that customer.

Through the real Bolt app and slack_sdk: signed Events API requests shaped as Slack sends them
in a shared channel (the writer's foreign team in ``user_team``, ``is_ext_shared_channel``,
``authorizations`` listing the vendor's install), replies at the fake Web API.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.channels.slack import SlackBot
from bot.config import Settings
from bot.demo import seed
from storage import chats, directory, tickets
from storage.db import make_engine, session_scope
from storage.models import Customer, DialogSession, Ticket
from tests.fakes.slack_api import FakeSlackApi, channel_message, event_envelope
from tests.test_slack import SECRET, settle, sign

ACME_CHANNEL, GULF_CHANNEL, OTHER_CHANNEL = "C0ACME001", "C0GULF001", "C0RANDOM1"
ACME_TEAM, GULF_TEAM = "T0ACME000", "T0GULF000"
ZEYNEP, BURAK, LEYLA, STRANGER = "U0ZEY001", "U0BUR001", "U0LEY001", "U0NOBODY1"
CAN = "U0ENG002"
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # Wednesday 12:00 in Istanbul
_ids = itertools.count(1)
_ts = itertools.count(1)


class Clock:
    """The bot's clock: one second further at every reading; ``skip`` moves it on."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now

    def skip(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class Connect:
    bot: SlackBot
    fake: FakeSlackApi
    http: httpx.AsyncClient
    engine: Engine
    clock: Clock

    async def send(self, event: dict[str, Any], shared: bool = True) -> httpx.Response:
        body = json.dumps(event_envelope(event, f"Ev{next(_ids):08d}", shared=shared))
        resp = await self.http.post("/slack/events", content=body, headers={
            "content-type": "application/json", **sign(body)})
        await settle()
        assert resp.status_code == 200
        return resp

    async def say(self, user: str, team: str, text: str, channel: str = ACME_CHANNEL,
                  thread: str | None = None, **extra: Any) -> str:
        """A person writes in a channel; the message's ts."""
        ts = f"{1764000000 + next(_ts)}.000100"
        await self.send(channel_message(channel, user, team, text, ts, thread_ts=thread,
                                        **extra), shared=channel != "C0ENG")
        return ts

    async def mention(self, user: str, team: str, text: str, channel: str = ACME_CHANNEL,
                      thread: str | None = None) -> str:
        """A message that mentions the bot: Slack sends it as app_mention and as message."""
        ts = f"{1764000000 + next(_ts)}.000100"
        text = f"<@UBOT> {text}"
        shared = channel != "C0ENG"
        await self.send(channel_message(channel, user, team, text, ts, thread_ts=thread,
                                        mention=True), shared=shared)
        await self.send(channel_message(channel, user, team, text, ts, thread_ts=thread),
                        shared=shared)
        return ts

    async def press(self, user: str, team: str, action_id: str, value: str, channel: str,
                    thread: str) -> None:
        """A button pressed on a bot message in ``thread`` (a block_actions payload)."""
        payload = {
            "type": "block_actions", "team": {"id": team}, "api_app_id": "A0DESTEK",
            "token": "x", "is_enterprise_install": False,
            "user": {"id": user, "team_id": team, "username": user.lower()},
            "trigger_id": f"trig.{next(_ids)}", "channel": {"id": channel},
            "message": {"ts": f"{thread}1", "thread_ts": thread, "text": "q"},
            "container": {"type": "message", "message_ts": f"{thread}1",
                          "channel_id": channel, "thread_ts": thread},
            "actions": [{"action_id": action_id, "block_id": "b", "type": "button",
                         "value": value, "action_ts": str(time.time())}],
        }
        body = urlencode({"payload": json.dumps(payload)})
        resp = await self.http.post("/slack/events", content=body, headers={
            "content-type": "application/x-www-form-urlencoded", **sign(body)})
        await settle()
        assert resp.status_code == 200

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def dialog(self) -> DialogSession | None:
        with self.session() as s:
            return s.exec(select(DialogSession)).first()

    def posted(self, channel: str = ACME_CHANNEL) -> list[dict[str, Any]]:
        return [m for m in self.fake.messages if m["channel"] == channel]


@pytest.fixture
async def c(db_url: str, policy, tmp_path) -> AsyncIterator[Connect]:  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    with Session(engine) as s:
        seed(s, policy, NOW)
        directory.add_contact(s, "ACME", "Zeynep Kaya", trained=True, language="en",
                              identities={"slack": ZEYNEP}, workspaces={"slack": ACME_TEAM})
        directory.add_contact(s, "ACME", "Burak Şahin", trained=False, language="en",
                              identities={"slack": BURAK}, workspaces={"slack": ACME_TEAM})
        directory.add_contact(s, "GULFBANK", "Leyla Haddad", trained=True, language="en",
                              identities={"slack": LEYLA}, workspaces={"slack": GULF_TEAM})
        chats.map_chat(s, "ACME", "slack", ACME_CHANNEL)
        chats.map_chat(s, "GULFBANK", "slack", GULF_CHANNEL)
        s.commit()
    fake = await FakeSlackApi().start()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        DATABASE_URL=db_url, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.base_url, DESTEK_DATA_DIR=str(tmp_path / "data"),
        DESTEK_ENGINEERS_SLACK_CHANNEL="C0ENG",
    )
    clock = Clock(NOW)
    bot = SlackBot(settings, engine=engine, policy=policy, clock=clock)
    transport = httpx.ASGITransport(app=bot.asgi())
    async with httpx.AsyncClient(transport=transport, base_url="http://destek.test") as http:
        yield Connect(bot, fake, http, engine, clock)
    await bot.close()
    await fake.stop()
    engine.dispose()


ANSWERS = {
    "summary": "IVR plays no prompt to callers",
    "selfhelp": "continue",
    "version_text": "4.2",
    "environment": "production",
    "description": "Since 09:10 the voice bot plays no prompt; callers hear silence.",
    "steps": "Call the main IVR number.",
    "error_text": "TTS engine timeout",
    "attachments": "none",
    "attachments_missing_reason": "no logs yet",
    "production_down": "yes",
    "workaround_available": "no",
    "users_affected": "all",
    "severity": "S1",
    "remote_access": "yes",
    "remote_access_how": "VPN and RDP",
    "kind": "defect",
    "confirm": "confirm",
}


def _buttons(message: dict[str, Any]) -> Iterator[dict[str, Any]]:
    raw = message.get("blocks") or []
    for block in json.loads(raw) if isinstance(raw, str) else raw:
        if block["type"] == "actions":
            yield from block["elements"]


async def _report(c: Connect, root: str) -> Ticket:
    """Answer the dialog running in ``root``'s thread: typed answers, the product by its
    button; the ticket it opens."""
    for _ in range(40):
        row = c.dialog()
        if row is None:
            break
        assert (row.chat, row.thread) == (ACME_CHANNEL, root)
        if row.step == "product_id":
            [btn] = [b for b in _buttons(c.posted()[-1]) if b["text"]["text"] == "Voice Bot"]
            await c.press(ZEYNEP, ACME_TEAM, btn["action_id"], btn["value"], ACME_CHANNEL, root)
            continue
        await c.say(ZEYNEP, ACME_TEAM, ANSWERS[row.step], thread=root)
    with c.session() as s:
        t = s.exec(select(Ticket).order_by(col(Ticket.id).desc())).first()
    assert t is not None and t.summary.startswith("IVR")
    return t


# -- the customer's report in a thread --------------------------------------------------------


async def test_top_level_message_starts_the_dialog_in_its_thread(c: Connect) -> None:
    root = await c.say(ZEYNEP, ACME_TEAM, "Our IVR is silent")
    posted = c.posted()
    assert len(posted) == 2 and all(m["thread_ts"] == root for m in posted)
    assert "Zeynep Kaya" in posted[0]["text"]  # greeted by the name of her contact
    row = c.dialog()
    assert row is not None and (row.chat, row.thread, row.user_key) == (ACME_CHANNEL, root,
                                                                       ZEYNEP)
    assert c.fake.ephemerals == []
    ticket = await _report(c, root)
    assert (ticket.channel, ticket.channel_chat, ticket.channel_thread) == (
        "slack", ACME_CHANNEL, root)
    with c.session() as s:
        customer = s.get(Customer, ticket.customer_id)
    assert customer is not None and customer.code == "ACME"
    # every reply of the dialog was in that thread of that channel, none anywhere else public
    assert all(m["thread_ts"] == root for m in c.posted())
    assert any(f"#{ticket.id}" in m["text"] for m in c.posted())
    assert not [m for m in c.fake.messages if m["channel"] not in (ACME_CHANNEL, "C0ENG")]


async def test_follow_ups_and_engineers_replies_stay_in_the_thread(c: Connect, policy) -> None:  # type: ignore[no-untyped-def]
    root = await c.say(ZEYNEP, ACME_TEAM, "Our IVR is silent")
    ticket = await _report(c, root)
    before = len(c.posted())
    await c.say(ZEYNEP, ACME_TEAM, "It also drops calls now", thread=root)
    assert c.dialog() is None  # a follow-up on the ticket, not a new report
    [added] = c.posted()[before:]
    assert added["thread_ts"] == root and f"#{ticket.id}" in added["text"]
    with c.session() as s:
        said = [e.text for e in tickets.events(s, ticket.id or 0)]
    assert any("drops calls" in (text or "") for text in said)
    # an engineer's change reaches the customer in the ticket's thread (the outbox)
    from bot.channels.slack import SlackSender
    from bot.jobs.delivery import DeliveryWorker

    resp = await c.http.post("/slack/events", content=(body := urlencode({
        "token": "x", "team_id": "T0TEST", "channel_id": "C0ENG", "user_id": CAN,
        "command": "/destek", "text": f"ack {ticket.id}", "api_app_id": "A0DESTEK",
        "response_url": c.fake.response_url("r1")})), headers={
        "content-type": "application/x-www-form-urlencoded", **sign(body)})
    await settle()
    assert resp.status_code == 200
    sender = SlackSender("xoxb-test", c.fake.base_url)
    try:
        await DeliveryWorker(c.engine, {"slack": sender}, now=c.clock).drain()
    finally:
        await sender.close()
    told = [m for m in c.posted() if "Can Öztürk" in (m["text"] or "")]
    assert told and all(m["thread_ts"] == root for m in told)


async def test_a_mention_opens_a_report_once_and_runs_customer_verbs(c: Connect) -> None:
    root = await c.mention(ZEYNEP, ACME_TEAM, "")  # app_mention and message: one report
    posted = c.posted()
    assert len(posted) == 2 and all(m["thread_ts"] == root for m in posted)
    await c.say(ZEYNEP, ACME_TEAM, "cancel", thread=root)
    assert c.dialog() is None
    await c.mention(ZEYNEP, ACME_TEAM, "help")
    helped = c.posted()[-1]["text"]
    assert "<@UBOT> status N" in helped and "/destek" not in helped  # no slash command here


# -- refusals -----------------------------------------------------------------------------------


async def test_unknown_person_gets_one_ephemeral_refusal_a_day(c: Connect) -> None:
    await c.say(STRANGER, ACME_TEAM, "Hello, is anyone there?")
    [refusal] = c.fake.ephemerals
    assert refusal["channel"] == ACME_CHANNEL and refusal["user"] == STRANGER
    assert "do not know you" in refusal["text"]
    assert c.posted() == [] and c.dialog() is None  # nothing public, nothing stored
    await c.say(STRANGER, ACME_TEAM, "Hello again?")
    assert len(c.fake.ephemerals) == 1  # the same day: not again
    c.clock.skip(timedelta(days=1))
    root = await c.say(STRANGER, ACME_TEAM, "Still nobody?")
    assert len(c.fake.ephemerals) == 2 and c.fake.ephemerals[-1]["thread_ts"] == root
    assert c.posted() == []


async def test_untrained_contact_is_refused_privately(c: Connect) -> None:
    await c.say(BURAK, ACME_TEAM, "Our IVR is silent")
    [refusal] = c.fake.ephemerals
    assert refusal["user"] == BURAK and "trained" in refusal["text"]
    assert c.posted() == [] and c.dialog() is None


async def test_another_organisations_person_is_refused_in_acmes_channel(c: Connect) -> None:
    await c.say(LEYLA, GULF_TEAM, "We have an outage")  # GULF's contact in ACME's channel
    [refusal] = c.fake.ephemerals
    assert refusal["user"] == LEYLA and "another organisation" in refusal["text"]
    assert c.posted() == [] and c.dialog() is None
    # a GULF id typed under ACME's team is nobody: ids are per team
    await c.say(LEYLA, ACME_TEAM, "We have an outage", channel=GULF_CHANNEL)
    assert "do not know you" in c.fake.ephemerals[-1]["text"]
    # and in her own organisation's channel she is served there
    root = await c.say(LEYLA, GULF_TEAM, "We have an outage", channel=GULF_CHANNEL)
    assert c.posted(GULF_CHANNEL) and all(m["thread_ts"] == root
                                          for m in c.posted(GULF_CHANNEL))
    assert c.posted(ACME_CHANNEL) == []


async def test_a_button_pressed_by_someone_else_is_theirs_not_the_dialogs(c: Connect) -> None:
    root = await c.say(ZEYNEP, ACME_TEAM, "Our IVR is silent")
    for answer in ("IVR plays no prompt to callers", "continue"):
        await c.say(ZEYNEP, ACME_TEAM, answer, thread=root)
    row = c.dialog()
    assert row is not None and row.step == "kind"
    [btn, *_] = list(_buttons(c.posted()[-1]))
    await c.press(LEYLA, GULF_TEAM, btn["action_id"], btn["value"], ACME_CHANNEL, root)
    assert "another organisation" in c.fake.ephemerals[-1]["text"]
    again = c.dialog()
    assert again is not None and again.step == "kind"  # Zeynep's dialog untouched


async def test_staff_commands_are_not_run_in_a_customers_channel(c: Connect) -> None:
    await c.mention(CAN, "T0TEST", "list")  # would list every customer's tickets
    [refusal] = c.fake.ephemerals
    assert refusal["user"] == CAN and "shared with customer" in refusal["text"]
    assert c.posted() == []


# -- what is not ours -------------------------------------------------------------------------


async def test_unmapped_channels_bots_and_edits_are_ignored(c: Connect) -> None:
    await c.say(ZEYNEP, ACME_TEAM, "Our IVR is silent", channel=OTHER_CHANNEL)
    await c.say(ZEYNEP, ACME_TEAM, "a bot's post", bot_id="B0OTHER")
    await c.say(ZEYNEP, ACME_TEAM, "edited", subtype="message_changed")
    await c.say(ZEYNEP, ACME_TEAM, "joined", subtype="channel_join")
    await c.say(CAN, "T0TEST", "coffee anyone?", channel="C0ENG")  # top-level chatter
    await c.send({"type": "channel_shared", "connected_team_id": ACME_TEAM,
                  "channel": "C0NEW0001", "event_ts": "1.000001"})
    assert c.fake.messages == [] and c.fake.ephemerals == [] and c.dialog() is None


async def test_engineers_thread_replies_are_delivered_to_the_dispatch(c: Connect) -> None:
    await c.say(CAN, "T0TEST", "help", channel="C0ENG", thread="1764000000.000001")
    [answer] = c.fake.ephemerals  # the writer alone is answered, in the card's thread
    assert answer["channel"] == "C0ENG" and answer["user"] == CAN
    assert answer["thread_ts"] == "1764000000.000001"
    assert c.posted("C0ENG") == []
    # a mention there comes as app_mention and as message: it runs once, as before
    await c.mention(CAN, "T0TEST", "help", channel="C0ENG", thread="1764000000.000001")
    [ran] = c.posted("C0ENG")
    assert ran["thread_ts"] == "1764000000.000001" and len(c.fake.ephemerals) == 1




async def test_a_dialogs_reminder_goes_to_its_thread(c: Connect) -> None:
    from bot.channels.slack import SlackSender
    from bot.jobs.delivery import DeliveryWorker
    from handlers.intake import sweep_dialogs

    root = await c.say(ZEYNEP, ACME_TEAM, "Our IVR is silent")
    c.clock.skip(timedelta(minutes=45))
    with session_scope(c.engine, c.clock) as s:
        queued = sweep_dialogs(s, c.clock(), c.bot.cfg)
    assert [(channel, target) for channel, target, _ in queued] == [("slack", ACME_CHANNEL)]
    sender = SlackSender("xoxb-test", c.fake.base_url)
    try:
        await DeliveryWorker(c.engine, {"slack": sender}, now=c.clock).drain()
    finally:
        await sender.close()
    reminder = c.posted()[-1]
    assert reminder["thread_ts"] == root  # not a top-level post in the customer's channel
    assert len(c.posted()) == 3 and all(m["thread_ts"] == root for m in c.posted())
