"""Release notices (P7) and end-of-support notices (P8): who is told, in which language and
channel, and exactly once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import time_machine
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from typer.testing import CliRunner

from bot.report_render import eos_notices_job
from handlers.releases import add_release, eos_notices
from sla import Policy
from storage import directory, tickets
from storage.db import session_scope
from storage.directory import RecordError
from storage.models import OutboxMessage, ProductVersion, Release
from tests.pg import database_url

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def seed(engine: Engine, policy: Policy) -> None:
    with session_scope(engine) as s:
        directory.add_product(s, "Voice Bot", "conversational-ai")
        directory.add_product(s, "Call Recorder", "call-recording")
        directory.add_version(s, "Voice Bot", "3.1", date(2022, 2, 10))  # EOS 2027-02-10
        directory.add_version(s, "Voice Bot", "2.0", date(2021, 1, 5))  # EOS passed
        directory.add_version(s, "Call Recorder", "4.0", date(2022, 4, 1))  # EOS > 90 days
        directory.add_customer(s, "ACME", "Acme", "TR", language="tr")
        directory.add_customer(s, "GULF", "Gulf", "ME")
        directory.add_customer(s, "NW", "Northwind", "US", "America/Chicago")
        directory.add_customer(s, "OLDCO", "Old", "TR")
        directory.add_contract(s, "ACME", "premium", date(2026, 1, 1), date(2027, 12, 31))
        directory.add_contract(s, "GULF", "standard", date(2026, 1, 1), date(2027, 12, 31),
                               ["Call Recorder"])
        directory.add_contract(s, "NW", "standard", date(2026, 1, 1), date(2026, 12, 31),
                               ["Voice Bot"])
        directory.add_contract(s, "OLDCO", "standard", date(2023, 1, 1), date(2025, 12, 31))
        ayse = directory.add_contact(s, "ACME", "Ayşe", trained=True, language="tr",
                                     slack_id="U0ACME", telegram_id=1001)
        directory.add_contact(s, "ACME", "Mehmet", language="tr", telegram_id=1002)  # untrained
        directory.add_contact(s, "ACME", "Nobody", trained=True)  # no channel id
        directory.add_contact(s, "GULF", "Omar", trained=True, slack_id="U0GULF")
        directory.add_contact(s, "NW", "Jane", trained=True, telegram_id=3001)
        directory.add_contact(s, "OLDCO", "Tom", trained=True, telegram_id=4001)
        directory.add_contact(s, None, "Deniz", role="engineer", telegram_id=9001)
        # Ayşe last reported through Telegram: that is her channel.
        tickets.open_ticket(s, policy, directory.get_customer(s, "ACME"), ayse, "premium",
                            "x", "S3", NOW, channel="telegram")


def outbox(s) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    return list(s.exec(select(OutboxMessage).order_by(col(OutboxMessage.key))))


def test_release_notice_once_per_contact(engine: Engine, policy: Policy) -> None:
    seed(engine, policy)
    with session_scope(engine) as s:
        result = add_release(s, "Voice Bot", "4.3", "patch", "Fixes the TTS timeout.",
                             date(2026, 11, 20), NOW)
        assert result.new_version and result.queued == 2
        rid = result.release.id
        msgs = outbox(s)
        acme = directory.get_customer(s, "ACME").id
        nw = directory.get_customer(s, "NW").id
        assert [(m.key.split(":")[3], m.channel, m.target) for m in msgs] == [
            (str(acme), "telegram", "1001"), (str(nw), "telegram", "3001")]
        assert msgs[0].key.startswith(f"release:{rid}:customer:{acme}:")
        tr = next(m for m in msgs if m.target == "1001").text
        en = next(m for m in msgs if m.target == "3001").text
        assert "yeni sürüm: 4.3, yama" in tr and "Fixes the TTS timeout." in tr
        assert "New release of Voice Bot: version 4.3, a patch (bug fixes)" in en
        # A second release of the same version is refused: nothing recorded, nothing queued.
        with pytest.raises(RecordError, match="already released"):
            add_release(s, "Voice Bot", "4.3", "package", "Adds a feature.",
                        date(2026, 11, 21), NOW)
        assert len(outbox(s)) == 2
        assert len(s.exec(select(ProductVersion).where(
            ProductVersion.version == "4.3")).all()) == 1
        # A version recorded before (version add) is announced once, as not new.
        known = add_release(s, "Voice Bot", "3.1", "package", "Long-term build.",
                            date(2026, 11, 21), NOW)
        assert not known.new_version
        with pytest.raises(RecordError, match="patch or package"):
            add_release(s, "Voice Bot", "4.4", "hotfix", "", date(2026, 11, 21), NOW)
        with pytest.raises(RecordError, match="unknown product"):
            add_release(s, "Nope", "1.0", "patch", "", date(2026, 11, 21), NOW)
        assert len(s.exec(select(Release)).all()) == 2


def test_eos_notices_run_twice_send_nothing_new(engine: Engine, policy: Policy) -> None:
    seed(engine, policy)
    with session_scope(engine) as s:
        first = eos_notices(s, policy, NOW)
        # Only Voice Bot 3.1 ends within 90 days (2027-02-10); ACME and NW cover Voice Bot.
        assert sorted((n.product, n.version, n.ends, n.customer, n.channel) for n in first) == [
            ("Voice Bot", "3.1", date(2027, 2, 10), "ACME", "telegram"),
            ("Voice Bot", "3.1", date(2027, 2, 10), "NW", "telegram")]
        texts = {m.target: m.text for m in outbox(s)}
        assert "3.1" in texts["1001"] and "2027-02-10" in texts["1001"] and "Destek sonu" in \
            texts["1001"]
        assert texts["3001"].startswith("End of support: Voice Bot 3.1")
        assert eos_notices(s, policy, NOW) == []
        count = len(outbox(s))
    assert eos_notices_job(str(engine.url.render_as_string(hide_password=False)), None,
                           NOW) == 0
    with session_scope(engine) as s:
        assert len(outbox(s)) == count
        # Outside the 90-day window: nothing.
        assert eos_notices(s, policy, datetime(2026, 11, 11, tzinfo=UTC)) == []


def test_release_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, policy: Policy) -> None:
    from bot import config
    from bot.cli import load_commands
    from storage.db import make_engine, upgrade

    url = database_url(tmp_path / 'r.db')
    upgrade(url)
    engine = make_engine(url)
    seed(engine, policy)
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    config.get_settings.cache_clear()
    notes = tmp_path / "notes.md"
    notes.write_text("Fixes the TTS timeout.\n", encoding="utf-8")
    runner = CliRunner()
    app = load_commands()
    # The CLI runs on the real clock: pin it to the day the seeded contracts are in force.
    travel = time_machine.travel(NOW, tick=True)
    travel.start()
    try:
        out = runner.invoke(app, ["release", "add", "Call Recorder", "5.6", "--kind", "package",
                                  "--notes", str(notes), "--released", "2026-11-20"])
        assert out.exit_code == 0, out.output
        assert "new version; 2 notice(s) queued" in out.output  # ACME (all products), GULF
        bad = runner.invoke(app, ["release", "add", "Call Recorder", "5.7", "--kind", "x",
                                  "--notes", str(notes)])
        assert bad.exit_code == 2 and "patch or package" in bad.output
        bad = runner.invoke(app, ["release", "add", "Call Recorder", "5.7", "--kind", "patch",
                                  "--notes", str(tmp_path / "missing.md")])
        assert bad.exit_code == 2 and "cannot read notes file" in bad.output
        out = runner.invoke(app, ["release", "eos-notices"])
        assert out.exit_code == 0, out.output
    finally:
        travel.stop()
        config.get_settings.cache_clear()
