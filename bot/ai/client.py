"""One drafted workaround (P26, P27): retrieve known errors, ask the model, check the answer.

The call never stands in anyone's way: a hard time limit, bounded retries and a circuit breaker
per endpoint; a failure is recorded as a third-party outage (ticket event + usage outcome) and
never touches a ticket's SLA clocks. Every call is recorded in ``ai_usage``."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import openai
from sqlalchemy.engine import Engine

from handlers import ai_suggest
from handlers.notify import keys
from handlers.types import Routing
from storage import outbox, tickets
from storage.clock import Clock, system_clock
from storage.db import session_scope
from storage.kb import existing_ids, search_known_errors
from storage.models import AIUsage, Ticket

from ..config import Settings
from .breaker import BREAKER, CircuitBreaker
from .endpoints import make_client, resolve_route

log = logging.getLogger("destek.ai")


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
                s, keys.ai_suggestion(ticket_id, ev.id, dest.channel, dest.target),
                dest.channel, dest.target,
                f"#{ticket_id} {result.label}\n{result.text}", thread=dest.thread,
                ticket_id=ticket_id,
            )
