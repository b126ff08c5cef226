"""The ticket report (handlers.ticket_report) as staff ``status N`` shows it, on chat's limits
(Slack sections and blocks, Telegram's 4096), and what the customer's ``status`` never shows.
On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.channels.slack.blocks import card_blocks
from bot.channels.telegram.render import message_parts
from handlers import ticket_report
from handlers.commands import execute_command
from handlers.dispatch import route
from handlers.intake import IntakeConfig
from handlers.types import Destination, Incoming, Routing
from storage import tickets
from storage.db import open_session

from . import report_seed as rs

ROUTING = Routing(engineers=(Destination("slack", "C0ENG"),))
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # 12:00 in Istanbul


@pytest.fixture
def seeded(engine: Engine, policy, tmp_path: Path) -> Iterator[tuple[Session, rs.Seeded]]:  # type: ignore[no-untyped-def]
    with open_session(engine, lambda: NOW, expire_on_commit=False) as s:
        found = rs.seed_full(s, policy, NOW, tmp_path / "files")
        s.commit()
        yield s, found


def status(s: Session, policy, seeded: rs.Seeded) -> str:  # type: ignore[no-untyped-def]
    replies = execute_command(s, policy, rs.engineer_of(s), f"status {seeded.ticket}", NOW,
                              ROUTING)
    return "\n".join(r.text for r in replies)


def test_staff_status_is_the_whole_report(seeded, policy) -> None:  # type: ignore[no-untyped-def]
    s, found = seeded
    text = status(s, policy, found)
    n = found.ticket
    assert text.startswith(f"#{n} FULL · S2 High · open · tier 2 · {rs.ENGINEER}\n"
                           "IVR silent after greeting")
    for shown in (
        "Times in Europe/Istanbul.", "Kind: defect", "Service: Log analysis",
        "Product: Voice Bot", "Version: 4.2.1", "Version past end of support: no",
        "Environment: production", "  Callers hear the greeting, then silence.",
        "  Since this morning.", "  1. Call the IVR", "  3. Silence", f"  {rs.ERROR}",
        "Production down: yes", "Workaround available: no", "Users affected: 100+",
        "Severity proposed by the customer: S1", "  Production is down for all callers",
        "Remote access given: yes", "Remote access instructions (staff only):",
        f"  {rs.ACCESS_HOW}", "  the pcap is too big", f"Reported by: {rs.CONTACT}",
        "Plan: standard", "Reported on: telegram",
        "Reported: 2026-11-25 11:00 (Europe/Istanbul)",
        "Responded: 2026-11-25 11:20 (Europe/Istanbul)",
        "  Route calls to the backup media server", "Fixed in: 4.2.2",
        "Attachments (2):", "- trace.log (text/plain, 105 B)",
        "- screen shot.png (image/png, 72 B)",
        "- 2026-11-25 11:25 → 2026-11-25 11:40 customer: waiting for the logs",
        f"- 2026-11-25 11:40 [public] {rs.CONTACT} (customer-reply): {rs.ANSWER}",
        f"- 2026-11-25 11:45 [internal] {rs.ENGINEER} (note): {rs.NOTE}",
        f"- 2026-11-25 11:50 [public] {rs.ENGINEER} (reply): {rs.REPLY}",
        f"- 2026-11-25 11:55 [public] {rs.CONTACT} (follow-up): {rs.FOLLOW_UP}",
        "Audit trail:", f"- 2026-11-25 11:00 {rs.CONTACT} (opened): IVR silent",
    ):
        assert shown in text, shown
    # The deadlines in the ticket's zone, named (the response clock stopped when answered).
    assert "Response (4h): met at 2026-11-25 11:20 (Europe/Istanbul)" in text
    assert "Workaround (2d): 17h 15m left, due 2026-11-27 11:15 (Europe/Istanbul)" in text
    # The header's facts are not repeated below it.
    assert "Summary:" not in text and "Severity: S2" not in text
    # On Slack the card carries all of it, user text escaped for mrkdwn.
    [section, actions] = card_blocks(text, n)
    assert actions["type"] == "actions" and "Still failing after the restart" in \
        section["text"]["text"]
    assert "&lt;rtp&gt; &amp; jitter" in section["text"]["text"]
    assert "<rtp>" not in section["text"]["text"]


def test_the_report_value_marks_the_conversation(seeded, policy) -> None:  # type: ignore[no-untyped-def]
    s, found = seeded
    report = ticket_report.build(s, policy, tickets.get_ticket(s, found.ticket), NOW)
    assert [(c.kind, c.visibility) for c in report.conversation] == [
        ("customer-reply", "public"), ("note", "internal"), ("reply", "public"),
        ("follow-up", "public")]
    data = report.as_dict()
    assert data["timezone"] == "Europe/Istanbul"
    assert data["reported_at"] == "2026-11-25T11:00:00+03:00"
    assert [a["filename"] for a in data["attachments"]] == ["trace.log", "screen shot.png"]
    assert data["pauses"][0]["ended_at"] == "2026-11-25T11:40:00+03:00"
    assert data["events"][0]["kind"] == "opened"


def test_recent_is_the_tail_of_each_part_of_the_whole_report(seeded, policy) -> None:  # type: ignore[no-untyped-def]
    """``build(recent=N)`` (two LIMIT reads) picks what the whole report ends with: the last N
    conversation entries and the last N other events, ties on the same second in id order."""
    s, found = seeded
    t = tickets.get_ticket(s, found.ticket)
    for i in range(12):  # many on one second: the order falls to the id
        tickets.add_event(s, t, tickets.INTERNAL_NOTE, f"note {i}", actor=rs.engineer_of(s))
        tickets.add_event(s, t, "reassigned", f"turn {i}")
    s.commit()
    whole = ticket_report.build(s, policy, t, NOW)
    talk = [e for e in whole.events if e.kind in tickets.CONVERSATION_KINDS]
    other = [e for e in whole.events if e.kind not in tickets.CONVERSATION_KINDS]
    for n in (1, 5, 100):
        part = ticket_report.build(s, policy, t, NOW, recent=n)
        expected = {e.id for e in talk[-n:] + other[-n:]}
        assert [e.id for e in part.events] == [e.id for e in whole.events if e.id in expected]
        assert (part.earlier_conversation, part.earlier_trail) == (
            max(0, len(talk) - n), max(0, len(other) - n))


def test_chat_clips_long_fields_and_fits_slack_and_telegram(seeded, policy) -> None:  # type: ignore[no-untyped-def]
    s, found = seeded
    t = tickets.get_ticket(s, found.ticket)
    t.description = "x" * 5000
    t.error_text = "\n".join(f"line {i} <tag> & more" for i in range(400))  # 8 kB
    s.add(t)
    for i in range(30):
        tickets.add_event(s, t, tickets.INTERNAL_NOTE, f"note {i} " + "y" * 500,
                          actor=rs.engineer_of(s))
    s.commit()
    text = status(s, policy, found)
    n = found.ticket
    assert "x" * 800 in text and "x" * 801 not in text
    assert f"(clipped: 5000 characters in all; the whole report: destek ticket show {n}" in text
    assert f"… 26 earlier not shown (destek ticket show {n}" in text  # 34 entries, last 8
    assert "note 29 " in text and "note 10 " not in text
    # Telegram: messages of at most 4096 units, cut at line ends, nothing lost.
    parts = message_parts(text)
    assert len(parts) > 1 and all(len(p.encode("utf-16-le")) // 2 <= 4096 for p in parts)
    assert "\n".join(parts) == text
    # Slack: sections of at most 3000 characters, user text escaped, the buttons last.
    blocks = card_blocks(text, n)
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert len(blocks) <= 50 and blocks[-1]["type"] == "actions"
    assert all(0 < len(x) <= 3000 for x in sections)
    joined = "\n".join(sections)
    assert "<tag>" not in joined and "&lt;tag&gt; &amp; more" in joined


def test_slack_card_of_a_huge_text_stays_within_fifty_blocks() -> None:
    text = "\n".join(("&" * 2999) for _ in range(80))  # each line escapes to 14995 chars
    blocks = card_blocks(text, 7)
    assert len(blocks) == 50 and blocks[-1]["type"] == "actions"
    sections = [b["text"]["text"] for b in blocks[:-1]]
    assert all(len(x) <= 3000 for x in sections)
    # No entity is cut in two: every "&" left is a whole "&amp;".
    assert all("&" not in x.split("\n… ")[0].replace("&amp;", "") for x in sections)
    assert "destek ticket show 7" in sections[-1]
    assert "\n" not in message_parts("a" * 9000)[0] and len(message_parts("😀" * 3000)) == 2


def test_customer_status_shows_neither_notes_nor_access(seeded, policy, tmp_path) -> None:  # type: ignore[no-untyped-def]
    s, found = seeded
    cfg = IntakeConfig(policy=policy, attachments_dir=tmp_path / "files")
    key = str(found.contact)
    replies = route(s, cfg, Incoming("console", key, key, command="status",
                                     args=(str(found.ticket),)), NOW)
    text = "\n".join(r.text for r in replies)
    assert f"#{found.ticket}" in text and "IVR silent after greeting" in text
    assert "SECRET-NOTE-7" not in text and "ACCESS-HOW-9" not in text
    assert "jitter" not in text and "vpn.full.example" not in text
    # The engineers' own status has both (the same ticket, staff).
    staff = status(s, policy, found)
    assert "SECRET-NOTE-7" in staff and "ACCESS-HOW-9" in staff
