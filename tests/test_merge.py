"""``merge N into M`` and ``link N M`` (issue #19 item 2) on SQLite and PostgreSQL, and the
related reports shown on the card (handlers.related)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from difflib import SequenceMatcher

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from handlers.commands import execute_command
from handlers.merging import links_of
from handlers.related import error_signature, similar_open, summary_score, words
from handlers.ticket_actions import customer_replied, engineer_replied
from handlers.types import Destination, Routing
from sla import Policy
from storage import directory, tickets
from storage.db import open_session
from storage.models import Attachment, Contact, OutboxMessage, Ticket, TicketEvent, TicketPause

ROUTING = Routing(engineers=(Destination("slack", "C0ENG"),))
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def s(engine: Engine, policy: Policy, clock) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    with open_session(engine, clock, expire_on_commit=False) as session:
        for name, fam in (("Voice Bot", "conversational-ai"), ("Call Recorder", "call-recording")):
            directory.add_product(session, name, fam, tuple(policy.families))
        for code, lang in (("ACME", "tr"), ("BETA", "en")):
            directory.add_customer(session, code, code.title(), "TR", language=lang)
            directory.add_contract(session, code, "standard", date(2026, 1, 1),
                                   date(2027, 12, 31), None, tuple(policy.plans))
        directory.add_contact(session, "ACME", "Ayşe Demir", "customer", True, "tr", "U0ACME01")
        directory.add_contact(session, "ACME", "Ali Kaya", "customer", True, "en", "U0ACME02")
        directory.add_contact(session, "BETA", "Bob Brown", "customer", True, "en", "U0BETA01")
        directory.add_contact(session, None, "Can Öztürk", "engineer", True, "en", "U0ENG002")
        session.commit()
        yield session


def who(s: Session, name: str) -> Contact:
    c = directory.find_contact(s, name)
    assert c is not None
    return c


def new(s: Session, pol: Policy, contact: str, when: datetime, summary: str,
        product: str = "Voice Bot", code: str = "ACME", error: str | None = None) -> Ticket:
    person = who(s, contact)
    return tickets.open_ticket(
        s, pol, directory.get_customer(s, code), person, "standard", summary, "S2", when,
        product=directory.get_product(s, product), channel="slack",
        channel_user=f"U-{person.id}", error_text=error)


def run(s: Session, pol: Policy, line: str, when: datetime) -> str:
    return execute_command(s, pol, who(s, "Can Öztürk"), line, when, ROUTING)[0].text


def test_similar_summaries_and_error_signatures() -> None:
    assert summary_score("Voice bot answers slowly", "The voice bot answers very slowly") >= 0.5
    assert summary_score("Voice bot answers slowly", "Recorder lost calls of branch 12") == 0
    assert error_signature("timeout after 30 s") == error_signature("timeout after 45 s")
    assert error_signature("ORA-00942 at line 3") != error_signature("ORA-00911 at line 3")
    assert error_signature("none") == ""


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["voice", "bot", "answers", "slowly", "calls", "lost", "the",
                                 "kayıt", "yavaş", "ORA-00942"]), max_size=8),
       st.lists(st.sampled_from(["voice", "bot", "answers", "slowly", "calls", "dropped",
                                 "KAYIT", "yavas", "ora-00942"]), max_size=8))
def test_summary_score_is_the_higher_of_shared_words_and_the_word_ratio(
        a: list[str], b: list[str]) -> None:
    """The score skips the word-by-word ratio only where difflib's bounds say it cannot win:
    the result is the plain definition's, max(shared words, SequenceMatcher ratio)."""
    wa, wb = words(" ".join(a)), words(" ".join(b))
    plain = 0.0 if not wa or not wb else max(
        len(set(wa) & set(wb)) / len(set(wa) | set(wb)),
        SequenceMatcher(None, wa, wb, autojunk=False).ratio())
    assert summary_score(" ".join(a), " ".join(b)) == pytest.approx(plain)


def test_the_card_lists_alike_open_tickets_of_the_same_customer_and_product(
        policy: Policy, s: Session) -> None:
    m = new(s, policy, "Ayşe Demir", T0, "Voice bot answers slowly")
    same_error = new(s, policy, "Ayşe Demir", T0, "Calls drop", error="timeout after 30 s")
    new(s, policy, "Bob Brown", T0, "Voice bot answers slowly", code="BETA")  # another org
    new(s, policy, "Ayşe Demir", T0, "Voice bot answers slowly", product="Call Recorder")
    closed = new(s, policy, "Ayşe Demir", T0, "Voice bot answers slowly today")
    closed.status = "closed"
    s.add(closed)
    n = new(s, policy, "Ali Kaya", T0 + timedelta(hours=1), "The voice bot answers very slowly",
            error="timeout after 45 s")
    found = similar_open(s, n)
    assert [(a.ticket.id, a.why) for a in found] == [(m.id, "summary"), (same_error.id, "error")] \
        or [(a.ticket.id, a.why) for a in found] == [(same_error.id, "error"), (m.id, "summary")]


