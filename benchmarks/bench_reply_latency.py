"""Latency from an engineer's slash command to the customer's message at the chat platform.

What is measured: an engineer sends a signed ``/destek workaround N rlI ...`` to the real Slack
app (:class:`bot.channels.slack.SlackBot` under uvicorn), run in a child process exactly as
``destek run`` runs it: :func:`bot.runner.build_services` / :func:`bot.runner.run_services`,
so the SLA scheduler and its outbox :class:`bot.jobs.delivery.DeliveryWorker` live in that process
too. The command commits the workaround and queues the customer's update in the outbox; the
worker delivers it with ``chat.postMessage`` to the customer's DM on a fake Slack Web API
server (127.0.0.1, in this process). Two times per command, both from sending the request:

* **customer**: until that ``chat.postMessage`` (found by the command's ``rlI`` token) arrives;
* **engineer** (the baseline, same command, same run): until the command's own ephemeral
  answer arrives at its ``response_url`` (posted by the listener directly, not through the
  outbox).

Commands go one at a time by default (``--concurrency``), alternating between two demo
tickets whose reports came in over Slack. Prints p50/p95/p99 of both and the customer/engineer
ratios.

    python benchmarks/bench_reply_latency.py [--commands 200] [--concurrency 1]
                                             [--database-url URL]

Goal (issue): customer p99 < 250 ms (the worker used to find the row only at its idle poll).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_slack import (  # noqa: E402
    SECRET,
    Replies,
    free_port,
    pct,
    prepare_database,
    signed_command,
    spawn,
    start_fake,
    wait_healthy,
)

# Demo tickets 1 and 2, re-homed to their reporters' Slack DMs (the demo opens them on the
# console): the customer's updates then go out as chat.postMessage to these channels.
TICKETS = {1: ("U0ACME01", "D0ACME01"), 2: ("U0GULF01", "D0GULF01")}
TOKEN = re.compile(r"\brl(\d+)\b")


def serve(port: int, api_url: str, database_url: str) -> None:
    """The child process: every service ``destek run`` starts for this configuration."""
    import logging
    import tempfile

    from bot.config import Settings
    from bot.routing import intake_config
    from bot.runner import RunContext, build_services, run_services
    from sla import load_policy
    from storage.db import engine_for

    logging.basicConfig(level=logging.WARNING)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        DATABASE_URL=database_url, SLACK_BOT_TOKEN="xoxb-bench", SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=api_url, DESTEK_HTTP_HOST="127.0.0.1", DESTEK_HTTP_PORT=port,
        DESTEK_DASHBOARD_PORT=0, DESTEK_DATA_DIR=tempfile.mkdtemp(prefix="destek-bench-"),
    )
    ctx = RunContext(settings, engine_for(database_url), intake_config(settings, load_policy()))
    services, _ = build_services(ctx)
    asyncio.run(run_services(services))


def rehome_tickets(database_url: str) -> None:
    """Make the demo tickets Slack reports, so their customer updates go to Slack DMs."""
    from storage.db import make_engine, session_scope
    from storage.models import Ticket

    engine = make_engine(database_url)
    with session_scope(engine) as s:
        for tid, (user, chat) in TICKETS.items():
            ticket = s.get(Ticket, tid)
            assert ticket is not None, f"demo ticket {tid} is missing"
            ticket.channel, ticket.channel_user, ticket.channel_chat = "slack", user, chat
            s.add(ticket)
    engine.dispose()


async def run_commands(port: int, fake_port: int, replies: Replies, first: int, count: int,
                       concurrency: int, timeout: float) -> list[tuple[float, float]]:
    """Send ``count`` workaround commands; (engineer, customer) seconds for each."""
    import httpx
    from slack_sdk.signature import SignatureVerifier

    verifier = SignatureVerifier(SECRET)
    url = f"http://127.0.0.1:{port}/slack/events"
    todo = iter(range(first, first + count))
    out: list[tuple[float, float]] = []

    async def one(client: httpx.AsyncClient, i: int) -> None:
        ticket = list(TICKETS)[i % len(TICKETS)]
        text = f"workaround {ticket} rl{i} restart the TTS service, then retry the call"
        body, headers = signed_command(
            verifier, text, f"http://127.0.0.1:{fake_port}/respond/e{i}", i)
        engineer, customer = replies.expect(f"e{i}"), replies.expect(f"c{i}")
        started = time.perf_counter()
        resp = await client.post(url, content=body, headers=headers)
        if resp.status_code != 200:
            raise RuntimeError(f"HTTP {resp.status_code}: {resp.text[:200]}")
        e_at, c_at = await asyncio.wait_for(asyncio.gather(engineer, customer), timeout)
        out.append((e_at - started, c_at - started))

    async def worker(client: httpx.AsyncClient) -> None:
        for i in todo:
            await one(client, i)

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return out


def watch_customers(fake: Any, replies: Replies) -> None:
    """Resolve ``c{I}`` when a chat.postMessage carrying ``rlI`` reaches a customer's DM."""
    from tests.fakes.slack_api import FakeSlackApi

    customer_chats = {chat for _, chat in TICKETS.values()}

    def post_message(api: FakeSlackApi, args: dict[str, Any]) -> dict[str, Any]:
        result = FakeSlackApi._post_message(api, args)
        found = TOKEN.search(str(args.get("text") or ""))
        if found and args.get("channel") in customer_chats:
            replies.arrived(f"c{found.group(1)}")
        return result

    fake.on("chat.postMessage", post_message)


def summary(name: str, values: list[float]) -> str:
    return (f"{name}: p50 {pct(values, .5):7.1f} ms  p95 {pct(values, .95):7.1f} ms  "
            f"p99 {pct(values, .99):7.1f} ms  max {max(values) * 1000:7.1f} ms")


async def main_async(args: argparse.Namespace) -> int:
    database_url = prepare_database(args.database_url)
    rehome_tickets(database_url)
    replies = Replies()
    fake, fake_port = await start_fake(replies)
    watch_customers(fake, replies)
    api_url = f"http://127.0.0.1:{fake_port}/api/"
    port = free_port()
    proc = spawn("run", port, api_url, database_url, script=__file__)
    try:
        await wait_healthy(port)
        # Warm-up; the first also waits for the worker (the leader lease is taken at start).
        await run_commands(port, fake_port, replies, 0, 1, 1, timeout=60)
        await run_commands(port, fake_port, replies, 1, 19, args.concurrency, timeout=30)
        results = await run_commands(port, fake_port, replies, 20, args.commands,
                                     args.concurrency, timeout=30)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except Exception:  # noqa: BLE001 - a hung child must not outlive the benchmark
            proc.kill()
        await fake.stop()  # type: ignore[attr-defined]
    engineer = [e for e, _ in results]
    customer = [c for _, c in results]
    db = database_url.split(":", 1)[0]
    print(f"database: {db}; {len(results)} signed `/destek workaround` commands, "
          f"concurrency {args.concurrency}; Slack app + scheduler + delivery worker in one "
          f"process (as `destek run`)")
    print(summary("engineer's ephemeral reply (baseline)", engineer))
    print(summary("customer's message (outbox)          ", customer))
    print(f"ratio customer/engineer: p50 {pct(customer, .5) / pct(engineer, .5):.2f}  "
          f"p99 {pct(customer, .99) / pct(engineer, .99):.2f}")
    ok = pct(customer, .99) < 250
    print("goal (customer p99 < 250 ms): " + ("met" if ok else "NOT met"))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--serve", choices=["run"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.port, args.api_url, args.database_url)
        return 0
    return asyncio.run(main_async(args))


if __name__ == "__main__":
    sys.exit(main())
