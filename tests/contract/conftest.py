"""Fixtures of the channel contract: one ``driver`` per registered channel (drivers.DRIVERS),
on a freshly migrated and seeded database of the run's store (DESTEK_TEST_DB), and the
session-wide record of every channel's run that the cross-channel comparison reads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.demo import seed
from sla import Policy
from storage.db import make_engine, session_scope
from tests.conftest import Clock

from .drivers import DRIVERS, Driver, Env


@pytest.fixture(scope="session")
def policy(policy: Policy) -> Policy:
    """The shipped policy with automatic assignment on (issue #19; off in the shipped file),
    so the script sees a new report auto-assigned on every channel."""
    return policy.model_copy(update={"assignment": policy.assignment.model_copy(
        update={"auto": True})})


@pytest.fixture(params=DRIVERS, ids=[d.name for d in DRIVERS])
async def driver(request: pytest.FixtureRequest, sqlite_url: str, policy: Policy, clock: Clock,
                 tmp_path: Path) -> AsyncIterator[Driver]:
    """The channel ``request.param`` started on its own seeded database (the demo data as of
    the test clock: two tickets, so the script's first ticket is #3 on every channel)."""
    engine = make_engine(sqlite_url)
    with session_scope(engine, clock) as s:
        seed(s, policy, clock.now)
    drv: Driver = request.param()
    try:
        await drv.start(Env(engine, sqlite_url, policy, clock, tmp_path))
        yield drv
    finally:
        try:
            await drv.stop()
        finally:
            engine.dispose()


@pytest.fixture(scope="session")
def contract_runs() -> dict[str, Any]:
    """Each channel's run of the script (tests.contract.test_channel_contract.RunRecord),
    by channel name, for the comparison that follows them."""
    return {}
