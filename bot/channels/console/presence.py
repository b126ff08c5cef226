"""Who is at a terminal: one database lease ``console:TARGET`` per console target shown there.

A console chat (``destek chat``, ``destek demo``) holds the lease of its contact (target = the
contact id) and, for the team's view, of the console's channel destinations (``engineers``,
``alerts``: :data:`bot.routing.CONSOLE_ENGINEERS`). Its delivery worker claims only the console
rows of the targets it holds (:class:`~.terminal.TerminalSender`), so every row is shown in one
terminal, once; a row for a target nobody holds stays queued until someone opens a chat.
``destek run``'s log sender leaves the held targets to their terminals
(:func:`present_targets`). A lease runs out ``ttl`` seconds after its holder stopped renewing,
so a terminal that died frees its contact's messages for the next one.

The demo shows the team's view until an engineer or manager opens a terminal: it then lets the
team's leases go (``yield_team``) and that terminal takes them at its next renewal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage import leases
from storage.models import Contact

log = logging.getLogger("destek.console")

PREFIX = "console:"
TEAM_TARGETS = ("engineers", "alerts")  # the console's channel destinations (bot.routing)


def lease_name(target: str) -> str:
    return PREFIX + target


def row_targets(held: Iterable[str]) -> frozenset[str]:
    """The outbox targets of held leases: a contact's lease (its id) covers both the rows to
    it as a customer (the id) and the direct messages to it as staff (``contact:<id>``,
    handlers.notify.person_destination)."""
    out: set[str] = set()
    for target in held:
        out.add(target)
        if target.isdigit():
            out.add(f"contact:{target}")
    return frozenset(out)


def present_targets(engine: Engine) -> frozenset[str]:
    """The outbox targets some terminal shows now."""
    return row_targets(s.name[len(PREFIX):] for s in leases.held(engine, PREFIX))


class Presence:
    """Runner service: hold the leases of ``targets`` (and of the team's view when ``team``),
    renewed every ``renew`` seconds; :meth:`held_now` is what this terminal may claim."""

    name = "console-presence"

    def __init__(self, engine: Engine, targets: Iterable[str], *, holder: str,
                 team: bool = False, yield_team: bool = False, ttl: float = 15.0,
                 renew: float = 5.0) -> None:
        self.engine = engine
        self.targets = tuple(dict.fromkeys(targets))
        self.team = team
        self.yield_team = yield_team
        self.ttl, self.renew = ttl, renew
        self.holder = holder  # unique per process (bot.jobs.leadership.default_holder)
        self._held: frozenset[str] = frozenset()
        self._valid_until = 0.0  # monotonic: without a renewal, held no longer after this
        self._task: asyncio.Task[None] | None = None

    def held_now(self) -> frozenset[str]:
        """The targets whose lease this terminal holds (none once a renewal is overdue)."""
        return self._held if time.monotonic() < self._valid_until else frozenset()

    def tick(self) -> frozenset[str]:
        """Take or renew the leases (blocking: call from a thread); returns the targets held."""
        asked = time.monotonic()
        wanted = list(self.targets)
        if self.team:
            if self.yield_team and self._staff_elsewhere():
                for target in TEAM_TARGETS:  # an engineer's terminal shows the team's view
                    if target in self._held:
                        leases.release(self.engine, lease_name(target), self.holder)
            else:
                wanted += TEAM_TARGETS
        held = frozenset(t for t in wanted
                         if leases.acquire(self.engine, lease_name(t), self.holder, self.ttl))
        self._held = held
        # Stop claiming before the lease can have run out in the database.
        self._valid_until = asked + self.ttl - self.renew
        return held

    def _staff_elsewhere(self) -> bool:
        """Whether an engineer or manager has a terminal open (another holder)."""
        ids = [int(s.name[len(PREFIX):]) for s in leases.held(self.engine, PREFIX)
               if s.holder != self.holder and s.name[len(PREFIX):].isdigit()]
        if not ids:
            return False
        with Session(self.engine) as s:
            return s.exec(select(Contact.id).where(
                col(Contact.id).in_(ids), Contact.role != "customer")).first() is not None

    async def start(self) -> None:
        await self._tick()  # held before the first prompt
        self._task = asyncio.create_task(self._loop(), name=self.name)

    async def _tick(self) -> None:
        try:
            await asyncio.to_thread(self.tick)
        except Exception:  # noqa: BLE001 - database busy: held_now() lapses, the next tick retries
            log.exception("console presence renewal failed")

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.renew)
            await self._tick()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = None
        held, self._held, self._valid_until = self._held, frozenset(), 0.0
        for target in held:  # the next terminal need not wait for the leases to run out
            try:
                await asyncio.to_thread(leases.release, self.engine, lease_name(target),
                                        self.holder)
            except Exception:  # noqa: BLE001 - it runs out after ttl anyway
                log.exception("releasing console lease %s failed", target)
