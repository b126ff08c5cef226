"""The intake dialog engine (handlers level), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.demo import seed
from handlers import dialog
from handlers.dispatch import route
from handlers.identity import Identity, Refusal, identify
from handlers.intake import (
    IntakeConfig,
    open_from_answers,
    sweep_dialogs,
    validate_answers,
)
from handlers.types import Destination, Incoming, IncomingFile, Reply, Routing
from sla import Policy
from storage import tickets
from storage.db import session_scope
from storage.models import (
    Attachment,
    Deflection,
    DialogSession,
    KnownError,
    OutboxMessage,
    Ticket,
    TicketEvent,
    TicketPause,
)

AYSE, MEHMET, OMAR, JANE, TOM, DENIZ = "1001", "1002", "2001", "3001", "4001", "9001"
PNG = b"\x89PNG\r\n\x1a\n" + b"x" * 500


@pytest.fixture
def world(engine: Engine, policy: Policy, clock: Any, tmp_path: Path) -> Iterator[Driver]:
    with session_scope(engine) as s:
        seed(s, policy, clock.now)
    cfg = IntakeConfig(
        policy=policy, attachments_dir=tmp_path / "att", max_attachment_bytes=4096,
        allowed_types=frozenset({"image/png", "image/jpeg", "text/plain"}),
        routing=Routing(engineers=(Destination("slack", "C0ENG"), Destination("telegram", "-42"))),
    )
    yield Driver(engine, cfg, clock)


class Driver:
    def __init__(self, engine: Engine, cfg: IntakeConfig, clock: Any) -> None:
        self.engine, self.cfg, self.clock = engine, cfg, clock

    def send(self, user: str, text: str | None = None, **kw: Any) -> list[Reply]:
        with session_scope(self.engine) as s:
            return route(s, self.cfg, Incoming("telegram", user, user, text=text, **kw),
                          self.clock.now)

    def step(self, user: str) -> str | None:
        with Session(self.engine) as s:
            row = s.exec(select(DialogSession).where(DialogSession.user_key == user)).first()
            return row.step if row else None

    def fill(self, user: str, answers: dict[str, Any], stop: str = dialog.CONFIRM,
             asked: list[str] | None = None) -> list[Reply]:
        """Answer each question from ``answers`` (by field key) until ``stop``; ``asked``
        collects the steps, in order."""
        replies: list[Reply] = []
        for _ in range(40):
            step = self.step(user)
            if step is None or step == stop:
                return replies
            if asked is not None:
                asked.append(step)
            value = answers[step]
            if isinstance(value, IncomingFile):
                replies = self.send(user, files=(value,))
                replies = self.send(user, "done")
            else:
                replies = self.send(user, value)
        raise AssertionError(f"dialog stuck at {self.step(user)}: {replies[-1].text}")

    def tickets(self) -> list[Ticket]:
        with Session(self.engine) as s:
            return list(s.exec(select(Ticket).order_by(Ticket.id)))  # type: ignore[arg-type]


def text_of(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


BASE = {
    "summary": "Voice bot answers calls with silence",
    "selfhelp": "continue",
    "product_id": "Voice Bot",
    "version_text": "4.2",
    "environment": "production",
    "description": "Since 09:10 callers hear silence instead of the greeting prompt.",
    "steps": "Call the main IVR number and wait.",
    "error_text": "TTS engine timeout after 3000 ms",
    "attachments": IncomingFile("screen.png", PNG, "image/png"),
    "production_down": "yes",
    "workaround_available": "no",
    "users_affected": "all",
    "severity": "S1",
    "remote_access": "yes",
    "remote_access_how": "VPN and RDP, credentials in the vault",
    "kind": "defect",
}


def test_refusals_are_polite_and_store_nothing(world: Driver) -> None:
    for user, reason, phrase in [
        ("5555", "unknown", "do not know you"),
        (MEHMET, "untrained", "eğitim almış"),
        (TOM, "no_contract", "no active maintenance and support contract"),
        (DENIZ, "not_customer", "firma personeli"),
    ]:
        replies = world.send(user, command="start")
        assert len(replies) == 1 and replies[0].meta["refused"] == reason
        assert phrase in replies[0].text
        world.send(user, "Voice bot is silent on every call")
    with Session(world.engine) as s:
        assert list(s.exec(select(DialogSession))) == []
        assert identify(s, "console", "999999", world.clock.now).reason == "unknown"  # type: ignore[union-attr]
        assert isinstance(identify(s, "telegram", AYSE, world.clock.now), Identity)


def test_full_report_opens_a_ticket_with_local_due_times(world: Driver) -> None:
    replies = world.send(AYSE, command="start")
    assert "Merhaba Ayşe Demir" in replies[0].text
    assert replies[-1].meta["step"] == "summary"
    world.fill(AYSE, BASE)
    confirm = world.send(AYSE, "edit")
    assert confirm[-1].meta["step"] == dialog.EDIT_PICK
    world.send(AYSE, "back")
    replies = world.send(AYSE, "onayla")
    out = text_of(replies)
    assert "kayıt açıldı" in out and "Premium" in out and "Kademe 1" in out
    assert "2026-11-25 12:30 (Europe/Istanbul)" in out  # 30m 24x7 from 12:00 local
    t = world.tickets()[-1]
    assert (t.severity, t.proposed_severity, t.kind, t.plan) == ("S1", "S1", "defect", "premium")
    assert t.reported_at == world.clock.now and t.channel == "telegram"
    assert t.summary == BASE["summary"] and t.error_text == BASE["error_text"]
    assert t.production_down is True and t.workaround_available is False
    assert t.remote_access and t.remote_access_how
    with Session(world.engine) as s:
        atts = list(s.exec(select(Attachment).where(Attachment.ticket_id == t.id)))
        assert len(atts) == 1 and Path(atts[0].path).read_bytes() == PNG
        assert atts[0].sha256 in atts[0].path
        kinds = [e.kind for e in s.exec(select(TicketEvent).where(TicketEvent.ticket_id == t.id))]
        assert kinds[0] == "opened" and "attachments" in kinds
        keys = sorted(m.key for m in s.exec(select(OutboxMessage)))
        assert keys == [f"ticket:{t.id}:confirmation", f"ticket:{t.id}:opened:slack:C0ENG",
                        f"ticket:{t.id}:opened:telegram:-42"]
        # The confirmation's safety copy waits for the adapter to settle it (3 minutes).
        safety = s.exec(select(OutboxMessage).where(
            OutboxMessage.key == f"ticket:{t.id}:confirmation")).one()
        assert safety.status == "pending" and safety.next_attempt_at == t.reported_at + \
            timedelta(minutes=3) and "kayıt açıldı" in safety.text
        assert list(s.exec(select(DialogSession))) == []


def test_end_of_support_version_is_said_and_recorded(world: Driver) -> None:
    world.send(AYSE, command="new")
    world.fill(AYSE, BASE, stop="version_text")
    replies = world.send(AYSE, "3.1")  # released 2020-02-10: support ended 2025-02-10
    assert "2025-02-10" in replies[0].text and "destek süresi" in replies[0].text
    world.fill(AYSE, BASE)
    world.send(AYSE, "confirm")
    assert world.tickets()[-1].version_past_eos is True


def _walk(world: Driver, user: str, answers: dict[str, Any]) -> list[str]:
    """Answer until the confirmation; the steps asked, in order."""
    asked: list[str] = []
    world.fill(user, answers, asked=asked)
    return asked


def test_service_request_is_asked_early_and_skips_the_fault_questions(world: Driver) -> None:
    world.send(OMAR, command="start")
    world.fill(OMAR, BASE, stop="kind")
    replies = world.send(OMAR, "4")  # the fourth kind: an additional service (P10/P11)
    assert "billed separately" in text_of(replies)  # told before any other question
    assert replies[-1].meta["step"] == "service_category"
    world.send(OMAR, "Redis outage or maintenance")
    answers = {**BASE, "product_id": "Call Recorder", "version_text": "5.5"}
    assert _walk(world, OMAR, answers) == ["product_id", "version_text", "environment",
                                           "description", "remote_access", "remote_access_how"]
    replies = world.send(OMAR, "confirm")
    assert "billed separately" in text_of(replies) and "due" not in text_of(replies)
    t = world.tickets()[-1]
    assert t.kind == "service_request" and t.service_category == "Redis outage or maintenance"
    assert (t.severity, t.steps, t.error_text, t.production_down) == ("S4", None, None, None)
    assert t.response_due is None and t.resolution_due is None
    with Session(world.engine) as s:
        assert tickets.clock_states(s, world.cfg.policy, t, world.clock.now) == []


def test_a_service_request_changed_to_a_defect_asks_the_fault_questions(world: Driver) -> None:
    world.send(OMAR, command="start")
    world.fill(OMAR, {**BASE, "kind": "service_request",
                      "service_category": "Redis outage or maintenance",
                      "product_id": "Call Recorder", "version_text": "5.5"})
    world.send(OMAR, "edit")
    world.send(OMAR, "kind")
    answers = {**BASE, "product_id": "Call Recorder", "version_text": "5.5",
               "severity": "S2", "severity_reason": "Every agent of the call centre waits."}
    asked = _walk(world, OMAR, answers)
    assert asked[0] == "kind" and "service_category" not in asked
    assert {"steps", "error_text", "attachments", "production_down", "severity"} <= set(asked)
    world.send(OMAR, "confirm")
    t = world.tickets()[-1]
    assert (t.kind, t.service_category, t.severity) == ("defect", None, "S2")
    assert t.steps == BASE["steps"]


def test_standard_plan_out_of_hours_says_when_the_clock_starts(world: Driver) -> None:
    # 09:00 UTC is 03:00 in Chicago: Northwind (Standard) is closed.
    replies = world.send(JANE, command="start")
    assert "next opening, 2026-11-25 08:00 (America/Chicago)" in replies[0].text
    world.send(JANE, "cancel")
    world.clock.set(datetime(2026, 11, 25, 15, 0, tzinfo=UTC))  # 09:00 in Chicago
    replies = world.send(JANE, command="start")
    assert "next opening" not in text_of(replies)
    # Premium is not told: its S1 clocks run around the clock.
    assert "next opening" not in text_of(world.send(AYSE, command="start"))


@pytest.mark.parametrize(("down", "workaround", "users", "env", "expected"), [
    (True, False, "all", "production", "S1"),
    (True, True, "all", "production", "S2"),
    (False, False, "many", "production", "S2"),
    (False, False, "one", "production", "S3"),
    (False, True, "all", "production", "S3"),
    (False, True, "one", "production", "S4"),
    (True, False, "all", "test", "S3"),
])
def test_severity_proposal(down: bool, workaround: bool, users: str, env: str,
                           expected: str) -> None:
    answers = {"production_down": down, "workaround_available": workaround,
               "users_affected": users, "environment": env}
    assert dialog.propose_severity(answers) == expected


def test_severity_override_needs_a_reason(world: Driver) -> None:
    world.send(OMAR, command="start")
    answers = {**BASE, "product_id": "Speech Analytics", "version_text": "7.0",
               "production_down": "no", "workaround_available": "no", "users_affected": "12"}
    world.fill(OMAR, answers, stop="severity")
    with Session(world.engine) as s:
        row = s.exec(select(DialogSession)).one()
    assert '"users_affected": "many"' in row.data
    replies = world.send(OMAR, command="start")  # re-shows the question
    assert "propose severity S2" in replies[-1].text
    assert replies[-1].meta["proposed"] == "S2"
    assert [c.value for c in replies[-1].choices] == ["S1", "S2", "S3", "S4"]
    replies = world.send(OMAR, "S1")
    assert "You chose S1 instead of S2" in replies[-1].text
    replies = world.send(OMAR, "short")
    assert "at least 10 characters" in replies[0].text
    world.send(OMAR, "Our regulator audit starts tomorrow morning.")
    world.fill(OMAR, answers)
    world.send(OMAR, "confirm")
    t = world.tickets()[-1]
    assert (t.severity, t.proposed_severity) == ("S1", "S2")
    assert t.severity_reason == "Our regulator audit starts tomorrow morning."


def test_remote_access_not_yet_opens_the_ticket_paused(world: Driver) -> None:
    world.send(AYSE, command="start")
    world.fill(AYSE, {**BASE, "remote_access": "hayır"})
    replies = world.send(AYSE, "onayla")
    assert "uzaktan erişim bekleniyor" in text_of(replies)
    t = world.tickets()[-1]
    assert t.status == "pending" and not t.remote_access and t.response_due is None
    with Session(world.engine) as s:
        pause = s.exec(select(TicketPause).where(TicketPause.ticket_id == t.id)).one()
        assert pause.kind == "remote-access" and pause.ended_at is None
    # The customer says access is given: the clock runs again from then on.
    world.clock.advance(hours=2)
    replies = world.send(AYSE, command="access", args=(str(t.id), "AnyDesk", "via", "VPN"))
    assert "süreler yeniden işliyor" in replies[0].text
    assert "süreler" not in world.send(OMAR, command="access", args=(str(t.id),))[0].text
    t = world.tickets()[-1]
    assert t.status == "open" and t.remote_access_how == "AnyDesk via VPN"
    assert t.response_due is not None and t.response_due > world.clock.now
    with Session(world.engine) as s:
        pause = s.exec(select(TicketPause).where(TicketPause.ticket_id == t.id)).one()
        assert pause.ended_at == world.clock.now
    assert "beklemiyor" in world.send(AYSE, command="access", args=(str(t.id),))[0].text


def test_remote_access_pause_ends_only_with_the_access_details(world: Driver) -> None:
    """P13, one rule on every channel: a message does not end the pause; `access N` asks how
    to connect and the next message is the answer; then remote access is set."""
    world.send(AYSE, command="start")
    world.fill(AYSE, {**BASE, "remote_access": "hayır"})
    world.send(AYSE, "onayla")
    t = world.tickets()[-1]
    world.clock.advance(minutes=30)
    # A message on the paused ticket (on Slack: in its thread) is added, not taken as access.
    with session_scope(world.engine) as s:
        from handlers import conversation
        from handlers.identity import identify as who_is

        who = who_is(s, "telegram", AYSE, world.clock.now)
        assert isinstance(who, Identity)
        replies = conversation.on_ticket(s, world.cfg, who, s.get(Ticket, t.id),  # type: ignore[arg-type]
                                         Incoming("telegram", AYSE, AYSE, text="merhaba?"),
                                         "tr", world.clock.now)
    assert "hâlâ uzaktan erişim bekliyor" in text_of(replies)
    t = world.tickets()[-1]
    assert t.status == "pending" and not t.remote_access
    # `access N` without the details: the bot asks, the next message answers.
    asked = world.send(AYSE, command="access", args=(str(t.id),))
    assert "nasıl bağlanacağız" in text_of(asked)
    assert world.tickets()[-1].status == "pending"
    world.clock.advance(minutes=5)
    replies = world.send(AYSE, "AnyDesk 123 456 789, şifre kasada")
    assert "süreler yeniden işliyor" in text_of(replies)
    t = world.tickets()[-1]
    assert t.status == "open" and t.remote_access
    assert t.remote_access_how == "AnyDesk 123 456 789, şifre kasada"
    with Session(world.engine) as s:
        kinds = [e.kind for e in tickets.events(s, t.id or 0)]
        assert kinds[-4:] == ["follow-up", "access-asked", "remote-access", "resumed"]
    assert world.step(AYSE) is None  # the answer opened no new report


def test_self_help_solved_is_a_deflection_without_ticket(world: Driver) -> None:
    with session_scope(world.engine) as s:
        s.add(KnownError(id="KE-T001", title="Recorder archive quota exhausted",
                         symptoms="archive quota exhausted recordings missing", workaround="Purge"))
    before = len(world.tickets())
    world.send(OMAR, command="start")
    replies = world.send(OMAR, "Recordings missing, archive quota exhausted")
    assert replies[-1].meta["step"] == "selfhelp" and "KE-T001" in replies[-1].text
    replies = world.send(OMAR, "1")
    assert "no ticket" in replies[0].text
    assert len(world.tickets()) == before
    with Session(world.engine) as s:
        d = s.exec(select(Deflection)).one()
        assert "KE-T001" in d.kb_ids and d.query.startswith("Recordings missing")
        assert list(s.exec(select(DialogSession))) == []


def test_back_edit_cancel_and_invalid_answers(world: Driver) -> None:
    world.send(JANE, command="start")
    world.fill(JANE, BASE, stop="environment")
    replies = world.send(JANE, "staging")
    assert "Please pick one of: Production, Test" in replies[0].text
    assert replies[-1].meta["step"] == "environment"
    replies = world.send(JANE, "back")
    assert replies[-1].meta["step"] == "version_text"
    replies = world.send(JANE, "back")
    assert replies[-1].meta["step"] == "product_id"
    replies = world.send(JANE, "back")
    assert replies[-1].meta["step"] == "kind"
    replies = world.send(JANE, "back")
    assert replies[0].text == "This is the first question." or \
        replies[-1].meta["step"] in ("selfhelp", "summary")
    world.fill(JANE, BASE, stop="description")
    replies = world.send(JANE, "edit summary")
    assert replies[-1].meta["step"] == "summary"
    world.send(JANE, "Voice bot silent on the claims line")
    assert world.step(JANE) in ("selfhelp", "description")
    replies = world.send(JANE, "edit nonsense")
    assert "cannot edit" in replies[0].text
    replies = world.send(JANE, "1", button_step="severity")  # a stale button
    assert "earlier question" in replies[0].text
    world.send(JANE, "back")
    assert world.step(JANE) is not None
    assert "Cancelled" in world.send(JANE, "cancel")[0].text
    assert world.step(JANE) is None and world.tickets()[-1].contact_id != 0


def test_attachment_limits_and_types(world: Driver) -> None:
    world.send(AYSE, command="start")
    world.fill(AYSE, BASE, stop="attachments")
    replies = world.send(AYSE, files=(IncomingFile("big.png", b"x" * 5000, "image/png"),))
    assert "sınır" in replies[0].text
    replies = world.send(AYSE, files=(IncomingFile("tool.exe", b"MZ" * 10, None),))
    assert "kabul edemediğim" in replies[0].text
    replies = world.send(AYSE, files=(IncomingFile("trace.log", b"line\n" * 10, "text/plain"),))
    assert "trace.log alındı" in replies[0].text
    with Session(world.engine) as s:
        rows = list(s.exec(select(Attachment)))
        assert [a.filename for a in rows] == ["trace.log"] and rows[0].dialog_id is not None
    # A cap on files per report (DESTEK_MAX_ATTACHMENTS, 10 by default).
    many = tuple(IncomingFile(f"part{i}.log", f"line {i}\n".encode(), "text/plain")
                 for i in range(world.cfg.max_attachments))
    replies = world.send(AYSE, files=many)
    assert sum(r.text.startswith("part") and "alındı" in r.text for r in replies) == \
        world.cfg.max_attachments - 1
    assert any("en fazla 10 dosya" in r.text for r in replies)
    with Session(world.engine) as s:
        assert len(list(s.exec(select(Attachment)))) == world.cfg.max_attachments
    world.send(AYSE, "iptal")  # the dialog's files go with it
    with Session(world.engine) as s:
        assert list(s.exec(select(Attachment))) == []
    assert not Path(rows[0].path).exists()


def test_sweep_reminds_once_then_expires(world: Driver) -> None:
    world.send(AYSE, command="start")
    world.send(AYSE, "Voice bot answers calls with silence")
    world.send(AYSE, files=(IncomingFile("a.png", PNG, "image/png"),))
    remind, expire = timedelta(minutes=30), timedelta(hours=24)
    with session_scope(world.engine) as s:
        assert sweep_dialogs(s, world.clock.advance(minutes=10), world.cfg) == []
    with session_scope(world.engine) as s:
        out = sweep_dialogs(s, world.clock.advance(minutes=25), world.cfg)
    assert [(c, target) for c, target, _ in out] == [("telegram", AYSE)]
    assert "tamamlanmadı" in out[0][2].text
    with session_scope(world.engine) as s:
        assert sweep_dialogs(s, world.clock.advance(minutes=30), remind_after=remind,
                             expire_after=expire) == []
    with session_scope(world.engine) as s:
        out = sweep_dialogs(s, world.clock.advance(hours=24), world.cfg)
    assert "süresi doldu" in out[0][2].text
    with Session(world.engine) as s:
        assert list(s.exec(select(DialogSession))) == []
        assert list(s.exec(select(Attachment))) == []
        # Both went out through the outbox, to the chat the dialog was in, once each.
        sent = [(m.channel, m.target, m.text) for m in s.exec(
            select(OutboxMessage).where(col(OutboxMessage.key).startswith("dialog:"))
            .order_by(col(OutboxMessage.id)))]
        assert [(c, tg) for c, tg, _ in sent] == [("telegram", AYSE)] * 2
        assert "tamamlanmadı" in sent[0][2] and "süresi doldu" in sent[1][2]


def test_whole_report_at_once_for_modals(world: Driver) -> None:
    with session_scope(world.engine) as s:
        who = identify(s, "slack", "U0GULF01", world.clock.now)
        assert isinstance(who, Identity) and not isinstance(who, Refusal)
        raw = {"summary": "Recordings of branch 12 are missing", "product_id": "Voice Bot"}
        _, errors = validate_answers(s, world.cfg, who, raw, world.clock.now)
        assert "Please pick one of: Call Recorder, Speech Analytics" in errors["product_id"]
        assert errors["description"] == "This answer is required."
        raw = {k: v for k, v in BASE.items() if isinstance(v, str)}
        raw.update(product_id="Call Recorder", version_text="4.0", attachments="none",
                   attachments_missing_reason="Logs are kept by the customer IT")
        answers, errors = validate_answers(s, world.cfg, who, raw, world.clock.now)
        assert errors == {} and answers["version_past_eos"] is True
        opened = open_from_answers(s, world.cfg, who, answers, world.clock.now,
                                   channel="slack", user_key="U0GULF01", chat="D0GULF")
        assert opened.ticket.channel == "slack" and opened.ticket.version_past_eos
        assert "Ticket #" in opened.replies[0].text
        with pytest.raises(ValueError, match="report incomplete"):
            open_from_answers(s, world.cfg, who, {"summary": "x"}, world.clock.now,
                              channel="slack")


def test_dialog_definition_is_complete_in_both_languages() -> None:
    from handlers.i18n import t

    for f in dialog.FIELDS:
        assert f.prompt("en") and f.prompt("tr") and f.label("en") and f.label("tr")
        assert t(f"field.{f.key}", "tr") != ""
    assert dialog.dependents("product_id") == ["version_text"]
    assert dialog.find_field_by_name("sürüm") is dialog.get_field("version_text")


def test_new_ticket_is_announced_after_commit_only(world: Driver) -> None:
    """The scheduler plans a new ticket's clocks at once, but only once it is committed."""
    from handlers import hooks

    changed: list[int] = []
    opened: list[int] = []
    undo = [hooks.on_ticket_changed(changed.append), hooks.on_ticket_opened(opened.append)]
    raw = {k: v for k, v in BASE.items() if isinstance(v, str)}
    raw.update(product_id="Call Recorder", version_text="5.5", attachments="none",
               attachments_missing_reason="Logs are kept by the customer IT")
    try:
        with pytest.raises(RuntimeError), session_scope(world.engine) as s:
            who = identify(s, "slack", "U0GULF01", world.clock.now)
            assert isinstance(who, Identity)
            answers, _ = validate_answers(s, world.cfg, who, raw, world.clock.now)
            open_from_answers(s, world.cfg, who, answers, world.clock.now, channel="slack")
            assert changed == [] and opened == []  # not before the commit
            raise RuntimeError("the adapter's transaction fails")
        assert changed == [] and opened == []  # rolled back: nothing to announce
        with session_scope(world.engine) as s:
            who = identify(s, "slack", "U0GULF01", world.clock.now)
            assert isinstance(who, Identity)
            answers, _ = validate_answers(s, world.cfg, who, raw, world.clock.now)
            number = open_from_answers(s, world.cfg, who, answers, world.clock.now,
                                       channel="slack").ticket.id
        assert changed == [number] and opened == [number]
    finally:
        for fn in undo:
            fn()


