"""Storage on SQLite and on a real PostgreSQL: migrations, records, tickets, audit trail."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from sla import ClockKind, ClockStatus
from storage import directory, outbox, tickets
from storage.db import current_revision
from storage.models import Contact, Customer, OutboxMessage, TicketEvent


def test_migrations_reach_head(db_url: str) -> None:
    assert current_revision(db_url) is not None


def _seed(s: Session, policy) -> None:  # type: ignore[no-untyped-def]
    directory.add_product(s, "Voice Bot", "conversational-ai", tuple(policy.families))
    directory.add_customer(s, "ACME", calendar="TR", language="tr")
    directory.add_contract(s, "ACME", "premium", date(2026, 1, 1), date(2027, 12, 31),
                           ["Voice Bot"], tuple(policy.plans))
    directory.add_contact(s, "ACME", "Ayşe Demir", "customer", True, "tr", "U1", 1001)


def test_records_and_ticket_clocks(engine, policy) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        _seed(s, policy)
        s.commit()
        acme = directory.get_customer(s, "ACME")
        ayse = directory.find_contact(s, "1001")
        assert ayse is not None and ayse.name == "Ayşe Demir"
        contract = directory.active_contract(s, acme.id, date(2026, 11, 27))
        assert contract is not None and contract.plan == "premium"
        assert directory.active_contract(s, acme.id, date(2028, 1, 1)) is None
        assert [p.name for p in directory.contract_products(s, contract)] == ["Voice Bot"]
        start = datetime(2026, 11, 27, 13, 30, tzinfo=UTC)  # Fri 16:30 Istanbul
        t = tickets.open_ticket(s, policy, acme, ayse, "premium", "silence", "S1", start,
                                product=directory.get_product(s, "Voice Bot"))
        s.commit()
        s.expire_all()
        t = tickets.get_ticket(s, t.id)
        assert t.reported_at == start and t.reported_at.tzinfo is not None
        states = {c.kind: c for c in tickets.clock_states(s, policy, t, start)}
        assert states[ClockKind.RESPONSE].deadline == datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
        assert states[ClockKind.RESOLUTION].deadline.isoformat() == "2026-12-01T16:30:00+03:00"
        assert t.response_due == datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
        kinds = [e.kind for e in s.exec(select(TicketEvent))]
        assert kinds == ["opened"]


def test_no_remote_access_opens_paused(engine, policy) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        _seed(s, policy)
        acme = directory.get_customer(s, "ACME")
        ayse = directory.find_contact(s, "Ayşe Demir")
        start = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
        t = tickets.open_ticket(s, policy, acme, ayse, "premium", "x", "S2", start,
                                remote_access=False)
        s.commit()
        states = tickets.clock_states(s, policy, t, start + timedelta(hours=5))
        assert all(c.status is ClockStatus.PAUSED and c.deadline is None for c in states)
        assert t.status == "pending"
        # No deadline to borrow a timezone from: still shown in the customer's local time.
        shown = tickets.view(s, policy, t, start).as_dict()["reported_at"]
        assert shown == "2026-11-26T10:00:00+03:00"


def test_outbox_key_is_unique(engine) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        assert outbox.enqueue(s, "t1:response:0.5", "slack", "C1", "hello") is not None
        assert outbox.enqueue(s, "t1:response:0.5", "slack", "C1", "hello") is None
        s.commit()
        assert len(s.exec(select(OutboxMessage)).all()) == 1


def test_bad_records_are_refused(engine, policy) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        _seed(s, policy)
        with pytest.raises(directory.RecordError, match="already exists"):
            directory.add_customer(s, "ACME")
        with pytest.raises(Exception, match="unknown calendar"):
            directory.add_customer(s, "X", calendar="MARS")
        with pytest.raises(directory.RecordError, match="unknown plan"):
            directory.add_contract(s, "ACME", "gold", date(2026, 1, 1), date(2026, 2, 1),
                                   plans=tuple(policy.plans))
        with pytest.raises(directory.RecordError, match="before it starts"):
            directory.add_contract(s, "ACME", "premium", date(2026, 2, 1), date(2026, 1, 1))
        with pytest.raises(directory.RecordError, match="unknown role"):
            directory.add_contact(s, "ACME", "X", role="boss")
        with pytest.raises(directory.RecordError, match="no spaces"):
            directory.add_customer(s, "ACME CORP")
        name = s.exec(select(Contact.name).where(Contact.customer_id != None)).first()  # noqa: E711
        owner = s.exec(select(Contact).where(Contact.name == name)).one()
        code = s.get(Customer, owner.customer_id).code  # type: ignore[union-attr]
        with pytest.raises(directory.RecordError, match="already has a contact named"):
            directory.add_contact(s, code, f" {name.upper()} ", "customer")  # type: ignore[union-attr]


def test_identities_are_rows_any_channel_any_workspace(engine, policy) -> None:  # type: ignore[no-untyped-def]
    """A platform user id is a row: found by the one look-up whatever the channel (a new one
    needs no code), replaced in place, and refused with a clear error when it is someone
    else's, with nothing written."""
    from handlers.identity import lookup_contact
    from storage import identities
    from storage.models import ContactIdentity

    with Session(engine) as s:
        _seed(s, policy)
        ayse = directory.find_contact(s, "Ayşe Demir")
        assert ayse is not None and ayse.id is not None
        assert lookup_contact(s, "slack", "U1") == ayse == lookup_contact(s, "telegram", "1001")
        assert lookup_contact(s, "console", str(ayse.id)) == ayse  # the contact id, no row
        assert lookup_contact(s, "console", "U1") is None
        assert lookup_contact(s, "telegram", "U1") is None  # ids are per channel
        assert identities.external_ids(s, ayse.id) == {"slack": "U1", "telegram": "1001"}
        assert identities.external_id(s, ayse.id, "console") == str(ayse.id)
        # a channel the code has never heard of
        bob = directory.add_contact(s, "ACME", "Bob", identities={"teams": "29:1bob"})
        assert lookup_contact(s, "teams", "29:1bob") == bob
        assert directory.find_contact(s, "29:1bob") == bob
        # Slack Connect: a user of another team, and the same id in two teams
        directory.set_identity(s, bob, "slack", "U1", workspace="T0PARTNER")
        assert lookup_contact(s, "slack", "U1", workspace="T0PARTNER") == bob
        assert lookup_contact(s, "slack", "U1") == ayse
        # replace: one row per contact, channel and workspace
        directory.set_identity(s, ayse, "slack", "U1NEW")
        assert lookup_contact(s, "slack", "U1NEW") == ayse
        assert lookup_contact(s, "slack", "U1") is None
        assert identities.external_id(s, ayse.id, "slack") == "U1NEW"
        s.commit()
        rows = len(s.exec(select(ContactIdentity)).all())
        contacts = len(s.exec(select(Contact)).all())
        for kwargs, message in (
            ({"telegram_id": 1001}, "Telegram user 1001 is already a contact: Ayşe Demir"),
            ({"identities": {"teams": "29:1bob"}}, "Teams user 29:1bob is already a contact"),
            ({"slack_id": "U0NEW", "telegram_id": 1001}, "Telegram user 1001"),
            ({"identities": {"console": "7"}}, "addresses contacts by their contact id"),
            ({"identities": {"teams": "x" * 65}}, "1 to 64 characters"),
        ):
            with pytest.raises(directory.RecordError, match=message):
                directory.add_contact(s, "ACME", "Carol", **kwargs)  # type: ignore[arg-type]
        with pytest.raises(directory.RecordError, match="Slack user U1NEW is already"):
            directory.set_identity(s, bob, "slack", "U1NEW")
        assert len(s.exec(select(ContactIdentity)).all()) == rows
        assert len(s.exec(select(Contact)).all()) == contacts
        assert identities.external_ids(s, bob.id or 0) == {"teams": "29:1bob"}
        assert directory.set_identity(s, ayse, "telegram", "1001").external_id == "1001"


