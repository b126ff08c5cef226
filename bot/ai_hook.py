"""Optional OpenAI workaround hook (P26, P27): drafted workarounds grounded in known errors.

Off unless a key is configured (globally, per customer or per customer and product). Every call
is recorded in ``ai_usage`` for the monthly breakdown. The hook never stands in anyone's way: a
hard time limit, bounded retries and a circuit breaker per endpoint; a failure is recorded as a
third-party outage (ticket event + usage outcome) and never touches a ticket's SLA clocks.
Keys stay out of prompts, logs, events and listings.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import openai
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from handlers import ai_suggest
from handlers.types import Routing
from storage import outbox, tickets
from storage.clock import Clock, system_clock
from storage.db import session_scope
from storage.kb import existing_ids, search_known_errors
from storage.models import (
    AISubscription,
    AIUsage,
    Customer,
    Product,
    ProductVersion,
    Ticket,
)

from .config import Settings

log = logging.getLogger("destek.ai")

MAX_RETRIES = 2
BREAKER_THRESHOLD = 3  # consecutive failures that open the circuit
BREAKER_COOLDOWN = 60.0  # seconds before one trial call is let through
AZURE_API_VERSION = "2024-10-21"
OUTCOMES = ("ok", "dropped", "timeout", "error", "circuit-open")
T = TypeVar("T")


def mask(key: str | None) -> str:
    """``sk-…wxyz``: enough to tell keys apart, never enough to use one."""
    if not key:
        return ""
    return (key[:3] + "…" + key[-4:]) if len(key) > 10 else "…"


@dataclass(frozen=True)
class Route:
    """Which endpoint, key and model serve one customer (and product)."""

    api_key: str
    base_url: str | None
    model: str
    source: str  # product | customer | global

    @property
    def endpoint(self) -> str:
        """Breaker key: the endpoint plus a fingerprint of the key (never the key itself)."""
        fp = hashlib.sha256(self.api_key.encode()).hexdigest()[:12]
        return f"{self.base_url or 'openai'}#{fp}"

    @property
    def azure(self) -> bool:
        return bool(self.base_url and ".openai.azure.com" in self.base_url)


def resolve_route(session: Session, settings: Settings, customer_id: int | None,
                  product_id: int | None) -> Route | None:
    """Per-product subscription over per-customer over the global key; None: hook is off."""
    layers: list[tuple[str, Any]] = []
    if customer_id is not None:
        rows = session.exec(select(AISubscription).where(
            AISubscription.customer_id == customer_id)).all()
        by_product = {r.product_id: r for r in rows}
        if product_id is not None and product_id in by_product:
            layers.append(("product", by_product[product_id]))
        if None in by_product:
            layers.append(("customer", by_product[None]))
    key = base = model = None
    source = "global"
    for name, row in layers:
        if key is None and row.api_key:
            key, source = row.api_key, name
        base = base or row.base_url
        model = model or row.model
    key = key or settings.openai_api_key
    if not key:
        return None
    return Route(key, base or settings.openai_base_url, model or settings.openai_model, source)


class CircuitBreaker:
    """Opens after ``threshold`` consecutive failures; one trial call after ``cooldown``."""

    def __init__(self, threshold: int = BREAKER_THRESHOLD, cooldown: float = BREAKER_COOLDOWN,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold, self.cooldown, self.clock = threshold, cooldown, clock
        self._failures: dict[str, int] = {}
        self._opened: dict[str, float] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        with self._lock:
            opened = self._opened.get(key)
            if opened is None:
                return True
            if self.clock() - opened >= self.cooldown:
                self._opened[key] = self.clock()  # half-open: this one call tries
                return True
            return False

    def success(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
            self._opened.pop(key, None)

    def failure(self, key: str) -> None:
        with self._lock:
            n = self._failures.get(key, 0) + 1
            self._failures[key] = n
            if n >= self.threshold:
                self._opened[key] = self.clock()

    def is_open(self, key: str) -> bool:
        with self._lock:
            return key in self._opened


BREAKER = CircuitBreaker()


def make_client(route: Route, timeout: float,
                max_retries: int = MAX_RETRIES) -> openai.AsyncOpenAI:
    """An SDK client for ``route`` (OpenAI-compatible or Azure OpenAI)."""
    if route.azure:
        return openai.AsyncAzureOpenAI(
            api_key=route.api_key, azure_endpoint=route.base_url or "",
            api_version=AZURE_API_VERSION, timeout=timeout, max_retries=max_retries,
        )
    return openai.AsyncOpenAI(api_key=route.api_key, base_url=route.base_url, timeout=timeout,
                              max_retries=max_retries)


@dataclass
class Suggestion:
    """What one run of the hook produced."""

    outcome: str  # ok | dropped | timeout | error | circuit-open | off | no-matches
    text: str = ""
    cited: tuple[str, ...] = ()
    model: str | None = None
    retrieved: tuple[str, ...] = ()
    reason: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    to_customers: bool = False
    label: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def shown(self) -> bool:
        return self.outcome == "ok"


def _record(engine: Engine, clock: Clock, *, customer_id: int | None, product_id: int | None,
            ticket_id: int | None, model: str, outcome: str, prompt_tokens: int = 0,
            completion_tokens: int = 0, latency_ms: int = 0) -> None:
    with session_scope(engine, clock) as s:
        s.add(AIUsage(customer_id=customer_id, product_id=product_id, ticket_id=ticket_id,
                      model=model, prompt_tokens=prompt_tokens,
                      completion_tokens=completion_tokens, latency_ms=latency_ms,
                      outcome=outcome))


def _outage_event(engine: Engine, clock: Clock, ticket_id: int | None, outcome: str, model: str,
                  detail: str) -> None:
    """P27: a third-party outage on the ticket's trail; its SLA clocks are left alone."""
    if ticket_id is None:
        return
    with session_scope(engine, clock) as s:
        ticket = s.get(Ticket, ticket_id)
        if ticket is not None:
            tickets.add_event(s, ticket, "third-party-outage",
                              f"OpenAI {outcome}: {detail} (not counted against the SLA, P27)",
                              data={"service": "openai", "outcome": outcome, "model": model})