def test_a_customer_message_answers_the_ticket_waiting_for_them(world: Driver) -> None:
    """P17 on chat channels: the customer's next message is their answer; clocks resume."""
    from handlers.commands import execute_command
    from storage.directory import find_contact

    world.send(AYSE, command="start")
    world.fill(AYSE, BASE)
    world.send(AYSE, "onayla")
    ticket = world.tickets()[-1]
    assert ticket.summary == BASE["summary"]
    with session_scope(world.engine) as s:
        deniz = find_contact(s, "Deniz Yılmaz")
        execute_command(s, world.cfg.policy, deniz, f"pending {ticket.id} the TTS logs",
                        world.clock.advance(minutes=10), world.cfg.routing)
    replies = world.send(AYSE, "Loglar ekte, TTS servisi 09:10'da yeniden başladı",
                         files=(IncomingFile("tts.log", b"restart at 09:10", "text/plain"),))
    assert f"#{ticket.id} numaralı kayda eklendi" in text_of(replies)
    with Session(world.engine) as s:
        t = s.get(Ticket, ticket.id)
        assert t is not None and t.status == "open"
        assert [p.ended_at is not None for p in tickets.pauses(s, ticket.id)] == [True]
        kinds = [e.kind for e in tickets.events(s, ticket.id)]
        assert kinds[-2:] == ["customer-reply", "resumed"]
        assert len(s.exec(select(Attachment).where(Attachment.ticket_id == ticket.id)).all()) == 2
    # Not waiting any more: the next message is a follow-up on the open ticket, relayed to the
    # engineers; "yeni" starts a new report.
    assert world.step(AYSE) is None
    replies = world.send(AYSE, "Şimdi bütün agent'lar düştü")
    assert f"#{ticket.id} numaralı kayda eklendi" in text_of(replies)
    assert world.step(AYSE) is None
    with Session(world.engine) as s:
        last = tickets.events(s, ticket.id)[-1]
        assert (last.kind, last.text) == ("follow-up", "Şimdi bütün agent'lar düştü")
        relayed = [m.text for m in s.exec(select(OutboxMessage).where(
            OutboxMessage.ticket_id == ticket.id)) if "bütün agent" in m.text]
        assert relayed and all("Ayşe Demir wrote on the ticket" in m for m in relayed)
    world.send(AYSE, "yeni")
    assert world.step(AYSE) is not None


