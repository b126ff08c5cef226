"""Slack Connect's records: ``destek customer set CODE --slack-channel C...`` maps a shared
channel to its customer, ``destek contact add ... --slack-id U... --slack-team T...`` knows a
customer's person by their own Slack team."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from bot import config
from bot.cli import load_commands
from bot.demo import seed
from storage.db import make_engine
from tests.test_slack_connect import ACME_TEAM, GULF_TEAM, NOW, ZEYNEP


@pytest.fixture
def run(db_url: str, policy, monkeypatch, tmp_path) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """The ``destek`` CLI on a seeded database (the demo's customers)."""
    engine = make_engine(db_url)
    with Session(engine) as s:
        seed(s, policy, NOW)
        s.commit()
    engine.dispose()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("DESTEK_POLICY", raising=False)
    config.get_settings.cache_clear()
    app, runner = load_commands(), CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    config.get_settings.cache_clear()


def test_customer_set_maps_channels_and_refuses_bad_input(run: Any) -> None:
    ok = run("customer", "set", "ACME", "--slack-channel", "C0ACME001",
             "--slack-channel", "G0ACME002")
    assert ok.exit_code == 0, ok.output
    assert "C0ACME001" in ok.output and "G0ACME002" in ok.output
    listed = run("customer", "list", "--json")
    rows = {r["code"]: r for r in json.loads(listed.output)}
    assert rows["ACME"]["slack_channels"] == ["C0ACME001", "G0ACME002"]
    assert rows["GULFBANK"]["slack_channels"] == []
    assert "C0ACME001,G0ACME002" in run("customer", "list").output
    again = run("customer", "set", "ACME", "--slack-channel", "C0ACME001")  # kept as it is
    assert again.exit_code == 0
    for args, says in [
        (("customer", "set", "GULFBANK", "--slack-channel", "C0ACME001"), "already mapped to "
         "customer ACME"),
        (("customer", "set", "NOPE", "--slack-channel", "C0NOPE001"), "unknown customer"),
        (("customer", "set", "GULFBANK", "--slack-channel", "#support"), "channel's id"),
        (("customer", "set", "GULFBANK", "--slack-channel", "D0ACME001"), "channel's id"),
        (("customer", "set", "GULFBANK", "--slack-channel", "c0lower01"), "channel's id"),
        (("customer", "set", "GULFBANK"), "nothing to set"),
        (("customer", "set", "GULFBANK", "--remove-slack-channel", "C0ACME001"), "not mapped"),
    ]:
        bad = run(*args)
        assert bad.exit_code != 0 and says in bad.output, (args, bad.output)
    rows = {r["code"]: r for r in json.loads(run("customer", "list", "--json").output)}
    assert rows["GULFBANK"]["slack_channels"] == []  # nothing changed
    removed = run("customer", "set", "ACME", "--remove-slack-channel", "G0ACME002")
    assert removed.exit_code == 0 and "G0ACME002" not in removed.output


def test_contact_add_with_a_slack_team(run: Any, db_url: str) -> None:
    ok = run("contact", "add", "ACME", "Zeynep Kaya", "--trained", "--slack-id", ZEYNEP,
             "--slack-team", ACME_TEAM)
    assert ok.exit_code == 0, ok.output
    # the same user id in another team is another person; in the same team it is refused
    other = run("contact", "add", "GULFBANK", "Z. Other", "--slack-id", ZEYNEP, "--slack-team",
                GULF_TEAM)
    assert other.exit_code == 0, other.output
    dup = run("contact", "add", "GULFBANK", "Z. Again", "--slack-id", ZEYNEP, "--slack-team",
              GULF_TEAM)
    assert dup.exit_code != 0 and "already a contact" in dup.output
    for args, says in [
        (("--slack-team", "acme"), "Slack team id"),
        (("--slack-team", ACME_TEAM), "needs the user id"),
    ]:
        extra = ["--slack-id", "U0NEW0001"] if "needs" not in says else []
        bad = run("contact", "add", "ACME", "Someone New", *extra, *args)
        assert bad.exit_code != 0 and says in bad.output, (args, bad.output)
    home = run("contact", "add", "ACME", "Home User", "--slack-id", "U0HOME001")
    assert home.exit_code == 0
    rows = {r["name"]: r for r in json.loads(run("contact", "list", "--json").output)}
    assert rows["Zeynep Kaya"]["slack_id"] == ZEYNEP
    assert rows["Zeynep Kaya"]["slack_team"] == ACME_TEAM
    assert rows["Home User"]["slack_team"] is None
    assert "Someone New" not in rows
    from handlers.identity import lookup_contact

    engine = make_engine(db_url)
    with Session(engine) as s:
        found = lookup_contact(s, "slack", ZEYNEP, ACME_TEAM)
        assert found is not None and found.name == "Zeynep Kaya"
        assert lookup_contact(s, "slack", ZEYNEP) is None  # not in the home workspace
        home_c = lookup_contact(s, "slack", "U0HOME001")
        assert home_c is not None and home_c.name == "Home User"
    engine.dispose()
