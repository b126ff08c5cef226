"""Knowledge base: import, full-text search with ranking and boosts, Turkish folding, handlers.

Storage-level tests run on SQLite (FTS5) and PostgreSQL (tsvector) through ``engine``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select

from bot.demo import seed
from handlers import knowledge
from storage import kb
from storage.db import session_scope
from storage.models import KnownError, Ticket, TicketEvent, TicketStatus

DEMO_KB = Path(__file__).resolve().parents[1] / "bot" / "demo_kb"


def entry(kb_id: str, title: str, **kw: object) -> str:
    meta = {"id": kb_id, "title": title, **kw}
    body = meta.pop("body", "")
    lines = ["---"] + [f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in meta.items()]
    return "\n".join(lines) + "\n---\n" + str(body) + "\n"


def write(folder: Path, name: str, content: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(content, encoding="utf-8")


def ids(matches: list[kb.KBMatch]) -> list[str]:
    return [m.entry.id for m in matches]


@pytest.fixture
def demo_kb(engine: Engine) -> Engine:
    with session_scope(engine) as s:
        kb.import_dir(s, DEMO_KB)
    return engine


# -- normalisation ---------------------------------------------------------------------------


def test_turkish_folding() -> None:
    assert kb.fold("İSTEK") == kb.fold("istek") == "istek"
    assert kb.fold("KAYIT") == kb.fold("kayıt") == kb.fold("Kayit") == "kayit"
    assert kb.fold("Şifre Değişikliği ÇÖZÜM") == "sifre degisikligi cozum"
    assert kb.tokens("TTS_engine timeout: E-1042") == ["tts", "engine", "timeout", "e", "1042"]


@pytest.mark.parametrize(("version", "affected", "expected"), [
    ("4.2", "4.0-4.2", True), ("4.3", "4.0-4.2", False), ("4.1", "4.x", True),
    ("5.5", "4.0, 5.5", True), ("5.4", "4.0, 5.5", False), ("4.2.1", "4.2", True),
    ("4.2", ">=4.0,<4.3", True), ("4.3", ">=4.0,<4.3", False), ("7.0", "*", True),
    (None, "4.2", False), ("4.2", None, False),
])
def test_version_affected(version: str | None, affected: str | None, expected: bool) -> None:
    assert kb.version_affected(version, affected) is expected


# -- import ----------------------------------------------------------------------------------


def test_import_reports_added_updated_unchanged(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    write(folder, "a.md", entry("KE-1", "Recorder stops", product="Call Recorder",
                                symptoms="no recordings", workaround="restart capture"))
    write(folder, "b.md", entry("KE-2", "Bot silent", body="## Symptoms\nsilence\n\n"
                                "## Workaround\nrestart tts\n"))
    with session_scope(engine) as s:
        first = kb.import_dir(s, folder)
    assert [(c.id, c.status) for c in first] == [("KE-1", "added"), ("KE-2", "added")]
    with session_scope(engine) as s:
        e2 = s.get(KnownError, "KE-2")
        assert e2 is not None
        assert (e2.symptoms, e2.workaround) == ("silence", "restart tts")

    write(folder, "a.md", entry("KE-1", "Recorder stops recording", product="Call Recorder",
                                symptoms="no recordings", workaround="restart capture service",
                                fixed_in="5.6"))
    with session_scope(engine) as s:
        second = kb.import_dir(s, folder)
    assert [(c.id, c.status, c.fields) for c in second] == [
        ("KE-1", "updated", ["title", "workaround", "fixed_in"]), ("KE-2", "unchanged", []),
    ]
    with session_scope(engine) as s:
        assert ids(kb.search_known_errors(s, "capture service")) == ["KE-1"]
        assert len(kb.list_entries(s)) == 2


def test_bad_file_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    folder = tmp_path / "kb"
    write(folder, "good.md", entry("KE-1", "Fine"))
    write(folder, "bad.md", "no front matter here\n")
    write(folder, "dup.md", entry("KE-1", "Same id again"))
    with session_scope(engine) as s, pytest.raises(kb.KBError) as err:
        kb.import_dir(s, folder)
    assert "bad.md" in str(err.value) and "already used" in str(err.value)
    with session_scope(engine) as s:
        assert kb.list_entries(s) == []


def test_schema_without_index_falls_back_to_a_scan() -> None:
    from sqlmodel import SQLModel

    from storage.db import make_engine

    eng = make_engine("sqlite://")
    SQLModel.metadata.create_all(eng)
    with session_scope(eng) as s:
        kb.import_dir(s, DEMO_KB)
    with session_scope(eng) as s:
        assert ids(kb.search_known_errors(s, "SIPREC session refused: 488"))[0] == "KE-0010"
    eng.dispose()


def test_demo_kb_imports(demo_kb: Engine) -> None:
    with session_scope(demo_kb) as s:
        entries = kb.list_entries(s)
    assert len(entries) >= 12
    assert {e.family for e in entries} == {"conversational-ai", "conversational-analytics",
                                           "call-recording"}
    assert {"en", "tr"} <= {e.language for e in entries}


# -- search ----------------------------------------------------------------------------------


def test_exact_signature_ranks_first(demo_kb: Engine) -> None:
    with session_scope(demo_kb) as s:
        found = kb.search_known_errors(
            s, "calls fail, the log says SIPREC session refused: 488 Not Acceptable Here")
        assert found[0].entry.id == "KE-0010"
        # Both literal signatures of KE-0001 are in the concrete line from a ticket.
        found = kb.search_known_errors(s, "callers hear nothing; TTS engine timeout after 3000 ms")
        assert found[0].entry.id == "KE-0001"
        assert found[0].score > found[1].score + 2


def test_signatures_are_literal_never_patterns(engine: Engine, tmp_path: Path) -> None:
    """A signature copied from a customer's error text is never compiled: `/(x+x+)+y/` with a
    40-character message once froze the whole bot (catastrophic backtracking)."""
    import time

    with session_scope(engine) as s:
        kb.upsert(s, {"id": "KE-EVIL", "title": "Recorder crashes on import",
                      "symptoms": "recorder crashes", "signatures": json.dumps(["/(x+x+)+y/"])})
        started = time.perf_counter()
        plain = kb.search_known_errors(s, "recorder crashes " + "x" * 40)
        assert time.perf_counter() - started < 2
        quoted = kb.search_known_errors(s, "recorder crashes, the log says /(x+x+)+y/")
        assert plain[0].entry.id == quoted[0].entry.id == "KE-EVIL"
        assert quoted[0].score > plain[0].score  # the literal text is a signature hit
    (tmp_path / "KE-RX.md").write_text(
        "---\nid: KE-RX\ntitle: Old style\nsignatures:\n  - \"/timeout after \\\\d+ ms/\"\n"
        "---\n## Symptoms\nx\n## Workaround\ny\n", encoding="utf-8")
    with session_scope(engine) as s, pytest.raises(kb.KBError, match="literal text"):
        kb.import_dir(s, tmp_path)


def test_signature_beats_plain_word_overlap(engine: Engine) -> None:
    with session_scope(engine) as s:
        kb.upsert(s, {"id": "KE-A", "title": "Recording stops recording recordings",
                      "symptoms": "recording recording stops", "signatures": "[]"})
        kb.upsert(s, {"id": "KE-B", "title": "Capture crash", "symptoms": "service ends",
                      "signatures": json.dumps(["ERR_CAP_7731"])})
    with session_scope(engine) as s:
        assert ids(kb.search_known_errors(s, "recording stops with ERR_CAP_7731"))[0] == "KE-B"


def test_product_and_version_boost(engine: Engine) -> None:
    common = {"symptoms": "export job hangs at 99 percent", "signatures": "[]"}
    with session_scope(engine) as s:
        kb.upsert(s, {"id": "KE-R", "title": "Export hangs", "product": "Call Recorder",
                      "affected_versions": "5.0-5.5", "fixed_in": "5.6", **common})
        kb.upsert(s, {"id": "KE-S", "title": "Export hangs", "product": "Speech Analytics",
                      "affected_versions": "7.0", **common})
        kb.upsert(s, {"id": "KE-S6", "title": "Export hangs", "product": "Speech Analytics",
                      "affected_versions": "6.4", **common})
    with session_scope(engine) as s:
        q = "export hangs"
        assert ids(kb.search_known_errors(s, q, product="Call Recorder"))[0] == "KE-R"
        assert ids(kb.search_known_errors(s, q, product="Speech Analytics", version="6.4"))[
            :2] == ["KE-S6", "KE-S"]
        assert ids(kb.search_known_errors(s, q, product="Speech Analytics", version="7.0"))[
            :2] == ["KE-S", "KE-S6"]
        # Fixed in the customer's version: still found, but ranked below.
        r = kb.search_known_errors(s, q, product="Call Recorder", version="5.6", limit=3)
        fixed = next(m for m in r if m.entry.id == "KE-R")
        r55 = kb.search_known_errors(s, q, product="Call Recorder", version="5.5", limit=3)
        assert next(m for m in r55 if m.entry.id == "KE-R").score > fixed.score


def test_turkish_search(demo_kb: Engine) -> None:
    with session_scope(demo_kb) as s:
        assert ids(kb.search_known_errors(s, "KAYITLAR DİNLENİRKEN DOSYA BULUNAMADI"))[0] == \
            "KE-0011"
        assert "KE-0003" in ids(kb.search_known_errors(s, "istek kayıtlarında tarih", limit=5))
        assert "KE-0003" in ids(kb.search_known_errors(s, "İSTEK", limit=5))
        assert "KE-0006" in ids(kb.search_known_errors(s, "kayit edilirken", limit=5))
        assert "KE-0006" in ids(kb.search_known_errors(s, "KAYIT EDİLİRKEN", limit=5))
        assert ids(kb.search_known_errors(s, "duygu skoru notr"))[0] == "KE-0008"


def test_unpublished_and_deleted_entries_are_not_found(demo_kb: Engine) -> None:
    with session_scope(demo_kb) as s:
        e = s.get(KnownError, "KE-0012")
        assert e is not None
        e.published = False
        s.add(e)
        s.delete(s.get(KnownError, "KE-0013"))
    with session_scope(demo_kb) as s:
        found = ids(kb.search_known_errors(s, "DXGI_ERROR_ACCESS_LOST LICENSE_CLOCK_SKEW",
                                           limit=10))
        assert "KE-0012" not in found and "KE-0013" not in found
        assert kb.search_known_errors(s, "the of and") == []


def test_index_follows_updates(demo_kb: Engine) -> None:
    with session_scope(demo_kb) as s:
        e = s.get(KnownError, "KE-0014")
        assert e is not None
        e.symptoms = "zebra quagga okapi"
        s.add(e)
    with session_scope(demo_kb) as s:
        assert ids(kb.search_known_errors(s, "quagga")) == ["KE-0014"]
        assert ids(kb.search_known_errors(s, "RFC2833 DTMF not negotiated"))[0] == "KE-0014"
        stored = s.connection().execute(
            text("SELECT search_text FROM known_errors WHERE id = 'KE-0014'")).scalar_one()
        assert "quagga" in stored


# -- engineers' verbs ------------------------------------------------------------------------


@pytest.fixture
def demo_db(engine: Engine, policy, clock) -> Engine:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        seed(s, policy, clock())
    return engine


def _ticket(s, summary_start: str) -> Ticket:  # type: ignore[no-untyped-def]
    return next(t for t in s.exec(select(Ticket)) if t.summary.startswith(summary_start))


def test_suggest_link_and_add_from_ticket(demo_db: Engine) -> None:
    with session_scope(demo_db) as s:
        t1 = _ticket(s, "IVR voice bot")
        reply = knowledge.suggest(s, t1.id, lang="en")
        assert reply.meta["kb_ids"].split(",")[0] == "KE-0001"
        assert reply.choices[0].value == f"link {t1.id} KE-0001"
        assert "KE-0001" in reply.text and "4.3" in reply.text
        tr = knowledge.suggest(s, t1.id, lang="tr")
        assert "Anlık çözüm" in tr.text
        assert "yok" in knowledge.suggest(s, 999, lang="tr").text

        linked = knowledge.link(s, t1.id, "KE-0001", None)
        assert linked.meta["kb_id"] == "KE-0001"
        again = knowledge.link(s, t1.id, "KE-0001", None)
        assert "already" in again.text
        assert "no known error" in knowledge.link(s, t1.id, "KE-9999", None).text.lower()
        kinds = [e.kind for e in s.exec(select(TicketEvent).where(TicketEvent.ticket_id == t1.id))]
        assert kinds.count(knowledge.LINK_EVENT) == 1

        t2 = _ticket(s, "Recordings of branch 12")
        refused = knowledge.kb_add_from_ticket(s, t2.id)
        assert "kb_id" not in refused.meta and "resolved" in refused.text
        t2.status = TicketStatus.RESOLVED
        t2.error_text = "CAPTURE_WORKER_DEADLOCK on node rec-2\nsecond line"
        t2.workaround_text = "Restart the capture worker on rec-2 every night."
        t2.fix_version = "5.6"
        s.add(t2)
        s.flush()
        added = knowledge.kb_add_from_ticket(s, t2.id)
        new_id = added.meta["kb_id"]
        assert new_id == "KE-0015"
        entry = s.get(KnownError, new_id)
        assert entry is not None
        assert (entry.product, entry.family, entry.affected_versions, entry.fixed_in,
                entry.source_ticket_id) == ("Call Recorder", "call-recording", "5.5", "5.6", t2.id)
        assert kb.signature_list(entry) == ["CAPTURE_WORKER_DEADLOCK on node rec-2"]
        assert "already exists" in knowledge.kb_add_from_ticket(s, t2.id, kb_id=new_id).text
        assert entry.published is False  # a draft: the customer's own words
    with session_scope(demo_db) as s:
        found = kb.search_known_errors(s, "log: CAPTURE_WORKER_DEADLOCK on node rec-2")
        assert all(m.entry.id != "KE-0015" for m in found)
        assert "published" in knowledge.kb_publish(s, "KE-0015").text
    with session_scope(demo_db) as s:
        found = kb.search_known_errors(s, "log: CAPTURE_WORKER_DEADLOCK on node rec-2")
        assert found[0].entry.id == "KE-0015"


def test_fulltext_migration_down_and_up(db_url: str) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from storage.db import alembic_config, make_engine, upgrade

    eng = make_engine(db_url)
    with session_scope(eng) as s:
        kb.import_dir(s, DEMO_KB)
    command.downgrade(alembic_config(db_url), "0001")
    eng.dispose()
    eng = make_engine(db_url)
    cols = {c["name"] for c in inspect(eng).get_columns("known_errors")}
    assert "search_text" not in cols and "known_errors_fts" not in inspect(eng).get_table_names()
    eng.dispose()
    kb.search_index._HAS_SEARCH.clear()
    upgrade(db_url)  # 0002 fills search_text for the entries already there
    eng = make_engine(db_url)
    with session_scope(eng) as s:
        assert ids(kb.search_known_errors(s, "KAYITLAR dinlenirken dosya bulunamadı"))[0] == \
            "KE-0011"
    eng.dispose()