def test_a_long_error_text_or_a_failing_kb_never_stops_the_report(world: Driver) -> None:
    """600 distinct words (over SQLite's 500 terms in one compound SELECT) open the ticket;
    so does a report while the knowledge base cannot be read at all."""
    from sqlalchemy import text

    words = " ".join(f"w{i:03d}" for i in range(600))  # 3,000 characters
    world.send(AYSE, command="start")
    world.fill(AYSE, {**BASE, "error_text": words})
    assert "kayıt açıldı" in text_of(world.send(AYSE, "onayla"))
    assert world.tickets()[-1].error_text == words
    with world.engine.begin() as conn:  # the KB's table is gone: every look-up fails
        conn.execute(text("ALTER TABLE known_errors RENAME TO known_errors_away"))
    before = len(world.tickets())
    try:
        world.send(AYSE, command="start")
        world.fill(AYSE, BASE)
        assert "kayıt açıldı" in text_of(world.send(AYSE, "onayla"))
        assert len(world.tickets()) == before + 1
    finally:
        with world.engine.begin() as conn:
            conn.execute(text("ALTER TABLE known_errors_away RENAME TO known_errors"))


def _prompt_at(world: Driver, user: str, step: str) -> Reply:
    """Fill the dialog up to ``step`` and return its question."""
    world.send(user, command="start")
    replies = world.fill(user, BASE, stop=step)
    if not replies or replies[-1].meta.get("step") != step:
        replies = world.send(user, "")
    assert replies[-1].meta.get("step") == step, replies[-1].meta
    return replies[-1]