def test_names_typed_without_case_or_accents_find_the_one_contact(engine, policy) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from bot.demo import seed
    from handlers.commands import find_engineer

    with Session(engine) as s:
        seed(s, policy, datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
        s.commit()
        assert directory.find_contact(s, "Ayse Demir").name == "Ayşe Demir"  # type: ignore[union-attr]
        assert directory.find_contact(s, "elif sahin").name == "Elif Şahin"  # type: ignore[union-attr]
        assert find_engineer(s, "@can ozturk").name == "Can Öztürk"  # type: ignore[union-attr]
        assert find_engineer(s, "DENIZ").name == "Deniz Yılmaz"  # type: ignore[union-attr]
        # Two people who fold alike: no guess.
        directory.add_contact(s, "GULFBANK", "Ayse Demir", "customer")
        assert directory.find_contact(s, "ayse demir") is None
        assert directory.find_contact(s, "Ayşe Demir").customer_id != directory.find_contact(  # type: ignore[union-attr]
            s, "Ayse Demir").customer_id  # type: ignore[union-attr]


def test_ticket_numbers_are_ascii_digits_in_range() -> None:
    from storage.tickets import MAX_TICKET_NUMBER, parse_ticket_number

    assert [parse_ticket_number(x) for x in ("12", "#12", " 7 ", str(MAX_TICKET_NUMBER))] == [
        12, 12, 7, MAX_TICKET_NUMBER]
    for bad in ("²", "٣", "1²", "0", "-3", "", "#", "1e3", "12345678901234567890123",
                str(MAX_TICKET_NUMBER + 1)):
        assert parse_ticket_number(bad) is None, bad
