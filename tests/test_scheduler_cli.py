"""``destek sla status`` and ``destek sla replay``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

import bot.cli.sla  # noqa: F401 - registers the commands
from bot.cli import app
from bot.config import get_settings
from bot.jobs.sla_passes import SlaCore
from bot.routing import make_routing
from sla import Policy
from storage.db import make_engine

from .test_scheduler import seed


@pytest.fixture
def url(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    get_settings.cache_clear()
    yield sqlite_url
    get_settings.cache_clear()


def test_status_and_replay(url: str, policy: Policy) -> None:
    engine = make_engine(url)
    reported = datetime.now(UTC) - timedelta(minutes=20)
    tid = seed(engine, policy, reported, severity="S1", plan="premium")
    SlaCore(engine, policy, make_routing()).process_ticket(tid, datetime.now(UTC))  # 50 % reminder
    runner = CliRunner()
    res = runner.invoke(app, ["sla", "status", "--json"])
    assert res.exit_code == 0, res.output
    (row,) = json.loads(res.output)
    assert row["number"] == tid and row["next"]["threshold"] == "75%"
    assert [c["clock"] for c in row["clocks"]] == ["response", "workaround", "resolution"]
    res = runner.invoke(app, ["sla", "status"])
    assert res.exit_code == 0 and "response 75%" in res.output
    res = runner.invoke(app, ["sla", "replay", str(tid)])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert "opened" in lines[1]
    assert any("response 50% (passed)" in ln for ln in lines)
    assert any("breach" in ln and "(planned)" in ln for ln in lines)
    assert any("message pending" in ln and "console:contact:" in ln for ln in lines)
    res = runner.invoke(app, ["sla", "replay", "999"])
    assert res.exit_code == 2 and "no ticket #999" in res.output
    engine.dispose()