async def draft_workaround(
    engine: Engine,
    settings: Settings,
    report: ai_suggest.Report,
    *,
    customer_id: int | None,
    product_id: int | None = None,
    ticket_id: int | None = None,
    lang: str | None = "en",
    to_customers_policy: bool = False,
    routing: Routing | None = None,
    breaker: CircuitBreaker | None = None,
    limit: int = 3,
    clock: Clock = system_clock,
) -> Suggestion:
    """Retrieve known errors, ask the model, validate, record usage; never raises."""
    breaker = breaker or BREAKER
    try:
        return await _draft(engine, settings, report, customer_id=customer_id,
                            product_id=product_id, ticket_id=ticket_id, lang=lang,
                            to_customers_policy=to_customers_policy, routing=routing,
                            breaker=breaker, limit=limit, clock=clock)
    except Exception as exc:  # noqa: BLE001 - the hook must never break its caller
        log.warning("AI hook failed for ticket %s: %s", ticket_id, type(exc).__name__)
        return Suggestion("error", reason=type(exc).__name__)


async def _draft(engine: Engine, settings: Settings, report: ai_suggest.Report, *,
                 customer_id: int | None, product_id: int | None, ticket_id: int | None,
                 lang: str | None, to_customers_policy: bool, routing: Routing | None,
                 breaker: CircuitBreaker, limit: int, clock: Clock) -> Suggestion:
    with session_scope(engine, clock) as s:
        route = resolve_route(s, settings, customer_id, product_id)
        if route is None:
            return Suggestion("off")
        matches = search_known_errors(s, report.query_text(), product=report.product,
                                      version=report.version, language=lang, limit=limit)
        draft = ai_suggest.build(report, [m.entry for m in matches], lang)
    if not draft.retrieved:
        return Suggestion("no-matches", model=route.model)
    usage: dict[str, Any] = {"customer_id": customer_id, "product_id": product_id,
                             "ticket_id": ticket_id, "model": route.model}
    if not breaker.allow(route.endpoint):
        _record(engine, clock, outcome="circuit-open", **usage)
        _outage_event(engine, clock, ticket_id, "circuit-open", route.model,
                      "calls paused after repeated failures")
        return Suggestion("circuit-open", model=route.model, retrieved=draft.retrieved)

    client = make_client(route, settings.openai_timeout)
    started = time.perf_counter()
    outcome, detail, content, pt, ct = "error", "", None, 0, 0
    try:
        # Hard limit over all retries: the SDK's own timeout is per attempt.
        resp = await asyncio.wait_for(
            client.chat.completions.create(model=route.model, messages=draft.messages,  # type: ignore[arg-type]
                                           temperature=0.2),
            timeout=settings.openai_timeout,
        )
        outcome = "ok"
        content = resp.choices[0].message.content if resp.choices else None
        if resp.usage is not None:
            pt, ct = resp.usage.prompt_tokens, resp.usage.completion_tokens
    except (TimeoutError, openai.APITimeoutError):
        outcome, detail = "timeout", f"no answer within {settings.openai_timeout:g} s"
    except openai.APIStatusError as exc:
        outcome, detail = "error", f"HTTP {exc.status_code}"
    except openai.APIError as exc:
        outcome, detail = "error", type(exc).__name__
    finally:
        await client.close()
    latency = int((time.perf_counter() - started) * 1000)

    if outcome != "ok":
        breaker.failure(route.endpoint)
        log.warning("third-party outage: OpenAI %s (%s) customer=%s ticket=%s model=%s",
                    outcome, detail, customer_id, ticket_id, route.model)
        _record(engine, clock, outcome=outcome, latency_ms=latency, **usage)
        _outage_event(engine, clock, ticket_id, outcome, route.model, detail)
        return Suggestion(outcome, model=route.model, retrieved=draft.retrieved, reason=detail,
                          latency_ms=latency)
    breaker.success(route.endpoint)
    with session_scope(engine) as s:
        known = existing_ids(s, ai_suggest.named_words(content))
    checked = ai_suggest.check(content, draft.retrieved, secrets=[route.api_key],
                               known_ids=known)
    _record(engine, clock, outcome=checked.outcome, prompt_tokens=pt, completion_tokens=ct,
            latency_ms=latency, **usage)
    result = Suggestion(
        checked.outcome, text=checked.text, cited=checked.cited, model=route.model,
        retrieved=draft.retrieved, reason=checked.reason, prompt_tokens=pt,
        completion_tokens=ct, latency_ms=latency,
        to_customers=ai_suggest.customers_may_see(to_customers_policy, checked.outcome),
        label=ai_suggest.label(checked.cited, lang) if checked.outcome == "ok" else "",
        extra={"prompt": draft.prompt_ref},
    )
    if ticket_id is not None:
        _ticket_suggestion(engine, clock, ticket_id, result, routing)
    return result