def test_a_typed_number_is_the_shown_position(world: Driver) -> None:
    """"1" on "1) Call Recorder" is Call Recorder, whatever the products' ids."""
    prompt = _prompt_at(world, AYSE, "product_id")
    first, last = prompt.choices[0], prompt.choices[-1]
    assert first.value != "1" or len(prompt.choices) == 1  # the ids differ from the positions
    asked = world.send(AYSE, "1")
    assert first.label in asked[-1].text  # "Which version of <first product>?"
    world.send(AYSE, "back")
    asked = world.send(AYSE, str(len(prompt.choices)))
    assert last.label in asked[-1].text
    world.send(AYSE, "back")
    refused = world.send(AYSE, str(len(prompt.choices) + 3))
    assert refused[-1].meta["step"] == "product_id"


def test_numbered_menus_take_their_own_numbers(world: Driver) -> None:
    """The attachments step, the confirm step and the edit picker accept "1"/"2"."""
    prompt = _prompt_at(world, JANE, "attachments")
    assert [c.value for c in prompt.choices] == ["done", "none"]
    assert world.send(JANE, "2")[-1].meta["step"] == "attachments_missing_reason"
    world.fill(JANE, {**BASE, "attachments_missing_reason": "no screenshots possible"})
    assert world.step(JANE) == dialog.CONFIRM
    picker = world.send(JANE, "2")  # 1) Confirm 2) Edit 3) Cancel
    assert picker[-1].meta["step"] == dialog.EDIT_PICK
    keys = [c.value for c in picker[-1].choices]
    again = world.send(JANE, str(keys.index("environment") + 1))
    assert again[-1].meta["step"] == "environment"
    world.send(JANE, "production")
    assert world.step(JANE) == dialog.CONFIRM
    opened = world.send(JANE, "1")
    assert "is open" in text_of(opened)


