"""Alembic migrations on both stores: from an empty database, and from the previous release.

Revision 0001 stands for the previous release: a database filled at 0001 with raw SQL (as an
old version of the application wrote it) is upgraded to head, and the data and the application
(tickets, SLA reconciliation, KB search, outbox, leases) must work on it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import Session, SQLModel, select

import storage.models  # noqa: F401  (registers the tables)
from bot.jobs.sla_passes import SlaCore
from bot.routing import make_routing
from sla import Policy
from storage import leases, outbox, tickets
from storage.db import alembic_config, current_revision, make_engine, upgrade
from storage.kb import search_known_errors
from storage.models import Contact, Customer, OutboxMessage, Ticket, TicketEvent

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _head() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def _schema_drift(url: str) -> list[object]:
    """What differs between the migrated schema and the models (tables the models do not
    know, such as SQLite's FTS shadow tables or APScheduler's job store, are ignored)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={
                "include_object": lambda obj, name, kind, reflected, compare_to: not (
                    kind == "table" and reflected and compare_to is None),
                "compare_type": False,
            })
            diffs = compare_metadata(ctx, SQLModel.metadata)
    finally:
        engine.dispose()
    # Columns kept by storage.kb in SQL only, for the database's full-text search (0002).
    return [d for d in diffs if not any(col in repr(d) for col in ("search_tsv", "search_text"))]


def test_upgrade_from_empty_matches_the_models(empty_db_url: str) -> None:
    upgrade(empty_db_url)
    assert current_revision(empty_db_url) == _head() == "0011"
    assert _schema_drift(empty_db_url) == []
    engine = make_engine(empty_db_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"tickets", "outbox", "leases", "known_errors"} <= tables


def test_head_downgrades_one_step_and_back(empty_db_url: str) -> None:
    from alembic import command

    upgrade(empty_db_url)
    command.downgrade(alembic_config(empty_db_url), "0008")
    engine = make_engine(empty_db_url)
    assert "dashboard_sessions" not in inspect(engine).get_table_names()
    engine.dispose()
    command.downgrade(alembic_config(empty_db_url), "0007")
    engine = make_engine(empty_db_url)
    assert "customer_chats" not in inspect(engine).get_table_names()
    engine.dispose()
    command.downgrade(alembic_config(empty_db_url), "0006")
    command.downgrade(alembic_config(empty_db_url), "0005")
    engine = make_engine(empty_db_url)
    assert "held_messages" not in inspect(engine).get_table_names()
    engine.dispose()
    command.downgrade(alembic_config(empty_db_url), "0004")
    engine = make_engine(empty_db_url)
    tables = inspect(engine).get_table_names()
    columns = {c["name"] for c in inspect(engine).get_columns("contacts")}
    assert "contact_identities" not in tables and {"slack_id", "telegram_id"} <= columns
    engine.dispose()
    command.downgrade(alembic_config(empty_db_url), "0003")
    engine = make_engine(empty_db_url)
    tables = inspect(engine).get_table_names()
    assert "pages" not in tables and "oncall_rotations" not in tables and "leases" in tables
    engine.dispose()
    upgrade(empty_db_url)
    assert current_revision(empty_db_url) == _head()
    assert _schema_drift(empty_db_url) == []


