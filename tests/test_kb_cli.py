"""``destek kb …``, ``destek ai …`` and ``destek usage report`` through the real CLI."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

import bot.cli.kb  # noqa: F401  (registers the commands)
import bot.demo  # noqa: F401
from bot.cli import app
from bot.config import get_settings
from storage.db import engine_for, session_scope
from storage.models import AIUsage, Ticket, TicketStatus
from tests.pg import database_url

DEMO_KB = Path(__file__).resolve().parents[1] / "bot" / "demo_kb"
KEY = "sk-acme-very-secret-key-000111222"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("DATABASE_URL", database_url(tmp_path / 'cli.db'))
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    runner = CliRunner()
    res = runner.invoke(app, ["demo", "--no-chat"])
    assert res.exit_code == 0, res.output
    yield runner
    get_settings.cache_clear()


def run(cli: CliRunner, *args: str) -> str:
    res = cli.invoke(app, list(args))
    assert res.exit_code == 0, res.output
    return res.output


def test_kb_import_search_list(cli: CliRunner, tmp_path: Path) -> None:
    out = run(cli, "kb", "import", str(DEMO_KB))
    assert "0 added, 0 updated, 14 unchanged" in out  # the demo already imported them
    folder = tmp_path / "mine"
    folder.mkdir()
    for p in DEMO_KB.glob("KE-000[12].md"):
        (folder / p.name).write_text(p.read_text(encoding="utf-8").replace(
            'fixed_in: "4.3"', 'fixed_in: "4.4"'), encoding="utf-8")
    (folder / "KE-0100.md").write_text(
        "---\nid: KE-0100\ntitle: Yeni KAYIT hatası\nlanguage: tr\n---\n## Belirtiler\nİSTEK\n",
        encoding="utf-8")
    out = run(cli, "kb", "import", str(folder))
    assert "updated   KE-0001 (fixed_in)" in out and "added     KE-0100" in out
    assert "1 added, 2 updated, 0 unchanged" in out

    rows = json.loads(run(cli, "kb", "search", "istek kayıt", "--json"))
    assert rows[0]["id"] == "KE-0100"
    rows = json.loads(run(cli, "kb", "search", "TTS engine timeout after 3000 ms",
                          "--product", "Voice Bot", "--version", "4.2", "--json"))
    assert rows[0]["id"] == "KE-0001" and rows[0]["fixed_in"] == "4.4"
    listed = json.loads(run(cli, "kb", "list", "--json"))
    assert len(listed) == 15 and listed[0]["signatures"]
    assert "KE-0014" in run(cli, "kb", "list")

    res = cli.invoke(app, ["kb", "import", str(tmp_path / "missing")])
    assert res.exit_code == 2 and "not a folder" in res.output


def test_kb_add_from_ticket(cli: CliRunner) -> None:
    url = get_settings().database_url
    res = cli.invoke(app, ["kb", "add", "--from-ticket", "1"])
    assert res.exit_code == 2 and "resolved" in res.output
    with session_scope(engine_for(url)) as s:
        t = s.get(Ticket, 1)
        assert t is not None
        t.status = TicketStatus.RESOLVED
        t.workaround_text = "Purge the TTS cache and restart the TTS worker."
        s.add(t)
    out = run(cli, "kb", "add", "--from-ticket", "1", "--id", "KE-0500")
    assert "KE-0500" in out and "Draft" in out
    # A draft holds one customer's words: nobody else finds it until it is published.
    rows = json.loads(run(cli, "kb", "search", "purge cache restart worker", "--json"))
    assert all(r["id"] != "KE-0500" for r in rows)
    assert "title changed" in run(cli, "kb", "edit", "KE-0500", "title",
                                  "TTS cache corrupt: voice bot silent")
    assert "published" in run(cli, "kb", "publish", "KE-0500")
    res = cli.invoke(app, ["kb", "publish", "KE-0500"])
    assert "already published" in res.output
    res = cli.invoke(app, ["kb", "edit", "KE-0500", "colour", "x"])
    assert res.exit_code == 2 and "Unknown field" in res.output
    rows = json.loads(run(cli, "kb", "search", "purge cache restart worker", "--json"))
    mine = next(r for r in rows if r["id"] == "KE-0500")
    assert mine["source_ticket_id"] == 1 and mine["product"] == "Voice Bot"


def test_ai_subscriptions_and_usage_report(cli: CliRunner,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    res = cli.invoke(app, ["ai", "set", "ACME", "--key", KEY])  # no DESTEK_SECRET_KEYS yet
    assert res.exit_code == 2 and "DESTEK_SECRET_KEYS" in res.output and KEY not in res.output
    secret = run(cli, "secret-key").strip()
    monkeypatch.setenv("DESTEK_SECRET_KEYS", secret)
    get_settings.cache_clear()
    out = run(cli, "ai", "set", "ACME", "--key", KEY, "--model", "gpt-acme")
    assert KEY not in out and "sk-…1222" in out
    run(cli, "ai", "set", "ACME", "--product", "Voice Bot", "--key", KEY + "X",
        "--base-url", "https://acme.openai.azure.com")
    run(cli, "ai", "set", "ACME", "--key", KEY + "Y")  # replaces, does not add
    for args in (["ai", "list"], ["ai", "list", "--json"]):
        out = run(cli, *args)
        assert KEY not in out
    rows = json.loads(run(cli, "ai", "list", "--json"))
    assert [(r["customer"], r["product"], r["sealed"]) for r in rows] == [
        ("ACME", "(all)", "yes"), ("ACME", "Voice Bot", "yes")]
    assert "0 key(s) sealed again" in run(cli, "ai", "reseal")
    res = cli.invoke(app, ["ai", "set", "NOPE", "--key", "k"])
    assert res.exit_code == 2
    res = cli.invoke(app, ["ai", "set", "ACME", "--key", "k", "--base-url", "ftp://x"])
    assert res.exit_code == 2

    url = get_settings().database_url
    now = datetime.now(UTC)
    with session_scope(engine_for(url)) as s:
        for pt, ct, outcome in [(100, 20, "ok"), (80, 10, "dropped"), (0, 0, "timeout")]:
            s.add(AIUsage(at=now, customer_id=1, product_id=1, ticket_id=1, model="gpt-acme",
                          prompt_tokens=pt, completion_tokens=ct, outcome=outcome))
    out = run(cli, "usage", "report", "--month", now.strftime("%Y-%m"), "--customer", "ACME",
              "--csv")
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert (row["customer"], row["calls"], row["prompt_tokens"], row["completion_tokens"],
            row["total_tokens"], row["ok"], row["dropped"], row["timeout"]) == \
        ("ACME", "3", "180", "30", "210", "1", "1", "1")
    res = cli.invoke(app, ["usage", "report", "--month", "November"])
    assert res.exit_code == 2 and "2026-11" in res.output