def _ticket_suggestion(engine: Engine, clock: Clock, ticket_id: int, result: Suggestion,
                       routing: Routing | None) -> None:
    """Audit the draft on the ticket, then tell the engineers (they see it first)."""
    with session_scope(engine, clock) as s:
        ticket = s.get(Ticket, ticket_id)
        if ticket is None:
            return
        if result.outcome != "ok":
            tickets.add_event(s, ticket, "ai-suggestion-dropped", result.reason,
                              data={"model": result.model, "retrieved": list(result.retrieved)})
            return
        ev = tickets.add_event(
            s, ticket, "ai-suggestion", result.text,
            data={"drafted_by_ai": True, "cited": list(result.cited), "model": result.model,
                  "prompt": result.extra.get("prompt"), "to_customers": result.to_customers},
        )
        for dest in (routing.engineers if routing else ()):
            outbox.enqueue(
                s, f"ai-suggestion:{ticket_id}:{ev.id}:{dest.channel}:{dest.target}",
                dest.channel, dest.target,
                f"#{ticket_id} {result.label}\n{result.text}", thread=dest.thread,
                ticket_id=ticket_id,
            )


def report_for_ticket(session: Session, ticket: Ticket) -> ai_suggest.Report:
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


# -- subscriptions and usage -----------------------------------------------------------------


def set_subscription(session: Session, customer: Customer, product: Product | None,
                     api_key: str, base_url: str | None, model: str | None) -> AISubscription:
    """Create or replace the subscription of a customer (and product)."""
    pid = product.id if product else None
    same_product = (col(AISubscription.product_id) == pid if pid is not None
                    else col(AISubscription.product_id).is_(None))
    row = session.exec(select(AISubscription).where(
        AISubscription.customer_id == customer.id, same_product)).first()
    if row is None:
        row = AISubscription(customer_id=customer.id,  # type: ignore[arg-type]
                             product_id=product.id if product else None)
    row.api_key, row.base_url, row.model = api_key, base_url, model
    session.add(row)
    session.flush()
    return row


def subscriptions(session: Session) -> list[dict[str, Any]]:
    """Every subscription with its key masked."""
    out = []
    for row, code in session.exec(select(AISubscription, Customer.code).join(
            Customer, col(Customer.id) == AISubscription.customer_id)).all():
        product = session.get(Product, row.product_id) if row.product_id else None
        out.append({"customer": code, "product": product.name if product else "(all)",
                    "key": mask(row.api_key), "base_url": row.base_url or "",
                    "model": row.model or ""})
    out.sort(key=lambda r: (r["customer"], r["product"]))
    return out


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """``2026-11`` → [1 Nov 00:00 UTC, 1 Dec 00:00 UTC)."""
    try:
        y, m = (int(p) for p in month.split("-"))
        start = datetime(y, m, 1, tzinfo=UTC)
    except ValueError:
        raise ValueError(f"month {month!r} must look like 2026-11") from None
    end = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=UTC)
    return start, end


def usage_report(session: Session, month: str,
                 customer_code: str | None = None) -> list[dict[str, Any]]:
    """Monthly breakdown per customer, product and model: calls, tokens, outcomes (P26)."""
    start, end = month_bounds(month)
    q = select(AIUsage).where(AIUsage.at >= start, AIUsage.at < end)
    codes = {c.id: c.code for c in session.exec(select(Customer))}
    if customer_code is not None:
        ids = [i for i, c in codes.items() if c == customer_code]
        if not ids:
            raise ValueError(f"no customer {customer_code!r}")
        q = q.where(AIUsage.customer_id == ids[0])
    products = {p.id: p.name for p in session.exec(select(Product))}
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for u in session.exec(q):
        key = (codes.get(u.customer_id, "(none)") if u.customer_id else "(none)",
               products.get(u.product_id, "(none)") if u.product_id else "(none)", u.model)
        g = groups.setdefault(key, {
            "customer": key[0], "product": key[1], "model": key[2], "calls": 0,
            "prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0,
            **{o: 0 for o in OUTCOMES},
        })
        g["calls"] += 1
        g["prompt_tokens"] += u.prompt_tokens
        g["completion_tokens"] += u.completion_tokens
        g["total_tokens"] += u.prompt_tokens + u.completion_tokens
        g[u.outcome] = g.get(u.outcome, 0) + 1
    return [groups[k] for k in sorted(groups)]


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