def _fill_release_0001(url: str) -> dict[str, int]:
    """Realistic data as release 0001 wrote it: raw SQL, no models (they are newer)."""
    engine = make_engine(url)
    pg = engine.dialect.name == "postgresql"

    def ts(s: str) -> str:
        return f"'{s}+00'" if pg else f"'{s}'"

    ids: dict[str, int] = {}
    with engine.begin() as c:
        def insert(sql: str, **params: object) -> int:
            return int(c.execute(text(sql + " RETURNING id"), params).scalar_one())

        ids["customer"] = insert(
            "INSERT INTO customers (code, name, calendar, tz, language, created_at) VALUES "
            "('ACME', 'Acme Bankası A.Ş.', 'TR', 'Europe/Istanbul', 'tr', "
            f"{ts('2026-01-02 08:00:00')})")
        ids["contract"] = insert(
            "INSERT INTO contracts (customer_id, plan, start, \"end\", created_at) VALUES "
            f"(:c, 'premium', '2026-01-01', '2027-12-31', {ts('2026-01-02 08:00:00')})",
            c=ids["customer"])
        ids["product"] = insert(
            "INSERT INTO products (name, family) VALUES ('Voice Bot', 'conversational-ai')")
        c.execute(text("INSERT INTO contract_products (contract_id, product_id) VALUES (:k, :p)"),
                  {"k": ids["contract"], "p": ids["product"]})
        ids["version"] = insert(
            "INSERT INTO product_versions (product_id, version, released) "
            "VALUES (:p, '4.2', '2026-03-01')", p=ids["product"])
        ids["contact"] = insert(
            "INSERT INTO contacts (customer_id, name, role, trained, language, telegram_id, "
            f"active, created_at) VALUES (:c, 'Ayşe Demir', 'customer', TRUE, 'tr', 1001, TRUE, "
            f"{ts('2026-01-02 08:00:00')})", c=ids["customer"])
        ids["engineer"] = insert(
            "INSERT INTO contacts (name, role, trained, language, slack_id, active, created_at) "
            f"VALUES ('Deniz Yılmaz', 'engineer', TRUE, 'tr', 'U0ENG001', TRUE, "
            f"{ts('2026-01-02 08:00:00')})")
        ids["ticket"] = insert(
            "INSERT INTO tickets (customer_id, contact_id, product_id, version_id, "
            "version_past_eos, summary, description, environment, severity, remote_access, "
            "remote_access_how, kind, status, tier, plan, family, calendar, tz, language, "
            "channel, channel_chat, assignee_id, reported_at, created_at) VALUES "
            "(:c, :ct, :p, :v, FALSE, 'Ses botu Türkçe anonsları okumuyor', "
            "'TTS engine timeout after 3000 ms, callers hear silence', 'production', 'S2', TRUE, "
            "'VPN + jump host', 'defect', 'open', 1, 'premium', 'conversational-ai', 'TR', "
            f"'Europe/Istanbul', 'tr', 'telegram', '1001', :e, {ts('2026-11-24 07:00:00')}, "
            f"{ts('2026-11-24 07:00:00')})",
            c=ids["customer"], ct=ids["contact"], p=ids["product"], v=ids["version"],
            e=ids["engineer"])
        insert("INSERT INTO ticket_events (ticket_id, at, actor, kind, text) VALUES "
               f"(:t, {ts('2026-11-24 07:00:00')}, 'Ayşe Demir', 'opened', 'opened')",
               t=ids["ticket"])
        insert("INSERT INTO ticket_pauses (ticket_id, started_at, ended_at, reason, kind) VALUES "
               f"(:t, {ts('2026-11-24 08:00:00')}, {ts('2026-11-24 09:00:00')}, "
               "'waiting for logs', 'customer')", t=ids["ticket"])
        insert("INSERT INTO outbox (key, channel, target, text, status, attempts, "
               "next_attempt_at, late, created_at, ticket_id) VALUES ('old:1', 'console', "
               f"'engineers', 'queued by release 0001', 'pending', 0, {ts('2026-11-24 07:00:00')}, "
               f"FALSE, {ts('2026-11-24 07:00:00')}, :t)", t=ids["ticket"])
        c.execute(text(
            "INSERT INTO known_errors (id, title, product, affected_versions, symptoms, "
            "signatures, workaround, fixed_in, language, body, published, updated_at) VALUES "
            "('KE-0001', 'TTS engine timeout', 'Voice Bot', '4.0-4.2', "
            "'Callers hear silence; TTS engine timeout after 3000 ms', "
            "'[\"TTS engine timeout\"]', 'Purge the TTS cache and restart the worker.', '4.3', "
            f"'en', '', TRUE, {ts('2026-06-01 10:00:00')})"))
    engine.dispose()
    return ids


