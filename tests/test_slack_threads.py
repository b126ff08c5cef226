"""Engineers in a ticket's card thread on Slack, through the real Bolt app and the fake Web
API: a message there is an internal note, "reply ..." and the "Send to customer" message action
write to the customer, the card itself is never sent; text in and out is escaped once."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from storage import outbox, tickets
from storage.models import OutboxMessage

from .test_slack import AYSE, DENIZ, Harness, _ids, h, slack_ticket  # noqa: F401

CARD_TS = "1764000000.000100"


def card_in_thread(h: Harness, policy: Any) -> int:
    """A Slack ticket whose new-ticket card was delivered to C0ENG as message CARD_TS."""
    n = slack_ticket(h, policy)
    with h.session() as s:
        row = outbox.enqueue(s, f"ticket:{n}:opened:slack:C0ENG", "slack", "C0ENG", "card",
                             ticket_id=n)
        assert row is not None
        outbox.mark_sent(s, row.id or 0, row.next_attempt_at, CARD_TS)
        s.commit()
    return n


async def in_thread(h: Harness, user: str, text: str, ts: str | None = None) -> None:
    await h.event({"type": "message", "channel": "C0ENG", "channel_type": "channel",
                   "user": user, "text": text, "ts": ts or f"1764000100.{next(_ids):06d}",
                   "thread_ts": CARD_TS, "team": "T0TEST"})


def told_customer(h: Harness, n: int) -> list[OutboxMessage]:
    with h.session() as s:
        return [m for m in s.exec(select(OutboxMessage).where(OutboxMessage.ticket_id == n))
                if m.key.endswith(":customer")]


def events(h: Harness, n: int) -> list[tuple[str, str]]:
    with h.session() as s:
        return [(e.kind, e.text) for e in tickets.events(s, n)]


async def test_a_thread_message_is_a_note_and_reply_writes_to_the_customer(
        h: Harness, policy: Any) -> None:
    n = card_in_thread(h, policy)
    await in_thread(h, DENIZ, "Customer&#39;s VPN is flaky &amp; drops &lt;hourly&gt;")
    assert events(h, n)[-1][0] == "note"
    assert events(h, n)[-1][1] == "Customer&#39;s VPN is flaky & drops <hourly>"  # unescaped
    assert told_customer(h, n) == []
    ephemeral = h.fake.ephemerals[-1]
    assert ephemeral["user"] == DENIZ and ephemeral["thread_ts"] == CARD_TS
    await in_thread(h, DENIZ, "reply Fixed in 4.2.1 &amp; deployed")
    assert events(h, n)[-1] == ("reply", "Fixed in 4.2.1 & deployed")
    (msg,) = told_customer(h, n)
    assert msg.target == "D0ACME01" and msg.thread == "111.000001"
    assert "Fixed in 4.2.1 & deployed" in msg.text


async def test_send_to_customer_action_sends_a_thread_message_not_the_card(
        h: Harness, policy: Any) -> None:
    n = card_in_thread(h, policy)

    async def action(message: dict[str, Any], user: str = DENIZ) -> None:
        await h.interact({"type": "message_action", "callback_id": "send_to_customer",
                          "trigger_id": f"trig.{next(_ids)}", "user": {"id": user},
                          "channel": {"id": "C0ENG"}, "message_ts": message["ts"],
                          "message": {"type": "message", "user": DENIZ, **message}})

    await action({"ts": CARD_TS, "text": "the card"})  # the card: refused, nothing sent
    await action({"ts": "1764000200.000001", "thread_ts": CARD_TS,
                  "text": "We restarted the TTS service &lt;10:05&gt;."})
    (msg,) = told_customer(h, n)
    assert "We restarted the TTS service <10:05>." in msg.text and "Deniz" in msg.text
    assert events(h, n)[-1] == ("reply", "We restarted the TTS service <10:05>.")
    notes = [c["text"] for c in h.fake.ephemerals]
    assert any("kartında değil" in x for x in notes)  # why the card was not sent (Turkish)
    # A customer cannot use the action to write as staff.
    await action({"ts": "1764000300.000001", "thread_ts": CARD_TS, "text": "free stuff"},
                 user=AYSE)
    assert len(told_customer(h, n)) == 1


async def test_hostile_customer_text_is_inert_in_every_slack_reply(h: Harness) -> None:
    """What a customer typed and the bot says back (the dialog's summary, its questions) is
    escaped once: no mention, no channel ping, no disguised link."""
    await h.dm(AYSE, "merhaba")
    await h.dm(AYSE, "&lt;!channel&gt; voice bot silent &lt;https://evil|bank&gt; &amp; more")
    for m in h.fake.messages:
        body = m["text"] + str(m.get("blocks") or "")
        assert "<!channel>" not in body and "<https://evil" not in body