def test_self_help_understands_no_and_a_summary_needs_words(world: Driver) -> None:
    with session_scope(world.engine) as s:
        s.add(KnownError(id="KE-T002", title="Voice bot answers with silence",
                         symptoms="voice bot answers calls with silence", workaround="Restart TTS",
                         published=True))
    world.send(AYSE, command="start")
    assert "kelimelerle" in world.send(AYSE, "🙈🙈🙈🙈🙈🙈🙈🙈🙈")[0].text
    assert world.step(AYSE) == "summary"
    world.send(AYSE, "Voice bot answers calls with silence")
    assert world.step(AYSE) == "selfhelp"
    world.send(AYSE, "hayır")
    assert world.step(AYSE) == "kind"
    for answer in ("çözülmedi", "no", "not solved"):
        world.send(AYSE, "edit summary")
        world.send(AYSE, "Voice bot answers calls with silence")
        assert world.step(AYSE) == "selfhelp", answer
        world.send(AYSE, answer)
        assert world.step(AYSE) != "selfhelp", answer


def test_changing_an_answer_asks_again_what_depends_on_it(world: Driver) -> None:
    """`düzenle ürün` to another product drops the old product's version and asks again."""
    world.send(AYSE, command="start")
    world.fill(AYSE, BASE)
    assert world.step(AYSE) == dialog.CONFIRM
    prompt = world.send(AYSE, "düzenle ürün")[-1]
    assert prompt.meta["step"] == "product_id"
    other = next(c for c in prompt.choices if c.label != "Voice Bot")
    asked = world.send(AYSE, other.label)
    assert asked[-1].meta["step"] == "version_text" and other.label in asked[-1].text
    world.send(AYSE, "back")
    world.send(AYSE, "Voice Bot")  # the same product again: the later answers stay
    assert world.step(AYSE) in ("version_text", dialog.CONFIRM)


def test_the_summary_counts_the_files_received(world: Driver) -> None:
    """"Ekler: 1 dosya" after one file; a file sent when asked why there are none is taken
    as the attachment."""
    world.send(AYSE, command="start")
    world.fill(AYSE, {**BASE, "attachments": "none"}, stop="attachments_missing_reason")
    assert world.step(AYSE) == "attachments_missing_reason"
    world.send(AYSE, files=(IncomingFile("tts.log", b"restart at 09:10", "text/plain"),))
    world.fill(AYSE, BASE)
    confirm = world.send(AYSE, "")[-1].text
    assert "1" in next(line for line in confirm.splitlines() if line.startswith("• Ekler"))