def test_upgrade_from_the_previous_release_keeps_data_and_works(
    empty_db_url: str, policy: Policy
) -> None:
    url = empty_db_url
    upgrade(url, "0001")
    ids = _fill_release_0001(url)
    upgrade(url)
    assert current_revision(url) == _head()
    assert _schema_drift(url) == []

    engine = make_engine(url)
    try:
        with Session(engine) as s:
            ticket = tickets.get_ticket(s, ids["ticket"])
            assert ticket.summary == "Ses botu Türkçe anonsları okumuyor"
            assert ticket.reported_at == datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
            assert [p.ended_at for p in tickets.pauses(s, ticket.id or 0)] == [
                datetime(2026, 11, 24, 9, 0, tzinfo=UTC)]
            v = tickets.view(s, policy, ticket, NOW).as_dict()
            assert v["customer"] == "ACME" or "ACME" in str(v)
            # the KB entry written before 0002 is found by the new full-text search
            hits = search_known_errors(s, "TTS engine timeout after 3000 ms",
                                       product="Voice Bot", version="4.2")
            assert hits and hits[0].entry.id == "KE-0001"
        # new rows get fresh ids after the raw inserts (sequences intact on PostgreSQL)
        with Session(engine, expire_on_commit=False) as s:
            customer = s.get(Customer, ids["customer"])
            contact = s.get(Contact, ids["contact"])
            assert customer is not None and contact is not None
            new = tickets.open_ticket(s, policy, customer, contact, "premium", "Second one",
                                      "S3", NOW, remote_access=True)
            s.commit()
            assert new.id is not None and new.id > ids["ticket"]
        # the SLA clocks of the old ticket run: reconciliation sends what is due, once
        core = SlaCore(engine, policy, make_routing())
        first = core.reconcile(NOW)
        assert first.tickets == 2 and first.enqueued > 0
        assert core.reconcile(NOW).enqueued == 0
        with Session(engine) as s:
            keys = outbox.keys_for_tickets(s, [ids["ticket"]])
            assert "old:1" in keys and any(k.startswith(f"t{ids['ticket']}:") for k in keys)
            assert s.exec(select(TicketEvent).where(
                TicketEvent.ticket_id == ids["ticket"])).first() is not None
        # the message queued by the old release is delivered by the new outbox code
        with Session(engine) as s:
            claimed = outbox.claim(s, NOW, 60, 100)
            assert "old:1" in {m.key for m in claimed}
            s.commit()
        with Session(engine) as s:
            assert s.exec(select(OutboxMessage).where(OutboxMessage.key == "old:1")).one(
            ).status == outbox.SENDING
            assert s.get(Ticket, ids["ticket"]) is not None
        assert leases.acquire(engine, leases.LEADER, "replica-a", 10) is not None
        assert leases.acquire(engine, leases.LEADER, "replica-b", 10) is None
    finally:
        engine.dispose()


