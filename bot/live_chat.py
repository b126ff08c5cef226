"""A console chat with the real services beside it (``destek chat``, ``destek demo``).

The chat reads stdin on the main thread (Ctrl-C reaches it there); the services run on an
asyncio event loop in a background thread for as long as the chat is open, through the
runner's :func:`~bot.runner.run_services`:

- :class:`~bot.channels.console.presence.Presence` holds this terminal's console targets (the
  contact; the team's view for engineers, managers and the demo);
- a :class:`~bot.jobs.delivery.DeliveryWorker` with the terminal's sender delivers the console
  rows of those targets, and no other row (``other_channels=False``): as many chats as there
  are terminals may run on one database, each row is claimed once (storage.outbox.claim);
- in the demo, the dialog sweeper and the SLA scheduler (with its own worker for the chat
  platforms), leader-only as in ``destek run``: :func:`bot.runner.job_services`.

The end of the chat (``/quit``, end of input, Ctrl-C) stops them in reverse order.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from handlers.intake import IntakeConfig
from sla import Policy
from storage.clock import Clock, system_clock
from storage.models import Contact

from .channels.console import NAME as CONSOLE
from .channels.console.chat import ChatUser
from .channels.console.presence import Presence
from .channels.console.terminal import Terminal, TerminalSender
from .config import Settings
from .jobs.delivery import DeliveryWorker
from .jobs.leadership import default_holder
from .runner import Service, run_services

log = logging.getLogger("destek.console")

T = TypeVar("T")


class TerminalDelivery(DeliveryWorker):
    """The outbox worker of one terminal, as a runner service (a name to log)."""

    name = "console-delivery"


class _Ready:
    """The last service: says when all before it have started."""

    name = "ready"

    def __init__(self) -> None:
        self.started = threading.Event()

    async def start(self) -> None:
        self.started.set()

    async def stop(self) -> None:
        return None


class Background:
    """Services on an event loop in a daemon thread, from ``__enter__`` to ``__exit__``."""

    def __init__(self, services: list[Service], start_timeout: float = 120.0,
                 stop_timeout: float = 60.0) -> None:
        self.services = services
        self.start_timeout, self.stop_timeout = start_timeout, stop_timeout
        self.loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = _Ready()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            await run_services([*self.services, self._ready], self._stop, freeze_heap=False)
        except BaseException as exc:  # a service that failed to start: the chat goes on
            self.error = exc
            log.exception("the chat's services stopped")
        finally:
            self._ready.started.set()

    def __enter__(self) -> Background:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()),
                                        name="console-services", daemon=True)
        self._thread.start()
        if not self._ready.started.wait(self.start_timeout):
            log.error("the chat's services did not start in %.0f s", self.start_timeout)
        return self

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        """Run ``coro`` on the services' loop and wait for its result (tests)."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def __exit__(self, *exc: object) -> None:
        loop, stop = self.loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:  # already closed
                pass
        if self._thread is not None:
            self._thread.join(self.stop_timeout)


def scheduler_jobs(settings: Settings, engine: Engine, intake: IntakeConfig, policy: Policy,
                   now: Clock = system_clock) -> list[Service]:
    """The demo's jobs: the dialog sweeper and the SLA scheduler, leader-only. The scheduler's
    worker delivers the chat platforms' rows; the console's are the terminals'."""
    from .channels import registry
    from .runner import RunContext, job_services

    senders = {k: v for k, v in registry.senders(settings).items() if k != CONSOLE}
    ctx = RunContext(settings, engine, intake, now, policy=policy, senders=senders)
    return job_services(ctx, ("dialog-sweeper", "sla-scheduler"))


def _names(engine: Engine) -> dict[str, str]:
    """Console target -> contact name, for the labels of the team's messages to people."""
    with Session(engine) as s:
        return {str(i): n for i, n in s.exec(select(Contact.id, Contact.name)) if i is not None}


def live_chat(
    engine: Engine,
    *,
    now: Clock = system_clock,
    jobs: Callable[[], list[Service]] | None = None,
    demo: bool = False,
    idle_poll: float = 1.0,
    on_start: Callable[[Background, TerminalSender], None] | None = None,
) -> Callable[[ChatUser, Terminal], Any]:
    """The ``live`` hook of :func:`~bot.channels.console.run_console`: this contact's
    messages delivered to the terminal as they arrive, and ``jobs()`` (the demo's scheduler)
    beside it. ``demo``: the terminal shows the team's view until an engineer opens one.
    ``idle_poll``: how soon rows queued by another process (the engineer's terminal) show."""

    @contextmanager
    def run(user: ChatUser, screen: Terminal) -> Iterator[Background]:
        me = str(user.id)
        presence = Presence(engine, [me], holder=default_holder(),
                            team=demo or user.role != "customer", yield_team=demo)
        sender = TerminalSender(screen, presence, _names(engine), me)
        worker = TerminalDelivery(engine, {CONSOLE: sender}, now=now, idle_poll=idle_poll,
                                other_channels=False)
        services: list[Service] = [presence, worker, *(jobs() if jobs else [])]
        with Background(services) as bg:
            if me not in presence.held_now() and bg.error is None:
                from handlers.i18n import t

                screen.say(t("console.elsewhere", screen.lang))
            if on_start is not None:
                on_start(bg, sender)
            yield bg

    return run