def test_merge_moves_the_conversation_files_and_contact_and_closes_n(
        policy: Policy, s: Session) -> None:
    m = new(s, policy, "Ayşe Demir", T0, "Voice bot answers slowly")
    n = new(s, policy, "Ali Kaya", T0 + timedelta(hours=1), "Voice bot is slow")
    customer_replied(s, n.id or 0, now=T0 + timedelta(hours=2), text="Still slow here",
                     actor=who(s, "Ali Kaya"), policy=policy, routing=ROUTING)
    run(s, policy, f"pending {n.id} logs please", T0 + timedelta(hours=2, minutes=5))
    s.add(Attachment(ticket_id=n.id, filename="log.txt", content_type="text/plain", size=3,
                     sha256="0" * 64, path="/tmp/log.txt"))
    s.flush()
    due_before = (m.response_due, m.resolution_due, m.reported_at)
    at = T0 + timedelta(hours=3)
    out = run(s, policy, f"merge {n.id} into {m.id}", at)
    assert f"#{n.id} merged into #{m.id}" in out and "1 file" in out
    s.refresh(n)
    s.refresh(m)
    assert n.status == "closed" and n.resolution_text == f"merged into #{m.id}"
    assert n.closed_at == at and n.resolved_at == at
    assert all(p.ended_at is not None for p in s.exec(
        select(TicketPause).where(TicketPause.ticket_id == n.id)))
    assert (m.response_due, m.resolution_due, m.reported_at) == due_before  # M's own start
    carried = [e for e in tickets.events(s, m.id or 0) if e.text.startswith(f"[#{n.id}] ")]
    assert [e.text for e in carried] == [f"[#{n.id}] Still slow here"]
    assert json.loads(carried[0].data or "{}")["merged_from"] == n.id
    assert [e.kind for e in tickets.events(s, n.id or 0)][-1] == "merged"  # N's trail whole
    files = s.exec(select(Attachment).where(Attachment.ticket_id == m.id)).all()
    assert [a.filename for a in files] == ["log.txt"]
    merged_ev = s.exec(select(TicketEvent).where(TicketEvent.ticket_id == n.id,
                                                 TicketEvent.kind == "merged")).one()
    told = s.exec(select(OutboxMessage).where(OutboxMessage.ticket_id == n.id,
                                              OutboxMessage.key.contains(  # type: ignore
                                                  f":{merged_ev.id}"))).all()
    assert len(told) == 1 and f"#{m.id} carries your report" in told[0].text  # Ali: English
    # From now on M's customer updates reach N's contact too, in N's conversation.
    engineer_replied(s, policy, m, "A fix is on its way", actor=who(s, "Can Öztürk"),
                     now=at + timedelta(minutes=5))
    targets = {o.target for o in s.exec(select(OutboxMessage)) if "A fix is on its way" in o.text}
    assert targets == {f"U-{who(s, 'Ayşe Demir').id}", f"U-{who(s, 'Ali Kaya').id}"}
    assert [link.kind for link in links_of(s, m.id or 0)] == ["merged"]


@pytest.mark.parametrize("case", ["self", "closed", "customers", "earlier", "usage"])
def test_refused_merges_change_nothing(policy: Policy, s: Session, case: str) -> None:
    m = new(s, policy, "Ayşe Demir", T0, "Voice bot answers slowly")
    n = new(s, policy, "Ali Kaya", T0 + timedelta(hours=1), "Voice bot is slow")
    other = new(s, policy, "Bob Brown", T0 + timedelta(hours=1), "Voice bot", code="BETA")
    line, expected = {
        "self": (f"merge {m.id} into {m.id}", "cannot be merged into itself"),
        "closed": (f"merge {n.id} into {m.id}", "reopen it"),
        "customers": (f"merge {other.id} into {m.id}", "different customers"),
        "earlier": (f"merge {m.id} into {n.id}", f"merge {n.id} into {m.id} instead"),
        "usage": (f"merge {n.id} onto", "Usage: merge N into M"),
    }[case]
    if case == "closed":
        run(s, policy, f"close {m.id}", T0 + timedelta(hours=2))
    events = s.exec(select(TicketEvent)).all()
    assert expected in run(s, policy, line, T0 + timedelta(hours=3))
    assert s.exec(select(TicketEvent)).all() == events
    assert n.status == "open" and not links_of(s, n.id or 0)


def test_link_relates_two_tickets_and_keeps_the_kb_link(policy: Policy, s: Session) -> None:
    a = new(s, policy, "Ayşe Demir", T0, "Voice bot answers slowly")
    b = new(s, policy, "Ali Kaya", T0, "Recorder lost calls", product="Call Recorder")
    before = (a.response_due, b.response_due)
    assert f"#{a.id} and #{b.id} are related" in run(s, policy, f"link {a.id} #{b.id}", T0)
    assert "already related" in run(s, policy, f"link {b.id} {a.id}", T0)
    assert "itself" in run(s, policy, f"link {a.id} {a.id}", T0)
    assert [k.kind for k in links_of(s, b.id or 0)] == ["related"]
    assert [e.kind for e in tickets.events(s, b.id or 0)][-1] == "linked"
    assert (a.response_due, b.response_due) == before and a.status == b.status == "open"
    assert "KB-404" in run(s, policy, f"link {a.id} KB-404", T0)  # still the knowledge base's


def test_status_shows_the_links(policy: Policy, s: Session) -> None:
    m = new(s, policy, "Ayşe Demir", T0, "Voice bot answers slowly")
    n = new(s, policy, "Ali Kaya", T0 + timedelta(hours=1), "Voice bot is slow")
    r = new(s, policy, "Ali Kaya", T0 + timedelta(hours=1), "Recorder", product="Call Recorder")
    run(s, policy, f"link {m.id} {r.id}", T0 + timedelta(hours=2))
    run(s, policy, f"merge {n.id} into {m.id}", T0 + timedelta(hours=2))
    assert f"Related: #{r.id} · Carries the reports of #{n.id}" in run(
        s, policy, f"status {m.id}", T0 + timedelta(hours=3))
    assert f"Merged into #{m.id}" in run(s, policy, f"status {n.id}", T0 + timedelta(hours=3))