def test_two_replicas_upgrading_at_once_both_succeed(empty_db_url: str) -> None:
    """Two processes run `destek db upgrade` against one empty database at the same moment:
    on PostgreSQL the advisory lock lets one migrate while the other waits and then finds the
    schema at head; SQLite's write lock serialises them. Both exit 0 (README, Schema
    migrations)."""
    import os
    import subprocess
    import sys

    code = "import sys; from storage.db import upgrade; upgrade(sys.argv[1])"
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    procs = [subprocess.Popen([sys.executable, "-c", code, empty_db_url], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [p.communicate(timeout=90) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _out, err in results]
    assert current_revision(empty_db_url) == _head()
    assert _schema_drift(empty_db_url) == []


def _fill_release_0004_contacts(url: str) -> dict[str, int]:
    """Contacts as release 0004 stored them (a column per platform), with rows that point at
    them: a ticket, an on-call override and a page."""
    engine = make_engine(url)
    pg = engine.dialect.name == "postgresql"
    stamp = "'2026-01-02 08:00:00+00'" if pg else "'2026-01-02 08:00:00'"
    ids: dict[str, int] = {}
    with engine.begin() as c:
        def insert(sql: str, **params: object) -> int:
            return int(c.execute(text(sql + " RETURNING id"), params).scalar_one())

        ids["customer"] = insert(
            "INSERT INTO customers (code, name, calendar, language, created_at) VALUES "
            f"('ACME', 'Acme', 'TR', 'tr', {stamp})")
        contact = ("INSERT INTO contacts (customer_id, name, role, trained, language, email, "
                   "slack_id, telegram_id, active, created_at) VALUES (:c, :n, :r, TRUE, 'tr', "
                   f":e, :s, :t, TRUE, {stamp})")
        ids["both"] = insert(contact, c=ids["customer"], n="Ayşe Demir", r="customer",
                             e="ayse@acme.example", s="U0ACME01", t=1001)
        ids["slack"] = insert(contact, c=None, n="Deniz Yılmaz", r="engineer", e=None,
                              s="U0ENG001", t=None)
        ids["telegram"] = insert(contact, c=ids["customer"], n="Mehmet Kaya", r="customer",
                                 e=None, s=None, t=5_000_000_000)  # beyond 32 bits
        ids["none"] = insert(contact, c=ids["customer"], n="Nobody", r="customer", e=None,
                             s=None, t=None)
        ids["ticket"] = insert(
            "INSERT INTO tickets (customer_id, contact_id, version_past_eos, summary, "
            "description, severity, remote_access, kind, status, tier, plan, family, calendar, "
            "language, channel, assignee_id, reported_at, created_at) VALUES (:c, :ct, FALSE, "
            "'old ticket', '', 'S3', TRUE, 'defect', 'open', 1, 'standard', 'call-recording', "
            f"'TR', 'tr', 'telegram', :e, {stamp}, {stamp})",
            c=ids["customer"], ct=ids["both"], e=ids["slack"])
        insert("INSERT INTO oncall_overrides (layer, engineer_id, starts_at, ends_at, reason, "
               f"created_by, created_at) VALUES ('primary', :e, {stamp}, {stamp}, 'swap', "
               f"'test', {stamp})", e=ids["slack"])
        insert("INSERT INTO pages (ticket_id, trigger, status, step, started_at, acked_by_id, "
               f"note) VALUES (:t, 'open', 'acked', 1, {stamp}, :e, '')",
               t=ids["ticket"], e=ids["slack"])
    engine.dispose()
    return ids


def _old_columns(url: str) -> dict[int, tuple[str | None, int | None]]:
    engine = make_engine(url)
    try:
        with engine.connect() as c:
            return {int(r[0]): (r[1], None if r[2] is None else int(r[2])) for r in c.execute(
                text("SELECT id, slack_id, telegram_id FROM contacts"))}
    finally:
        engine.dispose()


def test_0005_moves_platform_ids_into_identity_rows_and_back(empty_db_url: str) -> None:
    """A database at 0004 whose contacts have Slack and Telegram ids keeps them as identity
    rows (home workspace) after 0005, with every row pointing at a contact intact; the
    downgrade puts the columns and their values back, unique as before."""
    from alembic import command
    from sqlalchemy.exc import IntegrityError

    from handlers.identity import lookup_contact
    from storage import directory
    from storage.identities import external_ids
    from storage.models import ContactIdentity, OncallOverride, Page

    url = empty_db_url
    upgrade(url, "0004")
    ids = _fill_release_0004_contacts(url)
    before = _old_columns(url)
    upgrade(url)
    assert current_revision(url) == _head()
    assert _schema_drift(url) == []
    engine = make_engine(url)
    try:
        columns = {c["name"] for c in inspect(engine).get_columns("contacts")}
        assert "slack_id" not in columns and "telegram_id" not in columns
        with Session(engine) as s:
            rows = {(r.contact_id, r.channel, r.workspace, r.external_id)
                    for r in s.exec(select(ContactIdentity))}
            assert rows == {(ids["both"], "slack", "", "U0ACME01"),
                            (ids["both"], "telegram", "", "1001"),
                            (ids["slack"], "slack", "", "U0ENG001"),
                            (ids["telegram"], "telegram", "", "5000000000")}
            ayse = lookup_contact(s, "telegram", "1001")
            assert ayse is not None and ayse.id == ids["both"]
            assert ayse.email == "ayse@acme.example" and ayse.trained and ayse.language == "tr"
            assert lookup_contact(s, "slack", "U0ACME01") == ayse
            assert lookup_contact(s, "console", str(ids["none"])) is not None
            assert external_ids(s, ids["slack"]) == {"slack": "U0ENG001"}
            ticket = s.get(Ticket, ids["ticket"])
            assert ticket is not None and ticket.contact_id == ids["both"]
            assert ticket.assignee_id == ids["slack"]
            assert s.exec(select(OncallOverride)).one().engineer_id == ids["slack"]
            assert s.exec(select(Page)).one().acked_by_id == ids["slack"]
            # ids keep counting after the copied rows (PostgreSQL's sequence intact)
            new = directory.add_contact(s, "ACME", "Jane", identities={"slack": "U0NEW"})
            assert new.id is not None and new.id > max(ids.values())
            s.commit()
        # the old rows are still unique: the database refuses a second holder too
        with Session(engine) as s, s.begin():
            try:
                s.add(ContactIdentity(contact_id=ids["none"], channel="slack", workspace="",
                                      external_id="U0ACME01"))
                s.flush()
                raise AssertionError("a duplicate identity was stored")
            except IntegrityError:
                s.rollback()
    finally:
        engine.dispose()

    command.downgrade(alembic_config(url), "0004")
    assert current_revision(url) == "0004"
    after = _old_columns(url)
    assert after == {**before, max(after): (  # the contact added at 0005 keeps its Slack id
        "U0NEW", None)}
    engine = make_engine(url)
    try:
        assert "contact_identities" not in inspect(engine).get_table_names()
        with engine.connect() as c:
            assert c.execute(text("SELECT contact_id FROM tickets")).scalar_one() == ids["both"]
        for column, value in (("slack_id", "'U0ENG001'"), ("telegram_id", "1001")):
            try:
                with engine.begin() as c:
                    c.execute(text(f"UPDATE contacts SET {column} = {value} "
                                   f"WHERE id = {ids['none']}"))
                raise AssertionError(f"{column} is not unique after the downgrade")
            except IntegrityError:
                pass
    finally:
        engine.dispose()
    upgrade(url)  # and up again, from what the downgrade wrote
    assert _schema_drift(url) == []
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            assert len(list(s.exec(select(ContactIdentity)))) == 5
    finally:
        engine.dispose()
