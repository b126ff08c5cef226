"""The one routing builder (bot.routing): DESTEK_ENGINEERS / DESTEK_ALERTS and the older
per-channel settings, the rules over the configured channels, a person's direct message, and a
customer's channel for release notices read from their identities."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.routing import CONSOLE_ALERTS, CONSOLE_ENGINEERS, make_routing, routing_from_settings
from handlers.notify import person_destination
from handlers.releases import recipients
from handlers.types import Destination, Routing
from sla import Policy
from storage import directory, tickets
from storage.db import session_scope

SLACK = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "secret"}
TELEGRAM = {"TELEGRAM_BOT_TOKEN": "123:abc"}


def settings(**env: Any) -> Settings:
    return Settings(_env_file=None, **env)  # type: ignore[call-arg]


def test_one_setting_each_with_threads() -> None:
    routing = routing_from_settings(settings(
        **SLACK, **TELEGRAM,
        DESTEK_ENGINEERS="slack:C0ENG, telegram:-1001234/77",
        DESTEK_ALERTS="slack:C0ALERT/1712345678.000100",
        DESTEK_ENGINEERS_TZ="Europe/Berlin",
    ))
    assert routing.engineers == (Destination("slack", "C0ENG"),
                                 Destination("telegram", "-1001234", "77"))
    assert routing.alerts == (Destination("slack", "C0ALERT", "1712345678.000100"),)
    assert set(routing.channels) == {"slack", "telegram"}
    assert routing.engineers_tz == "Europe/Berlin"


def test_the_older_settings_still_work_and_come_after_the_new_ones() -> None:
    old = routing_from_settings(settings(
        **SLACK, **TELEGRAM,
        DESTEK_ENGINEERS_SLACK_CHANNEL="C0ENG", DESTEK_ENGINEERS_TELEGRAM_CHAT="-100200",
        DESTEK_ALERT_TELEGRAM_CHAT="-100900",
    ))
    assert old.engineers == (Destination("slack", "C0ENG"), Destination("telegram", "-100200"))
    assert old.alerts == (Destination("telegram", "-100900"),)
    both = routing_from_settings(settings(
        **SLACK, **TELEGRAM, DESTEK_ENGINEERS="telegram:-100200,slack:C0NEW",
        DESTEK_ENGINEERS_SLACK_CHANNEL="C0ENG", DESTEK_ENGINEERS_TELEGRAM_CHAT="-100200",
    ))
    # Written once each, in the order first given; alerts default to the engineers.
    assert both.engineers == (Destination("telegram", "-100200"), Destination("slack", "C0NEW"),
                              Destination("slack", "C0ENG"))
    assert both.alerts == both.engineers


def test_only_configured_channels_and_the_console_when_nothing_else() -> None:
    # A Slack channel without the Slack app: nowhere to send it, so the console has it.
    routing = routing_from_settings(settings(DESTEK_ENGINEERS="slack:C0ENG"))
    assert routing.engineers == (CONSOLE_ENGINEERS,)
    assert routing.alerts == (CONSOLE_ALERTS,)
    assert routing.channels == ("console",)
    telegram_only = routing_from_settings(settings(
        **TELEGRAM, DESTEK_ENGINEERS="slack:C0ENG,telegram:-100200",
        DESTEK_ALERTS="slack:C0ALERT"))
    assert telegram_only.engineers == (Destination("telegram", "-100200"),)
    assert telegram_only.alerts == telegram_only.engineers
    assert telegram_only.channels == ("telegram",)
    # The console is always configured: it may be named like any channel.
    assert routing_from_settings(settings(DESTEK_ALERTS="console:ops")).alerts == (
        Destination("console", "ops"),)
    assert make_routing() == Routing(engineers=(CONSOLE_ENGINEERS,), alerts=(CONSOLE_ALERTS,),
                                     channels=("console",))


@pytest.mark.parametrize(("name", "value", "problem"), [
    ("DESTEK_ENGINEERS", "teams:C0ENG", "unknown channel 'teams'"),
    ("DESTEK_ENGINEERS", "slack:C0ENG,slack:", "empty target"),
    ("DESTEK_ALERTS", "C0ALERT", "is not channel:target"),
    ("DESTEK_ALERTS", "telegram:-100/", "empty thread"),
])
def test_a_bad_entry_is_refused_at_load_naming_the_setting(name: str, value: str,
                                                           problem: str) -> None:
    with pytest.raises(ValidationError) as exc:
        settings(**{name: value})
    assert f"{name}: entry" in str(exc.value) and problem in str(exc.value)


def test_a_direct_message_goes_on_the_first_configured_channel_with_an_identity(
    engine: Engine,
) -> None:
    both = Routing(channels=("telegram", "slack"))
    with session_scope(engine) as s:
        deniz = directory.add_contact(s, None, "Deniz", "engineer", slack_id="U0ENG",
                                      telegram_id=9001)
        can = directory.add_contact(s, None, "Can", "engineer", telegram_id=9002)
        # Identities in channel-name order: Slack before Telegram, whatever the routing lists.
        assert person_destination(s, both, deniz) == Destination("slack", "U0ENG")
        assert person_destination(s, Routing(channels=("telegram",)), deniz) == \
            Destination("telegram", "9001")
        assert person_destination(s, Routing(channels=("slack",)), can) is None
        assert person_destination(s, make_routing(), can) == \
            Destination("console", f"contact:{can.id}")
        assert person_destination(s, Routing(), can) is None


def test_a_customer_is_told_on_a_channel_read_from_their_identities(
    engine: Engine, policy: Policy
) -> None:
    now = datetime(2026, 11, 25, 9, tzinfo=UTC)
    with session_scope(engine) as s:
        product = directory.add_product(s, "Voice Bot", "conversational-ai")
        directory.add_customer(s, "ACME", "Acme", "TR")
        directory.add_contract(s, "ACME", "premium", date(2026, 1, 1), date(2027, 12, 31))
        directory.add_contact(s, "ACME", "Bob", trained=True, identities={"teams": "29:1bob"})
        ayse = directory.add_contact(s, "ACME", "Ayşe", trained=True, slack_id="U0ACME",
                                     identities={"teams": "29:ayse"})
        tickets.open_ticket(s, policy, directory.get_customer(s, "ACME"), ayse, "premium",
                            "x", "S3", now, channel="teams")
        told = {r.contact.name: (r.channel, r.target) for r in recipients(s, product, now)}
        # A channel no list in the code names: Bob's only one; Ayşe's latest ticket's.
        assert told == {"Bob": ("teams", "29:1bob"), "Ayşe": ("teams", "29:ayse")}
