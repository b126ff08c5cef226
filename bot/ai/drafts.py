"""Drafts for tickets: on demand, in the background, or for every new one (``destek run``)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from handlers import ai_suggest
from handlers.types import Routing
from storage.clock import Clock, system_clock
from storage.db import session_scope
from storage.models import Product, ProductVersion, Ticket

from ..config import Settings
from .breaker import CircuitBreaker
from .client import Suggestion, draft_workaround

T = TypeVar("T")


def report_for_ticket(session: Session, ticket: Ticket) -> ai_suggest.Report:
    """The report the model is asked about, from a stored ticket."""
    product = session.get(Product, ticket.product_id) if ticket.product_id else None
    version = ticket.version_text
    if version is None and ticket.version_id:
        pv = session.get(ProductVersion, ticket.version_id)
        version = pv.version if pv else None
    return ai_suggest.Report(
        summary=ticket.summary, description=ticket.description, error_text=ticket.error_text,
        steps=ticket.steps, product=product.name if product else None, version=version,
    )


async def suggest_for_ticket(engine: Engine, settings: Settings, ticket_id: int, *,
                             to_customers_policy: bool = False, routing: Routing | None = None,
                             breaker: CircuitBreaker | None = None,
                             clock: Clock = system_clock) -> Suggestion:
    """Draft a workaround for an existing ticket (engineers first)."""
    with session_scope(engine, clock) as s:
        ticket = s.get(Ticket, ticket_id)
        if ticket is None:
            return Suggestion("error", reason=f"no ticket #{ticket_id}")
        report = report_for_ticket(s, ticket)
        customer_id, product_id, lang = ticket.customer_id, ticket.product_id, ticket.language
    return await draft_workaround(engine, settings, report, customer_id=customer_id,
                                  product_id=product_id, ticket_id=ticket_id, lang=lang,
                                  to_customers_policy=to_customers_policy, routing=routing,
                                  breaker=breaker, clock=clock)


_BACKGROUND: set[asyncio.Task[Any]] = set()


def start_for_ticket(engine: Engine, settings: Settings, ticket_id: int,
                     **kwargs: Any) -> asyncio.Task[Suggestion]:
    """Fire and forget from a running loop: the caller (intake, a command) never waits."""
    task = asyncio.get_running_loop().create_task(
        suggest_for_ticket(engine, settings, ticket_id, **kwargs))
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)
    return task


def run_blocking(factory: Callable[[], Coroutine[Any, Any, T]], hard_timeout: float,
                 default: T) -> T:
    """Run a coroutine from synchronous code in its own thread, giving up after ``hard_timeout``."""
    box: list[T] = []

    def runner() -> None:
        box.append(asyncio.run(factory()))

    th = threading.Thread(target=runner, name="destek-ai", daemon=True)
    th.start()
    th.join(hard_timeout)
    return box[0] if box else default


class AIDraftService:
    """``destek run``: drafts a workaround for every new ticket whose customer has a key.

    The intake announces new tickets after its commit (``handlers.hooks``), possibly from a
    database worker thread; the draft runs as a task on the bot's loop and never delays intake.
    """

    name = "ai-drafts"

    def __init__(self, engine: Engine, settings: Settings, *, to_customers_policy: bool,
                 routing: Routing | None, clock: Clock = system_clock) -> None:
        self.engine = engine
        self.clock = clock
        self.settings = settings
        self.to_customers_policy = to_customers_policy
        self.routing = routing
        self._unhook: Callable[[], None] | None = None

    async def start(self) -> None:
        from handlers.hooks import on_ticket_opened

        loop = asyncio.get_running_loop()

        def opened(ticket_id: int) -> None:
            loop.call_soon_threadsafe(self._draft, ticket_id)

        self._unhook = on_ticket_opened(opened)

    def _draft(self, ticket_id: int) -> None:
        start_for_ticket(self.engine, self.settings, ticket_id,
                         to_customers_policy=self.to_customers_policy, routing=self.routing,
                         clock=self.clock)

    async def stop(self) -> None:
        if self._unhook is not None:
            self._unhook()
        pending = [t for t in _BACKGROUND if not t.done()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
