"""The ticket as a conversation (handlers level, on SQLite and PostgreSQL): follow-ups on open
tickets, "which ticket?" with the message held, a P17 answer while a report is half done,
engineers' public replies and internal notes, staff messages in a ticket's thread."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlmodel import Session, col, select

from handlers.commands import execute_command
from handlers.dispatch import route
from handlers.follow_up import PICK_STEP
from handlers.types import Incoming, IncomingFile
from storage import outbox, tickets
from storage.db import session_scope
from storage.directory import find_contact
from storage.models import Attachment, DialogSession, HeldMessage, OutboxMessage, Ticket

from .test_intake_dialog import AYSE, BASE, DENIZ, OMAR, Driver, text_of, world  # noqa: F401


def report(world: Driver, user: str = AYSE, summary: str = BASE["summary"]) -> Ticket:
    """One report filed to the end (Ayşe writes Turkish: "onayla" confirms)."""
    world.send(user, command="new")
    world.fill(user, {**BASE, "summary": summary})
    world.send(user, "onayla" if user == AYSE else "confirm")
    return world.tickets()[-1]


def engineer(world: Driver, line: str) -> str:
    with session_scope(world.engine) as s:
        deniz = find_contact(s, "Deniz Yılmaz")
        return text_of(execute_command(s, world.cfg.policy, deniz, line,
                                       world.clock.advance(minutes=1), world.cfg.routing))


def rows(world: Driver, ticket: Ticket) -> list[OutboxMessage]:
    with Session(world.engine) as s:
        return list(s.exec(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id)
                           .order_by(col(OutboxMessage.id))))


def kinds(world: Driver, ticket: Ticket) -> list[tuple[str, str]]:
    with Session(world.engine) as s:
        return [(e.kind, e.text) for e in tickets.events(s, ticket.id or 0)]


def card_delivered(world: Driver, ticket: Ticket, channel: str, external_id: str) -> None:
    """The new-ticket card reached ``channel`` as message ``external_id`` (the worker's part)."""
    with session_scope(world.engine) as s:
        card = s.exec(select(OutboxMessage).where(
            OutboxMessage.ticket_id == ticket.id, OutboxMessage.channel == channel,
            col(OutboxMessage.key).contains(":opened:"))).one()
        outbox.mark_sent(s, card.id or 0, world.clock.now, external_id)


def test_a_follow_up_goes_to_the_one_open_ticket_and_its_card_thread(world: Driver) -> None:
    ticket = report(world)
    card_delivered(world, ticket, "slack", "1764000000.000100")
    replies = world.send(AYSE, "Şimdi bütün agent'lar düştü\nlog ekte",
                         files=(IncomingFile("agents.log", b"all down", "text/plain"),))
    assert f"#{ticket.id} numaralı kayda eklendi" in text_of(replies)
    assert "/new" in text_of(replies)  # how to report something else instead
    assert world.step(AYSE) is None  # no new report was started
    assert kinds(world, ticket)[-2:] == [("attachments", "1 file(s)"),
                                         ("follow-up", "Şimdi bütün agent'lar düştü\nlog ekte")]
    relayed = [m for m in rows(world, ticket) if "bütün agent" in m.text]
    # Each engineers' channel; on Slack in the card's thread (Telegram's card was not sent yet).
    assert {(m.channel, m.thread) for m in relayed} == {("slack", "1764000000.000100"),
                                                        ("telegram", None)}
    assert all("Ayşe Demir wrote on the ticket" in m.text and "log ekte" in m.text
               for m in relayed)  # the customer's line breaks are kept
    with Session(world.engine) as s:
        assert len(s.exec(select(Attachment).where(Attachment.ticket_id == ticket.id)).all()) == 2


def test_a_follow_up_to_an_assigned_ticket_goes_to_the_assignee(world: Driver) -> None:
    # Direct messages may go over Slack and Telegram (Deniz has both: Slack comes first).
    world.cfg = replace(world.cfg, routing=replace(world.cfg.routing,
                                                   channels=("slack", "telegram")))
    ticket = report(world)
    engineer(world, f"ack {ticket.id}")  # Deniz takes it
    world.send(AYSE, "Sorun devam ediyor")
    relayed = [m for m in rows(world, ticket) if "Sorun devam ediyor" in m.text]
    # Deniz's own message, in Turkish (his language), on a channel he can be reached on.
    assert len(relayed) == 1 and "kayda yazdı" in relayed[0].text
    assert (relayed[0].channel, relayed[0].target, relayed[0].thread) == ("slack", "U0ENG001",
                                                                          None)


def test_several_open_tickets_ask_which_and_keep_the_message(world: Driver) -> None:
    first = report(world, summary="Voice bot answers calls with silence")
    second = report(world, summary="Chatbot widget shows a blank page")
    before = len(kinds(world, first)), len(kinds(world, second))
    replies = world.send(AYSE, "Yeni log dosyası ekte",
                         files=(IncomingFile("new.log", b"trace", "text/plain"),))
    ask = replies[-1]
    assert ask.meta["step"] == PICK_STEP and "hangi kayıtla" in ask.text
    assert [c.label.split()[0] for c in ask.choices[:2]] == [f"#{second.id}", f"#{first.id}"]
    assert ask.choices[-1].label == "Yeni bir bildirim"
    # Nothing is on either ticket yet, nothing is told; more text joins the held message.
    assert (len(kinds(world, first)), len(kinds(world, second))) == before
    world.send(AYSE, "ve ekran görüntüsü yok")
    with Session(world.engine) as s:
        held = s.exec(select(HeldMessage)).one()
        assert held.text == "Yeni log dosyası ekte\nve ekran görüntüsü yok"
    # The pick (a button press; a typed "2" would pick the same) puts it on that ticket.
    replies = world.send(AYSE, f"ticket:{first.id}", button_step=PICK_STEP)
    assert f"#{first.id} numaralı kayda eklendi" in text_of(replies)
    held_text = "Yeni log dosyası ekte\nve ekran görüntüsü yok"
    assert kinds(world, first)[-2:] == [("attachments", "1 file(s)"), ("follow-up", held_text)]
    assert len(kinds(world, second)) == before[1]
    with Session(world.engine) as s:
        assert s.exec(select(HeldMessage)).first() is None
        names = {a.filename for a in s.exec(select(Attachment).where(
            Attachment.ticket_id == first.id))}
        assert "new.log" in names
    # A stale pick button afterwards changes nothing.
    assert "kalmadı" in text_of(world.send(AYSE, f"ticket:{second.id}", button_step=PICK_STEP))


def test_a_held_message_can_begin_a_new_report(world: Driver) -> None:
    report(world)
    report(world, summary="Chatbot widget shows a blank page")
    world.send(AYSE, "Speech analytics dashboards are empty since the upgrade")
    replies = world.send(AYSE, "3")  # the third choice: a new report
    assert "Merhaba Ayşe Demir" in replies[0].text
    with Session(world.engine) as s:
        row = s.exec(select(DialogSession)).one()
        assert '"summary": "Speech analytics dashboards are empty since the upgrade"' in row.data
        assert row.step != "summary"


def test_a_pending_question_answered_while_a_report_is_half_done(world: Driver) -> None:
    ticket = report(world)
    world.send(AYSE, command="new")
    world.send(AYSE, "Chatbot widget shows a blank page")  # the new report's summary
    step = world.step(AYSE)
    world.clock.advance(minutes=5)
    engineer(world, f"pending {ticket.id} the TTS logs")
    replies = world.send(AYSE, "TTS logları ekte değil, servis 09:10'da yeniden başladı")
    ask = replies[-1]
    assert ask.meta["step"] == PICK_STEP
    assert [c.value for c in ask.choices] == [f"ticket:{ticket.id}", "dialog"]
    replies = world.send(AYSE, "1")
    assert "süreler yeniden işliyor" in text_of(replies) or "yanıtınız" in text_of(replies)
    with Session(world.engine) as s:
        t = s.get(Ticket, ticket.id)
        assert t is not None and t.status == "open" and tickets.open_pause(s, t.id or 0) is None
    assert kinds(world, ticket)[-2][0] == "customer-reply"
    assert world.step(AYSE) == step  # the report in progress stays where it was
    # The report goes on: the next answer is the dialog's (nothing waits any more).
    world.send(AYSE, "continue")
    assert world.step(AYSE) != step


def test_a_reply_to_our_message_about_a_ticket_is_on_that_ticket(world: Driver) -> None:
    """Telegram's "reply" to the bot's message (or a Slack thread) says which ticket: no
    question asked, even with a report half done."""
    ticket = report(world)
    report(world, summary="Chatbot widget shows a blank page")
    engineer(world, f"pending {ticket.id} the TTS logs")
    question = next(m for m in rows(world, ticket) if m.key.endswith(":customer")
                    and "TTS logs" in m.text)
    with session_scope(world.engine) as s:
        outbox.mark_sent(s, question.id or 0, world.clock.now, "777")
    world.send(AYSE, command="new")
    step = world.step(AYSE)
    world.send(AYSE, "Loglar FTP'de", thread="777")
    with Session(world.engine) as s:
        t = s.get(Ticket, ticket.id)
        assert t is not None and t.status == "open"
    assert kinds(world, ticket)[-2] == ("customer-reply", "Loglar FTP'de")
    assert world.step(AYSE) == step


def _reply_to_confirmation(world: Driver, ticket: Ticket, message_id: str) -> None:
    """The ticket's "#N is open" message reached the customer as ``message_id``."""
    with session_scope(world.engine) as s:
        row = s.exec(select(OutboxMessage).where(
            OutboxMessage.key == f"ticket:{ticket.id}:confirmation")).one()
        outbox.mark_sent(s, row.id or 0, world.clock.now, message_id)


def test_a_reply_on_a_merged_ticket_goes_on_in_the_ticket_it_was_merged_into(
        world: Driver) -> None:
    first = report(world)
    second = report(world, summary="Voice bot is silent again on every call")
    _reply_to_confirmation(world, second, "888")
    assert f"#{second.id}" in engineer(world, f"merge {second.id} into {first.id}")
    replies = world.send(AYSE, "Şimdi de hat tamamen düştü", thread="888")
    assert f"#{first.id}" in text_of(replies)
    assert ("follow-up", "Şimdi de hat tamamen düştü") in kinds(world, first)
    assert not any(text == "Şimdi de hat tamamen düştü" for _, text in kinds(world, second)[-3:])


def test_a_reply_on_a_closed_ticket_is_not_added_to_it(world: Driver) -> None:
    closed = report(world)
    _reply_to_confirmation(world, closed, "889")
    engineer(world, f"resolve {closed.id} Servis yeniden başlatıldı")
    engineer(world, f"close {closed.id}")
    before = kinds(world, closed)
    replies = world.send(AYSE, "Yeni bir sorun: kayıtlar silinmiş", thread="889")
    assert f"#{closed.id} numaralı kayıt kapatıldı" in replies[0].text
    assert world.step(AYSE) == "summary"  # read as untied: no open ticket, a new report
    assert kinds(world, closed) == before
    other = report(world, summary="Raporlar gecikiyor her sabah")
    world.send(AYSE, "Bir not daha", thread="889")  # with one open ticket: that one's
    assert ("follow-up", "Bir not daha") in kinds(world, other)


def test_an_engineers_reply_reaches_the_customer_and_a_note_does_not(world: Driver) -> None:
    ticket = report(world)
    out = engineer(world, f"reply {ticket.id} Merhaba Ayşe Hanım,\nservis yeniden başlatıldı.")
    assert "müşteriye gönderildi" in out
    engineer(world, f"note {ticket.id} müşteri VPN'i kapalı tutuyor")
    told = [m for m in rows(world, ticket) if m.key.endswith(":customer")]
    reply = told[-1]
    assert reply.channel == "telegram" and reply.target == AYSE
    assert "Deniz Yılmaz" in reply.text
    assert "Merhaba Ayşe Hanım,\nservis yeniden başlatıldı." in reply.text  # lines kept
    assert not any("VPN'i kapalı" in m.text for m in rows(world, ticket))
    assert [k for k, _ in kinds(world, ticket)][-2:] == ["reply", "note"]
    # The audit event is written before the message that tells of it.
    with Session(world.engine) as s:
        ev = [e for e in tickets.events(s, ticket.id or 0) if e.kind == "reply"][0]
        assert reply.key == f"ticket:{ticket.id}:event:{ev.id}:customer"
    assert "usage" in engineer(world, f"reply {ticket.id}").lower() or "reply N" in engineer(
        world, f"reply {ticket.id}")


def test_staff_in_a_tickets_thread_write_notes_unless_they_say_reply(world: Driver) -> None:
    ticket = report(world)
    card_delivered(world, ticket, "telegram", "555")
    before = len([m for m in rows(world, ticket) if m.key.endswith(":customer")])

    def in_thread(user: str, text: str, **kw: Any) -> str:
        with session_scope(world.engine) as s:
            return text_of(route(s, world.cfg, Incoming("telegram", user, "-42", text=text,
                                                        thread="555", **kw), world.clock.now))

    assert "iç not" in in_thread(DENIZ, "ack ederken dikkat: müşteri VPN'i kapalı")
    assert kinds(world, ticket)[-1] == ("note", "ack ederken dikkat: müşteri VPN'i kapalı")
    assert len([m for m in rows(world, ticket) if m.key.endswith(":customer")]) == before
    assert "müşteriye gönderildi" in in_thread(
        DENIZ, "reply Yama hazır, bu akşam kuruyoruz.",
        files=(IncomingFile("patch-notes.txt", b"notes", "text/plain"),))
    told = [m for m in rows(world, ticket) if m.key.endswith(":customer")][before:]
    assert "Yama hazır" in told[0].text
    files = [m for m in rows(world, ticket) if ":file:" in m.key]
    assert len(files) == 1 and '"filename": "patch-notes.txt"' in (files[0].payload or "")
    assert kinds(world, ticket)[-1][0] == "reply"
    # Someone of another organisation cannot write on ACME's ticket from a thread.
    n = len(kinds(world, ticket))
    in_thread(OMAR, "hello?")
    assert len(kinds(world, ticket)) == n


def test_a_follow_up_is_kept_over_a_restart_of_the_pick(world: Driver) -> None:
    """The held message is in the database: a new process (a new session) picks it up."""
    first = report(world)
    report(world, summary="Chatbot widget shows a blank page")
    world.send(AYSE, "Bir şey daha")
    world.clock.advance(hours=1)
    world.send(AYSE, "2")
    assert kinds(world, first)[-1] == ("follow-up", "Bir şey daha")


def test_status_reads_the_latest_of_a_long_conversation(world: Driver) -> None:
    """Chat shows the last entries and says how many came before; the whole conversation is
    read only by ``ticket show`` and the dashboard (a ticket may carry hundreds of notes)."""
    ticket = report(world)
    for i in range(20):
        engineer(world, f"note {ticket.id} not {i:02d}")
    out = engineer(world, f"status {ticket.id}")
    assert "not 19" in out and "not 12" in out and "not 11" not in out
    assert "daha önceki 12 kayıt gösterilmedi" in out  # Deniz reads Turkish


def test_a_100_kb_paste_is_kept_whole_and_relayed_clipped(world: Driver) -> None:
    ticket = report(world)
    paste = "\n".join(f"{i:05d} ERROR tts-engine timeout after 3000 ms" for i in range(2600))
    assert len(paste) > 100_000
    replies = world.send(AYSE, paste)
    assert len(text_of(replies)) < 1000  # the customer is not shown their paste back
    assert kinds(world, ticket)[-1] == ("follow-up", paste)  # the ticket keeps all of it
    relayed = [m for m in rows(world, ticket) if "00000 ERROR" in m.text]
    assert relayed and all(len(m.text) < 1700 and m.text.endswith("…") for m in relayed)


async def test_the_customer_learns_the_ticket_opened_even_if_the_adapter_died(
        world: Driver) -> None:
    """#17 item 18: the confirmation is also queued, delayed; an adapter that answered settles
    it, one that died before answering leaves it to the worker: sent once, after the grace."""
    from bot.channels.telegram import TelegramSender
    from bot.jobs.delivery import DeliveryWorker

    from .fakes.telegram_server import FakeTelegram

    ticket = report(world)  # the handlers' reply was never posted: the adapter "died"
    fake = await FakeTelegram().start()
    try:
        worker = DeliveryWorker(world.engine, {
            "telegram": TelegramSender(fake.token, fake.base_url)}, now=world.clock)
        await worker.run_once()
        mine = [c for c in fake.sent(chat_id=int(AYSE)) if "kayıt açıldı" in c.params["text"]]
        assert mine == []  # within the grace: the adapter may still answer
        world.clock.advance(minutes=3)
        await worker.run_once()
        await worker.run_once()
        mine = [c for c in fake.sent(chat_id=int(AYSE)) if "kayıt açıldı" in c.params["text"]]
        assert len(mine) == 1 and f"#{ticket.id}" in mine[0].params["text"]
        await worker.stop()
    finally:
        await fake.stop()
